//! Helm's `.Files` object (`map[string][]byte` with `Get`, `GetBytes`, `Glob`, `Lines`,
//! `AsConfig`, `AsSecrets`) and the gobwas/glob patterns `Glob` takes.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use super::base_name;
use crate::chart::ChartFile;
use crate::value::{Data, FuncError, Object, Value};

/// Helm's `engine.files` (`map[string][]byte` with methods).
pub struct Files {
    pub files: BTreeMap<String, Arc<[u8]>>,
}

impl Files {
    pub(super) fn from_chart(files: &[ChartFile]) -> Files {
        Files {
            files: files
                .iter()
                .map(|f| (f.name.clone(), f.data.clone()))
                .collect(),
        }
    }

    fn get_bytes(&self, name: &str) -> Arc<[u8]> {
        self.files
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::from(&[][..]))
    }

    fn glob(&self, pattern: &str) -> Files {
        let g = Glob::compile(pattern).unwrap_or_else(Glob::match_all);
        Files {
            files: self
                .files
                .iter()
                .filter(|(k, _)| g.matches(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }

    fn by_base_name(&self, encode: fn(&[u8]) -> String) -> String {
        let mut m = BTreeMap::new();
        for (k, v) in &self.files {
            m.insert(base_name(k).to_string(), Data::String(encode(v)));
        }
        let y = crate::yaml::to_yaml(&Data::Map(m));
        y.strip_suffix('\n').map(str::to_string).unwrap_or(y)
    }

    fn lines(&self, name: &str) -> Result<Value, FuncError> {
        let Some(data) = self.files.get(name) else {
            return Ok(Value::list(Vec::new()));
        };
        if data.is_empty() {
            return Err(FuncError::new(
                "rendering template failed: runtime error: index out of range [-1]",
            ));
        }
        let s = String::from_utf8_lossy(data);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        Ok(Value::list(s.split('\n').map(Value::str).collect()))
    }
}

fn one_string_arg<'a>(method: &str, args: &'a [Value]) -> Result<&'a str, FuncError> {
    match args {
        [Value::String(s)] => Ok(s),
        [other] => Err(FuncError::new(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        ))),
        _ => Err(FuncError::new(format!(
            "wrong number of args for {method}: want 1 got {}",
            args.len()
        ))),
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" => Some(Value::string(
                self.by_base_name(|b| String::from_utf8_lossy(b).into_owned()),
            )),
            "AsSecrets" => Some(Value::string(
                self.by_base_name(crate::funcs::encoding::b64_encode),
            )),
            _ => None,
        }
    }
    fn has_method(&self, name: &str) -> bool {
        matches!(name, "Get" | "GetBytes" | "Glob" | "Lines")
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, FuncError> {
        let arg = one_string_arg(name, args)?;
        match name {
            "Get" => Ok(Value::string(
                String::from_utf8_lossy(&self.get_bytes(arg)).into_owned(),
            )),
            "GetBytes" => Ok(Value::Bytes(Rc::from(&self.get_bytes(arg)[..]))),
            "Glob" => Ok(Value::Object(Rc::new(self.glob(arg)))),
            "Lines" => self.lines(arg),
            _ => Err(FuncError::new(format!("can't call method {name}"))),
        }
    }
    fn go_string(&self) -> String {
        let mut out = String::from("map[");
        for (i, (k, v)) in self.files.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str(k);
            out.push_str(":[");
            let nums: Vec<String> = v.iter().map(|b| b.to_string()).collect();
            out.push_str(&nums.join(" "));
            out.push(']');
        }
        out.push(']');
        out
    }
    fn to_data(&self) -> Data {
        Data::Map(
            self.files
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Data::String(String::from_utf8_lossy(v).into_owned()),
                    )
                })
                .collect(),
        )
    }
    fn truthy(&self) -> bool {
        !self.files.is_empty()
    }
    fn as_value(&self) -> Option<Value> {
        Some(self.as_map_value())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Files {
    /// The files as a Go map value (`range $path, $bytes := .Files.Glob …`): path → bytes.
    pub fn as_map_value(&self) -> Value {
        Value::map(
            self.files
                .iter()
                .map(|(k, v)| (k.clone(), Value::Bytes(Rc::from(&v[..]))))
                .collect(),
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Glob patterns (github.com/gobwas/glob with '/' as separator)

#[derive(Clone, Debug)]
enum GlobTok {
    Lit(char),
    /// `*`: any run of non-separator characters.
    Star,
    /// `**`: any run of characters.
    Super,
    /// `?`: one non-separator character.
    Single,
    /// `[...]` / `[!...]`.
    Class(bool, Vec<(char, char)>),
}

/// A compiled glob: its `{a,b}` alternatives expanded into flat patterns.
pub(super) struct Glob {
    alts: Vec<Vec<GlobTok>>,
}

const GLOB_MAX_ALTERNATIVES: usize = 1024;

impl Glob {
    fn match_all() -> Glob {
        Glob {
            alts: vec![vec![GlobTok::Super]],
        }
    }

    /// `None` when the pattern does not compile (gobwas: unclosed `[` or `{`…).
    pub(super) fn compile(pattern: &str) -> Option<Glob> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let alts = Self::seq(&chars, &mut pos, false)?;
        if pos != chars.len() {
            return None;
        }
        Some(Glob { alts })
    }

    /// Parses a sequence until end (or `,`/`}` inside braces); returns its expansions.
    fn seq(c: &[char], pos: &mut usize, in_brace: bool) -> Option<Vec<Vec<GlobTok>>> {
        let mut out: Vec<Vec<GlobTok>> = vec![Vec::new()];
        while *pos < c.len() {
            let ch = c[*pos];
            match ch {
                ',' | '}' if in_brace => return Some(out),
                '\\' => {
                    let next = *c.get(*pos + 1)?;
                    *pos += 2;
                    out.iter_mut().for_each(|p| p.push(GlobTok::Lit(next)));
                }
                '*' => {
                    let tok = if c.get(*pos + 1) == Some(&'*') {
                        *pos += 2;
                        GlobTok::Super
                    } else {
                        *pos += 1;
                        GlobTok::Star
                    };
                    out.iter_mut().for_each(|p| p.push(tok.clone()));
                }
                '?' => {
                    *pos += 1;
                    out.iter_mut().for_each(|p| p.push(GlobTok::Single));
                }
                '[' => {
                    *pos += 1;
                    let neg = c.get(*pos) == Some(&'!');
                    if neg {
                        *pos += 1;
                    }
                    let mut ranges = Vec::new();
                    loop {
                        let a = *c.get(*pos)?;
                        if a == ']' {
                            *pos += 1;
                            break;
                        }
                        if c.get(*pos + 1) == Some(&'-')
                            && c.get(*pos + 2).is_some_and(|&x| x != ']')
                        {
                            ranges.push((a, c[*pos + 2]));
                            *pos += 3;
                        } else {
                            ranges.push((a, a));
                            *pos += 1;
                        }
                    }
                    let tok = GlobTok::Class(neg, ranges);
                    out.iter_mut().for_each(|p| p.push(tok.clone()));
                }
                '{' => {
                    *pos += 1;
                    let mut options: Vec<Vec<GlobTok>> = Vec::new();
                    loop {
                        let alt = Self::seq(c, pos, true)?;
                        options.extend(alt);
                        match c.get(*pos) {
                            Some(',') => *pos += 1,
                            Some('}') => {
                                *pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                    let mut next = Vec::new();
                    for p in &out {
                        for o in &options {
                            let mut q = p.clone();
                            q.extend(o.iter().cloned());
                            next.push(q);
                            if next.len() > GLOB_MAX_ALTERNATIVES {
                                return None;
                            }
                        }
                    }
                    out = next;
                }
                _ => {
                    *pos += 1;
                    out.iter_mut().for_each(|p| p.push(GlobTok::Lit(ch)));
                }
            }
        }
        if in_brace {
            return None;
        }
        Some(out)
    }

    pub(super) fn matches(&self, s: &str) -> bool {
        let chars: Vec<char> = s.chars().collect();
        self.alts.iter().any(|p| glob_match(p, &chars))
    }
}

/// Wildcard matching by dynamic programming over (pattern position, text position).
fn glob_match(p: &[GlobTok], s: &[char]) -> bool {
    // reach[j]: the pattern prefix processed so far can end at text position j.
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    for tok in p {
        let mut next = vec![false; s.len() + 1];
        match tok {
            GlobTok::Star | GlobTok::Super => {
                let mut on = false;
                for j in 0..=s.len() {
                    if reach[j] {
                        on = true;
                    }
                    if on {
                        next[j] = true;
                    }
                    if j < s.len() && matches!(tok, GlobTok::Star) && s[j] == '/' {
                        on = false;
                    }
                }
            }
            _ => {
                for j in 0..s.len() {
                    if reach[j] && tok_matches_char(tok, s[j]) {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[s.len()]
}

fn tok_matches_char(tok: &GlobTok, c: char) -> bool {
    match tok {
        GlobTok::Lit(l) => *l == c,
        GlobTok::Single => c != '/',
        GlobTok::Class(neg, ranges) => {
            let inside = ranges.iter().any(|(a, b)| *a <= c && c <= *b);
            // gobwas: a negated class never matches the separator.
            if *neg {
                !inside && c != '/'
            } else {
                inside
            }
        }
        GlobTok::Star | GlobTok::Super => false,
    }
}
