//! Day-2 commands (DESIGN §7, issue 7) on real git repositories: `diff` against revisions
//! and directories, `upgrade` with branches, `publish` to bare remotes with hooks and races.
//!
//! Every repository is made here with the `git` binary: the workspace copy gets `git init`
//! and a first commit; GitOps remotes are bare repositories in the test's temp dir.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use wayfinder_tests::{fleet, Run, Workspace};

/// Runs git in `dir` with a clean environment and a test identity; panics on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_cmd(dir, args)
        .output()
        .unwrap_or_else(|e| panic!("run git {args:?}: {e}"));
    assert!(
        out.status.success(),
        "git {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

fn git_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args);
    cmd
}

/// The example workspace as the first commit of a new repository (`out/` ignored).
fn repo() -> Workspace {
    let ws = Workspace::example();
    ws.write(".gitignore", "out/\n");
    git(ws.root(), &["init", "-q"]);
    commit_all(&ws, "the example fleet");
    ws
}

fn commit_all(ws: &Workspace, msg: &str) {
    git(ws.root(), &["add", "-A"]);
    git(ws.root(), &["commit", "-q", "-m", msg]);
}

/// Clusters that render `component` (from the example fleet's declarations).
fn clusters_with(component: &str) -> BTreeSet<String> {
    fleet::pairs()
        .into_iter()
        .filter(|(_, c)| *c == component)
        .map(|(cl, _)| cl.to_string())
        .collect()
}

const CORE_INGRESS_VALUES: &str = "voyages/core/values/ingress-nginx.yaml";

/// A one-line change of a voyage values file: every cluster with ingress-nginx from the
/// `core` voyage renders a different ConfigMap.
fn edit_core_ingress(ws: &Workspace) {
    ws.replace(
        CORE_INGRESS_VALUES,
        "proxy-body-size: 16m",
        "proxy-body-size: 32m",
    );
}

/// `stderr` mentions each needle, ignoring whitespace and the `|` gutter of wrapped
/// diagnostics (which the harness's `assert_stderr_mentions` keeps).
trait Mentions {
    fn assert_mentions(&self, needles: &[&str]) -> &Self;
}

impl Mentions for Run {
    fn assert_mentions(&self, needles: &[&str]) -> &Self {
        let squash = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace() && *c != '|' && *c != '│')
                .collect()
        };
        let err = squash(&self.stderr);
        for n in needles {
            assert!(
                err.contains(&squash(n)),
                "stderr should mention `{n}`:\n{}",
                self.stderr
            );
        }
        self
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
}

fn changed_clusters(v: &Value) -> BTreeSet<String> {
    v["clusters"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---- diff ------------------------------------------------------------------------------

#[test]
fn diff_of_a_voyage_values_edit_names_every_affected_cluster_and_object() {
    let ws = repo();
    edit_core_ingress(&ws);
    let run = ws.run(&["diff", "--format", "json"]);
    run.assert_success();
    let v = json(&run);
    assert_eq!(v["changed"], true);
    assert_eq!(changed_clusters(&v), clusters_with("ingress-nginx"));
    for c in v["clusters"].as_array().unwrap() {
        let files = c["files"].as_array().unwrap();
        assert_eq!(files.len(), 1, "only ingress-nginx changes: {c}");
        assert_eq!(files[0]["component"], "ingress-nginx");
        let objects = files[0]["objects"].as_array().unwrap();
        assert!(
            objects.iter().any(|o| o["kind"] == "ConfigMap"
                && o["namespace"] == "ingress"
                && o["change"] == "changed"),
            "{c}"
        );
        let patch = files[0]["diff"].as_str().unwrap();
        assert!(patch.contains("-  proxy-body-size: \"16m\"\n+  proxy-body-size: \"32m\"\n"));
    }
    let stat = &v["stat"];
    assert_eq!(
        stat["clusters_changed"].as_u64(),
        Some(clusters_with("ingress-nginx").len() as u64)
    );
    assert_eq!(stat["objects_added"], 0);
    assert_eq!(stat["objects_removed"], 0);
}

#[test]
fn diff_text_is_a_patch_that_turns_the_old_output_into_the_new() {
    let ws = repo();
    ws.build(&[]);
    let before = ws.tmp().join("before");
    wayfinder_tests::copy_tree(&ws.out().join("clusters"), &before);
    edit_core_ingress(&ws);
    let run = ws.run(&["diff"]);
    run.assert_success();
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("@@ ")
                && l.ends_with("ConfigMap ingress/ingress-nginx-controller")),
        "hunks are labelled with their object:\n{}",
        run.stdout
    );
    let patch = ws.tmp().join("fleet.diff");
    std::fs::write(&patch, &run.stdout).unwrap();
    git(&before, &["apply", "-p1", patch.to_str().unwrap()]);
    let after = ws.out().join("clusters");
    for c in clusters_with("ingress-nginx") {
        let f = format!("{c}/ingress-nginx.yaml");
        assert_eq!(
            std::fs::read_to_string(before.join(&f)).unwrap(),
            std::fs::read_to_string(after.join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn no_change_means_no_diff_and_exit_code_zero_even_with_exit_code() {
    let ws = repo();
    let run = ws.run(&["diff", "--exit-code"]);
    run.assert_success();
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("no change"), "{}", run.stderr);
}

#[test]
fn exit_code_is_one_with_a_diff_only_when_asked() {
    let ws = repo();
    edit_core_ingress(&ws);
    ws.run(&["diff", "--stat"]).assert_success();
    let run = ws.run(&["diff", "--stat", "--exit-code"]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
}

#[test]
fn stat_counts_added_and_removed_clusters_and_objects() {
    let ws = repo();
    // A new cluster (a copy of peu01 under another name) and a removed one (peu02).
    ws.copy("clusters/gauss/peu01", "clusters/gauss/peu09");
    ws.replace(
        "clusters/gauss/peu09/cluster.toml",
        "name = \"peu01\"",
        "name = \"peu09\"",
    );
    ws.remove("clusters/gauss/peu02");
    let v = json(&ws.run(&["diff", "--json", "--stat"]));
    let by_name: Vec<(String, String)> = v["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["change"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        by_name,
        [
            ("peu02".to_string(), "removed".to_string()),
            ("peu09".into(), "added".into())
        ]
    );
    assert_eq!(v["stat"]["clusters_added"], 1);
    assert_eq!(v["stat"]["clusters_removed"], 1);
    assert!(v["stat"]["objects_added"].as_u64().unwrap() > 0);
    assert!(v["stat"]["objects_removed"].as_u64().unwrap() > 0);
    assert!(
        v["clusters"][0]["files"][0].get("diff").is_none(),
        "--stat leaves out patches"
    );

    let text = ws.run(&["diff", "--stat"]);
    text.assert_success();
    assert!(text.stdout.contains(" peu09 | added, "), "{}", text.stdout);
    assert!(
        text.stdout.contains(" peu02 | removed, "),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("(1 added, 1 removed)"),
        "{}",
        text.stdout
    );
}

#[test]
fn markdown_has_one_collapsible_section_per_changed_cluster() {
    let ws = repo();
    edit_core_ingress(&ws);
    let run = ws.run(&["diff", "--format", "markdown"]);
    run.assert_success();
    let n = clusters_with("ingress-nginx").len();
    assert_eq!(run.stdout.matches("<details>").count(), n, "{}", run.stdout);
    assert_eq!(run.stdout.matches("</details>").count(), n);
    assert!(run.stdout.starts_with("### Rendered diff against `HEAD`"));
    assert!(run.stdout.contains("```diff\n"));
}

#[test]
fn targets_limit_the_diff_to_their_clusters_and_components() {
    let ws = repo();
    edit_core_ingress(&ws);
    let v = json(&ws.run(&["diff", "--json", "peu01"]));
    assert_eq!(changed_clusters(&v), BTreeSet::from(["peu01".to_string()]));
    let v = json(&ws.run(&["diff", "--json", "render:peu01/cert-manager"]));
    assert_eq!(v["changed"], false);
    let v = json(&ws.run(&["diff", "--json", "cluster:pu*"]));
    assert!(changed_clusters(&v).iter().all(|c| c.starts_with("pu")));
    ws.run(&["diff", "nosuchcluster"])
        .assert_bad_input()
        .assert_mentions(&["no cluster matches `nosuchcluster`"]);
}

#[test]
fn diff_against_an_older_revision_and_against_a_directory() {
    let ws = repo();
    edit_core_ingress(&ws);
    commit_all(&ws, "bigger bodies");
    // The working tree is HEAD: against HEAD~1 the edit shows.
    let v = json(&ws.run(&["diff", "--json", "--against", "HEAD~1"]));
    assert_eq!(changed_clusters(&v), clusters_with("ingress-nginx"));
    // A directory of rendered output (the one HEAD~1 produced, copied away).
    git(ws.root(), &["checkout", "-q", "HEAD~1"]);
    ws.build(&[]);
    let old = ws.tmp().join("old-out");
    wayfinder_tests::copy_tree(&ws.out(), &old);
    git(ws.root(), &["checkout", "-q", "main"]);
    let v = json(&ws.run(&["diff", "--json", "--against", old.to_str().unwrap()]));
    assert_eq!(changed_clusters(&v), clusters_with("ingress-nginx"));
    // Twice in a row: the kept checkout is reused, the answer is the same.
    let again = json(&ws.run(&["diff", "--json", "--against", "HEAD~1"]));
    assert_eq!(changed_clusters(&again), clusters_with("ingress-nginx"));
}

#[test]
fn diff_works_when_the_workspace_is_a_subdirectory_of_the_repository() {
    let ws = Workspace::example();
    // The repository is the temp dir; the workspace is its `ws/` directory.
    let top = ws.tmp();
    std::fs::write(top.join(".gitignore"), "cache/\nhome/\nout/\n").unwrap();
    git(top, &["init", "-q"]);
    git(top, &["add", "-A"]);
    git(top, &["commit", "-q", "-m", "monorepo"]);
    edit_core_ingress(&ws);
    let v = json(&ws.run(&["diff", "--json"]));
    assert_eq!(changed_clusters(&v), clusters_with("ingress-nginx"));
    // A commit without the workspace's directory.
    git(top, &["checkout", "-q", "--orphan", "empty"]);
    git(top, &["rm", "-q", "-r", "-f", "--cached", "."]);
    git(top, &["commit", "-q", "--allow-empty", "-m", "nothing"]);
    ws.run(&["diff", "--against", "empty"])
        .assert_bad_input()
        .assert_mentions(&["the workspace does not exist at revision `empty`"]);
}

#[test]
fn diff_outside_a_git_repository_is_bad_input() {
    let ws = Workspace::example();
    ws.run(&["diff"])
        .assert_bad_input()
        .assert_mentions(&["is not in a git repository"]);
    // A directory to compare with needs no git.
    ws.build(&[]);
    let old = ws.tmp().join("old-out");
    wayfinder_tests::copy_tree(&ws.out(), &old);
    let run = ws.run(&["diff", "--against", old.to_str().unwrap(), "--exit-code"]);
    run.assert_success();
}

#[test]
fn diff_against_an_unknown_revision_is_bad_input() {
    let ws = repo();
    ws.run(&["diff", "--against", "no-such-branch"])
        .assert_bad_input()
        .assert_mentions(&["unknown git revision `no-such-branch`"]);
}

#[test]
fn diff_against_a_revision_whose_workspace_does_not_parse_names_the_revision() {
    let ws = repo();
    let good = ws.read("clusters/gauss/peu01/cluster.toml");
    ws.write(
        "clusters/gauss/peu01/cluster.toml",
        "name = \"peu01\nvoyage = [\n",
    );
    commit_all(&ws, "broken");
    ws.write("clusters/gauss/peu01/cluster.toml", &good);
    commit_all(&ws, "fixed");
    ws.run(&["diff", "--against", "HEAD~1"])
        .assert_bad_input()
        .assert_mentions(&[
            "the workspace at revision `HEAD~1` does not load",
            "clusters/gauss/peu01/cluster.toml",
        ]);
    // The working tree itself is fine.
    ws.run(&["diff", "--against", "HEAD~2", "--exit-code"])
        .assert_success();
}

// ---- upgrade ---------------------------------------------------------------------------

/// The repo with a second version of `core` (1.6.0) whose ingress values differ.
fn repo_with_core_1_6() -> Workspace {
    let ws = repo();
    ws.copy("voyages/core", "voyages/core-1.6");
    ws.replace(
        "voyages/core-1.6/voyage.toml",
        "version = \"1.5.0\"",
        "version = \"1.6.0\"",
    );
    ws.replace(
        "voyages/core-1.6/values/ingress-nginx.yaml",
        "proxy-body-size: 16m",
        "proxy-body-size: 64m",
    );
    commit_all(&ws, "core 1.6.0");
    ws
}

#[test]
fn upgrade_rewrites_the_pin_keeping_comments_and_prints_the_diff() {
    let ws = repo_with_core_1_6();
    let file = "clusters/gauss/peu01/cluster.toml";
    let before = ws.read(file);
    assert!(before.contains("# overlay, relative to this directory"));
    let run = ws.run(&["upgrade", "peu01", "--to", "core@1.6.0"]);
    run.assert_success();
    assert_eq!(
        ws.read(file),
        before.replace("voyage = \"core@1.5.0\"", "voyage = \"core@1.6.0\""),
        "only the pin changes"
    );
    assert!(
        run.stdout.contains("+  proxy-body-size: \"64m\""),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("cluster peu01: "), "{}", run.stdout);
    assert!(!run.stdout.contains("cluster peu02"), "{}", run.stdout);
    assert!(
        run.stderr.contains("peu01: core@1.5.0 -> core@1.6.0"),
        "{}",
        run.stderr
    );
    // No branch asked: nothing committed.
    assert_eq!(git(ws.root(), &["rev-list", "--count", "HEAD"]), "2");
    // The output tree holds the upgraded rendering.
    assert!(ws
        .read("out/clusters/peu01/ingress-nginx.yaml")
        .contains("\"64m\""));
}

#[test]
fn upgrade_by_selector_on_a_branch_makes_one_commit_listing_the_clusters() {
    let ws = repo_with_core_1_6();
    let base = git(ws.root(), &["rev-parse", "HEAD"]);
    let run = ws.run(&[
        "upgrade",
        "--selector",
        "env=prod",
        "--to",
        "core@1.6.0",
        "--branch",
        "upgrade/core-1.6.0",
    ]);
    run.assert_success();
    assert_eq!(
        git(ws.root(), &["branch", "--show-current"]),
        "upgrade/core-1.6.0"
    );
    assert_eq!(
        git(ws.root(), &["rev-parse", "HEAD~1"]),
        base,
        "one commit on top"
    );
    // Production clusters that pin `core` (the ones pinning `observability` are not moved).
    let expected: BTreeSet<String> = ["peu01", "peu02", "pus01"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for c in ["pobs01", "pus02"] {
        assert!(ws
            .read(&format!("clusters/{}/{c}/cluster.toml", fleet::group_of(c)))
            .contains("observability@0.9.0"));
    }
    let changed: BTreeSet<String> = git(ws.root(), &["show", "--name-only", "--format=", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    let want: BTreeSet<String> = expected
        .iter()
        .map(|c| format!("clusters/{}/{c}/cluster.toml", fleet::group_of(c)))
        .collect();
    assert_eq!(changed, want);
    let msg = git(ws.root(), &["log", "-1", "--format=%B"]);
    assert!(msg.starts_with("upgrade 3 clusters to core@1.6.0"), "{msg}");
    for c in &expected {
        assert!(
            msg.contains(&format!("- {c}: core@1.5.0 -> core@1.6.0")),
            "{msg}"
        );
    }
    assert!(
        msg.contains("Rendered diff: 3 of 3 clusters changed"),
        "{msg}"
    );
    // No identity configured for the user: the fallback one.
    assert_eq!(
        git(ws.root(), &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Wayfinder <wayfinder@localhost>|Wayfinder <wayfinder@localhost>"
    );
    assert!(git(ws.root(), &["status", "--porcelain"]).is_empty());
}

#[test]
fn upgrade_to_an_unknown_version_is_bad_input_and_changes_nothing() {
    let ws = repo_with_core_1_6();
    let file = "clusters/gauss/peu01/cluster.toml";
    let before = ws.read(file);
    ws.run(&["upgrade", "peu01", "--to", "core@9.9.9"])
        .assert_bad_input()
        .assert_mentions(&["core@9.9.9", file]);
    assert_eq!(ws.read(file), before);
    ws.run(&["upgrade", "peu01", "--to", "kore@1.6.0"])
        .assert_bad_input()
        .assert_mentions(&["unknown voyage `kore`", "did you mean `core`?"]);
    ws.run(&["upgrade", "peu01", "--to", "core"])
        .assert_bad_input()
        .assert_mentions(&["VOYAGE@VERSION"]);
    assert!(git(ws.root(), &["status", "--porcelain"]).is_empty());
}

#[test]
fn upgrade_refuses_files_with_uncommitted_changes() {
    let ws = repo_with_core_1_6();
    let file = "clusters/gauss/peu01/cluster.toml";
    ws.append(file, "# a local note\n");
    let edited = ws.read(file);
    ws.run(&["upgrade", "peu01", "peu02", "--to", "core@1.6.0"])
        .assert_bad_input()
        .assert_mentions(&["uncommitted changes", file]);
    assert_eq!(ws.read(file), edited);
    assert!(ws
        .read("clusters/gauss/peu02/cluster.toml")
        .contains("core@1.5.0"));
}

#[test]
fn upgrade_with_a_branch_needs_git_and_a_free_branch_name() {
    let ws = repo_with_core_1_6();
    git(ws.root(), &["branch", "taken"]);
    ws.run(&[
        "upgrade",
        "peu01",
        "--to",
        "core@1.6.0",
        "--branch",
        "taken",
    ])
    .assert_bad_input()
    .assert_mentions(&["branch `taken` already exists"]);
    ws.run(&[
        "upgrade",
        "peu01",
        "--to",
        "core@1.6.0",
        "--branch",
        "bad..name",
    ])
    .assert_bad_input();
    assert!(ws
        .read("clusters/gauss/peu01/cluster.toml")
        .contains("core@1.5.0"));

    let plain = Workspace::example();
    plain.copy("voyages/core", "voyages/core-1.6");
    plain.replace(
        "voyages/core-1.6/voyage.toml",
        "version = \"1.5.0\"",
        "version = \"1.6.0\"",
    );
    plain
        .run(&["upgrade", "peu01", "--to", "core@1.6.0", "--branch", "x"])
        .assert_bad_input()
        .assert_mentions(&["is not in a git repository"]);
}

// ---- publish ---------------------------------------------------------------------------

/// A bare repository in the test's temp dir, with a first commit holding a README.
fn remote(ws: &Workspace, name: &str) -> PathBuf {
    let bare = ws.tmp().join(name);
    git(ws.tmp(), &["init", "-q", "--bare", bare.to_str().unwrap()]);
    let seed = ws.tmp().join(format!("{name}-seed"));
    git(ws.tmp(), &["init", "-q", seed.to_str().unwrap()]);
    std::fs::write(seed.join("README.md"), "GitOps repository\n").unwrap();
    git(&seed, &["add", "-A"]);
    git(&seed, &["commit", "-q", "-m", "seed"]);
    git(
        &seed,
        &["push", "-q", bare.to_str().unwrap(), "HEAD:refs/heads/main"],
    );
    bare
}

/// The files of `branch` in a bare repository.
fn files_at(bare: &Path, branch: &str) -> BTreeSet<String> {
    git(bare, &["ls-tree", "-r", "--name-only", branch])
        .lines()
        .map(str::to_string)
        .collect()
}

/// The rendered files of the workspace (`out/clusters/…`), as repository paths.
fn rendered_files(ws: &Workspace, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let root = ws.out().join("clusters");
    for c in std::fs::read_dir(&root).unwrap().flatten() {
        for f in std::fs::read_dir(c.path()).unwrap().flatten() {
            out.insert(format!(
                "{prefix}clusters/{}/{}",
                c.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            ));
        }
    }
    out
}

#[test]
fn publish_commits_the_rendered_tree_once_and_removes_what_went_away() {
    let ws = repo();
    let bare = remote(&ws, "gitops.git");
    let url = bare.to_str().unwrap();
    let run = ws.run(&["publish", "--git", url, "--branch", "main"]);
    run.assert_success();
    let mut want = rendered_files(&ws, "");
    want.insert("README.md".into());
    assert_eq!(files_at(&bare, "main"), want);
    let head = git(ws.root(), &["rev-parse", "HEAD"]);
    let msg = git(&bare, &["log", "-1", "--format=%B", "main"]);
    assert!(msg.contains(&format!("Source-Commit: {head}")), "{msg}");
    assert_eq!(
        git(&bare, &["show", "main:clusters/peu01/ingress-nginx.yaml"]),
        ws.read("out/clusters/peu01/ingress-nginx.yaml").trim_end()
    );
    let first = git(&bare, &["rev-parse", "main"]);

    // Nothing changed: no commit.
    let run = ws.run(&["publish", "--git", url, "--branch", "main"]);
    run.assert_success();
    assert!(run.stderr.contains("no commit"), "{}", run.stderr);
    assert_eq!(git(&bare, &["rev-parse", "main"]), first);

    // A removed cluster disappears from the repository; the README stays.
    ws.remove("clusters/gauss/peu02");
    commit_all(&ws, "retire peu02");
    ws.run(&["publish", "--git", url, "--branch", "main"])
        .assert_success();
    let files = files_at(&bare, "main");
    assert!(files.iter().all(|f| !f.starts_with("clusters/peu02/")));
    assert!(files.contains("README.md"));
    assert!(files.contains("clusters/peu01/kustomization.yaml"));
    assert_eq!(git(&bare, &["rev-parse", "main~1"]), first);
    // A new branch is created on demand, under a prefix.
    ws.run(&[
        "publish",
        "--git",
        url,
        "--branch",
        "rendered/prod",
        "--path",
        "fleet",
    ])
    .assert_success();
    assert_eq!(
        files_at(&bare, "rendered/prod"),
        rendered_files(&ws, "fleet/")
    );
}

#[test]
fn a_push_refused_by_a_server_hook_fails_with_the_hooks_message() {
    let ws = repo();
    let bare = remote(&ws, "guarded.git");
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'policy: rendered manifests are frozen until Monday' >&2\nexit 1\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let before = git(&bare, &["rev-parse", "main"]);
    let run = ws.run(&[
        "publish",
        "--git",
        bare.to_str().unwrap(),
        "--branch",
        "main",
    ]);
    run.assert_no_panic();
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_mentions(&[
        "rejected by a server hook",
        "policy: rendered manifests are frozen until Monday",
    ]);
    assert_eq!(git(&bare, &["rev-parse", "main"]), before);
}

#[test]
fn publish_to_something_that_is_not_a_repository_is_bad_input() {
    let ws = repo();
    let not_repo = ws.tmp().join("plain-dir");
    std::fs::create_dir_all(&not_repo).unwrap();
    ws.run(&[
        "publish",
        "--git",
        not_repo.to_str().unwrap(),
        "--branch",
        "main",
    ])
    .assert_bad_input()
    .assert_mentions(&["is not a git repository"]);
    ws.run(&["publish", "--git", "/nonexistent/x.git", "--branch", "main"])
        .assert_bad_input();
    let bare = remote(&ws, "ok.git");
    ws.run(&[
        "publish",
        "--git",
        bare.to_str().unwrap(),
        "--branch",
        "main",
        "--path",
        "../up",
    ])
    .assert_bad_input();
}

#[test]
fn eight_racing_publishers_all_land_with_a_linear_history() {
    let ws = repo();
    let bare = remote(&ws, "race.git");
    ws.build(&[]);
    let url = bare.to_str().unwrap().to_string();
    let children: Vec<_> = (0..8)
        .map(|i| {
            let prefix = format!("team-{i}");
            let args = [
                "publish", "--git", &url, "--branch", "main", "--path", &prefix,
            ];
            let mut cmd = ws.command(&args);
            (
                args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                cmd.spawn().unwrap(),
            )
        })
        .collect();
    for (args, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every publisher's tree is there, each in one commit on one line of history.
    let files = files_at(&bare, "main");
    for i in 0..8 {
        assert_eq!(
            files
                .iter()
                .filter(|f| f.starts_with(&format!("team-{i}/")))
                .cloned()
                .collect::<BTreeSet<_>>(),
            rendered_files(&ws, &format!("team-{i}/")),
            "team-{i}"
        );
    }
    assert_eq!(
        git(&bare, &["rev-list", "--count", "main"]),
        "9",
        "seed + 8 commits"
    );
    assert_eq!(
        git(&bare, &["rev-list", "--min-parents=2", "main"]),
        "",
        "no merge"
    );
}
