//! Harness for Wayfinder's integration tests: it copies a workspace into a
//! temp dir and runs the real `wayfinder` binary on it, the way a user does.
//!
//! ```no_run
//! use wayfinder_tests::Workspace;
//!
//! let ws = Workspace::example();               // the repo's example fleet, in a temp dir
//! let run = ws.run(&["build", "--json"]);      // target/debug/wayfinder, cwd = the copy
//! run.assert_success();
//! let summary = run.summary();                 // the JSON summary on stdout
//! assert!(summary.actions().iter().all(|a| a.status == "built"));
//! ```
//!
//! 1. [`wayfinder_bin`] finds the binary: `$WAYFINDER_BIN`, else next to the
//!    test executable (`target/<profile>/wayfinder`). Cargo gives
//!    `CARGO_BIN_EXE_*` only to tests of the same package, and the binary lives
//!    in `wayfinder-cli`, so the test command builds the workspace first
//!    (`scripts/test.sh` runs `cargo build --workspace` before `cargo test`).
//! 2. [`Workspace`] owns a temp dir holding the workspace copy, a private cache
//!    dir and a private `HOME`; every command runs with a clean `WAYFINDER_*`
//!    environment, `NO_COLOR=1` and a timeout.
//! 3. [`Run`] holds the exit code and output, with assertions for the CLI
//!    contract (exit codes 0/1/2, no panic, file:line in diagnostics).
//! 4. [`oracle`] runs `../shared/tools/helm-oracle` when `helm_python` is
//!    importable; tests that need it skip with a message otherwise.
//! 5. [`fleet`] knows the example fleet: its clusters, components and the
//!    values files layered for each (DESIGN.md §2).
#![allow(clippy::print_stdout)] // test harness: skip messages go to the test's output

mod run;
mod tree;
mod workspace;

pub mod fleet;
pub mod oracle;
pub mod pki;

pub use run::{Action, Run, Summary, STATUSES};
pub use tree::{snapshot, FileState, Tree};
pub use workspace::{copy_tree, repo_root, shared_dir, wayfinder_bin, Workspace};

/// True when `needle` occurs in `haystack` once whitespace and the
/// box-drawing characters and ASCII gutters (`|`) of diagnostics are ignored, so a
/// message wrapped over several lines still matches.
pub fn contains_loose(haystack: &str, needle: &str) -> bool {
    fn squash(s: &str) -> String {
        s.chars()
            .filter(|c| {
                !c.is_whitespace()
                    && !('\u{2500}'..='\u{257f}').contains(c)
                    && *c != '·'
                    && *c != '|'
            })
            .collect()
    }
    squash(haystack).contains(&squash(needle))
}

/// The environment's test servers, exported by `scripts/test.sh`.
pub mod servers {
    /// `host:port` of the OCI registry without auth (`WAYFINDER_TEST_REGISTRY`).
    pub fn registry() -> Option<String> {
        non_empty("WAYFINDER_TEST_REGISTRY")
    }
    /// `host:port` of the registry with htpasswd auth (`WAYFINDER_TEST_REGISTRY_AUTH`).
    pub fn registry_auth() -> Option<String> {
        non_empty("WAYFINDER_TEST_REGISTRY_AUTH")
    }
    /// User and password of the auth registry and of the auth HTTP cache.
    pub fn credentials() -> Option<(String, String)> {
        Some((
            non_empty("WAYFINDER_TEST_REGISTRY_USER")?,
            non_empty("WAYFINDER_TEST_REGISTRY_PASSWORD")?,
        ))
    }
    /// URL of the nginx WebDAV cache (`WAYFINDER_TEST_HTTP_CACHE`).
    pub fn http_cache() -> Option<String> {
        non_empty("WAYFINDER_TEST_HTTP_CACHE")
    }
    /// URL of the same cache behind basic auth (`WAYFINDER_TEST_HTTP_CACHE_AUTH`).
    pub fn http_cache_auth() -> Option<String> {
        non_empty("WAYFINDER_TEST_HTTP_CACHE_AUTH")
    }
    /// The directory nginx serves the open cache from, for tests that corrupt blobs.
    pub fn http_cache_dir() -> Option<std::path::PathBuf> {
        non_empty("WAYFINDER_TEST_HTTP_CACHE_DIR").map(Into::into)
    }
    /// kubernetes-validate's schema root (`WAYFINDER_TEST_K8S_SCHEMAS`), holding
    /// `v1.31.0-local-strict/` and the like, in kubeconform's layout.
    pub fn k8s_schemas() -> Option<std::path::PathBuf> {
        non_empty("WAYFINDER_TEST_K8S_SCHEMAS").map(Into::into)
    }
    fn non_empty(var: &str) -> Option<String> {
        std::env::var(var).ok().filter(|v| !v.is_empty())
    }
}
