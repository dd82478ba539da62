//! `wayfinder explain TARGET`: which inputs changed between the last two builds of a target.

use std::collections::BTreeMap;
use std::fmt;

use wayfinder_engine::{Blob, Digest, Store};

use crate::state::{decode_inputs, workspace_id, BuildRecord};

/// Why a target was (re)built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explanation {
    /// The target was never built in this workspace.
    NeverBuilt { target: String },
    /// Built once: no earlier build to compare with.
    FirstBuild { target: String, key: String },
    /// The inputs of the last build against those of the build before it.
    Changed {
        target: String,
        key: String,
        previous_key: String,
        changed: Vec<String>,
        added: Vec<String>,
        removed: Vec<String>,
        /// The key changed but no named input did (rules version, settings).
        other: bool,
    },
}

impl Explanation {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Explanation::NeverBuilt { target } => {
                serde_json::json!({"target": target, "status": "never-built"})
            }
            Explanation::FirstBuild { target, key } => {
                serde_json::json!({"target": target, "status": "first-build", "key": key})
            }
            Explanation::Changed {
                target,
                key,
                previous_key,
                changed,
                added,
                removed,
                other,
            } => serde_json::json!({
                "target": target, "status": "changed", "key": key, "previous_key": previous_key,
                "changed": changed, "added": added, "removed": removed, "settings_changed": other,
            }),
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Explanation::NeverBuilt { target } => writeln!(f, "`{target}` has not been built yet"),
            Explanation::FirstBuild { target, key } => writeln!(
                f,
                "`{target}` has been built once (key {}): there is no earlier build to compare with",
                &key[..12.min(key.len())]
            ),
            Explanation::Changed { target, key, previous_key, changed, added, removed, other } => {
                writeln!(
                    f,
                    "`{target}`: key {} → {}",
                    &previous_key[..12.min(previous_key.len())],
                    &key[..12.min(key.len())]
                )?;
                for c in changed {
                    writeln!(f, "  changed: {c}")?;
                }
                for a in added {
                    writeln!(f, "  added:   {a}")?;
                }
                for r in removed {
                    writeln!(f, "  removed: {r}")?;
                }
                if *other {
                    writeln!(f, "  no input file changed: a setting (release, namespace, kube version, API versions) or the rules version did")?;
                }
                Ok(())
            }
        }
    }
}

fn inputs(store: &dyn Store, d: &Digest<Blob>) -> BTreeMap<String, Digest<Blob>> {
    store
        .get_blob(d)
        .and_then(|b| decode_inputs(&b))
        .unwrap_or_default()
}

/// Compares the inputs of the last two distinct builds of `target` in the workspace at `root`.
pub fn explain(root: &std::path::Path, store: &dyn Store, target: &str) -> Explanation {
    explain_depth(root, store, target, 0)
}

fn explain_depth(
    root: &std::path::Path,
    store: &dyn Store,
    target: &str,
    depth: usize,
) -> Explanation {
    if depth > 4 {
        return Explanation::NeverBuilt {
            target: target.to_string(),
        };
    }
    let id = workspace_id(root);
    let record = BuildRecord::load(store, &format!("build-{id}")).unwrap_or_default();
    let Some(t) = record.targets.get(target) else {
        return Explanation::NeverBuilt {
            target: target.to_string(),
        };
    };
    let Some((prev_key, prev_inputs)) = t.previous else {
        return Explanation::FirstBuild {
            target: target.to_string(),
            key: t.key.to_hex(),
        };
    };
    let now = inputs(store, &t.inputs);
    let before = inputs(store, &prev_inputs);
    let changed: Vec<String> = now
        .iter()
        .filter(|(n, d)| before.get(*n).is_some_and(|b| b != *d))
        .map(|(n, _)| n.clone())
        .collect();
    let added: Vec<String> = now
        .keys()
        .filter(|n| !before.contains_key(*n))
        .cloned()
        .collect();
    let removed: Vec<String> = before
        .keys()
        .filter(|n| !now.contains_key(*n))
        .cloned()
        .collect();
    // An upstream target whose output changed: name the files that changed under it.
    let mut changed = changed;
    for name in changed.clone() {
        if let Explanation::Changed { changed: inner, .. } =
            explain_depth(root, store, &name, depth + 1)
        {
            changed.extend(inner.into_iter().map(|f| {
                if f.contains(" (via ") {
                    f
                } else {
                    format!("{f} (via `{name}`)")
                }
            }));
        }
    }
    let other = changed.is_empty() && added.is_empty() && removed.is_empty();
    Explanation::Changed {
        target: target.to_string(),
        key: t.key.to_hex(),
        previous_key: prev_key.to_hex(),
        changed,
        added,
        removed,
        other,
    }
}
