//! `wayfinder-oci`: talks to OCI registries (DESIGN §5): credentials from the Docker config
//! and the environment, blob and manifest push and pull with verification, retries.
//!
//! It knows nothing of Helm, voyages or the build: callers hand it bytes and media types.
//! The API is synchronous (a private tokio runtime per [`Registry`]).
//!
//! - URLs: [`RegistryUrl`] parses `oci://HOST[:PORT]/PREFIX`;
//! - [`Registry`]: one host; `head_blob`, `push_blob`, `ensure_blob`, `pull_blob` (verified),
//!   `push_manifest`, `head_manifest`, `pull_manifest`, `login`; retries 5xx/429/connection
//!   failures with backoff; [`Stats`] counts uploads and downloads;
//! - [`Image`] / [`Manifest`]: byte-stable OCI image manifests; [`Registry::push_image`]
//!   (HEAD first, blobs, manifest by digest, tag last, immutable tags unless `force`);
//! - [`tgz`] / [`read_tgz`]: reproducible, bounded `.tar.gz` archives;
//! - credentials: [`lookup_credentials`] (`WAYFINDER_REGISTRY_USERNAME`/`_PASSWORD`, Docker
//!   `config.json` `auths`, `credHelpers`, `credsStore`). Basic auth and the bearer-token flow
//!   are both handled by `oci-client`. Nothing here logs a secret.
//!
//! ```no_run
//! use wayfinder_oci::{Registry, RegistryOptions, RegistryUrl, sha256_digest};
//! let url = RegistryUrl::parse("oci://127.0.0.1:5000/acme")?;
//! let reg = Registry::new(&url.host, RegistryOptions { plain_http: true, ..Default::default() })?;
//! let repo = url.repository("cache");
//! let data = b"hello";
//! let digest = sha256_digest(data);
//! reg.ensure_blob(&repo, &digest, data)?;                       // uploads only if missing
//! assert_eq!(reg.pull_blob(&repo, &digest)?.as_deref(), Some(&data[..]));
//! # Ok::<(), wayfinder_oci::OciError>(())
//! ```

mod archive;
mod auth;
mod error;
mod image;
mod registry;
mod url;

pub use archive::{read_tgz, tgz, write_atomic};
pub use auth::{from_docker_config, lookup_credentials, CredentialSource, Credentials};
pub use error::OciError;
pub use image::{Descriptor, Image, Manifest, PushOutcome, OCI_MANIFEST};
pub use registry::{is_sha256_digest, sha256_digest, Registry, RegistryOptions, Stats};
pub use url::RegistryUrl;
