//! Typed, spanned reads from a parsed TOML table, collecting every problem.

use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{did_you_mean, Problem};

/// A value with the byte span of its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sp<T> {
    pub v: T,
    pub span: Range<usize>,
}

impl<T> Sp<T> {
    pub fn new(v: T, span: Range<usize>) -> Sp<T> {
        Sp { v, span }
    }
}

/// One TOML file being read: its name, text and the problems found so far.
pub(crate) struct TomlFile<'a> {
    pub name: &'a str,
    pub src: &'a Arc<String>,
    pub problems: Vec<Problem>,
}

fn type_name(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> TomlFile<'a> {
    pub(crate) fn new(name: &'a str, src: &'a Arc<String>) -> TomlFile<'a> {
        TomlFile {
            name,
            src,
            problems: Vec::new(),
        }
    }

    /// Parses the whole file; a syntax error is a problem and gives `None`.
    pub(crate) fn parse(&mut self) -> Option<Spanned<DeTable<'a>>> {
        match DeTable::parse(self.src.as_str()) {
            Ok(t) => Some(t),
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                let msg = e.message().trim_end().trim_end_matches('.').to_string();
                self.problems.push(
                    Problem::at(
                        self.name,
                        self.src,
                        span,
                        "wayfinder::toml::syntax",
                        format!("invalid TOML: {msg}"),
                    )
                    .label("here")
                    .help("fix the TOML syntax (https://toml.io)"),
                );
                None
            }
        }
    }

    pub(crate) fn problem(
        &mut self,
        span: Range<usize>,
        code: &'static str,
        message: String,
    ) -> &mut Problem {
        self.problems
            .push(Problem::at(self.name, self.src, span, code, message));
        let last = self.problems.len() - 1;
        &mut self.problems[last]
    }

    /// Reports keys of `table` (at dotted `path`) that are not in `allowed`.
    pub(crate) fn check_keys(&mut self, table: &DeTable<'_>, path: &str, allowed: &[&str]) {
        for key in table.keys() {
            let k: &str = key.get_ref();
            if allowed.contains(&k) {
                continue;
            }
            let help = match did_you_mean(k, allowed.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "expected one of {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let full = join(path, k);
            let p = self.problem(
                key.span(),
                "wayfinder::toml::unknown_key",
                format!("unknown key `{full}`"),
            );
            p.label = "unknown key".into();
            p.help = Some(help);
        }
    }

    fn wrong_type(&mut self, v: &Spanned<DeValue<'_>>, key: &str, expected: &str) {
        let found = type_name(v.get_ref());
        let p = self.problem(
            v.span(),
            "wayfinder::toml::type",
            format!("`{key}` must be {expected}, found {found}"),
        );
        p.label = format!("expected {expected}");
    }

    /// A required key is missing from the table spanning `span`.
    pub(crate) fn missing(&mut self, span: Range<usize>, key: &str, help: &str) {
        // Point at the table header (its first line), not the whole table.
        let start = span.start;
        let end = self.src[start.min(self.src.len())..]
            .find('\n')
            .map_or(span.end, |n| start + n);
        let p = self.problem(
            start..end.max(start),
            "wayfinder::toml::missing_key",
            format!("missing key `{key}`"),
        );
        p.label = "in this table".into();
        p.help = Some(help.to_string());
    }

    pub(crate) fn str(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Option<Sp<String>> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Sp::new(s.to_string(), v.span())),
            _ => {
                self.wrong_type(v, &join(path, key), "a string");
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Option<Sp<bool>> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::Boolean(b) => Some(Sp::new(*b, v.span())),
            _ => {
                self.wrong_type(v, &join(path, key), "a boolean");
                None
            }
        }
    }

    pub(crate) fn str_list(&mut self, t: &DeTable<'_>, path: &str, key: &str) -> Vec<Sp<String>> {
        let Some(v) = t.get(key) else {
            return Vec::new();
        };
        let full = join(path, key);
        match v.get_ref() {
            DeValue::Array(a) => {
                let mut out = Vec::new();
                for item in a.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(Sp::new(s.to_string(), item.span())),
                        _ => self.wrong_type(item, &format!("{full}[]"), "a string"),
                    }
                }
                out
            }
            _ => {
                self.wrong_type(v, &full, "an array of strings");
                Vec::new()
            }
        }
    }

    pub(crate) fn table<'t, 'i>(
        &mut self,
        t: &'t DeTable<'i>,
        path: &str,
        key: &str,
    ) -> Option<(&'t DeTable<'i>, Range<usize>)> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::Table(inner) => Some((inner, v.span())),
            _ => {
                self.wrong_type(v, &join(path, key), "a table");
                None
            }
        }
    }

    /// A table of string values (`labels = { env = "prod" }`).
    pub(crate) fn str_map(
        &mut self,
        t: &DeTable<'_>,
        path: &str,
        key: &str,
    ) -> Vec<(String, String)> {
        let Some((inner, _)) = self.table(t, path, key) else {
            return Vec::new();
        };
        let full = join(path, key);
        let mut out = Vec::new();
        for (k, v) in inner.iter() {
            match v.get_ref() {
                DeValue::String(s) => out.push((k.get_ref().to_string(), s.to_string())),
                _ => self.wrong_type(v, &join(&full, k.get_ref()), "a string"),
            }
        }
        out
    }
}
