//! Registry URLs: `oci://HOST[:PORT]/PREFIX` (the prefix may be empty or nested).

use crate::OciError;

/// A parsed registry URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUrl {
    /// `host[:port]`, lowercase.
    pub host: String,
    /// Repository prefix without slashes at either end (`acme`, `team/acme`, or empty).
    pub prefix: String,
}

impl RegistryUrl {
    /// Parses `oci://host[:port]/prefix` (the `oci://` may be left out).
    pub fn parse(url: &str) -> Result<RegistryUrl, OciError> {
        let bad = |reason: &str| OciError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let rest = match url.split_once("://") {
            Some(("oci", rest)) => rest,
            Some((scheme, _)) => {
                return Err(bad(&format!(
                    "the scheme is `{scheme}://`, registries use `oci://`"
                )))
            }
            None => url,
        };
        let rest = rest.trim_end_matches('/');
        let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if let Some((_, after)) = host.rsplit_once('@') {
            // Never echo the user info back: it may hold a password.
            return Err(OciError::BadUrl {
                url: format!("oci://***@{after}/{prefix}"),
                reason: "credentials do not belong in the URL; use the Docker config or WAYFINDER_REGISTRY_USERNAME/_PASSWORD".into(),
            });
        }
        let host_ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if !host_ok {
            return Err(bad("the host has characters a host name cannot have"));
        }
        if let Some((_, port)) = host.rsplit_once(':').filter(|_| !host.ends_with(']')) {
            if port.parse::<u16>().is_err() {
                return Err(bad(&format!("`{port}` is not a port")));
            }
        }
        let prefix_ok = prefix.split('/').all(|c| {
            prefix.is_empty()
                || (!c.is_empty()
                    && c.chars().all(|ch| {
                        ch.is_ascii_lowercase()
                            || ch.is_ascii_digit()
                            || matches!(ch, '.' | '_' | '-')
                    }))
        });
        if !prefix_ok {
            return Err(bad(
                "repository names are lowercase letters, digits and `._-`, separated by `/`",
            ));
        }
        Ok(RegistryUrl {
            host: host.to_ascii_lowercase(),
            prefix: prefix.to_string(),
        })
    }

    /// The repository `PREFIX/name` (just `name` without a prefix).
    pub fn repository(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// True for `localhost`, `127.*` and `[::1]` (where plain HTTP is acceptable).
    pub fn is_loopback(&self) -> bool {
        let h = self
            .host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, p)| {
                if p.ends_with(']') {
                    self.host.as_str()
                } else {
                    h
                }
            });
        h == "localhost" || h.starts_with("127.") || h == "[::1]"
    }
}

impl std::fmt::Display for RegistryUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "oci://{}", self.host)
        } else {
            write!(f, "oci://{}/{}", self.host, self.prefix)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_prefix() {
        let u = RegistryUrl::parse("oci://127.0.0.1:5000/acme/team").unwrap();
        assert_eq!(u.host, "127.0.0.1:5000");
        assert_eq!(u.prefix, "acme/team");
        assert_eq!(u.repository("voyages/core"), "acme/team/voyages/core");
        assert!(u.is_loopback());
        let u = RegistryUrl::parse("registry.example.com").unwrap();
        assert_eq!(u.prefix, "");
        assert_eq!(u.repository("x"), "x");
        assert!(!u.is_loopback());
        assert_eq!(u.to_string(), "oci://registry.example.com");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "https://x/y",
            "oci://",
            "oci://user:pw@host/x",
            "oci://host:99999/x",
            "oci://host/Upper",
            "oci://host//x",
            "oci://ho st/x",
        ] {
            assert!(RegistryUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn error_does_not_echo_credentials_hint_only() {
        let e = RegistryUrl::parse("oci://u:secret@h/x").unwrap_err();
        assert!(e.to_string().contains("credentials do not belong"));
        assert!(!format!("{e:?}").contains("secret"));
    }
}
