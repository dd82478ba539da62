//! The actions of a workspace build and what feeds their keys.
//!
//! | kind | target | inputs (files, in order) | deps (upstream *outputs*) | settings | outputs |
//! |---|---|---|---|---|---|
//! | `chart` | `chart:NAME` | every file under the chart directory | — | `package` (archive format) | `chart`: a listing of `(digest, path in chart)`; `file:charts/NAME-VERSION.tgz`: the reproducible package |
//! | `voyage` | `voyage:NAME` | `voyage.toml`, the voyage's values files | `chart:…` of its components | — | `voyage.json`: the resolved voyage |
//! | `values` | `values:CLUSTER/COMPONENT` | values layers: voyage → group → cluster | — | — | `values`: the merged values, canonically encoded |
//! | `render` | `render:CLUSTER/COMPONENT` | — | `chart:…`, `values:…` | `release`, `namespace`, `kube_version`, `api_versions` | `manifest`: what `helm template` prints |
//! | `cluster` | `cluster:NAME` | — | `render:NAME/…` in install order | `components` (file names) | `kustomization.yaml` and `<component>.yaml` per component |
//!
//! Every key also has the kind and [`RULES_VERSION`]. File *names* are not in keys (only their
//! digests, in order), so two clusters with the same render inputs share a key and render once.
//! A chart's output is a digest of its content, so an unchanged chart copied elsewhere or
//! touched without change does not rebuild renders (early cutoff).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wayfinder_engine::{
    Action, ActionError, DepOutputs, KeyInputs, Produced, Reader, Store, Writer,
};
use wayfinder_render::manifest::{helm_template_output, ManifestOptions};
use wayfinder_render::{Chart, Data, RenderOptions};

use crate::load::{ChartInfo, Component, Voyage};

/// Bump when what an action does changes (it invalidates every cached result).
pub const RULES_VERSION: &str = concat!("1/", env!("CARGO_PKG_VERSION"));

/// The chart archive format (bump when `package::chart` changes what it writes).
const CHART_PACKAGE_FORMAT: &str = "tgz-v1";

/// One chart, loaded at most once (the first render that needs it loads it).
type ChartSlot = Arc<Mutex<Option<Result<Arc<Chart>, String>>>>;

/// Charts loaded during one build, shared by the renders that need them.
#[derive(Default)]
pub(crate) struct ChartCache {
    loaded: Mutex<HashMap<String, ChartSlot>>,
}

impl ChartCache {
    /// Loads the chart at workspace path `path` once per build.
    pub(crate) fn get(&self, root: &std::path::Path, path: &str) -> Result<Arc<Chart>, String> {
        let slot = {
            let Ok(mut m) = self.loaded.lock() else {
                return Err("chart cache lock poisoned".into());
            };
            m.entry(path.to_string()).or_default().clone()
        };
        let Ok(mut slot) = slot.lock() else {
            return Err("chart cache lock poisoned".into());
        };
        if let Some(r) = slot.as_ref() {
            return r.clone();
        }
        let r = wayfinder_render::load_chart(&root.join(path))
            .map(Arc::new)
            .map_err(|e| format!("cannot load chart `{path}`: {e}"));
        *slot = Some(r.clone());
        r
    }
}

fn dep_output(
    deps: &DepOutputs<'_>,
    target: &str,
    name: &str,
) -> Result<wayfinder_engine::Digest<wayfinder_engine::Blob>, ActionError> {
    deps.get(target)
        .and_then(|r| r.outputs.get(name))
        .copied()
        .ok_or_else(|| ActionError::new(format!("`{target}` produced no `{name}`")))
}

/// `chart:NAME`: checks the chart loads and names its content.
pub(crate) struct ChartAction {
    pub info: ChartInfo,
    pub root: PathBuf,
    pub charts: Arc<ChartCache>,
}

impl Action for ChartAction {
    fn kind(&self) -> &str {
        "chart"
    }
    fn key_inputs(&self, _: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        let mut settings = BTreeMap::new();
        // The archive layout; renders key on the `chart` listing only, so this never
        // re-keys a render.
        settings.insert("package".into(), CHART_PACKAGE_FORMAT.into());
        Ok(KeyInputs {
            kind: "chart".into(),
            rules_version: RULES_VERSION.into(),
            inputs: self.info.files.clone(),
            settings,
            ..Default::default()
        })
    }
    fn run(&self, _: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
        let chart = self
            .charts
            .get(&self.root, &self.info.path)
            .map_err(ActionError::new)?;
        let package =
            crate::package::package_chart(&self.root, &self.info.path, &self.info.files, &chart)
                .map_err(ActionError::new)?;
        let mut listing = String::new();
        let prefix = format!("{}/", self.info.path);
        for (name, d) in &self.info.files {
            let inner = name.strip_prefix(&prefix).unwrap_or(name);
            listing.push_str(&format!("{d}  {inner}\n"));
        }
        Ok(Produced {
            outputs: vec![
                ("chart".into(), listing.into_bytes()),
                (format!("file:charts/{}", package.file), package.bytes),
            ],
            ..Default::default()
        })
    }
}

/// `voyage:NAME`: the resolved voyage (components, charts, namespaces, needs).
pub(crate) struct VoyageAction {
    pub voyage: Voyage,
    pub chart_targets: BTreeMap<String, String>,
}

impl Action for VoyageAction {
    fn kind(&self) -> &str {
        "voyage"
    }
    fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        let mut inputs = vec![(self.voyage.file.clone(), self.voyage.file_digest)];
        for c in &self.voyage.components {
            inputs.extend(c.values.iter().cloned());
        }
        let mut dep_list = Vec::new();
        for t in self.chart_targets.values() {
            dep_list.push((t.clone(), dep_output(deps, t, "chart")?));
        }
        dep_list.sort();
        dep_list.dedup();
        Ok(KeyInputs {
            kind: "voyage".into(),
            rules_version: RULES_VERSION.into(),
            inputs,
            deps: dep_list,
            settings: BTreeMap::new(),
        })
    }
    fn run(&self, deps: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
        let mut comps = Vec::new();
        for c in &self.voyage.components {
            let target = self
                .chart_targets
                .get(&c.chart)
                .cloned()
                .unwrap_or_default();
            let digest = dep_output(deps, &target, "chart")?;
            comps.push(serde_json::json!({
                "name": c.name,
                "chart": c.chart,
                "chart_digest": digest.to_hex(),
                "release": c.release,
                "namespace": c.namespace,
                "needs": c.needs,
                "values": c.values.iter().map(|(n, d)| serde_json::json!({"file": n, "digest": d.to_hex()})).collect::<Vec<_>>(),
            }));
        }
        let doc = serde_json::json!({
            "name": self.voyage.name,
            "version": self.voyage.version,
            "components": comps,
        });
        let mut text =
            serde_json::to_string_pretty(&doc).map_err(|e| ActionError::new(e.to_string()))?;
        text.push('\n');
        Ok(Produced {
            outputs: vec![("voyage.json".into(), text.into_bytes())],
            ..Default::default()
        })
    }
}

/// `values:CLUSTER/COMPONENT`: the component's values layers merged as `helm -f a -f b`
/// merges them. Its output is a canonical encoding of the merged tree, so an edit that does
/// not change the merged values (a comment, reordered keys) renders nothing again.
pub(crate) struct ValuesAction {
    pub component: Component,
    pub root: PathBuf,
}

impl ValuesAction {
    /// The user values: every layer merged as `helm -f a -f b` does.
    fn values(&self) -> Result<Data, ActionError> {
        merge_layers(&self.root, &self.component.values)
    }
}

/// Merges values files (checked against their digests) as `helm -f a -f b` does.
fn merge_layers(
    root: &std::path::Path,
    layers: &[(String, wayfinder_engine::Digest<wayfinder_engine::Blob>)],
) -> Result<Data, ActionError> {
    {
        let mut merged = Data::empty_map();
        for (name, digest) in layers {
            let bytes = std::fs::read(root.join(name))
                .map_err(|e| ActionError::new(format!("cannot read `{name}`: {e}")))?;
            if wayfinder_engine::Digest::of(&bytes) != *digest {
                return Err(ActionError::new(format!(
                    "`{name}` changed during the build; run the build again"
                )));
            }
            let data = wayfinder_render::chart::load_values(&bytes)
                .map_err(|e| ActionError::new(format!("{name}: {}", e.message)))?;
            wayfinder_render::chart::merge_values(&mut merged, data);
        }
        Ok(merged)
    }
}

impl Action for ValuesAction {
    fn kind(&self) -> &str {
        "values"
    }
    fn key_inputs(&self, _: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        Ok(KeyInputs {
            kind: "values".into(),
            rules_version: RULES_VERSION.into(),
            inputs: self.component.values.clone(),
            ..Default::default()
        })
    }
    fn run(&self, _: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
        let merged = self.values()?;
        let mut w = Writer::new();
        encode_data(&merged, &mut w);
        Ok(Produced {
            outputs: vec![("values".into(), w.finish())],
            ..Default::default()
        })
    }
}

/// The canonical, lossless encoding of a values tree (tagged, length-prefixed, maps sorted).
pub(crate) fn encode_data(d: &Data, w: &mut Writer) {
    match d {
        Data::Null => {
            w.u64(0);
        }
        Data::Bool(b) => {
            w.u64(1).u64(*b as u64);
        }
        Data::Int(i) => {
            w.u64(2).i64(*i);
        }
        Data::Float(f) => {
            w.u64(3).u64(f.to_bits());
        }
        Data::String(s) => {
            w.u64(4).str(s);
        }
        Data::List(l) => {
            w.u64(5).u64(l.len() as u64);
            for x in l {
                encode_data(x, w);
            }
        }
        Data::Map(m) => {
            w.u64(6).u64(m.len() as u64);
            for (k, v) in m {
                w.str(k);
                encode_data(v, w);
            }
        }
    }
}

/// Decodes [`encode_data`]'s bytes (nesting bounded).
pub(crate) fn decode_data(r: &mut Reader<'_>, depth: usize) -> Option<Data> {
    if depth > 1000 {
        return None;
    }
    Some(match r.u64()? {
        0 => Data::Null,
        1 => Data::Bool(r.u64()? != 0),
        2 => Data::Int(r.i64()?),
        3 => Data::Float(f64::from_bits(r.u64()?)),
        4 => Data::String(r.str()?.to_string()),
        5 => {
            let n = r.count(8)?;
            let mut l = Vec::with_capacity(n);
            for _ in 0..n {
                l.push(decode_data(r, depth + 1)?);
            }
            Data::List(l)
        }
        6 => {
            let mut m = BTreeMap::new();
            for _ in 0..r.count(16)? {
                let k = r.str()?.to_string();
                m.insert(k, decode_data(r, depth + 1)?);
            }
            Data::Map(m)
        }
        _ => return None,
    })
}

/// `render:CLUSTER/COMPONENT`: one component rendered as `helm template` prints it.
pub(crate) struct RenderAction {
    pub target: String,
    pub component: Component,
    pub chart_target: String,
    pub values_target: String,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub root: PathBuf,
    pub charts: Arc<ChartCache>,
}

impl RenderAction {
    fn settings(&self) -> BTreeMap<String, String> {
        let mut s = BTreeMap::new();
        s.insert("release".into(), self.component.release.clone());
        s.insert("namespace".into(), self.component.namespace.clone());
        s.insert(
            "kube_version".into(),
            self.kube_version.clone().unwrap_or_default(),
        );
        s.insert("api_versions".into(), self.api_versions.join(","));
        s
    }
}

impl Action for RenderAction {
    fn kind(&self) -> &str {
        "render"
    }
    fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        Ok(KeyInputs {
            kind: "render".into(),
            rules_version: RULES_VERSION.into(),
            inputs: Vec::new(),
            deps: vec![
                (
                    self.chart_target.clone(),
                    dep_output(deps, &self.chart_target, "chart")?,
                ),
                (
                    self.values_target.clone(),
                    dep_output(deps, &self.values_target, "values")?,
                ),
            ],
            settings: self.settings(),
        })
    }
    fn run(&self, deps: &DepOutputs<'_>, store: &dyn Store) -> Result<Produced, ActionError> {
        let digest = dep_output(deps, &self.values_target, "values")?;
        let cached = store
            .get_blob(&digest)
            .and_then(|bytes| decode_data(&mut Reader::new(&bytes), 0));
        let values = match cached {
            Some(v) => v,
            // The cache lost the merged values (corrupt entries are misses): merge again and
            // check that the result is the one the key names.
            None => {
                let v = merge_layers(&self.root, &self.component.values)?;
                let mut w = Writer::new();
                encode_data(&v, &mut w);
                if wayfinder_engine::Digest::of(&w.finish()) != digest {
                    return Err(ActionError::new(format!(
                        "the merged values of `{}` changed during the build; run the build again",
                        self.values_target
                    )));
                }
                v
            }
        };
        let chart = self
            .charts
            .get(&self.root, &self.component.chart)
            .map_err(ActionError::new)?;
        let mut opts = RenderOptions::new(&self.component.release, &self.component.namespace);
        opts.kube_version = self.kube_version.clone();
        opts.api_versions = self.api_versions.clone();
        let rendered = wayfinder_render::render_chart(&chart, &values, &opts)
            .map_err(|e| ActionError::new(e.message))?;
        let text = helm_template_output(&rendered, &ManifestOptions::default())
            .map_err(|e| ActionError::new(e.message))?;
        let mut warnings = Vec::new();
        if rendered.nondeterministic {
            warnings.push(format!(
                "`{}` uses nondeterministic template functions (random values, UUIDs, time, generated keys): its cached output cannot be reproduced faithfully",
                self.target
            ));
        }
        Ok(Produced {
            outputs: vec![("manifest".into(), text.into_bytes())],
            refs: Vec::new(),
            warnings,
        })
    }
}

/// `cluster:NAME`: the cluster's output directory (component files + `kustomization.yaml`).
pub(crate) struct ClusterAction {
    /// `(component, render target)` in install order.
    pub components: Vec<(String, String)>,
}

/// `kustomization.yaml` listing `files` in order.
pub fn kustomization(files: &[String]) -> String {
    let mut s = String::from(
        "# Generated by wayfinder. Do not edit.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
    );
    if files.is_empty() {
        s.push_str("resources: []\n");
    } else {
        s.push_str("resources:\n");
        for f in files {
            s.push_str(&format!("  - {f}\n"));
        }
    }
    s
}

impl Action for ClusterAction {
    fn kind(&self) -> &str {
        "cluster"
    }
    fn cacheable(&self) -> bool {
        false
    }
    fn key_inputs(&self, deps: &DepOutputs<'_>) -> Result<KeyInputs, ActionError> {
        let mut dep_list = Vec::new();
        for (_, t) in &self.components {
            dep_list.push((t.clone(), dep_output(deps, t, "manifest")?));
        }
        let mut settings = BTreeMap::new();
        let names: Vec<&str> = self.components.iter().map(|(c, _)| c.as_str()).collect();
        settings.insert("components".into(), names.join(","));
        Ok(KeyInputs {
            kind: "cluster".into(),
            rules_version: RULES_VERSION.into(),
            inputs: Vec::new(),
            deps: dep_list,
            settings,
        })
    }
    fn run(&self, deps: &DepOutputs<'_>, _: &dyn Store) -> Result<Produced, ActionError> {
        let mut refs = Vec::new();
        let mut files = Vec::new();
        for (c, t) in &self.components {
            let file = format!("{c}.yaml");
            refs.push((file.clone(), dep_output(deps, t, "manifest")?));
            files.push(file);
        }
        Ok(Produced {
            outputs: vec![(
                "kustomization.yaml".into(),
                kustomization(&files).into_bytes(),
            )],
            refs,
            warnings: Vec::new(),
        })
    }
}
