//! `wayfinder build` of the example: the output tree, the summary, no-op
//! builds, determinism, and Helm-identical output.

use std::collections::BTreeSet;
use std::fs;
use std::thread::sleep;
use std::time::Duration;

use wayfinder_tests::{fleet, oracle, snapshot, Summary, Workspace};

/// The `resources:` entries of a kustomization.yaml.
pub(crate) fn kustomization_resources(text: &str) -> BTreeSet<String> {
    let mut in_resources = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('-') {
            in_resources = line.trim_end() == "resources:";
            continue;
        }
        if in_resources {
            if let Some(item) = line.trim().strip_prefix("- ") {
                out.insert(
                    item.trim()
                        .trim_matches(|c| c == '"' || c == '\'')
                        .to_string(),
                );
            }
        }
    }
    out
}

/// Asserts out/ holds exactly the example fleet's files.
pub(crate) fn assert_output_tree(ws: &Workspace, pairs: &[(&str, &str)]) {
    let out = ws.out().join("clusters");
    let clusters: BTreeSet<&str> = pairs.iter().map(|(c, _)| *c).collect();
    let dirs: BTreeSet<String> = fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.'))
        .collect();
    assert_eq!(
        dirs,
        clusters.iter().map(|c| c.to_string()).collect(),
        "out/clusters/*"
    );
    for cluster in clusters {
        let comps: BTreeSet<String> = pairs
            .iter()
            .filter(|(c, _)| *c == cluster)
            .map(|(_, comp)| format!("{comp}.yaml"))
            .collect();
        let dir = out.join(cluster);
        for file in &comps {
            let text = fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("out/clusters/{cluster}/{file}: {e}"));
            assert!(
                text.contains("# Source: "),
                "out/clusters/{cluster}/{file} has no `# Source:` comments"
            );
        }
        let kustomization = fs::read_to_string(dir.join("kustomization.yaml"))
            .unwrap_or_else(|e| panic!("out/clusters/{cluster}/kustomization.yaml: {e}"));
        assert_eq!(
            kustomization_resources(&kustomization),
            comps,
            "out/clusters/{cluster}/kustomization.yaml resources:\n{kustomization}"
        );
        let files: BTreeSet<String> = fs::read_dir(&dir)
            .expect("cluster dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .filter(|f| f != "kustomization.yaml")
            .collect();
        assert_eq!(files, comps, "files of out/clusters/{cluster}");
    }
}

fn render_targets(summary: &Summary) -> BTreeSet<String> {
    summary.renders().map(|a| a.target.clone()).collect()
}

#[test]
fn build_renders_every_cluster_and_component() {
    let ws = Workspace::example();
    let run = ws.build(&[]);
    let summary = run.summary();
    assert_output_tree(&ws, &fleet::pairs());

    let counts = summary.status_counts();
    assert!(!counts.contains_key("failed"), "{counts:?}");
    assert!(
        counts.get("built").copied().unwrap_or(0) > 0,
        "a cold build builds: {counts:?}"
    );
    let want: BTreeSet<String> = fleet::pairs()
        .iter()
        .map(|(c, comp)| format!("render:{c}/{comp}"))
        .collect();
    assert_eq!(
        render_targets(&summary),
        want,
        "render targets of the summary"
    );
    for a in summary.actions() {
        // `values:CLUSTER/COMPONENT` is the merge-values action (DESIGN §1 "merge values").
        let known = [
            "chart:", "voyage:", "cluster:", "values:", "render:", "test:", "push:",
        ];
        assert!(
            known.iter().any(|p| a.target.starts_with(p)),
            "target `{}`",
            a.target
        );
        assert!(!a.key.is_empty() && !a.kind.is_empty(), "{a:?}");
        assert!(a.duration_ms >= 0.0, "{a:?}");
    }
    // stdout carries data only: the JSON summary, nothing else.
    assert!(
        run.stdout.trim_start().starts_with('{'),
        "stdout: {}",
        run.stdout
    );
}

#[test]
fn summary_file_matches_the_json_on_stdout() {
    let ws = Workspace::example();
    let file = ws.tmp().join("summary.json");
    let file_arg = file.to_string_lossy().into_owned();
    let run = ws.build(&["--summary", &file_arg]);
    let written = fs::read_to_string(&file).expect("--summary FILE is written");
    let from_file = Summary::parse(&written).expect("summary file is a summary");
    assert_eq!(from_file, run.summary());

    // Without --json, stdout stays empty of JSON, and the file is still written.
    fs::remove_file(&file).expect("rm summary");
    let run = ws.run(&["build", "--summary", &file_arg]);
    run.assert_success();
    assert!(
        !run.stdout.contains("\"actions\""),
        "no --json, no summary on stdout"
    );
    Summary::parse(&fs::read_to_string(&file).expect("written again")).expect("summary");
}

#[test]
fn second_build_does_nothing() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = snapshot(&ws.out());
    sleep(Duration::from_millis(50));
    let summary = ws.build(&[]).summary();
    assert!(
        !summary.actions().is_empty(),
        "the no-op summary still lists the actions"
    );
    let not_cached: Vec<_> = summary
        .actions()
        .iter()
        .filter(|a| a.status != "cached")
        .collect();
    assert!(
        not_cached.is_empty(),
        "a no-op build runs nothing: {not_cached:#?}"
    );
    let after = snapshot(&ws.out());
    assert_eq!(before.len(), after.len());
    for (path, state) in &before {
        let now = after
            .get(path)
            .unwrap_or_else(|| panic!("out/{path} disappeared"));
        assert!(state.bytes == now.bytes, "out/{path} changed");
        assert_eq!(
            (state.mtime, state.ino),
            (now.mtime, now.ino),
            "out/{path} was rewritten"
        );
    }
}

#[test]
fn build_output_is_what_helm_template_prints() {
    let Some(_) = oracle::or_skip("build_output_is_what_helm_template_prints") else {
        return;
    };
    let ws = Workspace::example();
    ws.build(&[]);
    let mut failures = Vec::new();
    for r in fleet::renders(ws.root()) {
        let values: Vec<_> = r.values.iter().map(|v| ws.path(v)).collect();
        let want = oracle::manifest(
            &ws.path(&r.chart),
            &values,
            &r.component,
            &r.namespace,
            fleet::KUBE_VERSION,
        )
        .unwrap_or_else(|e| panic!("{}/{}: helm fails: {e}", r.cluster, r.component));
        let file = format!("out/clusters/{}/{}.yaml", r.cluster, r.component);
        let got = ws.read(&file);
        // `helm template` leaves out crds/; a GitOps tree may carry them in
        // front. Everything else must be Helm's output, byte for byte.
        let templates: String = oracle::documents(&got)
            .into_iter()
            .filter(|(source, _)| !source.contains("/crds/"))
            .map(|(_, doc)| doc)
            .collect();
        if templates != want {
            failures.push(format!(
                "{file} differs from helm template\n--- helm\n{want}\n--- wayfinder\n{got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn build_is_deterministic_across_checkouts_and_job_counts() {
    let a = Workspace::example_named("checkout-a");
    let b = Workspace::example_named("another-checkout");
    a.build(&["--jobs", "1"]);
    b.build(&["--jobs", "4"]);
    let ta = snapshot(&a.out());
    let tb = snapshot(&b.out());
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, state) in &ta {
        assert!(
            state.bytes == tb[path].bytes,
            "out/{path} differs between checkouts"
        );
    }
}

#[test]
fn finds_the_workspace_from_a_subdirectory_and_with_dash_c() {
    let ws = Workspace::example();
    ws.run_in("clusters/gauss/peu01", &["build"])
        .assert_success();
    assert!(
        ws.out().join("clusters/peu01/kustomization.yaml").is_file(),
        "out/ at the workspace root"
    );
    assert!(!ws.path("clusters/gauss/peu01/out").exists());

    let other = Workspace::example();
    let root = other.root().to_string_lossy().into_owned();
    let mut cmd = other.command(&["-C", &root, "build"]);
    cmd.current_dir(other.tmp());
    other.run_cmd(cmd, &["-C", &root, "build"]).assert_success();
    assert!(other
        .out()
        .join("clusters/pus02/kustomization.yaml")
        .is_file());
}

#[test]
fn outside_a_workspace_build_is_bad_input() {
    let ws = Workspace::empty();
    ws.run(&["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&["workspace.toml"]);
}

#[test]
fn target_globs_select_clusters() {
    let ws = Workspace::example();
    let summary = ws.build(&["cluster:peu0*"]).summary();
    let renders = render_targets(&summary);
    assert!(!renders.is_empty(), "cluster:peu0* renders something");
    for t in &renders {
        assert!(
            t.starts_with("render:peu01/") || t.starts_with("render:peu02/"),
            "`{t}` is outside cluster:peu0*"
        );
    }
    for cluster in ["peu01", "peu02"] {
        assert!(ws
            .out()
            .join(format!("clusters/{cluster}/kustomization.yaml"))
            .is_file());
    }
    assert!(
        !ws.out().join("clusters/pus01").exists(),
        "pus01 is not selected"
    );
}

#[test]
fn unknown_command_is_bad_usage() {
    let ws = Workspace::example();
    ws.run(&["frobnicate"]).assert_bad_input();
    ws.run(&["build", "--no-such-flag"]).assert_bad_input();
}

#[test]
fn cache_verify_and_stats_after_a_build() {
    let ws = Workspace::example();
    ws.build(&[]);
    ws.run(&["cache", "verify"]).assert_success();
    ws.run(&["cache", "stats"]).assert_success();
    ws.run(&["cache", "gc"]).assert_success();
    // gc keeps a fresh cache usable: the next build is still right.
    let before = snapshot(&ws.out());
    fs::remove_dir_all(ws.out()).expect("rm out");
    ws.build(&[]);
    let after = snapshot(&ws.out());
    assert_eq!(before.len(), after.len());
    assert!(before
        .iter()
        .zip(&after)
        .all(|((p, a), (q, b))| p == q && a.bytes == b.bytes));
}

/// A corrupt cache entry is a miss, never a wrong output (DESIGN §3).
#[test]
fn corrupt_cache_entries_never_give_wrong_output() {
    let ws = Workspace::example();
    ws.build(&[]);
    let good = snapshot(&ws.out());
    let mut corrupted = 0;
    for (rel, state) in snapshot(&ws.cache_dir()) {
        if state.bytes.len() < 16 {
            continue;
        }
        let mut bytes = state.bytes.clone();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        fs::write(ws.cache_dir().join(&rel), bytes).expect("corrupt");
        corrupted += 1;
    }
    assert!(
        corrupted > 0,
        "the build stored something in WAYFINDER_CACHE_DIR"
    );
    fs::remove_dir_all(ws.out()).expect("rm out");
    ws.build(&[]);
    let again = snapshot(&ws.out());
    assert_eq!(
        good.keys().collect::<Vec<_>>(),
        again.keys().collect::<Vec<_>>()
    );
    for (path, state) in &good {
        assert!(
            state.bytes == again[path].bytes,
            "out/{path} is wrong after cache corruption"
        );
    }
}
