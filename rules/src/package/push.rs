//! `wayfinder push`: after a build of the targets it needs, pushes voyages (tag = version,
//! immutable) and cluster renderings (Flux artifacts, tag `latest`) to the registry.
//!
//! 1. [`PushTarget::select`] resolves `voyage:NAME` / `cluster:NAME` patterns (all voyages
//!    when none);
//! 2. the caller builds `build_targets()` (charts, voyages, clusters) with the normal build;
//! 3. [`push`] assembles each artifact from the build's outputs and the workspace files and
//!    pushes it with [`wayfinder_oci::Registry::push_image`] (HEAD first, missing blobs, the
//!    manifest by digest, the tag last). A failed push does not stop the others.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use wayfinder_engine::{glob_match, is_glob, Blob, Digest, KeyInputs, Outcome, Store};
use wayfinder_oci::{Image, OciError, Registry, RegistryOptions, RegistryUrl};

use super::voyage::{cluster_image, provenance, voyage_image, ChartPackage};
use crate::build::Session;

/// `wayfinder push` failed before pushing anything.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PushError {
    #[error("no registry to push to")]
    #[diagnostic(
        code(wayfinder::push::no_registry),
        help(
            "set `[registry] url = \"oci://HOST/PREFIX\"` in `workspace.toml` or pass `--registry`"
        )
    )]
    NoRegistry,
    #[error("no voyage or cluster matches `{0}`")]
    #[diagnostic(
        code(wayfinder::push::no_target),
        help("push targets are `voyage:NAME` or `cluster:NAME` (globs allowed)")
    )]
    NoTarget(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Oci(#[from] OciError),
}

/// What to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTarget {
    Voyage(String),
    Cluster(String),
}

impl PushTarget {
    /// The target name (`voyage:core`).
    pub fn name(&self) -> String {
        match self {
            PushTarget::Voyage(v) => format!("voyage:{v}"),
            PushTarget::Cluster(c) => format!("cluster:{c}"),
        }
    }

    /// The targets `patterns` name (every voyage when empty).
    pub fn select(session: &Session, patterns: &[String]) -> Result<Vec<PushTarget>, PushError> {
        let mut all: Vec<PushTarget> = session
            .ws
            .voyages
            .iter()
            .map(|v| PushTarget::Voyage(v.name.clone()))
            .collect();
        if patterns.is_empty() {
            all.dedup();
            return Ok(all);
        }
        all.extend(
            session
                .ws
                .clusters
                .iter()
                .map(|c| PushTarget::Cluster(c.name.clone())),
        );
        let mut out = Vec::new();
        for p in patterns {
            let p = p.strip_prefix("push:").unwrap_or(p);
            let hit: Vec<&PushTarget> = all
                .iter()
                .filter(|t| {
                    let n = t.name();
                    if is_glob(p) {
                        glob_match(p, &n)
                    } else {
                        n == p
                    }
                })
                .collect();
            if hit.is_empty() {
                return Err(PushError::NoTarget(p.to_string()));
            }
            for t in hit {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        Ok(out)
    }
}

/// The build targets the pushes need.
pub fn build_targets(targets: &[PushTarget]) -> Vec<String> {
    targets.iter().map(PushTarget::name).collect()
}

/// Push settings.
#[derive(Debug, Clone, Default)]
pub struct PushOptions {
    /// `oci://host/prefix`; default `[registry] url`.
    pub registry: Option<String>,
    pub plain_http: bool,
    pub ca_file: Option<PathBuf>,
    /// Overwrite an existing version tag with different content.
    pub force: bool,
    /// Assemble the artifacts and report their digests without any network access.
    pub dry_run: bool,
}

/// One push: the `push:…` entry of the summary.
#[derive(Debug, Clone)]
pub struct PushRecord {
    /// `push:voyage:core`.
    pub target: String,
    /// `host/prefix/voyages/core:1.5.0`.
    pub reference: String,
    pub digest: String,
    /// The action key: the kind `push`, the rules version, the manifest (its blake3, the
    /// input) and the reference (a setting). The same artifact to the same place is the same
    /// push; anything else is another one.
    pub key: Digest<wayfinder_engine::ActionKey>,
    /// The blake3 digest of the manifest bytes (`None` when the artifact could not be made).
    pub manifest: Option<Digest<Blob>>,
    /// `pushed`, `unchanged`, `overwritten`, `dry-run`, `failed`.
    pub status: String,
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
    pub blobs_present: usize,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// Exit code 2 (bad input, such as a tag conflict) rather than 1.
    pub bad_input: bool,
}

impl PushRecord {
    /// The summary status (`built`, `cached`, `failed`, `skipped`).
    pub fn summary_status(&self) -> &'static str {
        match self.status.as_str() {
            "unchanged" => "cached",
            "failed" => "failed",
            "dry-run" => "skipped",
            _ => "built",
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut inputs = serde_json::Map::new();
        if let Some(m) = &self.manifest {
            inputs.insert("manifest".into(), m.to_hex().into());
        }
        serde_json::json!({
            "target": self.target,
            "kind": "push",
            "key": self.key.to_hex(),
            "status": self.summary_status(),
            "duration_ms": self.duration_ms,
            "inputs": inputs,
            "reference": self.reference,
            "digest": self.digest,
            "push_status": self.status,
            "uploads": self.blobs_uploaded,
            "bytes_uploaded": self.bytes_uploaded,
            "blobs_present": self.blobs_present,
            "error": self.error,
        })
    }
}

fn outcome<'a>(outcomes: &'a [Outcome], target: &str) -> Option<&'a Outcome> {
    outcomes.iter().find(|o| o.target == target)
}

/// The chart packages of the build, by workspace chart path.
fn chart_packages(
    session: &Session,
    store: &dyn Store,
    outcomes: &[Outcome],
) -> Result<BTreeMap<String, ChartPackage>, String> {
    let mut out = BTreeMap::new();
    for (path, info) in &session.ws.charts {
        let Some(o) =
            outcome(outcomes, &info.target).or_else(|| outcome(outcomes, &format!("chart:{path}")))
        else {
            continue;
        };
        let Some(result) = &o.result else { continue };
        let Some((name, digest)) = result
            .outputs
            .iter()
            .find(|(n, _)| n.starts_with("file:charts/"))
        else {
            continue;
        };
        let file = name.trim_start_matches("file:charts/").to_string();
        let bytes = store.get_blob(digest).ok_or_else(|| {
            format!(
                "the cache lost the package of `{}`; build again",
                info.target
            )
        })?;
        let stem = file.trim_end_matches(".tgz");
        // `NAME-VERSION`: the version is what follows the chart name.
        let chart = wayfinder_render::chart::load_archive(&bytes)
            .map_err(|e| format!("the package of `{}` does not load: {e}", info.target))?;
        let name_s = chart.name().to_string();
        let version = stem
            .strip_prefix(&format!("{name_s}-"))
            .unwrap_or_default()
            .to_string();
        out.insert(
            path.clone(),
            ChartPackage {
                name: name_s,
                version,
                file,
                bytes,
            },
        );
    }
    Ok(out)
}

/// The values and policy files of a voyage, relative to its directory.
fn voyage_files(
    session: &Session,
    v: &crate::load::Voyage,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let root = &session.ws.root;
    let dir = v.file.trim_end_matches("voyage.toml");
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for c in &v.components {
        for (f, d) in &c.values {
            let data =
                std::fs::read(root.join(f)).map_err(|e| format!("cannot read `{f}`: {e}"))?;
            if wayfinder_engine::Digest::of(&data) != *d {
                return Err(format!("`{f}` changed during the push; run it again"));
            }
            let rel = f.strip_prefix(dir).unwrap_or(f).to_string();
            files.insert(rel, data);
        }
    }
    // Policies: globs relative to the workspace root, matched against files of the voyage
    // directory.
    let mut listing = Vec::new();
    walk(root, dir.trim_end_matches('/'), &mut listing, 0);
    for f in listing {
        if v.policies.iter().any(|g| glob_match(g, &f)) {
            let data =
                std::fs::read(root.join(&f)).map_err(|e| format!("cannot read `{f}`: {e}"))?;
            files.insert(f.strip_prefix(dir).unwrap_or(&f).to_string(), data);
        }
    }
    Ok(files.into_iter().collect())
}

fn walk(root: &std::path::Path, rel: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 16 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut names: Vec<(String, bool)> = rd
        .flatten()
        .filter_map(|e| {
            Some((
                e.file_name().into_string().ok()?,
                e.file_type().ok()?.is_dir(),
            ))
        })
        .collect();
    names.sort();
    for (n, is_dir) in names {
        let p = format!("{rel}/{n}");
        if is_dir {
            walk(root, &p, out, depth + 1);
        } else {
            out.push(p);
        }
    }
}

/// The files of a cluster rendering (`kustomization.yaml` and one file per component).
fn cluster_files(store: &dyn Store, o: &Outcome) -> Result<Vec<(String, Vec<u8>)>, String> {
    let result = o
        .result
        .as_ref()
        .ok_or_else(|| format!("`{}` did not build", o.target))?;
    let mut files = Vec::new();
    for (name, d) in &result.outputs {
        let data = store
            .get_blob(d)
            .ok_or_else(|| format!("the cache lost `{name}` of `{}`; build again", o.target))?;
        files.push((name.clone(), data));
    }
    Ok(files)
}

/// The key of pushing a manifest (its bytes' blake3, `None` if it could not be made) to
/// `reference` (`host/repository:tag`).
pub fn push_key(
    manifest: Option<Digest<Blob>>,
    reference: &str,
) -> Digest<wayfinder_engine::ActionKey> {
    KeyInputs {
        kind: "push".into(),
        rules_version: crate::actions::RULES_VERSION.into(),
        inputs: manifest
            .map(|m| ("manifest".to_string(), m))
            .into_iter()
            .collect(),
        deps: Vec::new(),
        settings: [("reference".to_string(), reference.to_string())].into(),
    }
    .key()
}

/// The artifacts to push: `(target, repository name under the prefix, tag, image, force)`.
type Planned = (PushTarget, String, String, Result<Image, String>, bool);

/// Pushes `targets` (already built: `outcomes` are the build's) and returns one record each.
pub fn push(
    session: &Session,
    store: &dyn Store,
    outcomes: &[Outcome],
    targets: &[PushTarget],
    opts: &PushOptions,
) -> Result<Vec<PushRecord>, PushError> {
    let url = match (&opts.registry, &session.ws.decl.registry) {
        (Some(u), _) => u.clone(),
        (None, Some(u)) => u.v.clone(),
        (None, None) => return Err(PushError::NoRegistry),
    };
    let url = RegistryUrl::parse(&url)?;
    let prov = provenance(&session.ws.root);
    let charts = chart_packages(session, store, outcomes);
    let mut planned: Vec<Planned> = Vec::new();
    for t in targets {
        match t {
            PushTarget::Voyage(name) => {
                for v in session.ws.voyages.iter().filter(|v| &v.name == name) {
                    let image = charts.clone().and_then(|charts| {
                        let files = voyage_files(session, v)?;
                        voyage_image(v, &charts, files, &prov)
                    });
                    planned.push((
                        t.clone(),
                        format!("voyages/{name}"),
                        v.version.clone(),
                        image,
                        opts.force,
                    ));
                }
            }
            PushTarget::Cluster(name) => {
                let image = outcome(outcomes, &t.name())
                    .ok_or_else(|| format!("`{}` was not built", t.name()))
                    .and_then(|o| cluster_files(store, o))
                    .map(|files| cluster_image(name, files, &prov));
                // `latest` moves with every rendering change: not a version tag.
                planned.push((
                    t.clone(),
                    format!("clusters/{name}"),
                    "latest".into(),
                    image,
                    true,
                ));
            }
        }
    }
    let registry = if opts.dry_run {
        None
    } else {
        Some(Registry::new(
            &url.host,
            RegistryOptions {
                plain_http: opts.plain_http,
                ca_file: opts.ca_file.clone(),
                ..Default::default()
            },
        )?)
    };
    let mut records = Vec::new();
    for (t, repo_name, tag, image, force) in planned {
        let t0 = Instant::now();
        let repo = url.repository(&repo_name);
        let reference = format!("{}/{repo}:{tag}", url.host);
        let manifest = image
            .as_ref()
            .ok()
            .map(|i| Digest::of(&i.manifest.to_bytes()));
        let mut rec = PushRecord {
            target: format!("push:{}", t.name()),
            key: push_key(manifest, &reference),
            manifest,
            reference,
            digest: String::new(),
            status: "failed".into(),
            blobs_uploaded: 0,
            bytes_uploaded: 0,
            blobs_present: 0,
            duration_ms: 0,
            error: None,
            bad_input: false,
        };
        match image {
            Err(e) => rec.error = Some(e),
            Ok(image) => {
                rec.digest = image.digest();
                match &registry {
                    None => rec.status = "dry-run".into(),
                    Some(reg) => match reg.push_image(&repo, &tag, &image, force) {
                        Ok(o) => {
                            rec.status = o.status.into();
                            rec.blobs_uploaded = o.blobs_uploaded;
                            rec.bytes_uploaded = o.bytes_uploaded;
                            rec.blobs_present = o.blobs_present;
                        }
                        Err(e) => {
                            rec.bad_input = e.is_bad_input();
                            rec.error = Some(format!("{:?}", miette::Report::new(e)));
                        }
                    },
                }
            }
        }
        rec.duration_ms = t0.elapsed().as_millis() as u64;
        records.push(rec);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_key_is_the_manifest_and_the_reference() {
        let m = Some(Digest::of(b"{\"schemaVersion\":2}"));
        let k = push_key(m, "r.example/acme/voyages/core:1.5.0");
        assert_eq!(k, push_key(m, "r.example/acme/voyages/core:1.5.0"));
        assert_ne!(k, push_key(m, "r.example/acme/voyages/core:1.6.0"));
        assert_ne!(k, push_key(m, "other.example/acme/voyages/core:1.5.0"));
        let other = Some(Digest::of(b"{\"schemaVersion\":2,\"x\":1}"));
        assert_ne!(k, push_key(other, "r.example/acme/voyages/core:1.5.0"));
        assert_ne!(k, push_key(None, "r.example/acme/voyages/core:1.5.0"));
    }
}
