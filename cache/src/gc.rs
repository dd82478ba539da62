//! Cache statistics, verification and LRU garbage collection.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wayfinder_engine::{ActionKey, Blob, Digest};

use crate::local::{decode_ac, LocalCache, AC, CAS, STATE, TMP};

/// The default size cap of the local cache: 5 GiB.
pub const DEFAULT_MAX_SIZE: u64 = 5 << 30;

/// Leftover temp files (a killed build) older than this are removed by GC.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// Sizes of the cache areas.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CacheStats {
    pub blobs: u64,
    pub blob_bytes: u64,
    pub actions: u64,
    pub action_bytes: u64,
    pub state_bytes: u64,
    pub tmp_files: u64,
}

impl CacheStats {
    pub fn total_bytes(&self) -> u64 {
        self.blob_bytes + self.action_bytes + self.state_bytes
    }
}

/// What a GC removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GcReport {
    pub removed_entries: u64,
    pub removed_bytes: u64,
    pub removed_tmp: u64,
    pub remaining_bytes: u64,
}

/// What `verify` found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub checked: u64,
    /// Corrupt entries (removed when `repair` was set).
    pub corrupt: Vec<PathBuf>,
}

struct Entry {
    path: PathBuf,
    size: u64,
    mtime: SystemTime,
}

/// Every entry file of an area (`cas-v1` or `ac-v1`), with its name.
fn entries(area: &Path) -> Vec<(String, Entry)> {
    let mut out = Vec::new();
    let Ok(shards) = fs::read_dir(area) else {
        return out;
    };
    for shard in shards.flatten() {
        let Ok(files) = fs::read_dir(shard.path()) else {
            continue;
        };
        for f in files.flatten() {
            let Ok(meta) = f.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            out.push((
                f.file_name().to_string_lossy().into_owned(),
                Entry {
                    path: f.path(),
                    size: meta.len(),
                    mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                },
            ));
        }
    }
    out
}

fn dir_bytes(dir: &Path) -> (u64, u64) {
    let mut n = 0;
    let mut bytes = 0;
    if let Ok(rd) = fs::read_dir(dir) {
        for f in rd.flatten() {
            if let Ok(m) = f.metadata() {
                n += 1;
                bytes += m.len();
            }
        }
    }
    (n, bytes)
}

impl LocalCache {
    /// Counts entries and bytes.
    pub fn stats(&self) -> CacheStats {
        let blobs = entries(&self.root().join(CAS));
        let actions = entries(&self.root().join(AC));
        CacheStats {
            blobs: blobs.len() as u64,
            blob_bytes: blobs.iter().map(|(_, e)| e.size).sum(),
            actions: actions.len() as u64,
            action_bytes: actions.iter().map(|(_, e)| e.size).sum(),
            state_bytes: dir_bytes(&self.root().join(STATE)).1,
            tmp_files: dir_bytes(&self.root().join(TMP)).0,
        }
    }

    /// Removes the least recently used blobs and action results until the cache holds at most
    /// `max_bytes`, and temp files left by killed builds.
    ///
    /// Removing a blob an action result still names is safe: the engine treats an action
    /// result whose outputs are missing as a miss.
    pub fn gc(&self, max_bytes: u64) -> GcReport {
        let mut report = GcReport::default();
        let now = SystemTime::now();
        if let Ok(rd) = fs::read_dir(self.root().join(TMP)) {
            for f in rd.flatten() {
                let stale = f
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|m| now.duration_since(m).ok())
                    .is_some_and(|age| age > STALE_TMP);
                if stale && fs::remove_file(f.path()).is_ok() {
                    report.removed_tmp += 1;
                }
            }
        }
        let mut all: Vec<Entry> = entries(&self.root().join(CAS))
            .into_iter()
            .chain(entries(&self.root().join(AC)))
            .map(|(_, e)| e)
            .collect();
        let mut total: u64 = all.iter().map(|e| e.size).sum();
        all.sort_by_key(|e| e.mtime);
        for e in all {
            if total <= max_bytes {
                break;
            }
            if fs::remove_file(&e.path).is_ok() {
                total = total.saturating_sub(e.size);
                report.removed_entries += 1;
                report.removed_bytes += e.size;
            }
        }
        report.remaining_bytes = total;
        report
    }

    /// Runs [`LocalCache::gc`] with the default cap at most once a day (cheap otherwise).
    pub fn maybe_gc(&self) -> Option<GcReport> {
        let stamp = self.root().join(STATE).join("last-gc");
        let recent = fs::metadata(&stamp)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age < Duration::from_secs(86_400));
        if recent {
            return None;
        }
        let _ = fs::write(&stamp, b"");
        Some(self.gc(DEFAULT_MAX_SIZE))
    }

    /// Checks every entry; with `repair`, removes the corrupt ones.
    pub fn verify(&self, repair: bool) -> VerifyReport {
        let mut report = VerifyReport::default();
        for (name, e) in entries(&self.root().join(CAS)) {
            report.checked += 1;
            let ok = match (Digest::<Blob>::from_hex(&name), fs::read(&e.path)) {
                (Some(d), Ok(data)) => Digest::of(&data) == d,
                _ => false,
            };
            if !ok {
                report.corrupt.push(e.path);
            }
        }
        for (name, e) in entries(&self.root().join(AC)) {
            report.checked += 1;
            let ok = match (Digest::<ActionKey>::from_hex(&name), fs::read(&e.path)) {
                (Some(k), Ok(data)) => decode_ac(&k, &data).is_some(),
                _ => false,
            };
            if !ok {
                report.corrupt.push(e.path);
            }
        }
        report.corrupt.sort();
        if repair {
            for p in &report.corrupt {
                let _ = fs::remove_file(p);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wayfinder_engine::Store;

    #[test]
    fn gc_removes_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let c = LocalCache::open(dir.path()).unwrap();
        let old = c.put_blob(&[1u8; 1000]).unwrap();
        let new = c.put_blob(&[2u8; 1000]).unwrap();
        let past = SystemTime::now() - Duration::from_secs(100);
        fs::File::options()
            .write(true)
            .open(c.blob_path(&old))
            .unwrap()
            .set_modified(past)
            .unwrap();
        assert_eq!(c.stats().blobs, 2);
        let r = c.gc(1500);
        assert_eq!(r.removed_entries, 1);
        assert!(!c.has_blob(&old));
        assert!(c.has_blob(&new));
        assert_eq!(c.gc(10_000).removed_entries, 0);
    }

    #[test]
    fn verify_finds_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let c = LocalCache::open(dir.path()).unwrap();
        let d = c.put_blob(b"abc").unwrap();
        assert!(c.verify(false).corrupt.is_empty());
        fs::write(c.blob_path(&d), b"abd").unwrap();
        let r = c.verify(true);
        assert_eq!(r.corrupt.len(), 1);
        assert!(c.verify(false).corrupt.is_empty());
    }
}
