//! Go's `path` functions (`base`, `dir`, `clean`, `ext`, `isAbs`) and their `path/filepath`
//! twins (`osBase`, …), which on Linux behave the same.

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
}
