//! Semantic versions for dependency matching, through the Sprig semver implementation
//! (`funcs::semver`, Masterminds/semver v3 as Helm pins it), so there is one implementation.

use crate::funcs::semver::{Constraints, Version};

/// Helm's `IsCompatibleRange(constraint, version)`: false when either does not parse.
pub(crate) fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (Constraints::parse(constraint), Version::parse(version)) {
        (Ok(c), Ok(v)) => c.check(&v),
        _ => false,
    }
}

/// Whether `version` is a valid chart version (`semver.NewVersion`).
pub(crate) fn is_valid_version(version: &str) -> bool {
    Version::parse(version).is_ok()
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
