//! Differential tests against the Helm oracle over every conformance case.
//!
//! For each case `cases/<chart>/<case>.toml` (+ `.yaml`):
//! - `coalesce_values(chart, user)` must equal `helm-oracle merge` (Helm's `CoalesceValues` on
//!   the loaded chart, no dependency processing);
//! - `prepare(chart, user)` must equal the `.Values` Helm renders after `ProcessDependencies`
//!   and coalescing. We get those by rendering a copy of the chart whose templates are replaced
//!   by one `{{ toJson .Values }}` template; when Helm fails there (schema, missing dependency)
//!   `prepare` must fail too.
//!
//! Oracle answers are cached under `/tmp/wf-chart-oracle/`. Skipped (with a message) when the
//! corpus or the oracle (`python3 -c "import helm_python"`) is not available.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value as J;

use super::{coalesce, load_chart, load_values, prepare};
use crate::value::Data;

const CORPUS: &str = "/work/shared/conformance";
pub(super) const ORACLE: &str = "/work/shared/tools/helm-oracle";
const CACHE: &str = "/tmp/wf-chart-oracle";

pub(super) fn oracle_available() -> bool {
    Path::new(CORPUS).exists()
        && Path::new(ORACLE).exists()
        && Command::new("python3")
            .args(["-c", "import helm_python"])
            .output()
            .is_ok_and(|o| o.status.success())
}

fn run_oracle(cache_key: &str, args: &[&str]) -> Option<J> {
    let cache = Path::new(CACHE).join(format!("{cache_key}.json"));
    if let Ok(text) = std::fs::read_to_string(&cache) {
        if let Ok(j) = serde_json::from_str(&text) {
            return Some(j);
        }
    }
    let out = Command::new("python3")
        .arg(ORACLE)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let j: J = serde_json::from_str(&text).ok()?;
    let _ = std::fs::create_dir_all(CACHE);
    let _ = std::fs::write(&cache, &text);
    Some(j)
}

/// Copies a chart tree, dropping every chart's `templates/`, and adds one template that prints
/// the values as JSON.
fn values_probe_copy(src: &Path, dst: &Path) -> std::io::Result<()> {
    fn copy(src: &Path, dst: &Path, depth: usize) -> std::io::Result<()> {
        if depth > 64 {
            return Ok(());
        }
        std::fs::create_dir_all(dst)?;
        let is_chart = src.join("Chart.yaml").exists();
        for e in std::fs::read_dir(src)? {
            let e = e?;
            let p = e.path();
            let name = e.file_name();
            if is_chart && name == "templates" {
                continue;
            }
            let target = dst.join(&name);
            if std::fs::metadata(&p)?.is_dir() {
                copy(&p, &target, depth + 1)?;
            } else {
                std::fs::copy(&p, &target)?;
                let mut perms = std::fs::metadata(&target)?.permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                std::fs::set_permissions(&target, perms)?;
            }
        }
        Ok(())
    }
    let _ = std::fs::remove_dir_all(dst);
    copy(src, dst, 0)?;
    std::fs::create_dir_all(dst.join("templates"))?;
    std::fs::write(dst.join("templates/wf-values.json"), "{{ toJson .Values }}")
}

pub(super) fn data_eq_json(d: &Data, j: &J, path: &str, diffs: &mut Vec<String>) {
    if diffs.len() > 5 {
        return;
    }
    let ok = match (d, j) {
        (Data::Null, J::Null) => true,
        (Data::Bool(a), J::Bool(b)) => a == b,
        (Data::Int(a), J::Number(b)) => b.as_f64() == Some(*a as f64),
        (Data::Float(a), J::Number(b)) => b.as_f64() == Some(*a),
        (Data::String(a), J::String(b)) => a == b,
        (Data::List(a), J::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                data_eq_json(x, y, &format!("{path}[{i}]"), diffs);
            }
            true
        }
        (Data::Map(a), J::Object(b)) => {
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: only in ours"));
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                diffs.push(format!("{path}.{k}: only in Helm's"));
            }
            for (k, v) in a {
                if let Some(w) = b.get(k) {
                    data_eq_json(v, w, &format!("{path}.{k}"), diffs);
                }
            }
            true
        }
        _ => false,
    };
    if !ok {
        let ours = format!("{d:?}");
        let theirs = j.to_string();
        diffs.push(format!(
            "{path}: ours {} vs Helm's {}",
            &ours[..ours.len().min(200)],
            &theirs[..theirs.len().min(200)]
        ));
    }
}

fn cases() -> Vec<(String, String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(Path::new(CORPUS).join("cases")) else {
        return out;
    };
    for d in dirs.flatten() {
        let Ok(files) = std::fs::read_dir(d.path()) else {
            continue;
        };
        for f in files.flatten() {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "toml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let chart = text
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once('=')?;
                        (k.trim() == "chart").then(|| v.trim().trim_matches('"').to_string())
                    })
                    .unwrap_or_default();
                let case = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push((chart, case, p.with_extension("yaml")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn coalesce_and_prepare_match_helm_on_the_corpus() {
    if !oracle_available() {
        eprintln!("skipped: conformance corpus or helm oracle (python3 -c 'import helm_python') not available");
        return;
    }
    let filter = std::env::var("WF_CHART_CASE").unwrap_or_default();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (chart_name, case, values_path) in cases() {
        let id = format!("{chart_name}/{case}");
        if !filter.is_empty() && !id.contains(&filter) {
            continue;
        }
        let chart_dir = Path::new(CORPUS).join("charts").join(&chart_name);
        let chart = match load_chart(&chart_dir) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{id}: load failed: {e}"));
                continue;
            }
        };
        let user = match std::fs::read(&values_path).map(|b| load_values(&b)) {
            Ok(Ok(v)) => v,
            other => {
                failures.push(format!("{id}: values failed: {other:?}"));
                continue;
            }
        };
        let values_arg = values_path.to_string_lossy().into_owned();
        let key = format!("{chart_name}__{case}");

        // 1. CoalesceValues alone.
        let dir_arg = chart_dir.to_string_lossy().into_owned();
        if let Some(j) = run_oracle(
            &format!("merge__{key}"),
            &["merge", &dir_arg, "-f", &values_arg],
        ) {
            match coalesce::coalesce_values(&chart, &user) {
                Ok(ours) => {
                    let mut diffs = Vec::new();
                    data_eq_json(&ours, &j["values"], "", &mut diffs);
                    if !diffs.is_empty() {
                        failures.push(format!("{id}: coalesce differs:\n  {}", diffs.join("\n  ")));
                    }
                }
                Err(e) => failures.push(format!("{id}: coalesce failed: {e}")),
            }
        }

        // 2. The whole preparation, against the values Helm renders.
        let probe = Path::new(CACHE).join("probe").join(&chart_name);
        let cached = Path::new(CACHE)
            .join(format!("render__{key}.json"))
            .exists();
        if !cached && values_probe_copy(&chart_dir, &probe).is_err() {
            failures.push(format!("{id}: could not copy the chart"));
            continue;
        }
        let probe_arg = probe.to_string_lossy().into_owned();
        let Some(j) = run_oracle(
            &format!("render__{key}"),
            &["render", &probe_arg, "-f", &values_arg],
        ) else {
            failures.push(format!("{id}: oracle render gave no answer"));
            continue;
        };
        checked += 1;
        let ours = prepare(&chart, &user);
        if j["ok"] == J::Bool(true) {
            let text = j["manifests"]
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(J::as_str)
                .unwrap_or("");
            let helm_values: J = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{id}: oracle values not JSON: {e}"));
                    continue;
                }
            };
            match ours {
                Ok(p) => {
                    let mut diffs = Vec::new();
                    data_eq_json(&p.values, &helm_values, "", &mut diffs);
                    if !diffs.is_empty() {
                        failures.push(format!("{id}: prepare differs:\n  {}", diffs.join("\n  ")));
                    }
                }
                Err(e) => failures.push(format!("{id}: prepare failed but Helm passed: {e}")),
            }
        } else if let Ok(p) = ours {
            let _ = p;
            failures.push(format!(
                "{id}: Helm failed ({}) but prepare passed",
                j["error"]
            ));
        }
    }
    eprintln!("checked {checked} cases against the oracle");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
