//! A workspace copied into a temp dir, and the commands that run on it.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run::Run;

/// The paths of the repo's example workspace that a copy needs.
const EXAMPLE_ENTRIES: &[&str] = &[
    "workspace.toml",
    "charts",
    "voyages",
    "clusters",
    "policies",
    "plans",
    "scripts",
];

/// How long one `wayfinder` command may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// The repository root (the parent of this crate).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// `../shared` beside the repository (or `$WAYFINDER_SHARED_DIR`), if present.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("WAYFINDER_SHARED_DIR") {
        return Some(PathBuf::from(dir));
    }
    let root = repo_root();
    [root.join("../shared"), root.join("../../shared")]
        .into_iter()
        .find(|p| p.join("tools/helm-oracle").is_file())
}

/// The `wayfinder` binary under test.
///
/// `$WAYFINDER_BIN` wins; otherwise the binary next to this test executable:
/// tests live in `target/<profile>/deps/`, the binary in `target/<profile>/`.
pub fn wayfinder_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("WAYFINDER_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("the test executable's path");
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.file_name() == Some(OsStr::new("deps")) {
        dir.pop();
    }
    let bin = dir.join(format!("wayfinder{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "`{}` does not exist: build it first with `cargo build -p wayfinder-cli` \
         (scripts/test.sh does), or point WAYFINDER_BIN at a wayfinder binary",
        bin.display()
    );
    bin
}

/// A workspace in a temp dir, with its own cache dir and `HOME`.
pub struct Workspace {
    tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Workspace {
    /// A copy of the repository's example workspace.
    pub fn example() -> Workspace {
        Self::example_named("ws")
    }

    /// A copy of the example workspace in a directory called `name`
    /// (two copies with different names are two checkout paths).
    pub fn example_named(name: &str) -> Workspace {
        let ws = Self::empty_named(name);
        let src = repo_root();
        for entry in EXAMPLE_ENTRIES {
            let from = src.join(entry);
            if from.exists() {
                copy_tree(&from, &ws.root.join(entry));
            }
        }
        ws.point_registry_at_test_server();
        ws
    }

    /// An empty workspace directory (no `workspace.toml`).
    pub fn empty() -> Workspace {
        Self::empty_named("ws")
    }

    fn empty_named(name: &str) -> Workspace {
        let tmp = tempfile::Builder::new()
            .prefix("wayfinder-it-")
            .tempdir()
            .expect("create a temp dir");
        let root = tmp.path().join(name);
        for dir in [
            root.clone(),
            tmp.path().join("cache"),
            tmp.path().join("home"),
        ] {
            fs::create_dir_all(&dir).expect("create test dirs");
        }
        Workspace { tmp, root }
    }

    /// The tests never talk to whatever listens on the example's registry
    /// address: with a test registry, the copy points at it.
    fn point_registry_at_test_server(&self) {
        let Some(registry) = crate::servers::registry() else {
            return;
        };
        let path = self.path("workspace.toml");
        let Ok(text) = fs::read_to_string(&path) else {
            return;
        };
        let text = text.replace(
            "oci://127.0.0.1:5000/acme",
            &format!("oci://{registry}/acme"),
        );
        fs::write(path, text).expect("rewrite workspace.toml");
    }

    /// The workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The temp dir holding the workspace, its cache and its `HOME`.
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    /// The cache dir every command gets through `WAYFINDER_CACHE_DIR`.
    pub fn cache_dir(&self) -> PathBuf {
        self.tmp.path().join("cache")
    }

    /// A path inside the workspace.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// The workspace's output dir.
    pub fn out(&self) -> PathBuf {
        self.path("out")
    }

    /// Reads a file of the workspace.
    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Writes a file of the workspace, creating its directory.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("create dir");
        }
        fs::write(&path, text).unwrap_or_else(|e| panic!("write {rel}: {e}"));
    }

    /// Replaces exactly one occurrence of `from` in a file.
    pub fn replace(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur exactly once in {rel}"
        );
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Appends to a file of the workspace.
    pub fn append(&self, rel: &str, text: &str) {
        let mut all = self.read(rel);
        all.push_str(text);
        self.write(rel, &all);
    }

    /// Removes a file or a directory tree of the workspace.
    pub fn remove(&self, rel: &str) {
        let path = self.path(rel);
        if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        }
        .unwrap_or_else(|e| panic!("remove {rel}: {e}"));
    }

    /// Copies a file or directory tree inside the workspace.
    pub fn copy(&self, from: &str, to: &str) {
        copy_tree(&self.path(from), &self.path(to));
    }

    /// A `wayfinder` command with the test environment, run in the workspace root.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(wayfinder_bin());
        cmd.args(args).current_dir(&self.root);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("WAYFINDER_") || k == "RUST_LOG" || k == "SOURCE_DATE_EPOCH" {
                cmd.env_remove(&key);
            }
        }
        cmd.env("WAYFINDER_CACHE_DIR", self.cache_dir())
            .env("HOME", self.tmp.path().join("home"))
            .env("XDG_CACHE_HOME", self.tmp.path().join("home/.cache"))
            .env("XDG_CONFIG_HOME", self.tmp.path().join("home/.config"))
            .env("DOCKER_CONFIG", self.tmp.path().join("home/.docker"))
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// Runs `wayfinder ARGS…` in the workspace root and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_cmd(self.command(args), args)
    }

    /// Runs `wayfinder ARGS…` in `dir` (relative to the workspace root).
    pub fn run_in(&self, dir: &str, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        cmd.current_dir(self.path(dir));
        self.run_cmd(cmd, args)
    }

    /// Runs a prepared command with the timeout.
    pub fn run_cmd(&self, mut cmd: Command, args: &[&str]) -> Run {
        let start = Instant::now();
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", wayfinder_bin().display()));
        Run::wait(child, args, start, COMMAND_TIMEOUT)
    }

    /// `wayfinder build --json ARGS…`, asserting success; returns the run.
    pub fn build(&self, extra: &[&str]) -> Run {
        let mut args = vec!["build", "--json"];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        run.assert_success();
        run
    }
}

/// Copies a file or a directory tree (symlinks are followed).
pub fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap_or_else(|e| panic!("mkdir {}: {e}", to.display()));
        let mut entries: Vec<_> = fs::read_dir(from)
            .unwrap_or_else(|e| panic!("read {}: {e}", from.display()))
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).expect("mkdir");
        }
        fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} -> {}: {e}", from.display(), to.display()));
    }
}
