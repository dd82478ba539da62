//! Voyages pinned at a version the workspace no longer has, pulled from the registry.
//!
//! A cluster pinning `core@1.4.0` while `voyages/core` is at 1.5.0 is resolved from the
//! artifact `<registry>/voyages/core:1.4.0`: pulled once (version tags are immutable), every
//! blob verified against its digest, and extracted by manifest digest into the user's
//! Wayfinder cache directory, where every workspace (checkout) sharing that cache finds it
//! without contacting the registry. The workspace sees it through a link, so every later
//! step (digests, chart loading, values, action keys) sees ordinary workspace-relative paths
//! that are the same on every machine:
//!
//! ```text
//! <cache dir>/voyages-v1/                 (WAYFINDER_CACHE_DIR > --cache-dir > [cache] dir > XDG)
//!   tags/<host>/<repository>/<version>    the manifest digest the tag named
//!   sha256-<hex>/                         one pulled artifact, written whole (temp + rename)
//!     manifest.json  config.json
//!     charts/<name>@<version>-<digest12>/ each chart layer, unpacked
//!     voyage/                             the values-and-policies layer, unpacked
//! <workspace>/.wayfinder/voyages/
//!   sha256-<hex> -> <cache dir>/voyages-v1/sha256-<hex>   (a copy where links are not possible)
//! ```
//!
//! Plain HTTP is used for loopback registries unless `WAYFINDER_REGISTRY_PLAIN_HTTP` says
//! otherwise (`1`/`true`: always plain HTTP; `0`/`false`: TLS even on loopback);
//! `SSL_CERT_FILE` (and `wayfinder push --ca-file`) add a trusted CA; credentials as for
//! `wayfinder push`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, RwLock};

use wayfinder_oci::{read_tgz, write_atomic, OciError, Registry, RegistryOptions, RegistryUrl};

use super::voyage::{HELM_CHART_LAYER, VOYAGE_ARTIFACT, VOYAGE_CONFIG, VOYAGE_FILES_LAYER};
use crate::model::ComponentDecl;
use crate::tomlread::Sp;

/// Where the workspace sees pulled voyages, relative to its root.
pub(crate) const PULLED_DIR: &str = ".wayfinder/voyages";

/// The area of the cache directory holding pulled voyages (versioned like the cache's own).
pub const CACHE_AREA: &str = "voyages-v1";

/// A pulled voyage, seen through the workspace.
#[derive(Debug, Clone)]
pub(crate) struct Pulled {
    /// Workspace-relative directory of the voyage files (values, policies).
    pub voyage_dir: String,
    pub components: Vec<ComponentDecl>,
}

static CACHE_DIR: RwLock<Option<PathBuf>> = RwLock::new(None);
static CA_FILE: RwLock<Option<PathBuf>> = RwLock::new(None);

/// An extra trusted CA for the pulls of this process (`wayfinder push --ca-file`).
pub fn use_ca_file(file: &Path) {
    if let Ok(mut f) = CA_FILE.write() {
        *f = Some(file.to_path_buf());
    }
}

/// Tells the pulls which cache directory this process uses (the CLI calls it with the
/// directory it opened; without it the pulls resolve it like `wayfinder_cache` does, minus
/// the `--cache-dir` flag they cannot see).
pub fn use_cache_dir(dir: &Path) {
    if let Ok(mut d) = CACHE_DIR.write() {
        *d = Some(dir.to_path_buf());
    }
}

fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(h)) => PathBuf::from(h).join(rest),
        _ => PathBuf::from(p),
    }
}

/// The cache directory: the one set by [`use_cache_dir`], else `WAYFINDER_CACHE_DIR`, else
/// `[cache] dir` (relative to the workspace root), else the XDG cache directory.
fn cache_dir(root: &Path) -> PathBuf {
    if let Some(d) = CACHE_DIR.read().ok().and_then(|d| d.clone()) {
        return d;
    }
    if let Some(e) = std::env::var_os("WAYFINDER_CACHE_DIR").filter(|v| !v.is_empty()) {
        return expand_home(&e.to_string_lossy());
    }
    if let Some(c) = crate::load::cache_dir_setting(root).filter(|c| !c.is_empty()) {
        let p = expand_home(&c);
        return if p.is_relative() { root.join(p) } else { p };
    }
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from) {
        if x.is_absolute() {
            return x.join("wayfinder");
        }
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => PathBuf::from(h).join(".cache").join("wayfinder"),
        None => std::env::temp_dir().join("wayfinder-cache"),
    }
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

/// A registry error as one line, with its hint reworded for pulls (no push flags).
fn oci_message(e: OciError) -> String {
    use miette::Diagnostic as _;
    let help = e.help().map(|h| h.to_string());
    let mut msg = e.to_string();
    if let Some(h) = help {
        let h = h.replace("pass `--ca-file CA.pem` or set", "set").replace(
            "drop `--plain-http`; for pulls from a loopback registry set",
            "set",
        );
        msg.push_str(&format!(" ({h})"));
    }
    msg
}

/// Plain HTTP for this registry? (See the module guide.)
fn plain_http(url: &RegistryUrl) -> bool {
    match std::env::var("WAYFINDER_REGISTRY_PLAIN_HTTP").as_deref() {
        Ok("1" | "true") => true,
        Ok("0" | "false") => false,
        _ => url.is_loopback(),
    }
}

fn pull(root: &Path, name: &str, version: &str) -> Result<Pulled, String> {
    let url = registry_setting(root)
        .ok_or_else(|| "no `[registry] url` in `workspace.toml` to pull it from".to_string())?;
    let url = RegistryUrl::parse(&url).map_err(oci_message)?;
    let repo = url.repository(&format!("voyages/{name}"));
    let cache = cache_dir(root).join(CACHE_AREA);
    std::fs::create_dir_all(&cache)
        .map_err(|e| format!("cannot create `{}`: {e}", cache.display()))?;
    // Links must hold an absolute path (the cache dir may be given relative to the cwd).
    let base = std::fs::canonicalize(&cache).unwrap_or(cache);
    let tag_file = base.join("tags").join(&url.host).join(&repo).join(version);
    // A tag pulled before, by any workspace sharing the cache: no network at all.
    if let Ok(d) = std::fs::read_to_string(&tag_file) {
        let d = d.trim();
        if wayfinder_oci::is_sha256_digest(d) {
            let dir = format!("sha256-{}", &d[7..]);
            if base.join(&dir).join("config.json").is_file() {
                tracing::debug!(voyage = name, version, digest = d, "pulled before");
                return link_and_read(root, &base, &dir);
            }
        }
    }
    let reg = Registry::new(
        &url.host,
        RegistryOptions {
            plain_http: plain_http(&url),
            ca_file: CA_FILE.read().ok().and_then(|f| f.clone()),
            retries: 2,
            ..Default::default()
        },
    )
    .map_err(oci_message)?;
    tracing::info!(voyage = name, version, registry = %url.host, "pulling a pinned voyage");
    let (manifest, raw, digest) = reg
        .pull_image_manifest(&repo, version)
        .map_err(oci_message)?
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
            .map_err(oci_message)?;
        let tmp = base.join(format!(".tmp-{}-{}", std::process::id(), &digest[7..19]));
        let _ = std::fs::remove_dir_all(&tmp);
        let r = extract(&reg, &repo, &manifest, &raw, &config, &tmp);
        if let Err(e) = r {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, &final_dir) {
            let _ = std::fs::remove_dir_all(&tmp);
            // Another process may have stored the same artifact meanwhile.
            if !final_dir.join("config.json").is_file() {
                return Err(format!("cannot store the pulled voyage: {e}"));
            }
        }
    }
    write_atomic(&tag_file, digest.as_bytes())
        .map_err(|e| format!("cannot record the tag: {e}"))?;
    link_and_read(root, &base, &dir_name)
}

/// Writes the files of a pulled artifact under `tmp`.
fn extract(
    reg: &Registry,
    repo: &str,
    manifest: &wayfinder_oci::Manifest,
    raw: &[u8],
    config: &[u8],
    tmp: &Path,
) -> Result<(), String> {
    let write = |rel: &str, data: &[u8]| {
        write_atomic(&tmp.join(rel), data).map_err(|e| format!("cannot write `{rel}`: {e}"))
    };
    write("manifest.json", raw)?;
    write("config.json", config)?;
    for layer in &manifest.layers {
        let data = reg.pull_descriptor(repo, layer).map_err(oci_message)?;
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
    Ok(())
}

/// Makes `<root>/.wayfinder/voyages/<dir>` show `<store>/<dir>`, then reads the voyage.
fn link_and_read(root: &Path, store: &Path, dir: &str) -> Result<Pulled, String> {
    let target = store.join(dir);
    let ws_dir = root.join(PULLED_DIR);
    let link = ws_dir.join(dir);
    let fail = |e: std::io::Error| format!("cannot link `{PULLED_DIR}/{dir}` to the cache: {e}");
    let current = std::fs::read_link(&link).ok();
    let usable = match &current {
        Some(to) => *to == target,
        // A directory of its own (a copy): the same digest is the same content.
        None => link.join("config.json").is_file(),
    };
    if !usable {
        std::fs::create_dir_all(&ws_dir).map_err(fail)?;
        // `.wayfinder/` holds only derived files.
        let ignore = root.join(".wayfinder/.gitignore");
        if !ignore.exists() {
            let _ = write_atomic(&ignore, b"*\n");
        }
        place(&target, &ws_dir, dir).map_err(fail)?;
    }
    from_dir(root, &format!("{PULLED_DIR}/{dir}"))
}

/// Puts a link (a copy where links are not possible) to `target` at `ws_dir/name`, replacing
/// whatever is there in one rename.
#[cfg(unix)]
fn place(target: &Path, ws_dir: &Path, name: &str) -> std::io::Result<()> {
    let tmp = ws_dir.join(format!(".link-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    let link = ws_dir.join(name);
    if link.is_dir() && std::fs::read_link(&link).is_err() {
        std::fs::remove_dir_all(&link)?;
    }
    std::fs::rename(&tmp, &link).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(not(unix))]
fn place(target: &Path, ws_dir: &Path, name: &str) -> std::io::Result<()> {
    fn copy(from: &Path, to: &Path, depth: usize) -> std::io::Result<()> {
        if depth > 32 {
            return Err(std::io::Error::other("too deep"));
        }
        std::fs::create_dir_all(to)?;
        for e in std::fs::read_dir(from)? {
            let e = e?;
            if e.file_type()?.is_dir() {
                copy(&e.path(), &to.join(e.file_name()), depth + 1)?;
            } else {
                std::fs::copy(e.path(), to.join(e.file_name()))?;
            }
        }
        Ok(())
    }
    let tmp = ws_dir.join(format!(".copy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    copy(target, &tmp, 0)?;
    let link = ws_dir.join(name);
    let _ = std::fs::remove_dir_all(&link);
    std::fs::rename(&tmp, &link)
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
