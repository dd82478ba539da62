//! A whole chart render, as Helm's `engine.Render` does it for `helm template`.
//!
//! Steps of [`render_chart`] (Helm v4.2.3: `action.Install` → `ToRenderValues` → `engine.Render`):
//!
//! 1. the release name is checked (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`,
//!    at most 53 bytes);
//! 2. `chart::prepare` processes dependencies, coalesces and validates values;
//! 3. one "top-level" map per chart is built (Helm's `recAllTpls`): `Chart` (the metadata as a
//!    map with Go field names, plus `IsRoot`), `Files`, `Release`, `Capabilities`, `Values`
//!    (scoped to the subchart) and `Subcharts` (the subcharts' own top-level maps);
//! 4. every template of the chart and its enabled subcharts is parsed into one template set, in
//!    Helm's order (deepest path first, then reverse lexicographic; later `define`s win), and every
//!    non-partial template is executed in that same order with its chart's map as `.`, after
//!    setting `.Template` (`Name`, `BasePath`) in that map, as Helm does;
//! 5. `<no value>` is removed from each output.
//!
//! The parsed template set is cached per thread, keyed by a hash of the template names and
//! sources, so rendering a chart again only executes.

use std::cell::RefCell;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::Arc;

use crate::chart::Chart;
use crate::template::{ExecOptions, TemplateSet};
use crate::value::{Data, FuncCtx, FuncError, MapRef, Object, Value};

mod files;
pub use files::Files;
#[cfg(test)]
use files::Glob;

/// What to render with: release, namespace, capabilities.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    /// `.Capabilities.KubeVersion` such as `v1.31.0`; `None` means Helm's default.
    pub kube_version: Option<String>,
    /// Extra `.Capabilities.APIVersions` (added to Helm's defaults).
    pub api_versions: Vec<String>,
    pub is_upgrade: bool,
    pub revision: i64,
    /// `--strict`-like `missingkey=error`.
    pub strict: bool,
}

impl RenderOptions {
    pub fn new(release_name: &str, namespace: &str) -> RenderOptions {
        RenderOptions {
            release_name: release_name.into(),
            namespace: namespace.into(),
            kube_version: None,
            api_versions: Vec::new(),
            is_upgrade: false,
            revision: 1,
            strict: false,
        }
    }
}

/// The raw per-template output of a render, before `helm template` post-processing.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// `<chart>/templates/x.yaml` → text, for every non-partial template (NOTES.txt included).
    pub manifests: BTreeMap<String, String>,
    /// CRD files of the chart and its enabled subcharts, `(path, text)` in Helm's order.
    pub crds: Vec<(String, String)>,
    /// A nondeterministic function (random, uuid, time, keys) ran: the output is not reproducible.
    pub nondeterministic: bool,
    /// The name of the top chart (`helm template` keeps only its NOTES.txt).
    pub chart_name: String,
}

/// A render failure, with Helm's message.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(wayfinder::render))]
pub struct RenderError {
    pub message: String,
}

impl RenderError {
    fn new(message: impl Into<String>) -> RenderError {
        RenderError {
            message: message.into(),
        }
    }
}

/// Helm's default `.Capabilities.KubeVersion`.
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// Helm's default `.Capabilities.APIVersions` (client-go's scheme, in priority order).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm's `.Capabilities.HelmVersion` (`version.BuildInfo`) for v4.2.x.
const HELM_VERSION: &str = "v4.2";
const HELM_GO_VERSION: &str = "go1.26.6";
const HELM_KUBE_CLIENT_VERSION: &str = "v1.36";

const RELEASE_NAME_MAX_LEN: usize = 53;
const RELEASE_NAME_REGEX: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// Helm's `ValidateReleaseName`, with the message `helm install`/`helm template` print.
pub fn validate_release_name(name: &str) -> Result<(), RenderError> {
    if name.is_empty() {
        return Err(RenderError::new(
            "release name check failed: no name provided",
        ));
    }
    if name.len() > RELEASE_NAME_MAX_LEN || !is_dns_subdomain(name) {
        return Err(RenderError::new(format!(
            "release name check failed: release name {}: invalid release name, must match regex {} and the length must not be longer than 53",
            go_quote(name),
            RELEASE_NAME_REGEX
        )));
    }
    Ok(())
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` labels joined by dots.
fn is_dns_subdomain(name: &str) -> bool {
    name.split('.').all(|label| {
        let b = label.as_bytes();
        let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && alnum(b[0])
            && alnum(b[b.len() - 1])
            && b.iter().all(|&c| alnum(c) || c == b'-')
    })
}

/// Go's `%q` for the common case (printable text); other characters are escaped.
fn go_quote(s: &str) -> String {
    crate::fmt::quote_go(s)
}

/// Renders `chart` with `user_values` (the merged `-f`/`--set` values) like `helm template`.
///
/// Like Helm's `engine.render` (which recovers Go panics as `rendering template failed: …`),
/// a panic inside the render is turned into an error instead of unwinding into the caller.
pub fn render_chart(
    chart: &Chart,
    user_values: &Data,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let run = std::panic::AssertUnwindSafe(|| render_chart_inner(chart, user_values, opts));
    match std::panic::catch_unwind(run) {
        Ok(r) => r,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "internal error".into());
            Err(RenderError::new(format!(
                "rendering template failed: {what}"
            )))
        }
    }
}

fn render_chart_inner(
    chart: &Chart,
    user_values: &Data,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    validate_release_name(&opts.release_name)?;
    let prepared = crate::chart::prepare(chart, user_values)
        .map_err(|e| RenderError { message: e.message })?;
    let caps = Rc::new(Capabilities::new(opts)?);
    let release = release_map(opts);

    let mut units = Vec::new();
    let mut crds = Vec::new();
    let root_values = Value::from_data(&prepared.values);
    build_scope(
        &prepared.chart,
        None,
        &ScopeInputs {
            caps: &caps,
            release: &release,
            root_values: &root_values,
        },
        &mut units,
        &mut crds,
        0,
    )?;
    units.sort_by(|a, b| helm_template_order(&a.name, &b.name));

    let entry = cached_template_set(&units)?;
    let set = match &*entry {
        Ok(set) => set,
        Err(msg) => return Err(RenderError::new(msg.clone())),
    };
    let ctx = FuncCtx::default();
    let exec_opts = ExecOptions {
        strict: opts.strict,
    };
    let mut manifests = BTreeMap::new();
    for u in &units {
        if is_partial(&u.name) {
            continue;
        }
        let mut tpl = BTreeMap::new();
        tpl.insert("Name".to_string(), Value::str(&u.name));
        tpl.insert("BasePath".to_string(), Value::str(&u.base_path));
        u.scope
            .borrow_mut()
            .insert("Template".into(), Value::map(tpl));
        let dot = Value::Map(u.scope.clone());
        let out = set.execute(&u.name, dot, &ctx, &exec_opts).map_err(|e| {
            RenderError::new(reformat_exec_error(&u.name, &e.message, &e.chain, e.exec))
        })?;
        let out = if out.contains("<no value>") {
            out.replace("<no value>", "")
        } else {
            out
        };
        manifests.insert(u.name.clone(), out);
    }
    Ok(Rendered {
        manifests,
        crds,
        nondeterministic: ctx.nondeterministic.get(),
        chart_name: prepared.chart.name().to_string(),
    })
}

/// One template to parse (and, unless a partial, execute).
struct Unit<'a> {
    name: String,
    source: &'a Arc<[u8]>,
    base_path: String,
    scope: MapRef,
}

struct ScopeInputs<'a> {
    caps: &'a Rc<Capabilities>,
    release: &'a Value,
    root_values: &'a Value,
}

const MAX_CHART_DEPTH: usize = 64;

/// Helm's `recAllTpls`: builds the chart's top-level map, recursing into subcharts first.
fn build_scope<'a>(
    chart: &'a Chart,
    parent: Option<(&MapRef, &str)>,
    inputs: &ScopeInputs<'_>,
    units: &mut Vec<Unit<'a>>,
    crds: &mut Vec<(String, String)>,
    depth: usize,
) -> Result<MapRef, RenderError> {
    if depth > MAX_CHART_DEPTH {
        return Err(RenderError::new("chart dependencies are nested too deeply"));
    }
    let name = chart.name();
    let full_path = match parent {
        None => name.to_string(),
        Some((_, parent_path)) => format!("{parent_path}/charts/{name}"),
    };
    let values = match parent {
        None => inputs.root_values.clone(),
        Some((parent_scope, _)) => {
            let parent_values = parent_scope.borrow().get("Values").cloned();
            parent_values
                .and_then(|v| table(&v, name))
                .unwrap_or_else(Value::empty_map)
        }
    };
    let subcharts: MapRef = Rc::new(RefCell::new(BTreeMap::new()));
    let mut top = BTreeMap::new();
    top.insert(
        "Chart".to_string(),
        Value::from_data(&crate::chart::chart_template_object(
            &chart.metadata,
            parent.is_none(),
        )),
    );
    top.insert(
        "Files".to_string(),
        Value::Object(Rc::new(Files::from_chart(&chart.files))),
    );
    top.insert("Release".to_string(), inputs.release.clone());
    top.insert(
        "Capabilities".to_string(),
        Value::Object(inputs.caps.clone()),
    );
    top.insert("Values".to_string(), values);
    top.insert("Subcharts".to_string(), Value::Map(subcharts.clone()));
    let scope: MapRef = Rc::new(RefCell::new(top));

    for f in &chart.files {
        if f.name.starts_with("crds/") && has_manifest_extension(&f.name) {
            crds.push((
                format!("{full_path}/{}", f.name),
                String::from_utf8_lossy(&f.data).into_owned(),
            ));
        }
    }
    for dep in &chart.dependencies {
        let child = build_scope(
            dep,
            Some((&scope, &full_path)),
            inputs,
            units,
            crds,
            depth + 1,
        )?;
        subcharts
            .borrow_mut()
            .insert(dep.name().to_string(), Value::Map(child));
    }

    let library = chart_type(chart).eq_ignore_ascii_case("library");
    for t in &chart.templates {
        if library && !base_name(&t.name).starts_with('_') {
            continue;
        }
        units.push(Unit {
            name: path_join(&full_path, &t.name),
            source: &t.data,
            base_path: format!("{full_path}/templates"),
            scope: scope.clone(),
        });
    }
    Ok(scope)
}

/// Go's `Values.Table(name)` on a `.Values` value: walks `a.b` through maps.
fn table(values: &Value, name: &str) -> Option<Value> {
    let mut cur = values.clone();
    for part in name.split('.') {
        let next = match &cur {
            Value::Map(m) => m.borrow().get(part).cloned(),
            _ => None,
        };
        cur = match next {
            Some(v @ Value::Map(_)) => v,
            _ => return None,
        };
    }
    Some(cur)
}

fn base_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

fn is_partial(name: &str) -> bool {
    base_name(name).starts_with('_')
}

/// `path.Join(a, b)` for the relative, clean paths charts use.
fn path_join(a: &str, b: &str) -> String {
    let joined = format!("{a}/{b}");
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn has_manifest_extension(name: &str) -> bool {
    let ext = match base_name(name).rfind('.') {
        Some(i) => &base_name(name)[i..],
        None => return false,
    };
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|e| ext.eq_ignore_ascii_case(e))
}

/// Helm's `sortTemplates`: more `/` first, then reverse lexicographic.
pub fn helm_template_order(a: &str, b: &str) -> std::cmp::Ordering {
    let ca = a.matches('/').count();
    let cb = b.matches('/').count();
    cb.cmp(&ca).then_with(|| b.cmp(a))
}

fn release_map(opts: &RenderOptions) -> Value {
    let mut m = BTreeMap::new();
    m.insert("Name".to_string(), Value::str(&opts.release_name));
    m.insert("Namespace".to_string(), Value::str(&opts.namespace));
    m.insert("IsUpgrade".to_string(), Value::Bool(opts.is_upgrade));
    m.insert("IsInstall".to_string(), Value::Bool(!opts.is_upgrade));
    m.insert("Revision".to_string(), Value::Int(opts.revision));
    m.insert("Service".to_string(), Value::str("Helm"));
    Value::map(m)
}

// ---------------------------------------------------------------------------------------------
// .Chart

fn meta<'a>(chart: &'a Chart, key: &str) -> Option<&'a Data> {
    chart.metadata.as_map().and_then(|m| m.get(key))
}

fn chart_type(chart: &Chart) -> String {
    meta(chart, "type")
        .map(data_to_go_string)
        .unwrap_or_default()
}

/// A scalar read into a Go `string` field.
fn data_to_go_string(d: &Data) -> String {
    match d {
        Data::Null => String::new(),
        Data::Bool(b) => b.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => crate::fmt::format_float_v(*f),
        Data::String(s) => s.clone(),
        other => crate::fmt::sprint_v(&Value::from_data(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// .Capabilities

/// `*common.Capabilities`.
pub struct Capabilities {
    kube: Rc<KubeVersion>,
    api_versions: Rc<VersionSet>,
    helm: Rc<BuildInfo>,
}

impl Capabilities {
    pub fn new(opts: &RenderOptions) -> Result<Capabilities, RenderError> {
        let kube = match &opts.kube_version {
            None => KubeVersion::parse(DEFAULT_KUBE_VERSION),
            Some(v) => KubeVersion::parse(v),
        }
        .ok_or_else(|| {
            RenderError::new(format!(
                "invalid kube version '{}': could not parse {} as version",
                opts.kube_version.as_deref().unwrap_or_default(),
                go_quote(opts.kube_version.as_deref().unwrap_or_default())
            ))
        })?;
        let mut versions: Vec<String> =
            DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
        versions.extend(opts.api_versions.iter().cloned());
        Ok(Capabilities {
            kube: Rc::new(kube),
            api_versions: Rc::new(VersionSet(versions)),
            helm: Rc::new(BuildInfo),
        })
    }
}

impl Object for Capabilities {
    fn type_name(&self) -> &str {
        "*common.Capabilities"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "KubeVersion" => Some(Value::Object(self.kube.clone())),
            "APIVersions" => Some(Value::Object(self.api_versions.clone())),
            "HelmVersion" => Some(Value::Object(self.helm.clone())),
            "Copy" => Some(Value::Object(Rc::new(Capabilities {
                kube: self.kube.clone(),
                api_versions: self.api_versions.clone(),
                helm: self.helm.clone(),
            }))),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        format!(
            "&{{{} {} {}}}",
            self.kube.struct_string(),
            self.api_versions.go_string(),
            self.helm.go_string()
        )
    }
    fn to_data(&self) -> Data {
        let mut m = BTreeMap::new();
        m.insert("KubeVersion".to_string(), self.kube.to_data());
        m.insert("APIVersions".to_string(), self.api_versions.to_data());
        m.insert("HelmVersion".to_string(), self.helm.to_data());
        Data::Map(m)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `common.KubeVersion`: prints as its normalized version (it is a `Stringer`).
pub struct KubeVersion {
    version: String,
    normalized: String,
    major: String,
    minor: String,
}

impl KubeVersion {
    /// `common.ParseKubeVersion` (k8s `ParseGeneric`: `[v]MAJOR.MINOR[.PATCH…]` with optional
    /// pre-release/build suffix, which the normalized form drops).
    pub fn parse(v: &str) -> Option<KubeVersion> {
        let t = v.trim();
        let body = t.strip_prefix('v').unwrap_or(t);
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let numeric = &body[..end];
        let rest = &body[end..];
        if !rest.is_empty() && !rest.starts_with('-') && !rest.starts_with('+') {
            return None;
        }
        let parts: Vec<&str> = numeric.split('.').collect();
        if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let nums: Option<Vec<u64>> = parts.iter().map(|p| p.parse::<u64>().ok()).collect();
        let nums = nums?;
        let normalized = format!(
            "v{}",
            nums.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(".")
        );
        let version = if v.starts_with('v') {
            v.to_string()
        } else {
            format!("v{v}")
        };
        Some(KubeVersion {
            version,
            normalized,
            major: nums[0].to_string(),
            minor: nums[1].to_string(),
        })
    }

    fn struct_string(&self) -> String {
        format!(
            "{{{} {} {} {}}}",
            self.version, self.normalized, self.major, self.minor
        )
    }
}

impl Object for KubeVersion {
    fn type_name(&self) -> &str {
        "common.KubeVersion"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" | "GitVersion" => Some(Value::str(&self.version)),
            "Major" => Some(Value::str(&self.major)),
            "Minor" => Some(Value::str(&self.minor)),
            "String" => Some(Value::str(&self.normalized)),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        self.normalized.clone()
    }
    fn to_data(&self) -> Data {
        let mut m = BTreeMap::new();
        m.insert("Version".to_string(), Data::String(self.version.clone()));
        m.insert("Major".to_string(), Data::String(self.major.clone()));
        m.insert("Minor".to_string(), Data::String(self.minor.clone()));
        Data::Map(m)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `common.VersionSet` (`[]string` with a `Has` method).
pub struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "common.VersionSet"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn has_method(&self, name: &str) -> bool {
        name == "Has"
    }
    fn call_method(&self, name: &str, args: &[Value]) -> Result<Value, FuncError> {
        if name != "Has" {
            return Err(FuncError::new(format!("can't call method {name}")));
        }
        match args {
            [Value::String(s)] => Ok(Value::Bool(self.0.iter().any(|v| v == &**s))),
            [other] => Err(FuncError::new(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            ))),
            _ => Err(FuncError::new(format!(
                "wrong number of args for Has: want 1 got {}",
                args.len()
            ))),
        }
    }
    fn go_string(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn as_value(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|s| Value::str(s)).collect()))
    }
    fn to_data(&self) -> Data {
        Data::List(self.0.iter().map(|s| Data::String(s.clone())).collect())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// `version.BuildInfo`.
pub struct BuildInfo;

impl Object for BuildInfo {
    fn type_name(&self) -> &str {
        "version.BuildInfo"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Version" => Some(Value::str(HELM_VERSION)),
            "GitCommit" | "GitTreeState" => Some(Value::str("")),
            "GoVersion" => Some(Value::str(HELM_GO_VERSION)),
            "KubeClientVersion" => Some(Value::str(HELM_KUBE_CLIENT_VERSION)),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        format!("{{{HELM_VERSION}   {HELM_GO_VERSION} {HELM_KUBE_CLIENT_VERSION}}}")
    }
    fn to_data(&self) -> Data {
        let mut m = BTreeMap::new();
        m.insert("version".to_string(), Data::String(HELM_VERSION.into()));
        m.insert(
            "go_version".to_string(),
            Data::String(HELM_GO_VERSION.into()),
        );
        m.insert(
            "kube_client_version".to_string(),
            Data::String(HELM_KUBE_CLIENT_VERSION.into()),
        );
        Data::Map(m)
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing (cached) and error messages

type CachedSet = Rc<Result<TemplateSet, String>>;

/// A parse of one chart's templates, with the (name, source) list it was made from: a lookup
/// key only narrows the search, the list decides (so no hash collision can hand a chart
/// another chart's templates). Sources are the chart's shared buffers: a render of the same
/// loaded chart compares pointers; a reload compares bytes (much cheaper than hashing them).
struct CacheEntry {
    units: Vec<(String, Arc<[u8]>)>,
    set: CachedSet,
}

thread_local! {
    static TEMPLATE_CACHE: RefCell<HashMap<u64, CacheEntry>> = RefCell::new(HashMap::new());
}

const TEMPLATE_CACHE_MAX: usize = 64;

/// The cache key: the template names and sizes (the contents are compared on a hit).
fn units_key(units: &[Unit<'_>]) -> u64 {
    let mut h = DefaultHasher::new();
    units.len().hash(&mut h);
    for u in units {
        u.name.hash(&mut h);
        u.source.len().hash(&mut h);
    }
    h.finish()
}

fn same_units(cached: &[(String, Arc<[u8]>)], units: &[Unit<'_>]) -> bool {
    cached.len() == units.len()
        && cached.iter().zip(units).all(|((name, src), u)| {
            *name == u.name && (Arc::ptr_eq(src, u.source) || src[..] == u.source[..])
        })
}

/// Parses the units (already in Helm's order) into one set, or reuses a cached parse.
fn cached_template_set(units: &[Unit<'_>]) -> Result<CachedSet, RenderError> {
    let key = units_key(units);
    let cached = TEMPLATE_CACHE.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|e| same_units(&e.units, units))
            .map(|e| e.set.clone())
    });
    let entry = match cached {
        Some(e) => e,
        None => {
            let parsed = parse_units(units);
            let entry: CachedSet = Rc::new(parsed);
            let list = units
                .iter()
                .map(|u| (u.name.clone(), u.source.clone()))
                .collect();
            TEMPLATE_CACHE.with(|c| {
                let mut c = c.borrow_mut();
                if c.len() >= TEMPLATE_CACHE_MAX {
                    c.clear();
                }
                c.insert(
                    key,
                    CacheEntry {
                        units: list,
                        set: entry.clone(),
                    },
                );
            });
            entry
        }
    };
    match &*entry {
        Ok(_) => Ok(entry),
        Err(msg) => Err(RenderError::new(msg.clone())),
    }
}

fn parse_units(units: &[Unit<'_>]) -> Result<TemplateSet, String> {
    let mut set = TemplateSet::new();
    for u in units {
        let src = String::from_utf8_lossy(&u.source[..]);
        set.parse(&u.name, &src)
            .map_err(|e| format_parse_error(&u.name, &e.message))?;
    }
    Ok(set)
}

/// Helm's `cleanupParseError`.
fn format_parse_error(filename: &str, msg: &str) -> String {
    let tokens: Vec<&str> = msg.split(": ").collect();
    if tokens.len() == 1 {
        return format!("parse error in ({filename}): {msg}");
    }
    format!(
        "parse error at ({}): {}",
        tokens[1],
        tokens[tokens.len() - 1]
    )
}

const WARN_START: &str = "HELM_ERR_START";
const WARN_END: &str = "HELM_ERR_END";

/// Helm's `reformatExecErrorMsg` for an execution error without its Go error chain: the chain
/// is rebuilt from the text (each `error calling X: template: …` starts a new link).
pub fn format_exec_error(filename: &str, msg: &str) -> String {
    let mut chain = vec![msg.to_string()];
    let mut rest = msg;
    while let Some(i) = rest.find(": template: ") {
        rest = &rest[i + 2..];
        chain.push(rest.to_string());
    }
    reformat_exec_error(filename, msg, &chain, true)
}

/// Helm's `reformatExecErrorMsg`: `message` is the error text, `chain` what `errors.Unwrap`
/// walks (starting with the error itself), `exec` whether it is a `template.ExecError`.
pub fn reformat_exec_error(filename: &str, message: &str, chain: &[String], exec: bool) -> String {
    if !exec {
        return message.to_string();
    }
    let tokens: Vec<&str> = message.splitn(3, ": ").collect();
    if tokens.len() != 3 {
        return format!("execution error in ({filename}): {message}");
    }
    if let Some(inner) = warn_text(tokens[2]) {
        return format!("execution error at ({}): {}", tokens[1], inner);
    }
    let mut levels: Vec<Traceable> = Vec::new();
    for link in chain {
        let Some(t) = parse_traceable(link) else {
            return message.to_string();
        };
        if levels.last() != Some(&t) {
            levels.push(t);
        }
    }
    let mut out = String::new();
    for t in &levels {
        if !t.location.is_empty() {
            out.push_str(&t.location);
            out.push_str("\n  ");
        }
        if !t.function.is_empty() {
            out.push_str(&t.function);
            out.push_str("\n    ");
        }
        if !t.message.is_empty() {
            out.push_str(&t.message);
            out.push('\n');
        }
    }
    out.trim().to_string()
}

/// `HELM_ERR_START((?s).*)HELM_ERR_END`: from the first start marker to the last end marker.
fn warn_text(s: &str) -> Option<&str> {
    let start = s.find(WARN_START)? + WARN_START.len();
    let end = s[start..].rfind(WARN_END)? + start;
    Some(&s[start..end])
}

/// Helm's `TraceableError`.
#[derive(PartialEq, Debug)]
struct Traceable {
    location: String,
    function: String,
    message: String,
}

/// Cuts a message at its chained ` template:` error.
fn cut_chained(m: &str) -> &str {
    match m.find(" template:") {
        Some(i) => &m[..i],
        None => m,
    }
}

/// Helm's `parseTemplateExecErrorString`.
fn parse_traceable(s: &str) -> Option<Traceable> {
    let remainder = s.strip_prefix("template: ")?;
    if remainder.starts_with("no template ") {
        return Some(Traceable {
            location: String::new(),
            function: String::new(),
            message: s.to_string(),
        });
    }
    let executing = || -> Option<Traceable> {
        let (name, after) = remainder.split_once(": executing ")?;
        let after = after.strip_prefix('"')?;
        let q = after.find('"')?;
        let func = &after[..q];
        let after_at = after[q + 1..].strip_prefix(" at <")?;
        let (loc, msg) = after_at.split_once(">: ")?;
        Some(Traceable {
            location: name.to_string(),
            function: format!("executing \"{func}\" at <{loc}>:"),
            message: cut_chained(msg).to_string(),
        })
    };
    if let Some(t) = executing() {
        return Some(t);
    }
    let sep = remainder.rfind(": ")?;
    Some(Traceable {
        location: remainder[..sep].to_string(),
        function: String::new(),
        message: cut_chained(&remainder[sep + 2..]).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::ChartFile;

    #[test]
    fn release_names() {
        assert!(validate_release_name("rel").is_ok());
        assert!(validate_release_name("a.b-c").is_ok());
        assert!(validate_release_name("Podinfo_Release").is_err());
        assert!(validate_release_name("-a").is_err());
        assert!(validate_release_name("a.").is_err());
        assert!(validate_release_name(&"a".repeat(53)).is_ok());
        assert!(validate_release_name(&"a".repeat(54)).is_err());
        let e = validate_release_name("Podinfo_Release").unwrap_err();
        assert!(e.message.starts_with(
            "release name check failed: release name \"Podinfo_Release\": invalid release name"
        ));
    }

    #[test]
    fn template_order() {
        let mut v = vec![
            "a/templates/x.yaml",
            "a/templates/y.yaml",
            "a/charts/b/templates/z.yaml",
            "a/templates/sub/w.yaml",
        ];
        v.sort_by(|a, b| helm_template_order(a, b));
        assert_eq!(
            v,
            vec![
                "a/charts/b/templates/z.yaml",
                "a/templates/sub/w.yaml",
                "a/templates/y.yaml",
                "a/templates/x.yaml"
            ]
        );
    }

    #[test]
    fn kube_versions() {
        let k = KubeVersion::parse("v1.31.4").unwrap();
        assert_eq!((k.major.as_str(), k.minor.as_str()), ("1", "31"));
        assert_eq!(k.go_string(), "v1.31.4");
        let k = KubeVersion::parse("1.30").unwrap();
        assert_eq!(k.version, "v1.30");
        assert!(KubeVersion::parse("banana").is_none());
    }

    #[test]
    fn globs() {
        let g = Glob::compile("dashboards/*.json").unwrap();
        assert!(g.matches("dashboards/a.json"));
        assert!(!g.matches("dashboards/x/a.json"));
        assert!(Glob::compile("**.json").unwrap().matches("a/b/c.json"));
        assert!(Glob::compile("files/{a,b}.txt")
            .unwrap()
            .matches("files/b.txt"));
        assert!(Glob::compile("f[0-9]").unwrap().matches("f7"));
        assert!(!Glob::compile("f[!0-9]").unwrap().matches("f7"));
        assert!(Glob::compile("[").is_none());
    }

    #[test]
    fn exec_errors() {
        let m = "template: c/templates/a.yaml:3:8: executing \"c/templates/a.yaml\" at <fail \"x\">: error calling fail: HELM_ERR_STARTboomHELM_ERR_END";
        assert_eq!(
            format_exec_error("c/templates/a.yaml", m),
            "execution error at (c/templates/a.yaml:3:8): boom"
        );
        let m = "template: k/a.yaml:42:15: executing \"k/a.yaml\" at <include \"x\" .>: error calling include: template: k/_h.tpl:74:51: executing \"x\" at <$w.n>: can't evaluate field n in type []interface {}";
        assert_eq!(
            format_exec_error("k/a.yaml", m),
            "k/a.yaml:42:15\n  executing \"k/a.yaml\" at <include \"x\" .>:\n    error calling include:\nk/_h.tpl:74:51\n  executing \"x\" at <$w.n>:\n    can't evaluate field n in type []interface {}"
        );
    }

    fn chart(files: &[(&str, &str)]) -> Chart {
        let mut md = BTreeMap::new();
        md.insert("apiVersion".to_string(), Data::String("v2".into()));
        md.insert("name".to_string(), Data::String("c".into()));
        md.insert("version".to_string(), Data::String("0.1.0".into()));
        Chart {
            metadata: Data::Map(md),
            templates: files
                .iter()
                .map(|(n, t)| ChartFile {
                    name: n.to_string(),
                    data: t.as_bytes().into(),
                })
                .collect(),
            values: Data::empty_map(),
            ..Default::default()
        }
    }

    #[test]
    fn executes_in_helm_order_and_strips_no_value() {
        let c = chart(&[
            ("templates/a.yaml", "a={{ .Values.x }}"),
            (
                "templates/b.yaml",
                "{{ $_ := set .Values \"x\" \"from-b\" }}b",
            ),
            (
                "templates/sub/z.yaml",
                "z={{ .Values.x }}|{{ .Values.missing }}|{{ .Template.Name }}",
            ),
            ("templates/_h.tpl", "{{ define \"h\" }}h{{ end }}"),
        ]);
        let r = render_chart(&c, &Data::empty_map(), &RenderOptions::new("rel", "ns")).unwrap();
        let keys: Vec<&str> = r.manifests.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            keys,
            vec![
                "c/templates/a.yaml",
                "c/templates/b.yaml",
                "c/templates/sub/z.yaml"
            ]
        );
        // sub/z.yaml runs first (deepest), then b.yaml, then a.yaml (reverse lexicographic).
        assert_eq!(
            r.manifests["c/templates/sub/z.yaml"],
            "z=||c/templates/sub/z.yaml"
        );
        assert_eq!(r.manifests["c/templates/a.yaml"], "a=from-b");
    }

    #[test]
    fn invalid_release_name_fails_before_rendering() {
        let c = chart(&[("templates/a.yaml", "{{ fail \"boom\" }}")]);
        let e = render_chart(
            &c,
            &Data::empty_map(),
            &RenderOptions::new("Bad_Name", "ns"),
        )
        .unwrap_err();
        assert!(e.message.contains("invalid release name"), "{}", e.message);
        let e = render_chart(&c, &Data::empty_map(), &RenderOptions::new("ok", "ns")).unwrap_err();
        assert_eq!(
            e.message,
            "execution error at (c/templates/a.yaml:1:3): boom"
        );
    }
}
