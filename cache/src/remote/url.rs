//! Remote cache URLs: `http(s)://[user:password@]host[:port]/prefix` (Bazel HTTP cache
//! protocol) and `oci://host[:port]/repository` (an OCI registry as the cache).
//!
//! Credentials in the URL are taken out of it at once: [`RemoteUrl`]'s `Display` never shows
//! them, so messages and logs cannot leak them.

use std::fmt;

/// A remote cache URL that cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("invalid remote cache URL `{url}`{origin}: {reason}")]
#[diagnostic(
    code(wayfinder::remote::bad_url),
    help("use `http://host[:port]/prefix` or `https://…` (Bazel HTTP cache protocol) or `oci://host[:port]/repository`; put credentials in WAYFINDER_REMOTE_CACHE_USERNAME and WAYFINDER_REMOTE_CACHE_PASSWORD")
)]
pub struct RemoteUrlError {
    /// The URL with any password hidden.
    pub url: String,
    /// Where it came from, e.g. " (`[cache] remote` in workspace.toml)"; may be empty.
    pub origin: String,
    pub reason: String,
}

/// The kind of remote cache and where it is.
#[derive(Clone, PartialEq, Eq)]
pub enum RemoteUrl {
    /// The Bazel HTTP cache protocol under `base` (no trailing slash, no credentials).
    Http {
        base: String,
        credentials: Option<(String, String)>,
    },
    /// An OCI registry: `host[:port]` and a repository path; credentials `None` look them
    /// up as `wayfinder-oci` does (environment, Docker config).
    Oci {
        registry: String,
        repository: String,
        credentials: Option<(String, String)>,
    },
}

impl RemoteUrl {
    /// Parses a URL; `origin` names where it came from for the error message.
    pub fn parse(text: &str, origin: &str) -> Result<RemoteUrl, RemoteUrlError> {
        let bad = |reason: &str| RemoteUrlError {
            url: redact(text),
            origin: origin.to_string(),
            reason: reason.to_string(),
        };
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("oci://") {
            let (registry, repository) = rest
                .split_once('/')
                .ok_or_else(|| bad("an `oci://` URL needs a repository after the host"))?;
            let repository = repository.trim_end_matches('/');
            if registry.is_empty() || registry.contains('@') {
                return Err(bad("the registry host is missing or holds credentials"));
            }
            let valid_repo = !repository.is_empty()
                && repository.split('/').all(|part| {
                    !part.is_empty()
                        && part.chars().all(|c| {
                            c.is_ascii_lowercase()
                                || c.is_ascii_digit()
                                || matches!(c, '.' | '_' | '-')
                        })
                });
            if !valid_repo {
                return Err(bad(
                    "the repository must be lowercase letters, digits, `.`, `_`, `-` and `/`",
                ));
            }
            return Ok(RemoteUrl::Oci {
                registry: registry.to_string(),
                repository: repository.to_string(),
                credentials: None,
            });
        }
        let url = reqwest::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("the scheme must be `http`, `https` or `oci`"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("the host is missing"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad("a query or fragment is not allowed"));
        }
        let credentials = if url.username().is_empty() {
            None
        } else {
            let user = percent_decode(url.username()).ok_or_else(|| bad("bad user name"))?;
            let password =
                percent_decode(url.password().unwrap_or("")).ok_or_else(|| bad("bad password"))?;
            Some((user, password))
        };
        let mut clean = url.clone();
        // Both setters only fail for URLs without a host, excluded above.
        let _ = clean.set_username("");
        let _ = clean.set_password(None);
        let base = clean.as_str().trim_end_matches('/').to_string();
        Ok(RemoteUrl::Http { base, credentials })
    }

    /// Uses `credentials` unless the URL carried its own.
    pub fn with_default_credentials(mut self, credentials: Option<(String, String)>) -> RemoteUrl {
        let (RemoteUrl::Http { credentials: c, .. } | RemoteUrl::Oci { credentials: c, .. }) =
            &mut self;
        if c.is_none() {
            *c = credentials;
        }
        self
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteUrl::Http { base, .. } => f.write_str(base),
            RemoteUrl::Oci {
                registry,
                repository,
                ..
            } => write!(f, "oci://{registry}/{repository}"),
        }
    }
}

impl fmt::Debug for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RemoteUrl({self})")
    }
}

/// The URL with the userinfo part replaced, for messages about a URL that did not parse.
pub(crate) fn redact(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_urls_lose_their_credentials() {
        let u = RemoteUrl::parse("http://bob:p%40ss@127.0.0.1:9090/cache/", "").unwrap();
        assert_eq!(u.to_string(), "http://127.0.0.1:9090/cache");
        let RemoteUrl::Http { credentials, .. } = &u else {
            panic!("not http")
        };
        assert_eq!(
            credentials.as_ref(),
            Some(&("bob".to_string(), "p@ss".to_string()))
        );
        assert!(!format!("{u:?}").contains("p@ss"));
        // The URL's own credentials win over the environment's.
        let u = u.with_default_credentials(Some(("env".into(), "x".into())));
        let RemoteUrl::Http { credentials, .. } = &u else {
            panic!("not http")
        };
        assert_eq!(credentials.as_ref().map(|c| c.0.as_str()), Some("bob"));
        let plain = RemoteUrl::parse("https://cache.example.com", "")
            .unwrap()
            .with_default_credentials(Some(("env".into(), "x".into())));
        let RemoteUrl::Http { base, credentials } = &plain else {
            panic!("not http")
        };
        assert_eq!(base, "https://cache.example.com");
        assert_eq!(credentials.as_ref().map(|c| c.0.as_str()), Some("env"));
    }

    #[test]
    fn oci_urls() {
        let u = RemoteUrl::parse("oci://127.0.0.1:5000/team/cache", "").unwrap();
        assert_eq!(
            u,
            RemoteUrl::Oci {
                registry: "127.0.0.1:5000".into(),
                repository: "team/cache".into(),
                credentials: None,
            }
        );
        assert_eq!(u.to_string(), "oci://127.0.0.1:5000/team/cache");
    }

    #[test]
    fn bad_urls_are_errors_without_secrets() {
        for bad in [
            "ftp://host/x",
            "oci://host",
            "oci://host/UPPER",
            "oci://host//x",
            "http://",
            "not a url",
            "http://host/x?y=1",
        ] {
            assert!(RemoteUrl::parse(bad, "").is_err(), "{bad}");
        }
        let e = RemoteUrl::parse("ftp://u:secret@host/x", " (`--remote-cache`)").unwrap_err();
        let msg = e.to_string();
        assert!(!msg.contains("secret"), "{msg}");
        assert!(msg.contains("(`--remote-cache`)"), "{msg}");
    }
}
