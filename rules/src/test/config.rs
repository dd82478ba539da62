//! `[tests]` in `workspace.toml`, and the files tests read: policy files and the schema
//! directory.
//!
//! ```toml
//! [tests]
//! schemas = "/opt/kubernetes-json-schema"   # kubeconform layout; relative to the workspace
//! unknown_kinds = "warn"                    # error | warn | skip: objects with no schema
//! ```
//!
//! `schemas` holds one directory per Kubernetes version, as kubeconform and the
//! `kubernetes-validate` package lay them out; the cluster's `kube_version` picks the first of
//! `v1.31.0-standalone-strict`, `v1.31.0-standalone`, `v1.31.0-local-strict`, `v1.31.0-local`,
//! `v1.31.0`. A directory that holds schema files itself is used as is.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use wayfinder_engine::glob_match;

use crate::diag::Problem;
use crate::load::WORKSPACE_FILE;
use crate::tomlread::{Sp, TomlFile};

/// What to do with an object no schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unknown {
    Error,
    Warn,
    Skip,
}

impl Unknown {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Unknown::Error => "error",
            Unknown::Warn => "warn",
            Unknown::Skip => "skip",
        }
    }
}

/// The `[tests]` settings.
#[derive(Debug, Clone)]
pub(crate) struct TestConfig {
    pub schemas: Option<Sp<String>>,
    pub unknown_kinds: Unknown,
    /// The text of `workspace.toml`, for problems that point into it.
    pub src: Arc<String>,
}

/// Reads `[tests]` from `workspace.toml`.
pub(crate) fn read(root: &Path, problems: &mut Vec<Problem>) -> TestConfig {
    let text = std::fs::read_to_string(root.join(WORKSPACE_FILE)).unwrap_or_default();
    let src = Arc::new(text);
    let mut cfg = TestConfig {
        schemas: None,
        unknown_kinds: Unknown::Warn,
        src: src.clone(),
    };
    let mut f = TomlFile::new(WORKSPACE_FILE, &src);
    let Some(doc) = f.parse() else {
        problems.extend(f.problems);
        return cfg;
    };
    let doc = doc.get_ref();
    if let Some((t, _)) = f.table(doc, "", "tests") {
        f.check_keys(t, "tests", &["schemas", "unknown_kinds"]);
        cfg.schemas = f.str(t, "tests", "schemas");
        if let Some(u) = f.str(t, "tests", "unknown_kinds") {
            cfg.unknown_kinds = match u.v.as_str() {
                "error" => Unknown::Error,
                "warn" => Unknown::Warn,
                "skip" => Unknown::Skip,
                other => {
                    f.problem(
                        u.span.clone(),
                        "wayfinder::test::config",
                        format!("unknown `tests.unknown_kinds` value `{other}`"),
                    )
                    .help = Some("use `error`, `warn` or `skip`".into());
                    Unknown::Warn
                }
            };
        }
    }
    problems.extend(f.problems);
    cfg
}

/// The schema directory for `kube_version`, or a problem pointing at `tests.schemas`.
pub(crate) fn schema_dir(
    root: &Path,
    cfg: &TestConfig,
    kube_version: Option<&str>,
    problems: &mut Vec<Problem>,
) -> Option<PathBuf> {
    let s = cfg.schemas.as_ref()?;
    let problem = |message: String, help: String| {
        Problem::at(
            WORKSPACE_FILE,
            &cfg.src,
            s.span.clone(),
            "wayfinder::test::schemas",
            message,
        )
        .help(help)
    };
    let base = root.join(&s.v);
    if !base.is_dir() {
        problems.push(problem(
            format!("schema directory `{}` does not exist", s.v),
            "point `tests.schemas` at a directory in kubeconform's layout (`v1.31.0-standalone-strict/deployment-apps-v1.json`…)".into(),
        ));
        return None;
    }
    if holds_schemas(&base) {
        return Some(base);
    }
    let Some(kv) = kube_version else {
        problems.push(problem(
            format!("schema directory `{}` has one directory per Kubernetes version, but the workspace has no `kube_version`", s.v),
            "set `kube_version` in `[workspace]`".into(),
        ));
        return None;
    };
    let v = format!("v{}", kv.trim().trim_start_matches('v'));
    for suffix in [
        "-standalone-strict",
        "-standalone",
        "-local-strict",
        "-local",
        "",
    ] {
        let d = base.join(format!("{v}{suffix}"));
        if d.is_dir() {
            return Some(d);
        }
    }
    let mut have: Vec<String> = std::fs::read_dir(&base)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    have.sort();
    have.truncate(12);
    problems.push(problem(
        format!(
            "schema directory `{}` has no schemas for Kubernetes `{v}`",
            s.v
        ),
        format!(
            "it has: {}",
            if have.is_empty() {
                "nothing".to_string()
            } else {
                have.join(", ")
            }
        ),
    ));
    None
}

fn holds_schemas(dir: &Path) -> bool {
    dir.join("_definitions.json").is_file()
        || std::fs::read_dir(dir).is_ok_and(|rd| {
            rd.flatten().any(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.ends_with("-v1.json")
            })
        })
}

/// The `.json` files of a schema directory, sorted.
pub(crate) fn schema_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Workspace files (relative paths) matching `pattern` (`*` crosses directories), sorted.
pub(crate) fn glob_files(root: &Path, pattern: &str) -> Vec<String> {
    let fixed: Vec<&str> = pattern
        .split('/')
        .take_while(|c| !c.contains(['*', '?']))
        .collect();
    let has_glob = fixed.len() < pattern.split('/').count();
    if !has_glob {
        return if root.join(pattern).is_file() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        };
    }
    let start = fixed.join("/");
    let mut out = Vec::new();
    walk(root, &start, pattern, &mut out, 0);
    out.sort();
    out
}

fn walk(root: &Path, rel: &str, pattern: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 8 || out.len() > 10_000 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let child = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(root, &child, pattern, out, depth + 1),
            Ok(t) if t.is_file() && glob_match(pattern, &child) => out.push(child),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tests_table_and_reports_bad_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(WORKSPACE_FILE),
            "[workspace]\nname = \"x\"\n\n[tests]\nschemas = \"nope\"\nunknown_kinds = \"loud\"\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let cfg = read(dir.path(), &mut problems);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("`loud`"));
        assert_eq!(problems[0].line, 6);
        let mut problems = Vec::new();
        assert!(schema_dir(dir.path(), &cfg, Some("1.31.0"), &mut problems).is_none());
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("`nope` does not exist"));
        assert_eq!(problems[0].line, 5);
    }

    #[test]
    fn picks_the_version_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("s/v1.31.0-local")).unwrap();
        std::fs::create_dir_all(dir.path().join("s/v1.31.0-standalone-strict")).unwrap();
        std::fs::write(
            dir.path().join(WORKSPACE_FILE),
            "[tests]\nschemas = \"s\"\n",
        )
        .unwrap();
        let mut problems = Vec::new();
        let cfg = read(dir.path(), &mut problems);
        let got = schema_dir(dir.path(), &cfg, Some("1.31.0"), &mut problems).unwrap();
        assert!(got.ends_with("v1.31.0-standalone-strict"));
        assert!(schema_dir(dir.path(), &cfg, Some("1.30.0"), &mut problems).is_none());
        assert!(problems[0]
            .help
            .as_deref()
            .unwrap_or("")
            .contains("v1.31.0-local"));
    }

    #[test]
    fn globs_cross_directories() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("v/p/sub")).unwrap();
        for f in ["v/p/a.yaml", "v/p/b.yml", "v/p/sub/c.yaml"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        assert_eq!(
            glob_files(dir.path(), "v/p/*.yaml"),
            ["v/p/a.yaml", "v/p/sub/c.yaml"]
        );
        assert_eq!(glob_files(dir.path(), "v/p/b.yml"), ["v/p/b.yml"]);
        assert!(glob_files(dir.path(), "v/q/*.yaml").is_empty());
    }
}
