//! The scheduler: runs a [`Plan`] level by level, in parallel, with early cutoff and dedupe.
//!
//! 1. The plan's graph is split into levels (every action after its dependencies).
//! 2. In a level, each action whose dependencies all succeeded computes its [`KeyInputs`] from
//!    its dependencies' *outputs* and so its key. A failed dependency makes it `skipped`.
//! 3. Actions with equal keys are grouped: one runs, the others share its result (`cached`).
//! 4. For each key: the caller's [`Memo`] (last build), then the action cache; a hit whose
//!    output blobs are all present is `cached`. Otherwise the action runs (on a rayon pool of
//!    `jobs` threads), its outputs go to the blob store and its result to the action cache.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use rayon::prelude::*;

use crate::digest::{Action as ActionKind, Blob, Digest};
use crate::graph::{BuildGraph, CycleError};
use crate::key::KeyInputs;
use crate::store::{ActionResult, Origin, Store};

/// The outputs of an action's dependencies, by target name.
pub type DepOutputs<'a> = BTreeMap<&'a str, &'a ActionResult>;

/// What an action returns when it runs.
#[derive(Default, Debug)]
pub struct Produced {
    /// Named output bytes; the engine stores them and records their digests.
    pub outputs: Vec<(String, Vec<u8>)>,
    /// Named outputs that are already in the store (an upstream action's output, reused).
    pub refs: Vec<(String, Digest<Blob>)>,
    pub warnings: Vec<String>,
}

/// An action failure: its message is shown as is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ActionError {
    pub message: String,
}

impl ActionError {
    pub fn new(message: impl Into<String>) -> ActionError {
        ActionError {
            message: message.into(),
        }
    }
}

/// One cacheable step of the build.
pub trait Action: Send + Sync {
    /// The action kind (`render`, `chart`…): the `kind` of the summary.
    fn kind(&self) -> &str;
    /// What feeds the key. Must be cheap: no file contents, only digests.
    fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError>;
    /// Whether results go to the action cache. An action cheaper to run than an fsynced
    /// cache write (assembling references to other outputs) says `false`: it still reuses the
    /// last build's result through the [`Memo`].
    fn cacheable(&self) -> bool {
        true
    }
    /// Does the work.
    fn run(&self, deps: &DepOutputs<'_>, store: &dyn Store) -> Result<Produced, ActionError>;
}

/// A graph of targets, each with its action.
#[derive(Default)]
pub struct Plan {
    pub graph: BuildGraph,
    pub actions: HashMap<String, Box<dyn Action>>,
}

impl Plan {
    pub fn new() -> Plan {
        Plan::default()
    }
    /// Adds `target` with its action and the targets it needs.
    pub fn add(&mut self, target: &str, action: Box<dyn Action>, needs: &[String]) {
        self.graph.add_node(target);
        for n in needs {
            self.graph.add_edge(target, n);
        }
        self.actions.insert(target.to_string(), action);
    }
}

/// The last build's results, consulted before the action cache (no I/O when keys match).
pub trait Memo: Sync {
    fn recall(&self, target: &str, key: &Digest<ActionKind>) -> Option<ActionResult>;
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Built,
    Cached,
    RemoteCached,
    Failed,
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Built => "built",
            Status::Cached => "cached",
            Status::RemoteCached => "remote-cached",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The record of one action in a build.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub target: String,
    pub kind: String,
    pub key: Option<Digest<ActionKind>>,
    pub status: Status,
    pub duration_ms: u64,
    pub inputs: BTreeMap<String, Digest<Blob>>,
    pub result: Option<ActionResult>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

/// Execution options.
#[derive(Default)]
pub struct ExecOptions<'a> {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    pub memo: Option<&'a dyn Memo>,
    /// Called after every action (from worker threads).
    pub on_outcome: Option<&'a (dyn Fn(&Outcome) + Sync)>,
    /// Where action cache entries go instead of the store, with the fsyncs of the output
    /// blobs (stored at once, unsynced: later actions read them): the caller makes them
    /// durable at the end with [`Deferred::store`], so no action waits for the disk.
    pub defer_action_cache: Option<&'a Deferred>,
}

/// What a build defers to its end (see [`ExecOptions::defer_action_cache`]): its action
/// results, and the fsyncs of the output blobs it wrote, which later actions read at once.
#[derive(Default)]
pub struct Deferred {
    actions: std::sync::Mutex<Vec<(String, Digest<ActionKind>, ActionResult)>>,
    blobs: std::sync::Mutex<Vec<(String, Digest<Blob>)>>,
}

impl Deferred {
    /// Number of action results waiting.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.actions.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// Makes the blobs durable and stores the action results, each on `threads` threads:
    /// fsyncs in flight together share the filesystem's journal commits. The results are
    /// written and synced beside the blobs' syncs, but published only once every blob is
    /// durable (an entry never names a blob that a crash could lose). The first failure,
    /// naming its target, is the error (a blob's before a result's).
    pub fn store(self, store: &dyn Store, threads: usize) -> Result<(), String> {
        let mut blobs = self.blobs.into_inner().unwrap_or_default();
        // Many actions may produce one blob (every cluster's identical kustomization).
        blobs.sort_by_key(|b| b.1);
        blobs.dedup_by(|a, b| a.1 == b.1);
        let actions = self.actions.into_inner().unwrap_or_default();
        let synced: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
        let ready = || match synced.wait() {
            Ok(()) => Ok(()),
            Err(e) => Err(crate::store::StoreError::new(format!(
                "not stored: an output blob could not be synced ({e})"
            ))),
        };
        std::thread::scope(|s| {
            let syncing = s.spawn(|| {
                // Waiters must wake up even if this thread dies.
                let _unblock = SetOnDrop(&synced);
                let r = parallel(&blobs, threads, |(target, d)| {
                    store.sync_blob(d).map_err(|e| {
                        format!("cannot store the output of `{target}`: {}", e.message)
                    })
                });
                let _ = synced.set(r.clone());
                r
            });
            let put = parallel(&actions, threads, |(target, key, result)| {
                store
                    .put_action_when(key, result, &ready)
                    .map_err(|e| format!("cannot store the result of `{target}`: {}", e.message))
            });
            let synced = syncing
                .join()
                .unwrap_or_else(|_| Err("syncing the build's outputs failed".into()));
            synced.and(put)
        })
    }
}

/// Sets a result that is not set yet when dropped (a thread that died before it could).
struct SetOnDrop<'a>(&'a std::sync::OnceLock<Result<(), String>>);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        let _ = self.0.set(Err("syncing the build's outputs failed".into()));
    }
}

/// Runs `f` on every item on up to `threads` threads; the first error.
fn parallel<T: Sync>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> Result<(), String> + Sync,
) -> Result<(), String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failed: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let work = || {
        while let Some(item) = items.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
            if let Err(e) = f(item) {
                if let Ok(mut first) = failed.lock() {
                    first.get_or_insert(e);
                }
                return;
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.clamp(1, items.len().max(1)) {
            s.spawn(work);
        }
        work();
    });
    match failed.into_inner() {
        Ok(None) => Ok(()),
        Ok(Some(e)) => Err(e),
        Err(_) => Err("storing the build's results failed".into()),
    }
}

/// A scheduler setup failure.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the build graph has a {0}")]
    Cycle(#[from] CycleError),
    #[error("cannot start {jobs} worker threads: {message}")]
    Pool { jobs: usize, message: String },
}

/// Runs every action of `plan` whose target is in `only` (all when `None`; the caller passes
/// a set closed under dependencies). Outcomes come back sorted by target.
pub fn execute(
    plan: &Plan,
    store: &dyn Store,
    only: Option<&HashSet<String>>,
    opts: &ExecOptions<'_>,
) -> Result<Vec<Outcome>, ExecError> {
    let levels = plan.graph.levels()?;
    // `jobs: 0` runs on the process's pool (one thread per core, already started); a pool of
    // its own per build would add threads that compete for the same cores.
    let pool = match opts.jobs {
        0 => None,
        n => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| ExecError::Pool {
                    jobs: n,
                    message: e.to_string(),
                })?,
        ),
    };
    let mut done: HashMap<String, Outcome> = HashMap::new();
    for level in levels {
        let level: Vec<&str> = level
            .into_iter()
            .filter(|t| only.is_none_or(|s| s.contains(*t)) && plan.actions.contains_key(*t))
            .collect();
        // Keys first (cheap, sequential in level order), grouped by key.
        let mut pending: Vec<(&str, KeyInputs, Digest<ActionKind>)> = Vec::new();
        for &target in &level {
            let Some(action) = plan.actions.get(target) else {
                continue;
            };
            let deps_names = plan.graph.direct_deps(target);
            let mut deps: DepOutputs<'_> = BTreeMap::new();
            let mut blocked = None;
            for d in deps_names {
                match done.get(d) {
                    Some(o) => match &o.result {
                        Some(r) => {
                            deps.insert(d, r);
                        }
                        None => blocked = Some(d),
                    },
                    None if plan.actions.contains_key(d) => blocked = Some(d),
                    None => {}
                }
            }
            let skip = |why: String| Outcome {
                target: target.to_string(),
                kind: action.kind().to_string(),
                key: None,
                status: Status::Skipped,
                duration_ms: 0,
                inputs: BTreeMap::new(),
                result: None,
                error: Some(why),
            };
            if let Some(d) = blocked {
                let o = skip(format!("dependency `{d}` did not build"));
                report(opts, &o);
                done.insert(target.to_string(), o);
                continue;
            }
            match action.key_inputs(&deps) {
                Ok(ki) => {
                    let key = ki.key();
                    pending.push((target, ki, key));
                }
                Err(e) => {
                    let mut o = skip(e.message);
                    o.status = Status::Failed;
                    report(opts, &o);
                    done.insert(target.to_string(), o);
                }
            }
        }
        let mut groups: BTreeMap<Digest<ActionKind>, Vec<usize>> = BTreeMap::new();
        for (i, p) in pending.iter().enumerate() {
            groups.entry(p.2).or_default().push(i);
        }
        let leaders: Vec<(Digest<ActionKind>, usize)> =
            groups.iter().map(|(k, v)| (*k, v[0])).collect();
        // The leaders the memo does not answer: the level's real work.
        let work: Vec<(Digest<ActionKind>, usize)> = leaders
            .iter()
            .filter(|&&(key, i)| {
                opts.memo
                    .is_none_or(|m| m.recall(pending[i].0, &key).is_none())
            })
            .copied()
            .collect();
        // A store with a remote tier looks this level's unknown keys up in parallel now.
        let unknown: Vec<Digest<ActionKind>> = work
            .iter()
            .filter(|&&(_, i)| plan.actions.get(pending[i].0).is_none_or(|a| a.cacheable()))
            .map(|&(key, _)| key)
            .collect();
        store.prefetch(&unknown);
        let done_ref = &done;
        let one = |&(key, i): &(Digest<ActionKind>, usize)| {
            let (target, ki, _) = &pending[i];
            let o = run_one(plan, store, opts, done_ref, target, ki, key);
            report(opts, &o);
            (i, o)
        };
        // A level of at most one real action and a few recalled ones (an edit's partial
        // build) runs here: no worker is woken for it. Others run on the pool.
        let results: Vec<(usize, Outcome)> = if work.len() <= 1 && leaders.len() <= 65 {
            leaders.iter().map(one).collect()
        } else {
            let run_level = || -> Vec<(usize, Outcome)> { leaders.par_iter().map(one).collect() };
            match &pool {
                Some(pool) => pool.install(run_level),
                None => run_level(),
            }
        };
        let mut by_index: HashMap<usize, Outcome> = results.into_iter().collect();
        for (key, members) in groups {
            let Some(&first) = members.first() else {
                continue;
            };
            let Some(lead) = by_index.remove(&first) else {
                continue;
            };
            for &i in &members[1..] {
                let (target, ki, _) = &pending[i];
                let mut o = lead.clone();
                o.target = target.to_string();
                o.inputs = ki.named();
                o.key = Some(key);
                o.duration_ms = 0;
                if o.status == Status::Built {
                    o.status = Status::Cached;
                }
                report(opts, &o);
                done.insert(target.to_string(), o);
            }
            done.insert(lead.target.clone(), lead);
        }
    }
    let mut out: Vec<Outcome> = done.into_values().collect();
    out.sort_by(|a, b| a.target.cmp(&b.target));
    Ok(out)
}

fn report(opts: &ExecOptions<'_>, o: &Outcome) {
    if let Some(f) = opts.on_outcome {
        f(o);
    }
}

fn run_one(
    plan: &Plan,
    store: &dyn Store,
    opts: &ExecOptions<'_>,
    done: &HashMap<String, Outcome>,
    target: &str,
    ki: &KeyInputs,
    key: Digest<ActionKind>,
) -> Outcome {
    let mut o = Outcome {
        target: target.to_string(),
        kind: ki.kind.clone(),
        key: Some(key),
        status: Status::Cached,
        duration_ms: 0,
        inputs: ki.named(),
        result: None,
        error: None,
    };
    if let Some(r) = opts.memo.and_then(|m| m.recall(target, &key)) {
        o.result = Some(r);
        return o;
    }
    let cacheable = plan.actions.get(target).is_none_or(|a| a.cacheable());
    if let Some((r, origin)) = cacheable.then(|| store.lookup_action(&key)).flatten() {
        if r.outputs.values().all(|d| store.has_blob(d)) {
            tracing::debug!(target, key = %key.short(), ?origin, "action cache hit");
            if origin == Origin::Remote {
                o.status = Status::RemoteCached;
            }
            o.result = Some(r);
            return o;
        }
    }
    let Some(action) = plan.actions.get(target) else {
        o.status = Status::Failed;
        o.error = Some(format!("no action for `{target}`"));
        return o;
    };
    let deps: DepOutputs<'_> = plan
        .graph
        .direct_deps(target)
        .into_iter()
        .filter_map(|d| done.get(d).and_then(|o| o.result.as_ref()).map(|r| (d, r)))
        .collect();
    let start = Instant::now();
    // A bug in an action must fail that action, not the whole build.
    let produced =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| action.run(&deps, store)))
            .unwrap_or_else(|panic| {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(ActionError::new(format!("internal error: {msg}")))
            });
    o.duration_ms = start.elapsed().as_millis() as u64;
    match produced {
        Ok(p) => {
            let mut result = ActionResult {
                outputs: BTreeMap::new(),
                warnings: p.warnings,
            };
            for (name, d) in p.refs {
                result.outputs.insert(name, d);
            }
            for (name, bytes) in p.outputs {
                let put = match opts.defer_action_cache {
                    Some(deferred) => store.put_blob_unsynced(&bytes).inspect(|d| {
                        if let Ok(mut b) = deferred.blobs.lock() {
                            b.push((target.to_string(), *d));
                        }
                    }),
                    None => store.put_blob(&bytes),
                };
                match put {
                    Ok(d) => {
                        result.outputs.insert(name, d);
                    }
                    Err(e) => {
                        o.status = Status::Failed;
                        o.error = Some(e.message);
                        return o;
                    }
                }
            }
            let put = match opts.defer_action_cache {
                Some(deferred) if cacheable => {
                    if let Ok(mut d) = deferred.actions.lock() {
                        d.push((target.to_string(), key, result.clone()));
                    }
                    Ok(())
                }
                _ if cacheable => store.put_action(&key, &result),
                _ => Ok(()),
            };
            if let Err(e) = put {
                o.status = Status::Failed;
                o.error = Some(e.message);
                return o;
            }
            o.status = Status::Built;
            o.result = Some(result);
        }
        Err(e) => {
            o.status = Status::Failed;
            o.error = Some(e.message);
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemStore;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// A fake action: output = concat of its text and its deps' output digests.
    struct Fake {
        text: String,
        runs: Arc<AtomicUsize>,
        fail: bool,
    }

    impl Action for Fake {
        fn kind(&self) -> &str {
            "fake"
        }
        fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
            Ok(KeyInputs {
                kind: "fake".into(),
                rules_version: "1".into(),
                inputs: vec![("text".into(), Digest::of(self.text.as_bytes()))],
                deps: deps
                    .iter()
                    .map(|(n, r)| (n.to_string(), r.outputs["out"]))
                    .collect(),
                settings: BTreeMap::new(),
            })
        }
        fn run(&self, _: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if self.fail {
                return Err(ActionError::new("boom"));
            }
            // Only the first line matters: "early cutoff" when the rest changes.
            let first = self.text.lines().next().unwrap_or("").to_string();
            Ok(Produced {
                outputs: vec![("out".into(), first.into_bytes())],
                ..Default::default()
            })
        }
    }

    fn plan(texts: &[(&str, &str, &[&str])], runs: &Arc<AtomicUsize>) -> Plan {
        let mut p = Plan::new();
        for (t, text, needs) in texts {
            let needs: Vec<String> = needs.iter().map(|s| s.to_string()).collect();
            let fail = text.contains("FAIL");
            let a = Fake {
                text: text.to_string(),
                runs: runs.clone(),
                fail,
            };
            p.add(t, Box::new(a), &needs);
        }
        p
    }

    fn statuses(out: &[Outcome]) -> Vec<(String, &'static str)> {
        out.iter()
            .map(|o| (o.target.clone(), o.status.as_str()))
            .collect()
    }

    #[test]
    fn second_build_is_cached_and_early_cutoff_stops_rebuilds() {
        let store = MemStore::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(&[("a", "x\n1", &[]), ("b", "y", &["a"])], &runs);
        let out = execute(&p, &store, None, &ExecOptions::default()).unwrap();
        assert_eq!(
            statuses(&out),
            [("a".into(), "built"), ("b".into(), "built")]
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let out = execute(&p, &store, None, &ExecOptions::default()).unwrap();
        assert_eq!(
            statuses(&out),
            [("a".into(), "cached"), ("b".into(), "cached")]
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        // `a` changes but its output does not: `b` stays cached.
        let p = plan(&[("a", "x\n2", &[]), ("b", "y", &["a"])], &runs);
        let out = execute(&p, &store, None, &ExecOptions::default()).unwrap();
        assert_eq!(
            statuses(&out),
            [("a".into(), "built"), ("b".into(), "cached")]
        );
    }

    /// A store that logs blob syncs and action cache writes, in order; with `refuse`, its
    /// action cache refuses writes.
    #[derive(Default)]
    struct Logged {
        inner: MemStore,
        log: std::sync::Mutex<Vec<&'static str>>,
        refuse: bool,
        /// Its blob syncs fail.
        unsyncable: bool,
    }

    impl Store for Logged {
        fn put_blob(&self, data: &[u8]) -> Result<Digest<Blob>, crate::store::StoreError> {
            self.inner.put_blob(data)
        }
        fn sync_blob(&self, _: &Digest<Blob>) -> Result<(), crate::store::StoreError> {
            // Slow, as a disk is: an entry published without waiting for it is logged first.
            std::thread::sleep(std::time::Duration::from_millis(20));
            if self.unsyncable {
                return Err(crate::store::StoreError::new("I/O error"));
            }
            self.log.lock().unwrap().push("sync");
            Ok(())
        }
        fn get_blob(&self, d: &Digest<Blob>) -> Option<Vec<u8>> {
            self.inner.get_blob(d)
        }
        fn has_blob(&self, d: &Digest<Blob>) -> bool {
            self.inner.has_blob(d)
        }
        fn get_action(&self, k: &Digest<ActionKind>) -> Option<ActionResult> {
            self.inner.get_action(k)
        }
        fn put_action(
            &self,
            k: &Digest<ActionKind>,
            r: &ActionResult,
        ) -> Result<(), crate::store::StoreError> {
            if self.refuse {
                return Err(crate::store::StoreError::new("disk full"));
            }
            self.log.lock().unwrap().push("action");
            self.inner.put_action(k, r)
        }
        fn put_action_when(
            &self,
            k: &Digest<ActionKind>,
            r: &ActionResult,
            ready: &dyn Fn() -> Result<(), crate::store::StoreError>,
        ) -> Result<(), crate::store::StoreError> {
            // Written (not yet visible) at once; published when ready.
            self.log.lock().unwrap().push("write");
            ready()?;
            self.put_action(k, r)
        }
        fn load_state(&self, name: &str) -> Option<Vec<u8>> {
            self.inner.load_state(name)
        }
        fn save_state(&self, name: &str, data: &[u8]) -> Result<(), crate::store::StoreError> {
            self.inner.save_state(name, data)
        }
    }

    /// Runs `p` deferring its cache writes; returns the outcomes and what was deferred.
    fn execute_deferred(p: &Plan, store: &dyn Store) -> (Vec<Outcome>, Deferred) {
        let deferred = Deferred::default();
        let opts = ExecOptions {
            defer_action_cache: Some(&deferred),
            ..Default::default()
        };
        let out = execute(p, store, None, &opts).unwrap();
        (out, deferred)
    }

    #[test]
    fn deferred_action_results_are_stored_by_store_actions() {
        let store = MemStore::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let texts: Vec<(String, String)> = (0..40)
            .map(|i| (format!("t{i}"), format!("x{i}")))
            .collect();
        let specs: Vec<(&str, &str, &[&str])> = texts
            .iter()
            .map(|(t, x)| (t.as_str(), x.as_str(), &[][..]))
            .collect();
        let p = plan(&specs, &runs);
        let (out, deferred) = execute_deferred(&p, &store);
        assert!(out.iter().all(|o| o.status == Status::Built));
        // Nothing reached the action cache yet; the outputs did (later actions read them).
        assert_eq!(store.action_count(), 0);
        assert!(out
            .iter()
            .all(|o| store.has_blob(&o.result.as_ref().unwrap().outputs["out"])));
        assert_eq!(deferred.len(), 40);
        deferred.store(&store, 8).unwrap();
        assert_eq!(store.action_count(), 40);
        // A fresh run finds every result in the action cache.
        let again = execute(&p, &store, None, &ExecOptions::default()).unwrap();
        assert!(again.iter().all(|o| o.status == Status::Cached));
        assert_eq!(runs.load(Ordering::SeqCst), 40);
    }

    #[test]
    fn deferred_blobs_are_synced_before_any_action_result_names_them() {
        let store = Logged::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(
            &[("a", "x", &[]), ("b", "y", &["a"]), ("c", "z", &[])],
            &runs,
        );
        let (_, deferred) = execute_deferred(&p, &store);
        assert!(store.log.lock().unwrap().is_empty());
        deferred.store(&store, 3).unwrap();
        let log = store.log.lock().unwrap().clone();
        // The entries are written while the blobs sync (not after), and published after.
        assert_eq!(log.first(), Some(&"write"), "{log:?}");
        let published: Vec<&str> = log.iter().copied().filter(|e| *e != "write").collect();
        assert_eq!(
            published,
            ["sync", "sync", "sync", "action", "action", "action"]
        );
        // One blob made by several actions is synced once.
        let store = Logged::default();
        let p = plan(
            &[("a", "same", &[]), ("b", "same\nb", &[]), ("c", "z", &[])],
            &runs,
        );
        let (_, deferred) = execute_deferred(&p, &store);
        deferred.store(&store, 3).unwrap();
        let log: Vec<&str> = store.log.lock().unwrap().clone();
        let published: Vec<&str> = log.into_iter().filter(|e| *e != "write").collect();
        assert_eq!(published, ["sync", "sync", "action", "action", "action"]);
    }

    #[test]
    fn a_deferred_action_result_that_cannot_be_stored_names_its_target() {
        let store = Logged {
            refuse: true,
            ..Default::default()
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(&[("only", "x", &[])], &runs);
        let (_, deferred) = execute_deferred(&p, &store);
        let err = deferred.store(&store, 4).unwrap_err();
        assert!(err.contains("`only`") && err.contains("disk full"), "{err}");
    }

    #[test]
    fn no_deferred_action_result_is_published_when_a_blob_cannot_be_synced() {
        let store = Logged {
            unsyncable: true,
            ..Default::default()
        };
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(&[("a", "x", &[]), ("b", "y", &["a"])], &runs);
        let (_, deferred) = execute_deferred(&p, &store);
        let err = deferred.store(&store, 4).unwrap_err();
        assert!(
            err.contains("output of `") && err.contains("I/O error"),
            "{err}"
        );
        assert_eq!(store.inner.action_count(), 0);
        assert!(!store.log.lock().unwrap().contains(&"action"));
    }

    #[test]
    fn identical_keys_run_once() {
        let store = MemStore::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(
            &[
                ("r1", "same", &[]),
                ("r2", "same", &[]),
                ("r3", "other", &[]),
            ],
            &runs,
        );
        let opts = ExecOptions {
            jobs: 2,
            ..Default::default()
        };
        let out = execute(&p, &store, None, &opts).unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let built = out.iter().filter(|o| o.status == Status::Built).count();
        assert_eq!(built, 2);
        assert_eq!(out[0].key, out[1].key);
    }

    #[test]
    fn failure_skips_dependents_only() {
        let store = MemStore::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(
            &[("a", "FAIL", &[]), ("b", "y", &["a"]), ("c", "z", &[])],
            &runs,
        );
        let out = execute(&p, &store, None, &ExecOptions::default()).unwrap();
        assert_eq!(
            statuses(&out),
            [
                ("a".into(), "failed"),
                ("b".into(), "skipped"),
                ("c".into(), "built")
            ]
        );
        assert_eq!(store.action_count(), 1, "failures are not cached");
    }

    #[test]
    fn only_runs_the_selection() {
        let store = MemStore::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let p = plan(&[("a", "x", &[]), ("b", "y", &[])], &runs);
        let only: HashSet<String> = ["b".to_string()].into();
        let out = execute(&p, &store, Some(&only), &ExecOptions::default()).unwrap();
        assert_eq!(statuses(&out), [("b".into(), "built")]);
    }
}
