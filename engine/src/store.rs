//! The storage the engine needs, as traits: a blob store (CAS), an action cache
//! (key → [`ActionResult`]) and small named state records. `wayfinder-cache` implements them on
//! disk; [`MemStore`] implements them in memory for tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use crate::codec::{Reader, Writer};
use crate::digest::{Action, Blob, Digest};

/// What an action produced: named output digests (the bytes live in the blob store) and
/// warnings to repeat whenever the result is reused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionResult {
    pub outputs: BTreeMap<String, Digest<Blob>>,
    pub warnings: Vec<String>,
}

impl ActionResult {
    /// The canonical encoding stored in the action cache.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str("wayfinder-action-result-v1");
        w.u64(self.outputs.len() as u64);
        for (name, d) in &self.outputs {
            w.str(name).digest(d);
        }
        w.u64(self.warnings.len() as u64);
        for m in &self.warnings {
            w.str(m);
        }
        w.finish()
    }

    /// Decodes [`ActionResult::encode`]'s bytes; `None` if they are not exactly that.
    pub fn decode(data: &[u8]) -> Option<ActionResult> {
        let mut r = Reader::new(data);
        if r.str()? != "wayfinder-action-result-v1" {
            return None;
        }
        let mut out = ActionResult::default();
        for _ in 0..r.count(40)? {
            let name = r.str()?.to_string();
            let d = r.digest()?;
            out.outputs.insert(name, d);
        }
        for _ in 0..r.count(8)? {
            out.warnings.push(r.str()?.to_string());
        }
        r.is_empty().then_some(out)
    }
}

/// A storage failure (the disk is full, the directory is not writable…).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub message: String,
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
        }
    }
}

/// Where an action-cache hit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The local cache.
    Local,
    /// A remote cache (its blobs are now in the local cache too).
    Remote,
}

/// Content-addressed blobs, the action cache and named state records.
///
/// Reads are verified by the implementation: a corrupt entry reads as absent.
pub trait Store: Send + Sync {
    fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError>;
    /// Stores a blob without waiting for the disk: one whose loss is harmless (explain
    /// records), or one [`Store::sync_blob`] makes durable later (a build's outputs, before
    /// the action cache entry that names them). The implementation may skip the fsync;
    /// reads still verify it, so a blob a crash cut short is a miss, never a wrong output.
    fn put_blob_unsynced(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.put_blob(data)
    }
    /// Makes a blob stored by [`Store::put_blob_unsynced`] durable (what [`Store::put_blob`]
    /// does at once). The default has nothing to do: its unsynced put is a synced one.
    fn sync_blob(&self, digest: &Digest<Blob>) -> Result<(), StoreError> {
        let _ = digest;
        Ok(())
    }
    fn get_blob(&self, digest: &Digest<Blob>) -> Option<Vec<u8>>;
    fn has_blob(&self, digest: &Digest<Blob>) -> bool;
    fn get_action(&self, key: &Digest<Action>) -> Option<ActionResult>;
    /// [`Store::get_action`] that also says where the hit came from. A store with a remote
    /// tier returns a remote hit only once every output blob has been fetched, verified and
    /// kept locally.
    fn lookup_action(&self, key: &Digest<Action>) -> Option<(ActionResult, Origin)> {
        self.get_action(key).map(|r| (r, Origin::Local))
    }
    fn put_action(&self, key: &Digest<Action>, result: &ActionResult) -> Result<(), StoreError>;
    /// [`Store::put_action`] of an entry that must not be visible before `ready` returns
    /// (the blobs it names are being made durable meanwhile). The implementation may write
    /// and sync the entry's own bytes first, beside what `ready` waits for, and publish them
    /// after it. An error of `ready` is returned, and nothing is stored.
    fn put_action_when(
        &self,
        key: &Digest<Action>,
        result: &ActionResult,
        ready: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        ready()?;
        self.put_action(key, result)
    }
    /// Stores an action result whose loss only costs speed (a copy of a remote hit, which
    /// the remote still holds): the implementation may skip the fsync. Reads still verify it.
    fn put_action_unsynced(
        &self,
        key: &Digest<Action>,
        result: &ActionResult,
    ) -> Result<(), StoreError> {
        self.put_action(key, result)
    }
    /// A hint from the scheduler: these keys are looked up next (one level of the graph, the
    /// actions its memo does not know). A store with a remote tier may fetch them in
    /// parallel now, so the [`Store::lookup_action`] calls that follow are local. The
    /// default does nothing.
    fn prefetch(&self, keys: &[Digest<Action>]) {
        let _ = keys;
    }
    /// A small named record (stat cache, last build), or `None`.
    fn load_state(&self, name: &str) -> Option<Vec<u8>>;
    fn save_state(&self, name: &str, data: &[u8]) -> Result<(), StoreError>;
    /// Saves a state record whose loss only costs speed (it is verified on load): the
    /// implementation may skip the fsync.
    fn save_state_unsynced(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.save_state(name, data)
    }
}

/// An in-memory [`Store`] for tests.
#[derive(Default)]
pub struct MemStore {
    blobs: Mutex<HashMap<Digest<Blob>, Vec<u8>>>,
    actions: Mutex<HashMap<Digest<Action>, ActionResult>>,
    state: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemStore {
    pub fn new() -> MemStore {
        MemStore::default()
    }
    /// Number of action cache entries.
    pub fn action_count(&self) -> usize {
        self.actions.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl Store for MemStore {
    fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        let d = Digest::of(data);
        if let Ok(mut m) = self.blobs.lock() {
            m.insert(d, data.to_vec());
        }
        Ok(d)
    }
    fn get_blob(&self, digest: &Digest<Blob>) -> Option<Vec<u8>> {
        self.blobs.lock().ok()?.get(digest).cloned()
    }
    fn has_blob(&self, digest: &Digest<Blob>) -> bool {
        self.blobs
            .lock()
            .map(|m| m.contains_key(digest))
            .unwrap_or(false)
    }
    fn get_action(&self, key: &Digest<Action>) -> Option<ActionResult> {
        self.actions.lock().ok()?.get(key).cloned()
    }
    fn put_action(&self, key: &Digest<Action>, result: &ActionResult) -> Result<(), StoreError> {
        if let Ok(mut m) = self.actions.lock() {
            m.insert(*key, result.clone());
        }
        Ok(())
    }
    fn load_state(&self, name: &str) -> Option<Vec<u8>> {
        self.state.lock().ok()?.get(name).cloned()
    }
    fn save_state(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        if let Ok(mut m) = self.state.lock() {
            m.insert(name.to_string(), data.to_vec());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_result_round_trip() {
        let mut r = ActionResult::default();
        r.outputs.insert("manifest".into(), Digest::of(b"a"));
        r.warnings.push("nondeterministic".into());
        let bytes = r.encode();
        assert_eq!(ActionResult::decode(&bytes), Some(r));
        assert_eq!(ActionResult::decode(&bytes[..bytes.len() - 1]), None);
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(ActionResult::decode(&extra), None);
    }
}
