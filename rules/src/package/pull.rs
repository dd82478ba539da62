//! Voyages pinned at a version the workspace no longer has, pulled from the registry.
//!
//! A cluster pinning `core@1.4.0` while `voyages/core` is at 1.5.0 is resolved from the
//! artifact `<registry>/voyages/core:1.4.0`: pulled once (per process, and then never again
//! for that tag: version tags are immutable), every blob verified against its digest, and
//! extracted by manifest digest inside the workspace, so every later step (digests, chart
//! loading, values) sees ordinary workspace paths:
//!
//! ```text
//! .wayfinder/voyages/                     (add `.wayfinder/` to .gitignore)
//!   tags/<host>/<repository>/<version>    the manifest digest the tag named
//!   sha256-<hex>/                         one pulled artifact, written whole (temp + rename)
//!     manifest.json  config.json
//!     charts/<name>@<version>-<digest12>/ each chart layer, unpacked
//!     voyage/                             the values-and-policies layer, unpacked
//! ```
//!
//! Plain HTTP is used for loopback registries (or with `WAYFINDER_REGISTRY_PLAIN_HTTP=1`);
//! `SSL_CERT_FILE` adds a CA; credentials as for `wayfinder push`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use wayfinder_oci::{read_tgz, write_atomic, Registry, RegistryOptions, RegistryUrl};

use super::voyage::{HELM_CHART_LAYER, VOYAGE_ARTIFACT, VOYAGE_CONFIG, VOYAGE_FILES_LAYER};
use crate::model::ComponentDecl;
use crate::tomlread::Sp;

/// Where pulled voyages live, relative to the workspace root.
pub(crate) const PULLED_DIR: &str = ".wayfinder/voyages";

/// A pulled voyage, extracted under the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Pulled {
    /// Workspace-relative directory of the voyage files (values, policies).
    pub voyage_dir: String,
    pub components: Vec<ComponentDecl>,
}

/// `[registry] url` of `workspace.toml`, read on its own.
fn registry_setting(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(crate::load::WORKSPACE_FILE)).ok()?;
    let t = toml::de::DeTable::parse(&text).ok()?;
    let reg = t.get_ref().get("registry")?;
    let url = reg.get_ref().as_table()?.get("url")?;
    url.get_ref().as_str().map(str::to_string)
}

/// Pulls (once per process) voyage `name@version`; `Err` says why it cannot be had.
pub(crate) fn pulled_voyage(root: &Path, name: &str, version: &str) -> Result<Pulled, String> {
    static PULLS: OnceLock<Mutex<HashMap<String, Result<Pulled, String>>>> = OnceLock::new();
    let key = format!("{}\n{name}\n{version}", root.display());
    let lock = PULLS.get_or_init(Default::default);
    // Held during the pull: clusters pinning the same version wait for one download.
    let mut map = lock.lock().map_err(|_| "pull lock poisoned".to_string())?;
    if let Some(r) = map.get(&key) {
        return r.clone();
    }
    let r = pull(root, name, version);
    map.insert(key, r.clone());
    r
}

fn safe_rel(p: &str) -> bool {
    !p.is_empty()
        && !p.starts_with('/')
        && !p.contains('\\')
        && p.split('/').all(|c| !c.is_empty() && c != "." && c != "..")
}

fn pull(root: &Path, name: &str, version: &str) -> Result<Pulled, String> {
    let url = registry_setting(root)
        .ok_or_else(|| "no `[registry] url` in `workspace.toml` to pull it from".to_string())?;
    let url = RegistryUrl::parse(&url).map_err(|e| e.to_string())?;
    let repo = url.repository(&format!("voyages/{name}"));
    let base = root.join(PULLED_DIR);
    let tag_file = base.join("tags").join(&url.host).join(&repo).join(version);
    // A tag pulled before: no network at all.
    if let Ok(d) = std::fs::read_to_string(&tag_file) {
        let d = d.trim();
        if wayfinder_oci::is_sha256_digest(d) {
            let dir = format!("sha256-{}", &d[7..]);
            if base.join(&dir).join("config.json").is_file() {
                return from_dir(root, &format!("{PULLED_DIR}/{dir}"));
            }
        }
    }
    let plain = url.is_loopback()
        || std::env::var("WAYFINDER_REGISTRY_PLAIN_HTTP").is_ok_and(|v| v == "1" || v == "true");
    let reg = Registry::new(
        &url.host,
        RegistryOptions {
            plain_http: plain,
            retries: 2,
            ..Default::default()
        },
    )
    .map_err(|e| e.to_string())?;
    tracing::info!(voyage = name, version, registry = %url.host, "pulling a pinned voyage");
    let (manifest, raw, digest) = reg
        .pull_image_manifest(&repo, version)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the registry has no `{}/{repo}:{version}`", url.host))?;
    if manifest.artifact_type.as_deref() != Some(VOYAGE_ARTIFACT)
        || manifest.config.media_type != VOYAGE_CONFIG
    {
        return Err(format!(
            "`{}/{repo}:{version}` is not a voyage artifact (artifactType `{}`)",
            url.host,
            manifest.artifact_type.as_deref().unwrap_or("none")
        ));
    }
    let dir_name = format!("sha256-{}", &digest[7..]);
    let final_dir = base.join(&dir_name);
    if !final_dir.join("config.json").is_file() {
        let config = reg
            .pull_descriptor(&repo, &manifest.config)
            .map_err(|e| e.to_string())?;
        let tmp = base.join(format!(".tmp-{}-{}", std::process::id(), &digest[7..19]));
        let _ = std::fs::remove_dir_all(&tmp);
        let write = |rel: &str, data: &[u8]| {
            write_atomic(&tmp.join(rel), data).map_err(|e| format!("cannot write `{rel}`: {e}"))
        };
        write("manifest.json", &raw)?;
        write("config.json", &config)?;
        for layer in &manifest.layers {
            let data = reg
                .pull_descriptor(&repo, layer)
                .map_err(|e| e.to_string())?;
            let files = read_tgz(&data).map_err(|e| format!("layer `{}`: {e}", layer.digest))?;
            match layer.media_type.as_str() {
                HELM_CHART_LAYER => {
                    let dir = format!("charts/{}", chart_dir_name(&layer.digest, &files)?);
                    for (path, bytes) in files {
                        // `<chart name>/<path in chart>`: the first component is dropped.
                        let Some((_, inner)) = path.split_once('/') else {
                            continue;
                        };
                        if !safe_rel(inner) {
                            return Err(format!("unsafe path `{path}` in a chart layer"));
                        }
                        write(&format!("{dir}/{inner}"), &bytes)?;
                    }
                }
                VOYAGE_FILES_LAYER => {
                    for (path, bytes) in files {
                        if !safe_rel(&path) {
                            return Err(format!("unsafe path `{path}` in the voyage files"));
                        }
                        write(&format!("voyage/{path}"), &bytes)?;
                    }
                }
                other => tracing::debug!(media_type = other, "skipping an unknown layer"),
            }
        }
        if let Err(e) = std::fs::rename(&tmp, &final_dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            if !final_dir.join("config.json").is_file() {
                return Err(format!("cannot store the pulled voyage: {e}"));
            }
        }
    }
    write_atomic(&tag_file, digest.as_bytes())
        .map_err(|e| format!("cannot record the tag: {e}"))?;
    from_dir(root, &format!("{PULLED_DIR}/{dir_name}"))
}

/// `<name>@<version>-<first 12 hex digits>`: unique, and never a workspace chart's target.
fn chart_dir_name(digest: &str, files: &[(String, Vec<u8>)]) -> Result<String, String> {
    let chart_yaml = files
        .iter()
        .find(|(p, _)| p.split('/').nth(1) == Some("Chart.yaml") && p.matches('/').count() == 1)
        .ok_or_else(|| format!("chart layer `{digest}` has no Chart.yaml"))?;
    let chart = wayfinder_render::chart::load_values(&chart_yaml.1)
        .map_err(|e| format!("chart layer `{digest}`: {}", e.message))?;
    let get = |k: &str| match chart.as_map().and_then(|m| m.get(k)) {
        Some(wayfinder_render::Data::String(s)) => s.clone(),
        _ => String::new(),
    };
    let name = get("name");
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    if !ok(&name) {
        return Err(format!(
            "chart layer `{digest}` has a bad chart name `{name}`"
        ));
    }
    let version = get("version");
    let hex = digest.get(7..19).unwrap_or("x");
    Ok(format!(
        "{name}@{}-{hex}",
        if ok(&version) { version } else { "0".into() }
    ))
}

/// The components of the voyage extracted at workspace path `dir`.
fn from_dir(root: &Path, dir: &str) -> Result<Pulled, String> {
    let cfg = std::fs::read(root.join(dir).join("config.json"))
        .map_err(|e| format!("cannot read the pulled voyage: {e}"))?;
    let cfg: serde_json::Value =
        serde_json::from_slice(&cfg).map_err(|e| format!("the voyage config is not JSON: {e}"))?;
    let charts_dir = root.join(dir).join("charts");
    let mut chart_dirs: Vec<String> = std::fs::read_dir(&charts_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    chart_dirs.sort();
    let comps = cfg["components"]
        .as_array()
        .ok_or_else(|| "the voyage config has no `components`".to_string())?;
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for c in comps {
        let name = s(&c["name"]);
        let digest = s(&c["chart"]["digest"]);
        let hex = digest.get(7..19).unwrap_or("-");
        let chart_dir = chart_dirs
            .iter()
            .find(|d| d.ends_with(&format!("-{hex}")))
            .ok_or_else(|| format!("component `{name}`: the artifact has no chart `{digest}`"))?;
        let mut values = Vec::new();
        for v in c["values"].as_array().into_iter().flatten() {
            let v = s(v);
            if !safe_rel(&v) {
                return Err(format!("component `{name}`: unsafe values path `{v}`"));
            }
            values.push(Sp::new(v, 0..0));
        }
        if name.is_empty() {
            return Err("a component of the voyage config has no name".into());
        }
        out.push(ComponentDecl {
            name: Sp::new(name, 0..0),
            chart: Some(Sp::new(format!("{dir}/charts/{chart_dir}"), 0..0)),
            remote_chart: None,
            namespace: Some(Sp::new(s(&c["namespace"]), 0..0)).filter(|n| !n.v.is_empty()),
            release: Some(Sp::new(s(&c["release"]), 0..0)).filter(|n| !n.v.is_empty()),
            values,
            needs: c["needs"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| Sp::new(s(n), 0..0))
                .collect(),
            enabled: None,
        });
    }
    Ok(Pulled {
        voyage_dir: format!("{dir}/voyage"),
        components: out,
    })
}
