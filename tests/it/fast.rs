//! The no-op fast path (rules/src/fast.rs): a build whose inputs and outputs all keep their
//! stamps does nothing; one whose changes are owned by some clusters loads and runs just
//! those. Each test lets the files age past the racy window (1 s) first, so that the fast path
//! is really taken (the debug log of `-v` says which path ran), and compares the result with a
//! from-scratch build of the same files in another cache: the fast path must never change
//! what a build produces.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::Duration;

use wayfinder_tests::{snapshot, Run, Workspace};

/// Lets every stamp age past the racy window of the fast record.
fn settle() {
    sleep(Duration::from_millis(1_100));
}

/// A plain build with the debug log on; returns the run.
fn build_v(ws: &Workspace) -> Run {
    let run = ws.run(&["build", "--json", "-v"]);
    run.assert_success();
    run
}

/// The fast check's verdict from the debug log (`Clean`, `Clusters(…)`, `Full`), if it ran.
fn verdict(run: &Run) -> Option<String> {
    let line = run.stderr.lines().find(|l| l.contains("fast check"))?;
    let v = line.split("check=").nth(1)?;
    Some(v.split_whitespace().next().unwrap_or(v).to_string())
}

/// A workspace built twice and settled: its next build can take the fast path.
fn warmed() -> Workspace {
    let ws = Workspace::example();
    ws.build(&[]);
    settle();
    ws.build(&[]);
    settle();
    ws
}

/// The summary without statuses and durations: what any build of the same inputs lists.
fn strip(s: &wayfinder_tests::Summary) -> Vec<(String, String, String, String)> {
    s.actions()
        .iter()
        .map(|a| {
            (
                a.target.clone(),
                a.kind.clone(),
                a.key.clone(),
                format!("{:?}", a.inputs),
            )
        })
        .collect()
}

/// The summary of a fast-path build lists every action of a from-scratch build once, in
/// target order, with the same kinds, keys and inputs.
fn assert_summary_as_scratch(fast: &wayfinder_tests::Summary, scratch: &wayfinder_tests::Summary) {
    let targets: Vec<&str> = fast.actions().iter().map(|a| a.target.as_str()).collect();
    assert!(
        targets.windows(2).all(|w| w[0] < w[1]),
        "the summary is not in strict target order: {targets:?}"
    );
    let mut scratch = strip(scratch);
    scratch.sort();
    assert_eq!(
        strip(fast),
        scratch,
        "the summary differs from a from-scratch build"
    );
}

/// Once the stamps age, the next build records them and the one after is a no-op decided by
/// stat alone, whose stored summary is the from-scratch one.
fn settles_to_a_clean_noop(ws: &Workspace, scratch: &wayfinder_tests::Summary) {
    settle();
    build_v(ws);
    settle();
    let run = build_v(ws);
    assert_eq!(verdict(&run).as_deref(), Some("Clean"), "{}", run.stderr);
    assert_summary_as_scratch(&run.summary(), scratch);
}

/// Builds a copy of `ws`'s inputs from scratch (own cache), asserts equal `out/` bytes, and
/// returns the from-scratch summary.
fn assert_same_as_scratch(ws: &Workspace) -> wayfinder_tests::Summary {
    let fresh = Workspace::empty();
    for item in ["workspace.toml", "charts", "voyages", "clusters"] {
        wayfinder_tests::copy_tree(&ws.path(item), &fresh.path(item));
    }
    let scratch = fresh.build(&[]).summary();
    let a: Vec<(String, Vec<u8>)> = snapshot(&ws.out())
        .into_iter()
        .map(|(p, s)| (p, s.bytes))
        .collect();
    let b: Vec<(String, Vec<u8>)> = snapshot(&fresh.out())
        .into_iter()
        .map(|(p, s)| (p, s.bytes))
        .collect();
    assert_eq!(
        a.iter().map(|x| &x.0).collect::<Vec<_>>(),
        b.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "the output files differ from a from-scratch build"
    );
    for ((p, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "out/{p} differs from a from-scratch build");
    }
    scratch
}

#[test]
fn a_noop_build_is_decided_by_stat_and_keeps_the_summary() {
    let ws = Workspace::example();
    let first = ws.build(&[]).summary();
    settle();
    ws.build(&[]);
    settle();
    let before = snapshot(&ws.out());
    let run = build_v(&ws);
    assert_eq!(verdict(&run).as_deref(), Some("Clean"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("loaded the workspace"),
        "a no-op must not load the workspace:\n{}",
        run.stderr
    );
    let noop = run.summary();
    assert!(noop.actions().iter().all(|a| a.status == "cached"));
    // Same targets, kinds, keys and inputs as the build that did the work.
    assert_summary_as_scratch(&noop, &first);
    assert_eq!(before, snapshot(&ws.out()), "a no-op rewrote output files");
}

#[test]
fn an_overlay_edit_loads_and_runs_only_that_cluster() {
    let ws = warmed();
    ws.append(
        "clusters/gauss/peu01/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/fast-path: edited\n",
    );
    let run = build_v(&ws);
    assert!(
        verdict(&run).is_some_and(|v| v.starts_with("Clusters(")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("clusters=1 partial=true"),
        "only the edited cluster is loaded:\n{}",
        run.stderr
    );
    // With the stat and model caches of the files outside `clusters/` (the whole build
    // stored them), not the whole fleet's.
    assert!(run.stderr.contains("caches=\"shared\""), "{}", run.stderr);
    let summary = run.summary();
    let built: BTreeSet<&str> = summary.built().map(|a| a.target.as_str()).collect();
    assert_eq!(
        built,
        BTreeSet::from([
            "cluster:peu01",
            "render:peu01/ingress-nginx",
            "values:peu01/ingress-nginx"
        ]),
        "{:#?}",
        summary.actions()
    );
    assert!(summary
        .actions()
        .iter()
        .all(|a| a.status == "cached" || built.contains(a.target.as_str())));
    assert!(ws
        .read("out/clusters/peu01/ingress-nginx.yaml")
        .contains("acme.example/fast-path: edited"));
    let scratch = assert_same_as_scratch(&ws);
    assert_summary_as_scratch(&summary, &scratch);
    // And the next build settles back to a no-op, whose stored summary is the merged one.
    settles_to_a_clean_noop(&ws, &scratch);
}

#[test]
fn a_group_values_edit_rebuilds_that_group_only() {
    let ws = warmed();
    let group_values = std::fs::read_dir(ws.path("clusters/hopper/values"))
        .expect("the example has hopper group values")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".yaml"))
        .expect("a group values file");
    ws.append(
        &format!("clusters/hopper/values/{group_values}"),
        "commonLabels:\n  acme.example/group-edit: yes\n",
    );
    let run = build_v(&ws);
    assert!(
        verdict(&run).is_some_and(|v| v.starts_with("Clusters(")),
        "{}",
        run.stderr
    );
    let summary = run.summary();
    let hopper: BTreeSet<String> = std::fs::read_dir(ws.path("clusters/hopper"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "values")
        .collect();
    for a in summary.built() {
        let cluster = a
            .target
            .split_once(':')
            .map(|(_, r)| r.split('/').next().unwrap_or(r))
            .unwrap_or_default();
        assert!(
            hopper.contains(cluster),
            "`{}` is not in group hopper",
            a.target
        );
    }
    assert_same_as_scratch(&ws);
}

#[test]
fn a_deleted_output_file_is_written_again() {
    let ws = warmed();
    let want = ws.read("out/clusters/hdev01/kustomization.yaml");
    ws.remove("out/clusters/hdev01/kustomization.yaml");
    let run = build_v(&ws);
    assert!(
        verdict(&run).is_some_and(|v| v.starts_with("Clusters(")),
        "{}",
        run.stderr
    );
    assert_eq!(ws.read("out/clusters/hdev01/kustomization.yaml"), want);
    assert_same_as_scratch(&ws);
}

#[test]
fn a_new_cluster_takes_the_full_path() {
    let ws = warmed();
    ws.copy("clusters/gauss/peu02", "clusters/gauss/peu03");
    ws.replace("clusters/gauss/peu03/cluster.toml", "peu02", "peu03");
    let run = build_v(&ws);
    assert_eq!(verdict(&run).as_deref(), Some("Full"), "{}", run.stderr);
    assert!(ws.path("out/clusters/peu03/kustomization.yaml").is_file());
    assert_same_as_scratch(&ws);
}

#[test]
fn renaming_a_cluster_onto_another_is_still_reported() {
    let ws = warmed();
    let text = ws.read("clusters/gauss/peu02/cluster.toml");
    let renamed = if text.contains("name = \"peu02\"") {
        text.replace("name = \"peu02\"", "name = \"peu01\"")
    } else {
        format!("name = \"peu01\"\n{text}")
    };
    ws.write("clusters/gauss/peu02/cluster.toml", &renamed);
    let run = ws.run(&["build"]);
    run.assert_bad_input();
    run.assert_stderr_mentions(&["peu01", "also used by"]);
}

#[test]
fn a_file_one_cluster_reads_from_another_clusters_directory_rebuilds_both() {
    let ws = Workspace::example();
    // peu01 layers peu02's overlay on top of its own.
    ws.replace(
        "clusters/gauss/peu01/cluster.toml",
        r#"values = ["values/ingress-nginx.yaml"]"#,
        r#"values = ["values/ingress-nginx.yaml", "../peu02/values/ingress-nginx.yaml"]"#,
    );
    ws.build(&[]);
    settle();
    ws.build(&[]);
    settle();
    ws.append(
        "clusters/gauss/peu02/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/shared-edit: yes\n",
    );
    let run = build_v(&ws);
    run.assert_success();
    for c in ["peu01", "peu02"] {
        assert!(
            ws.read(&format!("out/clusters/{c}/ingress-nginx.yaml"))
                .contains("acme.example/shared-edit"),
            "{c} reads the edited file: {}",
            run.stderr
        );
    }
    assert_same_as_scratch(&ws);
}

/// hdev01 starts using `charts/probe-chart`, a copy of oauth2-proxy no other cluster or
/// voyage uses; returns the `cluster.toml` block that does it.
fn use_probe_chart(ws: &Workspace) -> &'static str {
    let block = "\n[components.oauth2-proxy]\nchart = \"charts/probe-chart\"\nnamespace = \"auth\"\nvalues = [\"values/oauth2-proxy.yaml\"]\n";
    ws.copy("charts/oauth2-proxy", "charts/probe-chart");
    ws.copy(
        "clusters/gauss/peu02/values/oauth2-proxy.yaml",
        "clusters/hopper/hdev01/values/oauth2-proxy.yaml",
    );
    ws.append("clusters/hopper/hdev01/cluster.toml", block);
    block
}

#[test]
fn a_chart_a_partial_build_starts_using_is_watched() {
    let ws = warmed();
    // A chart nobody used at the last whole build; hdev01 starts using it (a partial
    // build: only hdev01's own files changed).
    use_probe_chart(&ws);
    build_v(&ws);
    settle();
    build_v(&ws);
    settle();
    // A new template in that chart must reach the output.
    ws.write(
        "charts/probe-chart/templates/fast-path-probe.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fast-path-probe\n",
    );
    let run = build_v(&ws);
    assert!(
        verdict(&run).is_some_and(|v| v != "Clean"),
        "a new template in a used chart is not a no-op: {}",
        run.stderr
    );
    assert!(
        ws.read("out/clusters/hdev01/oauth2-proxy.yaml")
            .contains("fast-path-probe"),
        "{}",
        run.stderr
    );
    assert_same_as_scratch(&ws);
}

#[test]
fn a_chart_only_a_changed_cluster_used_leaves_the_summary_of_a_partial_build() {
    let ws = warmed();
    // hdev01 alone uses a chart of its own; then it stops using it (a partial build).
    let block = use_probe_chart(&ws);
    build_v(&ws);
    settle();
    let run = build_v(&ws);
    assert!(run
        .summary()
        .actions()
        .iter()
        .any(|a| a.target == "chart:probe-chart"));
    settle();
    ws.replace("clusters/hopper/hdev01/cluster.toml", block, "");
    let run = build_v(&ws);
    assert!(
        verdict(&run).is_some_and(|v| v.starts_with("Clusters(")),
        "{}",
        run.stderr
    );
    let summary = run.summary();
    assert!(
        !summary
            .actions()
            .iter()
            .any(|a| a.target == "chart:probe-chart"),
        "a chart nobody uses stays in the summary"
    );
    let scratch = assert_same_as_scratch(&ws);
    assert_summary_as_scratch(&summary, &scratch);
}

/// All files under `dir` with their sizes and mtimes.
type Listing = std::collections::BTreeMap<std::path::PathBuf, (u64, std::time::SystemTime)>;
fn files_in(dir: &std::path::Path) -> Listing {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let meta = e.metadata().expect("stat");
            if meta.is_dir() {
                stack.push(e.path());
            } else {
                out.insert(e.path(), (meta.len(), meta.modified().expect("mtime")));
            }
        }
    }
    out
}

/// With hundreds of clusters the stored summary and build record are cut into many segments
/// (rules/src/segments.rs). A partial build of one cluster writes only the segments around
/// that cluster's keys, a small part of what a whole build wrote, and what it leaves behind
/// is exactly what a from-scratch build stores: the next no-op prints the same summary, and
/// `explain` reads the record.
#[test]
fn a_partial_build_of_a_large_fleet_rewrites_only_its_segments() {
    let ws = Workspace::example();
    // 40 copies of every example cluster, renamed.
    for (group, name, _, _) in wayfinder_tests::fleet::CLUSTERS {
        let src = ws.path(&format!("clusters/{group}/{name}"));
        for i in 0..40 {
            let copy = format!("{name}-c{i:02}");
            let dest = ws.path(&format!("clusters/{group}/{copy}"));
            wayfinder_tests::copy_tree(&src, &dest);
            let toml = format!("clusters/{group}/{copy}/cluster.toml");
            let text = ws.read(&toml);
            ws.write(
                &toml,
                &text.replacen(
                    &format!("name = \"{name}\""),
                    &format!("name = \"{copy}\""),
                    1,
                ),
            );
        }
    }
    ws.build(&[]);
    settle();
    ws.build(&[]);
    settle();
    let cache = ws.path("../cache");
    let before = files_in(&cache);
    let whole: u64 = before
        .iter()
        .filter(|(p, _)| p.to_string_lossy().contains("state-v1"))
        .map(|(_, (n, _))| n)
        .sum();
    ws.append(
        "clusters/gauss/peu01-c07/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/segments: edited\n",
    );
    let run = build_v(&ws);
    assert!(
        run.stderr.contains("clusters=1 partial=true"),
        "{}",
        run.stderr
    );
    let summary = run.summary();
    assert!(
        summary.actions().len() > 1000,
        "{}",
        summary.actions().len()
    );
    // What the partial build wrote to the cache: new blobs (segments, explain inputs, the
    // render) and the rewritten state records, but no whole summary or record. (The fast
    // record, the stamps of every input, is rewritten whole.)
    let after = files_in(&cache);
    let written: u64 = after
        .iter()
        .filter(|(p, n)| before.get(*p) != Some(*n))
        .filter(|(p, _)| !p.to_string_lossy().contains("state-v1/fast-"))
        .map(|(_, (n, _))| n)
        .sum();
    let summary_bytes = run.stdout.len() as u64;
    // A whole build writes the summary (every segment) and the record; this one writes the
    // three segments around the cluster's summary lines and a few record segments.
    assert!(
        written * 3 < summary_bytes + whole,
        "a partial build wrote {written} bytes besides the fast record; the summary alone is \
         {summary_bytes} (state records of the whole build: {whole})"
    );
    let scratch = assert_same_as_scratch(&ws);
    assert_summary_as_scratch(&summary, &scratch);
    settles_to_a_clean_noop(&ws, &scratch);
    let explained = ws.run(&["explain", "render:peu01-c07/ingress-nginx"]);
    explained.assert_success();
    assert!(
        explained.stdout.contains("ingress-nginx.yaml"),
        "{}",
        explained.stdout
    );

    // A partial build reads the summary segments it does not rewrite while it runs, to print
    // them. Collected from the cache (only those: the ones holding the lines of the cluster
    // and of the charts stay), they make it a full build from the start, with the same
    // summary.
    let mut removed = 0;
    for (path, _) in files_in(&ws.path("../cache/cas-v1")) {
        let text = std::fs::read(&path).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let needed = text.contains(":peu01-c07") || text.contains("\"target\": \"chart:");
        if text.starts_with("{\"target\": ") && !needed {
            std::fs::remove_file(&path).expect("remove a summary segment");
            removed += 1;
        }
    }
    assert!(removed > 1, "{removed} summary segments found");
    ws.append(
        "clusters/gauss/peu01-c07/values/ingress-nginx.yaml",
        "  acme.example/segments-again: edited\n",
    );
    let run = build_v(&ws);
    assert!(run.stderr.contains("partial=false"), "{}", run.stderr);
    let scratch = assert_same_as_scratch(&ws);
    assert_summary_as_scratch(&run.summary(), &scratch);
}

/// The stored summary and build record live in the cache's blobs, which garbage collection
/// may remove. A partial build that finds its segments gone builds fully instead, with the
/// same outputs and summary as ever, and the fast path works again after it.
#[test]
fn a_partial_build_whose_segments_left_the_cache_builds_fully() {
    let ws = warmed();
    std::fs::remove_dir_all(ws.path("../cache/cas-v1")).expect("remove the cache's blobs");
    ws.append(
        "clusters/hopper/pus01/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/gc: collected\n",
    );
    let run = build_v(&ws);
    assert!(
        run.stderr.contains("partial=false"),
        "the build loads the whole workspace:\n{}",
        run.stderr
    );
    assert!(ws
        .read("out/clusters/pus01/ingress-nginx.yaml")
        .contains("acme.example/gc: collected"));
    let scratch = assert_same_as_scratch(&ws);
    assert_summary_as_scratch(&run.summary(), &scratch);
    settles_to_a_clean_noop(&ws, &scratch);
}
