//! [`Registry`]: a synchronous client for one registry host, built on `oci-client`.
//!
//! Every call runs on a private current-thread tokio runtime (`block_on`), so callers need
//! no async code; calls from several threads are fine. Each request is retried with
//! exponential backoff on 5xx, 429 and connection failures; other failures map to
//! [`OciError`] variants that name the registry and never a credential.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference, RegistryOperation};
use sha2::Digest as _;

use crate::auth::{lookup_credentials, CredentialSource, Credentials};
use crate::OciError;

/// Media types accepted when pulling manifests (the registry needs an `Accept` header).
const MANIFEST_TYPES: &[&str] = &[
    crate::OCI_MANIFEST,
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// How to talk to a registry.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Plain HTTP instead of HTTPS (for loopback registries).
    pub plain_http: bool,
    /// An extra trusted CA (PEM). `SSL_CERT_FILE`, when set, is trusted too.
    pub ca_file: Option<PathBuf>,
    /// Credentials; `None` looks them up ([`lookup_credentials`]).
    pub credentials: Option<Credentials>,
    /// Retries after the first attempt, for 5xx, 429 and connection failures.
    pub retries: u32,
    /// The first backoff delay (doubled on each retry).
    pub backoff: Duration,
    /// Connect and read timeout of one request.
    pub timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            plain_http: false,
            ca_file: None,
            credentials: None,
            retries: 3,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Counters of what a [`Registry`] did, for reports (`uploads: 0` on an unchanged push).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub blobs_uploaded: u64,
    pub bytes_uploaded: u64,
    pub blobs_present: u64,
    pub blobs_downloaded: u64,
    pub bytes_downloaded: u64,
    pub manifests_pushed: u64,
    pub retries: u64,
}

#[derive(Default)]
struct Counters {
    blobs_uploaded: AtomicU64,
    bytes_uploaded: AtomicU64,
    blobs_present: AtomicU64,
    blobs_downloaded: AtomicU64,
    bytes_downloaded: AtomicU64,
    manifests_pushed: AtomicU64,
    retries: AtomicU64,
}

/// A client for one registry host.
pub struct Registry {
    host: String,
    client: Client,
    auth: RegistryAuth,
    rt: tokio::runtime::Runtime,
    retries: u32,
    backoff: Duration,
    counters: Counters,
    source: CredentialSource,
}

/// The `sha256:HEX` digest of `data`.
pub fn sha256_digest(data: &[u8]) -> String {
    let d = sha2::Sha256::digest(data);
    let mut s = String::with_capacity(71);
    s.push_str("sha256:");
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// True for `sha256:` followed by 64 lowercase hex digits.
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn install_crypto_provider() {
    // Installing twice fails harmlessly: the first provider stays.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn read_ca(path: &std::path::Path) -> Result<Certificate, OciError> {
    let data = std::fs::read(path).map_err(|e| OciError::CaFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    if !data
        .windows(27)
        .any(|w| w == b"-----BEGIN CERTIFICATE-----")
    {
        return Err(OciError::CaFile {
            path: path.display().to_string(),
            reason: "no `BEGIN CERTIFICATE` block".into(),
        });
    }
    Ok(Certificate {
        encoding: CertificateEncoding::Pem,
        data,
    })
}

/// The error chain of `e` as one line (reqwest hides "connection refused" in a source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    let mut depth = 0;
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
        depth += 1;
        if depth > 8 {
            break;
        }
    }
    s
}

/// The hint for a TLS handshake failure described by `reason` (`None`: not one).
fn tls_hint(reason: &str) -> Option<&'static str> {
    if reason.contains("certificate") {
        Some("the registry's certificate is not trusted: if a private CA signed it, pass `--ca-file CA.pem` or set SSL_CERT_FILE=CA.pem")
    } else if reason.contains("corrupt message") || reason.contains("InvalidContentType") {
        Some("the registry does not speak TLS here: use `--plain-http` for a loopback registry without TLS")
    } else {
        None
    }
}

/// What went wrong with one attempt.
enum Failure {
    /// Worth another try (5xx, 429, connection).
    Retry(OciError),
    /// Final.
    Fatal(OciError),
    /// 404 (manifest or blob unknown).
    NotFound,
}

impl Registry {
    /// A client for `host` (`host[:port]`).
    pub fn new(host: &str, opts: RegistryOptions) -> Result<Registry, OciError> {
        install_crypto_provider();
        let (creds, source) = match opts.credentials.clone() {
            Some(c) => (Some(c), CredentialSource::Environment),
            None => lookup_credentials(host)?,
        };
        tracing::debug!(registry = host, credentials = ?source, "registry client");
        let mut extra = Vec::new();
        if let Some(ca) = &opts.ca_file {
            extra.push(read_ca(ca)?);
        }
        if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
            extra.push(read_ca(std::path::Path::new(&f))?);
        }
        let config = ClientConfig {
            protocol: if opts.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            extra_root_certificates: extra,
            use_monolithic_push: true,
            connect_timeout: Some(opts.timeout),
            read_timeout: Some(opts.timeout),
            platform_resolver: None,
            ..Default::default()
        };
        let client = Client::try_from(config).map_err(|e| OciError::Registry {
            registry: host.to_string(),
            reason: format!("cannot set up the HTTP client: {}", chain(&e)),
        })?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| OciError::Registry {
                registry: host.to_string(),
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        let auth = match creds {
            Some(c) if !(c.username.is_empty() && c.secret.is_empty()) => {
                RegistryAuth::Basic(c.username, c.secret)
            }
            _ => RegistryAuth::Anonymous,
        };
        Ok(Registry {
            host: host.to_string(),
            client,
            auth,
            rt,
            retries: opts.retries,
            backoff: opts.backoff,
            counters: Counters::default(),
            source,
        })
    }

    /// The registry host this client talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Where the credentials came from.
    pub fn credential_source(&self) -> &CredentialSource {
        &self.source
    }

    /// What this client did so far.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            blobs_uploaded: l(&c.blobs_uploaded),
            bytes_uploaded: l(&c.bytes_uploaded),
            blobs_present: l(&c.blobs_present),
            blobs_downloaded: l(&c.blobs_downloaded),
            bytes_downloaded: l(&c.bytes_downloaded),
            manifests_pushed: l(&c.manifests_pushed),
            retries: l(&c.retries),
        }
    }

    fn reference(&self, repo: &str, reference: &str) -> Reference {
        if reference.contains(':') {
            Reference::with_digest(self.host.clone(), repo.to_string(), reference.to_string())
        } else {
            Reference::with_tag(self.host.clone(), repo.to_string(), reference.to_string())
        }
    }

    /// Maps an `oci-client` error of an operation on `repo`.
    fn classify(&self, repo: &str, e: OciDistributionError) -> Failure {
        let registry = self.host.clone();
        let unauthorized = |status: u16| {
            Failure::Fatal(OciError::Unauthorized {
                registry: registry.clone(),
                repository: repo.to_string(),
                status,
            })
        };
        let other = |reason: String| OciError::Registry {
            registry: registry.clone(),
            reason,
        };
        match e {
            OciDistributionError::UnauthorizedError { .. } => unauthorized(401),
            OciDistributionError::AuthenticationFailure(_) => unauthorized(401),
            OciDistributionError::ServerError { message, .. }
                if message.contains("HTTP request to an HTTPS server") =>
            {
                Failure::Fatal(OciError::Tls {
                    registry,
                    reason: message.trim().to_string(),
                    hint: "the registry speaks TLS: drop `--plain-http`; for pulls from a loopback registry set WAYFINDER_REGISTRY_PLAIN_HTTP=0".into(),
                })
            }
            OciDistributionError::ServerError { code, message, .. } => match code {
                401 | 403 => unauthorized(code),
                404 => Failure::NotFound,
                429 | 500..=599 => {
                    Failure::Retry(other(format!("HTTP {code}: {}", message.trim())))
                }
                _ => Failure::Fatal(other(format!("HTTP {code}: {}", message.trim()))),
            },
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Unauthorized))
                {
                    unauthorized(401)
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::Denied)) {
                    unauthorized(403)
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NameUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    Failure::NotFound
                } else if codes
                    .iter()
                    .any(|c| matches!(c, OciErrorCode::Toomanyrequests))
                {
                    Failure::Retry(other(envelope.to_string()))
                } else {
                    Failure::Fatal(other(envelope.to_string()))
                }
            }
            OciDistributionError::RequestError(r) => {
                if let Some(s) = r.status() {
                    let code = s.as_u16();
                    return match code {
                        401 | 403 => unauthorized(code),
                        404 => Failure::NotFound,
                        429 | 500..=599 => Failure::Retry(other(format!("HTTP {code}"))),
                        _ => Failure::Fatal(other(format!("HTTP {code}"))),
                    };
                }
                let reason = chain(&r);
                if let Some(hint) = tls_hint(&reason) {
                    // Retrying cannot fix a certificate.
                    return Failure::Fatal(OciError::Tls {
                        registry,
                        reason,
                        hint: hint.to_string(),
                    });
                }
                if r.is_connect() || r.is_timeout() || r.is_request() || r.is_body() {
                    Failure::Retry(OciError::Unreachable { registry, reason })
                } else {
                    Failure::Fatal(other(reason))
                }
            }
            OciDistributionError::DigestError(d) => Failure::Fatal(OciError::DigestMismatch {
                registry,
                what: repo.to_string(),
                expected: String::new(),
                actual: d.to_string(),
            }),
            OciDistributionError::ImageManifestNotFoundError(_) => Failure::NotFound,
            OciDistributionError::IoError(e) => Failure::Retry(OciError::Unreachable {
                registry,
                reason: e.to_string(),
            }),
            other_err => Failure::Fatal(other(chain(&other_err))),
        }
    }

    /// Runs `op` with retries; `Ok(None)` on 404.
    fn call<T, F, Fut>(&self, repo: &str, what: &str, op: F) -> Result<Option<T>, OciError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciDistributionError>>,
    {
        let mut attempt = 0;
        loop {
            match self.rt.block_on(op()) {
                Ok(v) => return Ok(Some(v)),
                Err(e) => match self.classify(repo, e) {
                    Failure::NotFound => return Ok(None),
                    Failure::Fatal(e) => return Err(e),
                    Failure::Retry(e) => {
                        if attempt >= self.retries {
                            return Err(e);
                        }
                        let delay = self.backoff * 2u32.saturating_pow(attempt);
                        tracing::info!(registry = %self.host, what, attempt = attempt + 1, ?delay, error = %e, "retrying");
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(delay);
                        attempt += 1;
                    }
                },
            }
        }
    }

    /// Checks the credentials against the registry (`GET /v2/` and a token if it asks for
    /// one) for pushing (`push = true`) or pulling `repo`.
    pub fn login(&self, repo: &str, push: bool) -> Result<(), OciError> {
        let r = self.reference(repo, "latest");
        let op = if push {
            RegistryOperation::Push
        } else {
            RegistryOperation::Pull
        };
        self.call(repo, "login", || self.client.auth(&r, &self.auth, op))
            .map(|_| ())
    }

    /// Does `repo` have blob `digest`?
    pub fn head_blob(&self, repo: &str, digest: &str) -> Result<bool, OciError> {
        let r = self.reference(repo, digest);
        self.rt
            .block_on(self.client.store_auth_if_needed(&self.host, &self.auth));
        let found = self
            .call(repo, "HEAD blob", || self.client.blob_exists(&r, digest))?
            .unwrap_or(false);
        Ok(found)
    }

    /// Uploads blob `data` (its digest is computed and checked against `digest`).
    pub fn push_blob(&self, repo: &str, digest: &str, data: &[u8]) -> Result<(), OciError> {
        let actual = sha256_digest(data);
        if actual != digest {
            return Err(OciError::DigestMismatch {
                registry: self.host.clone(),
                what: format!("blob to push to `{repo}`"),
                expected: digest.to_string(),
                actual,
            });
        }
        let r = self.reference(repo, digest);
        self.rt
            .block_on(self.client.store_auth_if_needed(&self.host, &self.auth));
        let bytes = data.to_vec();
        self.call(repo, "PUT blob", || {
            self.client.push_blob(&r, bytes.clone(), digest)
        })?
        .ok_or_else(|| OciError::Registry {
            registry: self.host.clone(),
            reason: format!("repository `{repo}` not found while uploading a blob"),
        })?;
        self.counters.blobs_uploaded.fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_uploaded
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Uploads `data` unless the registry has it; returns whether it uploaded.
    pub fn ensure_blob(&self, repo: &str, digest: &str, data: &[u8]) -> Result<bool, OciError> {
        if self.head_blob(repo, digest)? {
            self.counters.blobs_present.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        self.push_blob(repo, digest, data)?;
        Ok(true)
    }

    /// Downloads blob `digest`, verified; `Ok(None)` when the registry does not have it.
    pub fn pull_blob(&self, repo: &str, digest: &str) -> Result<Option<Vec<u8>>, OciError> {
        if !is_sha256_digest(digest) {
            return Err(OciError::BadManifest {
                registry: self.host.clone(),
                reference: format!("{repo}@{digest}"),
                reason: format!("`{digest}` is not a sha256 digest"),
            });
        }
        let r = self.reference(repo, digest);
        self.rt
            .block_on(self.client.store_auth_if_needed(&self.host, &self.auth));
        let got = self.call(repo, "GET blob", || async {
            let mut out: Vec<u8> = Vec::new();
            self.client.pull_blob(&r, digest, &mut out).await?;
            Ok(out)
        });
        let data = match got {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(None),
            Err(OciError::DigestMismatch { actual, .. }) => {
                return Err(OciError::DigestMismatch {
                    registry: self.host.clone(),
                    what: format!("blob `{repo}@{digest}`"),
                    expected: digest.to_string(),
                    actual,
                })
            }
            Err(e) => return Err(e),
        };
        let actual = sha256_digest(&data);
        if actual != digest {
            return Err(OciError::DigestMismatch {
                registry: self.host.clone(),
                what: format!("blob `{repo}@{digest}`"),
                expected: digest.to_string(),
                actual,
            });
        }
        self.counters
            .blobs_downloaded
            .fetch_add(1, Ordering::Relaxed);
        self.counters
            .bytes_downloaded
            .fetch_add(data.len() as u64, Ordering::Relaxed);
        Ok(Some(data))
    }

    /// Uploads a manifest under `reference` (a tag, or its own digest); returns its digest.
    pub fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        manifest: &[u8],
    ) -> Result<String, OciError> {
        let digest = sha256_digest(manifest);
        if reference.contains(':') && reference != digest {
            return Err(OciError::DigestMismatch {
                registry: self.host.clone(),
                what: format!("manifest to push to `{repo}`"),
                expected: reference.to_string(),
                actual: digest,
            });
        }
        let r = self.reference(repo, reference);
        self.rt
            .block_on(self.client.store_auth_if_needed(&self.host, &self.auth));
        let body = manifest.to_vec();
        self.call(repo, "PUT manifest", || {
            let ct = media_type.parse();
            let body = body.clone();
            let r = &r;
            async move {
                let ct = ct.map_err(|_| {
                    OciDistributionError::UnsupportedMediaTypeError(media_type.to_string())
                })?;
                self.client.push_manifest_raw(r, body, ct).await
            }
        })?
        .ok_or_else(|| OciError::Registry {
            registry: self.host.clone(),
            reason: format!(
                "`{repo}:{reference}`: the registry does not know a blob of the manifest"
            ),
        })?;
        self.counters
            .manifests_pushed
            .fetch_add(1, Ordering::Relaxed);
        Ok(digest)
    }

    /// The digest `reference` (tag or digest) points at; `Ok(None)` when there is none.
    pub fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<String>, OciError> {
        let r = self.reference(repo, reference);
        self.call(repo, "HEAD manifest", || {
            self.client.fetch_manifest_digest(&r, &self.auth)
        })
    }

    /// Downloads the manifest `reference` (tag or digest): `(bytes, digest)`, verified against
    /// the digest when the reference is one; `Ok(None)` when there is none.
    pub fn pull_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<(Vec<u8>, String)>, OciError> {
        let r = self.reference(repo, reference);
        let got = self.call(repo, "GET manifest", || {
            self.client
                .pull_manifest_raw(&r, &self.auth, MANIFEST_TYPES)
        })?;
        let Some((body, _)) = got else {
            return Ok(None);
        };
        let body = body.to_vec();
        let digest = sha256_digest(&body);
        if reference.contains(':') && reference != digest {
            return Err(OciError::DigestMismatch {
                registry: self.host.clone(),
                what: format!("manifest `{repo}@{reference}`"),
                expected: reference.to_string(),
                actual: digest,
            });
        }
        Ok(Some((body, digest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_sha256_hex() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_sha256_digest(&sha256_digest(b"x")));
        assert!(!is_sha256_digest("sha256:ABC"));
        assert!(!is_sha256_digest("md5:00"));
    }

    #[test]
    fn an_unreachable_registry_is_a_clear_error_after_retries() {
        // Port 9 on loopback: nothing listens (discard is never enabled in CI images).
        let reg = Registry::new(
            "127.0.0.1:9",
            RegistryOptions {
                plain_http: true,
                credentials: Some(Credentials {
                    username: "u".into(),
                    secret: "canary-secret".into(),
                }),
                retries: 1,
                backoff: Duration::from_millis(1),
                ..Default::default()
            },
        )
        .unwrap();
        let e = reg.head_blob("x/y", &sha256_digest(b"a")).unwrap_err();
        assert!(matches!(e, OciError::Unreachable { .. }), "{e:?}");
        assert!(!format!("{e:?}").contains("canary-secret"));
        assert_eq!(reg.stats().retries, 1);
    }

    #[test]
    fn a_bad_ca_file_is_reported() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.pem");
        std::fs::write(&p, "nope").unwrap();
        let e = Registry::new(
            "h",
            RegistryOptions {
                ca_file: Some(p),
                credentials: Some(Credentials {
                    username: String::new(),
                    secret: String::new(),
                }),
                ..Default::default()
            },
        )
        .err()
        .unwrap();
        assert!(matches!(e, OciError::CaFile { .. }));
    }

    #[test]
    fn tls_failures_get_a_hint_and_other_failures_none() {
        let untrusted = "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer";
        assert!(tls_hint(untrusted).is_some_and(|h| h.contains("--ca-file")));
        let plain = "client error (Connect): received corrupt message of type InvalidContentType";
        assert!(tls_hint(plain).is_some_and(|h| h.contains("--plain-http")));
        assert_eq!(
            tls_hint("tcp connect error: Connection refused (os error 111)"),
            None
        );
    }
}
