//! Rendered trees: the `clusters/<cluster>/<file>.yaml` files of one state of the workspace,
//! read from a directory, from a build of the working tree, or from a build of a git revision.
//!
//! A revision is built in a checkout kept at `<git dir>/wayfinder/checkouts/<prefix>/` (the
//! workspace's own subtree only). The checkout is updated with `git read-tree -u` and its own
//! index, so files that did not change keep their stamps, the path stays the same (the cache
//! keys its stat records and the last build by workspace path) and the second diff against a
//! nearby revision is close to a no-op build. The checkout shares the cache with the working
//! tree: renders already done for either side are cache hits. A second `wayfinder diff`
//! running at the same time uses a temporary checkout instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wayfinder_engine::{glob_match, Store};

use super::git::Git;
use super::Day2Error;
use crate::build::{BuildOptions, Session};
use crate::diag::did_you_mean;

/// Rendered output: cluster → file name → text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RenderedTree {
    pub clusters: BTreeMap<String, BTreeMap<String, String>>,
}

/// Which clusters and components a diff looks at (`TARGET…`).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    /// (cluster glob, component) pairs; empty means everything.
    patterns: Vec<(String, Option<String>)>,
    raw: Vec<String>,
}

impl Selection {
    /// Parses `cluster:GLOB`, `render:CLUSTER/COMPONENT` or a bare cluster name or glob.
    pub fn parse(targets: &[String]) -> Result<Selection, Day2Error> {
        let mut patterns = Vec::new();
        for t in targets {
            let p = if let Some(c) = t.strip_prefix("cluster:") {
                (c.to_string(), None)
            } else if let Some(rc) = t.strip_prefix("render:") {
                match rc.split_once('/') {
                    Some((c, comp)) if !c.is_empty() && !comp.is_empty() => {
                        (c.to_string(), Some(comp.to_string()))
                    }
                    _ => {
                        return Err(Day2Error::BadTarget {
                            target: t.clone(),
                            help: "name a component as `render:CLUSTER/COMPONENT`".into(),
                        })
                    }
                }
            } else if t.contains(':') {
                return Err(Day2Error::BadTarget {
                    target: t.clone(),
                    help: "a diff is per cluster: use `cluster:NAME`, `render:CLUSTER/COMPONENT`, or a cluster name or glob".into(),
                });
            } else {
                (t.clone(), None)
            };
            if p.0.is_empty() {
                return Err(Day2Error::BadTarget {
                    target: t.clone(),
                    help: "the cluster name is empty".into(),
                });
            }
            patterns.push(p);
        }
        Ok(Selection {
            patterns,
            raw: targets.to_vec(),
        })
    }

    /// True when no target was given.
    pub fn is_all(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Does the selection include (part of) this cluster?
    pub fn cluster(&self, name: &str) -> bool {
        self.is_all() || self.patterns.iter().any(|(g, _)| glob_match(g, name))
    }

    /// Does the selection include this output file of this cluster?
    pub fn file(&self, cluster: &str, file: &str) -> bool {
        if self.is_all() {
            return true;
        }
        let stem = file
            .strip_suffix(".yaml")
            .or_else(|| file.strip_suffix(".yml"))
            .unwrap_or(file);
        self.patterns.iter().any(|(g, comp)| {
            glob_match(g, cluster) && comp.as_deref().is_none_or(|c| glob_match(c, stem))
        })
    }

    /// Checks that every pattern names a cluster of at least one side.
    pub fn check(&self, known: &BTreeSet<String>) -> Result<(), Day2Error> {
        for ((g, _), raw) in self.patterns.iter().zip(&self.raw) {
            if !known.iter().any(|n| glob_match(g, n)) {
                let help = did_you_mean(g, known.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| {
                        "`wayfinder query deps` and `wayfinder graph` list the clusters".into()
                    });
                return Err(Day2Error::NoCluster {
                    pattern: raw.clone(),
                    help,
                });
            }
        }
        Ok(())
    }
}

/// Reads `dir` (a directory of rendered output: `out/` or its `clusters/`).
pub fn read_dir_tree(dir: &Path, sel: &Selection) -> Result<RenderedTree, Day2Error> {
    let clusters_dir = if dir.join("clusters").is_dir() {
        dir.join("clusters")
    } else {
        dir.to_path_buf()
    };
    if !clusters_dir.is_dir() {
        return Err(Day2Error::Io(format!(
            "`{}` is not a directory of rendered output",
            dir.display()
        )));
    }
    let mut names = Vec::new();
    let rd = std::fs::read_dir(&clusters_dir)
        .map_err(|e| Day2Error::Io(format!("cannot read `{}`: {e}", clusters_dir.display())))?;
    for e in rd.flatten() {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    read_clusters(&clusters_dir, names.iter().map(String::as_str), sel)
}

/// Reads the files of the named clusters under `clusters_dir` (a missing cluster is empty).
fn read_clusters<'a>(
    clusters_dir: &Path,
    names: impl Iterator<Item = &'a str>,
    sel: &Selection,
) -> Result<RenderedTree, Day2Error> {
    use rayon::prelude::*;
    let names: Vec<&str> = names.filter(|n| sel.cluster(n)).collect();
    type Files = BTreeMap<String, String>;
    let read: Result<Vec<(String, Files)>, Day2Error> = names
        .par_iter()
        .map(|name| {
            let dir = clusters_dir.join(name);
            let mut files = BTreeMap::new();
            let Ok(rd) = std::fs::read_dir(&dir) else {
                return Ok((name.to_string(), files));
            };
            for e in rd.flatten() {
                let fname = e.file_name().to_string_lossy().into_owned();
                let is_yaml = fname.ends_with(".yaml") || fname.ends_with(".yml");
                if !is_yaml || fname.starts_with('.') || !sel.file(name, &fname) {
                    continue;
                }
                let bytes = std::fs::read(e.path()).map_err(|err| {
                    Day2Error::Io(format!("cannot read `{}`: {err}", e.path().display()))
                })?;
                files.insert(fname, String::from_utf8_lossy(&bytes).into_owned());
            }
            Ok((name.to_string(), files))
        })
        .collect();
    Ok(RenderedTree {
        clusters: read?.into_iter().collect(),
    })
}

/// The names of the clusters of a loaded workspace.
pub fn cluster_names(session: &Session) -> BTreeSet<String> {
    session.ws.clusters.iter().map(|c| c.name.clone()).collect()
}

/// Builds the selected clusters of `session` (all of them when `sel` is empty); returns the
/// names of the clusters built. A failed action is an error: its side cannot be compared or
/// published.
///
/// `state` names the side for messages (`the working tree`, `revision HEAD~1`).
pub fn build_selected<'s>(
    session: &'s Session,
    store: &dyn Store,
    opts: &BuildOptions<'_>,
    sel: &Selection,
    state: &str,
) -> Result<Vec<&'s str>, Day2Error> {
    let names: Vec<&str> = session
        .ws
        .clusters
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| sel.cluster(n))
        .collect();
    if names.is_empty() {
        return Ok(names);
    }
    let targets = if sel.is_all() {
        Vec::new()
    } else {
        names.iter().map(|n| format!("cluster:{n}")).collect()
    };
    let build_opts = BuildOptions {
        targets,
        jobs: opts.jobs,
        on_outcome: opts.on_outcome,
        on_start: opts.on_start,
        tests: false,
    };
    let report = session
        .build(store, &build_opts)
        .map_err(|e| Day2Error::Build {
            state: state.to_string(),
            source: e,
        })?;
    if report.failed() {
        let mut failed: Vec<String> = report
            .outcomes
            .iter()
            .filter(|o| o.status == wayfinder_engine::Status::Failed)
            .map(|o| o.target.clone())
            .collect();
        failed.sort();
        return Err(Day2Error::BuildFailed {
            state: state.to_string(),
            targets: failed,
        });
    }
    Ok(names)
}

/// Builds the selected clusters of `session` and reads their rendered output.
///
/// `state` names the side for messages (`the working tree`, `revision HEAD~1`).
pub fn build_and_read(
    session: &Session,
    store: &dyn Store,
    opts: &BuildOptions<'_>,
    sel: &Selection,
    state: &str,
) -> Result<RenderedTree, Day2Error> {
    let names = build_selected(session, store, opts, sel, state)?;
    if names.is_empty() {
        return Ok(RenderedTree::default());
    }
    let t0 = std::time::Instant::now();
    let tree = read_clusters(&session.out_dir().join("clusters"), names.into_iter(), sel);
    tracing::debug!(
        ms = t0.elapsed().as_millis() as u64,
        state,
        "read the rendered tree"
    );
    tree
}

/// A checkout of one revision's workspace, released (and removed when temporary) on drop.
pub struct Checkout {
    /// The workspace root inside the checkout.
    pub root: PathBuf,
    /// The commit checked out.
    pub commit: String,
    lock: Option<PathBuf>,
    temporary: Option<PathBuf>,
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(l) = &self.lock {
            let _ = std::fs::remove_file(l);
        }
        if let Some(t) = &self.temporary {
            let _ = std::fs::remove_dir_all(t);
            let _ = std::fs::remove_file(t.with_extension("index"));
        }
    }
}

/// A lock older than this was left by a process that died.
const STALE_LOCK: Duration = Duration::from_secs(30 * 60);

/// Checks out the workspace of revision `rev` of the repository holding `root`.
pub fn checkout_revision(root: &Path, rev: &str) -> Result<Checkout, Day2Error> {
    let git = Git::new(root);
    git.toplevel()?;
    let prefix = git.prefix()?;
    let commit = git.commit_of(rev)?;
    let prefix_trim = prefix.trim_end_matches('/');
    let spec = if prefix_trim.is_empty() {
        format!("{commit}^{{tree}}")
    } else {
        format!("{commit}:{prefix_trim}")
    };
    // (`rev:path^{tree}` would read `path^{tree}` as the path: `spec` names a tree as is.)
    let Some(tree) = git.try_rev_parse(&spec)? else {
        return Err(Day2Error::NoWorkspaceAtRevision {
            rev: rev.to_string(),
            path: prefix_trim.to_string(),
        });
    };
    let git_dir =
        PathBuf::from(git.run(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?);
    let base = git_dir.join("wayfinder").join("checkouts");
    std::fs::create_dir_all(&base)
        .map_err(|e| Day2Error::Io(format!("cannot create `{}`: {e}", base.display())))?;
    let slot = if prefix_trim.is_empty() {
        "root".to_string()
    } else {
        prefix_trim.replace('/', "__")
    };
    let stable = base.join(&slot);
    let lock = base.join(format!("{slot}.lock"));
    let (dir, lock, temporary) = match take_lock(&lock) {
        true => (stable, Some(lock), None),
        false => {
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let t = base.join(format!("{slot}.tmp-{}-{nanos}", std::process::id()));
            (t.clone(), None, Some(t))
        }
    };
    let checkout = Checkout {
        root: dir.clone(),
        commit,
        lock,
        temporary,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| Day2Error::Io(format!("cannot create `{}`: {e}", dir.display())))?;
    let index = dir.with_extension("index");
    let work_tree = format!("--work-tree={}", dir.display());
    let indexed = git.with_env("GIT_INDEX_FILE", &index.display().to_string());
    let args = [work_tree.as_str(), "read-tree", "--reset", "-u", &tree];
    if indexed.run(&args).is_err() {
        // A checkout left broken (an interrupted run, a corrupt index): start it afresh.
        let _ = std::fs::remove_file(&index);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Day2Error::Io(format!("cannot create `{}`: {e}", dir.display())))?;
        indexed.run(&args)?;
    }
    Ok(checkout)
}

/// Takes the lock file, or says it is held by a live process.
fn take_lock(path: &Path) -> bool {
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
        {
            Ok(_) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let stale = std::fs::metadata(path)
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_LOCK);
                if !stale || std::fs::remove_file(path).is_err() {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    false
}

/// Builds the workspace of revision `rev` (in a checkout sharing `store`) and reads the
/// selected clusters' output; returns the tree and the commit.
pub fn render_revision(
    root: &Path,
    rev: &str,
    store: &dyn Store,
    opts: &BuildOptions<'_>,
    sel: &Selection,
) -> Result<(RenderedTree, BTreeSet<String>, String), Day2Error> {
    let t0 = std::time::Instant::now();
    let checkout = checkout_revision(root, rev)?;
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, rev, "checked out");
    let session = Session::open(&checkout.root, store).map_err(|e| Day2Error::RevisionLoad {
        rev: rev.to_string(),
        source: e,
    })?;
    let names = cluster_names(&session);
    tracing::debug!(ms = t0.elapsed().as_millis() as u64, "loaded the revision");
    let tree = build_and_read(&session, store, opts, sel, &format!("revision `{rev}`"))?;
    tracing::debug!(
        ms = t0.elapsed().as_millis() as u64,
        "built and read the revision"
    );
    Ok((tree, names, checkout.commit.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(t: &[&str]) -> Selection {
        Selection::parse(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn selection_by_cluster_and_component() {
        let s = sel(&["cluster:p*", "render:gdev01/ingress-nginx", "hdev02"]);
        assert!(s.cluster("peu01"));
        assert!(s.cluster("gdev01"));
        assert!(s.cluster("hdev02"));
        assert!(!s.cluster("gstg01"));
        assert!(s.file("gdev01", "ingress-nginx.yaml"));
        assert!(!s.file("gdev01", "cert-manager.yaml"));
        assert!(!s.file("gdev01", "kustomization.yaml"));
        assert!(s.file("peu01", "kustomization.yaml"));
        assert!(sel(&[]).file("x", "y.yaml"));
    }

    #[test]
    fn bad_targets_are_rejected() {
        for bad in ["chart:x", "render:x", "render:/y", "cluster:"] {
            assert!(
                Selection::parse(&[bad.to_string()]).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn unknown_clusters_get_a_suggestion() {
        let known: BTreeSet<String> = ["peu01", "peu02"].iter().map(|s| s.to_string()).collect();
        let err = sel(&["peu03"]).check(&known).unwrap_err();
        assert!(err.to_string().contains("peu03"));
        assert!(sel(&["peu0*"]).check(&known).is_ok());
    }

    #[test]
    fn reads_a_directory_of_output() {
        let tmp = tempfile::tempdir().unwrap();
        let c = tmp.path().join("clusters/a");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(c.join("x.yaml"), "kind: A\n").unwrap();
        std::fs::write(c.join("notes.txt"), "no").unwrap();
        let t = read_dir_tree(tmp.path(), &Selection::default()).unwrap();
        assert_eq!(t.clusters["a"].len(), 1);
        assert_eq!(t.clusters["a"]["x.yaml"], "kind: A\n");
        assert!(read_dir_tree(&tmp.path().join("nope"), &Selection::default()).is_err());
    }

    #[test]
    fn stale_locks_are_taken_fresh_ones_are_not() {
        let tmp = tempfile::tempdir().unwrap();
        let l = tmp.path().join("x.lock");
        assert!(take_lock(&l));
        assert!(!take_lock(&l));
    }
}
