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
use wayfinder_engine::{find_cycle, Blob, Digest, FileDigests, Reader, Writer};

use crate::diag::{did_you_mean, Problem, Problems};
use crate::model::{self, ClusterDecl, ComponentDecl, VoyageDecl, WorkspaceDecl};
use crate::tomlread::Sp;

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
    pub components: Vec<Component>,
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
    decls: Mutex<HashMap<Digest<Blob>, Vec<u8>>>,
    valid_yaml: Mutex<HashSet<Digest<Blob>>>,
    used: Mutex<HashSet<Digest<Blob>>>,
}

const MODEL_MAGIC: &str = "wayfinder-model-cache-v1";

impl ModelCache {
    pub(crate) fn load(data: Option<&[u8]>) -> ModelCache {
        let cache = ModelCache::default();
        let Some(data) = data else { return cache };
        let mut r = Reader::new(data);
        let parsed = (|| {
            if r.str()? != MODEL_MAGIC {
                return None;
            }
            let mut decls = HashMap::new();
            for _ in 0..r.count(40)? {
                let d = r.digest()?;
                decls.insert(d, r.bytes()?.to_vec());
            }
            let mut valid = HashSet::new();
            for _ in 0..r.count(32)? {
                valid.insert(r.digest()?);
            }
            Some((decls, valid))
        })();
        if let Some((d, v)) = parsed {
            cache.decls.lock().map(|mut m| *m = d).ok();
            cache.valid_yaml.lock().map(|mut m| *m = v).ok();
        }
        cache
    }

    /// The entries used in this run (unused ones are dropped).
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(MODEL_MAGIC);
        let used = self.used.lock().map(|u| u.clone()).unwrap_or_default();
        let decls = self.decls.lock().map(|m| m.clone()).unwrap_or_default();
        let mut keys: Vec<&Digest<Blob>> = decls.keys().filter(|k| used.contains(k)).collect();
        keys.sort();
        w.u64(keys.len() as u64);
        for k in keys {
            w.digest(k).bytes(&decls[k]);
        }
        let valid = self
            .valid_yaml
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        let mut v: Vec<&Digest<Blob>> = valid.iter().filter(|k| used.contains(k)).collect();
        v.sort();
        w.u64(v.len() as u64);
        for k in v {
            w.digest(k);
        }
        w.finish()
    }

    fn get(&self, d: &Digest<Blob>) -> Option<Vec<u8>> {
        let v = self.decls.lock().ok()?.get(d).cloned();
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
        let ok = self
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

fn rel_join(dir: &str, p: &str) -> String {
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

    fn problem(&self, p: Problem) {
        if let Ok(mut v) = self.problems.lock() {
            v.push(p);
        }
    }

    fn problems(&self, ps: Vec<Problem>) {
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
    fn exists(&self, rel: &str) -> bool {
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
    fn problem_at(
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
    fn check_values(&self, rel: &str, d: Digest<Blob>) {
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

fn list_dirs(dir: &Path) -> Vec<String> {
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

/// Every file under `dir` (recursively, sorted), relative to `root`.
fn walk_files(root: &Path, rel_dir: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel_dir)) else {
        return;
    };
    let mut entries: Vec<(String, bool)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let is_dir = e.file_type().ok()?.is_dir();
            Some((name, is_dir))
        })
        .collect();
    entries.sort();
    for (name, is_dir) in entries {
        let rel = format!("{rel_dir}/{name}");
        if is_dir {
            walk_files(root, &rel, out, depth + 1);
        } else {
            out.push(rel);
        }
    }
}

/// Loads and checks the workspace at `root`.
pub(crate) fn load(loader: &Loader<'_>) -> Result<Workspace, LoadError> {
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
    for group in list_dirs(&root.join("clusters")) {
        for c in list_dirs(&root.join("clusters").join(&group)) {
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
                components: comps,
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

#[allow(clippy::too_many_arguments)]
fn resolve_cluster(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    voyage_decls: &[(VoyageDecl, String, Digest<Blob>)],
    broken: &HashSet<String>,
    d: &ClusterDecl,
    group: &str,
    dir: &str,
    file: &str,
) -> Option<Cluster> {
    let name = d.name.as_ref().map_or(dir.to_string(), |n| n.v.clone());
    let cdir = format!("clusters/{group}/{dir}");
    let mut pin = None;
    let mut base: Vec<ComponentDecl> = Vec::new();
    let mut voyage_dir = String::new();
    let mut voyage_file = String::new();
    if let Some(v) = &d.voyage {
        let (vname, vversion) = match v.v.split_once('@') {
            Some((n, ver)) => (n.to_string(), Some(ver.to_string())),
            None => (v.v.clone(), None),
        };
        let same_name: Vec<&(VoyageDecl, String, Digest<Blob>)> = voyage_decls
            .iter()
            .filter(|(vd, _, _)| vd.name.v == vname)
            .collect();
        let found = same_name
            .iter()
            .find(|(vd, _, _)| vversion.as_ref().is_none_or(|ver| *ver == vd.version.v));
        match found {
            Some((vd, vf, _)) => {
                pin = Some((vname.clone(), vd.version.v.clone()));
                base = vd.components.clone();
                voyage_file = vf.clone();
                voyage_dir = vf.trim_end_matches("/voyage.toml").to_string();
            }
            None if same_name.is_empty() && broken.contains(&vname) => return None,
            None if same_name.is_empty() => {
                let names: Vec<&str> = voyage_decls
                    .iter()
                    .map(|(vd, _, _)| vd.name.v.as_str())
                    .collect();
                let help = match did_you_mean(&vname, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => {
                        "the workspace has no voyages under `voyages/`".to_string()
                    }
                    None => format!(
                        "the workspace has {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                loader.problem(
                    loader
                        .problem_at(
                            file,
                            &v.span,
                            "wayfinder::cluster::voyage",
                            format!("unknown voyage `{vname}`"),
                        )
                        .label("pinned here")
                        .help(help),
                );
                return None;
            }
            None => {
                let have: Vec<String> = same_name
                    .iter()
                    .map(|(vd, _, _)| format!("`{}@{}`", vname, vd.version.v))
                    .collect();
                loader.problem(
                    loader
                        .problem_at(file, &v.span, "wayfinder::cluster::voyage_version", format!("voyage `{}` is not in the workspace", v.v))
                        .label("pinned here")
                        .help(format!("the workspace has {}; pin one of them (pulling older versions from the registry is not supported yet)", have.join(", "))),
                );
                return None;
            }
        }
    }
    let _ = voyage_file;
    // Merge cluster component declarations over the voyage's.
    let mut merged: BTreeMap<String, (ComponentDecl, Option<ComponentDecl>)> = BTreeMap::new();
    for c in base {
        merged.insert(c.name.v.clone(), (c, None));
    }
    for c in &d.components {
        match merged.get_mut(&c.name.v) {
            Some(entry) => entry.1 = Some(c.clone()),
            None => {
                if c.chart.is_none() && c.remote_chart.is_none() {
                    let help = match did_you_mean(&c.name.v, merged.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`? an extra component needs `chart = \"charts/NAME\"`"),
                        None => "an extra component (not in the voyage) needs `chart = \"charts/NAME\"`".to_string(),
                    };
                    loader.problem(
                        loader
                            .problem_at(
                                file,
                                &c.name.span,
                                "wayfinder::cluster::component",
                                format!(
                                    "component `{}` is not in the voyage and has no `chart`",
                                    c.name.v
                                ),
                            )
                            .label("here")
                            .help(help),
                    );
                    continue;
                }
                merged.insert(
                    c.name.v.clone(),
                    (ComponentDecl::default(), Some(c.clone())),
                );
            }
        }
    }
    let mut comps = Vec::new();
    for (cname, (vc, cc)) in merged {
        if cc.as_ref().and_then(|c| c.enabled).or(vc.enabled) == Some(false) {
            continue;
        }
        let from_voyage = !vc.name.v.is_empty();
        // Chart, namespace, release: the cluster's declaration wins.
        let mut eff = if from_voyage {
            vc.clone()
        } else {
            ComponentDecl::default()
        };
        eff.name = Sp::new(cname.clone(), 0..0);
        let mut values: Vec<(String, String, std::ops::Range<usize>)> = Vec::new(); // (rel path, decl file, span)
        if from_voyage {
            for v in &vc.values {
                values.push((
                    rel_join(&voyage_dir, &v.v),
                    voyage_file_of(&voyage_dir),
                    v.span.clone(),
                ));
            }
        }
        let group_values = format!("clusters/{group}/values/{cname}.yaml");
        if loader.exists(&group_values) {
            values.push((group_values, String::new(), 0..0));
        }
        let mut chart_file = voyage_file_of(&voyage_dir);
        if let Some(c) = &cc {
            if c.chart.is_some() {
                eff.chart = c.chart.clone();
                chart_file = file.to_string();
            }
            if c.remote_chart.is_some() {
                eff.remote_chart = c.remote_chart.clone();
                chart_file = file.to_string();
            }
            if c.namespace.is_some() {
                eff.namespace = c.namespace.clone();
            }
            if c.release.is_some() {
                eff.release = c.release.clone();
            }
            eff.needs.extend(c.needs.iter().cloned());
            for v in &c.values {
                values.push((rel_join(&cdir, &v.v), file.to_string(), v.span.clone()));
            }
        }
        if let Some(comp) = finish_component(loader, charts, &chart_file, &eff, values) {
            comps.push(comp);
        }
    }
    let own_needs = d.components.iter().any(|c| !c.needs.is_empty());
    let comps = order_components(loader, file, comps, own_needs);
    Some(Cluster {
        name,
        group: group.to_string(),
        dir: cdir,
        file: file.to_string(),
        voyage: pin,
        labels: d.labels.clone(),
        components: comps,
    })
}

fn voyage_file_of(dir: &str) -> String {
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/voyage.toml")
    }
}

fn resolve_components(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    file: &str,
    dir: &str,
    _cluster: Option<&str>,
    decls: &[ComponentDecl],
    _extra: &[ComponentDecl],
) -> Vec<Component> {
    let mut out = Vec::new();
    for c in decls {
        if c.enabled == Some(false) {
            continue;
        }
        let values = c
            .values
            .iter()
            .map(|v| (rel_join(dir, &v.v), file.to_string(), v.span.clone()))
            .collect();
        if let Some(comp) = finish_component(loader, charts, file, c, values) {
            out.push(comp);
        }
    }
    order_components(loader, file, out, true)
}

/// Checks a component's chart and values files and builds it.
fn finish_component(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    chart_file: &str,
    c: &ComponentDecl,
    values: Vec<(String, String, std::ops::Range<usize>)>,
) -> Option<Component> {
    let mut ok = true;
    let chart = match (&c.chart, &c.remote_chart) {
        (Some(ch), _) => {
            let path = rel_join("", &ch.v);
            if !chart_info(loader, charts, &path) {
                let msg = if ch.v.starts_with('/') || path.starts_with("..") {
                    format!("chart path `{}` is outside the workspace", ch.v)
                } else {
                    format!("chart `{}` not found: no `{}/Chart.yaml`", ch.v, path)
                };
                loader.problem(
                    loader
                        .problem_at(chart_file, &ch.span, "wayfinder::component::chart", msg)
                        .label("chart path")
                        .help(
                            "chart paths are relative to the workspace root, such as `charts/web`",
                        ),
                );
                ok = false;
            }
            path
        }
        (None, Some(span)) => {
            loader.problem(
                loader
                    .problem_at(
                        chart_file,
                        span,
                        "wayfinder::component::remote_chart",
                        format!(
                            "component `{}` uses a remote chart, which is not supported yet",
                            c.name.v
                        ),
                    )
                    .label("remote chart")
                    .help("vendor the chart into `charts/` and use a workspace path"),
            );
            return None;
        }
        (None, None) => return None,
    };
    let mut layers = Vec::new();
    for (rel, decl_file, span) in values {
        match loader.digest(&rel) {
            Ok(d) => {
                loader.check_values(&rel, d);
                layers.push((rel, d));
            }
            Err(e) => {
                ok = false;
                let p = if decl_file.is_empty() {
                    Problem::file(
                        &rel,
                        "wayfinder::values::missing",
                        format!("cannot read values file: {e}"),
                    )
                } else {
                    loader.problem_at(
                        &decl_file,
                        &span,
                        "wayfinder::values::missing",
                        format!("values file `{rel}` not found"),
                    )
                };
                loader.problem(
                    p.label("listed here")
                        .help("values paths are relative to the file that lists them"),
                );
            }
        }
    }
    if !ok {
        return None;
    }
    Some(Component {
        name: c.name.v.clone(),
        chart,
        release: c.release.as_ref().map_or(c.name.v.clone(), |r| r.v.clone()),
        namespace: c
            .namespace
            .as_ref()
            .map_or("default".to_string(), |n| n.v.clone()),
        values: layers,
        needs: c.needs.iter().map(|n| n.v.clone()).collect(),
    })
}

/// Digests a chart directory once; false if it is not a chart.
fn chart_info(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    path: &str,
) -> bool {
    if let Ok(m) = charts.lock() {
        if let Some(v) = m.get(path) {
            return v.is_some();
        }
    }
    let info = if path.starts_with("..")
        || path.is_empty()
        || !loader.root.join(path).join("Chart.yaml").is_file()
    {
        None
    } else {
        let mut files = Vec::new();
        walk_files(&loader.root, path, &mut files, 0);
        let digests: Vec<(String, Digest<Blob>)> = files
            .into_iter()
            .filter_map(|f| loader.digest(&f).ok().map(|d| (f, d)))
            .collect();
        let base = path.rsplit('/').next().unwrap_or(path);
        Some(ChartInfo {
            path: path.to_string(),
            target: format!("chart:{base}"),
            files: digests,
        })
    };
    let ok = info.is_some();
    if let Ok(mut m) = charts.lock() {
        m.insert(path.to_string(), info);
    }
    ok
}

/// Checks `needs` (known names, no cycle) and orders components: dependencies first.
fn order_components(
    loader: &Loader<'_>,
    file: &str,
    comps: Vec<Component>,
    report: bool,
) -> Vec<Component> {
    if comps.iter().all(|c| c.needs.is_empty()) {
        let mut comps = comps;
        comps.sort_by(|a, b| a.name.cmp(&b.name));
        return comps;
    }
    if let Some(ordered) = install_order(&comps) {
        return ordered;
    }
    let owned: BTreeSet<String> = comps.iter().map(|c| c.name.clone()).collect();
    let names: BTreeSet<&str> = owned.iter().map(String::as_str).collect();
    let needs: Vec<(String, Vec<String>)> = comps
        .iter()
        .map(|c| (c.name.clone(), c.needs.clone()))
        .collect();
    let mut edges = Vec::new();
    for (cname, cneeds) in &needs {
        for n in cneeds {
            if !names.contains(n.as_str()) {
                if !report {
                    continue;
                }
                let help = match did_you_mean(n, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`needs` lists components of the same voyage or cluster".to_string(),
                };
                loader.problem(
                    Problem::file(
                        file,
                        "wayfinder::component::needs",
                        format!("component `{cname}` needs unknown component `{n}`"),
                    )
                    .help(help),
                );
            } else {
                edges.push((cname.as_str(), n.as_str()));
            }
        }
    }
    if let Some(cycle) = find_cycle(edges.iter().copied()) {
        if !report {
            return comps;
        }
        let text = cycle
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" → ");
        let line_hint = std::fs::read_to_string(loader.root.join(file))
            .ok()
            .and_then(|t| {
                let t = Arc::new(t);
                let needle = "needs";
                let from = cycle
                    .first()
                    .and_then(|c| t.find(&format!("[components.{c}]")))
                    .unwrap_or(0);
                t[from..].find(needle).map(|i| i + from).map(|i| {
                    Problem::at(
                        file,
                        &t,
                        i..i + needle.len(),
                        "wayfinder::component::needs_cycle",
                        format!("`needs` forms a cycle: {text}"),
                    )
                })
            });
        let p = line_hint.unwrap_or_else(|| {
            Problem::file(
                file,
                "wayfinder::component::needs_cycle",
                format!("`needs` forms a cycle: {text}"),
            )
        });
        loader.problem(
            p.label("cycle")
                .help("remove one of the `needs` entries along the cycle"),
        );
        return comps;
    }
    // Topological order with ties broken by name.
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    let mut rest: Vec<Component> = comps;
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    while !rest.is_empty() {
        let pos = rest.iter().position(|c| {
            c.needs
                .iter()
                .all(|n| done.contains(n) || !names.contains(n.as_str()))
        });
        let Some(pos) = pos else { break };
        let c = rest.remove(pos);
        done.insert(c.name.clone());
        out.push(c);
    }
    out.extend(rest);
    out
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

/// `[cache] dir` of `workspace.toml`, read on its own (before the cache is open); problems
/// in the file are reported later by [`load`].
pub fn cache_dir_setting(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(WORKSPACE_FILE)).ok()?;
    let t = toml::de::DeTable::parse(&text).ok()?;
    let cache = t.get_ref().get("cache")?;
    let dir = cache.get_ref().as_table()?.get("dir")?;
    dir.get_ref().as_str().map(str::to_string)
}

/// Components with `needs` first, ties by name; `None` when `needs` has a cycle or an unknown
/// name (the slow path reports it).
fn install_order(comps: &[Component]) -> Option<Vec<Component>> {
    let mut rest: Vec<&Component> = comps.iter().collect();
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    if rest
        .iter()
        .any(|c| c.needs.iter().any(|n| !rest.iter().any(|o| &o.name == n)))
    {
        return None;
    }
    let mut out: Vec<Component> = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let pos = rest
            .iter()
            .position(|c| c.needs.iter().all(|n| out.iter().any(|o| &o.name == n)))?;
        out.push(rest.remove(pos).clone());
    }
    Some(out)
}
