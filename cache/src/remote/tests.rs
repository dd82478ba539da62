//! Unit tests of the remote tier over an in-memory backend with injectable faults.

use std::collections::HashMap;
use std::sync::atomic::AtomicUsize;

use wayfinder_engine::{KeyHasher, MemStore};

use super::*;

#[derive(Default)]
struct MemBackend {
    data: Mutex<HashMap<(Area, String), Vec<u8>>>,
    puts: Mutex<Vec<(Area, String)>>,
    calls: AtomicUsize,
    fail: AtomicBool,
}

impl MemBackend {
    fn corrupt_all(&self, area: Area) {
        for ((a, _), v) in self.data.lock().unwrap().iter_mut() {
            if *a == area {
                v[0] ^= 1;
            }
        }
    }
    fn remove_all(&self, area: Area) {
        self.data.lock().unwrap().retain(|(a, _), _| *a != area);
    }
}

impl Backend for Arc<MemBackend> {
    fn get(&self, area: Area, name: &str, _: u64) -> Result<Option<Vec<u8>>, RemoteError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(RemoteError::new("GET answered 500 Internal Server Error"));
        }
        Ok(self
            .data
            .lock()
            .unwrap()
            .get(&(area, name.to_string()))
            .cloned())
    }
    fn put(&self, area: Area, name: &str, data: Vec<u8>) -> Result<(), RemoteError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(RemoteError::new("PUT answered 500 Internal Server Error"));
        }
        self.puts.lock().unwrap().push((area, name.to_string()));
        self.data
            .lock()
            .unwrap()
            .insert((area, name.to_string()), data);
        Ok(())
    }
}

fn opts() -> RemoteOptions {
    RemoteOptions::new(RemoteUrl::parse("http://127.0.0.1:1/test", "").unwrap())
}

fn remote(b: &Arc<MemBackend>, o: RemoteOptions) -> RemoteCache {
    RemoteCache::with_backend(Box::new(Arc::clone(b)), o)
}

fn key(n: u32) -> Digest<ActionKey> {
    KeyHasher::new("test").add(&n.to_string()).finish()
}

/// Builds action `n` in `store` (two outputs) and uploads it through `r`.
fn build(store: &MemStore, r: &RemoteCache, n: u32) -> ActionResult {
    let mut result = ActionResult::default();
    for out in ["manifest", "notes"] {
        let d = store
            .put_blob(format!("{out} of action {n}").as_bytes())
            .unwrap();
        result.outputs.insert(out.to_string(), d);
    }
    result.warnings.push(format!("warning {n}"));
    store.put_action(&key(n), &result).unwrap();
    r.upload(store, &key(n), &result);
    result
}

/// Runner A builds and uploads `n` actions.
fn runner_a(b: &Arc<MemBackend>, o: RemoteOptions, n: u32) -> Vec<ActionResult> {
    let store = MemStore::new();
    let r = remote(b, o);
    let results = (0..n).map(|i| build(&store, &r, i)).collect();
    let report = r.finish(&store);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    results
}

#[test]
fn a_fresh_runner_gets_verified_hits() {
    let b = Arc::new(MemBackend::default());
    let results = runner_a(&b, opts(), 5);
    let fresh = MemStore::new();
    let r = remote(&b, opts());
    for (i, want) in results.iter().enumerate() {
        let got = r.lookup(&fresh, &key(i as u32)).expect("remote hit");
        assert_eq!(&got, want);
        for d in got.outputs.values() {
            assert!(fresh.has_blob(d), "blobs are local after a hit");
        }
        assert_eq!(fresh.get_action(&key(i as u32)).as_ref(), Some(want));
    }
    assert!(r.lookup(&fresh, &key(99)).is_none(), "unknown key: miss");
    let report = r.finish(&fresh);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!((report.stats.lookups, report.stats.hits), (6, 5));
    assert!(report.stats.bytes_down > 0);
    assert_eq!(RemoteStats::load(&fresh).hits, 5);
}

#[test]
fn blobs_go_up_before_their_entry() {
    let b = Arc::new(MemBackend::default());
    runner_a(&b, opts(), 3);
    let puts = b.puts.lock().unwrap().clone();
    assert_eq!(puts.len(), 9, "2 blobs + 1 entry per action: {puts:?}");
    for (i, (area, name)) in puts.iter().enumerate() {
        if *area == Area::Ac {
            let entry = Entry::from_json(
                &b.data.lock().unwrap()[&(Area::Ac, name.clone())],
                &Digest::from_hex(name).unwrap(),
            )
            .unwrap();
            for o in &entry.outputs {
                let at = puts
                    .iter()
                    .position(|p| p == &(Area::Cas, o.sha256.clone()));
                assert!(
                    at.is_some_and(|at| at < i),
                    "blob after its entry: {puts:?}"
                );
            }
        }
    }
}

#[test]
fn corrupt_blobs_are_misses_and_never_kept() {
    let b = Arc::new(MemBackend::default());
    let results = runner_a(&b, opts(), 4);
    b.corrupt_all(Area::Cas);
    let fresh = MemStore::new();
    let r = remote(&b, opts());
    for i in 0..4 {
        assert!(r.lookup(&fresh, &key(i)).is_none());
    }
    for res in &results {
        for d in res.outputs.values() {
            assert!(!fresh.has_blob(d));
        }
    }
    assert_eq!(fresh.action_count(), 0);
    let report = r.finish(&fresh);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("4 downloads failed verification"));
    assert!(
        r.shared.breaker.allow(),
        "corruption is not an availability failure"
    );
}

#[test]
fn corrupt_or_foreign_entries_are_misses() {
    let b = Arc::new(MemBackend::default());
    runner_a(&b, opts(), 2);
    // Entry 0 copied under key 1: bound to its key, so rejected.
    let e0 = b.data.lock().unwrap()[&(Area::Ac, key(0).to_hex())].clone();
    b.data
        .lock()
        .unwrap()
        .insert((Area::Ac, key(1).to_hex()), e0);
    let fresh = MemStore::new();
    let r = remote(&b, opts());
    assert!(r.lookup(&fresh, &key(1)).is_none());
    b.corrupt_all(Area::Ac);
    assert!(r.lookup(&fresh, &key(0)).is_none());
    assert_eq!(r.finish(&fresh).stats.rejected, 2);
}

#[test]
fn an_entry_naming_a_missing_blob_is_a_quiet_miss() {
    let b = Arc::new(MemBackend::default());
    runner_a(&b, opts(), 1);
    b.remove_all(Area::Cas);
    let fresh = MemStore::new();
    let r = remote(&b, opts());
    assert!(r.lookup(&fresh, &key(0)).is_none());
    assert_eq!(fresh.action_count(), 0);
    let report = r.finish(&fresh);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn a_failing_remote_trips_the_breaker_with_one_warning() {
    let b = Arc::new(MemBackend::default());
    b.fail.store(true, Ordering::SeqCst);
    let store = MemStore::new();
    let r = remote(&b, opts());
    for i in 0..50 {
        assert!(r.lookup(&store, &key(i)).is_none());
        build(&store, &r, i);
    }
    let report = r.finish(&store);
    let calls = b.calls.load(Ordering::SeqCst);
    assert!(
        calls <= BREAK_AFTER_TOTAL as usize,
        "the remote was left alone after the breaker opened: {calls} calls"
    );
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("not usable"),
        "{:?}",
        report.warnings
    );
    assert!(report.warnings[0].contains("500"), "{:?}", report.warnings);
}

#[test]
fn read_only_uploads_nothing() {
    let b = Arc::new(MemBackend::default());
    let mut o = opts();
    o.write = false;
    let store = MemStore::new();
    let r = remote(&b, o);
    assert!(!r.writes());
    build(&store, &r, 1);
    r.finish(&store);
    assert!(b.puts.lock().unwrap().is_empty());
}

#[test]
fn signatures_are_checked() {
    let b = Arc::new(MemBackend::default());
    let mut signed = opts();
    signed.signing_key = Some(b"team secret".to_vec());
    runner_a(&b, signed.clone(), 2);

    // The same key: hits, also when signatures are required.
    let mut strict = signed.clone();
    strict.require_signed = true;
    let fresh = MemStore::new();
    let r = remote(&b, strict.clone());
    assert!(r.lookup(&fresh, &key(0)).is_some());

    // Another key: a bad signature is a miss.
    let mut other = strict.clone();
    other.signing_key = Some(b"another".to_vec());
    let fresh = MemStore::new();
    let r = remote(&b, other);
    assert!(r.lookup(&fresh, &key(0)).is_none());
    assert_eq!(r.finish(&fresh).stats.rejected, 1);

    // Unsigned entries: hits normally, misses when signatures are required.
    let b = Arc::new(MemBackend::default());
    runner_a(&b, opts(), 1);
    let fresh = MemStore::new();
    let r = remote(&b, strict);
    assert!(r.lookup(&fresh, &key(0)).is_none());
    let report = r.finish(&fresh);
    assert!(
        report.warnings[0].contains("unsigned"),
        "{:?}",
        report.warnings
    );
    let fresh = MemStore::new();
    assert!(remote(&b, opts()).lookup(&fresh, &key(0)).is_some());
}

#[test]
fn stats_lines_appear_once_the_remote_was_used() {
    let store = MemStore::new();
    assert!(stats_lines(&store).is_empty());
    let b = Arc::new(MemBackend::default());
    let r = remote(&b, opts());
    build(&store, &r, 1);
    r.finish(&store);
    let lines = stats_lines(&store).join("\n");
    assert!(lines.contains("0 of 0 lookups hit"), "{lines}");
    assert!(lines.contains("(2 blobs, 1 entries)"), "{lines}");
}

#[test]
fn lookup_many_answers_each_key_in_order() {
    let b = Arc::new(MemBackend::default());
    let results = runner_a(&b, opts(), 20);
    let fresh = MemStore::new();
    let r = remote(&b, opts());
    // Hits and misses interleaved: keys 0..20 exist, 100.. do not.
    let keys: Vec<_> = (0..20).flat_map(|i| [key(i), key(100 + i)]).collect();
    let got = r.lookup_many(&fresh, &keys);
    assert_eq!(got.len(), keys.len());
    for (i, want) in results.iter().enumerate() {
        assert_eq!(got[2 * i].as_ref(), Some(want), "key {i}");
        assert!(got[2 * i + 1].is_none(), "key {} is a miss", 100 + i);
        for d in want.outputs.values() {
            assert!(fresh.has_blob(d), "blobs are local after a hit");
        }
        assert_eq!(fresh.get_action(&key(i as u32)).as_ref(), Some(want));
    }
    let report = r.finish(&fresh);
    assert_eq!((report.stats.lookups, report.stats.hits), (40, 20));
}

#[test]
fn lookup_many_against_a_failing_remote_is_bounded() {
    let b = Arc::new(MemBackend::default());
    b.fail.store(true, Ordering::SeqCst);
    let store = MemStore::new();
    let r = remote(&b, opts());
    let keys: Vec<_> = (0..200).map(key).collect();
    assert!(r.lookup_many(&store, &keys).iter().all(Option::is_none));
    let calls = b.calls.load(Ordering::SeqCst);
    assert!(
        calls <= BREAK_AFTER_TOTAL as usize,
        "no storm of requests before the breaker opened: {calls} calls"
    );
    let report = r.finish(&store);
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(report.warnings[0].contains("not usable"));
}
