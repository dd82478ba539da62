//! The Helm conformance runner: renders every case of `../shared/conformance` and compares with
//! Helm's own output (see that directory's README.md).
//!
//! - `cargo test -p wayfinder-render --test conformance -- --nocapture` runs every case and
//!   prints `PASS <case>` / `FAIL <case>: <reason>` and `conformance: P/N cases pass`; it fails
//!   when fewer cases pass than `tests/conformance-floor.txt` says (a ratchet: raise it).
//! - `CONFORMANCE_CASE=podinfo/default` runs one case (a prefix such as `podinfo/` runs a chart)
//!   and prints a diff of the first mismatching template.
//! - `CONFORMANCE_DIR=/path` overrides where the corpus is.

#![allow(clippy::print_stdout)]

mod common;

use common::{find_corpus, list_cases, run_case, Outcome};

#[test]
fn conformance() {
    let Some(root) = find_corpus() else {
        println!("conformance: corpus not found (../shared/conformance); skipped");
        return;
    };
    let filter = std::env::var("CONFORMANCE_CASE").ok();
    let cases = list_cases(&root);
    let selected: Vec<_> = cases
        .iter()
        .filter(|c| match &filter {
            Some(f) => c.id == *f || c.id.starts_with(f.as_str()),
            None => true,
        })
        .collect();
    let verbose = filter.is_some();
    let mut passed = 0;
    let mut failures = Vec::new();
    for case in &selected {
        match run_case(&root, case, verbose) {
            Outcome::Pass => {
                passed += 1;
                println!("PASS {}", case.id);
            }
            Outcome::Fail(reason) => {
                println!("FAIL {}: {}", case.id, reason);
                failures.push(case.id.clone());
            }
        }
    }
    println!("conformance: {}/{} cases pass", passed, selected.len());
    if filter.is_some() {
        return;
    }
    let floor_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance-floor.txt");
    let floor: usize = std::fs::read_to_string(&floor_path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        passed >= floor,
        "conformance regressed: {passed} cases pass, floor is {floor} ({})",
        floor_path.display()
    );
    if passed > floor {
        println!("conformance: {passed} > floor {floor}: raise tests/conformance-floor.txt");
    }
}

/// `helm template` post-processing alone: Helm's own per-template output (expected/*.json) fed
/// to `helm_template_output` must print exactly `<case>.manifest.yaml`.
#[test]
fn manifest_postprocessing_matches_helm() {
    use wayfinder_render::manifest::{helm_template_output, ManifestOptions};
    let Some(root) = find_corpus() else {
        println!("manifest: corpus not found; skipped");
        return;
    };
    let mut failures = Vec::new();
    let mut n = 0;
    for case in list_cases(&root) {
        let Ok(exp) = common::load_expected(&root, &case) else {
            continue;
        };
        if !exp.ok {
            continue;
        }
        n += 1;
        let rendered = wayfinder_render::Rendered {
            manifests: exp.manifests.clone(),
            ..Default::default()
        };
        let opts = ManifestOptions {
            no_hooks: true,
            ..Default::default()
        };
        let got = helm_template_output(&rendered, &opts);
        match (&exp.manifest_error, got) {
            (Some(_), Err(_)) => {}
            (Some(e), Ok(_)) => failures.push(format!("{}: Helm fails: {e}", case.id)),
            (None, Err(e)) => failures.push(format!("{}: {}", case.id, e.message)),
            (None, Ok(text)) => {
                let mut want = exp.printed.clone().unwrap_or_default();
                let mut text = text;
                if !case.unstable.is_empty() {
                    // Random values differ between Helm runs: compare `# Source:` lines only.
                    let sources = |s: &str| -> String {
                        s.lines()
                            .filter(|l| l.starts_with("# Source: "))
                            .collect::<Vec<_>>()
                            .join("\n")
                    };
                    want = sources(&want);
                    text = sources(&text);
                }
                if text != want {
                    failures.push(format!(
                        "{}: {}",
                        case.id,
                        common::first_difference(&want, &text)
                    ));
                }
            }
        }
    }
    for f in &failures {
        println!("manifest FAIL {f}");
    }
    println!(
        "manifest post-processing: {}/{} cases match",
        n - failures.len(),
        n
    );
    assert!(failures.is_empty(), "{} cases differ", failures.len());
}

/// Debug aid (`CONFORMANCE_VALUES=podinfo/default`): compares `chart::prepare`'s coalesced
/// values with `helm-oracle merge` for the case(s) and prints the first differing paths.
#[test]
fn values_match_oracle() {
    let Ok(filter) = std::env::var("CONFORMANCE_VALUES") else {
        return;
    };
    let Some(root) = find_corpus() else {
        return;
    };
    for case in list_cases(&root) {
        if !(case.id == filter || case.id.starts_with(filter.as_str())) {
            continue;
        }
        let values = common::load_values(&root, &case).unwrap_or_default();
        let chart_dir = root.join("charts").join(&case.chart);
        let ours = wayfinder_render::load_chart(&chart_dir)
            .map_err(|e| e.message)
            .and_then(|c| wayfinder_render::chart::prepare(&c, &values).map_err(|e| e.message));
        let vfile = root
            .join("cases")
            .join(&case.dir)
            .join(format!("{}.yaml", case.case));
        let out = std::process::Command::new("python3")
            .arg("/work/shared/tools/helm-oracle")
            .arg("merge")
            .arg(&chart_dir)
            .arg("-f")
            .arg(&vfile)
            .output();
        let Ok(out) = out else {
            println!("{}: oracle not runnable", case.id);
            continue;
        };
        let helm: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        let helm_values = helm
            .get("values")
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        match ours {
            Err(e) => println!(
                "{}: prepare error: {e}; helm: {}",
                case.id,
                helm.get("error").unwrap_or(&serde_json::Value::Null)
            ),
            Ok(p) => {
                let ours: serde_json::Value =
                    serde_json::from_str(&wayfinder_render::json::to_json(&p.values))
                        .unwrap_or(serde_json::Value::Null);
                let mut diffs = Vec::new();
                json_diff("", &helm_values, &ours, &mut diffs);
                println!("{}: {} differences", case.id, diffs.len());
                for d in diffs.iter().take(20) {
                    println!("  {d}");
                }
            }
        }
    }
}

fn json_diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for (k, v) in x {
                let p = format!("{path}.{k}");
                match y.get(k) {
                    Some(w) => json_diff(&p, v, w, out),
                    None => out.push(format!("{p}: missing (helm: {})", short_json(v))),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    out.push(format!("{path}.{k}: extra (ours: {})", short_json(&y[k])));
                }
            }
        }
        (J::Array(x), J::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                json_diff(&format!("{path}[{i}]"), v, w, out);
            }
        }
        (J::Number(x), J::Number(y)) if x.as_f64() == y.as_f64() => {}
        _ if a == b => {}
        _ => out.push(format!(
            "{path}: helm {} ours {}",
            short_json(a),
            short_json(b)
        )),
    }
}

fn short_json(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(80).map(|x| x.0).unwrap_or(s.len())]
        )
    } else {
        s
    }
}
