//! Defaults and flow control: Sprig's `default`, `empty`, `coalesce`, `all`, `any`,
//! `ternary`, and Helm's `required` and `fail`.
//!
//! Sprig's emptiness ([`is_empty`]): nil, `false`, `0`, `0.0`, `""` and empty lists and maps
//! are empty; structs never are.

use std::collections::HashMap;

use super::args;
use crate::value::{Func, FuncCtx, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("default", default);
    m.insert("empty", empty);
    m.insert("coalesce", coalesce);
    m.insert("all", all);
    m.insert("any", any);
    m.insert("ternary", ternary);
    m.insert("required", required);
    m.insert("fail", fail);
}

/// Sprig's `empty`: the zero value of its type.
pub(super) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Nil => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.borrow().is_empty(),
        Value::Object(o) => !o.truthy(),
    }
}

fn default(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("default", a, 1)?;
    // Only the first value after the default counts.
    match a.get(1) {
        Some(v) if !is_empty(v) => Ok(v.clone()),
        _ => Ok(a[0].clone()),
    }
}

fn empty(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("empty", a, 1)?;
    Ok(Value::Bool(is_empty(&a[0])))
}

fn coalesce(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    Ok(a.iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::Nil))
}

fn all(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(a.iter().all(|v| !is_empty(v))))
}

fn any(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::Bool(a.iter().any(|v| !is_empty(v))))
}

fn ternary(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("ternary", a, 3)?;
    let cond = args::boolean(a, 2)?;
    Ok(if cond { a[0].clone() } else { a[1].clone() })
}

/// Helm's `required MSG VALUE`: fails with MSG when VALUE is nil or `""`.
fn required(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("required", a, 2)?;
    let msg = args::string(a, 0)?;
    match &a[1] {
        Value::Nil => Err(raw_error(&msg)),
        Value::String(s) if s.is_empty() => Err(raw_error(&msg)),
        v => Ok(v.clone()),
    }
}

/// Helm's `fail MSG`: always fails with MSG.
fn fail(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("fail", a, 1)?;
    let msg = args::string(a, 0)?;
    Err(raw_error(&msg))
}

/// Helm wraps these messages in markers and prints them as
/// `execution error at (TEMPLATE:LINE:COL): MSG`, without `error calling NAME:`.
fn raw_error(msg: &str) -> FuncError {
    FuncError {
        message: msg.to_string(),
        raw: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fmt::sprint_v;

    fn call(f: Func, a: &[Value]) -> Result<String, FuncError> {
        f(&FuncCtx::default(), a).map(|v| sprint_v(&v))
    }

    #[test]
    fn emptiness() {
        for v in [
            Value::Nil,
            Value::Bool(false),
            Value::Int(0),
            Value::Float(0.0),
            Value::str(""),
            Value::list(vec![]),
            Value::empty_map(),
        ] {
            assert!(is_empty(&v), "{v:?}");
        }
        for v in [
            Value::Bool(true),
            Value::Int(-1),
            Value::Float(0.5),
            Value::str(" "),
            Value::list(vec![Value::Nil]),
        ] {
            assert!(!is_empty(&v), "{v:?}");
        }
    }

    #[test]
    fn defaults() {
        let d = Value::str("d");
        assert_eq!(call(default, std::slice::from_ref(&d)).unwrap(), "d");
        assert_eq!(call(default, &[d.clone(), Value::Int(0)]).unwrap(), "d");
        assert_eq!(call(default, &[d.clone(), Value::Int(3)]).unwrap(), "3");
        assert_eq!(
            call(default, &[d.clone(), Value::Nil, Value::Int(3)]).unwrap(),
            "d"
        );
        assert_eq!(
            call(coalesce, &[Value::Nil, Value::str(""), Value::Int(2)]).unwrap(),
            "2"
        );
        assert_eq!(call(coalesce, &[Value::Nil]).unwrap(), "<nil>");
        assert_eq!(call(all, &[]).unwrap(), "true");
        assert_eq!(call(any, &[]).unwrap(), "false");
        assert_eq!(call(all, &[Value::Int(1), Value::Int(0)]).unwrap(), "false");
        assert_eq!(call(any, &[Value::Int(1), Value::Int(0)]).unwrap(), "true");
        assert_eq!(
            call(ternary, &[Value::Int(1), Value::Int(2), Value::Bool(false)]).unwrap(),
            "2"
        );
        let e = call(ternary, &[Value::Int(1), Value::Int(2), Value::Nil]).unwrap_err();
        assert_eq!(e.message, "invalid value; expected bool");
    }

    #[test]
    fn required_and_fail() {
        let e = call(required, &[Value::str("need x"), Value::Nil]).unwrap_err();
        assert_eq!(e.message, "need x");
        assert!(e.raw);
        assert!(call(required, &[Value::str("m"), Value::str("")]).is_err());
        assert_eq!(
            call(required, &[Value::str("m"), Value::Int(0)]).unwrap(),
            "0"
        );
        let e = call(fail, &[Value::str("boom")]).unwrap_err();
        assert_eq!(e.message, "boom");
        assert!(e.raw);
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let i = Value::Int;
        let vals = || {
            vec![
                Value::Nil,
                Value::Bool(false),
                Value::Bool(true),
                i(0),
                i(-1),
                Value::Float(0.0),
                Value::Float(0.1),
                s(""),
                s("0"),
                Value::list(vec![]),
                Value::list(vec![Value::Nil]),
                Value::empty_map(),
            ]
        };
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for v in vals() {
            cases.push(("empty", vec![v.clone()]));
            cases.push(("default", vec![s("D"), v.clone()]));
        }
        cases.extend([
            ("default", vec![s("D")]),
            ("default", vec![]),
            ("default", vec![s("D"), Value::Nil, i(2)]),
            ("empty", vec![]),
            ("coalesce", vals()),
            ("coalesce", vec![]),
            ("coalesce", vec![Value::Nil, i(0)]),
            ("all", vals()),
            ("all", vec![]),
            ("all", vec![i(1), s("x")]),
            ("any", vals()),
            ("any", vec![]),
            ("any", vec![Value::Nil, i(0)]),
            ("ternary", vec![s("y"), s("n"), Value::Bool(true)]),
            ("ternary", vec![s("y"), s("n"), Value::Bool(false)]),
            ("ternary", vec![s("y"), s("n")]),
            ("required", vec![s("msg"), i(0)]),
            ("required", vec![s("msg"), Value::Bool(false)]),
            ("required", vec![s("msg"), Value::list(vec![])]),
            ("required", vec![s("gone"), Value::Nil]),
            ("required", vec![s("blank"), s("")]),
            ("fail", vec![s("it failed")]),
        ]);
        super::super::reflect::oracle::check(&cases);
    }
}
