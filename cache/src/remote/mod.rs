//! The remote cache tier (DESIGN §6): action results shared between CI runners and laptops
//! through an HTTP cache (Bazel's protocol) or an OCI registry.
//!
//! ```text
//! remote/
//! ├── mod.rs      RemoteCache: lookup, upload, finish; the circuit breaker
//! ├── url.rs      RemoteUrl: parsing, credentials kept out of messages
//! ├── entry.rs    the remote action-cache entry (JSON, sha256 + blake3 + size, HMAC)
//! ├── http.rs     the Bazel HTTP cache protocol (GET/PUT ac/, cas/)
//! ├── oci.rs      an OCI registry as the cache (blobs by sha256, entries as tagged manifests)
//! ├── upload.rs   background upload threads (CAS blobs first, entry last)
//! └── stats.rs    per-build counters and the totals `wayfinder cache stats` shows
//! ```
//!
//! The flow of one action (the caller looks in the local cache first):
//! 1. [`RemoteCache::lookup`] fetches `ac/<key>`, checks its format, key and (with a signing
//!    key) its HMAC; with `require_signed`, an entry without a valid signature is a miss.
//! 2. Each output blob not already local is fetched by sha256 and checked against its size,
//!    sha256 and blake3; only then is it written to the local cache. Any mismatch is a miss
//!    (counted, one warning at the end), never a wrong output; the entry is written locally
//!    last, so the hit is reported as `Origin::Remote` only when everything is local.
//!    Downloaded copies are written without fsync: the remote still holds them, and a copy
//!    torn by a crash fails the local cache's read verification and is fetched or built
//!    again.
//! 3. Before a level of the graph runs, the scheduler names its keys
//!    ([`wayfinder_engine::Store::prefetch`]); [`RemoteCache::lookup_many`] looks them up on
//!    up to [`RemoteOptions::lookup_threads`] threads over pooled keep-alive connections, so
//!    the round trips overlap instead of queueing behind the build's few worker threads.
//! 4. A built action goes to [`RemoteCache::upload`]: the outputs are queued for the upload
//!    threads, off the build's critical path; [`RemoteCache::finish`] waits for them with a
//!    bound, records the statistics and returns the warnings to print.
//!
//! Availability: every request has connect and total timeouts; after
//! [`BREAK_AFTER_CONSECUTIVE`] consecutive failures (or [`BREAK_AFTER_TOTAL`] in all) the
//! breaker opens and the rest of the build does not use the remote. Failures are never build
//! failures, and they give one warning per build, not one per action.

mod entry;
mod http;
mod oci;
mod stats;
mod upload;
mod url;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wayfinder_engine::{ActionKey, ActionResult, Digest, Store};

use entry::{sha256_hex, Entry, Signature, MAX_ENTRY_BYTES};
pub use stats::RemoteStats;
use stats::{human_bytes, Counters};
pub use url::{RemoteUrl, RemoteUrlError};

/// Consecutive failed requests after which the build stops using the remote.
pub const BREAK_AFTER_CONSECUTIVE: u32 = 3;
/// Failed requests in all after which the build stops using the remote.
pub const BREAK_AFTER_TOTAL: u32 = 10;
/// The largest blob downloaded.
const MAX_BLOB_BYTES: u64 = 256 << 20;

/// The two areas of a remote cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Area {
    /// Action-cache entries, named by action key (hex).
    Ac,
    /// Blobs, named by the sha256 of their content (hex).
    Cas,
}

impl Area {
    pub(crate) fn dir(self) -> &'static str {
        match self {
            Area::Ac => "ac",
            Area::Cas => "cas",
        }
    }
}

/// A failed request (the remote is down, slow, refusing or broken).
#[derive(Debug, Clone)]
pub(crate) struct RemoteError {
    pub message: String,
    /// The remote answered, with content that failed verification: a rejected download,
    /// not an availability problem.
    pub corrupt: bool,
}

impl RemoteError {
    pub(crate) fn new(message: impl Into<String>) -> RemoteError {
        RemoteError {
            message: message.into(),
            corrupt: false,
        }
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> RemoteError {
        RemoteError {
            message: message.into(),
            corrupt: true,
        }
    }
}

/// A remote store: `get` returns `Ok(None)` for a miss.
pub(crate) trait Backend: Send + Sync {
    fn get(&self, area: Area, name: &str, limit: u64) -> Result<Option<Vec<u8>>, RemoteError>;
    fn put(&self, area: Area, name: &str, data: Vec<u8>) -> Result<(), RemoteError>;
}

/// How to use a remote cache.
#[derive(Clone, Debug)]
pub struct RemoteOptions {
    pub url: RemoteUrl,
    /// Upload results (false: `--remote-read-only`, `remote_write = false`).
    pub write: bool,
    /// Entries without a valid signature are misses.
    pub require_signed: bool,
    /// The shared HMAC key (`WAYFINDER_CACHE_SIGNING_KEY`): entries written are signed.
    pub signing_key: Option<Vec<u8>>,
    pub connect_timeout: Duration,
    /// The bound on one whole request.
    pub timeout: Duration,
    /// How long [`RemoteCache::finish`] waits for queued uploads.
    pub flush_timeout: Duration,
    pub upload_threads: usize,
    /// Parallel lookups of [`RemoteCache::lookup_many`].
    pub lookup_threads: usize,
    /// A PEM file of CA certificates an `https://` cache is also trusted under (besides the
    /// system's roots), and the setting it came from, for messages.
    pub ca_file: Option<(std::path::PathBuf, &'static str)>,
}

impl RemoteOptions {
    /// The defaults: read-write, unsigned, 3 s to connect, 20 s per request.
    pub fn new(url: RemoteUrl) -> RemoteOptions {
        RemoteOptions {
            url,
            write: true,
            require_signed: false,
            signing_key: None,
            connect_timeout: Duration::from_secs(3),
            timeout: Duration::from_secs(20),
            flush_timeout: Duration::from_secs(120),
            upload_threads: 4,
            lookup_threads: 16,
            ca_file: None,
        }
    }

    /// Sets the request timeout (and a connect timeout no longer than it).
    pub fn with_timeout(mut self, timeout: Duration) -> RemoteOptions {
        self.timeout = timeout;
        self.connect_timeout = self.connect_timeout.min(timeout);
        self
    }
}

/// What a build's use of the remote amounted to.
#[derive(Debug, Default)]
pub struct RemoteReport {
    /// At most one warning per kind of problem, to print after the build.
    pub warnings: Vec<String>,
    pub stats: RemoteStats,
}

/// Stops using the remote after repeated failures.
#[derive(Default)]
struct Breaker {
    consecutive: AtomicU32,
    total: AtomicU32,
    open: AtomicBool,
    /// A request has succeeded in this build.
    succeeded: AtomicBool,
    first_error: Mutex<Option<String>>,
}

impl Breaker {
    fn allow(&self) -> bool {
        !self.open.load(Ordering::Relaxed)
    }
    fn success(&self) {
        self.consecutive.store(0, Ordering::Relaxed);
        self.succeeded.store(true, Ordering::Relaxed);
    }
    /// Whether the remote answered once, or was given up: parallel lookups may go full width.
    fn settled(&self) -> bool {
        self.succeeded.load(Ordering::Relaxed) || !self.allow()
    }
    fn failure(&self, message: &str) {
        if let Ok(mut first) = self.first_error.lock() {
            first.get_or_insert_with(|| message.to_string());
        }
        let c = self.consecutive.fetch_add(1, Ordering::Relaxed) + 1;
        let t = self.total.fetch_add(1, Ordering::Relaxed) + 1;
        if c >= BREAK_AFTER_CONSECUTIVE || t >= BREAK_AFTER_TOTAL {
            self.open.store(true, Ordering::Relaxed);
        }
    }
}

/// State the build threads and the upload threads share.
pub(crate) struct Shared {
    backend: Box<dyn Backend>,
    url: String,
    require_signed: bool,
    signing_key: Option<Vec<u8>>,
    breaker: Breaker,
    counters: Counters,
    /// sha256s known to be on the remote (uploaded or downloaded by this build).
    known: Mutex<HashSet<String>>,
    /// Blobs an upload thread is sending now: another thread waits instead of sending the
    /// same blob at the same time (registries can reject concurrent identical uploads).
    uploading: (Mutex<HashSet<String>>, std::sync::Condvar),
    /// The first rejected download, and how many entries were ignored as unsigned.
    first_rejected: Mutex<Option<String>>,
    unsigned: AtomicU32,
}

impl Shared {
    /// Runs one request through the breaker; `None` when it failed.
    fn call<T>(&self, f: impl FnOnce() -> Result<T, RemoteError>) -> Option<T> {
        match f() {
            Ok(v) => {
                self.breaker.success();
                Some(v)
            }
            Err(e) if e.corrupt => {
                self.breaker.success();
                self.reject(e.message);
                None
            }
            Err(e) => {
                tracing::debug!(remote = %self.url, error = %e.message, "remote cache request failed");
                Counters::bump(&self.counters.errors, 1);
                self.breaker.failure(&e.message);
                None
            }
        }
    }

    fn reject(&self, what: String) {
        tracing::debug!(remote = %self.url, %what, "remote cache download rejected");
        Counters::bump(&self.counters.rejected, 1);
        if let Ok(mut first) = self.first_rejected.lock() {
            first.get_or_insert(what);
        }
    }

    fn is_known(&self, sha256: &str) -> bool {
        self.known.lock().is_ok_and(|k| k.contains(sha256))
    }

    /// Waits until no other thread uploads `sha256`, then claims it until the guard drops.
    fn claim_upload(&self, sha256: &str) -> UploadClaim<'_> {
        let (set, cv) = &self.uploading;
        if let Ok(mut s) = set.lock() {
            while s.contains(sha256) {
                match cv.wait(s) {
                    Ok(g) => s = g,
                    Err(_) => {
                        return UploadClaim {
                            shared: self,
                            sha256: None,
                        }
                    }
                }
            }
            s.insert(sha256.to_string());
        }
        UploadClaim {
            shared: self,
            sha256: Some(sha256.to_string()),
        }
    }

    fn mark_known(&self, sha256: &str) {
        if let Ok(mut k) = self.known.lock() {
            k.insert(sha256.to_string());
        }
    }
}

/// A claim on uploading one blob (see [`Shared::claim_upload`]).
struct UploadClaim<'a> {
    shared: &'a Shared,
    sha256: Option<String>,
}

impl Drop for UploadClaim<'_> {
    fn drop(&mut self) {
        let Some(sha) = self.sha256.take() else {
            return;
        };
        let (set, cv) = &self.shared.uploading;
        if let Ok(mut s) = set.lock() {
            s.remove(&sha);
        }
        cv.notify_all();
    }
}

/// A remote cache in use by one build.
pub struct RemoteCache {
    shared: Arc<Shared>,
    uploader: Option<upload::Uploader>,
    flush_timeout: Duration,
    lookup_threads: usize,
}

impl RemoteCache {
    /// Connects nothing yet: the first lookup or upload does.
    pub fn open(opts: RemoteOptions) -> RemoteCache {
        let backend: Result<Box<dyn Backend>, RemoteError> = match &opts.url {
            RemoteUrl::Http { base, credentials } => http::HttpBackend::new(
                base,
                credentials.clone(),
                opts.ca_file.as_ref(),
                opts.connect_timeout,
                opts.timeout,
            )
            .map(|b| Box::new(b) as Box<dyn Backend>),
            RemoteUrl::Oci {
                registry,
                repository,
                credentials,
            } => oci::OciBackend::new(registry, repository, credentials.clone(), opts.timeout)
                .map(|b| Box::new(b) as Box<dyn Backend>),
        };
        let backend = backend.unwrap_or_else(|e| Box::new(Broken(e)));
        RemoteCache::with_backend(backend, opts)
    }

    pub(crate) fn with_backend(backend: Box<dyn Backend>, opts: RemoteOptions) -> RemoteCache {
        let shared = Arc::new(Shared {
            backend,
            url: opts.url.to_string(),
            require_signed: opts.require_signed,
            signing_key: opts.signing_key.clone(),
            breaker: Breaker::default(),
            counters: Counters::default(),
            known: Mutex::new(HashSet::new()),
            uploading: (Mutex::new(HashSet::new()), std::sync::Condvar::new()),
            first_rejected: Mutex::new(None),
            unsigned: AtomicU32::new(0),
        });
        let uploader = opts
            .write
            .then(|| upload::Uploader::start(Arc::clone(&shared), opts.upload_threads));
        RemoteCache {
            shared,
            uploader,
            flush_timeout: opts.flush_timeout,
            lookup_threads: opts.lookup_threads.max(1),
        }
    }

    /// The URL, without credentials.
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// Whether results are uploaded.
    pub fn writes(&self) -> bool {
        self.uploader.is_some()
    }

    /// Looks `key` up remotely; on a verified hit, its blobs and entry are now in `local`.
    pub fn lookup(&self, local: &dyn Store, key: &Digest<ActionKey>) -> Option<ActionResult> {
        let s = &*self.shared;
        if !s.breaker.allow() {
            return None;
        }
        Counters::bump(&s.counters.lookups, 1);
        let hex = key.to_hex();
        let data = s.call(|| s.backend.get(Area::Ac, &hex, MAX_ENTRY_BYTES))??;
        Counters::bump(&s.counters.bytes_down, data.len() as u64);
        let entry = match Entry::from_json(&data, key) {
            Ok(e) => e,
            Err(msg) => {
                s.reject(format!("entry ac/{hex}: {msg}"));
                return None;
            }
        };
        match entry.check_signature(s.signing_key.as_deref()) {
            Signature::Valid => {}
            Signature::Bad => {
                s.reject(format!("entry ac/{hex}: bad signature"));
                return None;
            }
            Signature::Unverified if s.require_signed => {
                s.unsigned.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            Signature::Unverified => {}
        }
        for o in &entry.outputs {
            if local.has_blob(&o.blake3) {
                continue;
            }
            if !s.breaker.allow() {
                return None;
            }
            let Some(blob) = s.call(|| s.backend.get(Area::Cas, &o.sha256, MAX_BLOB_BYTES))? else {
                tracing::debug!(key = %key.short(), sha256 = %o.sha256, "entry names a missing blob: miss");
                return None;
            };
            Counters::bump(&s.counters.bytes_down, blob.len() as u64);
            if blob.len() as u64 != o.size
                || sha256_hex(&blob) != o.sha256
                || Digest::of(&blob) != o.blake3
            {
                s.reject(format!(
                    "blob cas/{} ({} bytes, {} expected) does not match its digest",
                    o.sha256,
                    blob.len(),
                    o.size
                ));
                return None;
            }
            // Verified: it is the blob the entry names, so keeping it is safe.
            if local.put_blob_unsynced(&blob).is_err() {
                return None;
            }
            s.mark_known(&o.sha256);
        }
        let result = entry.result();
        if let Err(e) = local.put_action_unsynced(key, &result) {
            tracing::debug!(error = %e.message, "cannot keep a remote hit locally");
        }
        Counters::bump(&s.counters.hits, 1);
        Some(result)
    }

    /// [`RemoteCache::lookup`] for many keys, on up to `lookup_threads` threads: one result
    /// per key, in the order of `keys`. Until the remote has answered once, only
    /// [`BREAK_AFTER_CONSECUTIVE`] threads ask, so a dead or hanging remote opens the breaker
    /// after one round of failures instead of a storm of them.
    pub fn lookup_many(
        &self,
        local: &dyn Store,
        keys: &[Digest<ActionKey>],
    ) -> Vec<Option<ActionResult>> {
        let threads = self.lookup_threads.min(keys.len());
        if threads <= 1 {
            return keys.iter().map(|k| self.lookup(local, k)).collect();
        }
        let breaker = &self.shared.breaker;
        let next = std::sync::atomic::AtomicUsize::new(0);
        let results: Mutex<Vec<Option<ActionResult>>> = Mutex::new(vec![None; keys.len()]);
        let gate = Gate::default();
        std::thread::scope(|scope| {
            for w in 0..threads {
                let (next, results, gate) = (&next, &results, &gate);
                scope.spawn(move || {
                    if w >= BREAK_AFTER_CONSECUTIVE as usize {
                        gate.wait();
                    }
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(key) = keys.get(i) else { break };
                        let r = self.lookup(local, key);
                        if let Ok(mut all) = results.lock() {
                            all[i] = r;
                        }
                        if breaker.settled() {
                            gate.open();
                        }
                    }
                    // No keys left: the threads still waiting have nothing to do.
                    gate.open();
                });
            }
        });
        results.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a built action's outputs (read from `local`) and entry for upload.
    pub fn upload(&self, local: &dyn Store, key: &Digest<ActionKey>, result: &ActionResult) {
        let Some(uploader) = &self.uploader else {
            return;
        };
        if !self.shared.breaker.allow() {
            return;
        }
        let mut outputs = Vec::with_capacity(result.outputs.len());
        for (name, d) in &result.outputs {
            let Some(data) = local.get_blob(d) else {
                tracing::debug!(key = %key.short(), output = %name, "output not local: not uploaded");
                return;
            };
            outputs.push((name.clone(), *d, data));
        }
        uploader.send(upload::Job {
            key: *key,
            outputs,
            warnings: result.warnings.clone(),
        });
    }

    /// Waits (bounded) for the uploads, adds this build's counters to the totals kept in
    /// `local`, and returns the warnings to print (at most one per kind of problem).
    pub fn finish(&self, local: &dyn Store) -> RemoteReport {
        let s = &*self.shared;
        let mut warnings = Vec::new();
        if let Some(u) = &self.uploader {
            let abandoned = u.flush(self.flush_timeout);
            if abandoned > 0 {
                warnings.push(format!(
                    "remote cache `{}`: {abandoned} uploads did not finish within {}s and were abandoned",
                    s.url,
                    self.flush_timeout.as_secs()
                ));
            }
        }
        let stats = s.counters.snapshot();
        let first_error = s.breaker.first_error.lock().ok().and_then(|f| f.clone());
        if let Some(first) = first_error {
            if s.breaker.allow() {
                warnings.push(format!(
                    "remote cache `{}`: {} requests failed (first: {first}); the build went on without them",
                    s.url, stats.errors
                ));
            } else {
                warnings.push(format!(
                    "remote cache `{}` is not usable: the rest of this build did not use it after {} failed requests (first: {first})",
                    s.url, stats.errors
                ));
            }
        }
        if let Some(first) = s.first_rejected.lock().ok().and_then(|f| f.clone()) {
            warnings.push(format!(
                "remote cache `{}`: {} downloads failed verification and were treated as misses, not kept (first: {first})",
                s.url, stats.rejected
            ));
        }
        let unsigned = s.unsigned.load(Ordering::Relaxed);
        if unsigned > 0 {
            warnings.push(format!(
                "remote cache `{}`: {unsigned} unsigned entries were ignored (`--require-signed`)",
                s.url
            ));
        }
        RemoteStats::record(local, &stats);
        RemoteReport { warnings, stats }
    }
}

/// Holds threads back until it opens (once, for good).
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Gate {
    fn wait(&self) {
        let Ok(mut open) = self.open.lock() else {
            return;
        };
        while !*open {
            match self.cv.wait(open) {
                Ok(g) => open = g,
                Err(_) => return,
            }
        }
    }
    fn open(&self) {
        if let Ok(mut open) = self.open.lock() {
            if !*open {
                *open = true;
                self.cv.notify_all();
            }
        }
    }
}

/// A backend that could not be created: every request fails with its error.
struct Broken(RemoteError);

impl Backend for Broken {
    fn get(&self, _: Area, _: &str, _: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        Err(self.0.clone())
    }
    fn put(&self, _: Area, _: &str, _: Vec<u8>) -> Result<(), RemoteError> {
        Err(self.0.clone())
    }
}

/// Lines about the remote cache for `wayfinder cache stats` (empty if it was never used).
pub fn stats_lines(local: &dyn Store) -> Vec<String> {
    let s = RemoteStats::load(local);
    if s.builds == 0 {
        return Vec::new();
    }
    vec![
        format!(
            "remote:  {} of {} lookups hit ({:.1}%) over {} builds",
            s.hits,
            s.lookups,
            s.hit_rate(),
            s.builds
        ),
        format!(
            "remote:  {} downloaded, {} uploaded ({} blobs, {} entries); {} failed requests, {} rejected downloads",
            human_bytes(s.bytes_down),
            human_bytes(s.bytes_up),
            s.blobs_up,
            s.entries_up,
            s.errors,
            s.rejected
        ),
    ]
}

#[cfg(test)]
mod tests;
