//! The voyage artifact and the Flux artifact of a cluster rendering (DESIGN §5; the config's
//! schema is in `docs/voyage-artifact.md`).
//!
//! Voyage image manifest:
//! - `artifactType` [`VOYAGE_ARTIFACT`]; config [`VOYAGE_CONFIG`]: the resolved voyage as
//!   compact JSON with sorted keys;
//! - one [`HELM_CHART_LAYER`] per chart (the reproducible package of `chart:NAME`), titled
//!   `NAME-VERSION.tgz`;
//! - one [`VOYAGE_FILES_LAYER`]: the voyage's values files and policies, paths relative to
//!   the voyage directory;
//! - annotations `org.opencontainers.image.{title,version,revision,source,created}`:
//!   `created` from `SOURCE_DATE_EPOCH`, else the commit time of `HEAD`; `revision` and
//!   `source` from git when the workspace is a git checkout (the URL without credentials).
//!
//! Nothing else (no clock, no path) enters: the same inputs give the same manifest digest.

use std::collections::BTreeMap;
use std::path::Path;

use wayfinder_oci::Image;

use crate::load::Voyage;

pub const VOYAGE_ARTIFACT: &str = "application/vnd.wayfinder.voyage.v1+json";
pub const VOYAGE_CONFIG: &str = "application/vnd.wayfinder.voyage.config.v1+json";
pub const HELM_CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
pub const VOYAGE_FILES_LAYER: &str = "application/vnd.wayfinder.voyage.files.v1.tar+gzip";
pub const FLUX_CONFIG: &str = "application/vnd.cncf.flux.config.v1+json";
pub const FLUX_LAYER: &str = "application/vnd.cncf.flux.content.v1.tar+gzip";
const TITLE: &str = "org.opencontainers.image.title";

/// Where and when an artifact was made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// RFC 3339, UTC.
    pub created: Option<String>,
    pub revision: Option<String>,
    pub source: Option<String>,
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// A URL without user info (`https://user:token@host/x` → `https://host/x`).
fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_string(),
    }
}

/// RFC 3339 (UTC, seconds) of a Unix time.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The provenance of the workspace at `root`: `SOURCE_DATE_EPOCH` (else the commit time) and
/// git's `HEAD` and `origin`.
pub fn provenance(root: &Path) -> Provenance {
    let revision = git(root, &["rev-parse", "HEAD"]);
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or_else(|| {
            revision.as_ref()?;
            git(root, &["log", "-1", "--format=%ct"])?.parse().ok()
        });
    Provenance {
        created: epoch.map(rfc3339),
        revision,
        source: git(root, &["config", "--get", "remote.origin.url"]).map(|u| strip_userinfo(&u)),
    }
}

fn annotations(title: &str, version: &str, p: &Provenance) -> BTreeMap<String, String> {
    let mut a = BTreeMap::new();
    a.insert(TITLE.to_string(), title.to_string());
    a.insert(
        "org.opencontainers.image.version".to_string(),
        version.to_string(),
    );
    if let Some(c) = &p.created {
        a.insert("org.opencontainers.image.created".to_string(), c.clone());
    }
    if let Some(r) = &p.revision {
        a.insert("org.opencontainers.image.revision".to_string(), r.clone());
    }
    if let Some(s) = &p.source {
        a.insert("org.opencontainers.image.source".to_string(), s.clone());
    }
    a
}

/// A packaged chart as the voyage artifact needs it.
#[derive(Clone)]
pub struct ChartPackage {
    pub name: String,
    pub version: String,
    /// `NAME-VERSION.tgz`.
    pub file: String,
    pub bytes: Vec<u8>,
}

/// The voyage artifact of `voyage`; `charts` maps workspace chart paths to their packages,
/// `files` are the values and policy files (paths relative to the voyage directory).
pub fn voyage_image(
    voyage: &Voyage,
    charts: &BTreeMap<String, ChartPackage>,
    files: Vec<(String, Vec<u8>)>,
    prov: &Provenance,
) -> Result<Image, String> {
    let dir = voyage.file.trim_end_matches("voyage.toml");
    let mut comps = Vec::new();
    for c in &voyage.components {
        let p = charts.get(&c.chart).ok_or_else(|| {
            format!(
                "voyage `{}`: chart `{}` was not packaged",
                voyage.name, c.chart
            )
        })?;
        let values: Vec<String> = c
            .values
            .iter()
            .map(|(f, _)| f.strip_prefix(dir).unwrap_or(f).to_string())
            .collect();
        comps.push(serde_json::json!({
            "name": c.name,
            "chart": {
                "name": p.name,
                "version": p.version,
                "digest": wayfinder_oci::sha256_digest(&p.bytes),
                "path": c.chart,
            },
            "release": c.release,
            "namespace": c.namespace,
            "needs": c.needs,
            "values": values,
        }));
    }
    let policies: Vec<&String> = files
        .iter()
        .map(|(p, _)| p)
        .filter(|p| {
            !voyage.components.iter().any(|c| {
                c.values
                    .iter()
                    .any(|(v, _)| v.strip_prefix(dir) == Some(p.as_str()))
            })
        })
        .collect();
    let config = serde_json::json!({
        "schema": "wayfinder.voyage.config/v1",
        "name": voyage.name,
        "version": voyage.version,
        "description": voyage.description,
        "components": comps,
        "policies": policies,
    });
    let config = serde_json::to_vec(&config).map_err(|e| e.to_string())?;
    let mut layers = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for p in charts.values() {
        if !seen.insert(wayfinder_oci::sha256_digest(&p.bytes)) {
            continue;
        }
        let mut a = BTreeMap::new();
        a.insert(TITLE.to_string(), p.file.clone());
        layers.push((HELM_CHART_LAYER.to_string(), p.bytes.clone(), a));
    }
    let mut a = BTreeMap::new();
    a.insert(
        TITLE.to_string(),
        format!("{}-{}-files.tgz", voyage.name, voyage.version),
    );
    layers.push((
        VOYAGE_FILES_LAYER.to_string(),
        wayfinder_oci::tgz(&files),
        a,
    ));
    Ok(Image::new(
        Some(VOYAGE_ARTIFACT),
        (VOYAGE_CONFIG, config),
        layers,
        annotations(&voyage.name, &voyage.version, prov),
    ))
}

/// The Flux artifact of a cluster's rendered directory (`files`: name → bytes).
pub fn cluster_image(cluster: &str, files: Vec<(String, Vec<u8>)>, prov: &Provenance) -> Image {
    let mut a = BTreeMap::new();
    a.insert(TITLE.to_string(), format!("{cluster}.tgz"));
    Image::new(
        None,
        (FLUX_CONFIG, b"{}".to_vec()),
        vec![(FLUX_LAYER.to_string(), wayfinder_oci::tgz(&files), a)],
        annotations(cluster, "latest", prov),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_urls() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(
            strip_userinfo("https://u:tok@git.example/acme/fleet.git"),
            "https://git.example/acme/fleet.git"
        );
        assert_eq!(strip_userinfo("git@host:x.git"), "git@host:x.git");
    }
}
