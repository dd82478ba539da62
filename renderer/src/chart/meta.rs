//! `Chart.yaml` (and v1's `requirements.yaml`) as Helm's `chart.Metadata` struct sees it.
//!
//! Helm unmarshals `Chart.yaml` into a typed struct through `sigs.k8s.io/yaml`: unknown keys are
//! dropped, scalars become strings where the struct wants strings (`appVersion: 2.0` is `"2"`),
//! and `Validate` sanitises the text fields (whitespace becomes a space, unprintable characters
//! go) and checks name, version (semver), type, maintainers and dependency aliases.
//!
//! We keep the result as `Data` with the YAML key names (`name`, `appVersion`, `dependencies`, …)
//! in `Chart::metadata`; `chart_object` builds the `.Chart` map templates see (Go field names).

use std::collections::BTreeMap;

use super::semver;
use super::ChartError;
use crate::value::Data;

const STRING_FIELDS: &[&str] = &[
    "name",
    "home",
    "version",
    "description",
    "icon",
    "apiVersion",
    "condition",
    "tags",
    "appVersion",
    "kubeVersion",
    "type",
];
const DEP_STRING_FIELDS: &[&str] = &["name", "version", "repository", "condition", "alias"];

fn err(message: impl Into<String>) -> ChartError {
    ChartError {
        message: message.into(),
    }
}

fn kind(d: &Data) -> &'static str {
    match d {
        Data::Null => "null",
        Data::Bool(_) => "bool",
        Data::Int(_) | Data::Float(_) => "number",
        Data::String(_) => "string",
        Data::List(_) => "array",
        Data::Map(_) => "object",
    }
}

/// Decodes a `[]*chart.X` field as Go's JSON decoder does: null is absent, null elements stay
/// nil, map elements go through `elem`, anything else is a type mismatch naming `field`.
fn struct_list(
    file: &str,
    v: Data,
    field: &str,
    elem_type: &str,
    mut elem: impl FnMut(BTreeMap<String, Data>) -> Result<Data, ChartError>,
) -> Result<Option<Data>, ChartError> {
    match v {
        Data::Null => Ok(None),
        Data::List(items) => {
            let mut l = Vec::with_capacity(items.len());
            for it in items {
                l.push(match it {
                    Data::Null => Data::Null,
                    Data::Map(m) => elem(m)?,
                    other => return Err(mismatch(file, &other, field, elem_type)),
                });
            }
            Ok(Some(Data::List(l)))
        }
        other => Err(mismatch(file, &other, field, &format!("[]*{elem_type}"))),
    }
}

fn mismatch(file: &str, d: &Data, field: &str, want: &str) -> ChartError {
    err(format!(
        "cannot load {file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct field {field} of type {want}",
        kind(d)
    ))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` for the non-integral case, integers in full.
fn scalar_string(d: &Data) -> Option<String> {
    match d {
        Data::String(s) => Some(s.clone()),
        Data::Bool(b) => Some(b.to_string()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 9.0e18 {
                return Some(format!("{}", *f as i64));
            }
            let f32v = *f as f32;
            let e = format!("{f32v:e}");
            let (mant, exp) = e.split_once('e')?;
            let exp: i32 = exp.parse().ok()?;
            if !(-4..21).contains(&exp) {
                let sign = if exp < 0 { '-' } else { '+' };
                return Some(format!("{mant}e{sign}{:02}", exp.abs()));
            }
            Some(format!("{f32v}"))
        }
        _ => None,
    }
}

fn to_string_field(
    file: &str,
    owner: &str,
    key: &str,
    d: &Data,
) -> Result<Option<String>, ChartError> {
    match d {
        Data::Null => Ok(None),
        Data::Map(_) | Data::List(_) => Err(mismatch(file, d, &format!("{owner}.{key}"), "string")),
        other => Ok(scalar_string(other)),
    }
}

fn string_list(file: &str, owner: &str, key: &str, d: &Data) -> Result<Option<Data>, ChartError> {
    match d {
        Data::Null => Ok(None),
        Data::List(items) => {
            let mut out = Vec::new();
            for it in items {
                match it {
                    Data::Null => out.push(Data::String(String::new())),
                    Data::Map(_) | Data::List(_) => {
                        return Err(mismatch(file, it, &format!("{owner}.{key}"), "string"))
                    }
                    other => out.push(Data::String(scalar_string(other).unwrap_or_default())),
                }
            }
            Ok(Some(Data::List(out)))
        }
        other => Err(mismatch(file, other, &format!("{owner}.{key}"), "[]string")),
    }
}

/// Normalises a parsed `Chart.yaml`/`requirements.yaml` into the struct's fields.
fn normalize(file: &str, raw: Data) -> Result<BTreeMap<String, Data>, ChartError> {
    let map = match raw {
        Data::Null => return Ok(BTreeMap::new()),
        Data::Map(m) => m,
        other => {
            return Err(err(format!(
                "cannot load {file}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type chart.Metadata",
                kind(&other)
            )))
        }
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let k = k.as_str();
        if STRING_FIELDS.contains(&k) {
            if let Some(s) = to_string_field(file, "Metadata", k, &v)? {
                out.insert(k.to_string(), Data::String(s));
            }
            continue;
        }
        match k {
            "sources" | "keywords" => {
                if let Some(l) = string_list(file, "Metadata", k, &v)? {
                    out.insert(k.to_string(), l);
                }
            }
            "deprecated" => match v {
                Data::Null => {}
                Data::Bool(b) => {
                    out.insert(k.into(), Data::Bool(b));
                }
                other => return Err(mismatch(file, &other, "Metadata.deprecated", "bool")),
            },
            "annotations" => match v {
                Data::Null => {}
                Data::Map(m) => {
                    let mut a = BTreeMap::new();
                    for (ak, av) in m {
                        match av {
                            Data::Map(_) | Data::List(_) => {
                                return Err(mismatch(file, &av, "Metadata.annotations", "string"))
                            }
                            Data::Null => {
                                a.insert(ak, Data::String(String::new()));
                            }
                            other => {
                                a.insert(
                                    ak,
                                    Data::String(scalar_string(&other).unwrap_or_default()),
                                );
                            }
                        }
                    }
                    out.insert(k.into(), Data::Map(a));
                }
                other => {
                    return Err(mismatch(
                        file,
                        &other,
                        "Metadata.annotations",
                        "map[string]string",
                    ))
                }
            },
            "maintainers" => {
                let field = "Metadata.maintainers";
                let list = struct_list(file, v, field, "chart.Maintainer", |m| {
                    let mut mm = BTreeMap::new();
                    for (mk, mv) in m {
                        if ["name", "email", "url"].contains(&mk.as_str()) {
                            if let Some(s) = to_string_field(file, "Maintainer", &mk, &mv)? {
                                mm.insert(mk, Data::String(s));
                            }
                        }
                    }
                    Ok(Data::Map(mm))
                })?;
                if let Some(l) = list {
                    out.insert(k.into(), l);
                }
            }
            "dependencies" => {
                let field = "Metadata.dependencies";
                let list = struct_list(file, v, field, "chart.Dependency", |m| {
                    Ok(Data::Map(normalize_dependency(file, m)?))
                })?;
                if let Some(l) = list {
                    out.insert(k.into(), l);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn normalize_dependency(
    file: &str,
    m: BTreeMap<String, Data>,
) -> Result<BTreeMap<String, Data>, ChartError> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let key = k.as_str();
        if DEP_STRING_FIELDS.contains(&key) {
            if let Some(s) = to_string_field(file, "Dependency", key, &v)? {
                out.insert(k, Data::String(s));
            }
            continue;
        }
        match key {
            "tags" => {
                if let Some(l) = string_list(file, "Dependency", key, &v)? {
                    out.insert(k, l);
                }
            }
            "enabled" => match v {
                Data::Null => {}
                Data::Bool(b) => {
                    out.insert(k, Data::Bool(b));
                }
                other => return Err(mismatch(file, &other, "Dependency.enabled", "bool")),
            },
            "import-values" => match v {
                Data::Null => {}
                Data::List(l) => {
                    out.insert(k, Data::List(l));
                }
                other => {
                    return Err(mismatch(
                        file,
                        &other,
                        "Dependency.import-values",
                        "[]interface {}",
                    ))
                }
            },
            _ => {}
        }
    }
    Ok(out)
}

fn parse_yaml(file: &str, bytes: &[u8]) -> Result<Data, ChartError> {
    crate::yaml::parse(&String::from_utf8_lossy(bytes))
        .map_err(|e| err(format!("cannot load {file}: {}", e.message)))
}

/// Helm's first look at `Chart.yaml`: only chart API versions v1 and v2 (or none) load.
pub(crate) fn check_api_version(bytes: &[u8]) -> Result<(), ChartError> {
    let raw = parse_yaml("Chart.yaml", bytes)?;
    let md = normalize("Chart.yaml", raw)?;
    match md.get("apiVersion") {
        None => Ok(()),
        Some(Data::String(s)) if s.is_empty() || s == "v1" || s == "v2" => Ok(()),
        Some(_) => Err(err("unsupported chart version")),
    }
}

/// Parses `Chart.yaml` into the normalised metadata map (apiVersion defaults to v1).
pub(crate) fn parse_chart_yaml(bytes: &[u8]) -> Result<Data, ChartError> {
    let mut md = normalize("Chart.yaml", parse_yaml("Chart.yaml", bytes)?)?;
    let empty = !matches!(md.get("apiVersion"), Some(Data::String(s)) if !s.is_empty());
    if empty {
        md.insert("apiVersion".into(), Data::String("v1".into()));
    }
    Ok(Data::Map(md))
}

/// Unmarshals `requirements.yaml` over the metadata (its keys replace the chart's).
pub(crate) fn overlay_requirements(md: &mut Data, bytes: &[u8]) -> Result<(), ChartError> {
    let req = normalize("requirements.yaml", parse_yaml("requirements.yaml", bytes)?)?;
    if let Data::Map(m) = md {
        for (k, v) in req {
            m.insert(k, v);
        }
    }
    Ok(())
}

/// The metadata's `apiVersion`.
pub(crate) fn api_version(md: &Data) -> &str {
    get_str(md, "apiVersion")
}

pub(crate) fn get_str<'a>(d: &'a Data, key: &str) -> &'a str {
    match d.as_map().and_then(|m| m.get(key)) {
        Some(Data::String(s)) => s,
        _ => "",
    }
}

/// Go's `unicode.IsPrint` for the characters charts contain (Cc, Cf, Co, Cs, Zl, Zp are not).
fn is_print(c: char) -> bool {
    if c.is_control() {
        return false;
    }
    let u = c as u32;
    !matches!(u,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xE0001 | 0xE0020..=0xE007F)
}

/// Helm's `sanitizeString`: whitespace becomes a space, unprintable characters are dropped.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if is_print(c) {
                Some(c)
            } else {
                None
            }
        })
        .collect()
}

fn sanitize_field(m: &mut BTreeMap<String, Data>, key: &str) {
    if let Some(Data::String(s)) = m.get_mut(key) {
        *s = sanitize(s);
    }
}

fn sanitize_list(m: &mut BTreeMap<String, Data>, key: &str) {
    if let Some(Data::List(l)) = m.get_mut(key) {
        for it in l {
            if let Data::String(s) = it {
                *s = sanitize(s);
            }
        }
    }
}

fn validation(msg: impl std::fmt::Display) -> ChartError {
    err(format!("validation: {msg}"))
}

fn valid_alias(a: &str) -> bool {
    !a.is_empty()
        && a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Helm's `Metadata.Validate`: sanitises, then checks the metadata.
pub(crate) fn validate(md: Data) -> Result<Data, ChartError> {
    let Data::Map(mut m) = md else {
        return Err(validation("chart.metadata is required"));
    };
    for key in [
        "name",
        "description",
        "home",
        "icon",
        "condition",
        "tags",
        "appVersion",
        "kubeVersion",
    ] {
        sanitize_field(&mut m, key);
    }
    sanitize_list(&mut m, "sources");
    sanitize_list(&mut m, "keywords");
    let md = Data::Map(m.clone());
    let name = get_str(&md, "name");
    if api_version(&md).is_empty() {
        return Err(validation("chart.metadata.apiVersion is required"));
    }
    if name.is_empty() {
        return Err(validation("chart.metadata.name is required"));
    }
    if name == "." || name == ".." {
        return Err(validation(format!(
            "chart.metadata.name {name:?} is not allowed"
        )));
    }
    if name.contains('/') {
        return Err(validation(format!(
            "chart.metadata.name {name:?} is invalid"
        )));
    }
    let version = get_str(&md, "version");
    if version.is_empty() {
        return Err(validation("chart.metadata.version is required"));
    }
    if !semver::is_valid_version(version) {
        return Err(validation(format!(
            "chart.metadata.version {version:?} is invalid"
        )));
    }
    if !matches!(get_str(&md, "type"), "" | "application" | "library") {
        return Err(validation(
            "chart.metadata.type must be application or library",
        ));
    }
    if let Some(Data::List(ms)) = m.get_mut("maintainers") {
        for it in ms.iter_mut() {
            let Data::Map(mm) = it else {
                return Err(validation(
                    "maintainers must not contain empty or null nodes",
                ));
            };
            for key in ["name", "email", "url"] {
                sanitize_field(mm, key);
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(Data::List(ds)) = m.get_mut("dependencies") {
        for it in ds.iter_mut() {
            let Data::Map(dm) = it else {
                return Err(validation(
                    "dependencies must not contain empty or null nodes",
                ));
            };
            for key in ["name", "version", "repository", "condition"] {
                sanitize_field(dm, key);
            }
            sanitize_list(dm, "tags");
            let d = Data::Map(dm.clone());
            let alias = get_str(&d, "alias");
            if !alias.is_empty() && !valid_alias(alias) {
                return Err(validation(format!(
                    "dependency {:?} has disallowed characters in the alias",
                    get_str(&d, "name")
                )));
            }
            let key = if alias.is_empty() {
                get_str(&d, "name")
            } else {
                alias
            };
            if !seen.insert(key.to_string()) {
                return Err(validation(format!(
                    "more than one dependency with name or alias {key:?}"
                )));
            }
        }
    }
    Ok(Data::Map(m))
}

/// The `.Chart` map a template sees: `chart_object` plus the engine's `IsRoot` (true for the
/// top chart, false for every subchart).
pub fn chart_template_object(md: &Data, is_root: bool) -> Data {
    let mut o = chart_object(md);
    if let Data::Map(m) = &mut o {
        m.insert("IsRoot".into(), Data::Bool(is_root));
    }
    o
}

/// Helm's `structToMap(chart.Metadata)`: the metadata with Go field names (`Name`, `Version`,
/// `AppVersion`, `Dependencies`, …), every field present. See `chart_template_object`.
pub fn chart_object(md: &Data) -> Data {
    let s = |k: &str| Data::String(get_str(md, k).to_string());
    let list = |k: &str| match md.as_map().and_then(|m| m.get(k)) {
        Some(Data::List(l)) => l.clone(),
        _ => Vec::new(),
    };
    let mut out = BTreeMap::new();
    for (go, key) in [
        ("Name", "name"),
        ("Home", "home"),
        ("Version", "version"),
        ("Description", "description"),
        ("Icon", "icon"),
        ("APIVersion", "apiVersion"),
        ("Condition", "condition"),
        ("Tags", "tags"),
        ("AppVersion", "appVersion"),
        ("KubeVersion", "kubeVersion"),
        ("Type", "type"),
    ] {
        out.insert(go.to_string(), s(key));
    }
    out.insert("Sources".into(), Data::List(list("sources")));
    out.insert("Keywords".into(), Data::List(list("keywords")));
    let maintainers = list("maintainers")
        .iter()
        .map(|m| {
            if matches!(m, Data::Null) {
                return Data::Null;
            }
            let mut o = BTreeMap::new();
            o.insert("Name".into(), Data::String(get_str(m, "name").into()));
            o.insert("Email".into(), Data::String(get_str(m, "email").into()));
            o.insert("URL".into(), Data::String(get_str(m, "url").into()));
            Data::Map(o)
        })
        .collect();
    out.insert("Maintainers".into(), Data::List(maintainers));
    out.insert(
        "Deprecated".into(),
        Data::Bool(matches!(
            md.as_map().and_then(|m| m.get("deprecated")),
            Some(Data::Bool(true))
        )),
    );
    // A chart without annotations has a nil map (`toJson` prints null).
    let annotations = match md.as_map().and_then(|m| m.get("annotations")) {
        Some(Data::Map(a)) => Data::Map(a.clone()),
        _ => Data::Null,
    };
    out.insert("Annotations".into(), annotations);
    let deps = list("dependencies")
        .iter()
        .map(|d| {
            if matches!(d, Data::Null) {
                return Data::Null;
            }
            let dl = |k: &str| match d.as_map().and_then(|m| m.get(k)) {
                Some(Data::List(l)) => l.clone(),
                _ => Vec::new(),
            };
            let mut o = BTreeMap::new();
            for (go, key) in [
                ("Name", "name"),
                ("Version", "version"),
                ("Repository", "repository"),
                ("Condition", "condition"),
                ("Alias", "alias"),
            ] {
                o.insert(go.to_string(), Data::String(get_str(d, key).into()));
            }
            o.insert("Tags".into(), Data::List(dl("tags")));
            o.insert("ImportValues".into(), Data::List(dl("import-values")));
            o.insert(
                "Enabled".into(),
                Data::Bool(matches!(
                    d.as_map().and_then(|m| m.get("enabled")),
                    Some(Data::Bool(true))
                )),
            );
            Data::Map(o)
        })
        .collect();
    out.insert("Dependencies".into(), Data::List(deps));
    Data::Map(out)
}
