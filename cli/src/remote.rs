//! The store a build uses: the local cache, plus the remote cache when one is configured
//! (`--remote-cache`, `[cache] remote`; DESIGN §6).
//!
//! Settings and where they come from:
//!
//! | setting            | flag                               | workspace.toml           | environment                                   |
//! |--------------------|------------------------------------|--------------------------|-----------------------------------------------|
//! | URL                | `--remote-cache URL` (wins)        | `[cache] remote`         |                                               |
//! | off                | `--no-remote-cache`                |                          |                                               |
//! | read-only          | `--remote-read-only`               | `remote_write = false`   |                                               |
//! | signing            | `--require-signed`                 |                          | `WAYFINDER_CACHE_SIGNING_KEY` (HMAC key)      |
//! | HTTP credentials   | (user info in the URL wins)        |                          | `WAYFINDER_REMOTE_CACHE_USERNAME`/`_PASSWORD` |
//! | request timeout    |                                    |                          | `WAYFINDER_REMOTE_CACHE_TIMEOUT` (seconds)    |
//! | HTTPS CA           |                                    |                          | `WAYFINDER_REMOTE_CACHE_CA` (PEM file, added to the system's roots); `SSL_CERT_FILE`/`SSL_CERT_DIR` (replace them) |
//!
//! Lookups go to the local cache first, then to the remote. Before each level of the graph
//! runs, [`Store::prefetch`] looks its keys up in parallel (local first, then the remote on a
//! bounded pool of keep-alive connections), so the scheduler's lookups that follow are
//! answered from memory. Built actions are uploaded in the background and
//! [`BuildStore::finish`] waits for them (bounded) and prints at most one
//! warning per kind of remote problem. A remote problem never fails the build.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use wayfinder_cache::{remote, LocalCache, RemoteCache, RemoteOptions, RemoteUrl};
use wayfinder_engine::{ActionKey, ActionResult, Blob, Digest, Origin, Store, StoreError};
use wayfinder_rules::WorkspaceDecl;

use crate::cli::Cli;
use crate::commands::{report, BAD_INPUT};

/// The local cache with an optional remote tier.
pub(crate) struct BuildStore<'a> {
    local: &'a LocalCache,
    remote: Option<RemoteCache>,
    /// What [`Store::prefetch`] learnt from the remote: a hit (already kept locally) or a
    /// miss, not to be asked again. Taken by the lookup that follows.
    prefetched: Mutex<HashMap<Digest<ActionKey>, Option<ActionResult>>>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn bad_input(message: &str, help: &str) -> u8 {
    eprintln!("error: {message}\n  help: {help}");
    BAD_INPUT
}

impl<'a> BuildStore<'a> {
    /// Opens the remote tier the flags and `workspace.toml` ask for.
    pub(crate) fn open(
        args: &Cli,
        decl: &WorkspaceDecl,
        local: &'a LocalCache,
    ) -> Result<BuildStore<'a>, u8> {
        let g = &args.global;
        let signing_key = env("WAYFINDER_CACHE_SIGNING_KEY").map(String::into_bytes);
        if g.require_signed && signing_key.is_none() {
            return Err(bad_input(
                "`--require-signed` needs the signing key in WAYFINDER_CACHE_SIGNING_KEY",
                "set WAYFINDER_CACHE_SIGNING_KEY to the key the cache's writers sign with",
            ));
        }
        let configured = match (&g.remote_cache, &decl.remote_cache) {
            _ if g.no_remote_cache => None,
            (Some(url), _) => Some((url.as_str(), " (`--remote-cache`)")),
            (None, Some(url)) => Some((url.v.as_str(), " (`[cache] remote` in workspace.toml)")),
            (None, None) => None,
        };
        let Some((text, origin)) = configured else {
            return Ok(BuildStore {
                local,
                remote: None,
                prefetched: Mutex::default(),
            });
        };
        let credentials = env("WAYFINDER_REMOTE_CACHE_USERNAME").map(|user| {
            (
                user,
                env("WAYFINDER_REMOTE_CACHE_PASSWORD").unwrap_or_default(),
            )
        });
        let url = RemoteUrl::parse(text, origin)
            .map_err(|e| {
                report(e);
                BAD_INPUT
            })?
            .with_default_credentials(credentials);
        let mut opts = RemoteOptions::new(url);
        if let Some(t) = env("WAYFINDER_REMOTE_CACHE_TIMEOUT") {
            match t.parse::<f64>() {
                Ok(secs) if secs > 0.0 && secs <= 3600.0 => {
                    opts = opts.with_timeout(Duration::from_secs_f64(secs));
                }
                _ => {
                    return Err(bad_input(
                        &format!("invalid WAYFINDER_REMOTE_CACHE_TIMEOUT `{t}`"),
                        "give the request timeout in seconds, such as `5` or `0.5`",
                    ))
                }
            }
        }
        opts.ca_file = env("WAYFINDER_REMOTE_CACHE_CA")
            .map(|p| (p.into(), "WAYFINDER_REMOTE_CACHE_CA"))
            .or_else(|| env("SSL_CERT_FILE").map(|p| (p.into(), "SSL_CERT_FILE")));
        opts.write = !g.remote_read_only && decl.remote_write != Some(false);
        opts.require_signed = g.require_signed;
        opts.signing_key = signing_key;
        let remote = RemoteCache::open(opts);
        tracing::debug!(url = %remote.url(), writes = remote.writes(), "remote cache");
        Ok(BuildStore {
            local,
            remote: Some(remote),
            prefetched: Mutex::default(),
        })
    }

    /// Waits (bounded) for pending uploads and reports what the remote did.
    pub(crate) fn finish(&self) {
        let Some(remote) = &self.remote else { return };
        let r = remote.finish(self.local);
        for w in &r.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("remote cache `{}`: {}", remote.url(), r.stats.describe());
    }
}

impl BuildStore<'_> {
    /// The local entry for `key`: `Ok` when all its blobs are present, `Err` when some were
    /// collected.
    fn local_complete(
        &self,
        key: &Digest<ActionKey>,
    ) -> Option<Result<ActionResult, ActionResult>> {
        let r = self.local.get_action(key)?;
        Some(if r.outputs.values().all(|d| self.local.has_blob(d)) {
            Ok(r)
        } else {
            Err(r)
        })
    }
}

/// Lines about the remote cache for `wayfinder cache stats`.
pub(crate) fn stats_lines(local: &LocalCache) -> Vec<String> {
    remote::stats_lines(local)
}

impl Store for BuildStore<'_> {
    fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.local.put_blob(data)
    }
    fn put_blob_unsynced(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.local.put_blob_unsynced(data)
    }
    fn sync_blob(&self, digest: &Digest<Blob>) -> Result<(), StoreError> {
        self.local.sync_blob(digest)
    }
    fn get_blob(&self, digest: &Digest<Blob>) -> Option<Vec<u8>> {
        self.local.get_blob(digest)
    }
    fn has_blob(&self, digest: &Digest<Blob>) -> bool {
        self.local.has_blob(digest)
    }
    fn get_action(&self, key: &Digest<ActionKey>) -> Option<ActionResult> {
        self.local.get_action(key)
    }
    fn lookup_action(&self, key: &Digest<ActionKey>) -> Option<(ActionResult, Origin)> {
        let Some(remote) = &self.remote else {
            return self.local.lookup_action(key);
        };
        let prefetched = self.prefetched.lock().ok().and_then(|mut p| p.remove(key));
        // Asked already (hit or miss): the remote is not asked again.
        let asked = prefetched.is_some();
        if let Some(Some(hit)) = prefetched {
            if hit.outputs.values().all(|d| self.local.has_blob(d)) {
                return Some((hit, Origin::Remote));
            }
        }
        let local = self.local_complete(key);
        if let Some(Ok(r)) = local {
            return Some((r, Origin::Local));
        }
        let local = local.map(|r| r.unwrap_or_else(|partial| partial));
        // A local miss, or a local entry whose blobs were collected: ask the remote, unless
        // the prefetch just did.
        match (!asked).then(|| remote.lookup(self.local, key)).flatten() {
            Some(r) => Some((r, Origin::Remote)),
            None => local.map(|r| (r, Origin::Local)),
        }
    }
    fn prefetch(&self, keys: &[Digest<ActionKey>]) {
        let Some(remote) = &self.remote else { return };
        let mut ask: Vec<Digest<ActionKey>> = match self.prefetched.lock() {
            Ok(p) => keys
                .iter()
                .filter(|k| !p.contains_key(k))
                .copied()
                .collect(),
            Err(_) => return,
        };
        ask.sort();
        ask.dedup();
        ask.retain(|k| !matches!(self.local_complete(k), Some(Ok(_))));
        if ask.is_empty() {
            return;
        }
        let found = remote.lookup_many(self.local, &ask);
        if let Ok(mut p) = self.prefetched.lock() {
            p.extend(ask.into_iter().zip(found));
        }
    }
    fn put_action(&self, key: &Digest<ActionKey>, result: &ActionResult) -> Result<(), StoreError> {
        self.put_action_when(key, result, &|| Ok(()))
    }
    fn put_action_when(
        &self,
        key: &Digest<ActionKey>,
        result: &ActionResult,
        ready: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.local.put_action_when(key, result, ready)?;
        if let Some(remote) = &self.remote {
            remote.upload(self.local, key, result);
        }
        Ok(())
    }
    fn load_state(&self, name: &str) -> Option<Vec<u8>> {
        self.local.load_state(name)
    }
    fn save_state(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.local.save_state(name, data)
    }
    fn save_state_unsynced(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.local.save_state_unsynced(name, data)
    }
}
