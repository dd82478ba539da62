//! Bad input (issue 3): every case exits 2, names the file, the line and
//! the key, and never panics.

use std::fs;

use wayfinder_tests::Workspace;

/// 1-based number of the first line of `rel` containing `needle`.
fn line_of(ws: &Workspace, rel: &str, needle: &str) -> usize {
    ws.read(rel)
        .lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{needle}` not in {rel}"))
}

#[test]
fn malformed_toml() {
    let ws = Workspace::example();
    let file = "clusters/gauss/peu01/cluster.toml";
    ws.replace(file, "voyage = \"core@1.5.0\"", "voyage = \"core@1.5.0");
    let line = line_of(&ws, file, "voyage =");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line);
}

#[test]
fn unknown_key_suggests_the_known_one() {
    let ws = Workspace::example();
    let file = "voyages/core/voyage.toml";
    ws.replace(file, "namespace = \"ingress\"", "namspace = \"ingress\"");
    let line = line_of(&ws, file, "namspace");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["namspace", "namespace"]);
}

#[test]
fn unknown_key_in_workspace_toml() {
    let ws = Workspace::example();
    ws.replace("workspace.toml", "kube_version = ", "kube_verison = ");
    let line = line_of(&ws, "workspace.toml", "kube_verison");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at("workspace.toml", line)
        .assert_stderr_mentions(&["kube_verison", "kube_version"]);
}

#[test]
fn missing_chart_path() {
    let ws = Workspace::example();
    let file = "voyages/core/voyage.toml";
    ws.replace(
        file,
        "chart = \"charts/ingress-nginx\"",
        "chart = \"charts/ingress-ngnix\"",
    );
    let line = line_of(&ws, file, "charts/ingress-ngnix");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["charts/ingress-ngnix"]);
}

#[test]
fn missing_chart_path_of_a_cluster_only_component() {
    let ws = Workspace::example();
    let file = "clusters/hopper/pus01/cluster.toml";
    ws.replace(
        file,
        "chart = \"charts/oauth2-proxy\"",
        "chart = \"charts/oauth-proxy\"",
    );
    let line = line_of(&ws, file, "charts/oauth-proxy");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["charts/oauth-proxy"]);
}

#[test]
fn pinned_voyage_version_the_workspace_lacks() {
    let ws = Workspace::example();
    let file = "clusters/gauss/gdev01/cluster.toml";
    ws.replace(file, "voyage = \"core@1.5.0\"", "voyage = \"core@1.4.0\"");
    let line = line_of(&ws, file, "core@1.4.0");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["1.4.0"]);
}

#[test]
fn unknown_voyage() {
    let ws = Workspace::example();
    let file = "clusters/hopper/hdev01/cluster.toml";
    ws.replace(
        file,
        "voyage = \"observability@0.9.0\"",
        "voyage = \"observabilty@0.9.0\"",
    );
    let line = line_of(&ws, file, "observabilty");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["observabilty"]);
}

#[test]
fn values_file_that_is_not_yaml() {
    let ws = Workspace::example();
    let file = "clusters/gauss/peu01/values/ingress-nginx.yaml";
    ws.write(file, "replicaCount: 4\nresources: [unclosed\nfoo: bar\n");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_into(file);
}

#[test]
fn missing_values_file() {
    let ws = Workspace::example();
    ws.remove("clusters/gauss/peu01/values/cert-manager.yaml");
    let file = "clusters/gauss/peu01/cluster.toml";
    let line = line_of(&ws, file, "values/cert-manager.yaml");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["values/cert-manager.yaml"]);
}

#[test]
fn needs_cycle_names_the_cycle() {
    let ws = Workspace::example();
    let file = "voyages/core/voyage.toml";
    ws.replace(
        file,
        "[components.cert-manager]\n",
        "[components.cert-manager]\nneeds = [\"policy-engine\"]\n",
    );
    let run = ws.run(&["build"]);
    run.assert_bad_input()
        .assert_stderr_mentions(&["cycle", "cert-manager", "policy-engine"]);
    assert!(
        !run.stderr.contains("ingress-nginx -> "),
        "ingress-nginx is not on the cycle:\n{}",
        run.stderr
    );
}

#[test]
fn needs_an_unknown_component() {
    let ws = Workspace::example();
    let file = "voyages/observability/voyage.toml";
    ws.replace(
        file,
        "needs = [\"metrics-stack\"]",
        "needs = [\"metrics-stak\"]",
    );
    let line = line_of(&ws, file, "metrics-stak");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_points_at(file, line)
        .assert_stderr_mentions(&["metrics-stak"]);
}

#[test]
fn duplicate_cluster_names() {
    let ws = Workspace::example();
    ws.copy("clusters/gauss/peu01", "clusters/hopper/peu01");
    ws.run(&["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&[
            "peu01",
            "clusters/gauss/peu01/cluster.toml",
            "clusters/hopper/peu01/cluster.toml",
        ]);
}

/// A cache dir that cannot be created (its parent is a regular file; tests
/// may run as root, so permissions alone prove nothing).
fn unwritable(ws: &Workspace) -> String {
    let blocker = ws.tmp().join("not-a-dir");
    fs::write(&blocker, "a file").expect("write blocker");
    blocker.join("cache").to_string_lossy().into_owned()
}

#[test]
fn unwritable_cache_dir_from_the_flag() {
    let ws = Workspace::example();
    let dir = unwritable(&ws);
    let mut cmd = ws.command(&["build", "--cache-dir", &dir]);
    cmd.env_remove("WAYFINDER_CACHE_DIR");
    ws.run_cmd(cmd, &["build", "--cache-dir", &dir])
        .assert_bad_input()
        .assert_stderr_mentions(&[&dir]);
}

#[test]
fn unwritable_cache_dir_from_the_environment() {
    let ws = Workspace::example();
    let dir = unwritable(&ws);
    let mut cmd = ws.command(&["build"]);
    cmd.env("WAYFINDER_CACHE_DIR", &dir);
    ws.run_cmd(cmd, &["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&[&dir]);
}

#[test]
fn unwritable_cache_dir_from_workspace_toml() {
    let ws = Workspace::example();
    let dir = unwritable(&ws);
    ws.replace(
        "workspace.toml",
        "# dir = \"~/.cache/wayfinder\"",
        &format!("dir = \"{dir}\""),
    );
    let mut cmd = ws.command(&["build"]);
    cmd.env_remove("WAYFINDER_CACHE_DIR");
    ws.run_cmd(cmd, &["build"])
        .assert_bad_input()
        .assert_stderr_mentions(&[&dir]);
}

/// All problems of a workspace are reported together, sorted (DESIGN §2).
#[test]
fn all_problems_are_reported_together_and_sorted() {
    let ws = Workspace::example();
    ws.replace(
        "voyages/observability/voyage.toml",
        "namespace = \"logging\"",
        "namspace = \"logging\"",
    );
    ws.replace(
        "clusters/hopper/pus01/cluster.toml",
        "plan = \"gke-standard\"",
        "plann = \"gke-standard\"",
    );
    let run = ws.run(&["build"]);
    run.assert_bad_input().assert_stderr_mentions(&[
        "clusters/hopper/pus01/cluster.toml",
        "voyages/observability/voyage.toml",
        "namspace",
        "plann",
    ]);
    let squashed: String = run.stderr.split_whitespace().collect();
    let first = squashed.find("clusters/hopper/pus01/cluster.toml");
    let second = squashed.find("voyages/observability/voyage.toml");
    assert!(
        first < second,
        "problems are sorted by file:\n{}",
        run.stderr
    );
}

#[test]
fn template_of_a_missing_chart() {
    let ws = Workspace::example();
    ws.run(&["template", "charts/no-such-chart"])
        .assert_bad_input()
        .assert_stderr_mentions(&["charts/no-such-chart"]);
}
