//! Counters of what the remote cache did: per build ([`Counters`], shared by threads) and
//! summed over builds in the local cache's state record `remote-stats-v1`
//! ([`RemoteStats`], shown by `wayfinder cache stats`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use wayfinder_engine::Store;

const STATE_NAME: &str = "remote-stats-v1";

/// What the remote cache did, in one build or summed over builds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RemoteStats {
    /// Builds that had a remote cache configured.
    pub builds: u64,
    /// Action-cache lookups sent to the remote (local misses).
    pub lookups: u64,
    /// Lookups served by the remote, verified and kept locally.
    pub hits: u64,
    /// Requests that failed (network, timeouts, HTTP errors).
    pub errors: u64,
    /// Downloads that failed verification (digest, size, format or signature).
    pub rejected: u64,
    pub bytes_down: u64,
    pub bytes_up: u64,
    pub blobs_up: u64,
    pub entries_up: u64,
}

impl RemoteStats {
    /// The totals recorded in `store`, or zeros.
    pub fn load(store: &dyn Store) -> RemoteStats {
        store
            .load_state(STATE_NAME)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Adds `this` build to the recorded totals (a lost race between two builds loses one
    /// build's counts: these are statistics, not accounts).
    pub fn record(store: &dyn Store, this: &RemoteStats) {
        let mut total = RemoteStats::load(store);
        total.add(this);
        if let Ok(bytes) = serde_json::to_vec(&total) {
            if let Err(e) = store.save_state_unsynced(STATE_NAME, &bytes) {
                tracing::debug!(error = %e.message, "cannot record remote cache statistics");
            }
        }
    }

    fn add(&mut self, o: &RemoteStats) {
        self.builds += o.builds;
        self.lookups += o.lookups;
        self.hits += o.hits;
        self.errors += o.errors;
        self.rejected += o.rejected;
        self.bytes_down += o.bytes_down;
        self.bytes_up += o.bytes_up;
        self.blobs_up += o.blobs_up;
        self.entries_up += o.entries_up;
    }

    /// Hits per lookup, in percent.
    pub fn hit_rate(&self) -> f64 {
        if self.lookups == 0 {
            0.0
        } else {
            100.0 * self.hits as f64 / self.lookups as f64
        }
    }

    /// One line for humans: hits, bytes both ways, problems.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{} of {} lookups hit ({:.1}%), {} downloaded, {} uploaded ({} blobs, {} entries)",
            self.hits,
            self.lookups,
            self.hit_rate(),
            human_bytes(self.bytes_down),
            human_bytes(self.bytes_up),
            self.blobs_up,
            self.entries_up
        );
        if self.errors > 0 || self.rejected > 0 {
            s.push_str(&format!(
                ", {} failed requests, {} rejected downloads",
                self.errors, self.rejected
            ));
        }
        s
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// The counters of one build, updated from many threads.
#[derive(Default)]
pub(crate) struct Counters {
    pub lookups: AtomicU64,
    pub hits: AtomicU64,
    pub errors: AtomicU64,
    pub rejected: AtomicU64,
    pub bytes_down: AtomicU64,
    pub bytes_up: AtomicU64,
    pub blobs_up: AtomicU64,
    pub entries_up: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> RemoteStats {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        RemoteStats {
            builds: 1,
            lookups: g(&self.lookups),
            hits: g(&self.hits),
            errors: g(&self.errors),
            rejected: g(&self.rejected),
            bytes_down: g(&self.bytes_down),
            bytes_up: g(&self.bytes_up),
            blobs_up: g(&self.blobs_up),
            entries_up: g(&self.entries_up),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wayfinder_engine::MemStore;

    #[test]
    fn totals_accumulate_across_builds() {
        let store = MemStore::new();
        assert_eq!(RemoteStats::load(&store), RemoteStats::default());
        let one = RemoteStats {
            builds: 1,
            lookups: 4,
            hits: 3,
            bytes_down: 2048,
            ..RemoteStats::default()
        };
        RemoteStats::record(&store, &one);
        RemoteStats::record(&store, &one);
        let total = RemoteStats::load(&store);
        assert_eq!((total.builds, total.lookups, total.hits), (2, 8, 6));
        assert_eq!(total.hit_rate(), 75.0);
        let line = total.describe();
        assert!(line.contains("6 of 8 lookups hit (75.0%)"), "{line}");
        assert!(line.contains("4.0 KiB downloaded"), "{line}");
    }

    #[test]
    fn garbage_state_reads_as_zero() {
        let store = MemStore::new();
        store.save_state(STATE_NAME, b"not json").unwrap();
        assert_eq!(RemoteStats::load(&store), RemoteStats::default());
    }
}
