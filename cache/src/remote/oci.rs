//! An OCI registry as the cache (`oci://host[:port]/repository`), through `wayfinder-oci`.
//!
//! - `cas/<sha256>` is the blob `sha256:<sha256>` of the repository (verified on download).
//! - `ac/<key>` is an OCI image manifest tagged `ac-<key hex>` (67 characters, within the
//!   128 a tag may have). Its layers are the output blobs, so the registry refuses an entry
//!   whose blobs are not there and its garbage collector keeps them; its config is the empty
//!   descriptor; the entry's JSON is the annotation `dev.wayfinder.cache.entry`:
//!
//! ```json
//! {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!  "artifactType": "application/vnd.wayfinder.cache.entry.v1+json",
//!  "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136f…", "size": 2},
//!  "layers": [{"mediaType": "application/vnd.wayfinder.cache.blob", "digest": "sha256:…", "size": 1234}],
//!  "annotations": {"dev.wayfinder.cache.entry": "{…}"}}
//! ```
//!
//! Loopback registries (`127.*`, `localhost`, `[::1]`) are spoken to over plain HTTP, others
//! over HTTPS. Credentials: WAYFINDER_REMOTE_CACHE_USERNAME/_PASSWORD, else the registry
//! lookup of `wayfinder-oci` (WAYFINDER_REGISTRY_USERNAME/_PASSWORD, the Docker config).

use std::time::Duration;

use serde_json::{json, Value};
use wayfinder_engine::{ActionKey, Digest};
use wayfinder_oci::{Credentials, OciError, Registry, RegistryOptions, OCI_MANIFEST};

use super::entry::Entry;
use super::{Area, Backend, RemoteError};

const ARTIFACT_TYPE: &str = "application/vnd.wayfinder.cache.entry.v1+json";
const LAYER_TYPE: &str = "application/vnd.wayfinder.cache.blob";
const EMPTY_TYPE: &str = "application/vnd.oci.empty.v1+json";
const ANNOTATION: &str = "dev.wayfinder.cache.entry";

pub(crate) struct OciBackend {
    registry: Registry,
    repository: String,
    /// The empty config blob is known to be in the repository (one thread uploads it).
    config_ready: std::sync::Mutex<bool>,
}

fn is_loopback(host: &str) -> bool {
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']'))
        .map(|(h, _)| h)
        .unwrap_or_else(|| host.rsplit_once(':').map_or(host, |(h, _)| h));
    name == "localhost" || name == "::1" || name.starts_with("127.")
}

fn oci_error(e: OciError) -> RemoteError {
    match e {
        OciError::DigestMismatch { .. } => RemoteError::corrupt(e.to_string()),
        e => RemoteError::new(e.to_string()),
    }
}

impl OciBackend {
    pub(crate) fn new(
        registry: &str,
        repository: &str,
        credentials: Option<(String, String)>,
        timeout: Duration,
    ) -> Result<OciBackend, RemoteError> {
        let opts = RegistryOptions {
            plain_http: is_loopback(registry),
            credentials: credentials.map(|(username, secret)| Credentials { username, secret }),
            // The circuit breaker, not retries, deals with a failing cache.
            retries: 0,
            timeout,
            ..RegistryOptions::default()
        };
        let registry = Registry::new(registry, opts).map_err(oci_error)?;
        Ok(OciBackend {
            registry,
            repository: repository.to_string(),
            config_ready: std::sync::Mutex::new(false),
        })
    }

    fn empty_config(&self) -> Result<Value, RemoteError> {
        let digest = wayfinder_oci::sha256_digest(b"{}");
        let mut ready = self
            .config_ready
            .lock()
            .map_err(|_| RemoteError::new("an upload thread panicked"))?;
        if !*ready {
            self.registry
                .ensure_blob(&self.repository, &digest, b"{}")
                .map_err(oci_error)?;
            *ready = true;
        }
        Ok(json!({"mediaType": EMPTY_TYPE, "digest": digest, "size": 2}))
    }
}

impl Backend for OciBackend {
    fn get(&self, area: Area, name: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        match area {
            Area::Cas => {
                let data = self
                    .registry
                    .pull_blob(&self.repository, &format!("sha256:{name}"))
                    .map_err(oci_error)?;
                if data.as_ref().is_some_and(|d| d.len() as u64 > limit) {
                    return Err(RemoteError::new(format!("blob `{name}` is too large")));
                }
                Ok(data)
            }
            Area::Ac => {
                let Some((body, _)) = self
                    .registry
                    .pull_manifest(&self.repository, &format!("ac-{name}"))
                    .map_err(oci_error)?
                else {
                    return Ok(None);
                };
                if body.len() as u64 > limit {
                    return Err(RemoteError::corrupt(format!(
                        "entry `ac-{name}` is too large"
                    )));
                }
                let manifest: Value = serde_json::from_slice(&body)
                    .map_err(|e| RemoteError::corrupt(format!("entry `ac-{name}`: {e}")))?;
                let entry = manifest
                    .get("annotations")
                    .and_then(|a| a.get(ANNOTATION))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        RemoteError::corrupt(format!("`ac-{name}` is not a wayfinder cache entry"))
                    })?;
                Ok(Some(entry.as_bytes().to_vec()))
            }
        }
    }

    fn put(&self, area: Area, name: &str, data: Vec<u8>) -> Result<(), RemoteError> {
        match area {
            Area::Cas => {
                self.registry
                    .ensure_blob(&self.repository, &format!("sha256:{name}"), &data)
                    .map_err(oci_error)?;
                Ok(())
            }
            Area::Ac => {
                let key: Digest<ActionKey> = Digest::from_hex(name)
                    .ok_or_else(|| RemoteError::new(format!("`{name}` is not an action key")))?;
                let entry = Entry::from_json(&data, &key).map_err(RemoteError::new)?;
                let text = String::from_utf8(data)
                    .map_err(|_| RemoteError::new("the entry is not UTF-8"))?;
                let layers: Vec<Value> = entry
                    .outputs
                    .iter()
                    .map(|o| {
                        json!({"mediaType": LAYER_TYPE, "digest": format!("sha256:{}", o.sha256), "size": o.size})
                    })
                    .collect();
                let manifest = json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "artifactType": ARTIFACT_TYPE,
                    "config": self.empty_config()?,
                    "layers": layers,
                    "annotations": {ANNOTATION: text},
                });
                let bytes = serde_json::to_vec(&manifest)
                    .map_err(|e| RemoteError::new(format!("cannot encode the manifest: {e}")))?;
                self.registry
                    .push_manifest(
                        &self.repository,
                        &format!("ac-{name}"),
                        OCI_MANIFEST,
                        &bytes,
                    )
                    .map_err(oci_error)?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_use_plain_http() {
        for h in [
            "127.0.0.1:5000",
            "localhost",
            "localhost:5000",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["registry.example.com", "10.0.0.1:5000", "[2001:db8::1]:443"] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
