//! `wayfinder-cache`: the local content-addressed store, action cache and garbage collector.
//! It implements [`wayfinder_engine::Store`].
//!
//! The layout (every format carries its version in its directory name):
//!
//! ```text
//! <cache dir>/                     WAYFINDER_CACHE_DIR > --cache-dir > [cache] dir > XDG
//! ├── CACHEDIR.TAG                 so backup tools skip it
//! ├── cas-v1/ab/ab12…ef            blobs, named by the blake3 of their bytes
//! ├── ac-v1/cd/cd34…01             action results by action key: body + blake3 trailer
//! ├── state-v1/<name>              small records: stat caches, last builds (per workspace)
//! └── tmp/                         temp files, renamed into place (same file system)
//! ```
//!
//! [`remote`] adds the remote tier (HTTP cache or OCI registry) that CI runners share.
//!
//! Writes go to `tmp/`, are fsynced, then renamed: a reader sees a whole entry or none, and
//! concurrent builds writing the same entry write the same bytes. A build's output blobs are
//! the one exception: renamed at once (its next actions read them) and fsynced together at
//! the end of the build. The action cache entries that name them are written and fsynced
//! meanwhile, and renamed into place only once every such blob is durable. A crash in
//! between can cut such a blob short, which its read then finds corrupt: a miss. Every read is verified (a
//! blob against its name, an action result against its trailer); a corrupt entry is deleted
//! and reads as a miss. Reads refresh an entry's mtime (at most hourly) so [`LocalCache::gc`]
//! removes the least recently used entries first.
//!
//! ```no_run
//! use wayfinder_cache::LocalCache;
//! use wayfinder_engine::Store;
//! let cache = LocalCache::open(std::path::Path::new("/tmp/wf-cache")).unwrap();
//! let d = cache.put_blob(b"hello").unwrap();
//! assert_eq!(cache.get_blob(&d).as_deref(), Some(&b"hello"[..]));
//! ```

mod gc;
mod local;
mod location;
pub mod remote;

pub use gc::{CacheStats, GcReport, VerifyReport, DEFAULT_MAX_SIZE};
pub use local::{CacheError, LocalCache};
pub use location::{default_cache_dir, resolve_cache_dir, CacheDirSource};
pub use remote::{
    RemoteCache, RemoteOptions, RemoteReport, RemoteStats, RemoteUrl, RemoteUrlError,
};
