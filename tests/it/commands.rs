//! The other commands of issue 3: explain, query, graph, init.

use std::process::Command;

use wayfinder_tests::{contains_loose, Workspace};

fn git(ws: &Workspace, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=Wayfinder Tests",
            "-c",
            "user.email=tests@wayfinder.invalid",
        ])
        .args([
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(ws.root())
        .env("HOME", ws.tmp().join("home"))
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn explain_names_the_input_that_changed() {
    let ws = Workspace::example();
    ws.build(&[]);
    let file = "clusters/gauss/peu01/values/ingress-nginx.yaml";
    ws.append(file, "replicaCount: 5\n");
    ws.build(&[]);
    let run = ws.run(&["explain", "render:peu01/ingress-nginx"]);
    run.assert_success();
    let all = format!("{}\n{}", run.stdout, run.stderr);
    assert!(contains_loose(&all, file), "explain names {file}:\n{all}");
    assert!(
        !contains_loose(&all, "voyages/core/values/ingress-nginx.yaml"),
        "explain names only what changed:\n{all}"
    );
}

#[test]
fn query_rdeps_of_a_chart_lists_its_renders() {
    let ws = Workspace::example();
    let run = ws.run(&["query", "rdeps", "chart:cert-manager"]);
    run.assert_success();
    for t in ["render:gdev01/cert-manager", "render:pus01/cert-manager"] {
        assert!(
            run.stdout.contains(t),
            "{t} depends on chart:cert-manager:\n{}",
            run.stdout
        );
    }
    assert!(
        !run.stdout.contains("render:pobs01/"),
        "pobs01 runs no cert-manager:\n{}",
        run.stdout
    );
}

#[test]
fn query_deps_of_a_render_lists_its_chart() {
    let ws = Workspace::example();
    let run = ws.run(&["query", "deps", "render:peu02/oauth2-proxy"]);
    run.assert_success();
    assert!(run.stdout.contains("chart:oauth2-proxy"), "{}", run.stdout);
    assert!(!run.stdout.contains("chart:cert-manager"), "{}", run.stdout);
}

#[test]
fn query_affected_since_a_commit() {
    let ws = Workspace::example();
    git(&ws, &["init", "-q"]);
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "fleet"]);
    ws.append(
        "clusters/hopper/pus01/values/oauth2-proxy.yaml",
        "replicaCount: 3\n",
    );
    git(&ws, &["commit", "-qam", "pus01: more proxies"]);
    let run = ws.run(&["query", "affected", "--since", "HEAD~1"]);
    run.assert_success();
    assert!(
        run.stdout.contains("render:pus01/oauth2-proxy"),
        "{}",
        run.stdout
    );
    for other in [
        "render:peu02/oauth2-proxy",
        "render:pus01/cert-manager",
        "render:pus02/",
    ] {
        assert!(
            !run.stdout.contains(other),
            "`{other}` is not affected:\n{}",
            run.stdout
        );
    }
}

#[test]
fn graph_as_json_and_dot() {
    let ws = Workspace::example();
    let json = ws.run(&["graph", "--format", "json"]);
    json.assert_success();
    let v: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("graph --format json is JSON");
    assert!(
        v.to_string().contains("render:peu01/ingress-nginx"),
        "{}",
        json.stdout
    );
    let dot = ws.run(&["graph", "--format", "dot"]);
    dot.assert_success();
    assert!(
        dot.stdout.trim_start().starts_with("digraph"),
        "{}",
        dot.stdout
    );
    assert!(dot.stdout.contains("render:peu01/ingress-nginx"));
}

#[test]
fn init_scaffolds_a_workspace_that_builds() {
    let ws = Workspace::empty();
    ws.run(&["init"]).assert_success();
    assert!(
        ws.path("workspace.toml").is_file(),
        "init writes workspace.toml"
    );
    ws.run(&["build"]).assert_success();
    // A second init does not overwrite the user's workspace.
    let before = ws.read("workspace.toml");
    let again = ws.run(&["init"]);
    again.assert_no_panic();
    assert_eq!(ws.read("workspace.toml"), before);
}
