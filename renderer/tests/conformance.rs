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
