//! Sprig's list functions (and their `must*` twins, which fail with the same message).
//!
//! They accept any Go slice (`[]interface{}`, `[]string`, `[]byte`…) through reflection; any
//! other kind fails with `Cannot find first on type int`, and a nil list with Go's nil
//! pointer panic (Sprig calls `reflect.TypeOf(nil).Kind()`).

use std::collections::HashMap;

use super::args;
use super::conv::to_int64;
use super::defaults::is_empty;
use super::reflect::deep_equal;
use crate::value::{Func, FuncCtx, FuncError, Value};

/// Most items `until`, `untilStep` and `seq` may produce (Go would run out of memory).
const MAX_ITEMS: i64 = 10_000_000;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("list", list);
    m.insert("tuple", list);
    m.insert("append", push);
    m.insert("push", push);
    m.insert("mustAppend", push);
    m.insert("mustPush", push);
    m.insert("prepend", prepend);
    m.insert("mustPrepend", prepend);
    m.insert("first", first);
    m.insert("mustFirst", first);
    m.insert("rest", rest);
    m.insert("mustRest", rest);
    m.insert("last", last);
    m.insert("mustLast", last);
    m.insert("initial", initial);
    m.insert("mustInitial", initial);
    m.insert("reverse", reverse);
    m.insert("mustReverse", reverse);
    m.insert("uniq", uniq);
    m.insert("mustUniq", uniq);
    m.insert("without", without);
    m.insert("mustWithout", without);
    m.insert("has", has);
    m.insert("mustHas", has);
    m.insert("compact", compact);
    m.insert("mustCompact", compact);
    m.insert("slice", slice);
    m.insert("mustSlice", slice);
    m.insert("concat", concat);
    m.insert("chunk", chunk);
    m.insert("mustChunk", chunk);
    m.insert("until", until);
    m.insert("untilStep", until_step);
    m.insert("seq", seq);
}

/// Go's message for a nil pointer dereference (what `reflect.TypeOf(nil).Kind()` panics with).
pub(super) fn nil_deref() -> FuncError {
    FuncError::new("runtime error: invalid memory address or nil pointer dereference")
}

/// The items of a Go slice value, or Sprig's error `{what} {kind}`.
fn items(v: &Value, what: &str) -> Result<Vec<Value>, FuncError> {
    match v {
        Value::List(l) => Ok(l.to_vec()),
        Value::Bytes(b) => Ok(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        Value::Nil => Err(nil_deref()),
        v => Err(FuncError::new(format!("{what} {}", v.kind_name()))),
    }
}

fn list(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    Ok(Value::list(a.to_vec()))
}

fn push(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("append", a, 2)?;
    let mut l = items(&a[0], "Cannot push on type")?;
    l.push(a[1].clone());
    Ok(Value::list(l))
}

fn prepend(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("prepend", a, 2)?;
    let mut l = items(&a[0], "Cannot prepend on type")?;
    l.insert(0, a[1].clone());
    Ok(Value::list(l))
}

fn first(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("first", a, 1)?;
    let l = items(&a[0], "Cannot find first on type")?;
    Ok(l.first().cloned().unwrap_or(Value::Nil))
}

fn last(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("last", a, 1)?;
    let l = items(&a[0], "Cannot find last on type")?;
    Ok(l.last().cloned().unwrap_or(Value::Nil))
}

fn rest(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("rest", a, 1)?;
    let l = items(&a[0], "Cannot find rest on type")?;
    Ok(Value::list(l.into_iter().skip(1).collect()))
}

fn initial(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("initial", a, 1)?;
    let mut l = items(&a[0], "Cannot find initial on type")?;
    l.pop();
    Ok(Value::list(l))
}

fn reverse(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("reverse", a, 1)?;
    let mut l = items(&a[0], "Cannot find reverse on type")?;
    l.reverse();
    Ok(Value::list(l))
}

fn uniq(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("uniq", a, 1)?;
    let l = items(&a[0], "Cannot find uniq on type")?;
    let mut out: Vec<Value> = Vec::new();
    for x in l {
        if !out.iter().any(|y| deep_equal(&x, y)) {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

fn without(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("without", a, 1)?;
    let l = items(&a[0], "Cannot find without on type")?;
    let omit = &a[1..];
    Ok(Value::list(
        l.into_iter()
            .filter(|x| !omit.iter().any(|o| deep_equal(x, o)))
            .collect(),
    ))
}

fn has(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("has", a, 2)?;
    if matches!(a[1], Value::Nil) {
        return Ok(Value::Bool(false));
    }
    let l = items(&a[1], "Cannot find has on type")?;
    Ok(Value::Bool(l.iter().any(|x| deep_equal(&a[0], x))))
}

fn compact(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("compact", a, 1)?;
    let l = items(&a[0], "Cannot compact on type")?;
    Ok(Value::list(
        l.into_iter().filter(|x| !is_empty(x)).collect(),
    ))
}

fn slice(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want_at_least("slice", a, 1)?;
    let l = items(&a[0], "list should be type of slice or array but")?;
    if l.is_empty() {
        return Ok(Value::Nil);
    }
    let len = l.len() as i64;
    let start = a.get(1).map_or(0, to_int64);
    let end = if a.len() < 3 { len } else { to_int64(&a[2]) };
    if start < 0 || end < start || end > len {
        // reflect.Value.Slice checks against the capacity, which is the length here.
        return Err(FuncError::new(
            "reflect.Value.Slice: slice index out of bounds",
        ));
    }
    let part = &l[start as usize..end as usize];
    Ok(match &a[0] {
        Value::Bytes(b) => Value::Bytes(b[start as usize..end as usize].into()),
        _ => Value::list(part.to_vec()),
    })
}

fn concat(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let mut out = Vec::new();
    for l in a {
        match l {
            Value::List(_) | Value::Bytes(_) | Value::Nil => {
                out.extend(items(l, "")?);
            }
            v => {
                return Err(FuncError::new(format!(
                    "Cannot concat type {} as list",
                    v.kind_name()
                )))
            }
        }
    }
    Ok(Value::list(out))
}

fn chunk(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("chunk", a, 2)?;
    let size = args::int(a, 0)?;
    let l = items(&a[1], "Cannot chunk type")?;
    if size <= 0 {
        // Go computes the chunk count with a float division by size and panics making it.
        if l.is_empty() && size < 0 {
            return Ok(Value::list(vec![Value::list(vec![])]));
        }
        return Err(FuncError::new("runtime error: makeslice: len out of range"));
    }
    if l.is_empty() {
        // Sprig computes floor(-1/size)+1 = 0 chunks.
        return Ok(Value::list(vec![]));
    }
    Ok(Value::list(
        l.chunks(size as usize)
            .map(|c| Value::list(c.to_vec()))
            .collect(),
    ))
}

/// Sprig's `untilStep`; `None` when the list would be too long.
fn until_step_ints(start: i64, stop: i64, step: i64) -> Option<Vec<i64>> {
    if step == 0 || (stop < start && step > 0) || (stop > start && step < 0) || stop == start {
        return Some(Vec::new());
    }
    let span = (i128::from(stop) - i128::from(start)).abs();
    let n = (span + i128::from(step).abs() - 1) / i128::from(step).abs();
    if n > i128::from(MAX_ITEMS) {
        return None;
    }
    Some((0..n as i64).map(|i| start + i * step).collect())
}

fn too_many() -> FuncError {
    FuncError::new(format!("too many items (more than {MAX_ITEMS})"))
}

fn ints(v: Vec<i64>) -> Value {
    Value::list(v.into_iter().map(Value::Int).collect())
}

fn until(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("until", a, 1)?;
    let n = args::int(a, 0)?;
    let step = if n < 0 { -1 } else { 1 };
    Ok(ints(until_step_ints(0, n, step).ok_or_else(too_many)?))
}

fn until_step(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("untilStep", a, 3)?;
    let start = args::int(a, 0)?;
    let stop = args::int(a, 1)?;
    let step = args::int(a, 2)?;
    Ok(ints(
        until_step_ints(start, stop, step).ok_or_else(too_many)?,
    ))
}

fn seq(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let mut p = Vec::with_capacity(a.len());
    for i in 0..a.len() {
        p.push(args::int(a, i)?);
    }
    let (start, end, step) = match p.as_slice() {
        [end] => (1, *end, if *end < 1 { -1 } else { 1 }),
        [start, end] => (*start, *end, if end < start { -1 } else { 1 }),
        [start, step, end] => {
            if end < start && *step > 0 {
                return Ok(Value::str(""));
            }
            (*start, *end, *step)
        }
        _ => return Ok(Value::str("")),
    };
    // Sprig stops one increment past `end` (the increment is ±1 by direction, not the step).
    let inc = if end < start { -1 } else { 1 };
    let v = until_step_ints(start, end.wrapping_add(inc), step).ok_or_else(too_many)?;
    let s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    Ok(Value::string(s.join(" ")))
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

    fn l(v: &[i64]) -> Value {
        Value::list(v.iter().map(|x| Value::Int(*x)).collect())
    }

    #[test]
    fn list_access() {
        assert_eq!(call(first, &[l(&[1, 2, 3])]).unwrap(), "1");
        assert_eq!(call(last, &[l(&[1, 2, 3])]).unwrap(), "3");
        assert_eq!(call(rest, &[l(&[1, 2, 3])]).unwrap(), "[2 3]");
        assert_eq!(call(initial, &[l(&[1, 2, 3])]).unwrap(), "[1 2]");
        assert_eq!(call(first, &[l(&[])]).unwrap(), "<nil>");
        assert_eq!(call(rest, &[l(&[])]).unwrap(), "[]");
        assert_eq!(
            call(first, &[Value::Int(1)]).unwrap_err(),
            "Cannot find first on type int"
        );
        assert_eq!(
            call(first, &[Value::Nil]).unwrap_err(),
            "runtime error: invalid memory address or nil pointer dereference"
        );
        assert_eq!(
            call(last, &[Value::str("ab")]).unwrap_err(),
            "Cannot find last on type string"
        );
    }

    #[test]
    fn list_building() {
        assert_eq!(call(push, &[l(&[1]), Value::Int(2)]).unwrap(), "[1 2]");
        assert_eq!(call(prepend, &[l(&[1]), Value::Int(0)]).unwrap(), "[0 1]");
        assert_eq!(
            call(concat, &[l(&[1]), l(&[2, 3]), l(&[])]).unwrap(),
            "[1 2 3]"
        );
        assert_eq!(
            call(concat, &[l(&[1]), Value::Int(2)]).unwrap_err(),
            "Cannot concat type int as list"
        );
        assert_eq!(call(reverse, &[l(&[1, 2, 3])]).unwrap(), "[3 2 1]");
        assert_eq!(
            call(
                uniq,
                &[Value::list(vec![
                    Value::Int(1),
                    Value::Int(1),
                    Value::Float(1.0),
                    Value::str("a"),
                    Value::str("a")
                ])]
            )
            .unwrap(),
            "[1 1 a]"
        );
        assert_eq!(
            call(without, &[l(&[1, 2, 3, 2]), Value::Int(2)]).unwrap(),
            "[1 3]"
        );
        assert_eq!(
            call(
                compact,
                &[Value::list(vec![
                    Value::Int(0),
                    Value::str(""),
                    Value::Nil,
                    Value::Bool(false),
                    Value::str("x")
                ])]
            )
            .unwrap(),
            "[x]"
        );
    }

    #[test]
    fn has_and_slice() {
        assert_eq!(call(has, &[Value::Int(2), l(&[1, 2])]).unwrap(), "true");
        assert_eq!(call(has, &[Value::Int(2), Value::Nil]).unwrap(), "false");
        assert_eq!(
            call(has, &[Value::Int(2), Value::Int(2)]).unwrap_err(),
            "Cannot find has on type int"
        );
        assert_eq!(call(slice, &[l(&[1, 2, 3, 4])]).unwrap(), "[1 2 3 4]");
        assert_eq!(
            call(slice, &[l(&[1, 2, 3, 4]), Value::Int(1), Value::Int(3)]).unwrap(),
            "[2 3]"
        );
        assert_eq!(
            call(slice, &[l(&[1, 2, 3, 4]), Value::Float(2.0)]).unwrap(),
            "[3 4]"
        );
        assert_eq!(call(slice, &[l(&[])]).unwrap(), "<nil>");
    }

    #[test]
    fn ranges() {
        assert_eq!(call(until, &[Value::Int(3)]).unwrap(), "[0 1 2]");
        assert_eq!(call(until, &[Value::Int(-3)]).unwrap(), "[0 -1 -2]");
        assert_eq!(
            call(until_step, &[Value::Int(0), Value::Int(10), Value::Int(3)]).unwrap(),
            "[0 3 6 9]"
        );
        assert_eq!(
            call(until_step, &[Value::Int(10), Value::Int(0), Value::Int(-4)]).unwrap(),
            "[10 6 2]"
        );
        assert_eq!(call(seq, &[Value::Int(3)]).unwrap(), "1 2 3");
        assert_eq!(call(seq, &[Value::Int(-1)]).unwrap(), "1 0 -1");
        assert_eq!(
            call(seq, &[Value::Int(2), Value::Int(5)]).unwrap(),
            "2 3 4 5"
        );
        assert_eq!(
            call(seq, &[Value::Int(0), Value::Int(3), Value::Int(10)]).unwrap(),
            "0 3 6 9"
        );
        assert_eq!(call(seq, &[]).unwrap(), "");
        assert!(call(until, &[Value::Int(1 << 40)]).is_err());
    }

    #[test]
    fn chunks() {
        assert_eq!(
            call(chunk, &[Value::Int(2), l(&[1, 2, 3, 4, 5])]).unwrap(),
            "[[1 2] [3 4] [5]]"
        );
        assert_eq!(call(chunk, &[Value::Int(2), l(&[])]).unwrap(), "[]");
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let i = Value::Int;
        let li = || l(&[1, 2, 3, 4, 5]);
        let mixed = || {
            Value::list(vec![
                i(1),
                Value::Float(1.0),
                s("1"),
                Value::Nil,
                Value::Bool(false),
                i(1),
                Value::list(vec![i(1)]),
                Value::list(vec![i(1)]),
                Value::empty_map(),
            ])
        };
        let cases: Vec<(&str, Vec<Value>)> = vec![
            ("list", vec![]),
            ("list", vec![i(1), s("a"), Value::Nil]),
            ("tuple", vec![i(1)]),
            ("first", vec![li()]),
            ("first", vec![l(&[])]),
            ("first", vec![s("abc")]),
            ("first", vec![Value::Nil]),
            ("first", vec![Value::empty_map()]),
            ("mustFirst", vec![Value::Bool(true)]),
            ("last", vec![li()]),
            ("last", vec![Value::Float(1.5)]),
            ("rest", vec![li()]),
            ("rest", vec![l(&[])]),
            ("rest", vec![i(1)]),
            ("initial", vec![li()]),
            ("initial", vec![l(&[])]),
            ("initial", vec![s("x")]),
            ("append", vec![li(), i(6)]),
            ("append", vec![s("x"), i(6)]),
            ("mustPush", vec![l(&[]), Value::Nil]),
            ("prepend", vec![li(), i(0)]),
            ("prepend", vec![i(3), i(0)]),
            ("concat", vec![li(), l(&[]), Value::list(vec![s("a")])]),
            ("concat", vec![]),
            ("concat", vec![li(), s("x")]),
            ("concat", vec![li(), Value::Nil]),
            ("reverse", vec![li()]),
            ("reverse", vec![s("x")]),
            ("uniq", vec![mixed()]),
            ("uniq", vec![i(3)]),
            ("without", vec![mixed(), i(1), Value::Nil]),
            ("without", vec![li()]),
            ("without", vec![s("x"), i(1)]),
            ("has", vec![i(3), li()]),
            ("has", vec![Value::Float(3.0), li()]),
            ("has", vec![i(3), Value::Nil]),
            ("has", vec![i(3), s("3")]),
            ("mustHas", vec![Value::Nil, mixed()]),
            ("compact", vec![mixed()]),
            ("compact", vec![s("x")]),
            ("slice", vec![li(), i(1), i(3)]),
            ("slice", vec![li(), i(2)]),
            ("slice", vec![li(), s("1"), Value::Float(2.9)]),
            ("slice", vec![li(), i(3), i(9)]),
            ("slice", vec![li(), i(3), i(1)]),
            ("slice", vec![l(&[]), i(3), i(1)]),
            ("slice", vec![s("abc"), i(1)]),
            ("chunk", vec![i(2), li()]),
            ("chunk", vec![i(5), li()]),
            ("chunk", vec![i(9), li()]),
            ("chunk", vec![i(2), l(&[])]),
            ("chunk", vec![i(0), li()]),
            ("chunk", vec![i(-1), li()]),
            ("chunk", vec![i(2), s("ab")]),
            ("until", vec![i(0)]),
            ("until", vec![i(4)]),
            ("until", vec![i(-4)]),
            ("untilStep", vec![i(0), i(10), i(3)]),
            ("untilStep", vec![i(10), i(0), i(-3)]),
            ("untilStep", vec![i(10), i(0), i(3)]),
            ("untilStep", vec![i(0), i(10), i(0)]),
            ("untilStep", vec![i(-5), i(-1), i(2)]),
            ("seq", vec![]),
            ("seq", vec![i(0)]),
            ("seq", vec![i(1)]),
            ("seq", vec![i(5)]),
            ("seq", vec![i(-3)]),
            ("seq", vec![i(3), i(0)]),
            ("seq", vec![i(0), i(2), i(9)]),
            ("seq", vec![i(9), i(-2), i(0)]),
            ("seq", vec![i(9), i(2), i(0)]),
            ("seq", vec![i(0), i(-2), i(9)]),
            ("seq", vec![i(1), i(2), i(3), i(4)]),
        ];
        super::super::reflect::oracle::check(&cases);
    }
}
