//! OCI image manifests (artifacts): building them byte-stable, parsing them strictly, and
//! pushing and pulling whole images with [`Registry::push_image`] / [`Registry::pull_image`].
//!
//! Push order (a crash at any point leaves no tag on an incomplete manifest):
//! 1. HEAD the tag: same digest → nothing to do; another digest → [`OciError::TagConflict`]
//!    unless `force`.
//! 2. HEAD each blob (config and layers), upload the missing ones.
//! 3. PUT the manifest by digest, then PUT it by tag (the tag moves last).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::registry::{is_sha256_digest, sha256_digest, Registry};
use crate::OciError;

/// `application/vnd.oci.image.manifest.v1+json`.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of `data`.
    pub fn of(media_type: &str, data: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(data),
            size: data.len() as u64,
            annotations: BTreeMap::new(),
        }
    }
}

/// An OCI image manifest. Serialized with fields in a fixed order and maps sorted, so the
/// same content always gives the same bytes (and digest).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Manifest {
    /// A manifest of `config` and `layers`.
    pub fn new(artifact_type: Option<&str>, config: Descriptor, layers: Vec<Descriptor>) -> Self {
        Manifest {
            schema_version: 2,
            media_type: OCI_MANIFEST.to_string(),
            artifact_type: artifact_type.map(str::to_string),
            config,
            layers,
            annotations: BTreeMap::new(),
        }
    }

    /// The canonical bytes (compact JSON, fixed field order, sorted maps).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses and checks a manifest: schema version 2, OCI media type, sha256 digests.
    pub fn parse(data: &[u8]) -> Result<Manifest, String> {
        let m: Manifest =
            serde_json::from_slice(data).map_err(|e| format!("not an OCI image manifest: {e}"))?;
        if m.schema_version != 2 {
            return Err(format!("schemaVersion is {}, expected 2", m.schema_version));
        }
        if !m.media_type.is_empty() && m.media_type != OCI_MANIFEST {
            return Err(format!(
                "media type `{}` is not `{OCI_MANIFEST}`",
                m.media_type
            ));
        }
        for d in std::iter::once(&m.config).chain(&m.layers) {
            if !is_sha256_digest(&d.digest) {
                return Err(format!(
                    "descriptor digest `{}` is not a sha256 digest",
                    d.digest
                ));
            }
        }
        Ok(m)
    }
}

/// An image to push: its manifest and the bytes of every blob it names.
pub struct Image {
    pub manifest: Manifest,
    /// Blobs by digest (the config and each layer).
    pub blobs: BTreeMap<String, Vec<u8>>,
}

impl Image {
    /// An image of `config` and `layers` (`(media type, bytes)`).
    pub fn new(
        artifact_type: Option<&str>,
        config: (&str, Vec<u8>),
        layers: Vec<(String, Vec<u8>, BTreeMap<String, String>)>,
        annotations: BTreeMap<String, String>,
    ) -> Image {
        let mut blobs = BTreeMap::new();
        let cfg = Descriptor::of(config.0, &config.1);
        blobs.insert(cfg.digest.clone(), config.1);
        let mut descs = Vec::new();
        for (mt, data, ann) in layers {
            let mut d = Descriptor::of(&mt, &data);
            d.annotations = ann;
            blobs.insert(d.digest.clone(), data);
            descs.push(d);
        }
        let mut manifest = Manifest::new(artifact_type, cfg, descs);
        manifest.annotations = annotations;
        Image { manifest, blobs }
    }

    /// The manifest's digest.
    pub fn digest(&self) -> String {
        sha256_digest(&self.manifest.to_bytes())
    }
}

/// What [`Registry::push_image`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    pub digest: String,
    /// `unchanged` (the tag already named this content), `pushed` or `overwritten` (`force`).
    pub status: &'static str,
    pub blobs_uploaded: usize,
    pub bytes_uploaded: u64,
    pub blobs_present: usize,
}

impl Registry {
    /// Pushes `image` to `repo:tag` (see the module doc for the order).
    pub fn push_image(
        &self,
        repo: &str,
        tag: &str,
        image: &Image,
        force: bool,
    ) -> Result<PushOutcome, OciError> {
        let bytes = image.manifest.to_bytes();
        let digest = sha256_digest(&bytes);
        let existing = self.head_manifest(repo, tag)?;
        let mut outcome = PushOutcome {
            digest: digest.clone(),
            status: "pushed",
            blobs_uploaded: 0,
            bytes_uploaded: 0,
            blobs_present: 0,
        };
        match existing {
            Some(d) if d == digest => {
                tracing::debug!(repo, tag, %digest, "unchanged: the tag already names this manifest");
                outcome.status = "unchanged";
                return Ok(outcome);
            }
            Some(d) if !force => {
                return Err(OciError::TagConflict {
                    reference: format!("{}/{repo}:{tag}", self.host()),
                    existing: d,
                    new: digest,
                })
            }
            Some(_) => outcome.status = "overwritten",
            None => {}
        }
        let descs = std::iter::once(&image.manifest.config).chain(&image.manifest.layers);
        let mut seen = std::collections::BTreeSet::new();
        for d in descs {
            if !seen.insert(d.digest.clone()) {
                continue;
            }
            let data = image
                .blobs
                .get(&d.digest)
                .ok_or_else(|| OciError::Registry {
                    registry: self.host().to_string(),
                    reason: format!("internal: no data for blob `{}`", d.digest),
                })?;
            if self.ensure_blob(repo, &d.digest, data)? {
                outcome.blobs_uploaded += 1;
                outcome.bytes_uploaded += data.len() as u64;
            } else {
                outcome.blobs_present += 1;
            }
        }
        let media = if image.manifest.media_type.is_empty() {
            OCI_MANIFEST
        } else {
            image.manifest.media_type.as_str()
        };
        self.push_manifest(repo, &digest, media, &bytes)?;
        self.push_manifest(repo, tag, media, &bytes)?;
        Ok(outcome)
    }

    /// Pulls `repo:reference` and parses its manifest; `Ok(None)` when there is none.
    /// The blobs are not downloaded: use [`Registry::pull_blob`] for each one needed.
    pub fn pull_image_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Manifest, Vec<u8>, String)>, OciError> {
        let Some((bytes, digest)) = self.pull_manifest(repo, reference)? else {
            return Ok(None);
        };
        let m = Manifest::parse(&bytes).map_err(|reason| OciError::BadManifest {
            registry: self.host().to_string(),
            reference: format!("{repo}:{reference}"),
            reason,
        })?;
        Ok(Some((m, bytes, digest)))
    }

    /// Downloads one blob a manifest names and checks its size and digest.
    pub fn pull_descriptor(&self, repo: &str, d: &Descriptor) -> Result<Vec<u8>, OciError> {
        let data = self
            .pull_blob(repo, &d.digest)?
            .ok_or_else(|| OciError::Registry {
                registry: self.host().to_string(),
                reason: format!("blob `{repo}@{}` is missing", d.digest),
            })?;
        if data.len() as u64 != d.size {
            return Err(OciError::BadManifest {
                registry: self.host().to_string(),
                reference: format!("{repo}@{}", d.digest),
                reason: format!(
                    "the blob has {} bytes, the manifest says {}",
                    data.len(),
                    d.size
                ),
            });
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_are_byte_stable_and_round_trip() {
        let mut ann = BTreeMap::new();
        ann.insert("b".to_string(), "2".to_string());
        ann.insert("a".to_string(), "1".to_string());
        let img = Image::new(
            Some("application/x-test"),
            ("application/x-config", b"{}".to_vec()),
            vec![("application/x-layer".into(), b"L".to_vec(), BTreeMap::new())],
            ann,
        );
        let bytes = img.manifest.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/x-test","config":"#), "{text}");
        assert!(
            text.ends_with(r#""annotations":{"a":"1","b":"2"}}"#),
            "{text}"
        );
        assert_eq!(Manifest::parse(&bytes).unwrap(), img.manifest);
        assert_eq!(img.blobs.len(), 2);
        assert_eq!(img.digest(), sha256_digest(&bytes));
    }

    #[test]
    fn malformed_manifests_are_rejected() {
        for bad in [
            &b"not json"[..],
            br#"{"schemaVersion":1,"config":{"mediaType":"x","digest":"sha256:00","size":1},"layers":[]}"#,
            br#"{"schemaVersion":2,"config":{"mediaType":"x","digest":"md5:00","size":1},"layers":[]}"#,
            br#"{"schemaVersion":2,"layers":[]}"#,
        ] {
            assert!(Manifest::parse(bad).is_err());
        }
    }
}
