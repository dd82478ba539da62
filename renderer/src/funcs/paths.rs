//! Go's `path` functions (`base`, `dir`, `clean`, `ext`, `isAbs`), their `path/filepath`
//! twins (`osBase`, …), which on Linux behave the same, and Sprig's URL functions
//! (`urlParse`, `urlJoin`) over Go's `net/url`.

use std::collections::HashMap;

use super::args;
use crate::value::{Func, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("base", |_, a| str_fn("base", a, base));
    m.insert("dir", |_, a| str_fn("dir", a, dir));
    m.insert("clean", |_, a| str_fn("clean", a, clean));
    m.insert("ext", |_, a| str_fn("ext", a, |s| ext(s).to_string()));
    m.insert("isAbs", |_, a| is_abs("isAbs", a));
    m.insert("osBase", |_, a| str_fn("osBase", a, base));
    m.insert("osDir", |_, a| str_fn("osDir", a, dir));
    m.insert("osClean", |_, a| str_fn("osClean", a, clean));
    m.insert("osExt", |_, a| str_fn("osExt", a, |s| ext(s).to_string()));
    m.insert("osIsAbs", |_, a| is_abs("osIsAbs", a));
    m.insert("urlParse", |_, a| url::url_parse(a));
    m.insert("urlJoin", |_, a| url::url_join(a));
}

fn str_fn(name: &str, a: &[Value], f: fn(&str) -> String) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let s = args::string(a, 0)?;
    Ok(Value::string(f(&s)))
}

fn is_abs(name: &str, a: &[Value]) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let s = args::string(a, 0)?;
    Ok(Value::Bool(s.starts_with('/')))
}

/// `path.Clean`: the shortest equivalent path (no `.`, no `x/..`, single slashes).
pub(super) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for e in p.split('/') {
        match e {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|x| *x != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            e => parts.push(e),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// `path.Base`: the last element, trailing slashes ignored; `""` → `.`, all slashes → `/`.
pub(super) fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// `path.Dir`: everything before the last slash, cleaned.
pub(super) fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// `path.Ext`: from the last dot of the last element, or `""`.
pub(super) fn ext(p: &str) -> &str {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => return "",
            '.' => return &p[i..],
            _ => {}
        }
    }
    ""
}

/// `urlParse`/`urlJoin`: Go's `net/url` parsing and printing, as Sprig exposes them.
mod url {
    use std::collections::BTreeMap;

    use super::super::args;
    use crate::value::{FuncError, Value};

    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Path,
        Host,
        Zone,
        UserPassword,
        Fragment,
    }

    /// `net/url.shouldEscape`.
    fn should_escape(c: u8, mode: Mode) -> bool {
        if c.is_ascii_alphanumeric() {
            return false;
        }
        if matches!(mode, Mode::Host | Mode::Zone)
            && matches!(
                c,
                b'!' | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'['
                    | b']'
                    | b'<'
                    | b'>'
                    | b'"'
            )
        {
            return false;
        }
        match c {
            b'-' | b'_' | b'.' | b'~' => false,
            b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
                Mode::Path => c == b'?',
                Mode::UserPassword => matches!(c, b'@' | b'/' | b'?' | b':'),
                Mode::Fragment => false,
                Mode::Host | Mode::Zone => true,
            },
            b'!' | b'(' | b')' | b'*' if mode == Mode::Fragment => false,
            _ => true,
        }
    }

    fn escape(s: &str, mode: Mode) -> String {
        let mut out = String::with_capacity(s.len());
        for &b in s.as_bytes() {
            if should_escape(b, mode) {
                out.push_str(&format!("%{b:02X}"));
            } else {
                out.push(char::from(b));
            }
        }
        out
    }

    /// `net/url.unescape`; the error is Go's message.
    fn unescape(s: &str, mode: Mode) -> Result<String, String> {
        let b = s.as_bytes();
        let mut out: Vec<u8> = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'%' => {
                    let hex = |c: u8| char::from(c).to_digit(16);
                    let (Some(h), Some(l)) = (
                        b.get(i + 1).copied().and_then(hex),
                        b.get(i + 2).copied().and_then(hex),
                    ) else {
                        let end = (i + 3).min(b.len());
                        return Err(format!(
                            "invalid URL escape {}",
                            super::super::strings::go_quote(&String::from_utf8_lossy(&b[i..end]))
                        ));
                    };
                    let v = (h * 16 + l) as u8;
                    let esc = &s[i..i + 3];
                    if mode == Mode::Host && h < 8 && esc != "%25" {
                        return Err(format!(
                            "invalid URL escape {}",
                            super::super::strings::go_quote(esc)
                        ));
                    }
                    if mode == Mode::Zone
                        && esc != "%25"
                        && v != b' '
                        && should_escape(v, Mode::Host)
                    {
                        return Err(format!(
                            "invalid URL escape {}",
                            super::super::strings::go_quote(esc)
                        ));
                    }
                    out.push(v);
                    i += 3;
                }
                c => {
                    if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode)
                    {
                        return Err(format!(
                            "invalid character {} in host name",
                            super::super::strings::go_quote(&char::from(c).to_string())
                        ));
                    }
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A username and an optional password.
    type User = (String, Option<String>);

    #[derive(Default)]
    struct Url {
        scheme: String,
        opaque: String,
        user: Option<User>,
        host: String,
        path: String,
        raw_path: String,
        force_query: bool,
        raw_query: String,
        fragment: String,
        raw_fragment: String,
    }

    fn valid_port(p: &str) -> bool {
        p.is_empty() || (p.starts_with(':') && p[1..].bytes().all(|c| c.is_ascii_digit()))
    }

    fn parse_host(host: &str) -> Result<String, String> {
        if host.starts_with('[') {
            let Some(i) = host.rfind(']') else {
                return Err("missing ']' in host".into());
            };
            let port = &host[i + 1..];
            if !valid_port(port) {
                return Err(format!(
                    "invalid port {} after host",
                    super::super::strings::go_quote(port)
                ));
            }
            if let Some(zone) = host[..i].find("%25") {
                return Ok(format!(
                    "{}{}{}",
                    unescape(&host[..zone], Mode::Host)?,
                    unescape(&host[zone..i], Mode::Zone)?,
                    unescape(&host[i..], Mode::Host)?
                ));
            }
        } else if let Some(i) = host.rfind(':') {
            let port = &host[i..];
            if !valid_port(port) {
                return Err(format!(
                    "invalid port {} after host",
                    super::super::strings::go_quote(port)
                ));
            }
        }
        unescape(host, Mode::Host)
    }

    fn valid_userinfo(s: &str) -> bool {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:~!$&'()*+,;=%@".contains(c))
    }

    fn parse_authority(a: &str) -> Result<(Option<User>, String), String> {
        let at = a.rfind('@');
        let host = parse_host(at.map_or(a, |i| &a[i + 1..]))?;
        let Some(i) = at else { return Ok((None, host)) };
        let info = &a[..i];
        if !valid_userinfo(info) {
            return Err("net/url: invalid userinfo".into());
        }
        let user = match info.split_once(':') {
            None => (unescape(info, Mode::UserPassword)?, None),
            Some((u, p)) => (
                unescape(u, Mode::UserPassword)?,
                Some(unescape(p, Mode::UserPassword)?),
            ),
        };
        Ok((Some(user), host))
    }

    /// `net/url.Parse`.
    fn parse(raw: &str) -> Result<Url, String> {
        let (u, frag) = raw.split_once('#').unwrap_or((raw, ""));
        let wrap =
            |at: &str, e: String| format!("parse {}: {e}", super::super::strings::go_quote(at));
        let mut url = parse_no_fragment(u).map_err(|e| wrap(u, e))?;
        if !frag.is_empty() {
            url.fragment = unescape(frag, Mode::Fragment).map_err(|e| wrap(raw, e))?;
            if escape(&url.fragment, Mode::Fragment) != frag {
                url.raw_fragment = frag.to_string();
            }
        }
        Ok(url)
    }

    fn parse_no_fragment(raw: &str) -> Result<Url, String> {
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err("net/url: invalid control character in URL".into());
        }
        let mut url = Url::default();
        if raw == "*" {
            url.path = "*".into();
            return Ok(url);
        }
        let mut rest = raw;
        for (i, c) in raw.bytes().enumerate() {
            if c.is_ascii_alphabetic() {
                continue;
            }
            if c.is_ascii_digit() || matches!(c, b'+' | b'-' | b'.') {
                if i == 0 {
                    break;
                }
                continue;
            }
            if c == b':' {
                if i == 0 {
                    return Err("missing protocol scheme".into());
                }
                url.scheme = raw[..i].to_ascii_lowercase();
                rest = &raw[i + 1..];
            }
            break;
        }
        if rest.ends_with('?') && rest.matches('?').count() == 1 {
            url.force_query = true;
            rest = &rest[..rest.len() - 1];
        } else if let Some((r, q)) = rest.split_once('?') {
            url.raw_query = q.to_string();
            rest = r;
        }
        if !rest.starts_with('/') {
            if !url.scheme.is_empty() {
                url.opaque = rest.to_string();
                return Ok(url);
            }
            if rest.split('/').next().is_some_and(|seg| seg.contains(':')) {
                return Err("first path segment in URL cannot contain colon".into());
            }
        }
        if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
            let auth = &rest[2..];
            let (auth, r) = match auth.find('/') {
                Some(i) => (&auth[..i], &auth[i..]),
                None => (auth, ""),
            };
            let (user, host) = parse_authority(auth)?;
            url.user = user;
            url.host = host;
            rest = r;
        }
        url.path = unescape(rest, Mode::Path)?;
        if escape(&url.path, Mode::Path) != rest {
            url.raw_path = rest.to_string();
        }
        Ok(url)
    }

    fn valid_encoded(s: &str, mode: Mode) -> bool {
        s.bytes().all(|c| {
            matches!(
                c,
                b'!' | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'['
                    | b']'
                    | b'%'
            ) || !should_escape(c, mode)
        })
    }

    fn user_string(user: &User) -> String {
        let mut s = escape(&user.0, Mode::UserPassword);
        if let Some(p) = &user.1 {
            s.push(':');
            s.push_str(&escape(p, Mode::UserPassword));
        }
        s
    }

    /// `URL.String()`.
    fn to_string(u: &Url) -> String {
        let mut buf = String::new();
        if !u.scheme.is_empty() {
            buf.push_str(&u.scheme);
            buf.push(':');
        }
        if !u.opaque.is_empty() {
            buf.push_str(&u.opaque);
        } else {
            if !u.scheme.is_empty() || !u.host.is_empty() || u.user.is_some() {
                if !u.host.is_empty() || !u.path.is_empty() || u.user.is_some() {
                    buf.push_str("//");
                }
                if let Some(user) = &u.user {
                    buf.push_str(&user_string(user));
                    buf.push('@');
                }
                buf.push_str(&escape(&u.host, Mode::Host));
            }
            let path = if !u.raw_path.is_empty()
                && valid_encoded(&u.raw_path, Mode::Path)
                && unescape(&u.raw_path, Mode::Path).is_ok_and(|p| p == u.path)
            {
                u.raw_path.clone()
            } else if u.path == "*" {
                "*".to_string()
            } else {
                escape(&u.path, Mode::Path)
            };
            if !path.is_empty() && !path.starts_with('/') && !u.host.is_empty() {
                buf.push('/');
            }
            if buf.is_empty() && path.split('/').next().is_some_and(|s| s.contains(':')) {
                buf.push_str("./");
            }
            buf.push_str(&path);
        }
        if u.force_query || !u.raw_query.is_empty() {
            buf.push('?');
            buf.push_str(&u.raw_query);
        }
        if !u.fragment.is_empty() {
            buf.push('#');
            let f = if !u.raw_fragment.is_empty()
                && valid_encoded(&u.raw_fragment, Mode::Fragment)
                && unescape(&u.raw_fragment, Mode::Fragment).is_ok_and(|f| f == u.fragment)
            {
                u.raw_fragment.clone()
            } else {
                escape(&u.fragment, Mode::Fragment)
            };
            buf.push_str(&f);
        }
        buf
    }

    /// `URL.Hostname()`: the host without a valid port and without IPv6 brackets.
    fn hostname(host: &str) -> String {
        let mut h = host;
        if let Some(i) = h.rfind(':') {
            if valid_port(&h[i..]) {
                h = &h[..i];
            }
        }
        if h.starts_with('[') && h.ends_with(']') && h.len() >= 2 {
            h = &h[1..h.len() - 1];
        }
        h.to_string()
    }

    pub(super) fn url_parse(a: &[Value]) -> Result<Value, FuncError> {
        args::want("urlParse", a, 1)?;
        let s = args::string(a, 0)?;
        let u = parse(&s).map_err(|e| FuncError::new(format!("unable to parse url: {e}")))?;
        let mut m = BTreeMap::new();
        m.insert("scheme".to_string(), Value::str(&u.scheme));
        m.insert("host".to_string(), Value::str(&u.host));
        m.insert("hostname".to_string(), Value::string(hostname(&u.host)));
        m.insert("path".to_string(), Value::str(&u.path));
        m.insert("query".to_string(), Value::str(&u.raw_query));
        m.insert("opaque".to_string(), Value::str(&u.opaque));
        m.insert("fragment".to_string(), Value::str(&u.fragment));
        let info = u.user.as_ref().map(user_string).unwrap_or_default();
        m.insert("userinfo".to_string(), Value::string(info));
        Ok(Value::map(m))
    }

    /// Sprig's `dictGetOrEmpty`: a string entry, `""` when absent.
    fn entry(d: &BTreeMap<String, Value>, key: &str) -> Result<String, FuncError> {
        match d.get(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.to_string()),
            Some(Value::Nil) => Err(super::super::lists::nil_deref()),
            Some(v) => Err(FuncError::new(format!(
                "unable to parse {key} key, must be of type string, but {} found",
                v.kind_name()
            ))),
        }
    }

    pub(super) fn url_join(a: &[Value]) -> Result<Value, FuncError> {
        args::want("urlJoin", a, 1)?;
        let d = match &a[0] {
            Value::Nil => BTreeMap::new(),
            _ => args::map(a, 0)?.borrow().clone(),
        };
        let mut u = Url {
            scheme: entry(&d, "scheme")?,
            host: entry(&d, "host")?,
            path: entry(&d, "path")?,
            raw_query: entry(&d, "query")?,
            opaque: entry(&d, "opaque")?,
            fragment: entry(&d, "fragment")?,
            ..Url::default()
        };
        let info = entry(&d, "userinfo")?;
        if !info.is_empty() {
            let t = parse(&format!("proto://{info}@host"))
                .map_err(|e| FuncError::new(format!("unable to parse userinfo in dict: {e}")))?;
            u.user = t.user;
        }
        Ok(Value::string(to_string(&u)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (i, o) in [
            ("", "."),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../../a/", "../../a"),
            ("a//b/./c/", "a/b/c"),
            ("/", "/"),
            ("a/..", "."),
            ("./", "."),
        ] {
            assert_eq!(clean(i), o, "{i}");
        }
    }

    #[test]
    fn base_dir_ext() {
        assert_eq!(base("a/b.txt"), "b.txt");
        assert_eq!(base("a/b/"), "b");
        assert_eq!(base("///"), "/");
        assert_eq!(base(""), ".");
        assert_eq!(dir("a/b/c.txt"), "a/b");
        assert_eq!(dir("c.txt"), ".");
        assert_eq!(dir("/c"), "/");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(ext("a/b.tar.gz"), ".gz");
        assert_eq!(ext("a.d/b"), "");
        assert_eq!(ext("x."), ".");
    }

    #[test]
    fn against_helm() {
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for p in [
            "",
            ".",
            "..",
            "/",
            "//",
            "a",
            "a/",
            "/a/b/",
            "a/b/../../..",
            "/../../x",
            "a/./b//c.txt",
            "x.tar.gz",
            ".hidden",
            "dir.d/file",
            "a/b.",
            "../a/.b",
            "C:\\x\\y.z",
        ] {
            for f in [
                "base", "dir", "clean", "ext", "isAbs", "osBase", "osDir", "osClean", "osExt",
                "osIsAbs",
            ] {
                cases.push((f, vec![Value::str(p)]));
            }
        }
        super::super::reflect::oracle::check(&cases);
    }

    #[test]
    fn urls_against_helm() {
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for u in [
            "",
            "*",
            "http://example.com",
            "https://u:p%40ss@Example.com:8443/a%20b/c?x=1&y=2#frag%21",
            "HTTP://[::1]:80/p",
            "mailto:me@example.com",
            "/just/a/path?q",
            "rel/path#f",
            "//host/x",
            "postgres://user@db:5432/name?sslmode=disable",
            "s3://bucket/key with space",
            "http://h/a?",
            "http://h:port/x",
            "::",
            "a:b/c",
            "http://[fe80::1%25en0]:8080/",
            "http://h/%zz",
        ] {
            cases.push(("urlParse", vec![Value::str(u)]));
        }
        let d = |pairs: &[(&str, &str)]| {
            Value::map(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), Value::str(v)))
                    .collect(),
            )
        };
        for m in [
            d(&[
                ("scheme", "https"),
                ("host", "example.com:443"),
                ("path", "/a b/c"),
                ("query", "x=1"),
                ("fragment", "f g"),
            ]),
            d(&[("host", "h"), ("path", "rel")]),
            d(&[("path", "a:b/c")]),
            d(&[("scheme", "mailto"), ("opaque", "me@example.com")]),
            d(&[
                ("scheme", "http"),
                ("userinfo", "user:pa ss"),
                ("host", "h"),
            ]),
            d(&[("scheme", "http"), ("host", "héllo"), ("path", "/x?y")]),
            d(&[]),
            Value::map([("host".to_string(), Value::Int(1))].into()),
        ] {
            cases.push(("urlJoin", vec![m]));
        }
        super::super::reflect::oracle::check(&cases);
    }
}
