//! The Helm oracle (`../shared/tools/helm-oracle`): Helm v4's own engine,
//! run through Python. Tests that compare with it skip when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// The oracle script, when it and its Python package are available.
pub fn available() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let script = crate::shared_dir()?.join("tools/helm-oracle");
            let importable = Command::new("python3")
                .args(["-c", "import helm_python"])
                .output()
                .is_ok_and(|o| o.status.success());
            (script.is_file() && importable).then_some(script)
        })
        .clone()
}

/// Prints why a test is skipped and returns `None` when the oracle is missing.
pub fn or_skip(test: &str) -> Option<PathBuf> {
    let found = available();
    if found.is_none() {
        println!(
            "skipping {test}: the Helm oracle is not available \
             (needs ../shared/tools/helm-oracle and `python3 -m pip install helm-python-sdk==0.2.2`)"
        );
    }
    found
}

/// What `helm template --no-hooks` prints for a chart, or Helm's error.
pub fn manifest(
    chart: &Path,
    values: &[PathBuf],
    name: &str,
    namespace: &str,
    kube_version: &str,
) -> Result<String, String> {
    let script = available().ok_or("the Helm oracle is not available")?;
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg("render")
        .arg(chart)
        .args(["--name", name, "--namespace", namespace, "--manifest"])
        .arg("--kube-version")
        .arg(format!("v{}", kube_version.trim_start_matches('v')));
    for v in values {
        cmd.arg("-f").arg(v);
    }
    let out = cmd.output().map_err(|e| format!("run the oracle: {e}"))?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "oracle output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    if v["ok"] != Value::Bool(true) {
        return Err(v["error"]
            .as_str()
            .unwrap_or("unknown oracle error")
            .to_string());
    }
    match v.get("manifest").and_then(Value::as_str) {
        Some(m) => Ok(m.to_string()),
        None => Err(v["manifest_error"]
            .as_str()
            .unwrap_or("no manifest")
            .to_string()),
    }
}

/// Splits `helm template` output into its documents, in order, each with
/// the path of its `# Source:` line; used to set aside CRDs from crds/.
pub fn documents(manifest: &str) -> Vec<(String, String)> {
    let mut docs: Vec<(String, String)> = Vec::new();
    let lines: Vec<&str> = manifest.split_inclusive('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let starts_doc = line.trim_end() == "---"
            && lines
                .get(i + 1)
                .is_some_and(|next| next.starts_with("# Source: "));
        if starts_doc || docs.is_empty() {
            let source = lines
                .get(i + 1)
                .and_then(|l| l.strip_prefix("# Source: "))
                .map(|s| s.trim_end().to_string())
                .unwrap_or_default();
            docs.push((source, String::new()));
        }
        if let Some(doc) = docs.last_mut() {
            doc.1.push_str(line);
        }
    }
    docs
}
