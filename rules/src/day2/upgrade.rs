//! `wayfinder upgrade`: new voyage pins in `cluster.toml`, as a reviewable change.
//!
//! 1. [`select_clusters`]: names or globs, and/or `--selector KEY=VALUE` on labels.
//! 2. [`plan_upgrade`]: the new text of each `cluster.toml`, edited with `toml_edit` so
//!    formatting and comments stay; clusters already on the version are left alone.
//! 3. [`preflight`]: in a git repository, refuse when the files to change have uncommitted
//!    changes, and check `--branch` (valid name, not taken) before touching anything.
//! 4. The caller applies the plan, reloads (an unknown version is a load error naming the file
//!    and the key: the plan is reverted) and renders the diff.
//! 5. [`commit_upgrade`]: `git checkout -b BRANCH` and one commit of just those files.

use std::collections::BTreeMap;
use std::path::Path;

use toml_edit::DocumentMut;
use wayfinder_engine::glob_match;

use super::diff::{plural, FleetDiff};
use super::git::Git;
use super::Day2Error;
use crate::diag::did_you_mean;
use crate::load::{Cluster, Workspace};

/// `VOYAGE@VERSION` → (voyage, version).
pub fn parse_pin(s: &str) -> Result<(String, String), Day2Error> {
    match s.split_once('@') {
        Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() && !v.contains('@') => {
            Ok((n.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(Day2Error::Usage {
            message: format!("`{s}` is not a voyage pin"),
            help: Some("write `--to VOYAGE@VERSION`, such as `--to core@1.6.0`".into()),
        }),
    }
}

/// The clusters named (names or globs, `cluster:` allowed) and matching every selector.
///
/// Clusters chosen by selector alone are only those that pin `voyage` already (any
/// version): a label selector moves clusters along their voyage, never onto another one.
/// A cluster named explicitly may switch voyages.
pub fn select_clusters<'w>(
    ws: &'w Workspace,
    names: &[String],
    selectors: &[String],
    voyage: &str,
) -> Result<Vec<&'w Cluster>, Day2Error> {
    known_voyage(ws, voyage)?;
    if names.is_empty() && selectors.is_empty() {
        return Err(Day2Error::Usage {
            message: "no cluster to upgrade".into(),
            help: Some(
                "name clusters (`peu01`, `p*`) or select them by label (`--selector env=prod`)"
                    .into(),
            ),
        });
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    for s in selectors {
        match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                labels.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => {
                return Err(Day2Error::Usage {
                    message: format!("`{s}` is not a label selector"),
                    help: Some(
                        "write `--selector KEY=VALUE`, such as `--selector env=prod`".into(),
                    ),
                })
            }
        }
    }
    let all_names = || ws.clusters.iter().map(|c| c.name.as_str());
    let patterns: Vec<&str> = names
        .iter()
        .map(|n| n.strip_prefix("cluster:").unwrap_or(n))
        .collect();
    for (p, raw) in patterns.iter().zip(names) {
        if !all_names().any(|n| glob_match(p, n)) {
            return Err(Day2Error::NoCluster {
                pattern: raw.clone(),
                help: did_you_mean(p, all_names())
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        "clusters are named by the `name` of their `cluster.toml`".into()
                    }),
            });
        }
    }
    let chosen: Vec<&Cluster> = ws
        .clusters
        .iter()
        .filter(|c| patterns.is_empty() || patterns.iter().any(|p| glob_match(p, &c.name)))
        .filter(|c| {
            labels
                .iter()
                .all(|(k, v)| c.labels.get(k).is_some_and(|l| l == v))
        })
        .filter(|c| !patterns.is_empty() || c.voyage.as_ref().is_none_or(|(n, _)| n == voyage))
        .collect();
    if chosen.is_empty() {
        let what = [
            names.join(" "),
            selectors
                .iter()
                .map(|s| format!("--selector {s}"))
                .collect::<Vec<_>>()
                .join(" "),
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
        return Err(Day2Error::NoCluster {
            pattern: what,
            help: format!("no cluster pinning `{voyage}` has all of these labels; `cluster.toml` files set them in `labels = {{ … }}`"),
        });
    }
    Ok(chosen)
}

/// An unknown voyage name is refused before anything else (a version not in the workspace
/// is left to the loader, which may find it in the registry).
fn known_voyage(ws: &Workspace, voyage: &str) -> Result<(), Day2Error> {
    if !ws.voyages.iter().any(|v| v.name == voyage) {
        let names: Vec<&str> = ws.voyages.iter().map(|v| v.name.as_str()).collect();
        let help = did_you_mean(voyage, names.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| {
                format!(
                    "the workspace has {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        return Err(Day2Error::Usage {
            message: format!("unknown voyage `{voyage}`"),
            help: Some(help),
        });
    }
    Ok(())
}

/// One `cluster.toml` to rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeEdit {
    pub cluster: String,
    /// Workspace-relative path of the `cluster.toml`.
    pub file: String,
    /// The pin before (`core@1.5.0`), if any.
    pub from: Option<String>,
    pub old_text: String,
    pub new_text: String,
}

/// The files an upgrade rewrites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradePlan {
    /// `VOYAGE@VERSION`.
    pub to: String,
    pub edits: Vec<UpgradeEdit>,
    /// Clusters that already pin `to`.
    pub already: Vec<String>,
}

/// The new `cluster.toml` texts pinning `to` (`VOYAGE@VERSION`).
pub fn plan_upgrade(
    ws: &Workspace,
    clusters: &[&Cluster],
    to: &str,
) -> Result<UpgradePlan, Day2Error> {
    let (voyage, _version) = parse_pin(to)?;
    known_voyage(ws, &voyage)?;
    let mut plan = UpgradePlan {
        to: to.to_string(),
        edits: Vec::new(),
        already: Vec::new(),
    };
    for c in clusters {
        let path = ws.root.join(&c.file);
        let old_text = std::fs::read_to_string(&path)
            .map_err(|e| Day2Error::Io(format!("cannot read `{}`: {e}", c.file)))?;
        let (new_text, from) = repin(&old_text, to).map_err(|message| Day2Error::Usage {
            message: format!("cannot rewrite `{}`: {message}", c.file),
            help: Some(
                "the `voyage` key must be a string such as `voyage = \"core@1.5.0\"`".into(),
            ),
        })?;
        if from.as_deref() == Some(to) {
            plan.already.push(c.name.clone());
            continue;
        }
        plan.edits.push(UpgradeEdit {
            cluster: c.name.clone(),
            file: c.file.clone(),
            from,
            old_text,
            new_text,
        });
    }
    Ok(plan)
}

/// Sets the top-level `voyage` key of a `cluster.toml` text, keeping everything else.
fn repin(text: &str, to: &str) -> Result<(String, Option<String>), String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let from = match doc.get_mut("voyage") {
        Some(item) => {
            let Some(value) = item.as_value_mut() else {
                return Err("`voyage` is not a value".into());
            };
            let Some(old) = value.as_str().map(str::to_string) else {
                return Err("`voyage` is not a string".into());
            };
            let decor = value.decor().clone();
            *value = toml_edit::Value::from(to);
            *value.decor_mut() = decor;
            Some(old)
        }
        None => {
            doc.insert("voyage", toml_edit::value(to));
            None
        }
    };
    Ok((doc.to_string(), from))
}

impl UpgradePlan {
    /// The files to change.
    pub fn files(&self) -> Vec<String> {
        self.edits.iter().map(|e| e.file.clone()).collect()
    }

    /// Writes the new texts.
    pub fn apply(&self, root: &Path) -> Result<(), Day2Error> {
        for e in &self.edits {
            if let Err(err) = write_atomic(&root.join(&e.file), &e.new_text) {
                self.revert(root);
                return Err(Day2Error::Io(format!("cannot write `{}`: {err}", e.file)));
            }
        }
        Ok(())
    }

    /// Puts the old texts back (best effort: used on the way out of an error).
    pub fn revert(&self, root: &Path) {
        for e in &self.edits {
            let _ = write_atomic(&root.join(&e.file), &e.old_text);
        }
    }

    /// The commit message: the clusters, the pin change and the rendered diff summary.
    pub fn commit_message(&self, diff: &FleetDiff) -> String {
        let names: Vec<&str> = self.edits.iter().map(|e| e.cluster.as_str()).collect();
        let subject = match names.as_slice() {
            [one] => format!("upgrade {one} to {}", self.to),
            _ => format!("upgrade {} clusters to {}", names.len(), self.to),
        };
        let mut m = format!("{subject}\n\n");
        let mut by_from: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for e in &self.edits {
            by_from
                .entry(e.from.clone().unwrap_or_else(|| "no pin".into()))
                .or_default()
                .push(&e.cluster);
        }
        m.push_str(&format!("{}:\n", plural(names.len(), "Cluster")));
        for (from, cs) in &by_from {
            for c in cs {
                m.push_str(&format!("- {c}: {from} -> {}\n", self.to));
            }
        }
        m.push_str(&format!("\nRendered diff: {}\n", diff.stat()));
        for c in &diff.clusters {
            let (a, r, ch) = c.counts();
            m.push_str(&format!(
                "- {}: {a} added, {r} removed, {ch} changed\n",
                c.name
            ));
        }
        m
    }
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Checks git before anything is written; returns whether the workspace is in a repository.
pub fn preflight(root: &Path, files: &[String], branch: Option<&str>) -> Result<bool, Day2Error> {
    let git = Git::new(root);
    match git.toplevel() {
        Ok(_) => {}
        Err(e @ Day2Error::NotGitRepo { .. }) => {
            return if branch.is_some() { Err(e) } else { Ok(false) };
        }
        Err(e) => return Err(e),
    }
    let dirty = git.dirty(files)?;
    if !dirty.is_empty() {
        return Err(Day2Error::Dirty { files: dirty });
    }
    if let Some(b) = branch {
        let ok = git.output(&["check-ref-format", "--branch", b])?.ok;
        if !ok || b.starts_with('-') {
            return Err(Day2Error::Usage {
                message: format!("`{b}` is not a valid branch name"),
                help: Some(
                    "use letters, digits, `-`, `_`, `.` and `/`, such as `upgrade/core-1.6.0`"
                        .into(),
                ),
            });
        }
        if git.try_rev_parse(&format!("refs/heads/{b}"))?.is_some() {
            return Err(Day2Error::BranchExists {
                branch: b.to_string(),
            });
        }
    }
    Ok(true)
}

/// Creates `branch` at `HEAD`, switches to it and commits just `files`; returns the commit.
pub fn commit_upgrade(
    root: &Path,
    files: &[String],
    branch: &str,
    message: &str,
) -> Result<String, Day2Error> {
    let git = Git::new(root).with_identity();
    git.run(&["checkout", "-q", "-b", branch])?;
    let mut add: Vec<&str> = vec!["add", "--"];
    add.extend(files.iter().map(String::as_str));
    git.run(&add)?;
    let mut commit: Vec<&str> = vec!["commit", "-q", "--no-verify", "-F", "-", "--"];
    commit.extend(files.iter().map(String::as_str));
    git.run_with_input(&commit, message.as_bytes())?;
    git.run(&["rev-parse", "HEAD"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_parse() {
        assert_eq!(
            parse_pin("core@1.6.0").unwrap(),
            ("core".into(), "1.6.0".into())
        );
        for bad in ["core", "@1", "core@", "a@b@c"] {
            assert!(parse_pin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn repin_keeps_comments_and_layout() {
        let text = "name = \"peu01\"\nvoyage = \"core@1.5.0\"    # the pin\nlabels = { env = \"prod\" }\n\n[components.x]\nvalues = [\"a.yaml\"]   # overlay\n";
        let (new, from) = repin(text, "core@1.6.0").unwrap();
        assert_eq!(from.as_deref(), Some("core@1.5.0"));
        assert_eq!(new, text.replace("core@1.5.0", "core@1.6.0"));
    }

    #[test]
    fn repin_adds_a_missing_pin() {
        let (new, from) = repin("name = \"a\"\n", "core@1.6.0").unwrap();
        assert_eq!(from, None);
        assert!(new.contains("voyage = \"core@1.6.0\""));
        let parsed: toml::Value = toml::from_str(&new).unwrap();
        assert_eq!(parsed["voyage"].as_str(), Some("core@1.6.0"));
    }

    #[test]
    fn repin_rejects_odd_files() {
        assert!(repin("voyage = 3\n", "core@1").is_err());
        assert!(repin("voyage = [\n", "core@1").is_err());
    }
}
