//! Our crates depend on each other in one direction only (STYLE.md):
//! renderer → none, engine → none, oci → none, cache → engine + oci,
//! rules → engine + renderer + oci, cli → all.

use std::collections::BTreeMap;
use std::process::Command;

fn allowed(krate: &str) -> Option<&'static [&'static str]> {
    Some(match krate {
        "wayfinder-render" => &[],
        "wayfinder-engine" => &[],
        "wayfinder-oci" => &[],
        "wayfinder-cache" => &["wayfinder-engine", "wayfinder-oci"],
        "wayfinder-rules" => &["wayfinder-engine", "wayfinder-render", "wayfinder-oci"],
        "wayfinder-cli" => &[
            "wayfinder-engine",
            "wayfinder-cache",
            "wayfinder-oci",
            "wayfinder-render",
            "wayfinder-rules",
        ],
        // The integration test crate may use anything.
        "wayfinder-tests" => return None,
        _ => &[],
    })
}

#[test]
fn crates_depend_in_one_direction() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let mut seen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bad = Vec::new();
    for pkg in meta["packages"].as_array().expect("packages") {
        let name = pkg["name"].as_str().unwrap_or_default().to_string();
        let ours: Vec<String> = pkg["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["name"].as_str())
            .filter(|d| d.starts_with("wayfinder-"))
            .map(str::to_string)
            .collect();
        if let Some(ok) = allowed(&name) {
            for d in &ours {
                if !ok.contains(&d.as_str()) {
                    bad.push(format!("`{name}` must not depend on `{d}`"));
                }
            }
        }
        seen.insert(name, ours);
    }
    for krate in [
        "wayfinder-engine",
        "wayfinder-cache",
        "wayfinder-rules",
        "wayfinder-cli",
    ] {
        assert!(
            seen.contains_key(krate),
            "`{krate}` is not in the workspace: {seen:?}"
        );
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
