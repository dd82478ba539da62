//! `wayfinder test` (DESIGN §8): validation as cached build actions.
//!
//! 1. [`plan_tests`] reads `[tests]` (`config`), the policy files (`policy`: the workspace's
//!    `policies/*.yaml` for every cluster, a voyage's `[tests] policies` for the clusters that
//!    run it) and compiles their CEL. Any problem stops the run with exit code 2.
//! 2. It adds one action per cluster, `test:CLUSTER` (kind `test`), after the cluster's renders.
//! 3. The action ([`TestAction::run`]) splits the rendered manifests into objects (`objects`),
//!    gathers the CRDs the cluster ships (chart `crds/` and rendered ones), then checks every
//!    object against its schema (`schema`), the admission policies in scope (`eval`) and the
//!    structural rules (`structure`), and writes a JSON report (`report`).
//!
//! What feeds the key of `test:CLUSTER`:
//!
//! | field | content |
//! |---|---|
//! | inputs | the policy files in scope (workspace's, then the voyage's), `schemas`: a digest of the schema directory's files (names and digests) |
//! | deps | `render:CLUSTER/…` manifests in install order; `chart:…` listings of charts that ship `crds/` or subchart archives |
//! | settings | `components` (name=namespace), `kube_version`, `unknown_kinds`, `tests_version` |
//!
//! The cluster's name is not in the key (nor in the report): clusters with the same inputs share
//! one result. A test whose checks fail is still a successful, cached action: its report says
//! what failed and `wayfinder test` exits 1, so a rerun with no change runs nothing.

mod config;
mod eval;
mod objects;
mod policy;
mod report;
mod schema;
mod structure;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::Value as J;
use wayfinder_engine::{
    Action, ActionError, Blob, DepOutputs, Digest, KeyInputs, Plan, Produced, Store,
};
use wayfinder_render::{Chart, Data};

use crate::actions::RULES_VERSION;
use crate::build::{BuildError, Session};
use crate::diag::{Problem, Problems};
use crate::load::LoadError;
use config::Unknown;
use eval::{Cluster, Subject};
use objects::{get_path, get_str, split_manifest, Obj};
use policy::{Binding, PolicySet};
use report::Finding;
use schema::SchemaDir;

/// Bump when what a test checks changes.
const TESTS_VERSION: &str = "1";

/// Adds the test actions of every cluster to `plan`; bad policies or settings are problems.
pub(crate) fn plan_tests(session: &Session, plan: &mut Plan) -> Result<(), BuildError> {
    let ws = &session.ws;
    let root = &ws.root;
    let mut problems = Vec::new();
    let cfg = config::read(root, &mut problems);
    let kube = ws.decl.kube_version.as_ref().map(|k| k.v.clone());
    let dir = config::schema_dir(root, &cfg, kube.as_deref(), &mut problems);
    let digest_of =
        |rel: &str, path: &std::path::Path, problems: &mut Vec<Problem>| -> Option<Digest<Blob>> {
            match session.digests.digest(rel, path) {
                Ok(d) => Some(d),
                Err(e) => {
                    problems.push(Problem::file(rel, "wayfinder::test::read", e.to_string()));
                    None
                }
            }
        };
    let schemas = dir.map(|d| {
        let mut listing = String::new();
        for f in config::schema_files(&d) {
            let name = f.to_string_lossy().into_owned();
            if let Some(digest) = digest_of(&name, &f, &mut problems) {
                let base = f.file_name().map(|n| n.to_string_lossy().into_owned());
                listing.push_str(&format!("{digest}  {}\n", base.unwrap_or_default()));
            }
        }
        (
            Arc::new(SchemaDir::new(d)),
            Digest::<Blob>::of(listing.as_bytes()),
        )
    });

    // Policy files: the workspace's, then each voyage's.
    let mut root_files = config::glob_files(root, "policies/*.yaml");
    root_files.extend(config::glob_files(root, "policies/*.yml"));
    root_files.sort();
    let mut files: BTreeMap<String, Digest<Blob>> = BTreeMap::new();
    let mut texts: BTreeMap<String, Arc<String>> = BTreeMap::new();
    let mut voyage_files: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for v in &ws.voyages {
        let mut mine = Vec::new();
        for pattern in &v.policies {
            for f in config::glob_files(root, pattern) {
                if !root_files.contains(&f) && !mine.contains(&f) {
                    mine.push(f);
                }
            }
        }
        voyage_files.insert((v.name.clone(), v.version.clone()), mine);
    }
    let all: BTreeSet<&String> = root_files
        .iter()
        .chain(voyage_files.values().flatten())
        .collect();
    for rel in all {
        let path = root.join(rel);
        if let Some(d) = digest_of(rel, &path, &mut problems) {
            files.insert(rel.clone(), d);
        }
        match std::fs::read_to_string(&path) {
            Ok(t) => {
                texts.insert(rel.clone(), Arc::new(t));
            }
            Err(e) => problems.push(Problem::file(
                rel,
                "wayfinder::test::read",
                format!("cannot read `{rel}`: {e}"),
            )),
        }
    }
    let parse = |rels: &[String], problems: &mut Vec<Problem>| -> PolicySet {
        let mut set = PolicySet::default();
        for rel in rels {
            if let Some(t) = texts.get(rel) {
                policy::parse_file(rel, t, &mut set, problems);
            }
        }
        set
    };
    let root_set = parse(&root_files, &mut problems);
    check_bindings(&root_set, &root_set, &texts, &mut problems);
    let mut voyage_sets: BTreeMap<(String, String), Arc<PolicySet>> = BTreeMap::new();
    for (key, rels) in &voyage_files {
        let own = parse(rels, &mut problems);
        let mut set = PolicySet::default();
        set.extend(&root_set);
        set.extend(&own);
        check_bindings(&own, &set, &texts, &mut problems);
        voyage_sets.insert(key.clone(), Arc::new(set));
    }
    if !problems.is_empty() {
        return Err(BuildError::Load(LoadError::Problems(Problems::new(
            problems,
        ))));
    }
    let root_set = Arc::new(root_set);
    let charts = Arc::new(ChartLoader::default());

    for c in &ws.clusters {
        let mut components = Vec::new();
        let mut chart_deps: Vec<(String, String)> = Vec::new();
        for comp in &c.components {
            let target = format!("render:{}/{}", c.name, comp.name);
            if !plan.actions.contains_key(&target) {
                continue;
            }
            components.push((comp.name.clone(), comp.namespace.clone(), target.clone()));
            let ships_crds = ws.charts.get(&comp.chart).is_some_and(|info| {
                info.files
                    .iter()
                    .any(|(p, _)| p.contains("/crds/") || p.ends_with(".tgz"))
            });
            if ships_crds {
                if let Some(ct) = plan
                    .graph
                    .direct_deps(&target)
                    .into_iter()
                    .find(|d| d.starts_with("chart:"))
                {
                    let entry = (ct.to_string(), comp.chart.clone());
                    if !chart_deps.contains(&entry) {
                        chart_deps.push(entry);
                    }
                }
            }
        }
        let (set, scope_files): (Arc<PolicySet>, Vec<&String>) = match c
            .voyage
            .as_ref()
            .and_then(|v| voyage_sets.get(v).map(|s| (s, voyage_files.get(v))))
        {
            Some((s, own)) => (
                s.clone(),
                root_files.iter().chain(own.into_iter().flatten()).collect(),
            ),
            None => (root_set.clone(), root_files.iter().collect()),
        };
        let policy_inputs = scope_files
            .into_iter()
            .filter_map(|f| files.get(f).map(|d| (f.clone(), *d)))
            .collect();
        let mut needs: Vec<String> = components.iter().map(|(_, _, t)| t.clone()).collect();
        needs.extend(chart_deps.iter().map(|(t, _)| t.clone()));
        plan.add(
            &format!("test:{}", c.name),
            Box::new(TestAction {
                components,
                chart_deps,
                policy_inputs,
                set,
                schemas: schemas.clone(),
                unknown: cfg.unknown_kinds,
                kube_version: kube.clone(),
                root: root.clone(),
                charts: charts.clone(),
            }),
            &needs,
        );
    }
    Ok(())
}

/// Every binding of `own` must name a policy of `scope`.
fn check_bindings(
    own: &PolicySet,
    scope: &PolicySet,
    texts: &BTreeMap<String, Arc<String>>,
    problems: &mut Vec<Problem>,
) {
    for b in &own.bindings {
        if scope.policies.iter().any(|p| p.name == b.policy) {
            continue;
        }
        let names = scope.policies.iter().map(|p| p.name.as_str());
        let help = crate::diag::did_you_mean(&b.policy, names)
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "a binding names a ValidatingAdmissionPolicy of the workspace's `policies/` or of the voyage's `[tests] policies`".into());
        let msg = format!(
            "binding `{}` names policy `{}`, which does not exist",
            b.name, b.policy
        );
        let p = match texts.get(&b.file) {
            Some(t) => {
                let needle = format!("policyName: {}", b.policy);
                match t.find(&needle) {
                    Some(pos) => Problem::at(
                        &b.file,
                        t,
                        pos..pos + needle.len(),
                        "wayfinder::test::binding",
                        msg,
                    ),
                    None => Problem::file(&b.file, "wayfinder::test::binding", msg),
                }
            }
            None => Problem::file(&b.file, "wayfinder::test::binding", msg),
        };
        problems.push(p.help(help));
    }
}

/// Charts loaded for their `crds/`, once per build.
#[derive(Default)]
struct ChartLoader {
    loaded: Mutex<HashMap<String, Option<Arc<Chart>>>>,
}

impl ChartLoader {
    fn get(&self, root: &std::path::Path, path: &str) -> Option<Arc<Chart>> {
        if let Some(c) = self.loaded.lock().ok()?.get(path) {
            return c.clone();
        }
        let c = wayfinder_render::load_chart(&root.join(path))
            .ok()
            .map(Arc::new);
        self.loaded.lock().ok()?.insert(path.to_string(), c.clone());
        c
    }
}

/// `test:CLUSTER`: schemas, policies and structural checks of one cluster's objects.
struct TestAction {
    /// `(component, namespace, render target)` in install order.
    components: Vec<(String, String, String)>,
    /// `(chart target, chart path)` of charts that may ship CRDs.
    chart_deps: Vec<(String, String)>,
    policy_inputs: Vec<(String, Digest<Blob>)>,
    set: Arc<PolicySet>,
    schemas: Option<(Arc<SchemaDir>, Digest<Blob>)>,
    unknown: Unknown,
    kube_version: Option<String>,
    root: PathBuf,
    charts: Arc<ChartLoader>,
}

fn dep_output(
    deps: &DepOutputs<'_>,
    target: &str,
    name: &str,
) -> Result<Digest<Blob>, ActionError> {
    deps.get(target)
        .and_then(|r| r.outputs.get(name))
        .copied()
        .ok_or_else(|| ActionError::new(format!("`{target}` produced no `{name}`")))
}

/// CRDs of a cluster: resource names and schemas of custom kinds.
#[derive(Default)]
struct Crds {
    /// `(group, kind)` → `(plural, namespaced)`.
    kinds: BTreeMap<(String, String), (String, bool)>,
    /// `(group, kind, version)` → `openAPIV3Schema`.
    schemas: BTreeMap<(String, String, String), Arc<J>>,
}

impl Crds {
    fn add(&mut self, o: &Obj) {
        if o.kind != "CustomResourceDefinition" || o.group() != "apiextensions.k8s.io" {
            return;
        }
        let spec = get_path(&o.data, &["spec"]).cloned().unwrap_or_default();
        let group = get_str(&spec, &["group"]).to_string();
        let kind = get_str(&spec, &["names", "kind"]).to_string();
        let plural = get_str(&spec, &["names", "plural"]).to_string();
        let namespaced = get_str(&spec, &["scope"]) != "Cluster";
        if kind.is_empty() {
            return;
        }
        let plural = if plural.is_empty() {
            objects::guess_plural(&kind)
        } else {
            plural
        };
        self.kinds
            .insert((group.clone(), kind.clone()), (plural, namespaced));
        let global = get_path(&spec, &["validation", "openAPIV3Schema"]);
        let mut versions: Vec<(String, Option<&Data>)> = Vec::new();
        if let Some(Data::List(vs)) = get_path(&spec, &["versions"]) {
            for v in vs {
                let s = get_path(v, &["schema", "openAPIV3Schema"]).or(global);
                versions.push((get_str(v, &["name"]).to_string(), s));
            }
        }
        let single = get_str(&spec, &["version"]);
        if !single.is_empty() && !versions.iter().any(|(n, _)| n == single) {
            versions.push((single.to_string(), global));
        }
        for (v, s) in versions {
            if let Some(s) = s {
                let mut j = schema::data_to_json(s, 0);
                // The API server declares these for every custom resource.
                if let Some(props) = j.get_mut("properties").and_then(J::as_object_mut) {
                    for (k, t) in [
                        ("apiVersion", "string"),
                        ("kind", "string"),
                        ("metadata", "object"),
                    ] {
                        props
                            .entry(k)
                            .or_insert_with(|| serde_json::json!({ "type": t }));
                    }
                }
                let j = Arc::new(j);
                self.schemas.insert((group.clone(), kind.clone(), v), j);
            }
        }
    }
}

impl Action for TestAction {
    fn kind(&self) -> &str {
        "test"
    }

    fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        let mut inputs = self.policy_inputs.clone();
        if let Some((_, d)) = &self.schemas {
            inputs.push(("schemas".into(), *d));
        }
        let mut dep_list = Vec::new();
        for (_, _, t) in &self.components {
            dep_list.push((t.clone(), dep_output(deps, t, "manifest")?));
        }
        for (t, _) in &self.chart_deps {
            dep_list.push((t.clone(), dep_output(deps, t, "chart")?));
        }
        let mut settings = BTreeMap::new();
        let comps: Vec<String> = self
            .components
            .iter()
            .map(|(c, ns, _)| format!("{c}={ns}"))
            .collect();
        settings.insert("components".into(), comps.join(","));
        settings.insert(
            "kube_version".into(),
            self.kube_version.clone().unwrap_or_default(),
        );
        settings.insert("unknown_kinds".into(), self.unknown.as_str().into());
        settings.insert("tests_version".into(), TESTS_VERSION.into());
        Ok(KeyInputs {
            kind: "test".into(),
            rules_version: RULES_VERSION.into(),
            inputs,
            deps: dep_list,
            settings,
        })
    }

    fn run(&self, deps: &DepOutputs<'_>, store: &dyn Store) -> Result<Produced, ActionError> {
        let mut findings = Vec::new();
        let mut objs: Vec<Obj> = Vec::new();
        for (comp, _, target) in &self.components {
            let digest = dep_output(deps, target, "manifest")?;
            let bytes = store.get_blob(&digest).ok_or_else(|| {
                ActionError::new(format!(
                    "the cache lost the output of `{target}`; run again"
                ))
            })?;
            let text = String::from_utf8_lossy(&bytes);
            let (o, bad) = split_manifest(comp, &text);
            objs.extend(o);
            for b in bad {
                findings.push(Finding::document(comp, &b.source, b.message));
            }
        }
        let mut crds = Crds::default();
        for o in &objs {
            crds.add(o);
        }
        for (_, path) in &self.chart_deps {
            let Some(chart) = self.charts.get(&self.root, path) else {
                continue;
            };
            for (_, file) in chart.crd_objects() {
                let (cs, _) = split_manifest("", &String::from_utf8_lossy(&file.data));
                for o in &cs {
                    crds.add(o);
                }
            }
        }
        let namespaces: BTreeMap<String, &Obj> = objs
            .iter()
            .filter(|o| o.kind == "Namespace" && o.group().is_empty())
            .map(|o| (o.name.clone(), o))
            .collect();
        let mut params: Vec<&Obj> = objs.iter().collect();
        params.extend(self.set.params.iter());
        let cluster = Cluster {
            crds: &crds.kinds,
            namespaces: &namespaces,
            params: &params,
        };
        let comp_ns: BTreeMap<String, String> = self
            .components
            .iter()
            .map(|(c, ns, _)| (c.clone(), ns.clone()))
            .collect();
        let mut subjects: Vec<Subject<'_>> = objs
            .iter()
            .map(|o| {
                Subject::new(
                    o,
                    comp_ns.get(&o.component).map(String::as_str).unwrap_or(""),
                    &cluster,
                )
            })
            .collect();

        // 1. Schemas.
        let dir = self.schemas.as_ref().map(|(d, _)| d.as_ref());
        for s in &subjects {
            let o = s.obj;
            let key = (
                o.group().to_string(),
                o.kind.clone(),
                o.version().to_string(),
            );
            let schema = crds
                .schemas
                .get(&key)
                .cloned()
                .or_else(|| dir.and_then(|d| d.kind(&key.0, &key.1, &key.2)));
            match schema {
                Some(schema) => {
                    for e in schema::validate(&schema, &o.data, dir) {
                        findings.push(Finding::error(o, "schema", "schema", e));
                    }
                }
                None => {
                    let builtin = objects::builtin(o.group(), &o.kind).is_some();
                    if builtin && dir.is_none() {
                        continue;
                    }
                    let msg = format!(
                        "no schema for `{}` {}: {}",
                        o.api_version,
                        o.kind,
                        if dir.is_some() {
                            "not in the schema directory and no CRD of the cluster defines it"
                        } else {
                            "no CRD of the cluster defines it"
                        }
                    );
                    match self.unknown {
                        Unknown::Error => {
                            findings.push(Finding::error(o, "schema", "unknown-kind", msg))
                        }
                        Unknown::Warn => {
                            findings.push(Finding::warning(o, "schema", "unknown-kind", msg))
                        }
                        Unknown::Skip => {}
                    }
                }
            }
        }

        // 2. Policies.
        let implicit = Binding {
            actions: vec!["Deny".into()],
            ..Default::default()
        };
        for p in &self.set.policies {
            let mut bindings: Vec<&Binding> = self
                .set
                .bindings
                .iter()
                .filter(|b| b.policy == p.name)
                .collect();
            if bindings.is_empty() {
                if p.param_kind.is_some() {
                    continue;
                }
                bindings.push(&implicit);
            }
            for s in subjects.iter_mut() {
                for b in &bindings {
                    for v in eval::evaluate(p, b, s, &cluster) {
                        let f = if v.deny {
                            Finding::error
                        } else {
                            Finding::warning
                        };
                        findings.push(f(s.obj, "policy", &v.rule, v.message));
                    }
                }
            }
        }

        // 3. Structure.
        let mut known_ns: BTreeSet<String> = comp_ns.values().cloned().collect();
        known_ns.extend(namespaces.keys().cloned());
        let kv = self
            .kube_version
            .as_deref()
            .and_then(structure::minor_version);
        structure::check(&subjects, &comp_ns, &known_ns, kv, &mut findings);

        Ok(Produced {
            outputs: vec![("report".into(), report::encode(objs.len(), findings))],
            ..Default::default()
        })
    }
}
