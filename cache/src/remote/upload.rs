//! The background uploader: a few threads take finished actions off a queue and upload their
//! output blobs (CAS) first and the action-cache entry last, so a reader never finds an entry
//! whose blobs are not there yet. The build never waits for them until [`Uploader::flush`],
//! which `finish` calls with a bound.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wayfinder_engine::{ActionKey, Blob, Digest};

use super::entry::{sha256_hex, Entry, OutputRef};
use super::stats::Counters;
use super::{Area, Shared};

/// Bytes queued for upload beyond which new uploads are dropped (memory bound).
const MAX_QUEUED_BYTES: u64 = 512 << 20;

/// One finished action to upload.
pub(crate) struct Job {
    pub key: Digest<ActionKey>,
    pub outputs: Vec<(String, Digest<Blob>, Vec<u8>)>,
    pub warnings: Vec<String>,
}

impl Job {
    fn bytes(&self) -> u64 {
        self.outputs.iter().map(|o| o.2.len() as u64).sum()
    }
}

pub(crate) struct Uploader {
    tx: Mutex<Option<Sender<Job>>>,
    pending: Arc<(Mutex<usize>, Condvar)>,
    queued_bytes: Arc<AtomicU64>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Uploader {
    pub(crate) fn start(shared: Arc<Shared>, threads: usize) -> Uploader {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let pending = Arc::new((Mutex::new(0usize), Condvar::new()));
        let queued_bytes = Arc::new(AtomicU64::new(0));
        let mut handles = Vec::new();
        for i in 0..threads.max(1) {
            let (rx, pending, shared, queued) = (
                Arc::clone(&rx),
                Arc::clone(&pending),
                Arc::clone(&shared),
                Arc::clone(&queued_bytes),
            );
            let spawned = std::thread::Builder::new()
                .name(format!("wayfinder-upload-{i}"))
                .spawn(move || worker(&rx, &pending, &shared, &queued));
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => tracing::debug!(error = %e, "cannot start an upload thread"),
            }
        }
        Uploader {
            tx: Mutex::new((!handles.is_empty()).then_some(tx)),
            pending,
            queued_bytes,
            threads: Mutex::new(handles),
        }
    }

    /// Queues a job; drops it when the queue holds too many bytes already.
    pub(crate) fn send(&self, job: Job) {
        let n = job.bytes();
        if self.queued_bytes.load(Ordering::Relaxed) + n > MAX_QUEUED_BYTES {
            tracing::debug!(key = %job.key.short(), "upload queue full: upload skipped");
            return;
        }
        let Ok(guard) = self.tx.lock() else { return };
        let Some(tx) = guard.as_ref() else { return };
        if let Ok(mut p) = self.pending.0.lock() {
            *p += 1;
        }
        self.queued_bytes.fetch_add(n, Ordering::Relaxed);
        if tx.send(job).is_err() {
            self.done_one(n);
        }
    }

    fn done_one(&self, bytes: u64) {
        finish_job(&self.pending, &self.queued_bytes, bytes);
    }

    /// Closes the queue and waits up to `bound` for the queued uploads; returns how many
    /// were abandoned (the threads are left to the end of the process).
    pub(crate) fn flush(&self, bound: Duration) -> usize {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let deadline = Instant::now() + bound;
        let (lock, cvar) = &*self.pending;
        let Ok(mut pending) = lock.lock() else {
            return 0;
        };
        while *pending > 0 {
            let now = Instant::now();
            if now >= deadline {
                return *pending;
            }
            match cvar.wait_timeout(pending, deadline - now) {
                Ok((guard, _)) => pending = guard,
                Err(_) => return 0,
            }
        }
        drop(pending);
        if let Ok(mut threads) = self.threads.lock() {
            for h in threads.drain(..) {
                let _ = h.join();
            }
        }
        0
    }
}

fn finish_job(pending: &(Mutex<usize>, Condvar), queued: &AtomicU64, bytes: u64) {
    queued.fetch_sub(bytes, Ordering::Relaxed);
    if let Ok(mut p) = pending.0.lock() {
        *p = p.saturating_sub(1);
    }
    pending.1.notify_all();
}

fn worker(
    rx: &Mutex<Receiver<Job>>,
    pending: &(Mutex<usize>, Condvar),
    shared: &Shared,
    queued: &AtomicU64,
) {
    loop {
        let job = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let bytes = job.bytes();
        upload(shared, job);
        finish_job(pending, queued, bytes);
    }
}

/// Uploads one action: blobs first, then the entry; stops at the first failure.
fn upload(shared: &Shared, job: Job) {
    let mut refs = Vec::with_capacity(job.outputs.len());
    for (name, blake3, data) in job.outputs {
        let sha256 = sha256_hex(&data);
        let size = data.len() as u64;
        let _claim = (!shared.is_known(&sha256)).then(|| shared.claim_upload(&sha256));
        if !shared.is_known(&sha256) {
            if !shared.breaker.allow() {
                return;
            }
            if shared
                .call(|| shared.backend.put(Area::Cas, &sha256, data))
                .is_none()
            {
                return;
            }
            Counters::bump(&shared.counters.bytes_up, size);
            Counters::bump(&shared.counters.blobs_up, 1);
            shared.mark_known(&sha256);
        }
        refs.push(OutputRef {
            name,
            sha256,
            blake3,
            size,
        });
    }
    let mut entry = Entry::new(job.key, refs, job.warnings);
    if let Some(secret) = &shared.signing_key {
        entry.sign(secret);
    }
    let body = entry.to_json();
    let size = body.len() as u64;
    if !shared.breaker.allow() {
        return;
    }
    if shared
        .call(|| shared.backend.put(Area::Ac, &job.key.to_hex(), body))
        .is_some()
    {
        Counters::bump(&shared.counters.bytes_up, size);
        Counters::bump(&shared.counters.entries_up, 1);
    }
}
