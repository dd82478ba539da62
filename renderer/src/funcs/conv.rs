//! Conversions: `atoi`, `int`, `int64`, `float64`, `toString`, `toStrings`, `toDecimal`.
//!
//! Also the casts other Sprig families share (`pub(super)`):
//!
//! - `to_int64`: `spf13/cast.ToInt64` (nil → 0, bools → 0/1, floats truncate, strings parse
//!   with Go's base prefixes after trimming a zero decimal part, anything else → 0);
//! - `to_float64`: `cast.ToFloat64`;
//! - `strval`: Sprig's `strval` (`fmt.Sprintf("%v")`, but `[]byte` as text);
//! - `strslice`: Sprig's `strslice` (lists → their non-nil items as strings);
//! - `strcase`: naming-case conversions (`snakecase`, `kebabcase`, `camelcase`).

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
    // 2^63 and -2^63 bound the convertible range.
    if f.is_nan() || !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f) {
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

/// Case conversions of huandu/xstrings v1.5 (`ToSnakeCase`, `ToKebabCase`, `ToPascalCase`).
pub(super) mod strcase {
    /// Space, `_` and `-` join words.
    fn is_connector(c: char) -> bool {
        c == '-' || c == '_' || c.is_whitespace()
    }

    /// xstrings' `isAlphabet`: letters except the common CJK ideographs.
    fn is_alphabet(c: char) -> bool {
        const CJK: [(char, char); 7] = [
            ('\u{4E00}', '\u{9FCC}'),
            ('\u{3400}', '\u{4DB5}'),
            ('\u{20000}', '\u{2A6D6}'),
            ('\u{2A700}', '\u{2B734}'),
            ('\u{2B740}', '\u{2B81D}'),
            ('\u{F900}', '\u{FAFF}'),
            ('\u{2F800}', '\u{2FA1F}'),
        ];
        c.is_alphabetic() && !CJK.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
    }

    /// Go's `unicode.IsPunct` (category P), approximated beyond Latin-1 by the common blocks.
    fn is_punct(c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_punctuation()
                && !matches!(c, '$' | '+' | '<' | '=' | '>' | '^' | '`' | '|' | '~');
        }
        matches!(c, '¡' | '§' | '«' | '¶' | '·' | '»' | '¿' | '\u{2010}'..='\u{2027}'
            | '\u{2030}'..='\u{2043}' | '\u{2045}'..='\u{2051}' | '\u{2053}'..='\u{205E}'
            | '\u{3001}'..='\u{3003}' | '\u{3008}'..='\u{3011}' | '\u{FF01}'..='\u{FF03}'
            | '\u{FF05}'..='\u{FF0A}' | '\u{FF0C}'..='\u{FF0F}' | '\u{FF1A}' | '\u{FF1B}'
            | '\u{FF1F}' | '\u{FF20}')
    }

    fn is_upper(c: char) -> bool {
        c.is_uppercase()
    }

    fn is_number(c: char) -> bool {
        c.is_numeric()
    }

    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        /// Past the end.
        End,
        Number,
        Upper,
        Alphabet,
        Connector,
        Punct,
        Other,
    }

    /// Splits `s` into xstrings' words: connector runs, punctuation runs, an upper-case letter
    /// with the lower-case letters after it (or a run of capitals, leaving the last one to the
    /// next word when lower case follows: `HTTPServer` → `HTTP`, `Server`), lower-case runs,
    /// number runs, and runs of anything else.
    fn words(s: &str) -> Vec<(Kind, &str)> {
        let cs: Vec<(usize, char)> = s.char_indices().collect();
        let mut out = Vec::new();
        let mut i = 0;
        let run = |mut j: usize, pred: &dyn Fn(char) -> bool| {
            while j < cs.len() && pred(cs[j].1) {
                j += 1;
            }
            j
        };
        while i < cs.len() {
            let c = cs[i].1;
            let (kind, end) = if is_connector(c) {
                (Kind::Connector, run(i + 1, &is_connector))
            } else if is_punct(c) {
                (Kind::Punct, run(i + 1, &is_punct))
            } else if is_upper(c) {
                let next = cs.get(i + 1).map(|x| x.1);
                match next {
                    Some(n) if is_upper(n) => {
                        let j = run(i + 1, &is_upper);
                        if j < cs.len() && is_alphabet(cs[j].1) {
                            (Kind::Upper, j - 1)
                        } else {
                            (Kind::Upper, j)
                        }
                    }
                    Some(n) if is_alphabet(n) => (
                        Kind::Upper,
                        run(i + 1, &|x: char| is_alphabet(x) && !is_upper(x)),
                    ),
                    _ => (Kind::Upper, i + 1),
                }
            } else if is_alphabet(c) {
                (
                    Kind::Alphabet,
                    run(i + 1, &|x: char| is_alphabet(x) && !is_upper(x)),
                )
            } else if is_number(c) {
                (Kind::Number, run(i + 1, &is_number))
            } else {
                (
                    Kind::Other,
                    run(i + 1, &|x: char| {
                        !(is_connector(x) || is_alphabet(x) || is_number(x) || is_punct(x))
                    }),
                )
            };
            let from = cs[i].0;
            let to = cs.get(end).map_or(s.len(), |x| x.0);
            out.push((kind, &s[from..to]));
            i = end;
        }
        out
    }

    /// Writes a word: capitals lowered and connectors replaced in upper-case and connector
    /// words, other words as they are.
    fn put(out: &mut String, (kind, w): (Kind, &str), conn: char) {
        if kind != Kind::Upper && kind != Kind::Connector {
            out.push_str(w);
            return;
        }
        for c in w.chars() {
            if is_connector(c) {
                out.push(conn);
            } else {
                out.push(super::super::strings::map_case(c, false));
            }
        }
    }

    /// `ToSnakeCase` (`conn` = `_`) and `ToKebabCase` (`conn` = `-`).
    pub(in crate::funcs) fn lower_joined(s: &str, conn: char) -> String {
        let ws = words(s);
        let mut out = String::with_capacity(s.len() + 8);
        if ws.is_empty() {
            return out;
        }
        let at = |p: usize| ws.get(p).copied().unwrap_or((Kind::End, ""));
        let mut p = 0;
        let sep = |k: Kind| !matches!(k, Kind::End | Kind::Connector | Kind::Punct);
        // Each round writes the current word, then decides what joins it to the next.
        while p + 1 < ws.len() {
            let (kind, _) = at(p);
            if kind != Kind::Connector {
                put(&mut out, at(p), conn);
            }
            let prev = at(p);
            p += 1;
            match prev.0 {
                Kind::Number => {
                    // Letters and digits after a number stay glued to it.
                    while matches!(at(p).0, Kind::Alphabet | Kind::Number) {
                        put(&mut out, at(p), conn);
                        p += 1;
                    }
                    if sep(at(p).0) {
                        out.push(conn);
                    }
                }
                Kind::Connector => put(&mut out, prev, conn),
                Kind::Punct => {}
                _ => {
                    if at(p).0 != Kind::Number {
                        if sep(at(p).0) {
                            out.push(conn);
                        }
                        continue;
                    }
                    if p + 1 >= ws.len() {
                        continue;
                    }
                    let num = at(p);
                    p += 1;
                    if at(p).0 != Kind::Alphabet {
                        // "Bld4Floor" → "bld4_floor": the number ends the word before it.
                        put(&mut out, num, conn);
                        if at(p).0 != Kind::Connector && at(p).0 != Kind::Punct {
                            out.push(conn);
                        }
                        continue;
                    }
                    // "HTTP2xx" → "http_2xx": lower case after a number starts a new word.
                    out.push(conn);
                    put(&mut out, num, conn);
                    while matches!(at(p).0, Kind::Alphabet | Kind::Number) {
                        put(&mut out, at(p), conn);
                        p += 1;
                    }
                    if sep(at(p).0) {
                        out.push(conn);
                    }
                }
            }
        }
        put(&mut out, at(p), conn);
        out
    }

    /// `ToPascalCase`: words joined by connectors get an upper-case first letter; capitals
    /// right after a word's upper-case first letter are lowered (`GOLANG` → `Golang`) until
    /// a non-capital appears; leading connectors and connector runs keep all but one rune.
    pub(in crate::funcs) fn pascal(s: &str) -> String {
        let cs: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < cs.len() && is_connector(cs[i]) {
            out.push(cs[i]);
            i += 1;
        }
        if i == cs.len() {
            // xstrings writes the last rune once more when nothing but connectors was seen.
            if let Some(c) = cs.last() {
                out.push(*c);
            }
            return out;
        }
        let mut first_upper = is_upper(cs[i]);
        let mut cur = super::super::strings::map_case(cs[i], true);
        for &next in &cs[i + 1..] {
            let prev = cur;
            cur = next;
            if is_connector(cur) && is_connector(prev) {
                out.push(prev);
                continue;
            }
            if is_connector(prev) {
                first_upper = is_upper(cur);
                cur = super::super::strings::map_case(cur, true);
            } else {
                if first_upper {
                    if is_upper(cur) {
                        cur = super::super::strings::map_case(cur, false);
                    } else {
                        first_upper = false;
                    }
                }
                out.push(prev);
            }
        }
        out.push(cur);
        out
    }
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
