//! Helm's YAML/JSON/TOML template functions (helm `pkg/engine/funcs.go`) and Sprig's JSON ones.
//!
//! | function | Go behaviour |
//! |---|---|
//! | `toYaml` | `sigs.k8s.io/yaml.Marshal`, trailing newline trimmed; `""` on error |
//! | `mustToYaml` | same, error on failure |
//! | `toYamlPretty` | go-yaml v3 encoder, indent 2 |
//! | `fromYaml` / `fromYamlArray` | `sigs.k8s.io/yaml.Unmarshal`; errors go into `Error` / `[msg]` |
//! | `toJson` / `mustToJson` | `json.Marshal` (`""` on error / error) |
//! | `toPrettyJson` / `mustToPrettyJson` | `json.MarshalIndent(v, "", "  ")` |
//! | `toRawJson` / `mustToRawJson` | encoder without HTML escaping (both fail on error) |
//! | `fromJson` / `fromJsonArray` | `json.Unmarshal` into a map / list; errors as for YAML |
//! | `mustFromJson` | `json.Unmarshal` into `interface{}`, error on failure |
//! | `toToml` / `mustToToml` / `fromToml` | BurntSushi/toml |

use std::collections::{BTreeMap, HashMap};

use super::args;
use crate::json;
use crate::value::{Data, Func, FuncCtx, FuncError, Value};
use crate::yaml;

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("toYaml", to_yaml);
    m.insert("mustToYaml", must_to_yaml);
    m.insert("toYamlPretty", to_yaml_pretty);
    m.insert("fromYaml", from_yaml);
    m.insert("fromYamlArray", from_yaml_array);
    m.insert("toJson", to_json);
    m.insert("mustToJson", must_to_json);
    m.insert("toPrettyJson", to_pretty_json);
    m.insert("mustToPrettyJson", must_to_pretty_json);
    m.insert("toRawJson", to_raw_json);
    m.insert("mustToRawJson", must_to_raw_json);
    m.insert("fromJson", from_json);
    m.insert("fromJsonArray", from_json_array);
    m.insert("mustFromJson", must_from_json);
    m.insert("toToml", to_toml);
    m.insert("mustToToml", must_to_toml);
    m.insert("fromToml", from_toml);
}

/// The value as `encoding/json` sees it: `[]byte` becomes base64, objects their JSON form.
pub(crate) fn json_data(v: &Value) -> Data {
    match v {
        Value::Bytes(b) => Data::String(base64(b)),
        Value::List(l) => Data::List(l.iter().map(json_data).collect()),
        Value::Map(m) => Data::Map(
            m.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), json_data(v)))
                .collect(),
        ),
        other => other.to_data(),
    }
}

fn base64(b: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for ch in b.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            if k <= ch.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn one<'a>(name: &str, args: &'a [Value]) -> Result<&'a Value, FuncError> {
    args::want(name, args, 1)?;
    Ok(&args[0])
}

fn to_yaml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toYaml", a)?;
    Ok(Value::string(yaml::to_yaml(&json_data(v))))
}

fn must_to_yaml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("mustToYaml", a)?;
    let s = yaml::marshal(&json_data(v)).map_err(FuncError::new)?;
    Ok(Value::string(
        s.strip_suffix('\n').map(str::to_string).unwrap_or(s),
    ))
}

fn to_yaml_pretty(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toYamlPretty", a)?;
    Ok(Value::string(yaml::to_yaml_pretty(v)))
}

fn string_arg(name: &str, a: &[Value]) -> Result<String, FuncError> {
    args::want(name, a, 1)?;
    Ok(args::string(a, 0)?.to_string())
}

fn from_yaml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("fromYaml", a)?;
    Ok(into_map(yaml::parse(&s).map_err(|e| e.message), true))
}

fn from_yaml_array(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("fromYamlArray", a)?;
    Ok(into_list(yaml::parse(&s).map_err(|e| e.message), true))
}

fn from_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("fromJson", a)?;
    Ok(into_map(json::parse(&s), false))
}

fn from_json_array(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("fromJsonArray", a)?;
    Ok(into_list(json::parse(&s), false))
}

fn must_from_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("mustFromJson", a)?;
    json::parse(&s)
        .map(|d| Value::from_data(&d))
        .map_err(FuncError::new)
}

/// encoding/json's `UnmarshalTypeError` text for a top-level mismatch.
fn type_error(d: &Data, target: &str, via_yaml: bool) -> String {
    let kind = match d {
        Data::List(_) => "array",
        Data::Map(_) => "object",
        Data::String(_) => "string",
        Data::Bool(_) => "bool",
        _ => "number",
    };
    let base = format!("json: cannot unmarshal {kind} into Go value of type {target}");
    if via_yaml {
        format!("error unmarshaling JSON: while decoding JSON: {base}")
    } else {
        base
    }
}

/// Decoding into `map[string]interface{}`: `null` leaves a nil (empty) map, a non-map is an
/// error, errors go into the `Error` key.
fn into_map(r: Result<Data, String>, via_yaml: bool) -> Value {
    let err = match r {
        Ok(Data::Map(m)) => return Value::from_data(&Data::Map(m)),
        Ok(Data::Null) => return Value::empty_map(),
        Ok(other) => type_error(&other, "map[string]interface {}", via_yaml),
        Err(e) => e,
    };
    let mut m = BTreeMap::new();
    m.insert("Error".to_string(), Value::string(err));
    Value::map(m)
}

/// Decoding into `[]interface{}`: `null` gives an empty list, errors a one-string list.
fn into_list(r: Result<Data, String>, via_yaml: bool) -> Value {
    let err = match r {
        Ok(Data::List(l)) => return Value::from_data(&Data::List(l)),
        Ok(Data::Null) => return Value::list(Vec::new()),
        Ok(other) => type_error(&other, "[]interface {}", via_yaml),
        Err(e) => e,
    };
    Value::list(vec![Value::string(err)])
}

fn to_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toJson", a)?;
    Ok(Value::string(
        json::try_to_json(&json_data(v), true, "").unwrap_or_default(),
    ))
}

fn must_to_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("mustToJson", a)?;
    json::try_to_json(&json_data(v), true, "")
        .map(Value::string)
        .map_err(FuncError::new)
}

fn to_pretty_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toPrettyJson", a)?;
    Ok(Value::string(
        json::try_to_json(&json_data(v), true, "  ").unwrap_or_default(),
    ))
}

fn must_to_pretty_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("mustToPrettyJson", a)?;
    json::try_to_json(&json_data(v), true, "  ")
        .map(Value::string)
        .map_err(FuncError::new)
}

fn to_raw_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toRawJson", a)?;
    json::try_to_json(&json_data(v), false, "")
        .map(Value::string)
        .map_err(FuncError::new)
}

fn must_to_raw_json(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("mustToRawJson", a)?;
    json::try_to_json(&json_data(v), false, "")
        .map(Value::string)
        .map_err(FuncError::new)
}

fn to_toml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("toToml", a)?;
    Ok(Value::string(match toml_encode(v) {
        Ok(s) => s,
        Err(e) => e,
    }))
}

fn must_to_toml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let v = one("mustToToml", a)?;
    toml_encode(v).map(Value::string).map_err(FuncError::new)
}

fn from_toml(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    let s = string_arg("fromToml", a)?;
    Ok(into_map(toml_decode(&s), false))
}

/// BurntSushi/toml is not reproduced yet: `toToml` reports that instead of guessing.
fn toml_encode(_v: &Value) -> Result<String, String> {
    Err("toToml is not supported by wayfinder yet".into())
}

fn toml_decode(_s: &str) -> Result<Data, String> {
    Err("fromToml is not supported by wayfinder yet".into())
}
