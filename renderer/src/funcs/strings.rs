//! Sprig's string functions.
//!
//! Go strings are byte strings: `trunc`, `substr`, `abbrev`, `wrap`, `initials` and `nospace`
//! work on bytes as Go does (a cut inside a UTF-8 sequence yields U+FFFD here, invalid bytes in
//! Go). Argument order follows Sprig (the string last, for pipelines). The case conversions
//! (`snakecase`, `kebabcase`, `camelcase`) follow huandu/xstrings v1.5 in `conv::strcase`.

use std::collections::HashMap;

use super::args;
use super::conv::{strslice, strval};
use crate::fmt::sprint_v;
use crate::value::{Func, FuncCtx, FuncError, Value};

/// Largest string a function may build (Go would exhaust memory well before).
pub(super) const MAX_LEN: usize = 1 << 28;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("hello", |_, a| {
        args::want("hello", a, 0)?;
        Ok(Value::str("Hello!"))
    });
    m.insert("abbrev", abbrev);
    m.insert("abbrevboth", abbrevboth);
    m.insert("trunc", trunc);
    m.insert("trim", |_, a| str1("trim", a, |s| s.trim().to_string()));
    m.insert("upper", |_, a| str1("upper", a, go_upper));
    m.insert("lower", |_, a| str1("lower", a, go_lower));
    m.insert("title", |_, a| str1("title", a, go_title));
    m.insert("untitle", |_, a| str1("untitle", a, untitle));
    m.insert("substr", substr);
    m.insert("repeat", repeat);
    m.insert("trimall", |_, a| str2("trimall", a, |c, s| trim_all(s, c)));
    m.insert("trimAll", |_, a| str2("trimAll", a, |c, s| trim_all(s, c)));
    m.insert("trimSuffix", |_, a| {
        str2("trimSuffix", a, |x, s| {
            s.strip_suffix(x).unwrap_or(s).to_string()
        })
    });
    m.insert("trimPrefix", |_, a| {
        str2("trimPrefix", a, |x, s| {
            s.strip_prefix(x).unwrap_or(s).to_string()
        })
    });
    m.insert("nospace", |_, a| str1("nospace", a, nospace));
    m.insert("initials", |_, a| str1("initials", a, initials));
    m.insert("swapcase", |_, a| str1("swapcase", a, swapcase));
    m.insert("snakecase", |_, a| {
        str1("snakecase", a, |s| {
            super::conv::strcase::lower_joined(s, '_')
        })
    });
    m.insert("kebabcase", |_, a| {
        str1("kebabcase", a, |s| {
            super::conv::strcase::lower_joined(s, '-')
        })
    });
    m.insert("camelcase", |_, a| {
        str1("camelcase", a, super::conv::strcase::pascal)
    });
    m.insert("wrap", wrap);
    m.insert("wrapWith", wrap_with);
    m.insert("contains", |_, a| {
        bool2("contains", a, |x, s| s.contains(x))
    });
    m.insert("hasPrefix", |_, a| {
        bool2("hasPrefix", a, |x, s| s.starts_with(x))
    });
    m.insert("hasSuffix", |_, a| {
        bool2("hasSuffix", a, |x, s| s.ends_with(x))
    });
    m.insert("quote", quote);
    m.insert("squote", squote);
    m.insert("cat", cat);
    m.insert("indent", indent);
    m.insert("nindent", nindent);
    m.insert("replace", replace);
    m.insert("plural", plural);
    m.insert("split", split);
    m.insert("splitn", splitn);
    m.insert("splitList", split_list);
    m.insert("join", join);
    m.insert("sortAlpha", sort_alpha);
}

/// A `func(string) string`.
fn str1(name: &str, a: &[Value], f: impl Fn(&str) -> String) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let s = args::string(a, 0)?;
    Ok(Value::string(f(&s)))
}

/// A `func(string, string) string`.
fn str2(name: &str, a: &[Value], f: impl Fn(&str, &str) -> String) -> Result<Value, FuncError> {
    args::want(name, a, 2)?;
    let x = args::string(a, 0)?;
    let y = args::string(a, 1)?;
    Ok(Value::string(f(&x, &y)))
}

/// A `func(string, string) bool`.
fn bool2(name: &str, a: &[Value], f: impl Fn(&str, &str) -> bool) -> Result<Value, FuncError> {
    args::want(name, a, 2)?;
    let x = args::string(a, 0)?;
    let y = args::string(a, 1)?;
    Ok(Value::Bool(f(&x, &y)))
}

/// Go's "slice bounds out of range" panic, as the template engine reports it.
pub(super) fn slice_panic(detail: String) -> FuncError {
    FuncError::new(format!("runtime error: slice bounds out of range {detail}"))
}

/// A byte range of `s` as Go slices it (lossy when it cuts a UTF-8 sequence).
fn byte_slice(s: &str, from: usize, to: usize) -> String {
    match s.get(from..to) {
        Some(x) => x.to_string(),
        None => String::from_utf8_lossy(&s.as_bytes()[from..to]).into_owned(),
    }
}

/// Go's `unicode.IsSpace` (the same set as Unicode White_Space).
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// Go maps case rune by rune; a rune without a single-rune mapping stays as it is.
pub(super) fn map_case(c: char, upper: bool) -> char {
    if c == '\u{130}' && !upper {
        return 'i';
    }
    let mut it: Box<dyn Iterator<Item = char>> = if upper {
        Box::new(c.to_uppercase())
    } else {
        Box::new(c.to_lowercase())
    };
    match (it.next(), it.next()) {
        (Some(x), None) => x,
        _ => c,
    }
}

pub(super) fn go_upper(s: &str) -> String {
    s.chars().map(|c| map_case(c, true)).collect()
}

pub(super) fn go_lower(s: &str) -> String {
    s.chars().map(|c| map_case(c, false)).collect()
}

/// `unicode.ToTitle`: the title case of a rune (upper case except for digraphs).
fn to_title(c: char) -> char {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => 'ǅ',
        'Ǉ' | 'ǈ' | 'ǉ' => 'ǈ',
        'Ǌ' | 'ǋ' | 'ǌ' => 'ǋ',
        'Ǳ' | 'ǲ' | 'ǳ' => 'ǲ',
        c => map_case(c, true),
    }
}

/// `strings.Title`: upper-cases the first letter of each word; words are separated by
/// anything but ASCII letters, digits and `_` (and, beyond ASCII, by spaces only).
fn go_title(s: &str) -> String {
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphabetic() || c.is_numeric() {
            false
        } else {
            is_space(c)
        }
    };
    let mut prev = ' ';
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        out.push(if is_sep(prev) { to_title(c) } else { c });
        prev = c;
    }
    out
}

/// goutils `Uncapitalize`: lower-cases the first rune of each whitespace-separated word.
fn untitle(s: &str) -> String {
    let mut next = true;
    s.chars()
        .map(|c| {
            if is_space(c) {
                next = true;
                c
            } else if next {
                next = false;
                map_case(c, false)
            } else {
                c
            }
        })
        .collect()
}

/// goutils `SwapCase`: upper and title case → lower; lower → title after whitespace (or at
/// the start), else upper.
fn swapcase(s: &str) -> String {
    let mut ws = true;
    s.chars()
        .map(|c| {
            if c.is_uppercase() || is_title(c) {
                ws = false;
                map_case(c, false)
            } else if c.is_lowercase() {
                if ws {
                    ws = false;
                    to_title(c)
                } else {
                    map_case(c, true)
                }
            } else {
                ws = is_space(c);
                c
            }
        })
        .collect()
}

/// Unicode category Lt.
fn is_title(c: char) -> bool {
    matches!(c, 'ǅ' | 'ǈ' | 'ǋ' | 'ǲ' | '\u{1f88}'..='\u{1f8f}' | '\u{1f98}'..='\u{1f9f}'
        | '\u{1fa8}'..='\u{1faf}' | '\u{1fbc}' | '\u{1fcc}' | '\u{1ffc}')
}

/// `strings.Trim(s, cutset)`.
fn trim_all(s: &str, cutset: &str) -> String {
    s.trim_matches(|c: char| cutset.contains(c)).to_string()
}

/// Bytes read as Latin-1 runes, as goutils' byte loops do (`rune(str[i])`).
fn latin1(b: u8) -> char {
    char::from(b)
}

/// goutils `DeleteWhiteSpace` (byte-wise, so multi-byte text is re-encoded as Latin-1 when
/// anything is removed, as in Go).
fn nospace(s: &str) -> String {
    if !s.bytes().any(|b| is_space(latin1(b))) {
        return s.to_string();
    }
    s.bytes().map(latin1).filter(|c| !is_space(*c)).collect()
}

/// goutils `Initials` (byte-wise).
fn initials(s: &str) -> String {
    let mut gap = true;
    let mut out = String::new();
    for c in s.bytes().map(latin1) {
        if is_space(c) {
            gap = true;
        } else if gap {
            out.push(c);
            gap = false;
        }
    }
    out
}

fn trunc(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("trunc", a, 2)?;
    let c = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    let len = s.len() as i64;
    Ok(Value::string(if c < 0 && len + c > 0 {
        byte_slice(&s, (len + c) as usize, s.len())
    } else if c >= 0 && len > c {
        byte_slice(&s, 0, c as usize)
    } else {
        s.to_string()
    }))
}

fn substr(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("substr", a, 3)?;
    let start = args::int(a, 0)?;
    let end = args::int(a, 1)?;
    let s = args::string(a, 2)?;
    let len = s.len() as i64;
    let (from, to) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if start < 0 {
        if to < 0 {
            return Err(slice_panic(format!("[:{to}]")));
        }
        if to > len {
            return Err(slice_panic(format!("[:{to}] with length {len}")));
        }
    } else if from > to {
        if to == len {
            return Err(slice_panic(format!("[{from}:{len}]")));
        }
        return Err(slice_panic(format!("[{from}:{to}]")));
    }
    Ok(Value::string(byte_slice(&s, from as usize, to as usize)))
}

fn repeat(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("repeat", a, 2)?;
    let n = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    if n < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    if (n as u128) * (s.len() as u128) > MAX_LEN as u128 {
        return Err(FuncError::new("strings: Repeat output length overflow"));
    }
    Ok(Value::string(s.repeat(n as usize)))
}

/// goutils `AbbreviateFull` (byte-wise); `None` for its "illegal argument" errors.
fn abbreviate_full(s: &str, offset: i64, max: i64) -> Option<String> {
    if s.is_empty() {
        return Some(String::new());
    }
    if max < 4 {
        return None;
    }
    let len = s.len() as i64;
    if len <= max {
        return Some(s.to_string());
    }
    let mut offset = offset.min(len);
    if len - offset < max - 3 {
        offset = len - (max - 3);
    }
    if offset <= 4 {
        return Some(byte_slice(s, 0, (max - 3) as usize) + "...");
    }
    if max < 7 {
        return None;
    }
    if offset + max - 3 < len {
        let rest = abbreviate_full(&byte_slice(s, offset as usize, s.len()), 0, max - 3)?;
        return Some(format!("...{rest}"));
    }
    Some(format!(
        "...{}",
        byte_slice(s, (len - (max - 3)) as usize, s.len())
    ))
}

fn abbrev(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("abbrev", a, 2)?;
    let w = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    if w < 4 {
        return Ok(Value::String(s));
    }
    Ok(Value::string(abbreviate_full(&s, 0, w).unwrap_or_default()))
}

fn abbrevboth(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("abbrevboth", a, 3)?;
    let left = args::int(a, 0)?;
    let right = args::int(a, 1)?;
    let s = args::string(a, 2)?;
    if right < 4 || (left > 0 && right < 7) {
        return Ok(Value::String(s));
    }
    Ok(Value::string(
        abbreviate_full(&s, left, right).unwrap_or_default(),
    ))
}

/// goutils `WrapCustom` (byte-wise, words separated by ' ').
fn wrap_custom(s: &str, width: i64, nl: &str, long_words: bool) -> String {
    if s.is_empty() {
        return String::new();
    }
    let nl = if nl.is_empty() { "\n" } else { nl };
    let width = width.max(1) as usize;
    let b = s.as_bytes();
    let len = b.len();
    let mut offset = 0usize;
    let mut out: Vec<u8> = Vec::with_capacity(len + len / width.max(1));
    while len - offset > width {
        if b[offset] == b' ' {
            offset += 1;
            continue;
        }
        let end = width + offset + 1;
        let space = b[offset..end].iter().rposition(|&c| c == b' ');
        if let Some(p) = space {
            out.extend_from_slice(&b[offset..offset + p]);
            out.extend_from_slice(nl.as_bytes());
            offset += p + 1;
        } else if long_words {
            out.extend_from_slice(&b[offset..offset + width]);
            out.extend_from_slice(nl.as_bytes());
            offset += width;
        } else {
            let end = width + offset;
            match b[end..].iter().position(|&c| c == b' ') {
                None => {
                    out.extend_from_slice(&b[offset..]);
                    offset = len;
                }
                Some(p) => {
                    out.extend_from_slice(&b[offset..end + p]);
                    out.extend_from_slice(nl.as_bytes());
                    offset = end + p + 1;
                }
            }
        }
    }
    out.extend_from_slice(&b[offset..]);
    String::from_utf8_lossy(&out).into_owned()
}

fn wrap(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("wrap", a, 2)?;
    let w = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    Ok(Value::string(wrap_custom(&s, w, "", false)))
}

fn wrap_with(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("wrapWith", a, 3)?;
    let w = args::int(a, 0)?;
    let sep = args::string(a, 1)?;
    let s = args::string(a, 2)?;
    Ok(Value::string(wrap_custom(&s, w, &sep, true)))
}

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub(super) fn go_quote(s: &str) -> String {
    crate::fmt::quote_go(s)
}

fn quote(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| go_quote(&strval(v)))
        .collect();
    Ok(Value::string(parts.join(" ")))
}

fn squote(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(|v| format!("'{}'", sprint_v(v)))
        .collect();
    Ok(Value::string(parts.join(" ")))
}

fn cat(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(v, Value::Nil))
        .map(sprint_v)
        .collect();
    Ok(Value::string(parts.join(" ")))
}

fn indent_str(n: i64, s: &str) -> Result<String, FuncError> {
    if n < 0 {
        return Err(FuncError::new("strings: negative Repeat count"));
    }
    if (n as u128) * (s.matches('\n').count() as u128 + 1) > MAX_LEN as u128 {
        return Err(FuncError::new("strings: Repeat output length overflow"));
    }
    let pad = " ".repeat(n as usize);
    Ok(format!("{pad}{}", s.replace('\n', &format!("\n{pad}"))))
}

fn indent(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("indent", a, 2)?;
    let n = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    Ok(Value::string(indent_str(n, &s)?))
}

fn nindent(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("nindent", a, 2)?;
    let n = args::int(a, 0)?;
    let s = args::string(a, 1)?;
    Ok(Value::string(format!("\n{}", indent_str(n, &s)?)))
}

fn replace(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("replace", a, 3)?;
    let old = args::string(a, 0)?;
    let new = args::string(a, 1)?;
    let s = args::string(a, 2)?;
    if old.is_empty() && (s.chars().count() + 1) * new.len() + s.len() > MAX_LEN {
        return Err(FuncError::new("strings: Replace output length overflow"));
    }
    Ok(Value::string(s.replace(&*old, &new)))
}

fn plural(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("plural", a, 3)?;
    let one = args::string(a, 0)?;
    let many = args::string(a, 1)?;
    let n = args::int(a, 2)?;
    Ok(Value::String(if n == 1 { one } else { many }))
}

/// `strings.SplitN(s, sep, n)`; `n < 0` means all.
pub(super) fn go_splitn(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        // Explode into UTF-8 sequences, the last one holding the rest.
        let chars: Vec<(usize, char)> = s.char_indices().collect();
        let limit = if n < 0 || n as usize > chars.len() {
            chars.len()
        } else {
            n as usize
        };
        let mut out = Vec::with_capacity(limit);
        for (i, (at, c)) in chars.iter().enumerate().take(limit) {
            if i + 1 == limit {
                out.push(s[*at..].to_string());
            } else {
                out.push(c.to_string());
            }
        }
        return out;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// Sprig's `split` result: a map `_0`, `_1`, … of the parts.
fn parts_map(parts: Vec<String>) -> Value {
    Value::map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::string(p)))
            .collect(),
    )
}

fn split(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("split", a, 2)?;
    let sep = args::string(a, 0)?;
    let s = args::string(a, 1)?;
    Ok(parts_map(go_splitn(&s, &sep, -1)))
}

fn splitn(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("splitn", a, 3)?;
    let sep = args::string(a, 0)?;
    let n = args::int(a, 1)?;
    let s = args::string(a, 2)?;
    Ok(parts_map(go_splitn(&s, &sep, n)))
}

fn split_list(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("splitList", a, 2)?;
    let sep = args::string(a, 0)?;
    let s = args::string(a, 1)?;
    Ok(Value::list(
        go_splitn(&s, &sep, -1)
            .into_iter()
            .map(Value::string)
            .collect(),
    ))
}

fn join(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("join", a, 2)?;
    let sep = args::string(a, 0)?;
    Ok(Value::string(strslice(&a[1]).join(&sep)))
}

fn sort_alpha(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("sortAlpha", a, 1)?;
    let mut v = match &a[0] {
        Value::List(_) | Value::Bytes(_) => strslice(&a[0]),
        v => vec![strval(v)],
    };
    v.sort();
    Ok(Value::list(v.into_iter().map(Value::string).collect()))
}

#[cfg(test)]
mod tests {
    use super::super::reflect::oracle;
    use super::*;

    fn s(x: &str) -> Value {
        Value::str(x)
    }
    fn i(x: i64) -> Value {
        Value::Int(x)
    }

    fn call(name: &str, a: &[Value]) -> Result<String, String> {
        let f = super::super::lookup(name).expect("registered");
        f(&FuncCtx::default(), a)
            .map(|v| sprint_v(&v))
            .map_err(|e| e.message)
    }

    // Expected values below were produced by Helm v4.2.3 (helm-oracle). Literal arguments
    // are avoided where Go's template engine converts constants itself (`trunc 2.0 "x"` works
    // in Go: the constant 2.0 converts to int; a float64 *value* does not).
    #[test]
    fn byte_slicing() {
        assert_eq!(call("trunc", &[i(5), s("hello world")]).unwrap(), "hello");
        assert_eq!(call("trunc", &[i(-5), s("hello world")]).unwrap(), "world");
        assert_eq!(call("trunc", &[i(-50), s("hello")]).unwrap(), "hello");
        assert_eq!(call("substr", &[i(1), i(3), s("hello")]).unwrap(), "el");
        assert_eq!(call("substr", &[i(-1), i(3), s("hello")]).unwrap(), "hel");
        assert_eq!(call("substr", &[i(2), i(99), s("hello")]).unwrap(), "llo");
        assert_eq!(
            call("trunc", &[Value::Float(5.0), s("hello")]).unwrap_err(),
            "wrong type for value; expected int; got float64"
        );
        assert_eq!(call("abbrev", &[i(5), s("hello world")]).unwrap(), "he...");
        assert_eq!(
            call("abbrevboth", &[i(5), i(10), s("1234 5678 9123")]).unwrap(),
            "...5678..."
        );
    }

    #[test]
    fn words_and_cases() {
        assert_eq!(
            call("title", &[s("hello wORLD foo_bar x-y")]).unwrap(),
            "Hello WORLD Foo_bar X-Y"
        );
        assert_eq!(call("untitle", &[s("Hello World")]).unwrap(), "hello world");
        assert_eq!(
            call("swapcase", &[s("This Is A.Test")]).unwrap(),
            "tHIS iS a.tEST"
        );
        assert_eq!(call("initials", &[s("hello big world")]).unwrap(), "hbw");
        assert_eq!(call("nospace", &[s(" a b\tc ")]).unwrap(), "abc");
        assert_eq!(
            call("camelcase", &[s("GOLANG_IS_GREAT")]).unwrap(),
            "GolangIsGreat"
        );
        assert_eq!(call("camelcase", &[s("HTTPServer")]).unwrap(), "Httpserver");
        assert_eq!(call("camelcase", &[s("_")]).unwrap(), "__");
        assert_eq!(call("camelcase", &[s("a  b")]).unwrap(), "A B");
        assert_eq!(
            call("snakecase", &[s("HTTPServer")]).unwrap(),
            "http_server"
        );
        assert_eq!(
            call("snakecase", &[s("Bld4Floor3rd")]).unwrap(),
            "bld4_floor_3rd"
        );
        assert_eq!(call("snakecase", &[s("HTTP20xOK")]).unwrap(), "http_20x_ok");
        assert_eq!(call("kebabcase", &[s("FirstName")]).unwrap(), "first-name");
        assert_eq!(
            call("wrap", &[i(5), s("hello big world")]).unwrap(),
            "hello\nbig\nworld"
        );
        assert_eq!(
            call("wrapWith", &[i(5), s("\t"), s("helloworld")]).unwrap(),
            "hello\tworld"
        );
    }

    #[test]
    fn quoting_and_joining() {
        assert_eq!(
            call("quote", &[s("a\"b"), Value::Nil, i(1)]).unwrap(),
            "\"a\\\"b\" \"1\""
        );
        assert_eq!(
            call("squote", &[s("a"), Value::Float(1.5)]).unwrap(),
            "'a' '1.5'"
        );
        assert_eq!(call("cat", &[s("a"), Value::Nil, i(2)]).unwrap(), "a 2");
        assert_eq!(call("indent", &[i(2), s("a\nb")]).unwrap(), "  a\n  b");
        assert_eq!(call("nindent", &[i(2), s("a")]).unwrap(), "\n  a");
        assert_eq!(
            call("replace", &[s("a"), s("b"), s("banana")]).unwrap(),
            "bbnbnb"
        );
        assert_eq!(call("plural", &[s("one"), s("many"), i(1)]).unwrap(), "one");
        assert_eq!(
            call("split", &[s(","), s("a,b")]).unwrap(),
            "map[_0:a _1:b]"
        );
        assert_eq!(
            call("splitn", &[s(","), i(2), s("a,b,c")]).unwrap(),
            "map[_0:a _1:b,c]"
        );
        assert_eq!(call("splitList", &[s(""), s("ab")]).unwrap(), "[a b]");
        assert_eq!(
            call(
                "join",
                &[s("-"), Value::list(vec![i(1), Value::Nil, s("x")])]
            )
            .unwrap(),
            "1-x"
        );
        assert_eq!(
            call("sortAlpha", &[Value::list(vec![s("b"), i(10), s("a")])]).unwrap(),
            "[10 a b]"
        );
        assert_eq!(go_quote("\u{1}é\u{a0}\t"), "\"\\x01é\\u00a0\\t\"");
    }

    #[test]
    fn against_helm() {
        let long = "The quick brown fox jumps over the lazy dog";
        let mut cases: Vec<(&str, Vec<Value>)> = vec![
            ("trim", vec![s("  \t x y \n")]),
            ("trimAll", vec![s("$-"), s("$-a$b-$")]),
            ("trimall", vec![s("x"), s("xxaxx")]),
            ("trimPrefix", vec![s("ab"), s("ababc")]),
            ("trimSuffix", vec![s("bc"), s("abcbc")]),
            ("upper", vec![s("héllo ß ǆ")]),
            ("lower", vec![s("HÉLLO İ Ǆ")]),
            ("title", vec![s("hello wORLD foo_bar x-y a.b ébc 1st")]),
            ("untitle", vec![s("Hello World  ÉCOLE")]),
            ("repeat", vec![i(3), s("ab")]),
            ("repeat", vec![i(-1), s("ab")]),
            ("substr", vec![i(0), i(2), s("héllo")]),
            ("substr", vec![i(4), i(2), s("hello")]),
            ("substr", vec![i(9), i(20), s("hello")]),
            ("substr", vec![i(-1), i(20), s("hello")]),
            ("substr", vec![i(-1), i(-2), s("hello")]),
            ("trunc", vec![i(0), s("hello")]),
            ("trunc", vec![i(-1), s("hello")]),
            ("trunc", vec![i(2)]),
            ("nospace", vec![s("a b\u{a0}c\td")]),
            ("initials", vec![s(" hello  Big\tworld ")]),
            ("swapcase", vec![s("Hello wORLD ǅx 1a")]),
            ("abbrev", vec![i(3), s("hello world")]),
            ("abbrev", vec![i(8), s("hello world")]),
            ("abbrev", vec![i(20), s("hello world")]),
            ("abbrevboth", vec![i(5), i(10), s("1234 5678 9123")]),
            (
                "abbrevboth",
                vec![i(10), i(7), s("abcdefghijklmnopqrstuvwxyz")],
            ),
            (
                "abbrevboth",
                vec![i(0), i(5), s("abcdefghijklmnopqrstuvwxyz")],
            ),
            (
                "abbrevboth",
                vec![i(30), i(9), s("abcdefghijklmnopqrstuvwxyz")],
            ),
            ("wrap", vec![i(10), s(long)]),
            ("wrap", vec![i(3), s("abcdefgh ij klmnop")]),
            ("wrap", vec![i(0), s("a b")]),
            ("wrapWith", vec![i(10), s("<br>"), s(long)]),
            ("wrapWith", vec![i(3), s("|"), s("abcdefgh ij")]),
            ("contains", vec![s("ell"), s("hello")]),
            ("hasPrefix", vec![s("he"), s("hello")]),
            ("hasSuffix", vec![s("lo"), s("hello")]),
            (
                "quote",
                vec![
                    s("a\"b\\c\n\u{7f}é😀"),
                    Value::Nil,
                    i(1),
                    Value::Float(2.5),
                    Value::Bool(true),
                ],
            ),
            (
                "quote",
                vec![Value::list(vec![s("a"), i(1)]), Value::empty_map()],
            ),
            ("quote", vec![]),
            (
                "squote",
                vec![s("a'b"), Value::Nil, Value::list(vec![i(1)])],
            ),
            (
                "cat",
                vec![
                    s("a"),
                    Value::Nil,
                    i(2),
                    Value::list(vec![s("x"), Value::Nil]),
                ],
            ),
            ("indent", vec![i(3), s("a\n\nb\n")]),
            ("nindent", vec![i(1), s("")]),
            ("indent", vec![i(-1), s("a")]),
            ("replace", vec![s(""), s("-"), s("héllo")]),
            ("replace", vec![s("l"), s(""), s("hello")]),
            ("plural", vec![s("one"), s("many"), i(0)]),
            ("split", vec![s(""), s("héllo")]),
            ("split", vec![s(","), s("")]),
            ("splitn", vec![s(","), i(0), s("a,b,c")]),
            ("splitn", vec![s(","), i(-1), s("a,b,c")]),
            ("splitn", vec![s(""), i(2), s("abc")]),
            ("splitList", vec![s(","), s("a,,b,")]),
            (
                "join",
                vec![
                    s(", "),
                    Value::list(vec![s("a"), i(1), Value::Float(1.5), Value::Bool(false)]),
                ],
            ),
            ("join", vec![s(","), s("abc")]),
            ("join", vec![s(","), Value::Nil]),
            ("join", vec![s(","), i(7)]),
            (
                "sortAlpha",
                vec![Value::list(vec![s("b"), s("B"), s("a"), i(1), s("é")])],
            ),
            ("sortAlpha", vec![s("cba")]),
            ("sortAlpha", vec![Value::Nil]),
            ("sortAlpha", vec![i(3)]),
            ("toString", vec![Value::Float(1e6)]),
            ("hello", vec![]),
        ];
        for w in [
            "FirstName",
            "HTTPServer",
            "NoHTTPS",
            "GO_PATH",
            "GO PATH",
            "GO-PATH",
            "http2xx",
            "HTTP20xOK",
            "Duration2m3s",
            "Bld4Floor3rd",
            "some words",
            "a.b-c_d e",
            "_x_",
            "__init__",
            "ABC",
            "aB1cD",
            "x--y",
            "Héllo Wörld",
            "foo.Bar",
            "1st place",
            "a1b2",
            "123",
            "ÀÉ",
            "",
            "v1.2.3",
            "JSONData2Go",
            "already_snake",
            "camelCaseString",
            "Kebab-Case",
            "ends_",
            "9Lives",
            "a b  c",
            "URL",
            "A",
            "a",
        ] {
            cases.push(("snakecase", vec![s(w)]));
            cases.push(("kebabcase", vec![s(w)]));
            cases.push(("camelcase", vec![s(w)]));
        }
        oracle::check(&cases);
    }
}
