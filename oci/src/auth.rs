//! Registry credentials, looked up in this order:
//!
//! 1. `WAYFINDER_REGISTRY_USERNAME` and `WAYFINDER_REGISTRY_PASSWORD`;
//! 2. the Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`):
//!    `credHelpers[host]` (runs `docker-credential-NAME get`), then `auths[host]`
//!    (`auth` = base64 `user:password`, or `username`/`password`, or `identitytoken`),
//!    then `credsStore` (a helper for every host);
//! 3. none: anonymous.
//!
//! [`Credentials`] never prints its secret (`Debug` redacts it), and nothing here logs one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;

use crate::OciError;

/// A user name and a secret (a password or an identity token).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Where credentials came from (for `-v` output; never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Environment,
    DockerConfig(PathBuf),
    Helper(String),
    None,
}

/// The Docker config directory: `$DOCKER_CONFIG`, else `$HOME/.docker`.
fn docker_config_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".docker"))
}

/// Credentials for registry `host` (`host[:port]`), from the environment or the Docker config.
pub fn lookup_credentials(host: &str) -> Result<(Option<Credentials>, CredentialSource), OciError> {
    let user = std::env::var("WAYFINDER_REGISTRY_USERNAME").unwrap_or_default();
    let pass = std::env::var("WAYFINDER_REGISTRY_PASSWORD").unwrap_or_default();
    if !user.is_empty() || !pass.is_empty() {
        return Ok((
            Some(Credentials {
                username: user,
                secret: pass,
            }),
            CredentialSource::Environment,
        ));
    }
    let Some(dir) = docker_config_dir() else {
        return Ok((None, CredentialSource::None));
    };
    from_docker_config(&dir.join("config.json"), host)
}

/// The keys under which `auths` may name `host`.
fn host_matches(key: &str, host: &str) -> bool {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let k = k.split('/').next().unwrap_or(k);
    k.eq_ignore_ascii_case(host)
}

/// Reads one Docker `config.json` (a missing file means no credentials).
pub fn from_docker_config(
    path: &Path,
    host: &str,
) -> Result<(Option<Credentials>, CredentialSource), OciError> {
    let fail = |reason: String| OciError::Credentials {
        registry: host.to_string(),
        reason,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((None, CredentialSource::None))
        }
        Err(e) => return Err(fail(format!("cannot read `{}`: {e}", path.display()))),
    };
    // The parse error message of serde_json quotes no content, only a position.
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| fail(format!("`{}` is not valid JSON: {e}", path.display())))?;
    if let Some(helpers) = doc.get("credHelpers").and_then(|h| h.as_object()) {
        if let Some(helper) = helpers
            .iter()
            .find(|(k, _)| host_matches(k, host))
            .and_then(|(_, v)| v.as_str())
        {
            return run_helper(helper, host).map(|c| (c, CredentialSource::Helper(helper.into())));
        }
    }
    if let Some(auths) = doc.get("auths").and_then(|a| a.as_object()) {
        if let Some(entry) = auths
            .iter()
            .find(|(k, _)| host_matches(k, host))
            .map(|(_, v)| v)
        {
            if let Some(c) =
                auth_entry(entry).map_err(|r| fail(format!("`{}`: {r}", path.display())))?
            {
                return Ok((Some(c), CredentialSource::DockerConfig(path.to_path_buf())));
            }
        }
    }
    if let Some(store) = doc.get("credsStore").and_then(|s| s.as_str()) {
        if !store.is_empty() {
            return run_helper(store, host).map(|c| (c, CredentialSource::Helper(store.into())));
        }
    }
    Ok((None, CredentialSource::None))
}

/// One `auths` entry.
fn auth_entry(entry: &serde_json::Value) -> Result<Option<Credentials>, String> {
    let field = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    if !field("identitytoken").is_empty() {
        // An identity token is sent as the password of the `<token>` user.
        return Ok(Some(Credentials {
            username: "<token>".into(),
            secret: field("identitytoken").into(),
        }));
    }
    let auth = field("auth");
    if !auth.is_empty() {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| "an `auth` entry is not base64".to_string())?;
        let text =
            String::from_utf8(raw).map_err(|_| "an `auth` entry is not UTF-8".to_string())?;
        let (u, p) = text
            .split_once(':')
            .ok_or_else(|| "an `auth` entry is not `user:password`".to_string())?;
        return Ok(Some(Credentials {
            username: u.into(),
            secret: p.into(),
        }));
    }
    if !field("username").is_empty() {
        return Ok(Some(Credentials {
            username: field("username").into(),
            secret: field("password").into(),
        }));
    }
    Ok(None)
}

/// Runs `docker-credential-NAME get` with the host on stdin.
fn run_helper(name: &str, host: &str) -> Result<Option<Credentials>, OciError> {
    let fail = |reason: String| OciError::Credentials {
        registry: host.to_string(),
        reason,
    };
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(fail(format!("`{name}` is not a credential helper name")));
    }
    let program = format!("docker-credential-{name}");
    tracing::debug!(helper = %program, "asking a credential helper");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot run `{program}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("`{program}` failed: {e}")))?;
    if !out.status.success() {
        // "credentials not found" is not an error: anonymous access may still work.
        let msg = String::from_utf8_lossy(&out.stdout).to_lowercase();
        if msg.contains("not found") {
            return Ok(None);
        }
        return Err(fail(format!("`{program} get` exited with {}", out.status)));
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|_| fail(format!("`{program} get` did not print JSON")))?;
    let field = |k: &str| {
        doc.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let secret = field("Secret");
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credentials {
        username: field("Username"),
        secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn reads_auths_in_all_forms() {
        let d = tempfile::tempdir().unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode("alice:s3cr3t");
        let p = write(
            d.path(),
            &format!(
                r#"{{"auths": {{"https://reg.example:5000": {{"auth": "{b64}"}},
                    "other": {{"username": "bob", "password": "pw"}},
                    "tok": {{"identitytoken": "T"}}}}}}"#
            ),
        );
        let (c, src) = from_docker_config(&p, "reg.example:5000").unwrap();
        let c = c.unwrap();
        assert_eq!(
            (c.username.as_str(), c.secret.as_str()),
            ("alice", "s3cr3t")
        );
        assert_eq!(src, CredentialSource::DockerConfig(p.clone()));
        let c = from_docker_config(&p, "other").unwrap().0.unwrap();
        assert_eq!(c.username, "bob");
        assert_eq!(
            from_docker_config(&p, "tok").unwrap().0.unwrap().secret,
            "T"
        );
        assert!(from_docker_config(&p, "nowhere").unwrap().0.is_none());
        assert!(!format!("{c:?}").contains("pw"));
    }

    #[test]
    fn missing_config_is_anonymous_and_bad_json_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let none = from_docker_config(&d.path().join("nope.json"), "h").unwrap();
        assert!(none.0.is_none());
        let p = write(d.path(), "{not json");
        assert!(from_docker_config(&p, "h").is_err());
        let p = write(d.path(), r#"{"auths": {"h": {"auth": "!!"}}}"#);
        assert!(from_docker_config(&p, "h").is_err());
    }

    #[test]
    fn credential_helpers_run_with_the_host_on_stdin() {
        let d = tempfile::tempdir().unwrap();
        let helper = d.path().join("docker-credential-wftest");
        std::fs::write(
            &helper,
            "#!/bin/sh\nread host\necho \"{\\\"Username\\\": \\\"u-$host\\\", \\\"Secret\\\": \\\"p\\\"}\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = write(d.path(), r#"{"credHelpers": {"reg.x": "wftest"}}"#);
        // PATH is process-wide: prepend the helper's directory for this lookup only.
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![d.path().to_path_buf()];
        paths.extend(std::env::split_paths(&old));
        let joined = std::env::join_paths(paths).unwrap();
        // SAFETY-free: set_var is safe in edition 2021; tests in this module do not read PATH.
        std::env::set_var("PATH", &joined);
        let got = from_docker_config(&p, "reg.x");
        std::env::set_var("PATH", &old);
        let (c, src) = got.unwrap();
        assert_eq!(c.unwrap().username, "u-reg.x");
        assert_eq!(src, CredentialSource::Helper("wftest".into()));
        assert!(run_helper("../evil", "h").is_err());
    }
}
