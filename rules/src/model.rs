//! The declarations users write (DESIGN §2), parsed with spans.
//!
//! `workspace.toml` → [`WorkspaceDecl`], `voyages/<v>/voyage.toml` → [`VoyageDecl`],
//! `clusters/<group>/<cluster>/cluster.toml` → [`ClusterDecl`]. Parsing checks each file on
//! its own (syntax, unknown keys, types, required keys); `load` checks the workspace as a
//! whole (references, paths, cycles, duplicates).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use toml::de::{DeTable, DeValue};
use wayfinder_engine::{Reader, Writer};

use crate::diag::Problem;
use crate::tomlread::{Sp, TomlFile};

/// `workspace.toml`.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceDecl {
    pub name: String,
    pub kube_version: Option<Sp<String>>,
    pub api_versions: Vec<String>,
    pub cache_dir: Option<String>,
    pub output_dir: String,
    /// `[registry] url` (`oci://host/prefix`): where voyages are pushed and pulled.
    pub registry: Option<Sp<String>>,
    /// `[cache] remote`: an `http(s)://` or `oci://` remote cache.
    pub remote_cache: Option<Sp<String>>,
    /// `[cache] remote_write` (default true; false: read-only).
    pub remote_write: Option<bool>,
}

/// A component as a voyage or a cluster declares it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ComponentDecl {
    pub name: Sp<String>,
    /// A workspace path (`charts/web`).
    pub chart: Option<Sp<String>>,
    /// A remote chart (`{ oci = …, version = …, digest = … }`): its span.
    pub remote_chart: Option<Range<usize>>,
    pub namespace: Option<Sp<String>>,
    pub release: Option<Sp<String>>,
    /// Values files, relative to the declaring file's directory.
    pub values: Vec<Sp<String>>,
    pub needs: Vec<Sp<String>>,
    pub enabled: Option<bool>,
}

/// `voyage.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct VoyageDecl {
    pub name: Sp<String>,
    pub version: Sp<String>,
    pub description: String,
    pub components: Vec<ComponentDecl>,
    /// `[tests] policies`: globs relative to the voyage directory.
    pub policies: Vec<Sp<String>>,
}

/// `cluster.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ClusterDecl {
    /// Defaults to the directory name (empty span).
    pub name: Option<Sp<String>>,
    /// `NAME@VERSION` (or `NAME`).
    pub voyage: Option<Sp<String>>,
    pub labels: BTreeMap<String, String>,
    pub plan: Option<String>,
    pub components: Vec<ComponentDecl>,
}

impl Default for Sp<String> {
    fn default() -> Self {
        Sp::new(String::new(), 0..0)
    }
}

const WORKSPACE_KEYS: &[&str] = &[
    "workspace",
    "registry",
    "cache",
    "output",
    "track",
    "station",
    "tests",
];
const VOYAGE_KEYS: &[&str] = &["name", "version", "description", "components", "tests"];
const CLUSTER_KEYS: &[&str] = &["name", "voyage", "labels", "plan", "components"];
const COMPONENT_KEYS: &[&str] = &[
    "chart",
    "namespace",
    "release",
    "values",
    "needs",
    "enabled",
];

/// Parses `workspace.toml`.
pub(crate) fn parse_workspace(
    file: &str,
    src: &Arc<String>,
) -> Result<WorkspaceDecl, Vec<Problem>> {
    let mut f = TomlFile::new(file, src);
    let Some(root) = f.parse() else {
        return Err(f.problems);
    };
    let root = root.get_ref();
    f.check_keys(root, "", WORKSPACE_KEYS);
    let mut decl = WorkspaceDecl {
        output_dir: "out".into(),
        ..Default::default()
    };
    if let Some((w, _)) = f.table(root, "", "workspace") {
        f.check_keys(w, "workspace", &["name", "kube_version", "api_versions"]);
        decl.name = f
            .str(w, "workspace", "name")
            .map(|s| s.v)
            .unwrap_or_default();
        decl.kube_version = f.str(w, "workspace", "kube_version");
        decl.api_versions = f
            .str_list(w, "workspace", "api_versions")
            .into_iter()
            .map(|s| s.v)
            .collect();
    }
    if let Some((r, _)) = f.table(root, "", "registry") {
        f.check_keys(r, "registry", &["url"]);
        decl.registry = f.str(r, "registry", "url");
    }
    if let Some((c, _)) = f.table(root, "", "cache") {
        f.check_keys(c, "cache", &["dir", "remote", "remote_write", "max_size"]);
        decl.cache_dir = f.str(c, "cache", "dir").map(|s| s.v);
        decl.remote_cache = f.str(c, "cache", "remote");
        decl.remote_write = f.bool(c, "cache", "remote_write").map(|b| b.v);
    }
    if let Some((o, _)) = f.table(root, "", "output") {
        f.check_keys(o, "output", &["dir"]);
        if let Some(d) = f.str(o, "output", "dir") {
            if d.v.trim().is_empty() || d.v.split(['/', '\\']).any(|c| c == "..") {
                f.problem(
                    d.span,
                    "wayfinder::workspace::output",
                    format!("output directory `{}` must stay inside the workspace", d.v),
                )
                .help = Some("use a relative path such as `out`".into());
            } else {
                decl.output_dir = d.v;
            }
        }
    }
    if let Some(t) = root.get("track") {
        match t.get_ref() {
            DeValue::Array(a) => {
                for item in a.iter() {
                    if let DeValue::Table(tt) = item.get_ref() {
                        f.check_keys(tt, "track", &["name", "stations"]);
                        f.str(tt, "track", "name");
                        f.str_list(tt, "track", "stations");
                    }
                }
            }
            _ => {
                f.problem(
                    t.span(),
                    "wayfinder::toml::type",
                    "`track` must be an array of tables (`[[track]]`)".into(),
                );
            }
        }
    }
    if let Some((s, _)) = f.table(root, "", "station") {
        for (name, v) in s.iter() {
            let path = format!("station.{}", name.get_ref());
            if let DeValue::Table(st) = v.get_ref() {
                f.check_keys(st, &path, &["clusters", "gate"]);
                f.str_map(st, &path, "clusters");
                if let Some((g, _)) = f.table(st, &path, "gate") {
                    f.check_keys(g, &format!("{path}.gate"), &["command", "soak"]);
                }
            }
        }
    }
    if f.problems.is_empty() {
        Ok(decl)
    } else {
        Err(f.problems)
    }
}

fn parse_components(f: &mut TomlFile<'_>, root: &DeTable<'_>) -> Vec<ComponentDecl> {
    let mut out = Vec::new();
    let Some((comps, _)) = f.table(root, "", "components") else {
        return out;
    };
    for (name, v) in comps.iter() {
        let path = format!("components.{}", name.get_ref());
        let DeValue::Table(t) = v.get_ref() else {
            f.problem(
                v.span(),
                "wayfinder::toml::type",
                format!("`{path}` must be a table"),
            );
            continue;
        };
        f.check_keys(t, &path, COMPONENT_KEYS);
        let mut c = ComponentDecl {
            name: Sp::new(name.get_ref().to_string(), name.span()),
            ..Default::default()
        };
        if let Some(chart) = t.get("chart") {
            match chart.get_ref() {
                DeValue::String(s) => c.chart = Some(Sp::new(s.to_string(), chart.span())),
                DeValue::Table(ct) => {
                    f.check_keys(ct, &format!("{path}.chart"), &["oci", "version", "digest"]);
                    c.remote_chart = Some(chart.span());
                }
                _ => {
                    f.problem(chart.span(), "wayfinder::toml::type", format!("`{path}.chart` must be a workspace path or `{{ oci, version, digest }}`"));
                }
            }
        }
        c.namespace = f.str(t, &path, "namespace");
        c.release = f.str(t, &path, "release");
        c.values = f.str_list(t, &path, "values");
        c.needs = f.str_list(t, &path, "needs");
        c.enabled = f.bool(t, &path, "enabled").map(|b| b.v);
        out.push(c);
    }
    out
}

/// Parses a `voyage.toml`.
pub(crate) fn parse_voyage(file: &str, src: &Arc<String>) -> Result<VoyageDecl, Vec<Problem>> {
    let mut f = TomlFile::new(file, src);
    let Some(root) = f.parse() else {
        return Err(f.problems);
    };
    let span = root.span();
    let root = root.get_ref();
    f.check_keys(root, "", VOYAGE_KEYS);
    let name = f.str(root, "", "name");
    let version = f.str(root, "", "version");
    if name.is_none() && !root.contains_key("name") {
        f.missing(
            span.clone(),
            "name",
            "add `name = \"…\"` at the top of the file",
        );
    }
    if version.is_none() && !root.contains_key("version") {
        f.missing(
            span,
            "version",
            "add a semver version such as `version = \"1.0.0\"`",
        );
    }
    if let Some(v) = &version {
        if !is_semver(&v.v) {
            f.problem(
                v.span.clone(),
                "wayfinder::voyage::version",
                format!("voyage version `{}` is not a semantic version", v.v),
            )
            .help = Some("use MAJOR.MINOR.PATCH, such as `1.5.0`".into());
        }
    }
    let description = f
        .str(root, "", "description")
        .map(|s| s.v)
        .unwrap_or_default();
    let components = parse_components(&mut f, root);
    let mut policies = Vec::new();
    if let Some((t, _)) = f.table(root, "", "tests") {
        f.check_keys(t, "tests", &["policies"]);
        policies = f.str_list(t, "tests", "policies");
    }
    for c in &components {
        if c.chart.is_none() && c.remote_chart.is_none() {
            f.problem(
                c.name.span.clone(),
                "wayfinder::toml::missing_key",
                format!("component `{}` has no `chart`", c.name.v),
            )
            .help = Some("add `chart = \"charts/NAME\"`".into());
        }
    }
    if f.problems.is_empty() {
        Ok(VoyageDecl {
            name: name.unwrap_or_default(),
            version: version.unwrap_or_default(),
            description,
            components,
            policies,
        })
    } else {
        Err(f.problems)
    }
}

/// Parses a `cluster.toml`.
pub(crate) fn parse_cluster(file: &str, src: &Arc<String>) -> Result<ClusterDecl, Vec<Problem>> {
    let mut f = TomlFile::new(file, src);
    let Some(root) = f.parse() else {
        return Err(f.problems);
    };
    let span = root.span();
    let root = root.get_ref();
    f.check_keys(root, "", CLUSTER_KEYS);
    let name = f.str(root, "", "name");
    let voyage = f.str(root, "", "voyage");
    let labels = f.str_map(root, "", "labels").into_iter().collect();
    let plan = f.str(root, "", "plan").map(|s| s.v);
    let components = parse_components(&mut f, root);
    if voyage.is_none() && components.is_empty() && !root.contains_key("voyage") {
        f.missing(
            span,
            "voyage",
            "pin a voyage such as `voyage = \"core@1.5.0\"`",
        );
    }
    if f.problems.is_empty() {
        Ok(ClusterDecl {
            name,
            voyage,
            labels,
            plan,
            components,
        })
    } else {
        Err(f.problems)
    }
}

/// `MAJOR.MINOR.PATCH` with optional `-pre` and `+build`.
pub(crate) fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

// ---- binary encoding of parsed declarations (the model cache: no re-parse on no-op builds)

fn put_sp(w: &mut Writer, s: &Sp<String>) {
    w.str(&s.v).u64(s.span.start as u64).u64(s.span.end as u64);
}
fn get_sp(r: &mut Reader<'_>) -> Option<Sp<String>> {
    let v = r.str()?.to_string();
    let a = r.u64()? as usize;
    let b = r.u64()? as usize;
    Some(Sp::new(v, a..b))
}
fn put_opt(w: &mut Writer, s: &Option<Sp<String>>) {
    match s {
        None => {
            w.u64(0);
        }
        Some(s) => {
            w.u64(1);
            put_sp(w, s);
        }
    }
}
fn get_opt(r: &mut Reader<'_>) -> Option<Option<Sp<String>>> {
    match r.u64()? {
        0 => Some(None),
        1 => Some(Some(get_sp(r)?)),
        _ => None,
    }
}
fn put_list(w: &mut Writer, l: &[Sp<String>]) {
    w.u64(l.len() as u64);
    for s in l {
        put_sp(w, s);
    }
}
fn get_list(r: &mut Reader<'_>) -> Option<Vec<Sp<String>>> {
    (0..r.count(24)?).map(|_| get_sp(r)).collect()
}

fn put_component(w: &mut Writer, c: &ComponentDecl) {
    put_sp(w, &c.name);
    put_opt(w, &c.chart);
    match &c.remote_chart {
        None => w.u64(0),
        Some(s) => w.u64(1).u64(s.start as u64).u64(s.end as u64),
    };
    put_opt(w, &c.namespace);
    put_opt(w, &c.release);
    put_list(w, &c.values);
    put_list(w, &c.needs);
    w.u64(match c.enabled {
        None => 0,
        Some(false) => 1,
        Some(true) => 2,
    });
}

fn get_component(r: &mut Reader<'_>) -> Option<ComponentDecl> {
    Some(ComponentDecl {
        name: get_sp(r)?,
        chart: get_opt(r)?,
        remote_chart: match r.u64()? {
            0 => None,
            1 => Some(r.u64()? as usize..r.u64()? as usize),
            _ => return None,
        },
        namespace: get_opt(r)?,
        release: get_opt(r)?,
        values: get_list(r)?,
        needs: get_list(r)?,
        enabled: match r.u64()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        },
    })
}

impl ClusterDecl {
    pub(crate) fn encode(&self, w: &mut Writer) {
        put_opt(w, &self.name);
        put_opt(w, &self.voyage);
        w.u64(self.labels.len() as u64);
        for (k, v) in &self.labels {
            w.str(k).str(v);
        }
        match &self.plan {
            None => w.u64(0),
            Some(p) => w.u64(1).str(p),
        };
        w.u64(self.components.len() as u64);
        for c in &self.components {
            put_component(w, c);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<ClusterDecl> {
        let name = get_opt(r)?;
        let voyage = get_opt(r)?;
        let mut labels = BTreeMap::new();
        for _ in 0..r.count(16)? {
            let k = r.str()?.to_string();
            labels.insert(k, r.str()?.to_string());
        }
        let plan = match r.u64()? {
            0 => None,
            1 => Some(r.str()?.to_string()),
            _ => return None,
        };
        let components = (0..r.count(40)?)
            .map(|_| get_component(r))
            .collect::<Option<Vec<_>>>()?;
        Some(ClusterDecl {
            name,
            voyage,
            labels,
            plan,
            components,
        })
    }
}

impl VoyageDecl {
    pub(crate) fn encode(&self, w: &mut Writer) {
        put_sp(w, &self.name);
        put_sp(w, &self.version);
        w.str(&self.description);
        w.u64(self.components.len() as u64);
        for c in &self.components {
            put_component(w, c);
        }
        put_list(w, &self.policies);
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<VoyageDecl> {
        Some(VoyageDecl {
            name: get_sp(r)?,
            version: get_sp(r)?,
            description: r.str()?.to_string(),
            components: (0..r.count(40)?)
                .map(|_| get_component(r))
                .collect::<Option<Vec<_>>>()?,
            policies: get_list(r)?,
        })
    }
}

impl WorkspaceDecl {
    pub fn encode(&self, w: &mut Writer) {
        w.str(&self.name);
        put_opt(w, &self.kube_version);
        w.u64(self.api_versions.len() as u64);
        for a in &self.api_versions {
            w.str(a);
        }
        match &self.cache_dir {
            None => w.u64(0),
            Some(d) => w.u64(1).str(d),
        };
        w.str(&self.output_dir);
        put_opt(w, &self.registry);
        put_opt(w, &self.remote_cache);
        w.u64(match self.remote_write {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        });
    }

    pub fn decode(r: &mut Reader<'_>) -> Option<WorkspaceDecl> {
        Some(WorkspaceDecl {
            name: r.str()?.to_string(),
            kube_version: get_opt(r)?,
            api_versions: (0..r.count(8)?)
                .map(|_| r.str().map(str::to_string))
                .collect::<Option<Vec<_>>>()?,
            cache_dir: match r.u64()? {
                0 => None,
                1 => Some(r.str()?.to_string()),
                _ => return None,
            },
            output_dir: r.str()?.to_string(),
            registry: get_opt(r)?,
            remote_cache: get_opt(r)?,
            remote_write: match r.u64()? {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(text: &str) -> Result<ClusterDecl, Vec<Problem>> {
        parse_cluster("clusters/g/c/cluster.toml", &Arc::new(text.to_string()))
    }

    #[test]
    fn cluster_parses_and_round_trips() {
        let c = cluster(
            r#"name = "peu01"
voyage = "core@1.5.0"
labels = { env = "prod", region = "eu-west-1" }
plan = "eks"

[components.ingress-nginx]
values = ["values/ingress-nginx.yaml"]
[components.kong]
chart = "charts/kong"
namespace = "kong"
"#,
        )
        .unwrap();
        assert_eq!(c.name.as_ref().unwrap().v, "peu01");
        assert_eq!(c.labels["env"], "prod");
        assert_eq!(c.components.len(), 2);
        let mut w = Writer::new();
        c.encode(&mut w);
        let buf = w.finish();
        assert_eq!(ClusterDecl::decode(&mut Reader::new(&buf)), Some(c));
    }

    #[test]
    fn unknown_keys_are_reported_with_suggestions_and_lines() {
        let errs = cluster("name = \"a\"\nvoyag = \"core@1.0.0\"\n[components.x]\nvalue = []\n")
            .unwrap_err();
        let text: Vec<String> = errs
            .iter()
            .map(|p| format!("{p} ({})", p.help.clone().unwrap_or_default()))
            .collect();
        assert_eq!(
            text,
            [
                "clusters/g/c/cluster.toml:2: unknown key `voyag` (did you mean `voyage`?)",
                "clusters/g/c/cluster.toml:4: unknown key `components.x.value` (did you mean `values`?)",
            ]
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let errs = cluster("name = \"a\"\nvoyage = \n").unwrap_err();
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].line, 2, "{}", errs[0]);
        assert!(errs[0].message.starts_with("invalid TOML"), "{}", errs[0]);
    }

    #[test]
    fn wrong_types() {
        let errs = cluster("voyage = 3\nlabels = { env = 1 }\n").unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            text,
            [
                "clusters/g/c/cluster.toml:1: `voyage` must be a string, found an integer",
                "clusters/g/c/cluster.toml:2: `labels.env` must be a string, found an integer",
            ]
        );
    }

    #[test]
    fn voyage_requires_name_version_and_charts() {
        let errs = parse_voyage(
            "voyages/core/voyage.toml",
            &Arc::new("version = \"1.0\"\n[components.a]\nnamespace = \"x\"\n".into()),
        )
        .unwrap_err();
        let text: Vec<String> = errs.iter().map(|p| p.message.clone()).collect();
        assert!(text.contains(&"missing key `name`".to_string()), "{text:?}");
        assert!(
            text.iter().any(|t| t.contains("not a semantic version")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|t| t.contains("has no `chart`")),
            "{text:?}"
        );
    }

    #[test]
    fn semver() {
        assert!(is_semver("1.5.0"));
        assert!(is_semver("1.5.0-rc.1+b"));
        assert!(!is_semver("1.5"));
        assert!(!is_semver("v1.5.0"));
    }
}
