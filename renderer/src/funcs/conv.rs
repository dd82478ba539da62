//! Conversions: `atoi`, `int`, `int64`, `float64`, `toString`, `toStrings`, `toDecimal`.
//!
//! Also the casts other Sprig families share (`pub(super)`):
//! - [`to_int64`]: `spf13/cast.ToInt64` (nil → 0, bools → 0/1, floats truncate, strings parse
//!   with Go's base prefixes after trimming a zero decimal part, anything else → 0);
//! - [`to_float64`]: `cast.ToFloat64`;
//! - [`strval`]: Sprig's `strval` (`fmt.Sprintf("%v")`, but `[]byte` as text);
//! - [`strslice`]: Sprig's `strslice` (lists → their non-nil items as strings).

use std::collections::HashMap;

use super::args;
use crate::fmt::sprint_v;
use crate::value::{Func, FuncCtx, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("atoi", atoi);
    m.insert("int", int);
    m.insert("int64", int64);
    m.insert("float64", float64);
    m.insert("toString", to_string);
    m.insert("toStrings", to_strings);
    m.insert("toDecimal", to_decimal);
}

/// Go's conversion of a float64 to int64 on amd64: truncation, and the "integer indefinite"
/// value `i64::MIN` for NaN and out-of-range values.
pub(super) fn f64_to_i64(f: f64) -> i64 {
    if f.is_nan() || f >= 9.223_372_036_854_775_807e18 || f < -9.223_372_036_854_775_808e18 {
        i64::MIN
    } else {
        f as i64
    }
}

/// `cast.ToInt64(v)` (errors swallowed: 0).
pub(super) fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Nil => 0,
        Value::Bool(b) => i64::from(*b),
        Value::Int(i) => *i,
        Value::Float(f) => f64_to_i64(*f),
        Value::String(s) => parse_int_base0(trim_zero_decimal(s)).unwrap_or(0),
        _ => 0,
    }
}

/// `cast.ToFloat64(v)` (errors swallowed: 0).
pub(super) fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Nil => 0.0,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::String(s) => parse_go_float(s).unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Sprig's `strval`: strings as is, `[]byte` as text, everything else with `%v`.
pub(super) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        v => sprint_v(v),
    }
}

/// Sprig's `strslice`: a list's non-nil items as strings; nil → empty; a scalar → one item.
pub(super) fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .iter()
            .filter(|x| !matches!(x, Value::Nil))
            .map(strval)
            .collect(),
        Value::Bytes(b) => b.iter().map(|x| x.to_string()).collect(),
        Value::Nil => Vec::new(),
        v => vec![strval(v)],
    }
}

/// cast's `trimZeroDecimal`: "12.000" → "12" (only when every decimal digit is 0).
fn trim_zero_decimal(s: &str) -> &str {
    let b = s.as_bytes();
    let mut found_zero = false;
    for i in (0..b.len()).rev() {
        match b[i] {
            b'.' => {
                if found_zero {
                    return &s[..i];
                }
            }
            b'0' => found_zero = true,
            _ => return s,
        }
    }
    s
}

/// Why a Go integer parse failed.
#[derive(Debug, PartialEq)]
pub(super) enum IntError {
    Syntax,
    /// Out of range; carries the clamped value Go returns with the error.
    Range(i64),
}

/// `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b`/leading-`0` prefixes,
/// underscores between digits.
pub(super) fn parse_int_base0(s: &str) -> Result<i64, IntError> {
    let (neg, body) = split_sign(s);
    let (base, digits, prefixed) = if let Some(r) = strip_prefix_ci(body, "0x") {
        (16, r, true)
    } else if let Some(r) = strip_prefix_ci(body, "0o") {
        (8, r, true)
    } else if let Some(r) = strip_prefix_ci(body, "0b") {
        (2, r, true)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..], true)
    } else {
        (10, body, false)
    };
    if body.contains('_') && !underscore_ok(body, prefixed) {
        return Err(IntError::Syntax);
    }
    let digits: String = digits.chars().filter(|c| *c != '_').collect();
    parse_digits(&digits, base, neg)
}

/// `strconv.ParseInt(s, base, 64)` for an explicit base (no prefixes, no underscores).
pub(super) fn parse_int_base(s: &str, base: u32) -> Result<i64, IntError> {
    let (neg, body) = split_sign(s);
    parse_digits(body, base, neg)
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(r) = s.strip_prefix('-') {
        (true, r)
    } else if let Some(r) = s.strip_prefix('+') {
        (false, r)
    } else {
        (false, s)
    }
}

fn strip_prefix_ci<'a>(s: &'a str, p: &str) -> Option<&'a str> {
    if s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p) {
        Some(&s[p.len()..])
    } else {
        None
    }
}

/// Go's `underscoreOK`: underscores only between digits (or right after a base prefix).
fn underscore_ok(s: &str, prefixed: bool) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    // 'saw' is '^' at start, '0' after a digit or prefix, '_' after an underscore.
    let mut saw = b'^';
    if prefixed && b.len() >= 2 && b[0] == b'0' {
        let c = b[1].to_ascii_lowercase();
        if c == b'x' || c == b'o' || c == b'b' {
            i = 2;
        } else {
            i = 1;
        }
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_hexdigit() {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

fn parse_digits(digits: &str, base: u32, neg: bool) -> Result<i64, IntError> {
    if digits.is_empty() {
        return Err(IntError::Syntax);
    }
    let mut acc: u128 = 0;
    let mut overflow = false;
    for c in digits.chars() {
        let d = c.to_digit(base).ok_or(IntError::Syntax)?;
        if !overflow {
            acc = acc * u128::from(base) + u128::from(d);
            if acc > 1u128 << 64 {
                overflow = true;
            }
        }
    }
    let limit: u128 = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
    if overflow || acc > limit {
        return Err(IntError::Range(if neg { i64::MIN } else { i64::MAX }));
    }
    if neg {
        Ok((acc as i128).wrapping_neg() as i64)
    } else {
        Ok(acc as i64)
    }
}

/// `strconv.ParseFloat(s, 64)` for decimal input (and Inf/NaN); `None` on error (including
/// out of range, which Go reports as an error).
pub(super) fn parse_go_float(s: &str) -> Option<f64> {
    let (neg, body) = split_sign(s);
    let lower = body.to_ascii_lowercase();
    let v = match lower.as_str() {
        "inf" | "infinity" => f64::INFINITY,
        "nan" => {
            if s.starts_with(['+', '-']) {
                return None;
            }
            f64::NAN
        }
        _ => {
            if body.is_empty()
                || !body.bytes().all(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-' | b'_')
                })
                || body.starts_with(['+', '-'])
            {
                return None;
            }
            // Go accepts underscores between digits, as in Go literals.
            if body.contains('_') && !underscore_ok(body, false) {
                return None;
            }
            let digits: String = body.chars().filter(|c| *c != '_').collect();
            let f: f64 = digits.parse().ok()?;
            if f.is_infinite() {
                return None;
            }
            f
        }
    };
    Some(if neg { -v } else { v })
}

fn atoi(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("atoi", a, 1)?;
    let s = args::string(a, 0)?;
    // strconv.Atoi: decimal only; range errors return the clamped value, syntax errors 0.
    Ok(Value::Int(match parse_int_base(&s, 10) {
        Ok(i) => i,
        Err(IntError::Range(i)) => i,
        Err(IntError::Syntax) => 0,
    }))
}

fn int(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("int", a, 1)?;
    Ok(Value::Int(to_int64(&a[0])))
}

fn int64(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("int64", a, 1)?;
    Ok(Value::Int(to_int64(&a[0])))
}

fn float64(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("float64", a, 1)?;
    Ok(Value::Float(to_float64(&a[0])))
}

fn to_string(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("toString", a, 1)?;
    Ok(Value::string(strval(&a[0])))
}

fn to_strings(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("toStrings", a, 1)?;
    Ok(Value::list(
        strslice(&a[0]).into_iter().map(Value::string).collect(),
    ))
}

fn to_decimal(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("toDecimal", a, 1)?;
    // strconv.ParseInt(fmt.Sprint(v), 8, 64), 0 on any error.
    Ok(Value::Int(parse_int_base(&sprint_v(&a[0]), 8).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: Func, a: &[Value]) -> Value {
        f(&FuncCtx::default(), a).expect("call")
    }

    #[test]
    fn cast_to_int64_follows_spf13_cast() {
        assert_eq!(to_int64(&Value::str("12")), 12);
        assert_eq!(to_int64(&Value::str("12.000")), 12);
        assert_eq!(to_int64(&Value::str("12.5")), 0);
        assert_eq!(to_int64(&Value::str("0x1F")), 31);
        assert_eq!(to_int64(&Value::str("010")), 8);
        assert_eq!(to_int64(&Value::str("0b101")), 5);
        assert_eq!(to_int64(&Value::str("1_000")), 1000);
        assert_eq!(to_int64(&Value::str("_1")), 0);
        assert_eq!(to_int64(&Value::str("-7")), -7);
        assert_eq!(to_int64(&Value::str("abc")), 0);
        assert_eq!(to_int64(&Value::Float(2.9)), 2);
        assert_eq!(to_int64(&Value::Float(-2.9)), -2);
        assert_eq!(to_int64(&Value::Float(1e300)), i64::MIN);
        assert_eq!(to_int64(&Value::Bool(true)), 1);
        assert_eq!(to_int64(&Value::Nil), 0);
        assert_eq!(to_int64(&Value::list(vec![])), 0);
    }

    #[test]
    fn cast_to_float64() {
        assert_eq!(to_float64(&Value::str("1.5")), 1.5);
        assert_eq!(to_float64(&Value::str("1e3")), 1000.0);
        assert_eq!(to_float64(&Value::str("x")), 0.0);
        assert_eq!(to_float64(&Value::str("1e400")), 0.0);
        assert_eq!(to_float64(&Value::Int(3)), 3.0);
        assert_eq!(to_float64(&Value::Bool(true)), 1.0);
    }

    #[test]
    fn atoi_and_to_decimal() {
        assert_eq!(
            call(atoi, &[Value::str("42")]).to_data(),
            crate::Data::Int(42)
        );
        assert_eq!(
            call(atoi, &[Value::str("4x")]).to_data(),
            crate::Data::Int(0)
        );
        assert_eq!(
            call(atoi, &[Value::str("99999999999999999999")]).to_data(),
            crate::Data::Int(i64::MAX)
        );
        let e = atoi(&FuncCtx::default(), &[Value::Float(1.0)]).unwrap_err();
        assert_eq!(
            e.message,
            "wrong type for value; expected string; got float64"
        );
        assert_eq!(
            call(to_decimal, &[Value::str("0777")]).to_data(),
            crate::Data::Int(511)
        );
        assert_eq!(
            call(to_decimal, &[Value::Int(755)]).to_data(),
            crate::Data::Int(493)
        );
        assert_eq!(
            call(to_decimal, &[Value::str("9")]).to_data(),
            crate::Data::Int(0)
        );
    }

    #[test]
    fn to_strings_drops_nils() {
        let l = Value::list(vec![
            Value::Int(1),
            Value::Nil,
            Value::str("a"),
            Value::Float(1.5),
        ]);
        assert_eq!(sprint_v(&call(to_strings, &[l])), "[1 a 1.5]");
        assert_eq!(sprint_v(&call(to_strings, &[Value::Nil])), "[]");
        assert_eq!(sprint_v(&call(to_strings, &[Value::Int(3)])), "[3]");
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let i = Value::Int;
        let f = Value::Float;
        let vals = vec![
            Value::Nil,
            Value::Bool(true),
            i(-3),
            f(2.7),
            f(-2.7),
            f(1e20),
            s("42"),
            s(" 42"),
            s("42.000"),
            s("42.5"),
            s("0x1f"),
            s("0X1F"),
            s("0o17"),
            s("017"),
            s("0b11"),
            s("1_000"),
            s("1__0"),
            s("_1"),
            s("+5"),
            s("-0"),
            s("1e3"),
            s(".5"),
            s("5."),
            s("inf"),
            s("-Infinity"),
            s("nan"),
            s("1e400"),
            s("9223372036854775808"),
            s("abc"),
            s(""),
            Value::list(vec![i(1)]),
            Value::empty_map(),
        ];
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for v in &vals {
            cases.push(("int", vec![v.clone()]));
            cases.push(("int64", vec![v.clone()]));
            cases.push(("float64", vec![v.clone()]));
            cases.push(("toString", vec![v.clone()]));
            cases.push(("toStrings", vec![v.clone()]));
            cases.push(("toDecimal", vec![v.clone()]));
            if let Value::String(_) = v {
                cases.push(("atoi", vec![v.clone()]));
            }
        }
        cases.extend([
            (
                "toStrings",
                vec![Value::list(vec![
                    i(1),
                    Value::Nil,
                    f(1.5),
                    s("x"),
                    Value::list(vec![]),
                ])],
            ),
            ("toDecimal", vec![s("0755")]),
            ("toDecimal", vec![s("-17")]),
            ("toDecimal", vec![i(777)]),
            ("toDecimal", vec![f(7.5)]),
        ]);
        super::super::reflect::oracle::check(&cases);
    }
}
