//! Sprig's regular expressions, with Go's `regexp` (RE2) semantics on top of the `regex`
//! crate:
//! - `\d`, `\w`, `\s`, `\b` are ASCII-only in Go and are rewritten so;
//! - `FindAll`, `ReplaceAll` and `Split` treat empty matches as Go does (an empty match right
//!   after a previous match is skipped);
//! - replacement templates expand `$1`, `$name`, `${name}` and `$$` by Go's rules (a name is
//!   the longest run of letters, digits and `_`; an unknown group expands to nothing).
//!
//! The non-`must` functions panic in Go on a bad pattern; the template then fails with
//! ``regexp: Compile(`PAT`): error parsing regexp: …``. `regexMatch` instead answers false.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::{Captures, Regex};
use regex_syntax::ast::{Ast, ErrorKind, RepetitionKind, RepetitionRange};

use super::args;
use crate::value::{Func, FuncError, Value};

/// Compiled patterns kept per thread.
const CACHE_SIZE: usize = 256;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("regexMatch", |_, a| {
        let (re, s) = pat_str("regexMatch", a, 2)?;
        Ok(Value::Bool(compile(&re).is_ok_and(|r| r.is_match(&s))))
    });
    m.insert("mustRegexMatch", |_, a| {
        let (re, s) = pat_str("mustRegexMatch", a, 2)?;
        Ok(Value::Bool(must(&re)?.is_match(&s)))
    });
    m.insert("regexFindAll", |_, a| find_all("regexFindAll", a, panics));
    m.insert("mustRegexFindAll", |_, a| {
        find_all("mustRegexFindAll", a, must)
    });
    m.insert("regexFind", |_, a| find("regexFind", a, panics));
    m.insert("mustRegexFind", |_, a| find("mustRegexFind", a, must));
    m.insert("regexReplaceAll", |_, a| {
        replace("regexReplaceAll", a, panics, false)
    });
    m.insert("mustRegexReplaceAll", |_, a| {
        replace("mustRegexReplaceAll", a, must, false)
    });
    m.insert("regexReplaceAllLiteral", |_, a| {
        replace("regexReplaceAllLiteral", a, panics, true)
    });
    m.insert("mustRegexReplaceAllLiteral", |_, a| {
        replace("mustRegexReplaceAllLiteral", a, must, true)
    });
    m.insert("regexSplit", |_, a| split("regexSplit", a, panics));
    m.insert("mustRegexSplit", |_, a| split("mustRegexSplit", a, must));
    m.insert("regexQuoteMeta", |_, a| {
        args::want("regexQuoteMeta", a, 1)?;
        let s = args::string(a, 0)?;
        Ok(Value::string(quote_meta(&s)))
    });
}

type Compiler = fn(&str) -> Result<Regex, FuncError>;

/// The pattern and subject string arguments (the first two), after the count check.
fn pat_str(name: &str, a: &[Value], n: usize) -> Result<(String, String), FuncError> {
    args::want(name, a, n)?;
    Ok((
        args::string(a, 0)?.to_string(),
        args::string(a, 1)?.to_string(),
    ))
}

/// `regexp.Compile`'s error as the `must*` functions return it.
fn must(re: &str) -> Result<Regex, FuncError> {
    compile(re).map_err(FuncError::new)
}

/// `regexp.MustCompile`'s panic.
fn panics(re: &str) -> Result<Regex, FuncError> {
    compile(re).map_err(|e| FuncError::new(format!("regexp: Compile({}): {e}", go_backquote(re))))
}

/// Go's `strconv.Quote`-or-backquote choice in `MustCompile`'s panic (backquotes when possible).
fn go_backquote(s: &str) -> String {
    if s.contains('`') || s.chars().any(|c| c.is_control() && c != '\t') {
        super::strings::go_quote(s)
    } else {
        format!("`{s}`")
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, Result<Regex, String>>> = RefCell::new(HashMap::new());
}

/// Compiles a Go pattern (cached); the error is Go's `error parsing regexp: …` text.
fn compile(re: &str) -> Result<Regex, String> {
    if let Some(hit) = CACHE.with(|c| c.borrow().get(re).cloned()) {
        return hit;
    }
    let result = match go_only_error(re) {
        Some(e) => Err(e),
        None => Regex::new(&translate(re)).map_err(|e| go_error(re, &e.to_string())),
    };
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_SIZE {
            c.clear();
        }
        c.insert(re.to_string(), result.clone());
    });
    result
}

/// Go's `error parsing regexp: CODE: `TEXT`` for a pattern the `regex` crate rejected (or
/// that Go rejects but the crate accepts: nested repetitions, counts above 1000).
fn go_error(re: &str, _rust: &str) -> String {
    go_syntax_error(re).unwrap_or_else(|| {
        format!("error parsing regexp: invalid or unsupported Perl syntax: `{re}`")
    })
}

/// Checks what Go rejects but the `regex` crate accepts; the message when Go would fail.
fn go_only_error(re: &str) -> Option<String> {
    let ast = regex_syntax::ast::parse::Parser::new().parse(re).ok()?;
    let mut found = None;
    check_repetitions(&ast, re, &mut found, 0);
    found
}

fn check_repetitions(ast: &Ast, re: &str, found: &mut Option<String>, depth: usize) {
    if found.is_some() || depth > 500 {
        return;
    }
    match ast {
        Ast::Repetition(r) => {
            if let Ast::Repetition(inner) = &*r.ast {
                let text = re
                    .get(inner.op.span.start.offset..r.op.span.end.offset)
                    .unwrap_or("");
                *found = Some(format!(
                    "error parsing regexp: invalid nested repetition operator: `{text}`"
                ));
                return;
            }
            if let RepetitionKind::Range(range) = &r.op.kind {
                let too_big = match range {
                    RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n) => *n > 1000,
                    RepetitionRange::Bounded(a, b) => *a > 1000 || *b > 1000,
                };
                if too_big {
                    let text = re
                        .get(r.op.span.start.offset..r.op.span.end.offset)
                        .unwrap_or("");
                    *found = Some(format!(
                        "error parsing regexp: invalid repeat count: `{text}`"
                    ));
                    return;
                }
            }
            check_repetitions(&r.ast, re, found, depth + 1);
        }
        Ast::Group(g) => check_repetitions(&g.ast, re, found, depth + 1),
        Ast::Alternation(a) => a
            .asts
            .iter()
            .for_each(|x| check_repetitions(x, re, found, depth + 1)),
        Ast::Concat(c) => c
            .asts
            .iter()
            .for_each(|x| check_repetitions(x, re, found, depth + 1)),
        _ => {}
    }
}

/// Go's message for a syntax error, located with `regex-syntax`'s parser.
fn go_syntax_error(re: &str) -> Option<String> {
    let err = match regex_syntax::ast::parse::Parser::new().parse(re) {
        Ok(_) => return go_only_error(re),
        Err(e) => e,
    };
    let span = err.span();
    let text = |from: usize, to: usize| re.get(from..to).unwrap_or("").to_string();
    let (code, arg) = match err.kind() {
        ErrorKind::GroupUnclosed => ("missing closing )", re.to_string()),
        ErrorKind::GroupUnopened => ("unexpected )", re.to_string()),
        ErrorKind::ClassUnclosed => ("missing closing ]", text(span.start.offset, re.len())),
        ErrorKind::RepetitionMissing => {
            let at = span.start.offset.min(re.len());
            let end = re[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            (
                "missing argument to repetition operator",
                text(at, end.max(span.end.offset)),
            )
        }
        ErrorKind::RepetitionCountInvalid
        | ErrorKind::RepetitionCountUnclosed
        | ErrorKind::RepetitionCountDecimalEmpty => (
            "invalid repeat count",
            text(span.start.offset, span.end.offset),
        ),
        ErrorKind::ClassRangeInvalid | ErrorKind::ClassRangeLiteral => (
            "invalid character class range",
            text(span.start.offset, span.end.offset),
        ),
        ErrorKind::EscapeUnexpectedEof => {
            ("trailing backslash at end of expression", String::new())
        }
        ErrorKind::EscapeUnrecognized
        | ErrorKind::ClassEscapeInvalid
        | ErrorKind::EscapeHexEmpty
        | ErrorKind::EscapeHexInvalid
        | ErrorKind::EscapeHexInvalidDigit
        | ErrorKind::UnsupportedBackreference => (
            "invalid escape sequence",
            text(span.start.offset, span.end.offset),
        ),
        ErrorKind::NestLimitExceeded(_) => ("expression nests too deeply", String::new()),
        _ => {
            // Go quotes the group opening up to the offending character.
            let from = re[..span.start.offset.min(re.len())]
                .rfind("(?")
                .unwrap_or(0);
            let to = (span.end.offset.max(span.start.offset + 1)).min(re.len());
            ("invalid or unsupported Perl syntax", text(from, to))
        }
    };
    Some(format!("error parsing regexp: {code}: `{arg}`"))
}

/// Rewrites Go's ASCII-only Perl classes and word boundaries for the `regex` crate.
fn translate(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 8);
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(n) = chars.next() else {
            out.push('\\');
            break;
        };
        match n {
            'd' => out.push_str("[0-9]"),
            'D' => out.push_str("[^0-9]"),
            'w' => out.push_str("[0-9A-Za-z_]"),
            'W' => out.push_str("[^0-9A-Za-z_]"),
            's' => out.push_str("[\\t\\n\\f\\r ]"),
            'S' => out.push_str("[^\\t\\n\\f\\r ]"),
            'b' => out.push_str("(?-u:\\b)"),
            'B' => out.push_str("(?-u:\\B)"),
            n => {
                out.push('\\');
                out.push(n);
            }
        }
    }
    out
}

/// `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Width of the character at `pos` (1 past the end, as Go advances).
fn width_at(s: &str, pos: usize) -> usize {
    s[pos..].chars().next().map_or(1, char::len_utf8)
}

/// Go's `FindAllStringIndex(s, n)` (`n < 0`: all).
fn find_all_index(re: &Regex, s: &str, n: i64) -> Vec<(usize, usize)> {
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out = Vec::new();
    let mut pos = 0;
    let mut prev_end: Option<usize> = None;
    while out.len() < limit && pos <= s.len() {
        let Some(m) = re.find_at(s, pos) else { break };
        let mut accept = true;
        if m.end() == pos {
            if Some(m.start()) == prev_end {
                accept = false;
            }
            pos += width_at(s, pos);
        } else {
            pos = m.end();
        }
        prev_end = Some(m.end());
        if accept {
            out.push((m.start(), m.end()));
        }
    }
    out
}

fn find_all(name: &str, a: &[Value], comp: Compiler) -> Result<Value, FuncError> {
    args::want(name, a, 3)?;
    let re = args::string(a, 0)?;
    let s = args::string(a, 1)?;
    let n = args::int(a, 2)?;
    let r = comp(&re)?;
    Ok(Value::list(
        find_all_index(&r, &s, n)
            .into_iter()
            .map(|(x, y)| Value::str(&s[x..y]))
            .collect(),
    ))
}

fn find(name: &str, a: &[Value], comp: Compiler) -> Result<Value, FuncError> {
    let (re, s) = pat_str(name, a, 2)?;
    let r = comp(&re)?;
    Ok(Value::str(r.find(&s).map_or("", |m| m.as_str())))
}

/// Go's `Regexp.Expand` of a replacement template.
fn expand(out: &mut String, template: &str, caps: &Captures<'_>, re: &Regex) {
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let (name, after) = if let Some(r) = rest.strip_prefix('{') {
            match r.find('}') {
                Some(end) if is_name(&r[..end]) => (&r[..end], &r[end + 1..]),
                _ => ("", rest),
            }
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if name.is_empty() {
            // Malformed: the `$` stays as text.
            out.push('$');
            continue;
        }
        rest = after;
        // Numbers have no leading zero (`$01` names a group "01") and stay below 1e8.
        let numeric = name.bytes().all(|b| b.is_ascii_digit())
            && !(name.starts_with('0') && name.len() > 1)
            && name.len() <= 8;
        let group = if numeric {
            name.parse::<usize>().ok().and_then(|i| caps.get(i))
        } else if re.capture_names().any(|n| n == Some(name)) {
            caps.name(name)
        } else {
            None
        };
        if let Some(g) = group {
            out.push_str(g.as_str());
        }
    }
    out.push_str(rest);
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn replace(name: &str, a: &[Value], comp: Compiler, literal: bool) -> Result<Value, FuncError> {
    args::want(name, a, 3)?;
    let re = args::string(a, 0)?;
    let s = args::string(a, 1)?;
    let repl = args::string(a, 2)?;
    let r = comp(&re)?;
    let mut out = String::with_capacity(s.len());
    let mut last_end = 0;
    let mut search = 0;
    while search <= s.len() {
        let Some(caps) = r.captures_at(&s, search) else {
            break;
        };
        let Some(m) = caps.get(0) else { break };
        out.push_str(&s[last_end..m.start()]);
        // No replacement for an empty match right after the previous match.
        if m.end() > last_end || m.start() == 0 {
            if literal {
                out.push_str(&repl);
            } else {
                expand(&mut out, &repl, &caps, &r);
            }
            if out.len() > super::strings::MAX_LEN {
                return Err(FuncError::new("regexp: replacement output too large"));
            }
        }
        last_end = m.end();
        let w = width_at(&s, search);
        search = if search + w > m.end() {
            search + w
        } else if search + 1 > m.end() {
            search + 1
        } else {
            m.end()
        };
    }
    if last_end <= s.len() {
        out.push_str(&s[last_end..]);
    }
    Ok(Value::string(out))
}

fn split(name: &str, a: &[Value], comp: Compiler) -> Result<Value, FuncError> {
    args::want(name, a, 3)?;
    let re = args::string(a, 0)?;
    let s = args::string(a, 1)?;
    let n = args::int(a, 2)?;
    let r = comp(&re)?;
    if n == 0 {
        return Ok(Value::list(vec![]));
    }
    if !re.is_empty() && s.is_empty() {
        return Ok(Value::list(vec![Value::str("")]));
    }
    let mut parts: Vec<Value> = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for (x, y) in find_all_index(&r, &s, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        end = x;
        if y != 0 {
            parts.push(Value::str(&s[beg..end]));
        }
        beg = y;
    }
    if end != s.len() {
        parts.push(Value::str(&s[beg..]));
    }
    Ok(Value::list(parts))
}

#[cfg(test)]
mod tests {
    use super::super::reflect::oracle;
    use super::*;
    use crate::fmt::sprint_v;
    use crate::value::FuncCtx;

    fn call(name: &str, a: &[&str], n: Option<i64>) -> Result<String, String> {
        let mut m = HashMap::new();
        register(&mut m);
        let mut v: Vec<Value> = a.iter().map(|s| Value::str(s)).collect();
        if let Some(n) = n {
            v.push(Value::Int(n));
        }
        m[name](&FuncCtx::default(), &v)
            .map(|v| sprint_v(&v))
            .map_err(|e| e.message)
    }

    #[test]
    fn matching() {
        assert_eq!(
            call("regexMatch", &["^[a-z]+$", "abc"], None).unwrap(),
            "true"
        );
        assert_eq!(call("regexMatch", &["(", "abc"], None).unwrap(), "false");
        assert_eq!(call("regexMatch", &["\\d", "٣"], None).unwrap(), "false");
        assert_eq!(
            call("mustRegexMatch", &["(", "abc"], None).unwrap_err(),
            "error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(
            call("regexFind", &["(", "abc"], None).unwrap_err(),
            "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`"
        );
        assert_eq!(
            call("regexFind", &["[0-9]+", "a12b345"], None).unwrap(),
            "12"
        );
        assert_eq!(
            call("regexFindAll", &["[0-9]+", "a12b345c6"], Some(-1)).unwrap(),
            "[12 345 6]"
        );
        assert_eq!(
            call("regexFindAll", &["[0-9]+", "a12b345c6"], Some(2)).unwrap(),
            "[12 345]"
        );
        assert_eq!(
            call("regexFindAll", &["a*", "baaab"], Some(-1)).unwrap(),
            "[ aaa ]"
        );
    }

    #[test]
    fn replacing() {
        assert_eq!(
            call("regexReplaceAll", &["a(x*)b", "-ab-axxb-", "${1}W"], None).unwrap(),
            "-W-xxW-"
        );
        assert_eq!(
            call("regexReplaceAll", &["a(x*)b", "-ab-axxb-", "$1W"], None).unwrap(),
            "---"
        );
        assert_eq!(
            call("regexReplaceAll", &["a(?P<x>x*)b", "-axb-", "[$x$$]"], None).unwrap(),
            "-[x$]-"
        );
        assert_eq!(
            call(
                "regexReplaceAllLiteral",
                &["a(x*)b", "-ab-axxb-", "${1}"],
                None
            )
            .unwrap(),
            "-${1}-${1}-"
        );
        assert_eq!(
            call("regexReplaceAll", &["x*", "abc", "-"], None).unwrap(),
            "-a-b-c-"
        );
        assert_eq!(
            call("regexReplaceAll", &["b*", "abbc", "-"], None).unwrap(),
            "-a-c-"
        );
    }

    #[test]
    fn splitting() {
        assert_eq!(
            call("regexSplit", &["z+", "pizza"], Some(-1)).unwrap(),
            "[pi a]"
        );
        assert_eq!(
            call("regexSplit", &["z+", "pizza"], Some(1)).unwrap(),
            "[pizza]"
        );
        assert_eq!(call("regexSplit", &["z+", "pizza"], Some(0)).unwrap(), "[]");
        assert_eq!(
            call("regexSplit", &["", "abc"], Some(-1)).unwrap(),
            "[a b c]"
        );
        assert_eq!(call("regexSplit", &["x", ""], Some(-1)).unwrap(), "[]");
    }

    #[test]
    fn quoting() {
        assert_eq!(
            call("regexQuoteMeta", &["1.5-2.0?"], None).unwrap(),
            "1\\.5-2\\.0\\?"
        );
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let i = Value::Int;
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        let subjects = [
            "",
            "abc",
            "a1b22c333",
            "héllo wörld_1",
            "x  y\tz\n",
            "aaa",
            "ab-ab-axxb",
        ];
        let patterns = [
            "",
            "a*",
            "b*",
            "[0-9]+",
            "\\d+",
            "\\w+",
            "\\s+",
            "\\bw",
            "(a)(x*)b",
            "(?P<n>[a-z])\\d",
            "^",
            "$",
            "(?i)A",
            ".",
            "[[:alpha:]]+",
            "\\pL+",
            "x*?",
            "(a|ab)(c|bcd)?",
        ];
        for p in patterns {
            for subj in subjects {
                cases.push(("regexMatch", vec![s(p), s(subj)]));
                cases.push(("regexFind", vec![s(p), s(subj)]));
                cases.push(("regexFindAll", vec![s(p), s(subj), i(-1)]));
                cases.push(("regexFindAll", vec![s(p), s(subj), i(2)]));
                cases.push(("regexSplit", vec![s(p), s(subj), i(-1)]));
                cases.push(("regexSplit", vec![s(p), s(subj), i(2)]));
                cases.push(("regexReplaceAll", vec![s(p), s(subj), s("<$1|${n}|$0$$>")]));
                cases.push(("regexReplaceAllLiteral", vec![s(p), s(subj), s("<$1>")]));
            }
        }
        for repl in [
            "$", "${", "${1", "$1x", "${1}x", "$01", "$9", "$n", "${n}", "$-", "a$$b", "$$$1",
        ] {
            cases.push((
                "regexReplaceAll",
                vec![s("(?P<n>b)(c)"), s("abcd"), s(repl)],
            ));
        }
        for bad in [
            "(", "a)", "[a", "*a", "a**", "\\q", "(?<", "a{2,1}", "[z-a]", "\\", "x{1001}",
        ] {
            cases.push(("regexMatch", vec![s(bad), s("a")]));
            cases.push(("mustRegexMatch", vec![s(bad), s("a")]));
            cases.push(("regexFind", vec![s(bad), s("a")]));
        }
        cases.push((
            "regexQuoteMeta",
            vec![s("a.b*c+d?e(f)g|h[i]j{k}l^m$n\\o-p")],
        ));
        cases.push(("mustRegexFindAll", vec![s("a"), s("aaa"), i(0)]));
        oracle::check(&cases);
    }
}
