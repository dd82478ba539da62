//! Queries over the build graph: dependencies, dependents, targets affected by a git change,
//! and the graph itself.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use crate::build::Session;
use crate::diag::did_you_mean;
use crate::load::WORKSPACE_FILE;

/// A query that cannot be answered.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum QueryError {
    #[error("unknown target `{target}`")]
    #[diagnostic(code(wayfinder::query::unknown_target))]
    UnknownTarget {
        target: String,
        #[help]
        help: Option<String>,
    },
    #[error("`git {args}` failed: {message}")]
    #[diagnostic(
        code(wayfinder::query::git),
        help("`--since` takes a git revision of the repository holding the workspace, such as `HEAD~1` or `origin/main`")
    )]
    Git { args: String, message: String },
}

impl Session {
    /// Checks that `target` exists.
    pub fn check_target(
        &self,
        plan: &wayfinder_engine::Plan,
        target: &str,
    ) -> Result<(), QueryError> {
        if plan.graph.contains(target) {
            return Ok(());
        }
        let names = plan.graph.names();
        Err(QueryError::UnknownTarget {
            target: target.to_string(),
            help: did_you_mean(target, names.iter().copied())
                .map(|s| format!("did you mean `{s}`?")),
        })
    }

    /// The workspace files each target reads directly.
    pub fn direct_files(&self) -> BTreeMap<String, Vec<String>> {
        let mut m: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let plan = self.plan();
        let names: BTreeSet<String> = plan.graph.names().into_iter().map(str::to_string).collect();
        for info in self.ws.charts.values() {
            // The plan may have renamed a colliding chart target.
            let target = if names.contains(&format!("chart:{}", info.path)) {
                format!("chart:{}", info.path)
            } else {
                info.target.clone()
            };
            m.entry(target)
                .or_default()
                .extend(info.files.iter().map(|(f, _)| f.clone()));
        }
        for v in &self.ws.voyages {
            let t = if names.contains(&format!("voyage:{}", v.name)) {
                format!("voyage:{}", v.name)
            } else {
                format!("voyage:{}@{}", v.name, v.version)
            };
            let e = m.entry(t).or_default();
            e.push(v.file.clone());
            for c in &v.components {
                e.extend(c.values.iter().map(|(f, _)| f.clone()));
            }
        }
        for c in &self.ws.clusters {
            let voyage_file = c.voyage.as_ref().and_then(|(n, ver)| {
                self.ws
                    .voyages
                    .iter()
                    .find(|v| &v.name == n && &v.version == ver)
                    .map(|v| v.file.clone())
            });
            m.entry(format!("cluster:{}", c.name))
                .or_default()
                .push(c.file.clone());
            for comp in &c.components {
                m.entry(format!("values:{}/{}", c.name, comp.name))
                    .or_default()
                    .extend(comp.values.iter().map(|(f, _)| f.clone()));
                let e = m
                    .entry(format!("render:{}/{}", c.name, comp.name))
                    .or_default();
                e.push(c.file.clone());
                e.extend(voyage_file.iter().cloned());
                e.extend(comp.values.iter().map(|(f, _)| f.clone()));
            }
        }
        for t in names {
            m.entry(t).or_default().push(WORKSPACE_FILE.to_string());
        }
        m
    }

    /// Targets whose inputs changed since git revision `rev` (working tree and untracked files
    /// included), with their dependents.
    pub fn affected_since(&self, rev: &str) -> Result<Vec<String>, QueryError> {
        let root = &self.ws.root;
        let git = |args: &[&str]| -> Result<String, QueryError> {
            let out = Command::new("git")
                .arg("-C")
                .arg(root)
                .args(args)
                .output()
                .map_err(|e| QueryError::Git {
                    args: args.join(" "),
                    message: e.to_string(),
                })?;
            if !out.status.success() {
                return Err(QueryError::Git {
                    args: args.join(" "),
                    message: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        let prefix = git(&["rev-parse", "--show-prefix"])?.trim().to_string();
        let mut changed: BTreeSet<String> = BTreeSet::new();
        let diff = git(&["diff", "--name-only", "--no-renames", rev, "--", "."])?;
        let untracked = git(&[
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            "--",
            ".",
        ])?;
        for line in diff.lines().chain(untracked.lines()) {
            if let Some(rel) = line.strip_prefix(&prefix) {
                changed.insert(rel.to_string());
            }
        }
        let plan = self.plan();
        let mut hit: BTreeSet<String> = BTreeSet::new();
        for (target, files) in self.direct_files() {
            if files.iter().any(|f| changed.contains(f)) {
                for r in plan.graph.rdeps(&target) {
                    hit.insert(r.to_string());
                }
                hit.insert(target);
            }
        }
        Ok(hit.into_iter().collect())
    }

    /// The graph as JSON: `{"nodes": [{"target", "kind"}], "edges": [{"from", "to"}]}`.
    pub fn graph_json(&self) -> serde_json::Value {
        let plan = self.plan();
        let nodes: Vec<serde_json::Value> = plan
            .graph
            .names()
            .into_iter()
            .map(|n| {
                let kind = plan
                    .actions
                    .get(n)
                    .map(|a| a.kind().to_string())
                    .unwrap_or_default();
                serde_json::json!({"target": n, "kind": kind})
            })
            .collect();
        let edges: Vec<serde_json::Value> = plan
            .graph
            .edges()
            .into_iter()
            .map(|(a, b)| serde_json::json!({"from": a, "to": b}))
            .collect();
        serde_json::json!({"nodes": nodes, "edges": edges})
    }
}

/// See [`Session::affected_since`].
pub fn affected_since(session: &Session, rev: &str) -> Result<Vec<String>, QueryError> {
    session.affected_since(rev)
}

/// See [`Session::graph_json`].
pub fn graph_json(session: &Session) -> serde_json::Value {
    session.graph_json()
}
