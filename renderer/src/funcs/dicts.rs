//! Sprig's dictionary functions.
//!
//! Go maps are references: `set`, `unset`, `merge` and `mergeOverwrite` change the map they
//! are given (and return it). A nil map argument is Go's nil map: readable as empty, but
//! `set` on it fails with `assignment to entry in nil map`.
//!
//! `merge`/`mergeOverwrite` follow dario.cat/mergo v1.0.1 on `map[string]interface{}`:
//! - nested maps merge recursively (in place, into the destination's own nested map);
//! - `merge` fills a key only when the destination lacks it or holds an *empty* value
//!   (nil, `false`, `0`, `""`, empty list or map);
//! - `mergeOverwrite` replaces every key the source has, even with empty values and nil.
//!
//! `keys` and `values` iterate a Go map, whose order is random; here it is key order.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::rc::Rc;

use super::args;
use super::conv::strval;
use super::defaults::is_empty;
use crate::value::{Func, FuncCtx, FuncError, MapRef, Value};

/// Nesting depth beyond which merging and copying fail (cyclic maps built with `set`).
const MAX_DEPTH: usize = 10_000;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("dict", dict);
    m.insert("get", get);
    m.insert("set", set);
    m.insert("unset", unset);
    m.insert("hasKey", has_key);
    m.insert("pluck", pluck);
    m.insert("dig", dig);
    m.insert("keys", keys);
    m.insert("values", values);
    m.insert("pick", pick);
    m.insert("omit", omit);
    m.insert("merge", |_, a| merge("merge", a, false));
    m.insert("mustMerge", |_, a| merge("mustMerge", a, false));
    m.insert("mergeOverwrite", |_, a| merge("mergeOverwrite", a, true));
    m.insert("mustMergeOverwrite", |_, a| {
        merge("mustMergeOverwrite", a, true)
    });
    m.insert("deepCopy", deep_copy);
    m.insert("mustDeepCopy", deep_copy);
}

/// A `map[string]interface{}` parameter; `None` is Go's nil map.
fn map_arg(a: &[Value], i: usize) -> Result<Option<MapRef>, FuncError> {
    match &a[i] {
        Value::Nil => Ok(None),
        _ => args::map(a, i).map(Some),
    }
}

fn dict(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let mut m = BTreeMap::new();
    for pair in a.chunks(2) {
        let key = strval(&pair[0]);
        m.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
    }
    Ok(Value::map(m))
}

fn get(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("get", a, 2)?;
    let d = map_arg(a, 0)?;
    let k = args::string(a, 1)?;
    Ok(d.and_then(|d| d.borrow().get(&*k).cloned())
        .unwrap_or_else(|| Value::str("")))
}

fn set(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("set", a, 3)?;
    let d = map_arg(a, 0)?;
    let k = args::string(a, 1)?;
    let d = d.ok_or_else(|| FuncError::new("assignment to entry in nil map"))?;
    d.borrow_mut().insert(k.to_string(), a[2].clone());
    Ok(Value::Map(d))
}

fn unset(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("unset", a, 2)?;
    let d = map_arg(a, 0)?;
    let k = args::string(a, 1)?;
    match d {
        Some(d) => {
            d.borrow_mut().remove(&*k);
            Ok(Value::Map(d))
        }
        None => Ok(Value::empty_map()),
    }
}

fn has_key(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("hasKey", a, 2)?;
    let d = map_arg(a, 0)?;
    let k = args::string(a, 1)?;
    Ok(Value::Bool(d.is_some_and(|d| d.borrow().contains_key(&*k))))
}

fn pluck(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("pluck", a, 1)?;
    let k = args::string(a, 0)?;
    let mut out = Vec::new();
    for i in 1..a.len() {
        if let Some(d) = map_arg(a, i)? {
            if let Some(v) = d.borrow().get(&*k) {
                out.push(v.clone());
            }
        }
    }
    Ok(Value::list(out))
}

/// Go's failed type assertion `x.(T)`.
fn assertion(v: &Value, want: &str) -> FuncError {
    let got = match v {
        Value::Nil => "nil".to_string(),
        v => v.type_name(),
    };
    FuncError::new(format!(
        "interface conversion: interface {{}} is {got}, not {want}"
    ))
}

fn dig(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    if a.len() < 3 {
        return Err(FuncError::new("dig needs at least three arguments"));
    }
    let mut d = match &a[a.len() - 1] {
        Value::Map(m) => m.clone(),
        v => return Err(assertion(v, "map[string]interface {}")),
    };
    let default = &a[a.len() - 2];
    let mut keys = Vec::with_capacity(a.len() - 2);
    for k in &a[..a.len() - 2] {
        match k {
            Value::String(s) => keys.push(s.clone()),
            v => return Err(assertion(v, "string")),
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let step = match d.borrow().get(&**k) {
            None => return Ok(default.clone()),
            Some(v) => v.clone(),
        };
        if i + 1 == keys.len() {
            return Ok(step);
        }
        d = match step {
            Value::Map(m) => m,
            v => return Err(assertion(&v, "map[string]interface {}")),
        };
    }
    Ok(default.clone())
}

fn keys(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let _ = ctx;
    let mut out = Vec::new();
    for i in 0..a.len() {
        if let Some(d) = map_arg(a, i)? {
            out.extend(d.borrow().keys().map(|k| Value::str(k)));
        }
    }
    Ok(Value::list(out))
}

fn values(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("values", a, 1)?;
    let d = map_arg(a, 0)?;
    Ok(Value::list(
        d.map(|d| d.borrow().values().cloned().collect())
            .unwrap_or_default(),
    ))
}

fn string_args(a: &[Value], from: usize) -> Result<Vec<Rc<str>>, FuncError> {
    (from..a.len()).map(|i| args::string(a, i)).collect()
}

fn pick(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("pick", a, 1)?;
    let d = map_arg(a, 0)?;
    let ks = string_args(a, 1)?;
    let mut out = BTreeMap::new();
    if let Some(d) = d {
        let d = d.borrow();
        for k in ks {
            if let Some(v) = d.get(&*k) {
                out.insert(k.to_string(), v.clone());
            }
        }
    }
    Ok(Value::map(out))
}

fn omit(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("omit", a, 1)?;
    let d = map_arg(a, 0)?;
    let ks = string_args(a, 1)?;
    let mut out = BTreeMap::new();
    if let Some(d) = d {
        for (k, v) in d.borrow().iter() {
            if !ks.iter().any(|x| **x == **k) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Value::map(out))
}

fn merge(name: &str, a: &[Value], overwrite: bool) -> Result<Value, FuncError> {
    args::want_at_least(name, a, 1)?;
    let mut dst = map_arg(a, 0)?;
    for i in 1..a.len() {
        let Some(src) = map_arg(a, i)? else { continue };
        // mergo gives a nil destination a fresh map before merging.
        let d = dst.get_or_insert_with(|| Rc::new(std::cell::RefCell::new(BTreeMap::new())));
        merge_into(d, &src, overwrite, 0)?;
    }
    Ok(dst.map(Value::Map).unwrap_or_else(Value::empty_map))
}

/// mergo's `deepMerge` for two `map[string]interface{}` values (see the module docs).
fn merge_into(dst: &MapRef, src: &MapRef, overwrite: bool, depth: usize) -> Result<(), FuncError> {
    if depth > MAX_DEPTH {
        return Err(FuncError::new("merge: maps nested too deeply"));
    }
    if Rc::ptr_eq(dst, src) {
        return Ok(());
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, sv) in entries {
        if matches!(sv, Value::Nil) {
            if overwrite {
                dst.borrow_mut().insert(k, Value::Nil);
            }
            continue;
        }
        let dv = dst.borrow().get(&k).cloned();
        if let (Value::Map(sm), Some(Value::Map(dm))) = (&sv, &dv) {
            merge_into(dm, sm, overwrite, depth + 1)?;
            if !dm.borrow().is_empty() {
                continue;
            }
            dst.borrow_mut().insert(k, sv);
            continue;
        }
        if overwrite || dv.as_ref().is_none_or(is_empty) {
            dst.borrow_mut().insert(k, sv);
        }
    }
    Ok(())
}

fn deep_copy(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("deepCopy", a, 1)?;
    if matches!(a[0], Value::Nil) {
        // copystructure reflects on the nil interface.
        return Err(FuncError::new(
            "reflect: call of reflect.Value.Type on zero Value",
        ));
    }
    copy_value(&a[0], 0)
}

/// A copy sharing no maps or lists with the original.
pub(super) fn copy_value(v: &Value, depth: usize) -> Result<Value, FuncError> {
    if depth > MAX_DEPTH {
        return Err(FuncError::new("deepCopy: value nested too deeply"));
    }
    Ok(match v {
        Value::List(l) => Value::list(
            l.iter()
                .map(|x| copy_value(x, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, x)| Ok((k.clone(), copy_value(x, depth + 1)?)))
                .collect::<Result<_, FuncError>>()?,
        ),
        v => v.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::sprint_v;

    fn call(f: Func, a: &[Value]) -> Result<String, String> {
        f(&FuncCtx::default(), a)
            .map(|v| sprint_v(&v))
            .map_err(|e| e.message)
    }

    fn d(pairs: &[(&str, Value)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    #[test]
    fn dict_building() {
        assert_eq!(
            call(dict, &[Value::Int(1), Value::Int(2), Value::Int(3)]).unwrap(),
            "map[1:2 3:]"
        );
        assert_eq!(
            call(dict, &[Value::Nil, Value::Int(1)]).unwrap(),
            "map[<nil>:1]"
        );
        let m = d(&[("a", Value::Int(1))]);
        assert_eq!(call(get, &[m.clone(), s("a")]).unwrap(), "1");
        assert_eq!(call(get, &[m.clone(), s("b")]).unwrap(), "");
        assert_eq!(call(get, &[Value::Nil, s("b")]).unwrap(), "");
        assert_eq!(call(has_key, &[m.clone(), s("a")]).unwrap(), "true");
        assert_eq!(call(has_key, &[Value::Nil, s("a")]).unwrap(), "false");
        call(set, &[m.clone(), s("b"), Value::Int(2)]).unwrap();
        assert_eq!(sprint_v(&m), "map[a:1 b:2]");
        call(unset, &[m.clone(), s("a")]).unwrap();
        assert_eq!(sprint_v(&m), "map[b:2]");
        assert_eq!(
            call(set, &[Value::Nil, s("a"), Value::Int(1)]).unwrap_err(),
            "assignment to entry in nil map"
        );
        assert_eq!(
            call(get, &[s("x"), s("a")]).unwrap_err(),
            "wrong type for value; expected map[string]interface {}; got string"
        );
    }

    #[test]
    fn selections() {
        let m = d(&[
            ("a", Value::Int(1)),
            ("b", Value::Int(2)),
            ("c", Value::Int(3)),
        ]);
        assert_eq!(
            call(pick, &[m.clone(), s("a"), s("c"), s("z")]).unwrap(),
            "map[a:1 c:3]"
        );
        assert_eq!(call(omit, &[m.clone(), s("a")]).unwrap(), "map[b:2 c:3]");
        assert_eq!(call(keys, std::slice::from_ref(&m)).unwrap(), "[a b c]");
        assert_eq!(call(keys, &[Value::Nil]).unwrap(), "[]");
        assert_eq!(call(values, std::slice::from_ref(&m)).unwrap(), "[1 2 3]");
        assert_eq!(
            call(pluck, &[s("a"), Value::Nil, d(&[("a", Value::Int(2))]), m]).unwrap(),
            "[2 1]"
        );
    }

    #[test]
    fn dig_paths() {
        let m = d(&[("a", d(&[("b", s("x"))]))]);
        assert_eq!(
            call(dig, &[s("a"), s("b"), s("def"), m.clone()]).unwrap(),
            "x"
        );
        assert_eq!(
            call(dig, &[s("a"), s("z"), s("def"), m.clone()]).unwrap(),
            "def"
        );
        assert_eq!(
            call(dig, &[s("a"), s("b"), s("c"), s("def"), m.clone()]).unwrap_err(),
            "interface conversion: interface {} is string, not map[string]interface {}"
        );
        assert_eq!(
            call(dig, &[s("a"), s("def"), Value::Nil]).unwrap_err(),
            "interface conversion: interface {} is nil, not map[string]interface {}"
        );
        assert_eq!(
            call(dig, &[Value::Int(1), s("def"), m]).unwrap_err(),
            "interface conversion: interface {} is int, not string"
        );
        assert_eq!(
            call(dig, &[s("a"), s("b")]).unwrap_err(),
            "dig needs at least three arguments"
        );
    }

    // Expected results from Helm v4.2.3 (helm-oracle).
    #[test]
    fn merge_fills_empty_values() {
        let dst = d(&[
            ("a", s("")),
            ("b", Value::Int(0)),
            ("c", Value::Bool(false)),
            ("d", d(&[("x", Value::Int(1))])),
            ("e", Value::list(vec![Value::Int(1)])),
            ("f", s("keep")),
        ]);
        let src = d(&[
            ("a", s("A")),
            ("b", Value::Int(2)),
            ("c", Value::Bool(true)),
            ("d", d(&[("x", Value::Int(2)), ("y", Value::Int(3))])),
            ("e", Value::list(vec![Value::Int(2)])),
            ("f", s("no")),
            ("g", Value::Nil),
            ("h", Value::list(vec![])),
        ]);
        call(|_, a| merge("merge", a, false), &[dst.clone(), src]).unwrap();
        assert_eq!(
            sprint_v(&dst),
            "map[a:A b:2 c:true d:map[x:1 y:3] e:[1] f:keep h:[]]"
        );
    }

    #[test]
    fn merge_overwrite_replaces() {
        let dst = d(&[
            ("a", s("x")),
            ("d", d(&[("x", Value::Int(1)), ("z", Value::Int(0))])),
            ("n", Value::Int(5)),
        ]);
        let src = d(&[
            ("a", s("")),
            ("d", d(&[("x", Value::Int(2))])),
            ("n", Value::Nil),
        ]);
        call(|_, a| merge("mergeOverwrite", a, true), &[dst.clone(), src]).unwrap();
        assert_eq!(sprint_v(&dst), "map[a: d:map[x:2 z:0] n:<nil>]");
        // A nil destination gets a fresh map.
        assert_eq!(
            call(
                |_, a| merge("merge", a, false),
                &[Value::Nil, d(&[("a", Value::Int(1))])]
            )
            .unwrap(),
            "map[a:1]"
        );
    }

    #[test]
    fn deep_copies_are_independent() {
        let inner = d(&[("x", Value::Int(1))]);
        let m = d(&[("i", inner.clone())]);
        let c = call(deep_copy, std::slice::from_ref(&m)).unwrap();
        assert_eq!(c, "map[i:map[x:1]]");
        let copied = deep_copy(&FuncCtx::default(), std::slice::from_ref(&m)).unwrap();
        if let Value::Map(cm) = &copied {
            if let Some(Value::Map(ci)) = cm.borrow().get("i") {
                ci.borrow_mut().insert("x".into(), Value::Int(9));
            }
        }
        assert_eq!(sprint_v(&m), "map[i:map[x:1]]");
    }

    #[test]
    fn against_helm() {
        let i = Value::Int;
        let m = || {
            d(&[
                ("a", i(1)),
                ("b", d(&[("c", s("x")), ("n", Value::Nil)])),
                ("e", s("")),
                ("z", Value::list(vec![i(1)])),
            ])
        };
        let cases: Vec<(&str, Vec<Value>)> = vec![
            ("dict", vec![]),
            ("dict", vec![s("a")]),
            (
                "dict",
                vec![i(1), Value::Float(1.5), Value::Bool(true), Value::Nil],
            ),
            (
                "dict",
                vec![Value::list(vec![i(1)]), i(2), Value::empty_map(), i(3)],
            ),
            ("get", vec![m(), s("a")]),
            ("get", vec![m(), s("q")]),
            ("get", vec![Value::Nil, s("q")]),
            ("set", vec![m(), s("q"), i(5)]),
            ("set", vec![Value::Nil, s("q"), i(5)]),
            ("unset", vec![m(), s("a")]),
            ("unset", vec![Value::Nil, s("a")]),
            ("hasKey", vec![m(), s("e")]),
            ("hasKey", vec![Value::Nil, s("e")]),
            ("pluck", vec![s("a"), m(), d(&[("a", i(2))]), Value::Nil]),
            ("pluck", vec![s("a")]),
            ("keys", vec![]),
            ("keys", vec![d(&[("k", i(1))])]),
            (
                "keys",
                vec![d(&[("k", i(1))]), Value::Nil, d(&[("j", i(1))])],
            ),
            ("values", vec![d(&[("k", i(1))])]),
            ("values", vec![Value::Nil]),
            ("pick", vec![m(), s("a"), s("e"), s("nope")]),
            ("pick", vec![m()]),
            ("pick", vec![Value::Nil, s("a")]),
            ("omit", vec![m(), s("a"), s("z")]),
            ("omit", vec![Value::Nil, s("a")]),
            ("dig", vec![s("b"), s("c"), s("def"), m()]),
            ("dig", vec![s("b"), s("n"), s("def"), m()]),
            ("dig", vec![s("b"), s("q"), s("def"), m()]),
            ("dig", vec![s("a"), s("def"), m()]),
            ("dig", vec![s("a"), s("q"), s("def"), m()]),
            ("dig", vec![s("b"), s("n"), s("q"), s("def"), m()]),
            ("dig", vec![s("a"), s("def"), Value::Nil]),
            ("dig", vec![s("a"), s("def"), s("notmap")]),
            ("dig", vec![i(1), s("def"), m()]),
            ("dig", vec![s("def"), m()]),
            (
                "merge",
                vec![
                    m(),
                    d(&[
                        ("a", i(9)),
                        ("e", s("E")),
                        ("b", d(&[("c", s("y")), ("n", i(3)), ("new", i(1))])),
                        ("z", Value::list(vec![])),
                    ]),
                ],
            ),
            ("merge", vec![m()]),
            ("merge", vec![Value::Nil, m()]),
            ("merge", vec![Value::Nil, Value::Nil]),
            ("merge", vec![m(), Value::Nil, d(&[("q", Value::Nil)])]),
            (
                "merge",
                vec![
                    d(&[("a", Value::empty_map())]),
                    d(&[("a", Value::empty_map())]),
                ],
            ),
            (
                "merge",
                vec![d(&[("a", s("str"))]), d(&[("a", d(&[("x", i(1))]))])],
            ),
            (
                "merge",
                vec![d(&[("a", d(&[("x", i(1))]))]), d(&[("a", s("str"))])],
            ),
            (
                "merge",
                vec![d(&[("a", Value::empty_map())]), d(&[("a", s("str"))])],
            ),
            (
                "merge",
                vec![
                    d(&[("a", Value::Float(0.0))]),
                    d(&[("a", Value::list(vec![]))]),
                ],
            ),
            (
                "mergeOverwrite",
                vec![
                    m(),
                    d(&[
                        ("a", i(0)),
                        ("e", s("E")),
                        ("b", d(&[("c", Value::Bool(false)), ("n", i(3))])),
                        ("z", Value::list(vec![])),
                        ("q", Value::Nil),
                    ]),
                ],
            ),
            (
                "mergeOverwrite",
                vec![d(&[("a", d(&[("x", i(1))]))]), d(&[("a", s("str"))])],
            ),
            (
                "mergeOverwrite",
                vec![d(&[("a", s("str"))]), d(&[("a", d(&[("x", i(1))]))])],
            ),
            (
                "mergeOverwrite",
                vec![
                    d(&[("a", Value::empty_map())]),
                    d(&[("a", Value::empty_map())]),
                    d(&[("b", i(1))]),
                ],
            ),
            (
                "mustMerge",
                vec![
                    d(&[("a", i(1))]),
                    d(&[("a", i(2)), ("b", i(2))]),
                    d(&[("b", i(3)), ("c", i(3))]),
                ],
            ),
            (
                "mustMergeOverwrite",
                vec![
                    d(&[("a", i(1))]),
                    d(&[("a", i(2)), ("b", i(2))]),
                    d(&[("b", i(3)), ("c", i(3))]),
                ],
            ),
            ("deepCopy", vec![m()]),
            ("deepCopy", vec![Value::list(vec![m(), i(1)])]),
            ("deepCopy", vec![i(3)]),
            ("mustDeepCopy", vec![s("x")]),
            ("deepCopy", vec![Value::Nil]),
        ];
        super::super::reflect::oracle::check(&cases);
    }

    // Known difference: Sprig's integer math returns int64 (`typeOf (add 1 1)` is "int64");
    // values here have one integer type and print "int". `required`/`fail` messages are
    // reformatted by the Helm engine, not the template set, so they are checked elsewhere.
    #[test]
    fn templates_against_helm() {
        let v = r#"{"a": {"b": 1, "c": "", "l": [1, 2]}, "d": {"b": 2, "c": "x", "n": {"m": true}}, "k": "a"}"#;
        let cases: Vec<(&str, &str)> = vec![
            (r#"{{ $_ := set .Values.a "z" 3 }}{{ .Values.a }}"#, v),
            (
                r#"{{ $m := merge .Values.a .Values.d }}{{ .Values.a }}|{{ $m }}"#,
                v,
            ),
            (
                r#"{{ $m := mergeOverwrite (deepCopy .Values.a) .Values.d }}{{ .Values.a }}|{{ $m }}"#,
                v,
            ),
            (r#"{{ $_ := unset .Values.d "n" }}{{ .Values.d }}"#, v),
            (
                r#"{{ dig "n" "m" "none" .Values.d }}|{{ dig "n" "x" "none" .Values.d }}"#,
                v,
            ),
            (
                r#"{{ get .Values.a .Values.k }}|{{ get .Values.a "b" }}|{{ hasKey .Values "a" }}"#,
                v,
            ),
            (
                r#"{{ $d := dict "x" .Values.a }}{{ $_ := set $d.x "q" 1 }}{{ .Values.a.q }}"#,
                v,
            ),
            (
                r#"{{ range $k, $v := pick .Values.d "b" "c" }}{{ $k }}={{ $v }};{{ end }}"#,
                v,
            ),
            (
                r#"{{ keys .Values.a | sortAlpha | join "," }}|{{ omit .Values.a "l" }}"#,
                v,
            ),
            (
                r#"{{ pluck "b" .Values.a .Values.d | toString }}|{{ values (dict "x" .Values.a.b) }}"#,
                v,
            ),
            (
                r#"{{ add .Values.a.b 2 }}|{{ mul .Values.d.b 2.5 }}|{{ addf .Values.a.b 0.5 }}"#,
                v,
            ),
            (
                r#"{{ .Values.a.b | int | trunc 1 }}|{{ len (until (int .Values.d.b)) }}"#,
                v,
            ),
            (r#"{{ trunc .Values.a.b "abc" }}"#, v),
            (
                r#"{{ first .Values.a.l }}|{{ last .Values.a.l }}|{{ has 1.0 .Values.a.l }}|{{ has 1 .Values.a.l }}"#,
                v,
            ),
            (
                r#"{{ default "d" .Values.a.c }}|{{ default "d" .Values.nope }}|{{ empty .Values.a.l }}"#,
                v,
            ),
            (
                r#"{{ .Values.a.b | toString | quote }}|{{ .Values.a.l | toStrings | join "+" }}"#,
                v,
            ),
            (
                r#"{{ ternary "y" "n" (eq .Values.k "a") }}|{{ coalesce .Values.nope .Values.a.c "z" }}"#,
                v,
            ),
            (r#"{{ typeOf .Values.a.b }}|{{ kindOf .Values.a.l }}"#, v),
            (
                r#"{{ regexReplaceAll "(b)" "abc" "<$1>" }}|{{ "a-b" | splitList "-" | join "/" }}"#,
                v,
            ),
            (r#"{{ "hello" | upper | repeat 2 | nindent 2 }}"#, v),
            (r#"{{ list 1 2 3 | toJson }}|{{ dict "a" 1 | toYaml }}"#, v),
            (
                r#"{{ .Values.a | merge (dict "b" 5 "new" 1) | toJson }}"#,
                v,
            ),
        ];
        super::super::reflect::oracle::check_templates(&cases);
    }
}
