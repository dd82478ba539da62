//! File digests through a persisted stat cache.
//!
//! A file whose `(size, mtime, ctime, inode)` match the last recorded entry keeps its recorded
//! digest: its contents are not read. An entry whose mtime lies within [`RACY_WINDOW_NS`] of
//! the moment the cache was loaded is "racy" (the file may change again within the same
//! timestamp tick) and is not persisted, so it is hashed again next time (git does the same).

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::codec::{Reader, Writer};
use crate::digest::{Blob, Digest};

/// Entries modified this close to the load time are not trusted next time.
pub const RACY_WINDOW_NS: i64 = 1_000_000_000;

const MAGIC: &str = "wayfinder-stat-cache-v1";

/// What identifies an unchanged file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl FileStamp {
    /// The stamp of `meta`.
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            FileStamp {
                size: meta.size(),
                mtime_ns: meta.mtime().saturating_mul(1_000_000_000) + meta.mtime_nsec(),
                ctime_ns: meta.ctime().saturating_mul(1_000_000_000) + meta.ctime_nsec(),
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as i64)
                .unwrap_or(0);
            FileStamp {
                size: meta.len(),
                mtime_ns,
                ctime_ns: 0,
                ino: 0,
            }
        }
    }
}

/// The persisted stat cache as read, searched in place: a run that digests a few files (a
/// partial build) does not decode thousands of entries to find them.
#[derive(Default)]
struct Persisted {
    data: Vec<u8>,
    /// Where each entry starts, in name order.
    entries: Vec<usize>,
}

/// Bytes of an entry after its name: size, mtime, ctime, inode, digest.
const ENTRY_TAIL: usize = 4 * 8 + 32;

impl Persisted {
    /// Indexes `data`; `None` when it is not a stat cache.
    fn index(data: Vec<u8>) -> Option<Persisted> {
        let mut r = Reader::new(&data);
        if r.str()? != MAGIC {
            return None;
        }
        let n = r.count(8 + ENTRY_TAIL)?;
        let mut entries = Vec::with_capacity(n);
        let mut sorted = true;
        let mut last: Option<&str> = None;
        for _ in 0..n {
            entries.push(data.len() - r.remaining());
            let name = r.str()?;
            sorted &= last.is_none_or(|l| l < name);
            last = Some(name);
            r.raw(ENTRY_TAIL)?;
        }
        if !r.is_empty() {
            return None;
        }
        let mut p = Persisted { data, entries };
        if !sorted {
            // Written by hand or by an older version: sort the index, drop repeated names.
            let mut entries = std::mem::take(&mut p.entries);
            entries.sort_by(|&a, &b| p.name_at(a).cmp(p.name_at(b)));
            entries.dedup_by(|a, b| p.name_at(*a) == p.name_at(*b));
            p.entries = entries;
        }
        Some(p)
    }

    /// The name of the entry at `at` (its bytes; the index checked they are UTF-8).
    fn name_at(&self, at: usize) -> &[u8] {
        Reader::new(&self.data[at..]).bytes().unwrap_or_default()
    }

    fn get(&self, name: &str) -> Option<(FileStamp, Digest<Blob>)> {
        let i = self
            .entries
            .binary_search_by(|&at| self.name_at(at).cmp(name.as_bytes()))
            .ok()?;
        let mut r = Reader::new(&self.data[self.entries[i]..]);
        r.bytes()?;
        let stamp = FileStamp {
            size: r.u64()?,
            mtime_ns: r.i64()?,
            ctime_ns: r.i64()?,
            ino: r.u64()?,
        };
        Some((stamp, r.digest()?))
    }
}

/// Digests files, reading only those whose stamp changed.
pub struct FileDigests {
    previous: Persisted,
    current: Mutex<HashMap<String, (FileStamp, Digest<Blob>)>>,
    /// Entries too recent to persist (see [`RACY_WINDOW_NS`]), kept for [`FileDigests::stamps`].
    racy: Mutex<HashMap<String, FileStamp>>,
    loaded_at_ns: i64,
    /// Files whose contents were read (for tests and benchmarks).
    pub files_read: AtomicU64,
    pub files_stat: AtomicU64,
}

/// A file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read `{path}`: {message}")]
pub struct FileError {
    pub path: String,
    pub message: String,
}

impl FileDigests {
    /// A digester starting from a persisted stat cache (empty or invalid bytes: empty cache).
    pub fn load(persisted: Option<Vec<u8>>) -> FileDigests {
        let previous = persisted.and_then(Persisted::index).unwrap_or_default();
        FileDigests {
            previous,
            current: Mutex::new(HashMap::new()),
            racy: Mutex::new(HashMap::new()),
            loaded_at_ns: now_ns(),
            files_read: AtomicU64::new(0),
            files_stat: AtomicU64::new(0),
        }
    }

    /// The digest of the file at `path`, recorded under `name` (a workspace-relative path).
    pub fn digest(&self, name: &str, path: &Path) -> Result<Digest<Blob>, FileError> {
        let err = |e: std::io::Error| FileError {
            path: name.to_string(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(path).map_err(err)?;
        self.files_stat.fetch_add(1, Ordering::Relaxed);
        let stamp = FileStamp::of(&meta);
        if let Some((s, d)) = self.previous.get(name) {
            if s == stamp {
                self.remember(name, stamp, d);
                return Ok(d);
            }
        }
        let data = std::fs::read(path).map_err(err)?;
        self.files_read.fetch_add(1, Ordering::Relaxed);
        let d = Digest::of(&data);
        // The file may have changed between stat and read: stamp it again, keep the new stamp
        // only if it still matches.
        if let Ok(m2) = std::fs::metadata(path) {
            if FileStamp::of(&m2) == stamp {
                self.remember(name, stamp, d);
            }
        }
        Ok(d)
    }

    /// Records a digest computed elsewhere (for files whose contents were read anyway).
    pub fn record(&self, name: &str, path: &Path, data: &[u8]) -> Digest<Blob> {
        let d = Digest::of(data);
        if let Ok(meta) = std::fs::metadata(path) {
            let stamp = FileStamp::of(&meta);
            if stamp.size == data.len() as u64 {
                self.remember(name, stamp, d);
            }
        }
        self.files_read.fetch_add(1, Ordering::Relaxed);
        d
    }

    /// The recorded digest of `name`, if its stamp still matches `stamp`.
    pub fn known(&self, name: &str, stamp: &FileStamp) -> Option<Digest<Blob>> {
        match self.previous.get(name) {
            Some((s, d)) if s == *stamp => Some(d),
            _ => None,
        }
    }

    fn remember(&self, name: &str, stamp: FileStamp, d: Digest<Blob>) {
        let racy = stamp.mtime_ns >= self.loaded_at_ns - RACY_WINDOW_NS
            || stamp.ctime_ns >= self.loaded_at_ns - RACY_WINDOW_NS;
        if racy {
            if let Ok(mut m) = self.racy.lock() {
                m.insert(name.to_string(), stamp);
            }
            return;
        }
        if let Ok(mut m) = self.current.lock() {
            m.insert(name.to_string(), (stamp, d));
        }
    }

    /// When this digester was created (the start of the run): a file whose mtime or ctime is
    /// later than this minus [`RACY_WINDOW_NS`] cannot be trusted by its stamp.
    pub fn loaded_at_ns(&self) -> i64 {
        self.loaded_at_ns
    }

    /// The stamp of every file digested in this run whose stamp was stable while it was read,
    /// racy ones included.
    pub fn stamps(&self) -> Vec<(String, FileStamp)> {
        let mut out: Vec<(String, FileStamp)> = self
            .current
            .lock()
            .map(|m| m.iter().map(|(k, (s, _))| (k.clone(), *s)).collect())
            .unwrap_or_default();
        if let Ok(r) = self.racy.lock() {
            out.extend(r.iter().map(|(k, s)| (k.clone(), *s)));
        }
        out
    }

    /// The stat cache to persist: the entries seen in this run.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_where(|_| true)
    }

    /// [`FileDigests::encode`] of the entries whose names `keep` accepts.
    pub fn encode_where(&self, keep: impl Fn(&str) -> bool) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(MAGIC);
        let Ok(m) = self.current.lock() else {
            return w.finish();
        };
        let mut names: Vec<&String> = m.keys().filter(|n| keep(n)).collect();
        names.sort();
        w.u64(names.len() as u64);
        for n in names {
            let (s, d) = &m[n];
            w.str(n)
                .u64(s.size)
                .i64(s.mtime_ns)
                .i64(s.ctime_ns)
                .u64(s.ino)
                .digest(d);
        }
        w.finish()
    }

    /// Has the set of recorded entries changed since load (worth persisting)?
    pub fn changed(&self) -> bool {
        let Ok(m) = self.current.lock() else {
            return true;
        };
        m.len() != self.previous.entries.len()
            || m.iter()
                .any(|(k, v)| self.previous.get(k).is_none_or(|p| p != *v))
    }

    /// The stat cache as it was loaded (to skip rewriting an unchanged one).
    pub fn persisted(&self) -> Option<&[u8]> {
        (!self.previous.data.is_empty()).then_some(self.previous.data.as_slice())
    }
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn age(path: &Path) {
        // Move mtime out of the racy window.
        let old = SystemTime::now() - std::time::Duration::from_secs(10);
        let f = std::fs::File::options().write(true).open(path).unwrap();
        f.set_modified(old).unwrap();
    }

    #[test]
    fn unchanged_files_are_not_read_again() {
        let dir = std::env::temp_dir().join(format!("wf-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.yaml");
        std::fs::write(&p, "a: 1\n").unwrap();
        age(&p);
        let fd = FileDigests::load(None);
        let d1 = fd.digest("a.yaml", &p).unwrap();
        assert_eq!(fd.files_read.load(Ordering::Relaxed), 1);
        let saved = fd.encode();
        // ctime is now too recent (set_modified changes it) only if within the window; the
        // test sleeps past nothing, so accept either outcome but require correctness.
        let fd2 = FileDigests::load(Some(saved.clone()));
        assert_eq!(fd2.digest("a.yaml", &p).unwrap(), d1);
        std::fs::write(&p, "a: 2\n").unwrap();
        let fd3 = FileDigests::load(Some(saved));
        let d3 = fd3.digest("a.yaml", &p).unwrap();
        assert_ne!(d3, d1);
        assert_eq!(fd3.files_read.load(Ordering::Relaxed), 1);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn entries_are_found_in_any_order_and_repeats_resolve_to_one() {
        let stamp = |n: u64| FileStamp {
            size: n,
            mtime_ns: 1,
            ctime_ns: 2,
            ino: n,
        };
        let mut w = Writer::new();
        w.str(MAGIC).u64(4);
        for (name, n) in [("z.yaml", 1), ("a.yaml", 2), ("m/b.yaml", 3), ("a.yaml", 2)] {
            let s = stamp(n);
            w.str(name)
                .u64(s.size)
                .i64(s.mtime_ns)
                .i64(s.ctime_ns)
                .u64(s.ino)
                .digest(&Digest::<Blob>::of(name.as_bytes()));
        }
        let fd = FileDigests::load(Some(w.finish()));
        for (name, n) in [("z.yaml", 1), ("a.yaml", 2), ("m/b.yaml", 3)] {
            assert_eq!(
                fd.known(name, &stamp(n)),
                Some(Digest::of(name.as_bytes())),
                "{name}"
            );
        }
        assert_eq!(fd.known("b.yaml", &stamp(3)), None);
        assert_eq!(fd.known("z.yaml", &stamp(2)), None);
        // A cache cut short is no cache.
        let mut short = FileDigests::load(None).encode();
        short.truncate(short.len() - 1);
        assert!(FileDigests::load(Some(short)).persisted().is_none());
    }

    #[test]
    fn garbage_cache_is_empty() {
        let fd = FileDigests::load(Some(b"nonsense".to_vec()));
        assert!(!fd.changed());
        assert!(fd.encode().len() > 8);
    }
}
