//! The example fleet, as the tests expect it, and the values layering of
//! DESIGN.md §2 computed independently of Wayfinder's own code.

use std::fs;
use std::path::Path;

/// Every cluster of the example: (group, name, env, components).
/// Written by hand from the example files, so a change to either shows up.
pub const CLUSTERS: &[(&str, &str, &str, &[&str])] = &[
    ("gauss", "gdev01", "dev", CORE),
    ("gauss", "gstg01", "staging", CORE),
    ("gauss", "peu01", "prod", CORE),
    ("gauss", "peu02", "prod", CORE_OAUTH),
    ("gauss", "pobs01", "prod", OBSERVABILITY),
    ("hopper", "hdev01", "dev", OBSERVABILITY),
    ("hopper", "hdev02", "dev", CORE),
    ("hopper", "hstg01", "staging", OBSERVABILITY),
    ("hopper", "pus01", "prod", CORE_OAUTH),
    ("hopper", "pus02", "prod", OBSERVABILITY),
];

const CORE: &[&str] = &["cert-manager", "ingress-nginx", "policy-engine"];
const CORE_OAUTH: &[&str] = &[
    "cert-manager",
    "ingress-nginx",
    "oauth2-proxy",
    "policy-engine",
];
const OBSERVABILITY: &[&str] = &["log-shipper", "metrics-stack"];

/// The example's charts (directories under `charts/`).
pub const CHARTS: &[&str] = &[
    "cert-manager",
    "ingress-nginx",
    "log-shipper",
    "metrics-stack",
    "oauth2-proxy",
    "platform-lib",
    "policy-engine",
];

/// The kube version of the example's workspace.toml.
pub const KUBE_VERSION: &str = "1.31.0";

/// Every (cluster, component) pair of the example.
pub fn pairs() -> Vec<(&'static str, &'static str)> {
    CLUSTERS
        .iter()
        .flat_map(|(_, c, _, comps)| comps.iter().map(move |comp| (*c, *comp)))
        .collect()
}

/// The group directory of a cluster of the example.
pub fn group_of(cluster: &str) -> &'static str {
    CLUSTERS
        .iter()
        .find(|(_, c, _, _)| *c == cluster)
        .map(|(g, _, _, _)| *g)
        .unwrap_or_else(|| panic!("no cluster {cluster} in the example"))
}

/// One component of one cluster, with what `helm template` needs to render it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Render {
    pub cluster: String,
    pub component: String,
    /// Chart directory, relative to the workspace root.
    pub chart: String,
    pub namespace: String,
    /// Values files, lowest precedence first, relative to the workspace root:
    /// voyage values, group values, cluster overlay.
    pub values: Vec<String>,
}

/// Reads the workspace at `root` and lists its renders with their values
/// layering (DESIGN.md §2), sorted by cluster then component.
pub fn renders(root: &Path) -> Vec<Render> {
    let mut voyages = Vec::new();
    for dir in sorted_dirs(&root.join("voyages")) {
        let Some(v) = read_toml(&dir.join("voyage.toml")) else {
            continue;
        };
        voyages.push((dir, v));
    }
    let mut out = Vec::new();
    for group_dir in sorted_dirs(&root.join("clusters")) {
        for cluster_dir in sorted_dirs(&group_dir) {
            let Some(c) = read_toml(&cluster_dir.join("cluster.toml")) else {
                continue;
            };
            let name = c["name"].as_str().unwrap_or_default().to_string();
            let pin = c["voyage"].as_str().unwrap_or_default();
            let (vname, vversion) = pin.split_once('@').unwrap_or((pin, ""));
            let (vdir, voyage) = voyages
                .iter()
                .find(|(_, v)| {
                    v["name"].as_str() == Some(vname) && v["version"].as_str() == Some(vversion)
                })
                .unwrap_or_else(|| panic!("{name}: no voyage {pin}"));
            let mut comps: Vec<Render> = Vec::new();
            let empty = toml::Table::new();
            let vcomps = voyage
                .get("components")
                .and_then(|v| v.as_table())
                .unwrap_or(&empty);
            for (comp, spec) in vcomps {
                comps.push(Render {
                    cluster: name.clone(),
                    component: comp.clone(),
                    chart: spec["chart"].as_str().unwrap_or_default().to_string(),
                    namespace: spec
                        .get("namespace")
                        .and_then(|v| v.as_str())
                        .unwrap_or("default")
                        .to_string(),
                    values: strings(spec.get("values"))
                        .into_iter()
                        .map(|f| rel(root, &vdir.join(f)))
                        .collect(),
                });
            }
            let ccomps = c
                .get("components")
                .and_then(|v| v.as_table())
                .unwrap_or(&empty);
            let mut overlays = Vec::new();
            for (comp, spec) in ccomps {
                if !comps.iter().any(|r| &r.component == comp) {
                    comps.push(Render {
                        cluster: name.clone(),
                        component: comp.clone(),
                        chart: String::new(),
                        namespace: "default".into(),
                        values: Vec::new(),
                    });
                }
                let r = comps
                    .iter_mut()
                    .find(|r| &r.component == comp)
                    .expect("just added");
                if let Some(chart) = spec.get("chart").and_then(|v| v.as_str()) {
                    r.chart = chart.to_string();
                }
                if let Some(ns) = spec.get("namespace").and_then(|v| v.as_str()) {
                    r.namespace = ns.to_string();
                }
                overlays.push((
                    comp.clone(),
                    strings(spec.get("values"))
                        .into_iter()
                        .map(|f| rel(root, &cluster_dir.join(f)))
                        .collect::<Vec<_>>(),
                ));
            }
            for r in &mut comps {
                let group_values = group_dir
                    .join("values")
                    .join(format!("{}.yaml", r.component));
                if group_values.is_file() {
                    r.values.push(rel(root, &group_values));
                }
                if let Some((_, files)) = overlays.iter().find(|(c, _)| c == &r.component) {
                    r.values.extend(files.iter().cloned());
                }
            }
            out.extend(comps);
        }
    }
    out.sort_by(|a, b| (&a.cluster, &a.component).cmp(&(&b.cluster, &b.component)));
    out
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    let text = fs::read_to_string(path).ok()?;
    Some(
        text.parse::<toml::Table>()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
}

fn strings(v: Option<&toml::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn sorted_dirs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
