//! The Bazel HTTP cache protocol: `GET`/`PUT` `<base>/ac/<key hex>` and `<base>/cas/<sha256>`.
//! `PUT` succeeds on 200, 201, 202 and 204; a `GET` misses on 404 and on 204.
//!
//! TLS: an `https://` cache is verified against the system's roots (which `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` replace, as for OpenSSL) plus the CA file of [`super::RemoteOptions`]. A
//! plain `http://` cache loads no roots at all.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use super::{Area, Backend, RemoteError};

pub(crate) struct HttpBackend {
    client: reqwest::blocking::Client,
    base: String,
    credentials: Option<(String, String)>,
}

impl HttpBackend {
    pub(crate) fn new(
        base: &str,
        credentials: Option<(String, String)>,
        ca_file: Option<&(PathBuf, &'static str)>,
        connect_timeout: Duration,
        timeout: Duration,
    ) -> Result<HttpBackend, RemoteError> {
        // reqwest's rustls takes the process's crypto provider; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::blocking::Client::builder()
            .connect_timeout(connect_timeout)
            .timeout(timeout)
            .user_agent(concat!("wayfinder/", env!("CARGO_PKG_VERSION")));
        if base.starts_with("https://") {
            if let Some((path, setting)) = ca_file {
                builder = builder.tls_certs_merge(read_ca_file(path, setting)?);
            }
        } else {
            // No TLS: skip loading the system's roots (time, and an error where there are none).
            builder = builder.tls_certs_only(Vec::new());
        }
        let client = builder
            .build()
            .map_err(|e| RemoteError::new(format!("cannot start the HTTP client: {e}")))?;
        Ok(HttpBackend {
            client,
            base: base.trim_end_matches('/').to_string(),
            credentials,
        })
    }

    fn url(&self, area: Area, name: &str) -> String {
        format!("{}/{}/{name}", self.base, area.dir())
    }

    fn auth(&self, req: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        match &self.credentials {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }
}

/// The certificates of a PEM file; an unreadable file or one without certificates is an
/// error (the remote is then unusable, with one warning naming the file).
fn read_ca_file(path: &PathBuf, setting: &str) -> Result<Vec<reqwest::Certificate>, RemoteError> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| {
        RemoteError::new(format!(
            "cannot read the CA file `{shown}` ({setting}): {e}"
        ))
    })?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
        RemoteError::new(format!(
            "the CA file `{shown}` ({setting}) is not PEM certificates: {e}"
        ))
    })?;
    if certs.is_empty() {
        return Err(RemoteError::new(format!(
            "the CA file `{shown}` ({setting}) holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// Whether an error's innermost cause is a rejected server certificate.
fn is_certificate_error(cause: &str) -> bool {
    let c = cause.to_ascii_lowercase();
    c.contains("certificate") || c.contains("unknownissuer") || c.contains("unknown issuer")
}

/// A request error without the URL's query or credentials (reqwest's message names the URL,
/// which never carries credentials here: they travel in the header).
fn transport_error(what: &str, e: &reqwest::Error) -> RemoteError {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "failed"
    };
    let mut msg = format!("{what} {kind}");
    let mut source = std::error::Error::source(e);
    // The innermost cause says what happened (connection refused, reset…).
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    if let Some(cause) = last {
        msg.push_str(&format!(": {cause}"));
        if is_certificate_error(&cause) {
            msg.push_str(
                " (if the cache's certificate comes from a private CA, give that CA's PEM file in \
                 WAYFINDER_REMOTE_CACHE_CA or SSL_CERT_FILE)",
            );
        }
    }
    RemoteError::new(msg)
}

fn status_error(what: &str, status: reqwest::StatusCode) -> RemoteError {
    let hint = match status.as_u16() {
        401 | 403 => " (check the credentials: WAYFINDER_REMOTE_CACHE_USERNAME/_PASSWORD or the URL's user info)",
        _ => "",
    };
    RemoteError::new(format!("{what} answered {status}{hint}"))
}

impl Backend for HttpBackend {
    fn get(&self, area: Area, name: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        let what = format!("GET {}/{name}", area.dir());
        let resp = self
            .auth(self.client.get(self.url(area, name)))
            .send()
            .map_err(|e| transport_error(&what, &e))?;
        match resp.status().as_u16() {
            200 => {}
            204 | 404 => return Ok(None),
            _ => return Err(status_error(&what, resp.status())),
        }
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(RemoteError::new(format!(
                "{what}: the body is larger than {limit} bytes"
            )));
        }
        let mut body = Vec::new();
        resp.take(limit + 1)
            .read_to_end(&mut body)
            .map_err(|e| RemoteError::new(format!("{what}: reading the body failed: {e}")))?;
        if body.len() as u64 > limit {
            return Err(RemoteError::new(format!(
                "{what}: the body is larger than {limit} bytes"
            )));
        }
        Ok(Some(body))
    }

    fn put(&self, area: Area, name: &str, data: Vec<u8>) -> Result<(), RemoteError> {
        let what = format!("PUT {}/{name}", area.dir());
        let resp = self
            .auth(self.client.put(self.url(area, name)))
            .body(data)
            .send()
            .map_err(|e| transport_error(&what, &e))?;
        match resp.status().as_u16() {
            200 | 201 | 202 | 204 => Ok(()),
            _ => Err(status_error(&what, resp.status())),
        }
    }
}
