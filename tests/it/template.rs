//! `wayfinder template` is a drop-in for `helm template` (DESIGN §4).

use std::collections::BTreeSet;

use wayfinder_tests::{fleet, oracle, repo_root, Workspace};

fn template_args<'a>(
    chart: &'a str,
    values: &'a [String],
    name: &'a str,
    ns: &'a str,
    kube: &'a str,
) -> Vec<&'a str> {
    let mut args = vec![
        "template",
        chart,
        "--name",
        name,
        "--namespace",
        ns,
        "--kube-version",
        kube,
    ];
    for v in values {
        args.push("-f");
        args.push(v);
    }
    args
}

#[test]
fn template_prints_what_helm_template_prints_for_every_example_chart() {
    let Some(_) =
        oracle::or_skip("template_prints_what_helm_template_prints_for_every_example_chart")
    else {
        return;
    };
    let ws = Workspace::example();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for r in fleet::renders(ws.root()) {
        // One representative render per chart and values shape.
        if !seen.insert((r.chart.clone(), r.values.len())) {
            continue;
        }
        let values: Vec<_> = r.values.iter().map(|v| ws.path(v)).collect();
        let want = oracle::manifest(
            &ws.path(&r.chart),
            &values,
            &r.component,
            &r.namespace,
            fleet::KUBE_VERSION,
        )
        .unwrap_or_else(|e| panic!("helm fails on {}/{}: {e}", r.cluster, r.component));
        let run = ws.run(&template_args(
            &r.chart,
            &r.values,
            &r.component,
            &r.namespace,
            fleet::KUBE_VERSION,
        ));
        run.assert_no_panic();
        if run.code != Some(0) {
            failures.push(format!(
                "{}/{}: exit {:?}\n{}",
                r.cluster, r.component, run.code, run.stderr
            ));
        } else if run.stdout != want {
            failures.push(format!(
                "{}/{}: `wayfinder {}` differs from helm\n--- helm\n{want}\n--- wayfinder\n{}",
                r.cluster,
                r.component,
                run.args.join(" "),
                run.stdout
            ));
        }
    }
    assert!(seen.len() >= 6, "renders checked: {seen:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn template_with_chart_defaults_matches_helm_including_errors() {
    let Some(_) = oracle::or_skip("template_with_chart_defaults_matches_helm_including_errors")
    else {
        return;
    };
    let ws = Workspace::example();
    for chart in fleet::CHARTS.iter().filter(|c| **c != "platform-lib") {
        let path = format!("charts/{chart}");
        let run = ws.run(&[
            "template",
            &path,
            "--name",
            chart,
            "--namespace",
            "default",
            "--kube-version",
            "1.31.0",
        ]);
        run.assert_no_panic();
        match oracle::manifest(&ws.path(&path), &[], chart, "default", "1.31.0") {
            Ok(want) => {
                assert_eq!(run.code, Some(0), "{chart}:\n{}", run.stderr);
                assert_eq!(run.stdout, want, "{chart}: defaults differ from helm");
            }
            Err(helm_error) => {
                // oauth2-proxy's `required` fails without values; the message is Helm's.
                assert_ne!(
                    run.code,
                    Some(0),
                    "{chart}: helm fails ({helm_error}), wayfinder must too"
                );
                let tail = helm_error.rsplit("): ").next().unwrap_or(&helm_error);
                assert!(
                    wayfinder_tests::contains_loose(&run.stderr, tail),
                    "{chart}: stderr should carry Helm's message `{helm_error}`:\n{}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn template_honours_the_kube_version() {
    let Some(_) = oracle::or_skip("template_honours_the_kube_version") else {
        return;
    };
    let ws = Workspace::example();
    for kube in ["1.29.4", "1.31.0"] {
        let want = oracle::manifest(&ws.path("charts/policy-engine"), &[], "pe", "policy", kube)
            .expect("helm renders");
        let run = ws.run(&[
            "template",
            "charts/policy-engine",
            "--name",
            "pe",
            "--namespace",
            "policy",
            "--kube-version",
            kube,
        ]);
        run.assert_success();
        assert_eq!(run.stdout, want, "kube {kube}");
    }
}

#[test]
fn template_needs_no_workspace() {
    let ws = Workspace::empty();
    let chart = repo_root().join("charts/cert-manager");
    let chart = chart.to_string_lossy();
    let run = ws.run(&[
        "template",
        &chart,
        "--name",
        "cm",
        "--namespace",
        "cert-manager",
    ]);
    run.assert_success();
    assert!(
        run.stdout
            .contains("# Source: cert-manager/templates/deployment.yaml"),
        "{}",
        run.stdout
    );
    if oracle::available().is_some() {
        let want = oracle::manifest(
            &repo_root().join("charts/cert-manager"),
            &[],
            "cm",
            "cert-manager",
            "1.31.0",
        );
        // Without --kube-version both use their default; only compare when Helm's
        // default renders the same (the chart does not depend on it).
        if let Ok(want) = want {
            assert_eq!(run.stdout, want);
        }
    }
}
