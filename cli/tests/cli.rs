//! The `wayfinder` binary's contract: exit codes, the JSON summary, no-op builds, queries,
//! a build killed with SIGKILL, `template`.

use std::path::Path;
use std::process::{Command, Output};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// A workspace with `n` clusters of one chart.
fn fixture(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "workspace.toml", "[workspace]\nname = \"t\"\n");
    write(
        r,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(r, "charts/web/values.yaml", "replicas: 1\n");
    write(
        r,
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  replicas: {{ .Values.replicas | quote }}\n",
    );
    write(
        r,
        "voyages/core/voyage.toml",
        "name = \"core\"\nversion = \"1.0.0\"\n[components.web]\nchart = \"charts/web\"\nnamespace = \"web\"\n",
    );
    for i in 0..n {
        write(
            r,
            &format!("clusters/g/c{i}/cluster.toml"),
            &format!("name = \"c{i}\"\nvoyage = \"core@1.0.0\"\n[components.web]\nvalues = [\"values/web.yaml\"]\n"),
        );
        write(
            r,
            &format!("clusters/g/c{i}/values/web.yaml"),
            &format!("replicas: {i}\n"),
        );
    }
    dir
}

fn wayfinder(root: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env("WAYFINDER_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn summary_shape_and_noop() {
    let ws = fixture(3);
    let cache = tempfile::tempdir().unwrap();
    let o = wayfinder(ws.path(), cache.path(), &["build", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let actions = v["actions"].as_array().unwrap();
    assert_eq!(v.as_object().unwrap().len(), 1);
    for a in actions {
        let mut keys: Vec<&str> = a.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["duration_ms", "inputs", "key", "kind", "status", "target"]
        );
        assert!(
            ["built", "cached"].contains(&a["status"].as_str().unwrap()),
            "{a}"
        );
    }
    let targets: Vec<&str> = actions
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    assert!(targets.contains(&"render:c1/web"));
    assert!(targets.contains(&"cluster:c2"));
    assert!(targets.contains(&"chart:web"));
    assert!(targets.contains(&"voyage:core"));
    let out = ws.path().join("out/clusters/c1/web.yaml");
    let before = std::fs::metadata(&out).unwrap().modified().unwrap();

    let summary = ws.path().join("summary.json");
    let o = wayfinder(
        ws.path(),
        cache.path(),
        &["build", "--summary", summary.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "stdout carries data only with --json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert!(v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["status"] == "cached"));
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), before);
}

#[test]
fn bad_input_exits_2_with_file_and_line() {
    let ws = fixture(1);
    let cache = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "clusters/g/c0/cluster.toml",
        "name = \"c0\"\nvoyag = \"core@1.0.0\"\n",
    );
    let o = wayfinder(ws.path(), cache.path(), &["build"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("clusters/g/c0/cluster.toml:2: unknown key `voyag`"),
        "{e}"
    );
    assert!(e.contains("did you mean `voyage`?"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn unwritable_cache_exits_2() {
    let ws = fixture(1);
    let file = ws.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = wayfinder(ws.path(), &file.join("cache"), &["build"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is not writable"), "{}", stderr(&o));
}

#[test]
fn unknown_target_exits_2() {
    let ws = fixture(1);
    let cache = tempfile::tempdir().unwrap();
    let o = wayfinder(ws.path(), cache.path(), &["build", "cluster:c9"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no target matches `cluster:c9`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn globs_select_targets_and_their_dependencies() {
    let ws = fixture(12);
    let cache = tempfile::tempdir().unwrap();
    let o = wayfinder(ws.path(), cache.path(), &["build", "--json", "cluster:c1*"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut targets: Vec<&str> = v["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["target"].as_str().unwrap())
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            "chart:web",
            "cluster:c1",
            "cluster:c10",
            "cluster:c11",
            "render:c1/web",
            "render:c10/web",
            "render:c11/web",
            "values:c1/web",
            "values:c10/web",
            "values:c11/web"
        ]
    );
}

#[test]
fn queries_and_graph() {
    let ws = fixture(2);
    let cache = tempfile::tempdir().unwrap();
    let o = wayfinder(ws.path(), cache.path(), &["query", "deps", "cluster:c0"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "chart:web\nrender:c0/web\nvalues:c0/web\n"
    );
    let o = wayfinder(ws.path(), cache.path(), &["query", "rdeps", "chart:web"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "cluster:c0\ncluster:c1\nrender:c0/web\nrender:c1/web\nvoyage:core\n"
    );
    let o = wayfinder(ws.path(), cache.path(), &["graph", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["nodes"].as_array().unwrap().len(), 8);
    let o = wayfinder(ws.path(), cache.path(), &["graph"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"cluster:c0\" -> \"render:c0/web\";"));
    let o = wayfinder(ws.path(), cache.path(), &["query", "deps", "cluster:nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_names_the_changed_file() {
    let ws = fixture(2);
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        wayfinder(ws.path(), cache.path(), &["build"]).status.code(),
        Some(0)
    );
    write(ws.path(), "clusters/g/c1/values/web.yaml", "replicas: 7\n");
    assert_eq!(
        wayfinder(ws.path(), cache.path(), &["build"]).status.code(),
        Some(0)
    );
    let o = wayfinder(ws.path(), cache.path(), &["explain", "render:c1/web"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("changed: clusters/g/c1/values/web.yaml"),
        "{text}"
    );
    let o = wayfinder(ws.path(), cache.path(), &["explain", "render:c0/web"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("built once"));
}

#[test]
fn killed_build_leaves_a_usable_cache() {
    let ws = fixture(300);
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .arg("-C")
        .arg(ws.path())
        .args(["build", "-j", "2"])
        .env("WAYFINDER_CACHE_DIR", cache.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(400));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    let o = wayfinder(ws.path(), cache.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = wayfinder(ws.path(), cache.path(), &["cache", "verify", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["corrupt"].as_array().unwrap().len(), 0);
    assert!(v["checked"].as_u64().unwrap() > 0);
    let o = wayfinder(ws.path(), cache.path(), &["cache", "stats", "--json"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn template_accepts_helm_positional_forms() {
    let ws = fixture(0);
    let cache = tempfile::tempdir().unwrap();
    let chart = ws.path().join("charts/web");
    let chart = chart.to_str().unwrap();
    let o = wayfinder(
        ws.path(),
        cache.path(),
        &["template", "rel", chart, "--set", "replicas=5"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("name: rel\n"), "{text}");
    assert!(text.contains("replicas: \"5\""), "{text}");
    let o = wayfinder(ws.path(), cache.path(), &["template", chart]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("name: release-name\n"));
    let o = wayfinder(ws.path(), cache.path(), &["template", "/nonexistent/chart"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn init_scaffolds_a_workspace_that_builds() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .args(["init"])
        .arg(dir.path().join("new"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = wayfinder(&dir.path().join("new"), cache.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir
        .path()
        .join("new/out/clusters/dev-1/hello.yaml")
        .is_file());
    let o = Command::new(env!("CARGO_BIN_EXE_wayfinder"))
        .args(["init"])
        .arg(dir.path().join("new"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn affected_since_a_git_revision() {
    let ws = fixture(3);
    let cache = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(ws.path())
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .output()
    };
    if git(&["init", "-q"])
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        eprintln!("skipped: git is not available");
        return;
    }
    git(&["add", "-A"]).unwrap();
    git(&["commit", "-qm", "init"]).unwrap();
    write(ws.path(), "clusters/g/c2/values/web.yaml", "replicas: 9\n");
    let o = wayfinder(
        ws.path(),
        cache.path(),
        &["query", "affected", "--since", "HEAD"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "cluster:c2\nrender:c2/web\nvalues:c2/web\n"
    );
    let o = wayfinder(
        ws.path(),
        cache.path(),
        &["query", "affected", "--since", "no-such-rev"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn commands_not_built_yet_say_so_and_exit_2() {
    let ws = fixture(1);
    let cache = ws.path().join("cache");
    for cmd in ["promote", "cluster"] {
        let o = wayfinder(ws.path(), &cache, &[cmd]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("`wayfinder {cmd}` is not supported yet")),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    let o = wayfinder(ws.path(), &cache, &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown command `frobnicate`"),
        "{}",
        stderr(&o)
    );
}
