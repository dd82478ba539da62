//! JSON exactly as Go's `encoding/json` reads and writes it (`toJson`, `fromJson`, schema files).
//!
//! - `to_json`: `json.Marshal` — map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped as
//!   `\u003c`…, floats in Go's format ('f' unless the exponent is < -6 or >= 21, then `1e-7`,
//!   `1e+21`).
//! - `to_json_opts`: the same with HTML escaping off (`toRawJson`) and/or `MarshalIndent`
//!   (`toPrettyJson`).
//! - `parse`: `json.Unmarshal` into `interface{}` (numbers float64) with Go's error messages.
//! - `go_format_float`: `strconv.FormatFloat(f, fmt, -1, bits)`, shared with the YAML code.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::value::Data;

/// Nesting limits of this recursive implementation (Go's decoder allows 10000 levels).
const MAX_PARSE_DEPTH: usize = 1000;
const MAX_ENCODE_DEPTH: usize = 1000;

/// `json.Marshal`: sorted keys, HTML-escaped `<`, `>`, `&`, Go's float format.
/// Non-finite floats (which `json.Marshal` refuses) are written as `null`; use `try_to_json`
/// to see the error instead.
pub fn to_json(d: &Data) -> String {
    try_to_json(d, true, "").unwrap_or_else(|_| "null".into())
}

/// `json.Marshal` (or `json.MarshalIndent(v, "", indent)` when `indent` is non-empty), with
/// `SetEscapeHTML(escape_html)`. Errors are Go's text (`json: unsupported value: NaN`).
pub fn try_to_json(d: &Data, escape_html: bool, indent: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut e = Encoder {
        out: &mut out,
        escape_html,
        indent,
    };
    e.value(d, 0)?;
    Ok(out)
}

struct Encoder<'a> {
    out: &'a mut String,
    escape_html: bool,
    indent: &'a str,
}

impl Encoder<'_> {
    fn newline(&mut self, depth: usize) {
        if !self.indent.is_empty() {
            self.out.push('\n');
            for _ in 0..depth {
                self.out.push_str(self.indent);
            }
        }
    }

    fn value(&mut self, d: &Data, depth: usize) -> Result<(), String> {
        if depth > MAX_ENCODE_DEPTH {
            return Err("json: unsupported value: exceeded max depth".into());
        }
        match d {
            Data::Null => self.out.push_str("null"),
            Data::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Data::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Data::Float(f) => {
                if !f.is_finite() {
                    return Err(format!(
                        "json: unsupported value: {}",
                        go_format_float(*f, 'g', 64)
                    ));
                }
                self.out.push_str(&json_float(*f));
            }
            Data::String(s) => write_string(self.out, s, self.escape_html),
            Data::List(l) => {
                if l.is_empty() {
                    self.out.push_str("[]");
                    return Ok(());
                }
                self.out.push('[');
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    self.value(v, depth + 1)?;
                }
                self.newline(depth);
                self.out.push(']');
            }
            Data::Map(m) => {
                if m.is_empty() {
                    self.out.push_str("{}");
                    return Ok(());
                }
                self.out.push('{');
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.newline(depth + 1);
                    write_string(self.out, k, self.escape_html);
                    self.out.push(':');
                    if !self.indent.is_empty() {
                        self.out.push(' ');
                    }
                    self.value(v, depth + 1)?;
                }
                self.newline(depth);
                self.out.push('}');
            }
        }
        Ok(())
    }
}

/// A JSON string literal as encoding/json writes it.
pub fn write_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' if escape_html => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// encoding/json's float64 text.
pub fn json_float(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = go_format_float(f, 'e', 64);
        // Go cleans `e-07` to `e-7` (only for negative two-digit exponents starting with 0).
        let b = s.as_bytes();
        let n = b.len();
        if n >= 4 && b[n - 4] == b'e' && b[n - 3] == b'-' && b[n - 2] == b'0' {
            let mut t = s[..n - 2].to_string();
            t.push(b[n - 1] as char);
            return t;
        }
        return s;
    }
    go_format_float(f, 'f', 64)
}

/// Shortest decimal digits and decimal-point position of `f` (as float32 when `bits == 32`):
/// value = 0.DIGITS × 10^dp.
fn shortest_digits(f: f64, bits: u32) -> (String, i32) {
    let s = if bits == 32 {
        format!("{:e}", (f as f32).abs())
    } else {
        format!("{:e}", f.abs())
    };
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let digits = digits.trim_end_matches('0').to_string();
    if digits.is_empty() {
        return ("0".into(), 1);
    }
    (digits, exp + 1)
}

/// `strconv.FormatFloat(f, fmt, -1, bits)` for `fmt` in `'e'`, `'f'`, `'g'`.
pub fn go_format_float(f: f64, fmt: char, bits: u32) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative();
    let (digits, dp) = if f == 0.0 {
        ("0".to_string(), 1)
    } else {
        shortest_digits(f, bits)
    };
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let exp = dp - 1;
    let use_e = match fmt {
        'e' => true,
        'f' => false,
        _ => !(-4..6).contains(&exp),
    };
    if use_e {
        let d = digits.as_bytes();
        out.push(d[0] as char);
        if d.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let e = if f == 0.0 { 0 } else { exp };
        let _ = write!(out, "e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs());
    } else if dp <= 0 {
        out.push_str("0.");
        for _ in 0..(-dp) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let dp = dp as usize;
        if digits.len() <= dp {
            out.push_str(&digits);
            for _ in digits.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..dp]);
            out.push('.');
            out.push_str(&digits[dp..]);
        }
    }
    out
}

/// `json.Unmarshal` into `interface{}`: numbers become float64. Errors are Go's messages
/// (`invalid character 'x' looking for beginning of value`, `unexpected end of JSON input`).
pub fn parse(text: &str) -> Result<Data, String> {
    match parse_partial(text)? {
        (_, Some(e)) => Err(e),
        (d, None) => Ok(d),
    }
}

/// `json.Unmarshal` as Go does it: a syntax error anywhere fails the whole input; a number
/// that does not fit a float64 leaves `null` in its place and is reported after decoding
/// (the second element), so callers can keep the partial value as Helm's `fromJson` does.
pub fn parse_partial(text: &str) -> Result<(Data, Option<String>), String> {
    let mut p = JsonParser {
        s: text.as_bytes(),
        i: 0,
        deferred: None,
    };
    // Go validates the whole input before decoding (scanner errors first).
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(format!(
            "invalid character {} after top-level value",
            quote_byte(p.s[p.i])
        ));
    }
    Ok((v, p.deferred))
}

struct JsonParser<'a> {
    s: &'a [u8],
    i: usize,
    /// The first error Go's decoder would save and report after finishing.
    deferred: Option<String>,
}

/// Go's `quoteChar(c byte)`: the byte as a Latin-1 rune, quoted like `strconv.Quote` but in
/// single quotes (`'x'`, `'\''`, `'"'`, `'\n'`, `'\x01'`, `'Ã'` for the first byte of `é`).
fn quote_byte(c: u8) -> String {
    let r = c as char;
    let inner = match c {
        b'\'' => "\\'".to_string(),
        b'"' => "\"".to_string(),
        b'\\' => "\\\\".to_string(),
        0x07 => "\\a".into(),
        0x08 => "\\b".into(),
        0x0C => "\\f".into(),
        b'\n' => "\\n".into(),
        b'\r' => "\\r".into(),
        b'\t' => "\\t".into(),
        0x0B => "\\v".into(),
        c if c < 0x20 || c == 0x7F => format!("\\x{c:02x}"),
        // C1 controls, NBSP and the soft hyphen are not printable to strconv.
        c if c >= 0x80 && (c <= 0xA0 || c == 0xAD) => format!("\\u{:04x}", c),
        _ => r.to_string(),
    };
    format!("'{inner}'")
}

impl JsonParser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eof(&self) -> String {
        "unexpected end of JSON input".into()
    }

    fn bad(&self, ctx: &str) -> String {
        if self.i >= self.s.len() {
            return self.eof();
        }
        format!("invalid character {} {ctx}", quote_byte(self.s[self.i]))
    }

    /// Inside a literal or number Go's scanner ends the input with a space, so a token cut
    /// short reports `invalid character ' ' …` rather than the end of input.
    fn bad_in_token(&self, ctx: &str) -> String {
        if self.i >= self.s.len() {
            return format!("invalid character ' ' {ctx}");
        }
        self.bad(ctx)
    }

    fn value(&mut self, depth: usize) -> Result<Data, String> {
        // Go allows 10000 levels; a recursive parser on a 2 MiB stack stops earlier.
        if depth > MAX_PARSE_DEPTH {
            return Err("exceeded max depth".into());
        }
        self.skip_ws();
        let Some(&c) = self.s.get(self.i) else {
            return Err(self.eof());
        };
        match c {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.skip_ws();
                if self.s.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Data::Map(m));
                }
                loop {
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b'"') => {}
                        _ => return Err(self.bad("looking for beginning of object key string")),
                    }
                    let k = self.string()?;
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b':') => self.i += 1,
                        _ => return Err(self.bad("after object key")),
                    }
                    let v = self.value(depth + 1)?;
                    m.insert(k, v);
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Data::Map(m));
                        }
                        _ => return Err(self.bad("after object key:value pair")),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut l = Vec::new();
                self.skip_ws();
                if self.s.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Data::List(l));
                }
                loop {
                    l.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.s.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Data::List(l));
                        }
                        _ => return Err(self.bad("after array element")),
                    }
                }
            }
            b'"' => Ok(Data::String(self.string()?)),
            b't' => self.word("true", Data::Bool(true)),
            b'f' => self.word("false", Data::Bool(false)),
            b'n' => self.word("null", Data::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(self.bad("looking for beginning of value")),
        }
    }

    fn word(&mut self, w: &str, v: Data) -> Result<Data, String> {
        let wb = w.as_bytes();
        for (k, &expected) in wb.iter().enumerate() {
            match self.s.get(self.i) {
                Some(&c) if c == expected => self.i += 1,
                _ => {
                    let ctx = format!("in literal {w} (expecting '{}')", expected as char);
                    let _ = k;
                    return Err(self.bad_in_token(&ctx));
                }
            }
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Data, String> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return Err(self.bad_in_token("in numeric literal")),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.bad_in_token("after decimal point in numeric literal"));
            }
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                return Err(self.bad_in_token("in exponent of numeric literal"));
            }
            while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
                self.i += 1;
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Data::Float(f)),
            _ => {
                if self.deferred.is_none() {
                    self.deferred = Some(format!(
                        "json: cannot unmarshal number {text} into Go value of type float64"
                    ));
                }
                Ok(Data::Null)
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.i += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.eof());
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    let Some(&e) = self.s.get(self.i) else {
                        return Err(self.eof());
                    };
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let u = self.hex4()?;
                            if (0xD800..0xDC00).contains(&u)
                                && self.s.get(self.i) == Some(&b'\\')
                                && self.s.get(self.i + 1) == Some(&b'u')
                            {
                                let save = self.i;
                                self.i += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                    char::from_u32(cp).unwrap_or('\u{fffd}')
                                } else {
                                    self.i = save;
                                    '\u{fffd}'
                                }
                            } else {
                                char::from_u32(u).unwrap_or('\u{fffd}')
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return Err(self.bad("in string escape code"));
                        }
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c if c < 0x20 => return Err(self.bad("in string literal")),
                c => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(&c) = self.s.get(self.i) else {
                return Err(self.eof());
            };
            let d = (c as char)
                .to_digit(16)
                .ok_or_else(|| self.bad("in \\u hexadecimal character escape"))?;
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Data)]) -> Data {
        Data::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn floats_like_go() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-10, "1.5e-10"),
            (123456789.0, "123456789"),
            (-0.0, "-0"),
            (2.5, "2.5"),
            (1e100, "1e+100"),
            (9007199254740993.0, "9007199254740992"),
        ];
        for (f, want) in cases {
            assert_eq!(json_float(f), want, "{f}");
        }
        assert_eq!(go_format_float(1e6, 'g', 64), "1e+06");
        assert_eq!(go_format_float(123456.0, 'g', 64), "123456");
        assert_eq!(go_format_float(0.0001, 'g', 64), "0.0001");
        assert_eq!(go_format_float(0.00001, 'g', 64), "1e-05");
        assert_eq!(go_format_float(0.1, 'g', 32), "0.1");
        assert_eq!(go_format_float(1.234_567_891_23, 'g', 32), "1.2345679");
    }

    #[test]
    fn marshal() {
        let d = m(&[
            ("b", Data::String("<a&b>\u{2028}".into())),
            (
                "a",
                Data::List(vec![Data::Float(1.0), Data::Null, Data::Bool(true)]),
            ),
            ("c", m(&[])),
        ]);
        assert_eq!(
            to_json(&d),
            r#"{"a":[1,null,true],"b":"\u003ca\u0026b\u003e\u2028","c":{}}"#
        );
        assert_eq!(
            try_to_json(&d, false, "  ").unwrap(),
            "{\n  \"a\": [\n    1,\n    null,\n    true\n  ],\n  \"b\": \"<a&b>\\u2028\",\n  \"c\": {}\n}"
        );
        assert_eq!(
            try_to_json(&Data::Float(f64::NAN), true, "").unwrap_err(),
            "json: unsupported value: NaN"
        );
    }

    #[test]
    fn unmarshal() {
        assert_eq!(
            parse(r#"{"a": [1, 2.5, "x\u00e9"], "b": null}"#).unwrap(),
            m(&[
                (
                    "a",
                    Data::List(vec![
                        Data::Float(1.0),
                        Data::Float(2.5),
                        Data::String("xé".into())
                    ])
                ),
                ("b", Data::Null)
            ])
        );
        assert_eq!(parse("").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(parse("{").unwrap_err(), "unexpected end of JSON input");
        assert_eq!(
            parse("x").unwrap_err(),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            parse("{} x").unwrap_err(),
            "invalid character 'x' after top-level value"
        );
        assert_eq!(
            parse("{'a':1}").unwrap_err(),
            "invalid character '\\'' looking for beginning of object key string"
        );
    }
}
