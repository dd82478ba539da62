//! `wayfinder build`: load → plan → execute → write the output tree → remember.
//!
//! 1. [`Session::open`] loads the stat cache, the model cache and the workspace.
//! 2. [`Session::plan`] turns the workspace into a [`Plan`] of actions (see `actions`).
//! 3. [`Session::build`] selects targets (globs, plus their dependencies), runs the plan with
//!    the last build as memo, writes `out/clusters/<cluster>/…` (only files whose content
//!    changed), removes outputs of removed clusters and components, and saves the records.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;
use wayfinder_engine::{
    execute, glob_match, is_glob, Blob, Deferred, Digest, ExecOptions, FileDigests, FileStamp,
    Outcome, Plan, Status, Store,
};

use crate::actions::{
    ChartAction, ChartCache, ClusterAction, RenderAction, ValuesAction, VoyageAction,
};
use crate::diag::did_you_mean;
use crate::fast::{
    stamp_entries, summary_of_lines, summary_of_segments, walk_dirs, Check, FastCluster,
    FastRecord, Owner, Owners, RecordParts, SUMMARY,
};
use crate::load::{list_dirs, load, LoadError, Loader, ModelCache, Workspace};
use crate::segments::{KeyRange, MarkedBlob, SegBlob, SegError, Segmented};
use crate::state::{encode_inputs, workspace_id, BuildRecord, TargetRecord};

/// A build that could not start or finish for reasons other than a failed action.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuildError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Load(#[from] LoadError),
    #[error("no target matches `{pattern}`")]
    #[diagnostic(code(wayfinder::build::no_target))]
    NoTarget {
        pattern: String,
        #[help]
        help: Option<String>,
    },
    #[error("the build graph has a {0}")]
    #[diagnostic(code(wayfinder::build::cycle))]
    Cycle(String),
    #[error("{0}")]
    #[diagnostic(code(wayfinder::build::io))]
    Io(String),
}

/// A loaded workspace with its caches.
pub struct Session {
    pub ws: Workspace,
    pub digests: FileDigests,
    models: ModelCache,
    id: String,
    /// A partial session (fast path): the last whole-build record and the clusters (indices
    /// into its `clusters`) this session loaded.
    partial: Option<(FastRecord, BTreeSet<u32>)>,
    /// The stored summary's segments a partial session read while it loaded: those its
    /// clusters' targets fall in.
    kept_summary: BTreeMap<usize, SegBlob>,
    /// Whether the summary will be printed (a partial build then reads the other segments
    /// while it runs).
    want_summary: bool,
    /// A partial session's part of the build record, read while the workspace loaded
    /// (`None` inside: the record could not be read).
    record_part: Mutex<Option<Option<BuildRecord>>>,
}

/// A partial build's summary (see `Session::partial_summary`).
struct PartialSummary {
    stored: Segmented,
    /// The number of its targets this build did not visit.
    unchanged: usize,
    /// For each segment of `stored`, its blob when this build wrote it.
    written: Vec<Option<SegBlob>>,
}

/// The segments of the stored summary a partial build did not read while it loaded (read
/// beside its actions when the summary is printed).
type RestOfSummary<'s> =
    std::thread::ScopedJoinHandle<'s, Result<BTreeMap<usize, SegBlob>, SegError>>;

/// How [`Session::open_fast`] starts a plain `wayfinder build`.
pub enum FastStart {
    /// Nothing changed: the report of the no-op build.
    NoOp(BuildReport),
    /// Only some clusters changed: a session holding just them.
    Partial(Session),
    /// A session of the whole workspace.
    Full(Session),
}

/// Build options.
#[derive(Default)]
pub struct BuildOptions<'a> {
    /// Target names or globs; empty means everything.
    pub targets: Vec<String>,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Called after each action.
    pub on_outcome: Option<&'a (dyn Fn(&Outcome) + Sync)>,
    /// Called once the number of selected actions is known.
    pub on_start: Option<&'a (dyn Fn(usize) + Sync)>,
    /// Adds the test actions (`wayfinder test`, DESIGN §8) to the plan.
    pub tests: bool,
}

/// What a build did.
pub struct BuildReport {
    pub outcomes: Vec<Outcome>,
    /// Targets that this build did not visit because the fast path knew them unchanged
    /// (status `cached`).
    unchanged: usize,
    /// For a partial build whose summary is printed: the whole summary as stored after it,
    /// in target order (the segment blobs, and whether this build rewrote it); this build's
    /// own lines replace their stored ones.
    whole_summary: Option<Vec<MarkedBlob>>,
    /// A no-op decided by the fast path: its number of actions and, when asked for, the
    /// stored summary text.
    pub noop: Option<(u64, Option<Vec<MarkedBlob>>)>,
    /// Warnings (nondeterministic renders…), deduplicated.
    pub warnings: Vec<String>,
    pub files_written: usize,
    pub files_removed: usize,
    pub files_stat: u64,
    pub files_read: u64,
}

impl BuildReport {
    pub fn failed(&self) -> bool {
        self.outcomes.iter().any(|o| o.status == Status::Failed)
    }

    /// Number of actions with `status` (the fast path's unchanged targets count as cached).
    pub fn count(&self, status: Status) -> usize {
        let n = self.outcomes.iter().filter(|o| o.status == status).count();
        if status == Status::Cached {
            n + self.unchanged + self.noop.as_ref().map_or(0, |(a, _)| *a as usize)
        } else {
            n
        }
    }

    /// Number of actions in the summary.
    pub fn total(&self) -> usize {
        self.outcomes.len() + self.unchanged + self.noop.as_ref().map_or(0, |(a, _)| *a as usize)
    }

    /// The summary as JSON text, one action per line (written directly: this is on the
    /// no-op path, where a `serde_json::Value` tree costs more than the build), in pieces to
    /// write one after the other (the stored summary is not copied).
    pub fn summary_chunks(&self) -> Vec<Cow<'_, [u8]>> {
        if let Some((_, Some(blobs))) = &self.noop {
            if let Some(chunks) = summary_of_segments(blobs, &HashMap::new()) {
                return chunks;
            }
        }
        if let Some(blobs) = &self.whole_summary {
            let own: Vec<(&str, String)> = self
                .outcomes
                .iter()
                .map(|o| (o.target.as_str(), summary_line(o, None)))
                .collect();
            let own: HashMap<&str, &str> = own.iter().map(|(t, l)| (*t, l.as_str())).collect();
            if let Some(chunks) = summary_of_segments(blobs, &own) {
                return chunks;
            }
        }
        vec![Cow::Owned(summary_with(&self.outcomes, None).into_bytes())]
    }

    /// The summary: `{"actions": [{"target", "kind", "key", "status", "duration_ms", "inputs"}]}`.
    pub fn summary_json(&self) -> serde_json::Value {
        let actions: Vec<serde_json::Value> = self
            .outcomes
            .iter()
            .map(|o| {
                let inputs: serde_json::Map<String, serde_json::Value> = o
                    .inputs
                    .iter()
                    .map(|(n, d)| (n.clone(), serde_json::Value::String(d.to_hex())))
                    .collect();
                serde_json::json!({
                    "target": o.target,
                    "kind": o.kind,
                    "key": o.key.map(|k| k.to_hex()),
                    "status": o.status.as_str(),
                    "duration_ms": o.duration_ms,
                    "inputs": inputs,
                })
            })
            .collect();
        serde_json::json!({ "actions": actions })
    }
}

impl Session {
    /// Loads the workspace at `root` (already found) with the caches of `store`.
    pub fn open(root: &Path, store: &dyn Store) -> Result<Session, LoadError> {
        Session::open_inner(root, store, None)
    }

    fn open_inner(
        root: &Path,
        store: &dyn Store,
        partial: Option<(FastRecord, BTreeSet<u32>)>,
    ) -> Result<Session, LoadError> {
        let id = workspace_id(root);
        // A partial session loads the shared part of the caches (a few KB, not the whole
        // fleet's); without it, the whole caches.
        let shared = partial
            .as_ref()
            .and_then(|_| store.load_state(&format!("shared-{id}")))
            .and_then(|b| decode_shared(&b));
        let caches = if shared.is_some() { "shared" } else { "whole" };
        let (raw_stat, raw_model) = match shared {
            Some((stat, model)) => (Some(stat), Some(model)),
            None => (
                store.load_state(&format!("stat-{id}")),
                store.load_state(&format!("model-{id}")),
            ),
        };
        let digests = FileDigests::load(raw_stat);
        let models = ModelCache::load(raw_model);
        let t0 = Instant::now();
        let only: Option<BTreeSet<(String, String)>> = partial.as_ref().map(|(rec, set)| {
            set.iter()
                .filter_map(|&i| rec.clusters.get(i as usize))
                .map(|c| (c.group.clone(), c.dir.clone()))
                .collect()
        });
        let ws = {
            let loader = Loader::new(root.to_path_buf(), &digests, &models);
            load(&loader, only.as_ref())?
        };
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            clusters = ws.clusters.len(),
            partial = partial.is_some(),
            caches,
            "loaded the workspace"
        );
        Ok(Session {
            ws,
            digests,
            models,
            id,
            partial,
            kept_summary: BTreeMap::new(),
            want_summary: false,
            record_part: Mutex::new(None),
        })
    }

    /// Opens a plain `wayfinder build` (every target) through the fast path: a no-op when
    /// the stamps of the last whole build all match, a session of only the changed clusters
    /// when only cluster-owned files changed, else a full session (see `fast`).
    pub fn open_fast(
        root: &Path,
        store: &dyn Store,
        want_summary: bool,
    ) -> Result<FastStart, LoadError> {
        let id = workspace_id(root);
        let t0 = Instant::now();
        let record = store
            .load_state(&format!("fast-{id}"))
            .and_then(|b| FastRecord::decode(&b));
        let Some(record) = record else {
            return Session::open(root, store).map(FastStart::Full);
        };
        let mut record = record;
        record.checked_at_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        let check = record.check(root);
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            entries = record.entries.len(),
            ?check,
            "fast check"
        );
        match check {
            Check::Full => Session::open(root, store).map(FastStart::Full),
            Check::Clean => {
                // The summary text only when asked for (a partial build that finds it gone
                // from the cache builds fully).
                let text = match &record.summary {
                    Some(seg) if want_summary => seg
                        .read_all(store)
                        .ok()
                        .map(|blobs| Some(blobs.into_iter().map(|b| (b, false)).collect())),
                    Some(_) => Some(None),
                    None => None,
                };
                match text {
                    Some(text) => Ok(FastStart::NoOp(BuildReport {
                        outcomes: Vec::new(),
                        unchanged: 0,
                        whole_summary: None,
                        noop: Some((record.actions, text)),
                        warnings: record.warnings.clone(),
                        files_written: 0,
                        files_removed: 0,
                        files_stat: record.entries.len() as u64,
                        files_read: 0,
                    })),
                    None => Session::open(root, store).map(FastStart::Full),
                }
            }
            Check::Clusters(_) if record.ambiguous_charts || record.summary.is_none() => {
                Session::open(root, store).map(FastStart::Full)
            }
            Check::Clusters(set) => {
                // The segments of the last whole build's summary that hold the lines of the
                // changed clusters; without them the build is a full one. Read while the
                // changed clusters load (the others, to print, while the build runs).
                let summary = record.summary.clone().unwrap_or_default();
                let which = summary.covering(&summary_ranges(&record, &set));
                // The others are read later, to print: one gone from the cache (collected)
                // makes this a full build now, not a failed print at the end.
                let rest_there = !want_summary
                    || summary
                        .segs
                        .iter()
                        .enumerate()
                        .all(|(i, s)| which.contains(&i) || store.has_blob(&s.digest));
                if !rest_there {
                    return Session::open(root, store).map(FastStart::Full);
                }
                let (names, out_dir) = (partial_prefixes(&record, &set), record.output_dir.clone());
                let (kept, part, session) = std::thread::scope(|s| {
                    let kept = s.spawn(|| summary.read(store, &which).ok());
                    let part = s.spawn(|| partial_record(store, &id, &out_dir, &names));
                    let session = Session::open_inner(root, store, Some((record, set)));
                    (kept.join().ok().flatten(), part.join().ok(), session)
                });
                let Some(kept) = kept else {
                    return Session::open(root, store).map(FastStart::Full);
                };
                let mut session = session?;
                session.kept_summary = kept;
                session.record_part = Mutex::new(part);
                session.want_summary = want_summary;
                // A renamed cluster may now clash with another: the full load checks that.
                let ok = session.partial.as_ref().is_some_and(|(rec, set)| {
                    let loaded: BTreeSet<(&str, &str, &str)> = session
                        .ws
                        .clusters
                        .iter()
                        .map(|c| {
                            let dir = c.dir.rsplit('/').next().unwrap_or_default();
                            (c.name.as_str(), c.group.as_str(), dir)
                        })
                        .collect();
                    set.len() == loaded.len()
                        && set.iter().all(|&i| {
                            rec.clusters.get(i as usize).is_some_and(|c| {
                                loaded.contains(&(
                                    c.name.as_str(),
                                    c.group.as_str(),
                                    c.dir.as_str(),
                                ))
                            })
                        })
                });
                if ok {
                    Ok(FastStart::Partial(session))
                } else {
                    Session::open(root, store).map(FastStart::Full)
                }
            }
        }
    }

    /// The chart targets a cluster's components use (sorted, unique).
    fn chart_targets_of(&self, c: &crate::load::Cluster) -> Vec<String> {
        let set: BTreeSet<&str> = c
            .components
            .iter()
            .filter_map(|comp| self.ws.charts.get(&comp.chart))
            .map(|info| info.target.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// Where the rendered tree goes.
    pub fn out_dir(&self) -> PathBuf {
        self.ws.root.join(&self.ws.decl.output_dir)
    }

    /// The plan of the whole workspace.
    pub fn plan(&self) -> Plan {
        let charts = Arc::new(ChartCache::default());
        let mut plan = Plan::new();
        let root = &self.ws.root;
        let mut chart_targets: BTreeMap<String, String> = BTreeMap::new();
        let mut taken: BTreeSet<String> = BTreeSet::new();
        for (path, info) in &self.ws.charts {
            let mut info = info.clone();
            if !taken.insert(info.target.clone()) {
                info.target = format!("chart:{path}");
                taken.insert(info.target.clone());
            }
            chart_targets.insert(path.clone(), info.target.clone());
            let t = info.target.clone();
            plan.add(
                &t,
                Box::new(ChartAction {
                    info,
                    root: root.clone(),
                    charts: charts.clone(),
                }),
                &[],
            );
        }
        let mut voyage_names: BTreeMap<&str, usize> = BTreeMap::new();
        for v in &self.ws.voyages {
            *voyage_names.entry(&v.name).or_default() += 1;
        }
        for v in &self.ws.voyages {
            let target = if voyage_names[v.name.as_str()] > 1 {
                format!("voyage:{}@{}", v.name, v.version)
            } else {
                format!("voyage:{}", v.name)
            };
            let mine: BTreeMap<String, String> = v
                .components
                .iter()
                .filter_map(|c| {
                    chart_targets
                        .get(&c.chart)
                        .map(|t| (c.chart.clone(), t.clone()))
                })
                .collect();
            let needs: Vec<String> = mine.values().cloned().collect();
            plan.add(
                &target,
                Box::new(VoyageAction {
                    voyage: v.clone(),
                    chart_targets: mine,
                }),
                &needs,
            );
        }
        let kube = self.ws.decl.kube_version.as_ref().map(|k| k.v.clone());
        for c in &self.ws.clusters {
            let mut comps = Vec::new();
            for comp in &c.components {
                let Some(chart_target) = chart_targets.get(&comp.chart) else {
                    continue;
                };
                let target = format!("render:{}/{}", c.name, comp.name);
                let values_target = format!("values:{}/{}", c.name, comp.name);
                plan.add(
                    &values_target,
                    Box::new(ValuesAction {
                        component: comp.clone(),
                        root: root.clone(),
                    }),
                    &[],
                );
                plan.add(
                    &target,
                    Box::new(RenderAction {
                        target: target.clone(),
                        component: comp.clone(),
                        chart_target: chart_target.clone(),
                        values_target: values_target.clone(),
                        kube_version: kube.clone(),
                        api_versions: self.ws.decl.api_versions.clone(),
                        root: root.clone(),
                        charts: charts.clone(),
                    }),
                    &[chart_target.clone(), values_target.clone()],
                );
                comps.push((comp.name.clone(), target));
            }
            let needs: Vec<String> = comps.iter().map(|(_, t)| t.clone()).collect();
            plan.add(
                &format!("cluster:{}", c.name),
                Box::new(ClusterAction { components: comps }),
                &needs,
            );
        }
        plan
    }

    /// Targets matching `patterns` plus their dependencies (all targets when empty).
    pub fn select(plan: &Plan, patterns: &[String]) -> Result<Option<HashSet<String>>, BuildError> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let names = plan.graph.names();
        let mut chosen: HashSet<String> = HashSet::new();
        for p in patterns {
            let matched: Vec<&str> = if is_glob(p) {
                names.iter().copied().filter(|n| glob_match(p, n)).collect()
            } else {
                names.iter().copied().filter(|n| *n == p).collect()
            };
            if matched.is_empty() {
                let help = did_you_mean(p, names.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        (!p.contains(':')).then(|| {
                            "targets are named `chart:NAME`, `voyage:NAME`, `cluster:NAME` or `render:CLUSTER/COMPONENT`; see `wayfinder graph`".to_string()
                        })
                    });
                return Err(BuildError::NoTarget {
                    pattern: p.clone(),
                    help,
                });
            }
            for m in matched {
                chosen.insert(m.to_string());
                for d in plan.graph.deps(m) {
                    chosen.insert(d.to_string());
                }
            }
        }
        Ok(Some(chosen))
    }

    /// Runs a build and writes the output tree.
    pub fn build(
        &self,
        store: &dyn Store,
        opts: &BuildOptions<'_>,
    ) -> Result<BuildReport, BuildError> {
        std::thread::scope(|s| {
            // A partial build prints the whole stored summary: the segments it did not read
            // while loading are read on a core its actions leave free.
            let rest = match &self.partial {
                // On the thread pool: a partial build's levels of one action each run on
                // their own thread (see `execute`).
                Some((rec, _)) if self.want_summary => Some(s.spawn(move || {
                    let summary = rec.summary.as_ref().ok_or(SegError::Missing)?;
                    let rest: BTreeSet<usize> = (0..summary.segs.len())
                        .filter(|i| !self.kept_summary.contains_key(i))
                        .collect();
                    summary.read(store, &rest)
                })),
                _ => None,
            };
            self.build_with(store, opts, rest)
        })
    }

    fn build_with(
        &self,
        store: &dyn Store,
        opts: &BuildOptions<'_>,
        rest: Option<RestOfSummary<'_>>,
    ) -> Result<BuildReport, BuildError> {
        let t0 = Instant::now();
        let mut plan = self.plan();
        if opts.tests {
            crate::test::plan_tests(self, &mut plan)?;
        }
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            actions = plan.actions.len(),
            "planned"
        );
        plan.graph
            .check_acyclic()
            .map_err(|e| BuildError::Cycle(e.to_string()))?;
        let only = Session::select(&plan, &opts.targets)?;
        if let Some(f) = opts.on_start {
            f(only.as_ref().map_or(plan.actions.len(), |s| s.len()));
        }
        let record_name = format!("build-{}", self.id);
        // A partial build reads the record's entries of its clusters, its planned targets
        // and the outputs outside `out/clusters/`; without them it keeps no record at all.
        let mut record_lost = false;
        let mut record = match &self.partial {
            None => BuildRecord::load(store, &record_name),
            Some((rec, set)) => {
                let read = self.record_part.lock().ok().and_then(|mut p| p.take());
                let part = read.unwrap_or_else(|| {
                    partial_record(
                        store,
                        &self.id,
                        &rec.output_dir,
                        &partial_prefixes(rec, set),
                    )
                });
                record_lost = part.is_none();
                part
            }
        }
        .unwrap_or_default();
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            targets = record.targets.len(),
            outputs = record.outputs.len(),
            "loaded the last build"
        );
        // A second pass runs when the cache lost (or had corrupt) content the output tree
        // needs: the actions that produced it are forgotten and run again.
        let mut changed = false;
        let mut pass = 0;
        // Action cache entries are written with the records, at the end (see `ExecOptions`).
        let deferred = Deferred::default();
        let (outcomes, written, removed) = loop {
            let exec = ExecOptions {
                jobs: opts.jobs,
                memo: Some(&record),
                on_outcome: opts.on_outcome,
                defer_action_cache: Some(&deferred),
            };
            let outcomes = execute(&plan, store, only.as_ref(), &exec)
                .map_err(|e| BuildError::Io(e.to_string()))?;
            tracing::debug!(ms = t0.elapsed().as_millis() as u64, pass, "executed");
            changed |= self.remember(store, &outcomes, &mut record, &plan);
            let (written, removed, out_changed, missing) =
                self.materialize(store, &outcomes, &mut record, only.is_none())?;
            changed |= out_changed;
            if missing.is_empty() {
                break (outcomes, written, removed);
            }
            if pass > 0 {
                return Err(BuildError::Io(format!(
                    "the cache cannot keep {} output blobs (is it full or failing?)",
                    missing.len()
                )));
            }
            tracing::warn!(
                count = missing.len(),
                "cache entries missing or corrupt: running their actions again"
            );
            record
                .targets
                .retain(|_, t| !t.result.outputs.values().any(|d| missing.contains(d)));
            changed = true;
            pass += 1;
        };
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            written,
            removed,
            "materialized"
        );

        let mut warnings: Vec<String> = outcomes
            .iter()
            .filter_map(|o| o.result.as_ref())
            .flat_map(|r| r.warnings.iter().cloned())
            .collect();
        warnings.sort();
        warnings.dedup();

        // Save the records that changed. They are independent caches (each checksummed, a
        // missing or stale one only costs work), so they are written in parallel.
        let whole = opts.targets.is_empty() && !opts.tests;
        let ok = !outcomes.iter().any(|o| o.status == Status::Failed);
        let save_record = || -> Result<(), BuildError> {
            if changed && !record_lost {
                match record.save(store, &record_name) {
                    Ok(()) => {}
                    // A segment this build had to cut again was collected from the cache:
                    // the record (a cache itself) is dropped, and the next build that
                    // needs it (a partial one finds none and builds fully next) writes it.
                    Err(SegError::Missing) => {
                        tracing::debug!("build record segments gone from the cache; dropped");
                        let _ = store.save_state(&record_name, b"");
                    }
                    Err(SegError::Store(m)) => return Err(BuildError::Io(m)),
                }
                tracing::debug!(ms = t0.elapsed().as_millis() as u64, "build record saved");
            }
            Ok(())
        };
        // The summary as the fast path stores it (every status `cached`): a partial build's
        // (see `partial_summary`), or written whole from the outcomes.
        let stored_summary = |partial: Option<&Result<PartialSummary, SegError>>| match partial {
            Some(p) => p
                .as_ref()
                .map(|p| p.stored.clone())
                .map_err(|e| e.to_string()),
            None => {
                let mut lines: Vec<(&str, String)> = outcomes
                    .iter()
                    .map(|o| (o.target.as_str(), summary_line(o, Some(Status::Cached))))
                    .collect();
                lines.sort_by(|a, b| a.0.cmp(b.0));
                Segmented::write(
                    store,
                    lines.iter().map(|(t, l)| (*t, l.as_bytes())),
                    SUMMARY,
                )
                .map(|(s, _)| s)
                .map_err(|e| e.to_string())
            }
        };
        // Four jobs at once: the build record (and stat caches), the deferred cache entries,
        // the summary's segments, and the fast record, whose entries are gathered while the
        // summary is written (it names the summary's segments at its end).
        let (saved_record, saved_caches, partial, saved_actions) = std::thread::scope(|s| {
            let other = s.spawn(|| (save_record(), self.save(store)));
            // Many small fsynced files: more threads than cores, waiting on the disk together.
            let actions = s.spawn(|| deferred.store(store, 8));
            let outcomes = &outcomes;
            let summary_job = s.spawn(move || {
                let partial = self
                    .partial
                    .as_ref()
                    .map(|(rec, set)| self.partial_summary(store, rec, set, outcomes));
                let stored =
                    (whole && ok && !record_lost).then(|| stored_summary(partial.as_ref()));
                tracing::debug!(ms = t0.elapsed().as_millis() as u64, "summary segments");
                (partial, stored)
            });
            // Joins the summary's thread (once, when the fast record needs it, or after).
            let mut partial = None;
            let summary = || match summary_job.join() {
                Ok((p, stored)) => {
                    partial = p;
                    stored.unwrap_or_else(|| Err("no summary".into()))
                }
                Err(_) => Err("writing the build summary failed".into()),
            };
            if whole && ok && !record_lost {
                let saved = self.save_fast(store, &record, &warnings, summary);
                tracing::debug!(ms = t0.elapsed().as_millis() as u64, "fast record saved");
                if let Err(e) = saved {
                    tracing::debug!(error = %e, "could not save the fast record");
                    let _ = store.save_state(&format!("fast-{}", self.id), b"");
                }
            } else {
                let _ = summary();
                if whole {
                    // A failed build must run again: forget the stamps that would call it a
                    // no-op.
                    let _ = store.save_state(&format!("fast-{}", self.id), b"");
                }
            }
            let (a, b) = other.join().unwrap_or_else(|_| {
                let e = || BuildError::Io("saving the build records failed".into());
                (Err(e()), Err(e()))
            });
            let c = actions
                .join()
                .unwrap_or_else(|_| Err("storing action results failed".into()));
            (a, b, partial, c)
        });
        if let Err(e) = saved_actions {
            // The next build must not call itself a no-op: its cache lacks this build's results.
            if whole {
                let _ = store.save_state(&format!("fast-{}", self.id), b"");
            }
            return Err(BuildError::Io(e));
        }
        if saved_record.is_err() && whole {
            // The fast record must not call the next build a no-op without its build record.
            let _ = store.save_state(&format!("fast-{}", self.id), b"");
        }
        saved_record?;
        saved_caches?;
        // A partial build prints (and counts) the stored summary with its own lines merged in:
        // without it, only the visited targets would be reported as if they were the build.
        let (unchanged, whole_summary) = match partial {
            None => (0, None),
            Some(Ok(p)) => {
                let whole = match rest {
                    Some(rest) => {
                        let rest = rest.join().unwrap_or(Err(SegError::Missing));
                        let Ok(whole) = rest.and_then(|r| self.whole_summary(&p, &r)) else {
                            // Checked present at the start: removed (or found corrupt) since.
                            let _ = store.save_state(&format!("fast-{}", self.id), b"");
                            return Err(BuildError::Io(
                                "a segment of the stored build summary left the cache while \
                                 the build ran (garbage collection?), so the summary cannot \
                                 be printed; the outputs are written, and the next build (a \
                                 full one) prints it"
                                    .into(),
                            ));
                        };
                        Some(whole)
                    }
                    None => None,
                };
                (p.unchanged, whole)
            }
            Some(Err(e)) => {
                let _ = store.save_state(&format!("fast-{}", self.id), b"");
                let why = match e {
                    SegError::Missing => "a segment of the stored build summary left the cache \
                                          (garbage collection?)"
                        .to_string(),
                    SegError::Store(m) => m,
                };
                return Err(BuildError::Io(format!(
                    "cannot store the build summary: {why}; the outputs are written, and the \
                     next build (a full one) stores it again"
                )));
            }
        };
        tracing::debug!(ms = t0.elapsed().as_millis() as u64, changed, "saved");
        Ok(BuildReport {
            outcomes,
            unchanged,
            whole_summary,
            noop: None,
            warnings,
            files_written: written,
            files_removed: removed,
            files_stat: self
                .digests
                .files_stat
                .load(std::sync::atomic::Ordering::Relaxed),
            files_read: self
                .digests
                .files_read
                .load(std::sync::atomic::Ordering::Relaxed),
        })
    }

    /// Records the keys and results of this build (memo for the next one, explain history);
    /// returns whether anything changed.
    fn remember(
        &self,
        store: &dyn Store,
        outcomes: &[Outcome],
        record: &mut BuildRecord,
        plan: &Plan,
    ) -> bool {
        let mut changed = false;
        // Update the record (memo + explain history).
        for o in outcomes {
            let (Some(key), Some(result)) = (o.key, o.result.as_ref()) else {
                continue;
            };
            let same = record.targets.get(&o.target).is_some_and(|t| t.key == key);
            if same {
                continue;
            }
            let inputs_blob = store.put_blob_unsynced(&encode_inputs(&o.inputs)).ok();
            let Some(inputs) = inputs_blob else { continue };
            let previous = record.targets.get(&o.target).map(|t| (t.key, t.inputs));
            record.targets.insert(
                o.target.clone(),
                TargetRecord {
                    key,
                    result: result.clone(),
                    inputs,
                    previous,
                },
            );
            changed = true;
        }
        // Forget targets that no longer exist (a partial build sees only some, but knows
        // the removed components of its clusters).
        let before = record.targets.len();
        match &self.partial {
            None => record.targets.retain(|t, _| plan.actions.contains_key(t)),
            Some((rec, set)) => {
                let names: HashSet<String> = partial_prefixes(rec, set).into_iter().collect();
                record.targets.retain(|t, _| {
                    plan.actions.contains_key(t)
                        || cluster_of_target(t).is_none_or(|c| !names.contains(c))
                });
            }
        }
        changed |= record.targets.len() != before;

        changed
    }

    /// A partial build's summary, stored: the segments of the last whole build's summary that
    /// hold its clusters' lines are rewritten with the lines of the targets it did not visit
    /// plus its own (every status `cached`).
    fn partial_summary(
        &self,
        store: &dyn Store,
        rec: &FastRecord,
        set: &BTreeSet<u32>,
        outcomes: &[Outcome],
    ) -> Result<PartialSummary, SegError> {
        let names: HashSet<String> = partial_prefixes(rec, set).into_iter().collect();
        // Whether another cluster uses a chart; one that only the changed clusters used, and
        // no longer do, is gone from the workspace (one a voyage uses is planned). Asked of
        // the few chart lines near the changed clusters' ones, so scanned, not indexed.
        let others_use = |chart: &str| {
            rec.clusters
                .iter()
                .enumerate()
                .any(|(i, c)| !set.contains(&(i as u32)) && c.charts.iter().any(|t| t == chart))
        };
        let stored = rec.summary.clone().unwrap_or_default();
        let loaded: BTreeMap<usize, SegBlob> = stored
            .covering(&summary_ranges(rec, set))
            .into_iter()
            .map(|i| {
                Ok((
                    i,
                    self.kept_summary.get(&i).ok_or(SegError::Missing)?.clone(),
                ))
            })
            .collect::<Result<_, SegError>>()?;
        let mut entries = Segmented::entries_of(&loaded, SUMMARY.codec)?;
        entries.retain(|t, _| match cluster_of_target(t) {
            Some(c) => !names.contains(c),
            None => !t.starts_with("chart:") || others_use(t),
        });
        for o in outcomes {
            let line = summary_line(o, Some(Status::Cached));
            entries.insert(o.target.clone(), line.into_bytes());
        }
        let (seg, written) = stored.replace(store, &loaded, entries, SUMMARY)?;
        let unchanged = (seg.len() as usize).saturating_sub(outcomes.len());
        Ok(PartialSummary {
            stored: seg,
            unchanged,
            written,
        })
    }

    /// The whole summary after a partial build, to print: the segments it wrote, and the
    /// others as read (while loading, or beside the actions: `rest`).
    fn whole_summary(
        &self,
        p: &PartialSummary,
        rest: &BTreeMap<usize, SegBlob>,
    ) -> Result<Vec<MarkedBlob>, SegError> {
        let stored = self
            .partial
            .as_ref()
            .and_then(|(rec, _)| rec.summary.as_ref())
            .ok_or(SegError::Missing)?;
        let old: HashMap<&Digest<Blob>, &SegBlob> = stored
            .segs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let b = self.kept_summary.get(&i).or_else(|| rest.get(&i))?;
                Some((&s.digest, b))
            })
            .collect();
        p.stored
            .segs
            .iter()
            .zip(&p.written)
            .map(|(s, b)| match b {
                Some(b) => Some((b.clone(), true)),
                None => old.get(&s.digest).map(|b| ((*b).clone(), false)),
            })
            .collect::<Option<Vec<MarkedBlob>>>()
            .ok_or(SegError::Missing)
    }

    /// Saves the fast path's record of this whole build (see `fast`).
    fn save_fast(
        &self,
        store: &dyn Store,
        record: &BuildRecord,
        warnings: &[String],
        summary: impl FnOnce() -> Result<Segmented, String>,
    ) -> Result<(), String> {
        let root = &self.ws.root;
        let out_rel = self.ws.decl.output_dir.trim_end_matches('/').to_string();
        let stamps: HashMap<String, FileStamp> = self.digests.stamps().into_iter().collect();
        // A partial build keeps the last record's entries but those of its clusters (in
        // path order, as stored) and merges its own in; it writes the last record's entries
        // and clusters again by reference, without copying them.
        let mut kept: Vec<&crate::fast::Entry> = Vec::new();
        let (whole_clusters, whole_groups, updated): (
            Vec<FastCluster>,
            Vec<String>,
            BTreeMap<usize, FastCluster>,
        ) = match &self.partial {
            None => {
                let clusters: Vec<FastCluster> = self
                    .ws
                    .clusters
                    .iter()
                    .map(|c| FastCluster {
                        name: c.name.clone(),
                        group: c.group.clone(),
                        dir: c.dir.rsplit('/').next().unwrap_or_default().to_string(),
                        charts: self.chart_targets_of(c),
                    })
                    .collect();
                let groups: BTreeSet<String> = clusters.iter().map(|c| c.group.clone()).collect();
                (clusters, groups.into_iter().collect(), BTreeMap::new())
            }
            Some((rec, set)) => {
                kept = rec
                    .entries
                    .iter()
                    .filter(|e| !matches!(e.owner, Owner::Cluster(i) if set.contains(&i)))
                    .collect();
                if !kept.windows(2).all(|w| w[0].path < w[1].path) {
                    kept.sort_by(|a, b| a.path.cmp(&b.path));
                    kept.dedup_by(|a, b| a.path == b.path);
                }
                let updated = set
                    .iter()
                    .filter_map(|&i| {
                        let c = rec.clusters.get(i as usize)?;
                        let l = self.ws.clusters.iter().find(|l| l.name == c.name)?;
                        let charts = self.chart_targets_of(l);
                        Some((
                            i as usize,
                            FastCluster {
                                charts,
                                ..c.clone()
                            },
                        ))
                    })
                    .collect();
                (Vec::new(), Vec::new(), updated)
            }
        };
        let (clusters, groups, touched_clusters): (Vec<&FastCluster>, &[String], Vec<usize>) =
            match &self.partial {
                None => (
                    whole_clusters.iter().collect(),
                    &whole_groups,
                    (0..whole_clusters.len()).collect(),
                ),
                Some((rec, set)) => (
                    rec.clusters
                        .iter()
                        .enumerate()
                        .map(|(i, c)| updated.get(&i).unwrap_or(c))
                        .collect(),
                    &rec.groups,
                    set.iter().map(|&i| i as usize).collect(),
                ),
            };
        let owners = Owners::new(&out_rel, &clusters, groups);
        let mut paths: Vec<(String, bool)> = Vec::new();
        // Directories whose listing matters.
        let mut dirs = Vec::new();
        if self.partial.is_none() {
            // The listings the load depends on: the root, voyages, the groups and the
            // clusters in them, group values (present or not), chart trees. A cluster's own
            // directory needs no stamp: only files its cluster.toml names matter there.
            dirs.push(String::new());
            walk_dirs(root, "voyages", &mut dirs, 0);
            dirs.push("clusters".into());
            let cluster_dirs: BTreeSet<(&str, &str)> = clusters
                .iter()
                .map(|c| (c.group.as_str(), c.dir.as_str()))
                .collect();
            for group in list_dirs(&root.join("clusters")) {
                dirs.push(format!("clusters/{group}"));
                for sub in list_dirs(&root.join("clusters").join(&group)) {
                    if sub == "values" {
                        walk_dirs(root, &format!("clusters/{group}/values"), &mut dirs, 0);
                    } else if !cluster_dirs.contains(&(group.as_str(), sub.as_str())) {
                        dirs.push(format!("clusters/{group}/{sub}"));
                    }
                }
            }
            dirs.push(out_rel.clone());
            dirs.push(format!("{out_rel}/clusters"));
        } else {
            let touched_groups: BTreeSet<&str> = touched_clusters
                .iter()
                .filter_map(|&i| clusters.get(i))
                .map(|c| c.group.as_str())
                .collect();
            // Group values may have changed too: walk and stamp them again.
            for g in &touched_groups {
                walk_dirs(root, &format!("clusters/{g}/values"), &mut dirs, 0);
            }
            let group_ids: BTreeSet<u32> = groups
                .iter()
                .enumerate()
                .filter(|(_, g)| touched_groups.contains(g.as_str()))
                .map(|(i, _)| i as u32)
                .collect();
            for e in &kept {
                if matches!(e.owner, Owner::Group(g) if group_ids.contains(&g)) && !e.dir {
                    paths.push((e.path.clone(), false));
                }
            }
        }
        // Chart trees. A partial build walks only those it started using: the stamps of
        // the others were checked unchanged when it started.
        let known = |p: &str| kept.binary_search_by(|e| e.path.as_str().cmp(p)).ok();
        for chart in self.ws.charts.keys() {
            if known(chart).is_none() {
                walk_dirs(root, chart, &mut dirs, 0);
            }
        }
        for &i in &touched_clusters {
            if let Some(c) = clusters.get(i) {
                dirs.push(format!("{out_rel}/clusters/{}", c.name));
            }
        }
        paths.extend(dirs.into_iter().map(|d| (d, true)));
        let mut fresh = stamp_entries(root, paths, &owners);
        // A group file that is gone is covered by its directory's stamp.
        fresh.retain(|e| e.dir || e.stamp.is_some() || !matches!(e.owner, Owner::Group(_)));
        // Who reads each input file: a file in one cluster's (or group's) directory that
        // another cluster, another group or a voyage reads belongs to the workspace.
        let index: HashMap<&str, u32> = clusters
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i as u32))
            .collect();
        let mut users: HashMap<&str, BTreeSet<u32>> = HashMap::new();
        for c in &self.ws.clusters {
            let Some(&i) = index.get(c.name.as_str()) else {
                continue;
            };
            users.entry(c.file.as_str()).or_default().insert(i);
            for comp in &c.components {
                for (v, _) in &comp.values {
                    users.entry(v.as_str()).or_default().insert(i);
                }
            }
        }
        let mut voyage_files: HashSet<&str> = HashSet::new();
        for v in &self.ws.voyages {
            voyage_files.insert(v.file.as_str());
            for comp in &v.components {
                voyage_files.extend(comp.values.iter().map(|(f, _)| f.as_str()));
            }
        }
        let file_owner = |path: &str| -> Owner {
            let by_path = owners.of(path, false);
            if voyage_files.contains(path) {
                return Owner::Workspace;
            }
            let readers = users.get(path);
            let all = |f: &dyn Fn(u32) -> bool| readers.is_none_or(|r| r.iter().all(|&i| f(i)));
            match by_path {
                Owner::Cluster(i) if all(&|u| u == i) => by_path,
                Owner::Group(g)
                    if all(&|u| {
                        clusters.get(u as usize).map(|c| &c.group) == groups.get(g as usize)
                    }) =>
                {
                    by_path
                }
                _ => Owner::Workspace,
            }
        };
        // Input files, with the stamps they were digested under.
        for f in self.ws.files.keys() {
            fresh.push(crate::fast::Entry {
                path: f.clone(),
                dir: false,
                stamp: stamps.get(f).copied(),
                owner: file_owner(f),
            });
        }
        // Output files outside `out/clusters/` (chart archives), with the stamps they were
        // written or checked under. A cluster's output files are covered by the stamp of
        // their directory: a removed or added file changes it (an edit in place does not;
        // the next build that renders that cluster rewrites the file).
        let clusters_prefix = format!("{out_rel}/clusters/");
        for (path, (stamp, _)) in &record.outputs {
            if path.starts_with(&clusters_prefix) {
                continue;
            }
            fresh.push(crate::fast::Entry {
                path: path.clone(),
                dir: false,
                stamp: Some(*stamp),
                owner: owners.of(path, false),
            });
        }
        let mut mine: BTreeMap<String, crate::fast::Entry> = BTreeMap::new();
        for mut e in fresh {
            // A partial build sees only some readers: an owner never gets narrower.
            if known(&e.path).is_some_and(|j| kept[j].owner == Owner::Workspace) {
                e.owner = Owner::Workspace;
            }
            mine.insert(e.path.clone(), e);
        }
        // Both in path order: merged, this build's entry wins.
        let mut entries: Vec<&crate::fast::Entry> = Vec::with_capacity(kept.len() + mine.len());
        let mut mine = mine.values().peekable();
        for e in kept {
            while let Some(m) = mine.next_if(|m| m.path < e.path) {
                entries.push(m);
            }
            match mine.next_if(|m| m.path == e.path) {
                Some(m) => entries.push(m),
                None => entries.push(e),
            }
        }
        entries.extend(mine);
        let mut all_warnings: BTreeSet<String> = warnings.iter().cloned().collect();
        if let Some((rec, _)) = &self.partial {
            all_warnings.extend(rec.warnings.iter().cloned());
        }
        let all_warnings: Vec<String> = all_warnings.into_iter().collect();
        let version = crate::fast::version();
        let summary = summary()?;
        let fast = RecordParts {
            version: &version,
            output_dir: &out_rel,
            started_ns: match &self.partial {
                Some((rec, _)) => rec.checked_at_ns.min(self.digests.loaded_at_ns()),
                None => self.digests.loaded_at_ns(),
            },
            clusters: &clusters,
            groups,
            entries: &entries,
            summary: Some(&summary),
            actions: summary.len(),
            warnings: &all_warnings,
            ambiguous_charts: {
                let mut bases = HashSet::new();
                let here = self
                    .ws
                    .charts
                    .keys()
                    .any(|p| !bases.insert(p.rsplit('/').next().unwrap_or(p)));
                here || self
                    .partial
                    .as_ref()
                    .is_some_and(|(r, _)| r.ambiguous_charts)
            },
        };
        store
            .save_state_unsynced(&format!("fast-{}", self.id), &fast.encode())
            .map_err(|e| e.message)
    }

    /// Saves the stat and model caches when they changed.
    pub fn save(&self, store: &dyn Store) -> Result<(), BuildError> {
        // A partial session saw a few files: rewriting the whole stat and model caches for
        // them costs more than hashing and parsing those files again in the next build.
        if self.partial.is_some() {
            return Ok(());
        }
        if self.digests.changed() || self.digests.persisted().is_none() {
            let bytes = self.digests.encode();
            if self.digests.persisted() != Some(&bytes) {
                store
                    .save_state_unsynced(&format!("stat-{}", self.id), &bytes)
                    .map_err(|e| BuildError::Io(e.message))?;
            }
        }
        let model = self.models.encode();
        if self.models.persisted() != Some(&model) {
            store
                .save_state_unsynced(&format!("model-{}", self.id), &model)
                .map_err(|e| BuildError::Io(e.message))?;
        }
        // The shared part: entries of files outside `clusters/`.
        let shared_files: HashSet<&Digest<Blob>> = self
            .ws
            .files
            .iter()
            .filter(|(f, _)| !f.starts_with("clusters/"))
            .map(|(_, d)| d)
            .collect();
        let shared = encode_shared(
            &self.digests.encode_where(|f| !f.starts_with("clusters/")),
            &self.models.encode_where(|d| shared_files.contains(d)),
        );
        let name = format!("shared-{}", self.id);
        if store.load_state(&name).as_deref() != Some(&shared) {
            store
                .save_state_unsynced(&name, &shared)
                .map_err(|e| BuildError::Io(e.message))?;
        }
        Ok(())
    }

    /// Writes `out/clusters/<cluster>/*` for every cluster outcome; returns (written, removed,
    /// record changed).
    fn materialize(
        &self,
        store: &dyn Store,
        outcomes: &[Outcome],
        record: &mut BuildRecord,
        full: bool,
    ) -> Result<Materialized, BuildError> {
        let out_rel = self.ws.decl.output_dir.trim_end_matches('/').to_string();
        let clusters_dir = self.out_dir().join("clusters");
        let root = &self.ws.root;
        let record_ref = &*record;
        // Output files of the last build, by directory.
        let mut by_dir: HashMap<&str, Vec<&String>> = HashMap::new();
        for k in record_ref.outputs.keys() {
            if let Some((dir, _)) = k.rsplit_once('/') {
                by_dir.entry(dir).or_default().push(k);
            }
        }
        let by_dir = &by_dir;
        let updates: Mutex<Vec<OutputUpdate>> = Mutex::new(Vec::new());
        let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
        let missing: Mutex<HashSet<Digest<Blob>>> = Mutex::new(HashSet::new());
        let counts = Mutex::new((0usize, 0usize));
        outcomes
            .par_iter()
            .filter(|o| o.kind == "cluster")
            .for_each(|o| {
                let Some(result) = &o.result else { return };
                let name = o.target.trim_start_matches("cluster:");
                let dir_rel = format!("{out_rel}/clusters/{name}");
                let mut wrote = 0;
                let mut removed = 0;
                let mut local_updates = Vec::new();
                for (file, digest) in &result.outputs {
                    let rel = format!("{dir_rel}/{file}");
                    let path = root.join(&rel);
                    match sync_file(store, &path, &rel, digest, record_ref) {
                        Ok((stamp, did_write)) => {
                            if did_write {
                                wrote += 1;
                            }
                            let prev = record_ref.outputs.get(&rel);
                            if prev != Some(&(stamp, *digest)) {
                                local_updates.push((rel, Some((stamp, *digest))));
                            }
                        }
                        Err(SyncError::Missing(d)) => {
                            if let Ok(mut m) = missing.lock() {
                                m.insert(d);
                            }
                        }
                        Err(SyncError::Io(e)) => {
                            if let Ok(mut v) = errors.lock() {
                                v.push(e);
                            }
                        }
                    }
                }
                // Remove files of removed components, only when the cluster changed.
                let prefix = format!("{dir_rel}/");
                let known_before: Vec<&String> =
                    by_dir.get(dir_rel.as_str()).cloned().unwrap_or_default();
                let unchanged = known_before.len() == result.outputs.len()
                    && known_before
                        .iter()
                        .all(|k| result.outputs.contains_key(&k[prefix.len()..]));
                if !unchanged {
                    if let Ok(rd) = std::fs::read_dir(root.join(&dir_rel)) {
                        for e in rd.flatten() {
                            let fname = e.file_name().to_string_lossy().into_owned();
                            let is_yaml = fname.ends_with(".yaml") || fname.ends_with(".yml");
                            if is_yaml
                                && !result.outputs.contains_key(&fname)
                                && std::fs::remove_file(e.path()).is_ok()
                            {
                                removed += 1;
                                local_updates.push((format!("{prefix}{fname}"), None));
                            }
                        }
                    }
                    for k in known_before {
                        if !result.outputs.contains_key(&k[prefix.len()..]) {
                            local_updates.push((k.clone(), None));
                        }
                    }
                }
                if let Ok(mut u) = updates.lock() {
                    u.extend(local_updates);
                }
                if let Ok(mut c) = counts.lock() {
                    c.0 += wrote;
                    c.1 += removed;
                }
            });
        // Files other actions ask for by naming an output `file:REL` (`out/REL`).
        for o in outcomes.iter().filter(|o| o.kind != "cluster") {
            let Some(result) = &o.result else { continue };
            for (name, digest) in &result.outputs {
                let Some(file) = name.strip_prefix("file:") else {
                    continue;
                };
                if file.split('/').any(|c| c == ".." || c.is_empty()) {
                    continue;
                }
                let rel = format!("{out_rel}/{file}");
                match sync_file(store, &root.join(&rel), &rel, digest, record_ref) {
                    Ok((stamp, did_write)) => {
                        if did_write {
                            if let Ok(mut c) = counts.lock() {
                                c.0 += 1;
                            }
                        }
                        if record_ref.outputs.get(&rel) != Some(&(stamp, *digest)) {
                            if let Ok(mut u) = updates.lock() {
                                u.push((rel, Some((stamp, *digest))));
                            }
                        }
                    }
                    Err(SyncError::Missing(d)) => {
                        if let Ok(mut m) = missing.lock() {
                            m.insert(d);
                        }
                    }
                    Err(SyncError::Io(e)) => {
                        if let Ok(mut v) = errors.lock() {
                            v.push(e);
                        }
                    }
                }
            }
        }
        let errors = errors.into_inner().unwrap_or_default();
        let (written, mut removed) = counts.into_inner().unwrap_or_default();
        let updates = updates.into_inner().unwrap_or_default();
        let mut changed = !updates.is_empty();
        for (rel, u) in updates {
            match u {
                Some(v) => {
                    record.outputs.insert(rel, v);
                }
                None => {
                    record.outputs.remove(&rel);
                }
            }
        }
        // Remove output directories of clusters that no longer exist.
        if self.partial.is_none() && (full || !self.ws.clusters.is_empty()) {
            let current: HashSet<&str> = self.ws.clusters.iter().map(|c| c.name.as_str()).collect();
            if let Ok(rd) = std::fs::read_dir(&clusters_dir) {
                for e in rd.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                    if is_dir
                        && !current.contains(name.as_str())
                        && std::fs::remove_dir_all(e.path()).is_ok()
                    {
                        removed += 1;
                        let prefix = format!("{out_rel}/clusters/{name}/");
                        record.outputs.retain(|k, _| !k.starts_with(&prefix));
                        changed = true;
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(BuildError::Io(errors.join("\n")));
        }
        let missing = missing.into_inner().unwrap_or_default();
        Ok((written, removed, changed, missing))
    }
}

/// (files written, files removed, record changed, blobs the cache could not give).
type Materialized = (usize, usize, bool, HashSet<Digest<Blob>>);

/// Why an output file could not be written.
enum SyncError {
    /// The cache does not have (or had a corrupt copy of) this blob.
    Missing(Digest<Blob>),
    Io(String),
}

/// An output file's new record (`None`: removed).
type OutputUpdate = (String, Option<(FileStamp, Digest<Blob>)>);

/// The `shared-<ws>` state: a stat cache and a model cache, length-prefixed.
fn encode_shared(stat: &[u8], model: &[u8]) -> Vec<u8> {
    let mut w = wayfinder_engine::Writer::new();
    w.str(SHARED_MAGIC).bytes(stat).bytes(model);
    w.finish()
}

fn decode_shared(data: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut r = wayfinder_engine::Reader::new(data);
    if r.str()? != SHARED_MAGIC {
        return None;
    }
    let stat = r.bytes()?.to_vec();
    let model = r.bytes()?.to_vec();
    r.is_empty().then_some((stat, model))
}

const SHARED_MAGIC: &str = "wayfinder-shared-caches-v1";

/// Makes `path` hold the blob `digest`; returns its stamp and whether it was written.
fn sync_file(
    store: &dyn Store,
    path: &Path,
    rel: &str,
    digest: &Digest<Blob>,
    record: &BuildRecord,
) -> Result<(FileStamp, bool), SyncError> {
    if let Ok(meta) = std::fs::metadata(path) {
        let stamp = FileStamp::of(&meta);
        if record.outputs.get(rel) == Some(&(stamp, *digest)) {
            return Ok((stamp, false));
        }
        // Unknown stamp: compare contents, so an identical file is not rewritten.
        if stamp.size < (64 << 20) {
            if let Ok(data) = std::fs::read(path) {
                if Digest::of(&data) == *digest {
                    return Ok((stamp, false));
                }
            }
        }
    }
    let data = store.get_blob(digest).ok_or(SyncError::Missing(*digest))?;
    let dir = path
        .parent()
        .ok_or_else(|| SyncError::Io(format!("bad output path `{rel}`")))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| SyncError::Io(format!("cannot create `{}`: {e}", dir.display())))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    std::fs::write(&tmp, &data)
        .map_err(|e| SyncError::Io(format!("cannot write `{}`: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        SyncError::Io(format!("cannot write `{rel}`: {e}"))
    })?;
    let meta =
        std::fs::metadata(path).map_err(|e| SyncError::Io(format!("cannot stat `{rel}`: {e}")))?;
    Ok((FileStamp::of(&meta), true))
}

/// The summary text of `outcomes` (each with `status` if given), in their order.
fn summary_with(outcomes: &[Outcome], status: Option<Status>) -> String {
    let own: Vec<String> = outcomes.iter().map(|o| summary_line(o, status)).collect();
    summary_of_lines(own.iter().map(String::as_str))
}

/// One action of the summary as a JSON object on one line; `status` overrides the outcome's
/// status and zeroes the duration (the stored lines of the fast path say `cached`).
fn summary_line(o: &Outcome, status: Option<Status>) -> String {
    fn q(out: &mut String, s: &str) {
        out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
    }
    let mut out = String::with_capacity(160 + o.inputs.len() * 96);
    out.push_str("{\"target\": ");
    q(&mut out, &o.target);
    out.push_str(", \"kind\": ");
    q(&mut out, &o.kind);
    out.push_str(", \"key\": ");
    match o.key {
        Some(k) => {
            out.push('"');
            out.push_str(&k.to_hex());
            out.push('"');
        }
        None => out.push_str("null"),
    }
    out.push_str(", \"status\": \"");
    out.push_str(status.unwrap_or(o.status).as_str());
    out.push_str("\", \"duration_ms\": ");
    let ms = if status.is_some() { 0 } else { o.duration_ms };
    out.push_str(&ms.to_string());
    out.push_str(", \"inputs\": {");
    for (j, (n, d)) in o.inputs.iter().enumerate() {
        if j > 0 {
            out.push_str(", ");
        }
        q(&mut out, n);
        out.push_str(": \"");
        out.push_str(&d.to_hex());
        out.push('"');
    }
    out.push_str("}}");
    out
}

/// Target-name prefixes of the clusters a partial session holds.
fn partial_prefixes(rec: &FastRecord, set: &BTreeSet<u32>) -> Vec<String> {
    set.iter()
        .filter_map(|&i| rec.clusters.get(i as usize))
        .map(|c| c.name.clone())
        .collect()
}

/// The part of the build record a partial build of the clusters `names` reads: their
/// targets and output files, every chart and voyage target (a partial plan has them all),
/// and the output files outside `out/clusters/`; `None` when it cannot be read.
fn partial_record(
    store: &dyn Store,
    id: &str,
    output_dir: &str,
    names: &[String],
) -> Option<BuildRecord> {
    let out_clusters = format!("{}/clusters/", output_dir.trim_end_matches('/'));
    let mut targets = vec![KeyRange::prefix("chart:"), KeyRange::prefix("voyage:")];
    let mut outputs = vec![
        KeyRange {
            from: String::new(),
            to: Some(out_clusters.clone()),
        },
        KeyRange {
            from: KeyRange::prefix(&out_clusters).to.unwrap_or_default(),
            to: None,
        },
    ];
    for name in names {
        targets.extend(cluster_ranges(name));
        outputs.push(KeyRange::prefix(&format!("{out_clusters}{name}/")));
    }
    BuildRecord::load_part(store, &format!("build-{id}"), &targets, &outputs)
}

/// The target names of a cluster's own actions, as key ranges.
fn cluster_ranges(name: &str) -> [KeyRange; 3] {
    [
        KeyRange::key(&format!("cluster:{name}")),
        KeyRange::prefix(&format!("render:{name}/")),
        KeyRange::prefix(&format!("values:{name}/")),
    ]
}

/// Where a partial build's clusters have summary lines: their own targets and the charts
/// they used.
fn summary_ranges(rec: &FastRecord, set: &BTreeSet<u32>) -> Vec<KeyRange> {
    let mut out = Vec::new();
    for &i in set {
        if let Some(c) = rec.clusters.get(i as usize) {
            out.extend(cluster_ranges(&c.name));
            out.extend(c.charts.iter().map(|t| KeyRange::key(t)));
        }
    }
    out
}

/// The cluster a cluster-scoped target belongs to (`cluster:NAME`, `render:NAME/…`,
/// `values:NAME/…`).
fn cluster_of_target(target: &str) -> Option<&str> {
    match target.split_once(':') {
        Some(("cluster", rest)) => Some(rest),
        Some(("render" | "values", rest)) => rest.split_once('/').map(|(c, _)| c),
        _ => None,
    }
}
