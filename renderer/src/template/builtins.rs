//! Go's builtin template functions over runtime values: comparison, `index`, `slice`, `len`,
//! `not`, `print*`, the escapers and `call`, with Go's error messages (`funcs.go`).

use super::ast::Builtin;
use crate::fmt;
use crate::value::Value;

/// Go's argument-count check for the builtin's signature.
pub(super) fn check_arity(
    b: Builtin,
    name: &str,
    nargs: usize,
    has_final: bool,
) -> Result<(), String> {
    let num_in = nargs + has_final as usize;
    let exact = |n: usize| {
        if num_in != n {
            Err(format!(
                "wrong number of args for {name}: want {n} got {num_in}"
            ))
        } else {
            Ok(())
        }
    };
    let at_least = |n: usize| {
        if num_in < n {
            Err(format!(
                "wrong number of args for {name}: want at least {n} got {nargs}"
            ))
        } else {
            Ok(())
        }
    };
    match b {
        Builtin::Not | Builtin::Len => exact(1),
        Builtin::Ne | Builtin::Lt | Builtin::Le | Builtin::Gt | Builtin::Ge => exact(2),
        Builtin::Include | Builtin::Tpl => exact(2),
        Builtin::Index | Builtin::Slice | Builtin::Eq | Builtin::Call | Builtin::Printf => {
            at_least(1)
        }
        Builtin::And | Builtin::Or => at_least(1),
        Builtin::Print | Builtin::Println | Builtin::Html | Builtin::Js | Builtin::Urlquery => {
            Ok(())
        }
    }
}

/// Calls a builtin (not `and`/`or`/`include`/`tpl`); the error is the function's message.
/// `iface[i]`: argument `i` is a nil `interface{}` rather than Go's invalid zero value;
/// `first_arg` is the text of the first argument (for `call`'s message).
pub(super) fn call(
    b: Builtin,
    a: &[Value],
    iface: &[bool],
    first_arg: &str,
) -> Result<Value, String> {
    // A Go map or slice type with methods (`.Files`, `APIVersions`) indexes as its data.
    if let (Builtin::Index | Builtin::Len | Builtin::Slice, Some(Value::Object(o))) = (b, a.first())
    {
        if let Some(v) = o.as_value() {
            let mut a2 = a.to_vec();
            a2[0] = v;
            return call(b, &a2, iface, first_arg);
        }
    }
    Ok(match b {
        Builtin::Not => Value::Bool(!a[0].truthy()),
        Builtin::Len => {
            if matches!(a[0], Value::Nil) && !iface.first().copied().unwrap_or(true) {
                return Err("reflect: call of reflect.Value.Type on zero Value".into());
            }
            Value::Int(length(&a[0])?)
        }
        Builtin::Index => index(&a[0], &a[1..])?,
        Builtin::Slice => slice(&a[0], &a[1..])?,
        Builtin::Eq => Value::Bool(eq(&a[0], &a[1..])?),
        Builtin::Ne => Value::Bool(!eq(&a[0], &a[1..2])?),
        Builtin::Lt => Value::Bool(lt(&a[0], &a[1])?),
        Builtin::Le => Value::Bool(lt(&a[0], &a[1])? || eq(&a[0], &a[1..2])?),
        Builtin::Gt => Value::Bool(!(lt(&a[0], &a[1])? || eq(&a[0], &a[1..2])?)),
        Builtin::Ge => Value::Bool(!lt(&a[0], &a[1])?),
        Builtin::Print => Value::string(fmt::sprint(a)),
        Builtin::Println => Value::string(fmt::sprintln(a)),
        Builtin::Printf => {
            let f = a[0].as_str().unwrap_or("");
            Value::string(fmt::sprintf(f, &a[1..]))
        }
        Builtin::Html => Value::string(html_escape(&eval_args(a))),
        Builtin::Js => Value::string(js_escape(&eval_args(a))),
        Builtin::Urlquery => Value::string(query_escape(&eval_args(a))),
        Builtin::Call => {
            return Err(match &a[0] {
                Value::Nil => "call of nil".to_string(),
                v => format!("non-function {first_arg} of type {}", v.type_name()),
            })
        }
        Builtin::And | Builtin::Or | Builtin::Include | Builtin::Tpl => Value::Nil,
    })
}

fn length(v: &Value) -> Result<i64, String> {
    Ok(match v {
        Value::String(s) => s.len() as i64,
        Value::Bytes(b) => b.len() as i64,
        Value::List(l) => l.len() as i64,
        Value::Map(m) => m.borrow().len() as i64,
        Value::Nil => return Err("len of nil pointer".into()),
        v => return Err(format!("len of type {}", v.type_name())),
    })
}

fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) => *x,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => {
            return Err(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn index(item: &Value, idx: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("index of untyped nil".into());
    }
    let mut item = item.clone();
    for i in idx {
        item = match &item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => {
                let x = index_arg(i, l.len())?;
                match l.get(x) {
                    Some(v) => v.clone(),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::Bytes(b) => {
                let x = index_arg(i, b.len())?;
                match b.get(x) {
                    Some(v) => Value::Int(*v as i64),
                    None => return Err("reflect: slice index out of range".into()),
                }
            }
            Value::String(s) => {
                let x = index_arg(i, s.len())?;
                match s.as_bytes().get(x) {
                    Some(v) => Value::Int(*v as i64),
                    None => return Err("reflect: string index out of range".into()),
                }
            }
            Value::Map(m) => {
                let key = match i {
                    Value::String(k) => k,
                    Value::Nil => return Err("value is nil; should be of type string".into()),
                    v => {
                        return Err(format!(
                            "value has type {}; should be string",
                            v.type_name()
                        ))
                    }
                };
                m.borrow().get(&**key).cloned().unwrap_or(Value::Nil)
            }
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

fn slice(item: &Value, idx: &[Value]) -> Result<Value, String> {
    if let Value::Nil = item {
        return Err("slice of untyped nil".into());
    }
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item {
        Value::String(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Bytes(b) => b.len(),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut ix = [0usize, len, len];
    for (k, i) in idx.iter().enumerate() {
        ix[k] = index_arg(i, len)?;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(format!("invalid slice index: {} > {}", ix[1], ix[2]));
    }
    Ok(match item {
        Value::String(s) => {
            let b = &s.as_bytes()[ix[0]..ix[1]];
            Value::string(String::from_utf8_lossy(b).into_owned())
        }
        Value::List(l) => Value::list(l[ix[0]..ix[1]].to_vec()),
        Value::Bytes(b) => Value::Bytes(b[ix[0]..ix[1]].into()),
        _ => Value::Nil,
    })
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

/// `incompatible types for comparison: int and float64` (Go 1.23+ names the types).
fn bad_comparison(a: &Value, b: &Value) -> String {
    format!(
        "incompatible types for comparison: {} and {}",
        a.type_name(),
        b.type_name()
    )
}
const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";

/// Go's `eq`: true if `a` equals any of `bs`.
pub(super) fn eq(a: &Value, bs: &[Value]) -> Result<bool, String> {
    if bs.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = kind(a);
    for b in bs {
        let k2 = kind(b);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err(bad_comparison(a, b));
            }
            false
        } else {
            match (a, b) {
                (Value::Nil, Value::Nil) => true,
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::String(x), Value::String(y)) => x == y,
                _ => {
                    if a.type_name() != b.type_name() {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            fmt::sprintf("%s", std::slice::from_ref(a)),
                            a.type_name(),
                            b.type_name(),
                            fmt::sprint_v(b)
                        ));
                    }
                    return Err(format!(
                        "non-comparable type {}: {}",
                        fmt::sprintf("%s", std::slice::from_ref(b)),
                        b.type_name()
                    ));
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Go's `lt`.
pub(super) fn lt(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (kind(a), kind(b));
    if matches!(k1, Kind::Invalid | Kind::Other) || matches!(k2, Kind::Invalid | Kind::Other) {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return Err(bad_comparison(a, b));
    }
    Ok(match (a, b) {
        (Value::Int(x), Value::Int(y)) => x < y,
        (Value::Float(x), Value::Float(y)) => x < y,
        (Value::String(x), Value::String(y)) => x < y,
        _ => return Err(BAD_COMPARISON_TYPE.into()),
    })
}

/// Go's `evalArgs` for the escapers: one string as is, otherwise `fmt.Sprint` (nil prints as
/// `<no value>`).
fn eval_args(a: &[Value]) -> String {
    if let [Value::String(s)] = a {
        return s.to_string();
    }
    let mapped: Vec<Value> = a
        .iter()
        .map(|v| match v {
            Value::Nil => Value::str("<no value>"),
            v => v.clone(),
        })
        .collect();
    fmt::sprint(&mapped)
}

/// `template.HTMLEscapeString`.
pub(crate) fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => o.push('\u{FFFD}'),
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c => o.push(c),
        }
    }
    o
}

/// `template.JSEscapeString`.
pub(crate) fn js_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x80 => {
                if (c as u32) < 0x20 {
                    o.push_str(&format!("\\u{:04X}", c as u32));
                } else {
                    o.push(c);
                }
            }
            c if fmt::is_print(c) => o.push(c),
            c => o.push_str(&format!("\\u{:04X}", c as u32)),
        }
    }
    o
}

/// `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}
