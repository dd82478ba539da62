//! The on-disk store: blobs (`cas-v1/`), action results (`ac-v1/`) and state (`state-v1/`).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use wayfinder_engine::{ActionKey, ActionResult, Blob, Digest, KeyHasher, Store, StoreError};

pub(crate) const CAS: &str = "cas-v1";
pub(crate) const AC: &str = "ac-v1";
pub(crate) const STATE: &str = "state-v1";
pub(crate) const TMP: &str = "tmp";

/// Reads refresh an entry's mtime when it is older than this (bounds the extra writes).
const TOUCH_AFTER: Duration = Duration::from_secs(3600);

/// The cache directory cannot be used.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CacheError {
    #[error("cache directory `{path}` is not writable: {message}")]
    #[diagnostic(
        code(wayfinder::cache::not_writable),
        help("choose another directory with `--cache-dir DIR` or `WAYFINDER_CACHE_DIR`, or fix its permissions")
    )]
    NotWritable { path: String, message: String },
}

/// A cache directory on the local disk.
pub struct LocalCache {
    root: PathBuf,
    counter: AtomicU64,
}

impl LocalCache {
    /// Opens (creating if needed) the cache at `root` and checks that it is writable.
    pub fn open(root: &Path) -> Result<LocalCache, CacheError> {
        let not_writable = |e: io::Error| CacheError::NotWritable {
            path: root.display().to_string(),
            message: e.to_string(),
        };
        for sub in [CAS, AC, STATE, TMP] {
            fs::create_dir_all(root.join(sub)).map_err(not_writable)?;
        }
        let cache = LocalCache {
            root: root.to_path_buf(),
            counter: AtomicU64::new(0),
        };
        // A real write proves the directory is usable (permissions, read-only mounts).
        let probe = cache.temp_path();
        File::create(&probe).map_err(not_writable)?;
        fs::remove_file(&probe).map_err(not_writable)?;
        let tag = root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let text = "Signature: 8a477f597d28d172789f06886806bc55\n# This is the Wayfinder build cache.\n";
            cache
                .write_atomic(&tag, text.as_bytes())
                .map_err(|e| not_writable(io::Error::other(e.message)))?;
        }
        Ok(cache)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blob_path(&self, d: &Digest<Blob>) -> PathBuf {
        entry_path(&self.root.join(CAS), &d.to_hex())
    }

    pub(crate) fn action_path(&self, k: &Digest<ActionKey>) -> PathBuf {
        entry_path(&self.root.join(AC), &k.to_hex())
    }

    fn temp_path(&self) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        self.root
            .join(TMP)
            .join(format!("{}-{n}-{nanos}.tmp", std::process::id()))
    }

    /// Writes `data` to `dest` through a fsynced temp file and a rename.
    pub(crate) fn write_atomic(&self, dest: &Path, data: &[u8]) -> Result<(), StoreError> {
        self.write_atomic_with(dest, data, true)
    }

    fn write_atomic_with(&self, dest: &Path, data: &[u8], sync: bool) -> Result<(), StoreError> {
        self.write_atomic_parts(dest, &[data], sync)
    }

    /// [`Self::write_atomic_with`] of the concatenation of `parts` (without copying them).
    fn write_atomic_parts(
        &self,
        dest: &Path,
        parts: &[&[u8]],
        sync: bool,
    ) -> Result<(), StoreError> {
        self.write_atomic_when(dest, parts, sync, &|| Ok(()))
    }

    /// [`Self::write_atomic_parts`] that renames into `dest` only once `ready` returns
    /// (its error leaves nothing behind).
    fn write_atomic_when(
        &self,
        dest: &Path,
        parts: &[&[u8]],
        sync: bool,
        ready: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let tmp = self.temp_path();
        let fail = |what: &str, p: &Path, e: io::Error| {
            StoreError::new(format!("cannot {what} `{}`: {e}", p.display()))
        };
        let result = (|| {
            let mut f = File::create(&tmp).map_err(|e| fail("create", &tmp, e))?;
            for part in parts {
                f.write_all(part).map_err(|e| fail("write", &tmp, e))?;
            }
            if sync {
                f.sync_all().map_err(|e| fail("sync", &tmp, e))?;
            }
            drop(f);
            ready()?;
            if let Err(e) = fs::rename(&tmp, dest) {
                if e.kind() != io::ErrorKind::NotFound {
                    return Err(fail("rename into", dest, e));
                }
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).map_err(|e| fail("create", parent, e))?;
                }
                fs::rename(&tmp, dest).map_err(|e| fail("rename into", dest, e))?;
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Reads a file and refreshes its mtime for LRU when it is old (one open, one stat).
    fn read_touch(&self, path: &Path) -> Option<Vec<u8>> {
        let mut f = File::open(path).ok()?;
        let meta = f.metadata().ok()?;
        let mut data = Vec::with_capacity(meta.len() as usize + 1);
        f.read_to_end(&mut data).ok()?;
        if is_old(&meta) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(data)
    }

    /// Writes an action-cache entry (body and trailer), renamed into place once `ready`.
    fn write_action(
        &self,
        key: &Digest<ActionKey>,
        result: &ActionResult,
        sync: bool,
        ready: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let body = result.encode();
        let trailer = ac_trailer(key, &body);
        self.write_atomic_when(&self.action_path(key), &[&body, &trailer], sync, ready)
    }

    /// Stores a blob unless it is there already (then it only counts as used).
    fn put_blob_with(&self, data: &[u8], sync: bool) -> Result<Digest<Blob>, StoreError> {
        let d = Digest::of(data);
        let path = self.blob_path(&d);
        if !keep_existing(&path) {
            self.write_atomic_with(&path, data, sync)?;
        }
        Ok(d)
    }

    /// Removes a corrupt entry (another process may have removed it first).
    fn discard(&self, path: &Path) {
        tracing::warn!(path = %path.display(), "corrupt cache entry removed");
        let _ = fs::remove_file(path);
    }

    fn state_path(&self, name: &str) -> PathBuf {
        // Names are chosen by callers; keep them to one safe path component.
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.root.join(STATE).join(safe)
    }
}

impl LocalCache {
    /// A state record: body + blake3 trailer, through a temp file and a rename.
    fn write_state(&self, name: &str, data: &[u8], sync: bool) -> Result<(), StoreError> {
        let trailer = state_trailer(data);
        let path = self.state_path(name);
        if !sync && data.len() >= UNLINK_BEFORE_REPLACE {
            // ext4 flushes a file's data when a rename replaces it (`auto_da_alloc`), which
            // costs milliseconds per megabyte. A large unsynced record may be lost anyway:
            // unlink the old one first, so readers see the old record, none, or the new one
            // (small records, such as the read-add-write remote stats, are replaced atomically).
            let _ = fs::remove_file(&path);
        }
        self.write_atomic_parts(&path, &[data, &trailer], sync)
    }
}

/// Unsynced state records at least this large are unlinked before being replaced.
const UNLINK_BEFORE_REPLACE: usize = 256 << 10;

pub(crate) fn entry_path(area: &Path, hex: &str) -> PathBuf {
    area.join(&hex[..2]).join(hex)
}

/// Whether the entry at `path` exists; an old one is touched, as a read would (putting what
/// a build still uses keeps it from garbage collection).
fn keep_existing(path: &Path) -> bool {
    let Ok(meta) = fs::metadata(path) else {
        return false;
    };
    if is_old(&meta) {
        if let Ok(f) = File::options().write(true).open(path) {
            let _ = f.set_modified(SystemTime::now());
        }
    }
    true
}

fn is_old(meta: &fs::Metadata) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > TOUCH_AFTER)
}

/// Checksum trailer of an action-cache entry: binds the body to its key.
pub(crate) fn ac_trailer(key: &Digest<ActionKey>, body: &[u8]) -> [u8; 32] {
    let mut h = KeyHasher::new("wayfinder-ac-entry");
    h.add(key).add(&body.len());
    let mut hasher = blake3::Hasher::new();
    hasher.update(h.finish::<Blob>().as_bytes());
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// Splits and checks an action-cache entry.
pub(crate) fn decode_ac(key: &Digest<ActionKey>, data: &[u8]) -> Option<ActionResult> {
    if data.len() < 32 {
        return None;
    }
    let (body, trailer) = data.split_at(data.len() - 32);
    if ac_trailer(key, body) != trailer {
        return None;
    }
    ActionResult::decode(body)
}

fn state_trailer(body: &[u8]) -> [u8; 32] {
    *blake3::hash(body).as_bytes()
}

impl Store for LocalCache {
    fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.put_blob_with(data, true)
    }

    fn put_blob_unsynced(&self, data: &[u8]) -> Result<Digest<Blob>, StoreError> {
        self.put_blob_with(data, false)
    }

    fn sync_blob(&self, digest: &Digest<Blob>) -> Result<(), StoreError> {
        let path = self.blob_path(digest);
        match File::open(&path).and_then(|f| f.sync_all()) {
            // Removed since (found corrupt, or collected): nothing to keep; reads miss it.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r.map_err(|e| StoreError::new(format!("cannot sync `{}`: {e}", path.display()))),
        }
    }

    fn get_blob(&self, digest: &Digest<Blob>) -> Option<Vec<u8>> {
        let path = self.blob_path(digest);
        let data = self.read_touch(&path)?;
        if Digest::of(&data) != *digest {
            self.discard(&path);
            return None;
        }
        Some(data)
    }

    fn has_blob(&self, digest: &Digest<Blob>) -> bool {
        self.blob_path(digest).is_file()
    }

    fn get_action(&self, key: &Digest<ActionKey>) -> Option<ActionResult> {
        let path = self.action_path(key);
        let data = self.read_touch(&path)?;
        let r = decode_ac(key, &data);
        if r.is_none() {
            self.discard(&path);
        }
        r
    }

    fn put_action(&self, key: &Digest<ActionKey>, result: &ActionResult) -> Result<(), StoreError> {
        self.write_action(key, result, true, &|| Ok(()))
    }

    fn put_action_when(
        &self,
        key: &Digest<ActionKey>,
        result: &ActionResult,
        ready: &dyn Fn() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.write_action(key, result, true, ready)
    }

    fn put_action_unsynced(
        &self,
        key: &Digest<ActionKey>,
        result: &ActionResult,
    ) -> Result<(), StoreError> {
        self.write_action(key, result, false, &|| Ok(()))
    }

    fn load_state(&self, name: &str) -> Option<Vec<u8>> {
        let mut data = fs::read(self.state_path(name)).ok()?;
        if data.len() < 32 {
            return None;
        }
        let body_len = data.len() - 32;
        if state_trailer(&data[..body_len]) != data[body_len..] {
            return None;
        }
        data.truncate(body_len);
        Some(data)
    }

    fn save_state(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.write_state(name, data, true)
    }

    fn save_state_unsynced(&self, name: &str, data: &[u8]) -> Result<(), StoreError> {
        self.write_state(name, data, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> (tempfile::TempDir, LocalCache) {
        let dir = tempfile::tempdir().unwrap();
        let c = LocalCache::open(&dir.path().join("c")).unwrap();
        (dir, c)
    }

    #[test]
    fn an_action_entry_is_published_only_when_ready_and_not_at_all_when_ready_fails() {
        let (_d, c) = cache();
        let key = Digest::<ActionKey>::from_bytes([7; 32]);
        let result = ActionResult::default();
        let seen = std::sync::atomic::AtomicBool::new(false);
        let err = c
            .put_action_when(&key, &result, &|| {
                // Written but not visible yet.
                seen.store(
                    c.get_action(&key).is_some(),
                    std::sync::atomic::Ordering::SeqCst,
                );
                Err(StoreError::new("a blob could not be synced"))
            })
            .unwrap_err();
        assert!(
            err.message.contains("could not be synced"),
            "{}",
            err.message
        );
        assert!(!seen.load(std::sync::atomic::Ordering::SeqCst));
        assert!(c.get_action(&key).is_none());
        let temps = fs::read_dir(c.root.join("tmp")).unwrap().count();
        assert_eq!(temps, 0, "a temp file was left behind");
        c.put_action_when(&key, &result, &|| Ok(())).unwrap();
        assert_eq!(c.get_action(&key), Some(result));
    }

    #[test]
    fn an_unsynced_blob_reads_back_and_syncs_and_a_removed_one_has_nothing_to_sync() {
        let (_d, c) = cache();
        let d = c.put_blob_unsynced(b"rendered").unwrap();
        assert_eq!(c.get_blob(&d).as_deref(), Some(&b"rendered"[..]));
        c.sync_blob(&d).unwrap();
        fs::remove_file(c.blob_path(&d)).unwrap();
        c.sync_blob(&d).unwrap();
        assert!(!c.has_blob(&d));
    }

    #[test]
    fn putting_an_old_blob_again_refreshes_it_for_gc() {
        let (_d, c) = cache();
        let d = c.put_blob_unsynced(b"segment").unwrap();
        let path = c.blob_path(&d);
        let long_ago = SystemTime::now() - Duration::from_secs(86_400);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        let mtime = || fs::metadata(&path).unwrap().modified().unwrap();
        assert!(mtime() <= long_ago);
        assert_eq!(c.put_blob_unsynced(b"segment").unwrap(), d);
        assert!(mtime() > long_ago + Duration::from_secs(3_600));
        assert_eq!(c.get_blob(&d).unwrap(), b"segment");
    }

    #[test]
    fn blobs_round_trip_and_corruption_is_a_miss() {
        let (_d, c) = cache();
        let d = c.put_blob(b"hello").unwrap();
        assert!(c.has_blob(&d));
        assert_eq!(c.get_blob(&d).unwrap(), b"hello");
        fs::write(c.blob_path(&d), b"hellO").unwrap();
        assert_eq!(c.get_blob(&d), None);
        assert!(!c.has_blob(&d), "corrupt entry is removed");
        c.put_blob(b"hello").unwrap();
        assert_eq!(c.get_blob(&d).unwrap(), b"hello");
    }

    #[test]
    fn action_entries_are_bound_to_their_key() {
        let (_d, c) = cache();
        let k1: Digest<ActionKey> = KeyHasher::new("t").add("1").finish();
        let k2: Digest<ActionKey> = KeyHasher::new("t").add("2").finish();
        let mut r = ActionResult::default();
        r.outputs.insert("manifest".into(), Digest::of(b"x"));
        c.put_action(&k1, &r).unwrap();
        assert_eq!(c.get_action(&k1), Some(r.clone()));
        // An entry copied under another key does not verify.
        fs::create_dir_all(c.action_path(&k2).parent().unwrap()).unwrap();
        fs::copy(c.action_path(&k1), c.action_path(&k2)).unwrap();
        assert_eq!(c.get_action(&k2), None);
        // A truncated entry is a miss.
        let data = fs::read(c.action_path(&k1)).unwrap();
        fs::write(c.action_path(&k1), &data[..data.len() - 3]).unwrap();
        assert_eq!(c.get_action(&k1), None);
    }

    #[test]
    fn state_round_trip() {
        let (_d, c) = cache();
        assert_eq!(c.load_state("ws/a b"), None);
        c.save_state("ws/a b", b"data").unwrap();
        assert_eq!(c.load_state("ws/a b").unwrap(), b"data");
        c.save_state_unsynced("ws/a b", b"quick").unwrap();
        assert_eq!(c.load_state("ws/a b").unwrap(), b"quick");
        let p = c.state_path("ws/a b");
        fs::write(&p, b"garbage that is long enough to have a trailer!!").unwrap();
        assert_eq!(c.load_state("ws/a b"), None);
    }

    #[test]
    fn unwritable_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "x").unwrap();
        // A path under a regular file can never be created.
        let err = LocalCache::open(&file.join("cache")).err().unwrap();
        assert!(err.to_string().contains("not writable"), "{err}");
    }

    #[test]
    fn concurrent_writers_agree() {
        let (_d, c) = cache();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for i in 0..50 {
                        c.put_blob(format!("blob {i}").as_bytes()).unwrap();
                    }
                });
            }
        });
        for i in 0..50 {
            let d = Digest::of(format!("blob {i}").as_bytes());
            assert!(c.get_blob(&d).is_some());
        }
        assert_eq!(fs::read_dir(c.root().join(TMP)).unwrap().count(), 0);
    }
}
