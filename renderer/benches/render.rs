//! Render benchmark: every public conformance case that Helm renders, `BENCH_N` times (default
//! 20), timing `render_chart` + `helm_template_output` (chart loading excluded). When the Helm
//! oracle is importable, it also runs `helm-oracle bench` on the corpus and prints the ratio.
//!
//! `cargo bench -p wayfinder-render --bench render` (`BENCH_CASE=podinfo/` to filter;
//! `BENCH_HELM_FILE=saved.txt` reuses a saved `helm-oracle bench` output while iterating).
#![allow(dead_code, clippy::print_stdout)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use wayfinder_render::manifest::{helm_template_output, ManifestOptions};
use wayfinder_render::{load_chart, render_chart};

fn main() {
    let Some(root) = common::find_corpus() else {
        println!("bench: corpus not found; skipped");
        return;
    };
    let n: usize = std::env::var("BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20)
        .max(1);
    let filter = std::env::var("BENCH_CASE").ok();
    let mut rust_ms: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    // CPU time of the full runs: steadier than wall time on a busy machine.
    let mut rust_cpu: BTreeMap<String, f64> = BTreeMap::new();
    for case in common::list_cases(&root) {
        if let Some(f) = &filter {
            if !case.id.starts_with(f.as_str()) {
                continue;
            }
        }
        let Ok(exp) = common::load_expected(&root, &case) else {
            continue;
        };
        if !exp.ok {
            continue;
        }
        let Ok(values) = common::load_values(&root, &case) else {
            continue;
        };
        let Ok(chart) = load_chart(&root.join("charts").join(&case.chart)) else {
            println!("{:<45} load error", case.id);
            continue;
        };
        let opts = common::render_options(&case);
        let mopts = ManifestOptions {
            no_hooks: true,
            ..Default::default()
        };
        // Warm-up (fills the template cache), then the timed runs.
        if render_chart(&chart, &values, &opts).is_err() {
            println!("{:<45} render error", case.id);
            continue;
        }
        let start = Instant::now();
        for _ in 0..n {
            if let Ok(r) = render_chart(&chart, &values, &opts) {
                let _ = helm_template_output(&r, &mopts);
            }
        }
        let render_only = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
        // What Helm's bench times: load + render + post-process.
        let start = Instant::now();
        let cpu_start = thread_cpu_ns();
        for _ in 0..n {
            if let Ok(c) = load_chart(&root.join("charts").join(&case.chart)) {
                if let Ok(r) = render_chart(&c, &values, &opts) {
                    let _ = helm_template_output(&r, &mopts);
                }
            }
        }
        let full = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
        let cpu = match (cpu_start, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e6 / n as f64,
            _ => f64::NAN,
        };
        rust_ms.insert(case.id.clone(), (render_only, full));
        rust_cpu.insert(case.id.clone(), cpu);
    }
    let helm_ms = helm_times(&root);
    println!(
        "{:<45} {:>10} {:>10} {:>10} {:>10} {:>8}",
        "case", "render ms", "full ms", "full cpu", "helm ms", "helm/full"
    );
    let (mut tr, mut th, mut tc) = (0.0, 0.0, 0.0);
    for (id, (render, full)) in &rust_ms {
        let cpu = rust_cpu.get(id).copied().unwrap_or(f64::NAN);
        match helm_ms.get(id) {
            Some(h) => {
                tr += full;
                th += h;
                tc += cpu;
                println!(
                    "{id:<45} {render:>10.3} {full:>10.3} {cpu:>10.3} {h:>10.3} {:>8.2}",
                    h / full
                );
            }
            None => println!(
                "{id:<45} {render:>10.3} {full:>10.3} {cpu:>10.3} {:>10} {:>8}",
                "-", "-"
            ),
        }
    }
    let total: f64 = rust_ms.values().map(|x| x.1).sum();
    println!(
        "total rust (load+render+output): {total:.1} ms per pass over {} cases",
        rust_ms.len()
    );
    if th > 0.0 {
        println!(
            "cases timed by both: rust {tr:.1} ms, helm {th:.1} ms, helm/rust {:.2}x",
            th / tr
        );
        println!(
            "(rust CPU time of those cases: {tc:.1} ms, helm/rust-cpu {:.2}x)",
            th / tc
        );
    }
}

/// This thread's CPU time in nanoseconds (Linux `schedstat`), when available.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// `helm-oracle bench <corpus>` output, when the oracle works here: case id → ms per render.
/// Accepts JSON (`{"cases": {id: ms}}` or `{id: ms}` or a list of `{case, ms}`) or lines
/// `<case> <ms>`.
fn helm_times(root: &std::path::Path) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    // While iterating: reuse a saved `helm-oracle bench` output instead of rerunning Helm.
    if let Ok(path) = std::env::var("BENCH_HELM_FILE") {
        if let Ok(text) = std::fs::read_to_string(&path) {
            parse_helm_output(&text, &mut out);
            println!("bench: Helm times read from {path} (not measured in this run)");
        }
        return out;
    }
    let oracle = std::path::Path::new("/work/shared/tools/helm-oracle");
    let tool = root
        .parent()
        .map(|p| p.join("tools/helm-oracle"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| oracle.to_path_buf());
    let ok = std::process::Command::new("python3")
        .args(["-c", "import helm_python"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok || !tool.exists() {
        println!("bench: Helm oracle not importable; Rust times only");
        return out;
    }
    let Ok(o) = std::process::Command::new("python3")
        .arg(&tool)
        .arg("bench")
        .arg(root)
        .args(["--repeat", "5"])
        .output()
    else {
        return out;
    };
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    parse_helm_output(&text, &mut out);
    out
}

fn parse_helm_output(text: &str, out: &mut BTreeMap<String, f64>) {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
        collect_json(&v, out);
    } else {
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.len() >= 2 {
                if let Some(ms) = parts
                    .iter()
                    .skip(1)
                    .find_map(|p| p.trim_end_matches("ms").parse::<f64>().ok())
                {
                    if parts[0] != "total_ms" {
                        out.insert(parts[0].trim_end_matches(':').to_string(), ms);
                    }
                }
            }
        }
    }
}

fn collect_json(v: &serde_json::Value, out: &mut BTreeMap<String, f64>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match x {
                    serde_json::Value::Number(n) => {
                        if let Some(f) = n.as_f64() {
                            out.insert(k.clone(), f);
                        }
                    }
                    serde_json::Value::Object(inner) => {
                        let ms = ["ms", "ms_per_render", "mean_ms", "avg_ms"]
                            .iter()
                            .find_map(|key| inner.get(*key).and_then(|x| x.as_f64()));
                        match ms {
                            Some(f) => {
                                out.insert(k.clone(), f);
                            }
                            None => collect_json(x, out),
                        }
                    }
                    serde_json::Value::Array(_) => collect_json(x, out),
                    _ => {}
                }
            }
        }
        serde_json::Value::Array(items) => {
            for it in items {
                let id = it
                    .get("case")
                    .or_else(|| it.get("id"))
                    .and_then(|x| x.as_str());
                let ms = ["ms", "ms_per_render", "mean_ms", "avg_ms"]
                    .iter()
                    .find_map(|key| it.get(*key).and_then(|x| x.as_f64()));
                if let (Some(id), Some(ms)) = (id, ms) {
                    out.insert(id.to_string(), ms);
                }
            }
        }
        _ => {}
    }
}
