//! The example workspace itself: its shape, and that Helm renders every chart
//! of it. These need no `wayfinder` binary.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use wayfinder_tests::{fleet, oracle, repo_root, snapshot};

#[test]
fn fleet_table_matches_the_example_files() {
    let got: BTreeSet<(String, String)> = fleet::renders(&repo_root())
        .into_iter()
        .map(|r| (r.cluster, r.component))
        .collect();
    let want: BTreeSet<(String, String)> = fleet::pairs()
        .into_iter()
        .map(|(c, comp)| (c.to_string(), comp.to_string()))
        .collect();
    assert_eq!(got, want);
    for (group, cluster, env, _) in fleet::CLUSTERS {
        let toml = fs::read_to_string(
            repo_root().join(format!("clusters/{group}/{cluster}/cluster.toml")),
        )
        .expect("cluster.toml");
        assert!(
            toml.contains(&format!("name = \"{cluster}\"")),
            "{cluster}: name"
        );
        assert!(
            toml.contains(&format!("env = \"{env}\"")),
            "{cluster}: env label"
        );
    }
}

#[test]
fn example_has_the_shape_issue_3_asks_for() {
    let root = repo_root();
    let groups: BTreeSet<_> = fleet::CLUSTERS.iter().map(|(g, ..)| *g).collect();
    let envs: BTreeSet<_> = fleet::CLUSTERS.iter().map(|(_, _, e, _)| *e).collect();
    assert!(fleet::CLUSTERS.len() >= 8, "at least 8 clusters");
    assert_eq!(groups.len(), 2, "2 groups");
    assert_eq!(envs, BTreeSet::from(["dev", "prod", "staging"]));
    for group in groups {
        assert!(
            root.join(format!("clusters/{group}/values")).is_dir(),
            "{group}: group values"
        );
    }
    let voyages = fs::read_dir(root.join("voyages"))
        .expect("voyages/")
        .count();
    assert!(voyages >= 2, "2 voyages");
    // Chart shapes: a subchart, a library chart and a dependent, CRDs, helpers.
    assert!(root
        .join("charts/metrics-stack/charts/node-exporter/Chart.yaml")
        .is_file());
    let lib =
        fs::read_to_string(root.join("charts/platform-lib/Chart.yaml")).expect("library chart");
    assert!(lib.contains("type: library"));
    assert!(root
        .join("charts/ingress-nginx/charts/platform-lib/Chart.yaml")
        .is_file());
    assert!(
        fs::read_dir(root.join("charts/cert-manager/crds"))
            .expect("crds/")
            .count()
            > 0
    );
    for chart in fleet::CHARTS.iter().filter(|c| **c != "platform-lib") {
        assert!(
            root.join(format!("charts/{chart}/templates/_helpers.tpl"))
                .is_file(),
            "{chart}: _helpers.tpl"
        );
    }
    // A cluster-only component.
    let extra = fleet::renders(&root)
        .into_iter()
        .filter(|r| r.component == "oauth2-proxy")
        .count();
    assert!(extra >= 1);
}

#[test]
fn vendored_library_chart_is_identical_to_its_source() {
    let root = repo_root();
    let source = snapshot(&root.join("charts/platform-lib"));
    assert!(!source.is_empty());
    for dependent in ["ingress-nginx", "log-shipper"] {
        let copy = snapshot(&root.join(format!("charts/{dependent}/charts/platform-lib")));
        let a: Vec<_> = source.iter().map(|(k, v)| (k, &v.bytes)).collect();
        let b: Vec<_> = copy.iter().map(|(k, v)| (k, &v.bytes)).collect();
        assert!(
            a == b,
            "charts/{dependent}/charts/platform-lib differs from charts/platform-lib: \
             rm -r charts/{dependent}/charts/platform-lib && cp -r charts/platform-lib charts/{dependent}/charts/"
        );
    }
}

/// The renders must stay cacheable: no function whose output changes per run.
#[test]
fn example_templates_are_deterministic() {
    const NONDETERMINISTIC: &[&str] = &[
        "randAlphaNum",
        "randAlpha",
        "randNumeric",
        "randAscii",
        "randBytes",
        "randInt",
        "uuidv4",
        "genCA",
        "genPrivateKey",
        "genSelfSignedCert",
        "genSignedCert",
        "now",
        "dateInZone",
        "unixEpoch",
    ];
    let tree = snapshot(&repo_root().join("charts"));
    for (path, file) in &tree {
        if !path.contains("/templates/") {
            continue;
        }
        let text = String::from_utf8_lossy(&file.bytes);
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            assert!(
                !NONDETERMINISTIC.contains(&word),
                "charts/{path} uses `{word}`"
            );
        }
    }
}

#[test]
fn helm_renders_every_component_of_the_example() {
    let Some(_) = oracle::or_skip("helm_renders_every_component_of_the_example") else {
        return;
    };
    let root = repo_root();
    let mut failures = Vec::new();
    for r in fleet::renders(&root) {
        let values: Vec<_> = r.values.iter().map(|v| root.join(v)).collect();
        match oracle::manifest(
            &root.join(&r.chart),
            &values,
            &r.component,
            &r.namespace,
            fleet::KUBE_VERSION,
        ) {
            Ok(m) => {
                let docs = oracle::documents(&m);
                if docs.is_empty()
                    || docs
                        .iter()
                        .any(|(src, d)| src.is_empty() || !d.contains("\nkind: "))
                {
                    failures.push(format!(
                        "{}/{}: odd documents:\n{m}",
                        r.cluster, r.component
                    ));
                }
            }
            Err(e) => failures.push(format!("{}/{}: {e}", r.cluster, r.component)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Values files named by the example exist (the layering reads them all).
#[test]
fn every_values_file_of_the_example_exists() {
    let root = repo_root();
    for r in fleet::renders(&root) {
        assert!(
            Path::new(&root.join(&r.chart)).join("Chart.yaml").is_file(),
            "{}",
            r.chart
        );
        for v in &r.values {
            assert!(root.join(v).is_file(), "{}/{}: {v}", r.cluster, r.component);
        }
    }
}
