//! The store a build uses: the local cache, plus the remote cache when one is configured
//! (`--remote-cache`, `[cache] remote`; DESIGN §6).

use wayfinder_cache::LocalCache;
use wayfinder_engine::{ActionKey, ActionResult, Blob, Digest, Store, StoreError};
use wayfinder_rules::WorkspaceDecl;

use crate::cli::Cli;

/// The local cache with an optional remote tier.
pub(crate) struct BuildStore<'a> {
    local: &'a LocalCache,
}

impl<'a> BuildStore<'a> {
    /// Opens the remote tier the flags and `workspace.toml` ask for (none yet).
    pub(crate) fn open(
        _args: &Cli,
        _decl: &WorkspaceDecl,
        local: &'a LocalCache,
    ) -> Result<BuildStore<'a>, u8> {
        Ok(BuildStore { local })
    }

    /// Waits for pending uploads and reports what the remote did (nothing yet).
    pub(crate) fn finish(&self) {}
}

/// Lines about the remote cache for `wayfinder cache stats`.
pub(crate) fn stats_lines(_local: &LocalCache) -> Vec<String> {
    Vec::new()
}

impl Store for BuildStore<'_> {
    fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.local.put_blob(data)
    }
    fn put_blob_unsynced(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.local.put_blob_unsynced(data)
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
    fn put_action(&self, key: &Digest<ActionKey>, result: &ActionResult) -> Result<(), StoreError> {
        self.local.put_action(key, result)
    }
    fn load_state(&self, name: &str) -> Option<Vec<u8>> {
        self.local.load_state(name)
    }
    fn save_state(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.local.save_state(name, data)
    }
}
