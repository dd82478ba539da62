//! Object schemas: a structural JSON-schema check of rendered objects, the way `kubeconform
//! -strict` and the API server's field validation see them.
//!
//! 1. Built-in kinds: a schema directory in kubeconform's layout (`<kind>-<group>-<version>.json`,
//!    `<kind>-<version>.json` for the core group) for the cluster's Kubernetes version. Files may
//!    `$ref` into `_definitions.json` (`/api/_definitions.json#/$defs/…`,
//!    `_definitions.json#/definitions/…`) or within themselves (`#/…`).
//! 2. Custom resources: the `openAPIV3Schema` of the CRDs the cluster ships, which win over the
//!    directory.
//!
//! Keywords: `type` (a list too; `nullable`), `enum`, `properties`, `additionalProperties`
//! (unknown fields are errors where properties are declared, unless
//! `x-kubernetes-preserve-unknown-fields`), `required`, `items`, `allOf`, `anyOf`, `oneOf`
//! (checked as `anyOf`: the definitions' `IntOrString` and `Quantity` overlap on null),
//! `not`, `pattern`, `min/maxLength`, `min/maxItems`, `minimum`/`maximum` (with the exclusive
//! forms), `x-kubernetes-int-or-string`. Formats are not asserted.
//!
//! This is not the renderer's `values.schema.json` validator: that one reproduces Helm's
//! library messages on one document per call; this one keeps parsed schemas across objects,
//! follows references across files and knows the OpenAPI extensions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use regex::Regex;
use serde_json::Value as J;
use wayfinder_render::Data;

const MAX_DEPTH: usize = 200;
const MAX_ERRORS: usize = 20;

/// The schemas of built-in kinds for one Kubernetes version (a kubeconform directory), parsed
/// on demand and kept for the whole build.
pub(crate) struct SchemaDir {
    pub dir: PathBuf,
    kinds: Mutex<HashMap<String, Option<Arc<J>>>>,
    defs: OnceLock<Option<Arc<J>>>,
    regexes: Mutex<HashMap<String, Option<Regex>>>,
}

impl SchemaDir {
    pub(crate) fn new(dir: PathBuf) -> SchemaDir {
        SchemaDir {
            dir,
            kinds: Mutex::new(HashMap::new()),
            defs: OnceLock::new(),
            regexes: Mutex::new(HashMap::new()),
        }
    }

    /// The schema file name of a kind (`deployment-apps-v1.json`, `configmap-v1.json`).
    pub(crate) fn file_name(group: &str, kind: &str, version: &str) -> String {
        let kind = kind.to_ascii_lowercase();
        match group.split('.').next().unwrap_or("") {
            "" => format!("{kind}-{version}.json"),
            g => format!("{kind}-{}-{version}.json", g.to_ascii_lowercase()),
        }
    }

    /// The schema of a kind, if the directory has one.
    pub(crate) fn kind(&self, group: &str, kind: &str, version: &str) -> Option<Arc<J>> {
        let name = SchemaDir::file_name(group, kind, version);
        if let Ok(m) = self.kinds.lock() {
            if let Some(s) = m.get(&name) {
                return s.clone();
            }
        }
        let loaded = read_json(&self.dir.join(&name)).map(Arc::new);
        if let Ok(mut m) = self.kinds.lock() {
            m.insert(name, loaded.clone());
        }
        loaded
    }

    fn definitions(&self) -> Option<Arc<J>> {
        self.defs
            .get_or_init(|| read_json(&self.dir.join("_definitions.json")).map(Arc::new))
            .clone()
    }

    fn regex(&self, pattern: &str) -> Option<Regex> {
        let mut m = self.regexes.lock().ok()?;
        m.entry(pattern.to_string())
            .or_insert_with(|| Regex::new(pattern).ok())
            .clone()
    }
}

fn read_json(path: &Path) -> Option<J> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Validates `inst` against `schema`; returns the problems (`at spec.replicas: …`).
/// `dir` resolves references into `_definitions.json` and caches regexes.
pub(crate) fn validate(schema: &Arc<J>, inst: &Data, dir: Option<&SchemaDir>) -> Vec<String> {
    let mut v = Validator {
        dir,
        errors: Vec::new(),
        local_regexes: HashMap::new(),
    };
    v.check(schema, schema, inst, &mut String::new(), 0);
    v.errors
}

struct Validator<'a> {
    dir: Option<&'a SchemaDir>,
    errors: Vec<String>,
    local_regexes: HashMap<String, Option<Regex>>,
}

fn type_name(d: &Data) -> &'static str {
    match d {
        Data::Null => "null",
        Data::Bool(_) => "boolean",
        Data::Int(_) => "integer",
        Data::Float(f) if f.fract() == 0.0 && f.is_finite() => "integer",
        Data::Float(_) => "number",
        Data::String(_) => "string",
        Data::List(_) => "array",
        Data::Map(_) => "object",
    }
}

fn type_ok(want: &str, d: &Data) -> bool {
    let got = type_name(d);
    want == got || (want == "number" && got == "integer")
}

fn as_f64(d: &Data) -> Option<f64> {
    match d {
        Data::Int(i) => Some(*i as f64),
        Data::Float(f) => Some(*f),
        _ => None,
    }
}

fn data_eq_json(d: &Data, j: &J) -> bool {
    match (d, j) {
        (Data::Null, J::Null) => true,
        (Data::Bool(a), J::Bool(b)) => a == b,
        (Data::String(a), J::String(b)) => a == b,
        (Data::Int(_) | Data::Float(_), J::Number(n)) => as_f64(d) == n.as_f64(),
        (Data::List(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| data_eq_json(x, y))
        }
        (Data::Map(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| data_eq_json(v, w)))
        }
        _ => false,
    }
}

fn show(path: &str) -> &str {
    if path.is_empty() {
        "the object"
    } else {
        path
    }
}

impl Validator<'_> {
    fn fail(&mut self, path: &str, msg: String) {
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(format!("at `{}`: {msg}", show(path)));
        }
    }

    /// Follows a `$ref` from document `doc`; returns the target and its document.
    fn resolve(&self, doc: &Arc<J>, r: &str) -> Option<(Arc<J>, String)> {
        let (file, pointer) = r.split_once('#').unwrap_or((r, ""));
        let target_doc: Arc<J> = if file.is_empty() {
            doc.clone()
        } else if file.ends_with("_definitions.json") {
            self.dir?.definitions()?
        } else {
            return None;
        };
        Some((target_doc, pointer.to_string()))
    }

    fn check(&mut self, doc: &Arc<J>, schema: &J, inst: &Data, path: &mut String, depth: usize) {
        if depth > MAX_DEPTH || self.errors.len() >= MAX_ERRORS {
            return;
        }
        let J::Object(s) = schema else {
            if schema == &J::Bool(false) {
                self.fail(path, "no value is allowed here".into());
            }
            return;
        };
        if let Some(J::String(r)) = s.get("$ref") {
            match self.resolve(doc, r) {
                Some((target_doc, pointer)) => {
                    if let Some(target) = target_doc.pointer(&pointer) {
                        self.check(&target_doc, target, inst, path, depth + 1);
                    }
                }
                None => {
                    // An unresolvable reference accepts everything (kubeconform skips it too).
                }
            }
        }
        let nullable = s.get("nullable") == Some(&J::Bool(true));
        if matches!(inst, Data::Null) && nullable {
            return;
        }
        if s.get("x-kubernetes-int-or-string") == Some(&J::Bool(true)) {
            if !matches!(type_name(inst), "integer" | "string") {
                self.fail(
                    path,
                    format!("expected an integer or a string, got {}", type_name(inst)),
                );
            }
            return;
        }
        match s.get("type") {
            Some(J::String(t)) if !type_ok(t, inst) => {
                self.fail(path, format!("expected {t}, got {}", type_name(inst)));
                return;
            }
            Some(J::Array(ts))
                if !ts
                    .iter()
                    .any(|t| t.as_str().is_some_and(|t| type_ok(t, inst))) =>
            {
                let want: Vec<&str> = ts.iter().filter_map(J::as_str).collect();
                self.fail(
                    path,
                    format!("expected {}, got {}", want.join(" or "), type_name(inst)),
                );
                return;
            }
            _ => {}
        }
        if let Some(J::Array(values)) = s.get("enum") {
            if !values.iter().any(|v| data_eq_json(inst, v)) {
                let shown: Vec<String> = values.iter().take(10).map(J::to_string).collect();
                self.fail(path, format!("value must be one of {}", shown.join(", ")));
            }
        }
        for key in ["allOf"] {
            if let Some(J::Array(subs)) = s.get(key) {
                for sub in subs {
                    self.check(doc, sub, inst, path, depth + 1);
                }
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(J::Array(subs)) = s.get(key) {
                let ok = subs.iter().any(|sub| self.quiet_ok(doc, sub, inst, depth));
                if !ok && !subs.is_empty() {
                    self.fail(
                        path,
                        format!("the value matches none of the `{key}` schemas"),
                    );
                }
            }
        }
        if let Some(not) = s.get("not") {
            if self.quiet_ok(doc, not, inst, depth) {
                self.fail(path, "the value matches a schema it must not match".into());
            }
        }
        match inst {
            Data::Map(m) => self.check_object(doc, s, m, path, depth),
            Data::List(l) => {
                if let Some(items) = s.get("items") {
                    for (i, item) in l.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.check(doc, items, item, path, depth + 1);
                        path.truncate(len);
                    }
                }
                if let Some(n) = s.get("minItems").and_then(J::as_u64) {
                    if (l.len() as u64) < n {
                        self.fail(
                            path,
                            format!("expected at least {n} items, got {}", l.len()),
                        );
                    }
                }
                if let Some(n) = s.get("maxItems").and_then(J::as_u64) {
                    if (l.len() as u64) > n {
                        self.fail(path, format!("expected at most {n} items, got {}", l.len()));
                    }
                }
            }
            Data::String(st) => self.check_string(s, st, path),
            Data::Int(_) | Data::Float(_) => self.check_number(s, inst, path),
            _ => {}
        }
    }

    fn check_string(&mut self, s: &serde_json::Map<String, J>, st: &str, path: &str) {
        let len = st.chars().count() as u64;
        if let Some(n) = s.get("minLength").and_then(J::as_u64) {
            if len < n {
                self.fail(path, format!("expected at least {n} characters, got {len}"));
            }
        }
        if let Some(n) = s.get("maxLength").and_then(J::as_u64) {
            if len > n {
                self.fail(path, format!("expected at most {n} characters, got {len}"));
            }
        }
        if let Some(J::String(p)) = s.get("pattern") {
            let re = match self.dir {
                Some(d) => d.regex(p),
                None => self
                    .local_regexes
                    .entry(p.clone())
                    .or_insert_with(|| Regex::new(p).ok())
                    .clone(),
            };
            if let Some(re) = re {
                if !re.is_match(st) {
                    self.fail(path, format!("`{st}` does not match the pattern `{p}`"));
                }
            }
        }
    }

    fn check_number(&mut self, s: &serde_json::Map<String, J>, inst: &Data, path: &str) {
        let Some(x) = as_f64(inst) else { return };
        let excl = |k: &str| s.get(k) == Some(&J::Bool(true));
        if let Some(min) = s.get("minimum").and_then(J::as_f64) {
            if x < min || (excl("exclusiveMinimum") && x == min) {
                self.fail(path, format!("{x} is less than the minimum {min}"));
            }
        }
        if let Some(max) = s.get("maximum").and_then(J::as_f64) {
            if x > max || (excl("exclusiveMaximum") && x == max) {
                self.fail(path, format!("{x} is more than the maximum {max}"));
            }
        }
    }

    fn check_object(
        &mut self,
        doc: &Arc<J>,
        s: &serde_json::Map<String, J>,
        m: &std::collections::BTreeMap<String, Data>,
        path: &mut String,
        depth: usize,
    ) {
        if let Some(J::Array(req)) = s.get("required") {
            for r in req.iter().filter_map(J::as_str) {
                if !m.contains_key(r) {
                    self.fail(path, format!("missing required field `{r}`"));
                }
            }
        }
        let props = s.get("properties").and_then(J::as_object);
        let preserve = s.get("x-kubernetes-preserve-unknown-fields") == Some(&J::Bool(true));
        let additional = s.get("additionalProperties");
        for (k, v) in m {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            match props.and_then(|p| p.get(k)) {
                Some(sub) => self.check(doc, sub, v, path, depth + 1),
                None => match additional {
                    Some(J::Bool(false)) => {
                        path.truncate(len);
                        self.fail(path, format!("unknown field `{k}`"));
                    }
                    Some(sub @ J::Object(_)) => self.check(doc, sub, v, path, depth + 1),
                    // A structural schema that declares properties drops unknown ones: the
                    // API server's strict field validation rejects them.
                    _ if props.is_some() && !preserve && additional.is_none() => {
                        path.truncate(len);
                        self.fail(path, format!("unknown field `{k}`"));
                    }
                    _ => {}
                },
            }
            path.truncate(len);
        }
    }

    /// Whether `inst` passes `schema`, without recording errors.
    fn quiet_ok(&mut self, doc: &Arc<J>, schema: &J, inst: &Data, depth: usize) -> bool {
        let saved = std::mem::take(&mut self.errors);
        self.check(doc, schema, inst, &mut String::new(), depth + 1);
        let ok = self.errors.is_empty();
        self.errors = saved;
        ok
    }
}

/// Converts a schema kept as YAML data (a CRD's `openAPIV3Schema`) to JSON.
pub(crate) fn data_to_json(d: &Data, depth: usize) -> J {
    if depth > MAX_DEPTH {
        return J::Null;
    }
    match d {
        Data::Null => J::Null,
        Data::Bool(b) => J::Bool(*b),
        Data::Int(i) => J::from(*i),
        Data::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Data::String(s) => J::String(s.clone()),
        Data::List(l) => J::Array(l.iter().map(|x| data_to_json(x, depth + 1)).collect()),
        Data::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), data_to_json(v, depth + 1)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data(yaml: &str) -> Data {
        wayfinder_render::yaml::parse(yaml).unwrap()
    }

    #[test]
    fn types_required_and_unknown_fields() {
        let s = Arc::new(
            json!({"type": "object", "required": ["spec"], "properties": {
                "spec": {"type": "object", "additionalProperties": false, "properties": {
                    "replicas": {"type": ["integer", "null"]},
                    "port": {"x-kubernetes-int-or-string": true},
                    "mode": {"type": "string", "enum": ["a", "b"]}
                }}
            }}),
        );
        assert!(validate(&s, &data("spec: {replicas: 2, port: http, mode: a}"), None).is_empty());
        let errs = validate(
            &s,
            &data("spec: {replicas: two, port: [1], mode: c, extra: 1}"),
            None,
        );
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(errs
            .iter()
            .any(|e| e == "at `spec.replicas`: expected integer or null, got string"));
        assert!(errs.iter().any(|e| e == "at `spec`: unknown field `extra`"));
        assert!(errs
            .iter()
            .any(|e| e.starts_with("at `spec.mode`: value must be one of")));
        let errs = validate(&s, &data("other: 1"), None);
        assert!(
            errs.iter()
                .any(|e| e == "at `the object`: missing required field `spec`"),
            "{errs:?}"
        );
    }

    #[test]
    fn local_refs_items_and_any_of() {
        let s = Arc::new(
            json!({"$defs": {"c": {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}}}},
            "type": "object", "properties": {"containers": {"type": "array", "items": {"$ref": "#/$defs/c"}},
            "q": {"oneOf": [{"type": "string"}, {"type": "number"}]}}}),
        );
        assert!(validate(&s, &data("containers: [{name: web}]\nq: 1.5"), None).is_empty());
        let errs = validate(
            &s,
            &data("containers: [{name: Web}, {name: ok, x: 1}]\nq: [1]"),
            None,
        );
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].starts_with("at `containers[0].name`: `Web` does not match"));
        assert!(errs
            .iter()
            .any(|e| e == "at `containers[1]`: unknown field `x`"));
    }

    #[test]
    fn preserve_unknown_fields_and_nullable() {
        let s = Arc::new(
            json!({"type": "object", "properties": {"a": {"type": "string", "nullable": true}},
            "x-kubernetes-preserve-unknown-fields": true}),
        );
        assert!(validate(&s, &data("a: null\nb: 1"), None).is_empty());
    }

    #[test]
    fn kubeconform_file_names() {
        assert_eq!(
            SchemaDir::file_name("apps", "Deployment", "v1"),
            "deployment-apps-v1.json"
        );
        assert_eq!(
            SchemaDir::file_name("", "ConfigMap", "v1"),
            "configmap-v1.json"
        );
        assert_eq!(
            SchemaDir::file_name("networking.k8s.io", "Ingress", "v1"),
            "ingress-networking-v1.json"
        );
    }
}
