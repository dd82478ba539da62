//! Incremental builds: an edit reruns exactly what it affects, and outputs
//! of removed clusters and components go away.

use std::collections::BTreeSet;
use std::thread::sleep;
use std::time::Duration;

use wayfinder_tests::{fleet, snapshot, Tree, Workspace};

use crate::build::{assert_output_tree, kustomization_resources};

/// Files of `out/` whose content, mtime or inode changed.
fn touched(before: &Tree, after: &Tree) -> BTreeSet<String> {
    let mut changed = BTreeSet::new();
    for (path, state) in before {
        match after.get(path) {
            Some(now) if now == state => {}
            _ => {
                changed.insert(path.clone());
            }
        }
    }
    changed.extend(after.keys().filter(|p| !before.contains_key(*p)).cloned());
    changed
}

/// Which cluster an action belongs to, from its target.
fn cluster_of(target: &str) -> Option<&str> {
    for prefix in ["render:", "values:"] {
        if let Some(rest) = target.strip_prefix(prefix) {
            return rest.split('/').next();
        }
    }
    target.strip_prefix("cluster:")
}

#[test]
fn editing_one_cluster_overlay_reruns_only_that_cluster() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = snapshot(&ws.out());
    sleep(Duration::from_millis(50));

    ws.append(
        "clusters/gauss/peu01/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/edited-by: wayfinder-test\n",
    );
    let summary = ws.build(&[]).summary();
    let ran: Vec<_> = summary
        .actions()
        .iter()
        .filter(|a| a.status != "cached")
        .collect();
    assert!(
        ran.iter()
            .any(|a| a.target == "render:peu01/ingress-nginx" && a.status == "built"),
        "render:peu01/ingress-nginx must be rebuilt: {ran:#?}"
    );
    for a in &ran {
        assert_eq!(a.status, "built", "{a:?}");
        assert_eq!(
            cluster_of(&a.target),
            Some("peu01"),
            "only peu01's actions may run, but `{}` ({}) did",
            a.target,
            a.kind
        );
    }
    let renders_ran: BTreeSet<_> = ran
        .iter()
        .filter(|a| a.target.starts_with("render:"))
        .map(|a| a.target.as_str())
        .collect();
    assert_eq!(renders_ran, BTreeSet::from(["render:peu01/ingress-nginx"]));

    let after = snapshot(&ws.out());
    let changed = touched(&before, &after);
    assert!(
        changed.contains("clusters/peu01/ingress-nginx.yaml"),
        "{changed:?}"
    );
    assert!(
        ws.read("out/clusters/peu01/ingress-nginx.yaml")
            .contains("acme.example/edited-by: wayfinder-test"),
        "the edit reaches the output"
    );
    for path in &changed {
        assert!(
            path.starts_with("clusters/peu01/"),
            "out/{path} of another cluster was rewritten"
        );
    }
}

#[test]
fn editing_voyage_values_reruns_only_that_component() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = snapshot(&ws.out());
    ws.replace(
        "voyages/core/values/policy-engine.yaml",
        "max: 30",
        "max: 25",
    );
    let summary = ws.build(&[]).summary();
    for a in summary.renders().filter(|a| a.status != "cached") {
        assert!(
            a.target.ends_with("/policy-engine"),
            "`{}` does not use the edited file",
            a.target
        );
    }
    let after = snapshot(&ws.out());
    let changed = touched(&before, &after);
    let core_clusters: Vec<_> = fleet::CLUSTERS
        .iter()
        .filter(|(_, _, _, comps)| comps.contains(&"policy-engine"))
        .map(|(_, c, _, _)| *c)
        .collect();
    for cluster in &core_clusters {
        let file = format!("clusters/{cluster}/policy-engine.yaml");
        assert!(changed.contains(&file), "out/{file} must change");
        assert!(
            ws.read(&format!("out/{file}")).contains("max: \"25\""),
            "out/{file} has the new value"
        );
    }
    for path in &changed {
        assert!(
            path.ends_with("/policy-engine.yaml"),
            "out/{path} does not depend on the edit"
        );
    }
}

/// Early cutoff: an edit that does not change the merged values (a comment)
/// must not rerun any render (DESIGN §3: keys use upstream *output* digests).
#[test]
fn a_comment_only_edit_renders_nothing_again() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = snapshot(&ws.out());
    sleep(Duration::from_millis(50));
    ws.append(
        "voyages/core/values/ingress-nginx.yaml",
        "# a comment changes no value\n",
    );
    let summary = ws.build(&[]).summary();
    // The values-merge step may rerun (its input changed); the render must not.
    let rendered: Vec<_> = summary
        .renders()
        .filter(|a| a.status == "built" && a.kind.to_ascii_lowercase().contains("render"))
        .collect();
    assert!(
        rendered.is_empty(),
        "identical merged values must stop the rebuild: {rendered:#?}"
    );
    assert_eq!(
        touched(&before, &snapshot(&ws.out())),
        BTreeSet::new(),
        "nothing in out/ is rewritten"
    );
}

#[test]
fn removed_cluster_output_is_removed() {
    let ws = Workspace::example();
    ws.build(&[]);
    assert!(ws.out().join("clusters/pus02").is_dir());
    ws.remove("clusters/hopper/pus02");
    ws.build(&[]);
    let pairs: Vec<_> = fleet::pairs()
        .into_iter()
        .filter(|(c, _)| *c != "pus02")
        .collect();
    assert_output_tree(&ws, &pairs);
}

#[test]
fn removed_component_output_is_removed() {
    let ws = Workspace::example();
    ws.build(&[]);
    assert!(ws.out().join("clusters/peu02/oauth2-proxy.yaml").is_file());
    let toml = ws.read("clusters/gauss/peu02/cluster.toml");
    let start = toml
        .find("[components.oauth2-proxy]")
        .expect("oauth2-proxy table");
    ws.write("clusters/gauss/peu02/cluster.toml", &toml[..start]);
    ws.build(&[]);
    assert!(
        !ws.out().join("clusters/peu02/oauth2-proxy.yaml").exists(),
        "its output is removed"
    );
    let resources = kustomization_resources(&ws.read("out/clusters/peu02/kustomization.yaml"));
    assert!(!resources.contains("oauth2-proxy.yaml"), "{resources:?}");
    let pairs: Vec<_> = fleet::pairs()
        .into_iter()
        .filter(|p| *p != ("peu02", "oauth2-proxy"))
        .collect();
    assert_output_tree(&ws, &pairs);
}

#[test]
fn a_new_cluster_is_built_alone() {
    let ws = Workspace::example();
    ws.build(&[]);
    let before = snapshot(&ws.out());
    ws.copy("clusters/gauss/gstg01", "clusters/gauss/gstg02");
    ws.replace(
        "clusters/gauss/gstg02/cluster.toml",
        "name = \"gstg01\"",
        "name = \"gstg02\"",
    );
    let summary = ws.build(&[]).summary();
    for a in summary.actions().iter().filter(|a| a.status == "built") {
        assert_eq!(
            cluster_of(&a.target),
            Some("gstg02"),
            "`{}` ran for a new cluster",
            a.target
        );
    }
    let changed = touched(&before, &snapshot(&ws.out()));
    assert!(
        changed.iter().all(|p| p.starts_with("clusters/gstg02/")),
        "{changed:?}"
    );
    // Same inputs as gstg01: the same bytes.
    for comp in ["cert-manager", "ingress-nginx", "policy-engine"] {
        assert_eq!(
            ws.read(&format!("out/clusters/gstg02/{comp}.yaml")),
            ws.read(&format!("out/clusters/gstg01/{comp}.yaml"))
        );
    }
}
