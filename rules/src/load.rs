//! Loading a workspace: find it, read every declaration, resolve references, check it all.
//!
//! 1. Find `workspace.toml` (walking up from the start directory).
//! 2. List `voyages/*/voyage.toml` and `clusters/<group>/<cluster>/cluster.toml`.
//! 3. Digest every file through the stat cache; a declaration whose digest was parsed before
//!    comes from the model cache (no read, no parse: that is what keeps no-op builds fast).
//! 4. Resolve each cluster's components: voyage pin, chart paths, values layers
//!    (voyage → group → cluster), `needs`; check values files are YAML maps (once per digest).
//! 5. Report every problem together, sorted.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use wayfinder_engine::{Blob, Digest, FileDigests, Reader, Writer};

use crate::diag::{Problem, Problems};
use crate::model::{self, ClusterDecl, VoyageDecl, WorkspaceDecl};
use crate::resolve::{resolve_cluster, resolve_components};

/// The file that marks a workspace root.
pub const WORKSPACE_FILE: &str = "workspace.toml";

/// A resolved workspace.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub decl: WorkspaceDecl,
    pub voyages: Vec<Voyage>,
    pub clusters: Vec<Cluster>,
    /// Charts used anywhere, by workspace path.
    pub charts: BTreeMap<String, ChartInfo>,
    /// Every input file and its digest (workspace-relative).
    pub files: BTreeMap<String, Digest<Blob>>,
}

/// A chart directory of the workspace.
#[derive(Debug, Clone)]
pub struct ChartInfo {
    /// Workspace path, `charts/web`.
    pub path: String,
    /// Target name, `chart:web`.
    pub target: String,
    /// Files under the chart directory with their digests, sorted by path.
    pub files: Vec<(String, Digest<Blob>)>,
}

/// A voyage: components verified together.
#[derive(Debug, Clone)]
pub struct Voyage {
    pub name: String,
    pub version: String,
    pub file: String,
    pub file_digest: Digest<Blob>,
    pub description: String,
    pub components: Vec<Component>,
    /// `[tests] policies`: globs relative to the workspace root.
    pub policies: Vec<String>,
}

/// One cluster of the fleet.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub group: String,
    pub dir: String,
    pub file: String,
    pub voyage: Option<(String, String)>,
    pub labels: BTreeMap<String, String>,
    /// In install order (`needs` first, then by name).
    pub components: Vec<Component>,
}

/// A chart instantiated with a release, a namespace and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    pub chart: String,
    pub release: String,
    pub namespace: String,
    /// Values files, lowest precedence first (after the chart's own `values.yaml`).
    pub values: Vec<(String, Digest<Blob>)>,
    pub needs: Vec<String>,
}

/// Loading failed: bad input (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("could not find `workspace.toml` in `{start}` or any parent directory")]
    #[diagnostic(
        code(wayfinder::workspace::not_found),
        help("run `wayfinder init` to create a workspace, or pass `-C DIR`")
    )]
    NotFound { start: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Problems(#[from] Problems),
}

/// Walks up from `start` to the directory holding `workspace.toml`.
pub fn find_root(start: &Path) -> Result<PathBuf, LoadError> {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join(WORKSPACE_FILE).is_file() {
            return Ok(d.to_path_buf());
        }
        dir = d.parent();
    }
    Err(LoadError::NotFound {
        start: start.display().to_string(),
    })
}

/// Parsed declarations by file digest, and values files known to be valid YAML maps.
#[derive(Default)]
pub(crate) struct ModelCache {
    /// The cache as read, searched in place (a partial build needs a few of its entries).
    persisted: PersistedModels,
    /// Entries this run parsed.
    decls: Mutex<HashMap<Digest<Blob>, Vec<u8>>>,
    valid_yaml: Mutex<HashSet<Digest<Blob>>>,
    used: Mutex<HashSet<Digest<Blob>>>,
}

const MODEL_MAGIC: &str = "wayfinder-model-cache-v2";

/// A persisted model cache: declarations (digest, bytes) and valid values files (digests),
/// each in digest order, found by binary search.
#[derive(Default)]
struct PersistedModels {
    data: Vec<u8>,
    /// Where each declaration's digest starts.
    decls: Vec<usize>,
    /// The byte range of the valid values files' digests (32 bytes each).
    valid: std::ops::Range<usize>,
}

impl PersistedModels {
    fn index(data: Vec<u8>) -> Option<PersistedModels> {
        let mut r = Reader::new(&data);
        if r.str()? != MODEL_MAGIC {
            return None;
        }
        let at = |r: &Reader<'_>| data.len() - r.remaining();
        let n = r.count(40)?;
        let mut decls = Vec::with_capacity(n);
        for _ in 0..n {
            decls.push(at(&r));
            r.raw(32)?;
            r.bytes()?;
        }
        let valid_n = r.count(32)?;
        let start = at(&r);
        r.raw(valid_n * 32)?;
        let valid = start..at(&r);
        let digests_sorted = decls
            .windows(2)
            .all(|w| data[w[0]..w[0] + 32] < data[w[1]..w[1] + 32])
            && data[valid.clone()]
                .as_chunks::<32>()
                .0
                .windows(2)
                .all(|w| w[0] < w[1]);
        // Caches are written in digest order; anything else is not one of ours.
        (r.is_empty() && digests_sorted).then_some(PersistedModels { data, decls, valid })
    }

    fn decl(&self, d: &Digest<Blob>) -> Option<&[u8]> {
        let key = d.as_bytes().as_slice();
        let i = self
            .decls
            .binary_search_by(|&at| self.data[at..at + 32].cmp(key))
            .ok()?;
        let at = self.decls[i] + 32;
        Reader::new(&self.data[at..]).bytes()
    }

    fn valid(&self, d: &Digest<Blob>) -> bool {
        let (digests, _) = self.data[self.valid.clone()].as_chunks::<32>();
        digests.binary_search(d.as_bytes()).is_ok()
    }
}

impl ModelCache {
    pub(crate) fn load(data: Option<Vec<u8>>) -> ModelCache {
        ModelCache {
            persisted: data.and_then(PersistedModels::index).unwrap_or_default(),
            ..ModelCache::default()
        }
    }

    /// The cache as it was loaded (to skip rewriting an unchanged one).
    pub(crate) fn persisted(&self) -> Option<&[u8]> {
        let data = &self.persisted.data;
        (!data.is_empty()).then_some(data.as_slice())
    }

    /// The entries used in this run (unused ones are dropped).
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.encode_where(|_| true)
    }

    /// [`ModelCache::encode`] of the entries whose digests `keep` accepts.
    pub(crate) fn encode_where(&self, keep: impl Fn(&Digest<Blob>) -> bool) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(MODEL_MAGIC);
        let mut used: Vec<Digest<Blob>> = self
            .used
            .lock()
            .map(|u| u.iter().copied().filter(|d| keep(d)).collect())
            .unwrap_or_default();
        used.sort();
        let decls = self.decls.lock().map(|m| m.clone()).unwrap_or_default();
        let kept: Vec<(&Digest<Blob>, &[u8])> = used
            .iter()
            .filter_map(|k| {
                let bytes = decls.get(k).map(Vec::as_slice);
                bytes.or_else(|| self.persisted.decl(k)).map(|b| (k, b))
            })
            .collect();
        w.u64(kept.len() as u64);
        for (k, b) in kept {
            w.digest(k).bytes(b);
        }
        let valid = self
            .valid_yaml
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let v: Vec<&Digest<Blob>> = used
            .iter()
            .filter(|k| valid.contains(k) || self.persisted.valid(k))
            .collect();
        w.u64(v.len() as u64);
        for k in v {
            w.digest(k);
        }
        w.finish()
    }

    fn get(&self, d: &Digest<Blob>) -> Option<Vec<u8>> {
        let mine = self.decls.lock().ok()?.get(d).cloned();
        let v = mine.or_else(|| self.persisted.decl(d).map(<[u8]>::to_vec));
        if v.is_some() {
            self.used.lock().map(|mut u| u.insert(*d)).ok();
        }
        v
    }

    fn put(&self, d: Digest<Blob>, bytes: Vec<u8>) {
        self.decls.lock().map(|mut m| m.insert(d, bytes)).ok();
        self.used.lock().map(|mut u| u.insert(d)).ok();
    }

    fn yaml_known_valid(&self, d: &Digest<Blob>) -> bool {
        let ok = self.persisted.valid(d)
            || self
                .valid_yaml
                .lock()
                .map(|m| m.contains(d))
                .unwrap_or(false);
        if ok {
            self.used.lock().map(|mut u| u.insert(*d)).ok();
        }
        ok
    }

    fn yaml_valid(&self, d: Digest<Blob>) {
        self.valid_yaml.lock().map(|mut m| m.insert(d)).ok();
        self.used.lock().map(|mut u| u.insert(d)).ok();
    }
}

/// The loading context: root, stat cache, model cache, collected problems and files.
pub(crate) struct Loader<'a> {
    pub root: PathBuf,
    pub digests: &'a FileDigests,
    pub models: &'a ModelCache,
    problems: Mutex<Vec<Problem>>,
    files: Mutex<BTreeMap<String, Digest<Blob>>>,
    exists: Mutex<HashMap<String, bool>>,
}

pub(crate) fn rel_join(dir: &str, p: &str) -> String {
    // Lexical normalization: `a/b/../c` → `a/c`; a result escaping the root keeps its `..`.
    let mut parts: Vec<&str> = if p.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect()
    };
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(c),
        }
    }
    parts.join("/")
}

impl<'a> Loader<'a> {
    pub(crate) fn new(
        root: PathBuf,
        digests: &'a FileDigests,
        models: &'a ModelCache,
    ) -> Loader<'a> {
        Loader {
            root,
            digests,
            models,
            problems: Mutex::new(Vec::new()),
            files: Mutex::new(BTreeMap::new()),
            exists: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn problem(&self, p: Problem) {
        if let Ok(mut v) = self.problems.lock() {
            v.push(p);
        }
    }

    pub(crate) fn problems(&self, ps: Vec<Problem>) {
        if let Ok(mut v) = self.problems.lock() {
            v.extend(ps);
        }
    }

    /// The digest of a workspace file, recorded as an input.
    pub(crate) fn digest(&self, rel: &str) -> Result<Digest<Blob>, String> {
        // A file shared by many clusters (voyage values) is stat'ed once per run.
        if let Some(d) = self.files.lock().ok().and_then(|f| f.get(rel).copied()) {
            return Ok(d);
        }
        let d = self
            .digests
            .digest(rel, &self.root.join(rel))
            .map_err(|e| e.message)?;
        if let Ok(mut f) = self.files.lock() {
            f.insert(rel.to_string(), d);
        }
        Ok(d)
    }

    /// Does a workspace file exist (answered once per run)?
    pub(crate) fn exists(&self, rel: &str) -> bool {
        if let Some(&e) = self
            .exists
            .lock()
            .ok()
            .and_then(|m| m.get(rel).copied())
            .as_ref()
        {
            return e;
        }
        let e = self.root.join(rel).is_file();
        if let Ok(mut m) = self.exists.lock() {
            m.insert(rel.to_string(), e);
        }
        e
    }

    fn read_text(&self, rel: &str) -> Result<Arc<String>, String> {
        let data = std::fs::read(self.root.join(rel)).map_err(|e| e.to_string())?;
        self.digests.record(rel, &self.root.join(rel), &data);
        String::from_utf8(data)
            .map(Arc::new)
            .map_err(|_| "the file is not UTF-8".to_string())
    }

    /// Reads and parses a declaration, or takes it from the model cache.
    fn decl<T>(
        &self,
        rel: &str,
        parse: impl Fn(&str, &Arc<String>) -> Result<T, Vec<Problem>>,
        encode: impl Fn(&T, &mut Writer),
        decode: impl Fn(&mut Reader<'_>) -> Option<T>,
    ) -> Option<(T, Digest<Blob>)> {
        let d = match self.digest(rel) {
            Ok(d) => d,
            Err(e) => {
                self.problem(Problem::file(
                    rel,
                    "wayfinder::io",
                    format!("cannot read the file: {e}"),
                ));
                return None;
            }
        };
        if let Some(bytes) = self.models.get(&d) {
            if let Some(t) = decode(&mut Reader::new(&bytes)) {
                return Some((t, d));
            }
        }
        let text = match self.read_text(rel) {
            Ok(t) => t,
            Err(e) => {
                self.problem(Problem::file(
                    rel,
                    "wayfinder::io",
                    format!("cannot read the file: {e}"),
                ));
                return None;
            }
        };
        match parse(rel, &text) {
            Ok(t) => {
                let mut w = Writer::new();
                encode(&t, &mut w);
                self.models.put(Digest::of(text.as_bytes()), w.finish());
                Some((t, Digest::of(text.as_bytes())))
            }
            Err(ps) => {
                self.problems(ps);
                None
            }
        }
    }

    /// A problem pointing into a declaration file (re-read: only on the error path).
    pub(crate) fn problem_at(
        &self,
        file: &str,
        span: &std::ops::Range<usize>,
        code: &'static str,
        msg: String,
    ) -> Problem {
        match std::fs::read_to_string(self.root.join(file)) {
            Ok(text) if span.end > span.start => {
                Problem::at(file, &Arc::new(text), span.clone(), code, msg)
            }
            _ => Problem::file(file, code, msg),
        }
    }

    /// Checks that a values file is a YAML map (once per content digest).
    pub(crate) fn check_values(&self, rel: &str, d: Digest<Blob>) {
        if self.models.yaml_known_valid(&d) {
            return;
        }
        let text = match self.read_text(rel) {
            Ok(t) => t,
            Err(e) => {
                self.problem(Problem::file(
                    rel,
                    "wayfinder::values",
                    format!("cannot read values file: {e}"),
                ));
                return;
            }
        };
        if wayfinder_render::chart::load_values(text.as_bytes()).is_ok() {
            self.models.yaml_valid(d);
            return;
        }
        match wayfinder_render::yaml::parse(&text) {
            Ok(_) => {
                let msg = match wayfinder_render::chart::load_values(text.as_bytes()) {
                    Err(e) => format!("invalid values file: {}", e.message),
                    Ok(_) => "invalid values file".to_string(),
                };
                self.problem(
                    Problem::file(rel, "wayfinder::values", msg)
                        .help("a values file is a YAML map, such as `replicaCount: 2`"),
                );
            }
            Err(e) => {
                let msg = format!("invalid YAML: {}", e.message);
                let p = match e.line {
                    Some(l) if l > 0 => {
                        Problem::at_line(rel, &text, l, "wayfinder::values::yaml", msg)
                    }
                    _ => Problem::file(rel, "wayfinder::values::yaml", msg),
                };
                self.problem(
                    p.label("here")
                        .help("fix the YAML syntax of this values file"),
                );
            }
        }
    }
}

/// The subdirectories of `dir` the loader looks at (not hidden ones), sorted.
pub(crate) fn list_dirs(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Loads and checks the workspace at `root`; with `only`, just the clusters whose
/// `(group, directory)` it lists (the partial build of the fast path; checks across clusters,
/// such as duplicate names, are then the caller's business).
pub(crate) fn load(
    loader: &Loader<'_>,
    only: Option<&BTreeSet<(String, String)>>,
) -> Result<Workspace, LoadError> {
    let root = loader.root.clone();
    let ws = loader.decl(
        WORKSPACE_FILE,
        model::parse_workspace,
        WorkspaceDecl::encode,
        WorkspaceDecl::decode,
    );

    // Voyages.
    let mut voyages: Vec<(VoyageDecl, String, Digest<Blob>)> = Vec::new();
    let mut broken: HashSet<String> = HashSet::new();
    for v in list_dirs(&root.join("voyages")) {
        let file = format!("voyages/{v}/voyage.toml");
        if !root.join(&file).is_file() {
            continue;
        }
        match loader.decl(
            &file,
            model::parse_voyage,
            VoyageDecl::encode,
            VoyageDecl::decode,
        ) {
            Some((decl, d)) => voyages.push((decl, file, d)),
            // Already reported; pins of this voyage are not reported again.
            None => {
                broken.insert(v);
            }
        }
    }
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    for (v, file, _) in &voyages {
        let id = (v.name.v.clone(), v.version.v.clone());
        if let Some(other) = seen.insert(id, file.clone()) {
            loader.problem(
                loader
                    .problem_at(
                        file,
                        &v.name.span,
                        "wayfinder::voyage::duplicate",
                        format!(
                            "voyage `{}@{}` is also defined in `{other}`",
                            v.name.v, v.version.v
                        ),
                    )
                    .label("duplicate voyage")
                    .help("give each voyage version one directory"),
            );
        }
    }

    // Clusters: list, then digest and parse in parallel.
    let mut cluster_files: Vec<(String, String, String)> = Vec::new();
    let groups = match only {
        None => list_dirs(&root.join("clusters")),
        Some(o) => o
            .iter()
            .map(|(g, _)| g.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    for group in groups {
        let dirs = match only {
            None => list_dirs(&root.join("clusters").join(&group)),
            Some(o) => o
                .iter()
                .filter(|(g, _)| *g == group)
                .map(|(_, d)| d.clone())
                .collect(),
        };
        for c in dirs {
            let file = format!("clusters/{group}/{c}/cluster.toml");
            if root.join(&file).is_file() {
                cluster_files.push((group.clone(), c, file));
            }
        }
    }
    let decls: Vec<Option<(ClusterDecl, String, String, String)>> = cluster_files
        .par_iter()
        .map(|(group, dir, file)| {
            loader
                .decl(
                    file,
                    model::parse_cluster,
                    ClusterDecl::encode,
                    ClusterDecl::decode,
                )
                .map(|(d, _)| (d, group.clone(), dir.clone(), file.clone()))
        })
        .collect();
    let decls: Vec<(ClusterDecl, String, String, String)> = decls.into_iter().flatten().collect();

    // Duplicate cluster names.
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (d, _, dir, _)) in decls.iter().enumerate() {
        let name = d.name.as_ref().map_or(dir.clone(), |n| n.v.clone());
        by_name.entry(name).or_default().push(i);
    }
    for (name, idx) in &by_name {
        if idx.len() < 2 {
            continue;
        }
        let files: Vec<&str> = idx.iter().map(|&i| decls[i].3.as_str()).collect();
        for &i in idx {
            let (d, _, _, file) = &decls[i];
            let others: Vec<String> = files
                .iter()
                .filter(|f| **f != file)
                .map(|f| format!("`{f}`"))
                .collect();
            let span = d.name.as_ref().map_or(0..0, |n| n.span.clone());
            loader.problem(
                loader
                    .problem_at(
                        file,
                        &span,
                        "wayfinder::cluster::duplicate",
                        format!(
                            "cluster name `{name}` is also used by {}",
                            others.join(", ")
                        ),
                    )
                    .label("duplicate name")
                    .help("cluster names must be unique across all groups: rename one of them"),
            );
        }
    }

    // Resolve voyages (their components) and clusters.
    let charts: Mutex<BTreeMap<String, Option<ChartInfo>>> = Mutex::new(BTreeMap::new());
    let resolved_voyages: Vec<Voyage> = voyages
        .iter()
        .map(|(v, file, d)| {
            let dir = file.trim_end_matches("/voyage.toml");
            let comps = resolve_components(loader, &charts, file, dir, None, &v.components, &[]);
            Voyage {
                name: v.name.v.clone(),
                version: v.version.v.clone(),
                file: file.clone(),
                file_digest: *d,
                description: v.description.clone(),
                components: comps,
                policies: v.policies.iter().map(|p| rel_join(dir, &p.v)).collect(),
            }
        })
        .collect();
    let clusters: Vec<Cluster> = decls
        .par_iter()
        .filter_map(|(d, group, dir, file)| {
            resolve_cluster(loader, &charts, &voyages, &broken, d, group, dir, file)
        })
        .collect();

    let problems = loader
        .problems
        .lock()
        .map(|mut p| std::mem::take(&mut *p))
        .unwrap_or_default();
    if !problems.is_empty() {
        return Err(LoadError::Problems(Problems::new(problems)));
    }
    let Some((decl, _)) = ws else {
        return Err(LoadError::Problems(Problems::new(vec![Problem::file(
            WORKSPACE_FILE,
            "wayfinder::io",
            "cannot read the workspace file",
        )])));
    };
    let charts = charts
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    let files = loader.files.lock().map(|f| f.clone()).unwrap_or_default();
    let mut clusters = clusters;
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Workspace {
        root,
        decl,
        voyages: resolved_voyages,
        clusters,
        charts,
        files,
    })
}

/// `[cache] dir` of `workspace.toml`, read on its own (before the cache is open); problems
/// in the file are reported later by [`load`].
pub fn cache_dir_setting(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(WORKSPACE_FILE)).ok()?;
    let t = toml::de::DeTable::parse(&text).ok()?;
    let cache = t.get_ref().get("cache")?;
    let dir = cache.get_ref().as_table()?.get("dir")?;
    dir.get_ref().as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::rel_join;

    #[test]
    fn paths_join_lexically() {
        assert_eq!(
            rel_join("voyages/core", "values/a.yaml"),
            "voyages/core/values/a.yaml"
        );
        assert_eq!(
            rel_join("clusters/g/c", "../values/a.yaml"),
            "clusters/g/values/a.yaml"
        );
        assert_eq!(rel_join("", "charts/web/"), "charts/web");
        assert_eq!(rel_join("a", "../../x"), "../x");
    }
}
