//! The part of `Masterminds/semver/v3` the chart loader needs: `NewVersion` (the loose,
//! coercing parser Helm uses to validate `Chart.yaml` versions) and `NewConstraint(..).Check`
//! (Helm's `IsCompatibleRange`, which decides whether a subchart in `charts/` satisfies a
//! declared dependency).

use std::cmp::Ordering;
use std::sync::OnceLock;

use regex::Regex;

/// A parsed semantic version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
}

const LOOSE: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const CV: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

struct Regexes {
    version: Regex,
    constraint: Regex,
    range: Regex,
    find: Regex,
    valid: Regex,
}

fn regexes() -> Option<&'static Regexes> {
    static R: OnceLock<Option<Regexes>> = OnceLock::new();
    R.get_or_init(|| {
        Some(Regexes {
            version: Regex::new(&format!("^{LOOSE}$")).ok()?,
            constraint: Regex::new(&format!(r"^\s*({OPS})\s*({CV})\s*$")).ok()?,
            range: Regex::new(&format!(r"\s*({CV})\s+-\s+({CV})\s*")).ok()?,
            find: Regex::new(&format!(r"({OPS})\s*({CV})")).ok()?,
            valid: Regex::new(&format!(
                r"^(\s*({OPS})\s*({CV})\s*)((?:\s+|,\s*)({OPS})\s*({CV})\s*)*$"
            ))
            .ok()?,
        })
    })
    .as_ref()
}

fn only(s: &str, extra_alpha: bool) -> bool {
    s.chars()
        .all(|c| c.is_ascii_digit() || (extra_alpha && (c.is_ascii_alphabetic() || c == '-')))
}

fn valid_prerelease(p: &str) -> bool {
    p.split('.').all(|part| {
        if part.is_empty() {
            false
        } else if only(part, false) {
            !(part.len() > 1 && part.starts_with('0'))
        } else {
            only(part, true)
        }
    })
}

impl Version {
    /// Masterminds' `NewVersion` (coercing: `1`, `1.2`, `v1.2.3` are accepted).
    pub(crate) fn parse(v: &str) -> Result<Version, String> {
        let re = regexes().ok_or("semver regexes failed to build")?;
        let m = re
            .version
            .captures(v)
            .ok_or_else(|| "invalid semantic version".to_string())?;
        let num = |i: usize| -> Result<u64, String> {
            match m.get(i) {
                None => Ok(0),
                Some(s) => s
                    .as_str()
                    .trim_start_matches('.')
                    .parse::<u64>()
                    .map_err(|e| format!("error parsing version segment: {e}")),
            }
        };
        let pre = m.get(5).map_or("", |s| s.as_str()).to_string();
        if !pre.is_empty() && !valid_prerelease(&pre) {
            return Err("invalid prerelease string".into());
        }
        Ok(Version {
            major: num(1)?,
            minor: num(2)?,
            patch: num(3)?,
            pre,
        })
    }

    fn compare(&self, o: &Version) -> Ordering {
        self.major
            .cmp(&o.major)
            .then(self.minor.cmp(&o.minor))
            .then(self.patch.cmp(&o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }
}

fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let ap: Vec<&str> = a.split('.').collect();
    let bp: Vec<&str> = b.split('.').collect();
    for i in 0..ap.len().max(bp.len()) {
        let s = ap.get(i).copied().unwrap_or("");
        let o = bp.get(i).copied().unwrap_or("");
        let d = compare_pre_part(s, o);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.cmp(o),
        (_, Err(_)) => Ordering::Less,
        (Err(_), _) => Ordering::Greater,
        (Ok(si), Ok(oi)) => {
            if si > oi {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

impl Constraint {
    fn parse(c: &str, re: &Regexes) -> Result<Constraint, String> {
        let m = re
            .constraint
            .captures(c)
            .ok_or_else(|| format!("improper constraint: {c:?}"))?;
        let g = |i: usize| m.get(i).map_or("", |s| s.as_str());
        let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
        let mut dirty = false;
        let mut minor_dirty = false;
        let mut patch_dirty = false;
        let ver = if is_x(major) || major.is_empty() {
            dirty = true;
            format!("0.0.0{pre}")
        } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
            dirty = true;
            minor_dirty = true;
            format!("{major}.0.0{pre}")
        } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
            dirty = true;
            patch_dirty = true;
            format!("{major}{minor}.0{pre}")
        } else {
            g(2).to_string()
        };
        let con = Version::parse(&ver).map_err(|_| "constraint parser error".to_string())?;
        Ok(Constraint {
            op: g(1).to_string(),
            con,
            dirty,
            minor_dirty,
            patch_dirty,
        })
    }

    fn check(&self, v: &Version, include_pre: bool) -> bool {
        if !v.pre.is_empty() && !include_pre {
            return false;
        }
        let c = &self.con;
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(c) == Ordering::Equal
                }
            }
            "!=" => {
                if self.dirty {
                    if c.major != v.major {
                        return true;
                    }
                    if c.minor != v.minor && !self.minor_dirty {
                        return true;
                    } else if self.minor_dirty {
                        return false;
                    } else if c.patch != v.patch && !self.patch_dirty {
                        return true;
                    } else if self.patch_dirty {
                        if !v.pre.is_empty() || !c.pre.is_empty() {
                            return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                        }
                        return false;
                    }
                }
                v.compare(c) != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return v.compare(c) == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                v.compare(c) == Ordering::Greater
            }
            "<" => v.compare(c) == Ordering::Less,
            ">=" | "=>" => v.compare(c) != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return v.compare(c) != Ordering::Greater;
                }
                if v.major > c.major {
                    return false;
                }
                !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
            }
            "~" | "~>" => self.tilde(v),
            "^" => {
                if v.compare(c) == Ordering::Less {
                    return false;
                }
                if c.major > 0 || self.minor_dirty {
                    return v.major == c.major;
                }
                if v.major > 0 {
                    return false;
                }
                if c.minor > 0 || self.patch_dirty {
                    return v.minor == c.minor;
                }
                if v.minor > 0 {
                    return false;
                }
                c.patch == v.patch
            }
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }
}

/// Masterminds' `NewConstraint`: OR groups of AND-ed constraints.
fn parse_constraints(s: &str) -> Result<Vec<(Vec<Constraint>, bool)>, String> {
    let re = regexes().ok_or("semver regexes failed to build")?;
    // Hyphen ranges `a - b` become `>= a, <= b`.
    let mut s = s.to_string();
    let ranges: Vec<(String, String, String)> = re
        .range
        .captures_iter(&s)
        .map(|m| {
            let g = |i: usize| m.get(i).map_or("", |x| x.as_str()).to_string();
            (g(0), g(1), g(11))
        })
        .collect();
    for (whole, a, b) in ranges {
        s = s.replacen(&whole, &format!(">= {a}, <= {b} "), 1);
    }
    let mut out = Vec::new();
    for part in s.split("||") {
        if !re.valid.is_match(part) {
            return Err(format!("improper constraint: {part:?}"));
        }
        let mut found: Vec<&str> = re.find.find_iter(part).map(|m| m.as_str()).collect();
        if found.is_empty() {
            found.push(part);
        }
        let mut group = Vec::new();
        let mut has_pre = false;
        for c in found {
            let pc = Constraint::parse(c, re)?;
            has_pre |= !pc.con.pre.is_empty();
            group.push(pc);
        }
        out.push((group, has_pre));
    }
    Ok(out)
}

/// Helm's `IsCompatibleRange(constraint, version)`: false when either does not parse.
pub(crate) fn is_compatible_range(constraint: &str, version: &str) -> bool {
    let Ok(v) = Version::parse(version) else {
        return false;
    };
    let Ok(groups) = parse_constraints(constraint) else {
        return false;
    };
    groups
        .iter()
        .any(|(group, has_pre)| group.iter().all(|c| c.check(&v, *has_pre)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in [
            "1.2.3",
            "v1.2.3",
            "1",
            "1.2",
            "0.0.0",
            "1.2.3-beta.1+build.5",
            "1.2.3-0a",
        ] {
            assert!(Version::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "x", "1.2.3.4", "1.2.3-", "1.2.3-01", "foo1.2", "1.2.3+", " 1.2.3",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    // Expectations from Masterminds/semver's constraint documentation.
    #[test]
    fn constraints() {
        let cases: &[(&str, &str, bool)] = &[
            ("0.12.*", "0.12.4", true),
            ("0.12.*", "0.13.0", false),
            ("1.x.x", "1.9.0", true),
            ("1.x.x", "2.0.0", false),
            ("=3.2.0", "3.2.0", true),
            ("=3.2.0", "3.2.1", false),
            ("3.2.0", "3.2.0", true),
            ("*", "4.5.6", true),
            ("*", "4.5.6-rc.1", false),
            (">=1.2.3", "1.2.3", true),
            (">=1.2.3", "1.2.2", false),
            (">= 1.2, < 3.0.0", "2.9.9", true),
            (">= 1.2, < 3.0.0", "3.0.0", false),
            (">=1.2 <3", "2.0.0", true),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("~1", "1.9.0", true),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("<1.0.0 || >=2.0.0", "2.1.0", true),
            ("<1.0.0 || >=2.0.0", "1.1.0", false),
            (">=0.0.0-0", "1.0.0-rc.1", true),
            ("!=1.2.3", "1.2.4", true),
            ("!=1.2.3", "1.2.3", false),
            ("> 1.x", "1.9.0", false),
            ("> 1.x", "2.0.0", true),
            ("<= 1.2.x", "1.2.9", true),
            ("<= 1.2.x", "1.3.0", false),
            ("", "1.0.0", false),
            ("bogus", "1.0.0", false),
            ("1.0.0", "bogus", false),
        ];
        for (c, v, want) in cases {
            assert_eq!(is_compatible_range(c, v), *want, "{c:?} vs {v:?}");
        }
    }
}
