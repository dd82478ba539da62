//! The errors of registry operations. None of them ever holds a credential or a token.

/// A registry operation that failed.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OciError {
    /// `[registry] url` or `--registry` is not a registry URL.
    #[error("invalid registry URL `{url}`: {reason}")]
    #[diagnostic(
        code(wayfinder::oci::bad_url),
        help("write it as `oci://HOST[:PORT]/PREFIX`, such as `oci://127.0.0.1:5000/acme`")
    )]
    BadUrl { url: String, reason: String },

    /// A CA file could not be read or parsed.
    #[error("cannot use CA file `{path}`: {reason}")]
    #[diagnostic(
        code(wayfinder::oci::ca_file),
        help("pass a PEM file holding one or more certificates")
    )]
    CaFile { path: String, reason: String },

    /// The registry could not be reached (refused, reset, timed out, TLS failed).
    #[error("cannot reach registry `{registry}`: {reason}")]
    #[diagnostic(
        code(wayfinder::oci::unreachable),
        help("check that the registry runs and the URL is right; use `--plain-http` for a loopback registry without TLS")
    )]
    Unreachable { registry: String, reason: String },

    /// The TLS handshake failed: an untrusted certificate, or a registry without TLS.
    #[error("TLS with registry `{registry}` failed: {reason}")]
    #[diagnostic(code(wayfinder::oci::tls), help("{hint}"))]
    Tls {
        registry: String,
        reason: String,
        hint: String,
    },

    /// 401 or 403: credentials missing or wrong.
    #[error("registry `{registry}` refused the credentials (HTTP {status}) for `{repository}`")]
    #[diagnostic(
        code(wayfinder::oci::unauthorized),
        help("log in with `docker login {registry}` or set WAYFINDER_REGISTRY_USERNAME and WAYFINDER_REGISTRY_PASSWORD")
    )]
    Unauthorized {
        registry: String,
        repository: String,
        status: u16,
    },

    /// A credential helper failed or the Docker config is malformed.
    #[error("cannot read the credentials for `{registry}`: {reason}")]
    #[diagnostic(code(wayfinder::oci::credentials))]
    Credentials { registry: String, reason: String },

    /// Content whose digest is not the one asked for.
    #[error("`{what}` from registry `{registry}` has digest `{actual}`, expected `{expected}`")]
    #[diagnostic(
        code(wayfinder::oci::digest_mismatch),
        help("the registry serves corrupt or tampered content: the download was rejected")
    )]
    DigestMismatch {
        registry: String,
        what: String,
        expected: String,
        actual: String,
    },

    /// A manifest that is not a valid OCI image manifest.
    #[error("malformed manifest `{reference}` from registry `{registry}`: {reason}")]
    #[diagnostic(code(wayfinder::oci::bad_manifest))]
    BadManifest {
        registry: String,
        reference: String,
        reason: String,
    },

    /// The tag already names different content (version tags are immutable).
    #[error(
        "`{reference}` already exists with different content (`{existing}`, this push has `{new}`)"
    )]
    #[diagnostic(
        code(wayfinder::oci::tag_conflict),
        help("version tags are immutable: bump the version, or pass `--force` to overwrite")
    )]
    TagConflict {
        reference: String,
        existing: String,
        new: String,
    },

    /// Anything else the registry answered (after retries for 5xx and 429).
    #[error("registry `{registry}` failed: {reason}")]
    #[diagnostic(code(wayfinder::oci::registry))]
    Registry { registry: String, reason: String },
}

impl OciError {
    /// True for errors of the user's input (URL, CA file, tag conflict): exit code 2.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            OciError::BadUrl { .. } | OciError::CaFile { .. } | OciError::TagConflict { .. }
        )
    }
}
