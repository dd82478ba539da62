//! `.helmignore` as `helm package` applies it (Helm's `pkg/ignore`): one rule per line, `#`
//! comments, `!` negation, a trailing `/` for directories only, a leading `/` or an inner
//! `/` matches the whole path, otherwise the base name; `**` is an error; the first rule
//! that decides wins (a negated rule decides "ignore" for every path it does not match);
//! the default rule `templates/.?*` is always added. Globs follow Go's `filepath.Match`.

/// A parsed `.helmignore`.
#[derive(Debug, Default)]
pub(crate) struct HelmIgnore {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    glob: String,
    whole_path: bool,
    negate: bool,
    dir_only: bool,
}

impl HelmIgnore {
    /// Parses `.helmignore` text (an empty text gives only the default rule).
    pub(crate) fn parse(text: &str) -> Result<HelmIgnore, String> {
        let mut me = HelmIgnore::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in text.lines().enumerate() {
            me.add(line.trim())
                .map_err(|e| format!(".helmignore line {}: {e}", i + 1))?;
        }
        me.add("templates/.?*")?;
        Ok(me)
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        glob_match(rule, "abc")?;
        let (negate, r) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (dir_only, r) = match r.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, r),
        };
        let (whole_path, glob) = match r.strip_prefix('/') {
            Some(r) => (true, r),
            None => (r.contains('/'), r),
        };
        self.rules.push(Rule {
            glob: glob.to_string(),
            whole_path,
            negate,
            dir_only,
        });
        Ok(())
    }

    /// Is `path` (relative to the chart root) ignored?
    pub(crate) fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        for r in &self.rules {
            let subject = if r.whole_path { path } else { base };
            let matched = glob_match(&r.glob, subject).unwrap_or(false);
            if r.negate {
                if (r.dir_only && !is_dir) || !matched {
                    return true;
                }
                continue;
            }
            if r.dir_only && !is_dir {
                continue;
            }
            if matched {
                return true;
            }
        }
        false
    }

    /// Is the file at `path` kept: neither it nor any directory above it is ignored?
    pub(crate) fn keeps_file(&self, path: &str) -> bool {
        let mut dir = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len().saturating_sub(1)] {
            if !dir.is_empty() {
                dir.push('/');
            }
            dir.push_str(p);
            if self.ignored(&dir, true) {
                return false;
            }
        }
        !self.ignored(path, false)
    }
}

/// Go's `filepath.Match` with `/` as the separator; `Err` for a malformed pattern.
pub(crate) fn glob_match(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let ok = match_at(&p, &n, 0)?;
    // Go checks the rest of the pattern for syntax errors only when it fails early; checking
    // the whole pattern up front is stricter only for patterns Helm would also reject.
    check_syntax(&p)?;
    Ok(ok)
}

fn check_syntax(p: &[char]) -> Result<(), String> {
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return Err("syntax error in pattern".into());
                }
                i += 2;
            }
            '[' => {
                let (_, next) = class(p, i, '\0')?;
                i = next;
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Parses a `[...]` class at `p[i]`; returns (does `c` match, index after `]`).
fn class(p: &[char], i: usize, c: char) -> Result<(bool, usize), String> {
    let bad = || "syntax error in pattern".to_string();
    // One class character, escapes resolved; `-` and `]` must be escaped (Go's getEsc).
    let esc = |j: &mut usize| -> Result<char, String> {
        let mut ch = *p.get(*j).ok_or_else(bad)?;
        if ch == '-' || ch == ']' {
            return Err(bad());
        }
        if ch == '\\' {
            *j += 1;
            ch = *p.get(*j).ok_or_else(bad)?;
        }
        *j += 1;
        Ok(ch)
    };
    let mut j = i + 1;
    let negated = p.get(j) == Some(&'^');
    if negated {
        j += 1;
    }
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if p.get(j) == Some(&']') && ranges > 0 {
            j += 1;
            break;
        }
        let lo = esc(&mut j)?;
        let mut hi = lo;
        if p.get(j) == Some(&'-') {
            j += 1;
            hi = esc(&mut j)?;
            if hi < lo {
                return Err(bad());
            }
        }
        ranges += 1;
        if lo <= c && c <= hi {
            matched = true;
        }
    }
    Ok((matched != negated, j))
}

fn match_at(p: &[char], n: &[char], depth: usize) -> Result<bool, String> {
    if depth > 64 {
        return Ok(false);
    }
    let (mut pi, mut ni) = (0, 0);
    while pi < p.len() {
        match p[pi] {
            '*' => {
                while pi < p.len() && p[pi] == '*' {
                    pi += 1;
                }
                // `*` matches any run of non-separators.
                let mut k = ni;
                loop {
                    if match_at(&p[pi..], &n[k..], depth + 1)? {
                        return Ok(true);
                    }
                    if k >= n.len() || n[k] == '/' {
                        return Ok(false);
                    }
                    k += 1;
                }
            }
            '?' => {
                if ni >= n.len() || n[ni] == '/' {
                    return Ok(false);
                }
                pi += 1;
                ni += 1;
            }
            '[' => {
                if ni >= n.len() || n[ni] == '/' {
                    return Ok(false);
                }
                let (m, next) = class(p, pi, n[ni])?;
                if !m {
                    return Ok(false);
                }
                pi = next;
                ni += 1;
            }
            '\\' => {
                let c = *p.get(pi + 1).ok_or("syntax error in pattern")?;
                if ni >= n.len() || n[ni] != c {
                    return Ok(false);
                }
                pi += 2;
                ni += 1;
            }
            c => {
                if ni >= n.len() || n[ni] != c {
                    return Ok(false);
                }
                pi += 1;
                ni += 1;
            }
        }
    }
    Ok(ni == n.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_globs() {
        assert!(glob_match("*.md", "README.md").unwrap());
        assert!(!glob_match("*.md", "a/README.md").unwrap());
        assert!(glob_match("a?c", "abc").unwrap());
        assert!(glob_match("[a-c]x", "bx").unwrap());
        assert!(!glob_match("[^a-c]x", "bx").unwrap());
        assert!(glob_match("\\*", "*").unwrap());
        assert!(glob_match("[", "x").is_err());
    }

    #[test]
    fn helmignore_rules() {
        let h = HelmIgnore::parse("# c\n*.md\n/secret.txt\nskipdir/\nci/*.yaml\n").unwrap();
        assert!(!h.keeps_file("README.md"));
        assert!(!h.keeps_file("docs/x.md"));
        assert!(!h.keeps_file("secret.txt"));
        assert!(h.keeps_file("sub/secret.txt"));
        assert!(!h.keeps_file("skipdir/a.yaml"));
        assert!(!h.keeps_file("ci/test.yaml"));
        assert!(h.keeps_file("templates/a.yaml"));
        assert!(!h.keeps_file("templates/.hidden"));
        assert!(h.keeps_file("values.yaml"));
        assert!(HelmIgnore::parse("a/**/b\n").is_err());
    }
}
