//! Day-2 operations (DESIGN §7): the fleet diff, upgrades as branches, publishing to GitOps.
//!
//! - `rendered`: rendered trees (a directory, a build of the working tree, a build of a git
//!   revision in a checkout that shares the cache) and the `TARGET…` selection;
//! - `diff`: two trees compared per cluster, file and object; `format`: text, `--stat`,
//!   Markdown for a pull request, JSON;
//! - `upgrade`: rewrite voyage pins in `cluster.toml` (formatting and comments kept), and
//!   commit them on a new branch;
//! - `publish`: write the rendered tree into a GitOps repository with one commit, retrying
//!   on a concurrent push;
//! - `git`: the `git` binary with a clean environment.
//!
//! ```no_run
//! # use wayfinder_engine::MemStore;
//! # use wayfinder_rules::{BuildOptions, Session};
//! use wayfinder_rules::day2::{diff_trees, format, render_revision, build_and_read, Selection};
//! let store = MemStore::new();
//! let root = std::path::Path::new(".");
//! let session = Session::open(root, &store).unwrap();
//! let sel = Selection::default();
//! let opts = BuildOptions::default();
//! let new = build_and_read(&session, &store, &opts, &sel, "the working tree").unwrap();
//! let (old, _, _) = render_revision(root, "HEAD", &store, &opts, &sel).unwrap();
//! print!("{}", format::text(&diff_trees(&old, &new), false));
//! ```

mod diff;
pub mod format;
mod git;
mod publish;
mod rendered;
mod upgrade;

pub use diff::{
    diff_trees, Change, ClusterDiff, FileDiff, FleetDiff, ObjectChange, ObjectId, Stat,
};
pub use publish::{publish, redact, PublishOptions, PublishOutcome, RetryHook, DEFAULT_ATTEMPTS};
pub use rendered::{
    build_and_read, build_selected, checkout_revision, cluster_names, read_dir_tree,
    render_revision, Checkout, RenderedTree, Selection,
};
pub use upgrade::{
    commit_upgrade, parse_pin, plan_upgrade, preflight, select_clusters, UpgradeEdit, UpgradePlan,
};

use crate::build::BuildError;
use crate::load::LoadError;

/// A day-2 command that could not run. [`Day2Error::is_bad_input`] says which exit code.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Day2Error {
    #[error("`{path}` is not in a git repository")]
    #[diagnostic(
        code(wayfinder::git::not_a_repository),
        help("run `git init` and commit the workspace, or compare with a directory of rendered output: `--against DIR`")
    )]
    NotGitRepo { path: String },
    #[error("unknown git revision `{rev}`")]
    #[diagnostic(
        code(wayfinder::git::unknown_revision),
        help("name a commit, branch or tag of the workspace's repository, such as `HEAD~1` or `origin/main`")
    )]
    UnknownRevision { rev: String },
    #[error("the workspace does not exist at revision `{rev}` (no `{path}` in that commit)")]
    #[diagnostic(code(wayfinder::git::no_workspace))]
    NoWorkspaceAtRevision { rev: String, path: String },
    #[error("the workspace at revision `{rev}` does not load")]
    #[diagnostic(
        code(wayfinder::diff::revision_load),
        help("the problems below are in the files of `{rev}`, not of the working tree")
    )]
    RevisionLoad {
        rev: String,
        #[source]
        #[diagnostic_source]
        source: LoadError,
    },
    #[error("the build of {state} could not run")]
    #[diagnostic(code(wayfinder::diff::build))]
    Build {
        state: String,
        #[source]
        #[diagnostic_source]
        source: BuildError,
    },
    #[error("the build of {state} failed: {}", targets.join(", "))]
    #[diagnostic(
        code(wayfinder::diff::build_failed),
        help("the errors above say why; a diff needs both sides rendered")
    )]
    BuildFailed { state: String, targets: Vec<String> },
    #[error("`{target}` is not a cluster target")]
    #[diagnostic(code(wayfinder::diff::target))]
    BadTarget {
        target: String,
        #[help]
        help: String,
    },
    #[error("no cluster matches `{pattern}`")]
    #[diagnostic(code(wayfinder::day2::no_cluster))]
    NoCluster {
        pattern: String,
        #[help]
        help: String,
    },
    #[error("{message}")]
    #[diagnostic(code(wayfinder::day2::usage))]
    Usage {
        message: String,
        #[help]
        help: Option<String>,
    },
    #[error("{} uncommitted changes: {}", if files.len() == 1 { "a file to change has" } else { "files to change have" }, files.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))]
    #[diagnostic(
        code(wayfinder::git::dirty),
        help("commit or stash them first, so the upgrade is a change of its own")
    )]
    Dirty { files: Vec<String> },
    #[error("branch `{branch}` already exists")]
    #[diagnostic(
        code(wayfinder::git::branch_exists),
        help("choose another name, or delete it with `git branch -D {branch}`")
    )]
    BranchExists { branch: String },
    #[error("`{url}` is not a git repository: {message}")]
    #[diagnostic(
        code(wayfinder::publish::not_a_repository),
        help("`--git` takes the path or URL of a repository you can push to (a bare repository, or a remote URL)")
    )]
    NotARemote { url: String, message: String },
    #[error("the push to `{url}` was rejected by a server hook:\n{message}")]
    #[diagnostic(
        code(wayfinder::publish::hook),
        help("the repository's hook refused the commit; its message says why")
    )]
    HookRejected { url: String, message: String },
    #[error("the push to `{url}` was rejected: {message}")]
    #[diagnostic(code(wayfinder::publish::rejected))]
    PushRejected { url: String, message: String },
    #[error("gave up publishing to branch `{branch}` after {attempts} attempts: other publishers kept moving it")]
    #[diagnostic(
        code(wayfinder::publish::contention),
        help("run the command again, or raise `--attempts`")
    )]
    Contention { branch: String, attempts: usize },
    #[error("`git {args}` failed: {message}")]
    #[diagnostic(code(wayfinder::git::failed))]
    Git { args: String, message: String },
    #[error("{0}")]
    #[diagnostic(code(wayfinder::day2::io))]
    Io(String),
}

impl Day2Error {
    /// Bad usage or input (exit code 2) rather than a failure (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            Day2Error::NotGitRepo { .. }
            | Day2Error::UnknownRevision { .. }
            | Day2Error::NoWorkspaceAtRevision { .. }
            | Day2Error::RevisionLoad { .. }
            | Day2Error::BadTarget { .. }
            | Day2Error::NoCluster { .. }
            | Day2Error::Usage { .. }
            | Day2Error::Dirty { .. }
            | Day2Error::BranchExists { .. }
            | Day2Error::NotARemote { .. } => true,
            Day2Error::Build { source, .. } => !matches!(source, BuildError::Io(_)),
            Day2Error::BuildFailed { .. }
            | Day2Error::HookRejected { .. }
            | Day2Error::PushRejected { .. }
            | Day2Error::Contention { .. }
            | Day2Error::Git { .. }
            | Day2Error::Io(_) => false,
        }
    }
}
