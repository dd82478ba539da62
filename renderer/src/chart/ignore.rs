//! `.helmignore` rules exactly as Helm's `pkg/ignore` applies them (not gitignore's rules).
//!
//! - One pattern per line, surrounding whitespace trimmed; blank lines and `#` lines skipped.
//! - `**` anywhere is an error; a pattern Go's `filepath.Match` rejects is an error.
//! - `!p` negates, `p/` only matches directories, `/p` matches the whole path from the chart
//!   root, a pattern with a `/` matches the whole path, otherwise only the base name.
//! - Rules are tried in order and the first decision wins. A negated rule decides "ignore" for
//!   every path it does NOT match (and for files when it is a directory rule) and passes on the
//!   ones it matches: Helm's quirk, kept.
//! - The loader appends the default rule `templates/.?*` (dotfiles in `templates/`).

use super::glob;

#[derive(Debug, Clone)]
enum Kind {
    /// Matches the whole path (leading `/` stripped, or the pattern holds a `/`).
    Path,
    /// Matches the base name only.
    Base,
}

#[derive(Debug, Clone)]
struct Pattern {
    glob: String,
    kind: Kind,
    negate: bool,
    must_dir: bool,
}

/// A parsed `.helmignore`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    patterns: Vec<Pattern>,
}

impl Rules {
    /// Parses the text of a `.helmignore` file.
    pub(crate) fn parse(text: &[u8]) -> Result<Rules, String> {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        let mut rules = Rules::default();
        for line in text.split(|&b| b == b'\n') {
            // bufio.Scanner's line limit.
            if line.len() > 64 * 1024 {
                return Err("bufio.Scanner: token too long".into());
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            rules.add(&String::from_utf8_lossy(line))?;
        }
        Ok(rules)
    }

    /// Adds Helm's default rule: dotfiles under `templates/` are ignored.
    pub(crate) fn add_defaults(&mut self) {
        // The default pattern is well formed.
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        glob::matches(rule, "abc").map_err(str::to_string)?;
        let mut rule = rule;
        let negate = if let Some(r) = rule.strip_prefix('!') {
            rule = r;
            true
        } else {
            false
        };
        let must_dir = if let Some(r) = rule.strip_suffix('/') {
            rule = r;
            true
        } else {
            false
        };
        let (glob, kind) = if let Some(r) = rule.strip_prefix('/') {
            (r, Kind::Path)
        } else if rule.contains('/') {
            (rule, Kind::Path)
        } else {
            (rule, Kind::Base)
        };
        self.patterns.push(Pattern {
            glob: glob.to_string(),
            kind,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored.
    pub(crate) fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            let subject = match p.kind {
                Kind::Path => path,
                Kind::Base => base_name(path),
            };
            let matched = glob::matches(&p.glob, subject).unwrap_or(false);
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !matched {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Base` for `/`-separated relative paths.
fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" };
    }
    match trimmed.rfind('/') {
        Some(i) => &trimmed[i + 1..],
        None => trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Rules {
        let mut r = Rules::parse(text.as_bytes()).expect("rules parse");
        r.add_defaults();
        r
    }

    // Expectations from Helm's documentation of pkg/ignore and its rules tests.
    #[test]
    fn helm_documented_semantics() {
        let cases: &[(&str, &str, bool, bool)] = &[
            // pattern, path, is_dir, ignored
            ("helm.txt", "helm.txt", false, true),
            ("helm.*", "helm.txt", false, true),
            ("helm.*", "rudder.txt", false, false),
            ("*.txt", "tiller.txt", false, true),
            ("*.txt", "cargo/a.txt", false, true),
            ("cargo/*.txt", "cargo/a.txt", false, true),
            ("cargo/*.*", "cargo/a.txt", false, true),
            ("cargo/*.txt", "mast/a.txt", false, false),
            ("ru[c-e]?er.txt", "rudder.txt", false, true),
            ("templates/.?*", "templates/.dotfile", false, true),
            ("/*.txt", "tiller.txt", false, true),
            ("/*.txt", "cargo/a.txt", false, false),
            ("/helm.txt", "helm.txt", false, true),
            ("cargo/", "cargo", true, true),
            ("cargo/", "mast/", true, false),
            ("helm.txt/", "helm.txt", false, false),
            ("!helm.txt", "helm.txt", false, false),
            ("!helm.txt", "tiller.txt", false, true),
            ("!cargo/", "cargo/", true, false),
            ("!cargo/", "mast/", true, true),
            ("!cargo/", "helm.txt", false, true),
            ("*", "anything", false, true),
            ("#x", "#x", false, false),
            ("", "x", false, false),
        ];
        for (pat, path, dir, want) in cases {
            let r = rules(pat);
            assert_eq!(r.ignore(path, *dir), *want, "pattern {pat:?} on {path:?}");
        }
    }

    #[test]
    fn defaults_and_errors() {
        let r = rules("");
        assert!(r.ignore("templates/.hidden.yaml", false));
        assert!(!r.ignore("templates/x.yaml", false));
        assert!(!r.ignore(".", true));
        assert!(Rules::parse(b"a/**/b").is_err());
        assert!(Rules::parse(b"[").is_err());
        assert!(Rules::parse(b"  \n# comment\n\xEF\xBB\xBF*.md\n").is_ok());
        // Leading BOM is stripped, whitespace trimmed, CRLF handled.
        let r = Rules::parse(b"\xEF\xBB\xBF *.md \r\nOWNERS\r\n").expect("parse");
        assert!(r.ignore("README.md", false));
        assert!(r.ignore("docs/OWNERS", false));
        assert!(!r.ignore("values.yaml", false));
    }
}
