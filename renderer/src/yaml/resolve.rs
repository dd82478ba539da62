//! go-yaml v2's implicit typing of scalars (YAML 1.1): `resolve(tag, text)`.
//!
//! - booleans: `y Y yes Yes YES true True TRUE on On ON` and the `n`/`no`/`false`/`off` twins;
//! - null: empty, `~`, `null`, `Null`, `NULL`;
//! - `.inf`, `.nan` and their case variants;
//! - integers through Go's `strconv.ParseInt(s, 0, 64)` after removing every `_` (so `0x1F`,
//!   `0o17`, `017` (octal), `0b101`, `+5`), then `ParseUint`, then a YAML-style float;
//! - anything else is a string.

/// A scalar as go-yaml decodes it into `interface{}`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
}

pub(crate) const STR_TAG: &str = "tag:yaml.org,2002:str";
pub(crate) const BINARY_TAG: &str = "tag:yaml.org,2002:binary";
const BOOL_TAG: &str = "tag:yaml.org,2002:bool";
const INT_TAG: &str = "tag:yaml.org,2002:int";
const FLOAT_TAG: &str = "tag:yaml.org,2002:float";
const NULL_TAG: &str = "tag:yaml.org,2002:null";
const TIMESTAMP_TAG: &str = "tag:yaml.org,2002:timestamp";
pub(crate) const MERGE_TAG: &str = "tag:yaml.org,2002:merge";

fn short_tag(tag: &str) -> String {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(s) => format!("!!{s}"),
        None => tag.to_string(),
    }
}

/// The tag go-yaml infers for a resolved value.
fn tag_of(s: &Scalar, timestamp: bool) -> &'static str {
    if timestamp {
        return TIMESTAMP_TAG;
    }
    match s {
        Scalar::Null => NULL_TAG,
        Scalar::Bool(_) => BOOL_TAG,
        Scalar::Int(_) | Scalar::Uint(_) => INT_TAG,
        Scalar::Float(_) => FLOAT_TAG,
        Scalar::Str(_) => STR_TAG,
    }
}

/// Resolves a scalar the way go-yaml's `resolve` does, then applies the `interface{}` rule
/// (timestamps stay strings). `tag` is the full tag or empty. Errors are go-yaml's text
/// without the `yaml: ` prefix.
pub(crate) fn resolve(tag: &str, text: &str) -> Result<Scalar, String> {
    let resolvable = matches!(
        tag,
        "" | STR_TAG | BOOL_TAG | INT_TAG | FLOAT_TAG | NULL_TAG | TIMESTAMP_TAG
    );
    if !resolvable {
        return Ok(Scalar::Str(text.to_string()));
    }
    let (out, is_ts) = implicit(tag, text);
    let rtag = tag_of(&out, is_ts);
    if tag.is_empty() || tag == rtag || tag == STR_TAG {
        return Ok(if is_ts {
            Scalar::Str(text.to_string())
        } else {
            out
        });
    }
    // go-yaml converts int and int64 to a requested float, not uint64.
    if let (FLOAT_TAG, Scalar::Int(i)) = (tag, &out) {
        return Ok(Scalar::Float(*i as f64));
    }
    Err(format!(
        "cannot decode {} `{}` as a {}",
        short_tag(rtag),
        text,
        short_tag(tag)
    ))
}

/// Whether go-yaml would read the plain text `s` back as a string (the encoder quotes it
/// otherwise): not a bool, null, number, timestamp or merge key.
pub(crate) fn plain_is_str(s: &str) -> bool {
    matches!(implicit("", s), (Scalar::Str(_), false))
}

/// Whether go-yaml reads the plain text `s` as null (`null`, `~`, empty…): as a mapping key,
/// Helm's YAML-to-JSON conversion rejects it.
pub(crate) fn plain_is_null(s: &str) -> bool {
    matches!(implicit("", s), (Scalar::Null, _))
}

/// The implicit resolution; the flag says "timestamp".
fn implicit(tag: &str, s: &str) -> (Scalar, bool) {
    let str_out = || (Scalar::Str(s.to_string()), false);
    if tag == STR_TAG {
        return str_out();
    }
    let hint = match s.as_bytes().first() {
        None => b'N',
        Some(b'+' | b'-') => b'S',
        Some(b'0'..=b'9') => b'D',
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => b'M',
        Some(b'.') => b'.',
        _ => return str_out(),
    };
    if let Some(v) = lookup(s) {
        return (v, false);
    }
    match hint {
        b'.' => {
            if let Some(f) = go_parse_float(s) {
                return (Scalar::Float(f), false);
            }
        }
        b'D' | b'S' => {
            if (tag.is_empty() || tag == TIMESTAMP_TAG) && looks_like_timestamp(s) {
                return (Scalar::Str(s.to_string()), true);
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            if let Some(i) = go_parse_int(&plain) {
                return (Scalar::Int(i), false);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return (Scalar::Uint(u), false);
            }
            if yaml_style_float(&plain) {
                if let Some(f) = go_parse_float(&plain) {
                    return (Scalar::Float(f), false);
                }
            }
            if let Some(rest) = plain.strip_prefix("0b") {
                if let Some(v) = digits_in_base(rest, 2) {
                    return (int_or_uint(v, false), false);
                }
            } else if let Some(rest) = plain.strip_prefix("-0b") {
                if let Some(v) = digits_in_base(rest, 2) {
                    if v <= 1u128 << 63 {
                        return (Scalar::Int((v as i128).wrapping_neg() as i64), false);
                    }
                }
            }
        }
        _ => {}
    }
    str_out()
}

fn int_or_uint(v: u128, neg: bool) -> Scalar {
    if neg {
        return Scalar::Int((v as i128).wrapping_neg() as i64);
    }
    if v <= i64::MAX as u128 {
        Scalar::Int(v as i64)
    } else {
        Scalar::Uint(v as u64)
    }
}

fn lookup(s: &str) -> Option<Scalar> {
    Some(match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Scalar::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Scalar::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Scalar::Null,
        ".nan" | ".NaN" | ".NAN" => Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Scalar::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Scalar::Float(f64::NEG_INFINITY),
        "<<" => Scalar::Str("<<".into()),
        _ => return None,
    })
}

/// Digits of `s` in `base` (no sign, no prefix, at least one digit), up to u64 range.
fn digits_in_base(s: &str, base: u32) -> Option<u128> {
    if s.is_empty() {
        return None;
    }
    let mut v: u128 = 0;
    for c in s.chars() {
        let d = c.to_digit(base)?;
        v = v * base as u128 + d as u128;
        if v > u64::MAX as u128 {
            return None;
        }
    }
    Some(v)
}

/// The magnitude of an unsigned Go integer literal with base prefix detection (base 0).
fn go_magnitude(s: &str) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b'0' {
        match b[1] {
            b'x' | b'X' => return digits_in_base(&s[2..], 16),
            b'o' | b'O' => return digits_in_base(&s[2..], 8),
            b'b' | b'B' => return digits_in_base(&s[2..], 2),
            _ => return digits_in_base(&s[1..], 8),
        }
    }
    digits_in_base(s, 10)
}

/// `strconv.ParseInt(s, 0, 64)`.
pub(crate) fn go_parse_int(s: &str) -> Option<i64> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let m = go_magnitude(rest)?;
    if neg {
        if m > 1u128 << 63 {
            return None;
        }
        Some((m as i128).wrapping_neg() as i64)
    } else if m > i64::MAX as u128 {
        None
    } else {
        Some(m as i64)
    }
}

/// `strconv.ParseUint(s, 0, 64)` (no sign allowed).
fn go_parse_uint(s: &str) -> Option<u64> {
    if s.starts_with(['+', '-']) {
        return None;
    }
    go_magnitude(s).map(|m| m as u64)
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let st = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - st
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// `strconv.ParseFloat(s, 64)` for decimal text: `None` on syntax error or overflow.
pub(crate) fn go_parse_float(s: &str) -> Option<f64> {
    // Rust accepts "inf"/"nan" words; Go does too, but callers only pass text starting with a
    // digit, sign or dot, and go-yaml never reaches here with those words.
    let body = s.trim_start_matches(['+', '-']);
    if body.is_empty() || !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if f.is_infinite() {
        return None;
    }
    Some(f)
}

/// go-yaml's quick timestamp check followed by the formats it accepts (`2006-1-2`,
/// `2006-1-2T15:4:5.999999999Z07:00`, `2006-1-2 15:4:5.999999999`).
fn looks_like_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let rest = &s[5..];
    let (date, time) = match rest.find(['T', 't', ' ']) {
        Some(i) => (&rest[..i], Some((&rest[i..i + 1], &rest[i + 1..]))),
        None => (rest, None),
    };
    let mut parts = date.split('-');
    let (Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let num = |p: &str, max: u32| {
        !p.is_empty()
            && p.len() <= 2
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|v| (1..=max).contains(&v))
    };
    if !num(m, 12) || !num(d, 31) {
        return false;
    }
    let Some((sep, t)) = time else {
        return true;
    };
    // Time part: H:M:S[.frac] then a zone (Z or ±hh:mm) for T/t, nothing for a space.
    let (hms, zone) = if sep == " " {
        (t, "")
    } else {
        match t.find(['Z', '+', '-']) {
            Some(i) => (&t[..i], &t[i..]),
            None => return false,
        }
    };
    let (hms, frac) = match hms.split_once('.') {
        Some((a, f)) => (a, Some(f)),
        None => (hms, None),
    };
    if frac.is_some_and(|f| f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let mut it = hms.split(':');
    let (Some(h), Some(mi), Some(se), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return false;
    };
    let clock = |p: &str, max: u32| {
        !p.is_empty()
            && p.len() <= 2
            && p.bytes().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|v| v <= max)
    };
    if !clock(h, 23) || !clock(mi, 59) || !clock(se, 59) {
        return false;
    }
    match zone {
        "" | "Z" => true,
        z => {
            let zb = z.as_bytes();
            zb.len() == 6
                && zb[3] == b':'
                && zb[1..3].iter().all(u8::is_ascii_digit)
                && zb[4..6].iter().all(u8::is_ascii_digit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> Scalar {
        resolve("", s).unwrap()
    }

    #[test]
    fn booleans_and_nulls() {
        for t in [
            "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
        ] {
            assert_eq!(r(t), Scalar::Bool(true), "{t}");
        }
        for t in [
            "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False",
        ] {
            assert_eq!(r(t), Scalar::Bool(false), "{t}");
        }
        for t in ["yEs", "oN", "tRue", "nO", "Yes!"] {
            assert_eq!(r(t), Scalar::Str(t.into()), "{t}");
        }
        for t in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(r(t), Scalar::Null, "{t}");
        }
        assert_eq!(r("nULL"), Scalar::Str("nULL".into()));
    }

    #[test]
    fn numbers() {
        assert_eq!(r("0x1F"), Scalar::Int(31));
        assert_eq!(r("0o17"), Scalar::Int(15));
        assert_eq!(r("017"), Scalar::Int(15));
        assert_eq!(r("08"), Scalar::Float(8.0));
        assert_eq!(r("0b101"), Scalar::Int(5));
        assert_eq!(r("-0b101"), Scalar::Int(-5));
        assert_eq!(r("+5"), Scalar::Int(5));
        assert_eq!(r("1_000"), Scalar::Int(1000));
        assert_eq!(r("1e3"), Scalar::Float(1000.0));
        assert_eq!(r("1."), Scalar::Float(1.0));
        assert_eq!(r(".5"), Scalar::Float(0.5));
        assert_eq!(r("+.5"), Scalar::Float(0.5));
        assert_eq!(r("1e400"), Scalar::Str("1e400".into()));
        assert_eq!(r("18446744073709551615"), Scalar::Uint(u64::MAX));
        assert_eq!(r("-9223372036854775808"), Scalar::Int(i64::MIN));
        assert_eq!(r("0x"), Scalar::Str("0x".into()));
        assert_eq!(r("1.2.3"), Scalar::Str("1.2.3".into()));
        assert_eq!(r("-inf"), Scalar::Str("-inf".into()));
        assert!(matches!(r(".nan"), Scalar::Float(f) if f.is_nan()));
        assert_eq!(r("2020-01-01"), Scalar::Str("2020-01-01".into()));
    }

    #[test]
    fn tags() {
        assert_eq!(resolve(STR_TAG, "12").unwrap(), Scalar::Str("12".into()));
        assert_eq!(resolve(FLOAT_TAG, "12").unwrap(), Scalar::Float(12.0));
        assert_eq!(resolve(INT_TAG, "12").unwrap(), Scalar::Int(12));
        assert_eq!(
            resolve(INT_TAG, "abc").unwrap_err(),
            "cannot decode !!str `abc` as a !!int"
        );
        assert_eq!(resolve("!foo", "12").unwrap(), Scalar::Str("12".into()));
    }
}
