//! `wayfinder build`: load → plan → execute → write the output tree → remember.
//!
//! 1. [`Session::open`] loads the stat cache, the model cache and the workspace.
//! 2. [`Session::plan`] turns the workspace into a [`Plan`] of actions (see `actions`).
//! 3. [`Session::build`] selects targets (globs, plus their dependencies), runs the plan with
//!    the last build as memo, writes `out/clusters/<cluster>/…` (only files whose content
//!    changed), removes outputs of removed clusters and components, and saves the records.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rayon::prelude::*;
use wayfinder_engine::{
    execute, glob_match, is_glob, Blob, Digest, ExecOptions, FileDigests, FileStamp, Outcome, Plan,
    Status, Store,
};

use crate::actions::{
    ChartAction, ChartCache, ClusterAction, RenderAction, ValuesAction, VoyageAction,
};
use crate::diag::did_you_mean;
use crate::load::{load, LoadError, Loader, ModelCache, Workspace};
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
    raw_stat: Option<Vec<u8>>,
    raw_model: Option<Vec<u8>>,
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

    /// The summary as JSON text, one action per line (written directly: this is on the
    /// no-op path, where a `serde_json::Value` tree costs more than the build).
    pub fn summary_text(&self) -> String {
        fn q(s: &str) -> String {
            serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
        }
        let mut out = String::with_capacity(self.outcomes.len() * 256);
        out.push_str("{\"actions\": [");
        for (i, o) in self.outcomes.iter().enumerate() {
            out.push_str(if i == 0 { "\n  " } else { ",\n  " });
            out.push_str("{\"target\": ");
            out.push_str(&q(&o.target));
            out.push_str(", \"kind\": ");
            out.push_str(&q(&o.kind));
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
            out.push_str(o.status.as_str());
            out.push_str("\", \"duration_ms\": ");
            out.push_str(&o.duration_ms.to_string());
            out.push_str(", \"inputs\": {");
            for (j, (n, d)) in o.inputs.iter().enumerate() {
                if j > 0 {
                    out.push_str(", ");
                }
                out.push_str(&q(n));
                out.push_str(": \"");
                out.push_str(&d.to_hex());
                out.push('"');
            }
            out.push_str("}}");
        }
        out.push_str(if self.outcomes.is_empty() {
            "]}\n"
        } else {
            "\n]}\n"
        });
        out
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
        let id = workspace_id(root);
        let raw_stat = store.load_state(&format!("stat-{id}"));
        let raw_model = store.load_state(&format!("model-{id}"));
        let digests = FileDigests::load(raw_stat.as_deref());
        let models = ModelCache::load(raw_model.as_deref());
        let t0 = Instant::now();
        let ws = {
            let loader = Loader::new(root.to_path_buf(), &digests, &models);
            load(&loader)?
        };
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            clusters = ws.clusters.len(),
            "loaded the workspace"
        );
        Ok(Session {
            ws,
            digests,
            models,
            id,
            raw_stat,
            raw_model,
        })
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
        let raw_build = store.load_state(&format!("build-{}", self.id));
        let mut record = raw_build
            .as_deref()
            .and_then(BuildRecord::decode)
            .unwrap_or_default();
        tracing::debug!(
            ms = t0.elapsed().as_millis() as u64,
            "loaded the last build"
        );
        // A second pass runs when the cache lost (or had corrupt) content the output tree
        // needs: the actions that produced it are forgotten and run again.
        let mut changed = false;
        let mut pass = 0;
        let (outcomes, written, removed) = loop {
            let exec = ExecOptions {
                jobs: opts.jobs,
                memo: Some(&record),
                on_outcome: opts.on_outcome,
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

        // Save the records that changed.
        if changed {
            store
                .save_state(&format!("build-{}", self.id), &record.encode())
                .map_err(|e| BuildError::Io(e.message))?;
        }
        self.save(store)?;
        tracing::debug!(ms = t0.elapsed().as_millis() as u64, changed, "saved");
        Ok(BuildReport {
            outcomes,
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
        // Forget targets that no longer exist.
        let before = record.targets.len();
        record.targets.retain(|t, _| plan.actions.contains_key(t));
        changed |= record.targets.len() != before;

        changed
    }

    /// Saves the stat and model caches when they changed.
    pub fn save(&self, store: &dyn Store) -> Result<(), BuildError> {
        if self.digests.changed() || self.raw_stat.is_none() {
            let bytes = self.digests.encode();
            if self.raw_stat.as_deref() != Some(&bytes) {
                store
                    .save_state(&format!("stat-{}", self.id), &bytes)
                    .map_err(|e| BuildError::Io(e.message))?;
            }
        }
        let model = self.models.encode();
        if self.raw_model.as_deref() != Some(&model) {
            store
                .save_state(&format!("model-{}", self.id), &model)
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
        if full || !self.ws.clusters.is_empty() {
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
