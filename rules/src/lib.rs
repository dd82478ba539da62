//! `wayfinder-rules`: reads `workspace.toml`, `voyage.toml` and `cluster.toml` and turns them
//! into build actions for `wayfinder-engine`, rendering with `wayfinder-render`.
//!
//! - `model`: the declarations, parsed with spans; `load`: the resolved, checked workspace;
//! - `actions`: chart, voyage, render and cluster actions, and what feeds their keys;
//! - `build`: a whole build, the output tree, the summary;
//! - `query`: `deps`, `rdeps`, `affected`, the graph; `explain`: why a target rebuilt;
//! - `template`: `wayfinder template` (a drop-in for `helm template`); `init`: a new workspace.
//!
//! ```no_run
//! use wayfinder_engine::MemStore;
//! use wayfinder_rules::{find_root, BuildOptions, Session};
//! let store = MemStore::new();
//! let root = find_root(std::path::Path::new(".")).unwrap();
//! let session = Session::open(&root, &store).unwrap();
//! let report = session.build(&store, &BuildOptions::default()).unwrap();
//! println!("{}", report.summary_json());
//! ```

mod actions;
mod build;
pub mod day2;
mod diag;
mod explain;
mod fast;
mod init;
mod load;
mod model;
pub mod package;
mod query;
mod resolve;
mod segments;
mod state;
mod template;
pub mod test;
mod tomlread;

pub use actions::{kustomization, RULES_VERSION};
pub use build::{BuildError, BuildOptions, BuildReport, FastStart, Session};
pub use diag::{did_you_mean, edit_distance, Problem, Problems};
pub use explain::{explain, Explanation};
pub use init::{init_workspace, InitError};
pub use load::{
    cache_dir_setting, find_root, ChartInfo, Cluster, Component, LoadError, Voyage, Workspace,
    WORKSPACE_FILE,
};
pub use model::WorkspaceDecl;
pub use query::{affected_since, graph_json, QueryError};
pub use template::{template, TemplateArgs, TemplateError};
pub use tomlread::Sp;
