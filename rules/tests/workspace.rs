//! Rules over small fixture workspaces: bad input is reported with file, line and key; keys
//! follow the hash contract; identical renders dedupe; a no-op build writes nothing.

use std::path::Path;

use wayfinder_engine::{MemStore, Status};
use wayfinder_rules::{BuildOptions, LoadError, Session};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Three clusters: `a` has an overlay, `b` and `c` are identical (one render for both).
fn fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "workspace.toml",
        "[workspace]\nname = \"t\"\nkube_version = \"1.31.0\"\n",
    );
    write(
        r,
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    );
    write(r, "charts/web/values.yaml", "greeting: hi\nreplicas: 1\n");
    write(
        r,
        "charts/web/templates/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
    );
    write(
        r,
        "voyages/core/voyage.toml",
        "name = \"core\"\nversion = \"1.0.0\"\n\n[components.web]\nchart = \"charts/web\"\nnamespace = \"web\"\nvalues = [\"values/web.yaml\"]\n",
    );
    write(r, "voyages/core/values/web.yaml", "greeting: hello\n");
    write(
        r,
        "clusters/g/a/cluster.toml",
        "name = \"a\"\nvoyage = \"core@1.0.0\"\nlabels = { env = \"dev\" }\n\n[components.web]\nvalues = [\"values/web.yaml\"]\n",
    );
    write(r, "clusters/g/a/values/web.yaml", "replicas: 3\n");
    for c in ["b", "c"] {
        write(
            r,
            &format!("clusters/g/{c}/cluster.toml"),
            &format!("name = \"{c}\"\nvoyage = \"core@1.0.0\"\nlabels = {{ env = \"prod\" }}\n"),
        );
    }
    dir
}

/// The problems of a workspace, one line each (`file:line: message`).
fn problems(root: &Path) -> Vec<String> {
    let store = MemStore::new();
    match Session::open(root, &store) {
        Ok(_) => Vec::new(),
        Err(LoadError::Problems(p)) => p.problems().map(|p| p.to_string()).collect(),
        Err(e) => vec![e.to_string()],
    }
}

#[test]
fn the_fixture_is_clean() {
    let dir = fixture();
    assert_eq!(problems(dir.path()), Vec::<String>::new());
}

#[test]
fn malformed_toml() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/b/cluster.toml",
        "name = \"b\"\nvoyage = [\n",
    );
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("clusters/g/b/cluster.toml:"), "{p:?}");
    assert!(p[0].contains("invalid TOML"), "{p:?}");
}

#[test]
fn unknown_key_with_suggestion() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/b/cluster.toml",
        "name = \"b\"\nvoyage = \"core@1.0.0\"\nlabel = { env = \"prod\" }\n",
    );
    let store = MemStore::new();
    let Err(LoadError::Problems(p)) = Session::open(dir.path(), &store) else {
        panic!("expected problems");
    };
    let all: Vec<_> = p.problems().collect();
    assert_eq!(all.len(), 1);
    assert_eq!(
        all[0].to_string(),
        "clusters/g/b/cluster.toml:3: unknown key `label`"
    );
    assert_eq!(all[0].help.as_deref(), Some("did you mean `labels`?"));
}

#[test]
fn missing_chart_path() {
    let dir = fixture();
    let v = std::fs::read_to_string(dir.path().join("voyages/core/voyage.toml")).unwrap();
    write(
        dir.path(),
        "voyages/core/voyage.toml",
        &v.replace("charts/web", "charts/wbe"),
    );
    let p = problems(dir.path());
    assert_eq!(
        p,
        ["voyages/core/voyage.toml:5: chart `charts/wbe` not found: no `charts/wbe/Chart.yaml`"]
    );
}

#[test]
fn pinned_voyage_version_not_in_workspace() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/c/cluster.toml",
        "name = \"c\"\nvoyage = \"core@0.9.0\"\n",
    );
    let p = problems(dir.path());
    assert_eq!(
        p,
        ["clusters/g/c/cluster.toml:2: voyage `core@0.9.0` is not in the workspace"]
    );
}

#[test]
fn invalid_yaml_values() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/a/values/web.yaml",
        "replicas: 3\nfoo: [1, 2\n",
    );
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("clusters/g/a/values/web.yaml"), "{p:?}");
    assert!(p[0].contains("YAML") || p[0].contains("yaml"), "{p:?}");
}

#[test]
fn needs_cycle_is_named() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/a/cluster.toml",
        "name = \"a\"\nvoyage = \"core@1.0.0\"\n\n[components.web]\nneeds = [\"api\"]\n\n[components.api]\nchart = \"charts/web\"\nneeds = [\"web\"]\n",
    );
    let p = problems(dir.path());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("`needs` forms a cycle: `api` → `web` → `api`"),
        "{p:?}"
    );
}

#[test]
fn duplicate_cluster_names_point_at_both_files() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/h/b/cluster.toml",
        "name = \"b\"\nvoyage = \"core@1.0.0\"\n",
    );
    let p = problems(dir.path());
    assert_eq!(
        p,
        [
            "clusters/g/b/cluster.toml:1: cluster name `b` is also used by `clusters/h/b/cluster.toml`",
            "clusters/h/b/cluster.toml:1: cluster name `b` is also used by `clusters/g/b/cluster.toml`",
        ]
    );
}

#[test]
fn all_problems_are_reported_sorted() {
    let dir = fixture();
    write(
        dir.path(),
        "clusters/g/c/cluster.toml",
        "nmae = \"c\"\nvoyage = \"core@1.0.0\"\n",
    );
    write(
        dir.path(),
        "clusters/g/a/cluster.toml",
        "name = \"a\"\nvoyage = \"nope@1.0.0\"\n",
    );
    let p = problems(dir.path());
    assert_eq!(
        p,
        [
            "clusters/g/a/cluster.toml:2: unknown voyage `nope`",
            "clusters/g/c/cluster.toml:1: unknown key `nmae`",
        ]
    );
}

#[test]
fn build_dedupes_and_noop_writes_nothing() {
    let dir = fixture();
    let store = MemStore::new();
    let s = Session::open(dir.path(), &store).unwrap();
    let r = s.build(&store, &BuildOptions::default()).unwrap();
    let status = |t: &str| r.outcomes.iter().find(|o| o.target == t).map(|o| o.status);
    assert!(
        !r.failed(),
        "{:?}",
        r.outcomes
            .iter()
            .map(|o| (&o.target, &o.error))
            .collect::<Vec<_>>()
    );
    let renders_built = r
        .outcomes
        .iter()
        .filter(|o| o.kind == "render" && o.status == Status::Built)
        .count();
    assert_eq!(renders_built, 2, "b and c render once together");
    let kb = r
        .outcomes
        .iter()
        .find(|o| o.target == "render:b/web")
        .unwrap()
        .key;
    let kc = r
        .outcomes
        .iter()
        .find(|o| o.target == "render:c/web")
        .unwrap()
        .key;
    assert_eq!(kb, kc);
    let out = dir.path().join("out/clusters/a/web.yaml");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("replicas: \"3\""), "{text}");
    assert!(text.contains("greeting: \"hello\""), "{text}");
    let k = std::fs::read_to_string(dir.path().join("out/clusters/a/kustomization.yaml")).unwrap();
    assert!(k.contains("  - web.yaml\n"), "{k}");
    let mtime = std::fs::metadata(&out).unwrap().modified().unwrap();
    assert_eq!(status("cluster:a"), Some(Status::Built));

    // No-op: everything cached, nothing written.
    let s = Session::open(dir.path(), &store).unwrap();
    let r = s.build(&store, &BuildOptions::default()).unwrap();
    assert!(r.outcomes.iter().all(|o| o.status == Status::Cached));
    assert_eq!(r.files_written, 0);
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), mtime);

    // Removing a cluster removes its output.
    std::fs::remove_dir_all(dir.path().join("clusters/g/c")).unwrap();
    let s = Session::open(dir.path(), &store).unwrap();
    s.build(&store, &BuildOptions::default()).unwrap();
    assert!(!dir.path().join("out/clusters/c").exists());
    assert!(dir.path().join("out/clusters/b/web.yaml").exists());

    // Editing one overlay rebuilds that cluster only; explain names the file.
    write(dir.path(), "clusters/g/a/values/web.yaml", "replicas: 4\n");
    let s = Session::open(dir.path(), &store).unwrap();
    let r = s
        .build(
            &store,
            &BuildOptions {
                targets: vec!["cluster:*".into()],
                ..Default::default()
            },
        )
        .unwrap();
    let built: Vec<&str> = r
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Built)
        .map(|o| o.target.as_str())
        .collect();
    assert_eq!(built, ["cluster:a", "render:a/web", "values:a/web"]);
    let e = wayfinder_rules::explain(dir.path(), &store, "render:a/web");
    assert!(
        e.to_string()
            .contains("changed: clusters/g/a/values/web.yaml"),
        "{e}"
    );
}

/// The hash contract: the keys of the fixture's chart, voyage and render actions. A change
/// here means every cache entry of that kind is invalidated: bump `RULES_VERSION` on purpose
/// or find what changed. (Cluster keys depend on rendered output, so they are not pinned.)
#[test]
fn hash_contract() {
    let dir = fixture();
    let store = MemStore::new();
    let s = Session::open(dir.path(), &store).unwrap();
    let r = s.build(&store, &BuildOptions::default()).unwrap();
    let keys: Vec<String> = r
        .outcomes
        .iter()
        .filter(|o| o.kind != "cluster")
        .map(|o| {
            format!(
                "{} {}",
                o.target,
                o.key.map(|k| k.short()).unwrap_or_default()
            )
        })
        .collect();
    let expected = include_str!("hash_contract.txt");
    let expected: Vec<&str> = expected.lines().collect();
    if expected.is_empty() || std::env::var_os("WAYFINDER_BLESS").is_some() {
        std::fs::write(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hash_contract.txt"),
            keys.join("\n") + "\n",
        )
        .unwrap();
        return;
    }
    assert_eq!(
        keys, expected,
        "action keys changed (WAYFINDER_BLESS=1 rewrites the snapshot)"
    );
}
