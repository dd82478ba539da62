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
//! | `lookup` | no cluster: an empty map, as `helm template` gives |

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
    m.insert("lookup", lookup);
}

/// Helm's `lookup` without a cluster (`helm template`): four strings in, an empty map out.
fn lookup(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("lookup", a, 4)?;
    for i in 0..4 {
        args::string(a, i)?;
    }
    Ok(Value::empty_map())
}

/// The value as `encoding/json` sees it: `[]byte` becomes base64, objects their JSON form.
pub(crate) fn json_data(v: &Value) -> Data {
    match v {
        Value::Bytes(b) => Data::String(super::encoding::b64_encode(b)),
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
    // Go keeps what it decoded when a number overflows, and adds the error.
    if let Ok((Data::Map(mut m), Some(e))) = json::parse_partial(&s) {
        m.insert("Error".into(), Data::String(e));
        return Ok(Value::from_data(&Data::Map(m)));
    }
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

/// `BurntSushi/toml` v1.6.0's `Encoder.Encode` (indent two spaces per table level).
fn toml_encode(v: &Value) -> Result<String, String> {
    let d = json_data_plain(v);
    let mut e = Toml {
        out: String::new(),
        depth: 0,
    };
    e.encode(&[], &d)?;
    Ok(e.out)
}

/// Like `json_data`, but floats stay floats and bytes stay text (TOML sees the Go values).
fn json_data_plain(v: &Value) -> Data {
    v.to_data()
}

fn toml_decode(_s: &str) -> Result<Data, String> {
    Err("fromToml is not supported by wayfinder yet".into())
}

struct Toml {
    out: String,
    depth: usize,
}

const TOML_NIL_ELEMENT: &str = "toml: cannot encode array with nil element";

/// TOML's view of a value: is it a table (map) or an array of tables?
fn toml_is_table(d: &Data) -> Result<bool, String> {
    Ok(match d {
        Data::Map(_) => true,
        Data::List(l) => toml_is_table_array(l)?,
        _ => false,
    })
}

fn toml_is_table_array(l: &[Data]) -> Result<bool, String> {
    if l.is_empty() {
        return Ok(false);
    }
    let mut all = true;
    for x in l {
        match x {
            Data::Null => return Err(TOML_NIL_ELEMENT.into()),
            Data::Map(_) => {}
            Data::List(inner) => {
                toml_is_table_array(inner)?;
                all = false;
            }
            _ => all = false,
        }
    }
    Ok(all)
}

fn toml_quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\u{8}' => o.push_str("\\b"),
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\u{c}' => o.push_str("\\f"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                o.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn toml_key_part(k: &str) -> String {
    if k.is_empty() {
        return "\"\"".into();
    }
    if k.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_quote(k)
    }
}

impl Toml {
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn indent(&mut self, key: &[String]) {
        for _ in 1..key.len() {
            self.out.push_str("  ");
        }
    }

    fn encode(&mut self, key: &[String], d: &Data) -> Result<(), String> {
        self.depth += 1;
        if self.depth > 1000 {
            return Err("toml: nesting too deep".into());
        }
        let r = match d {
            Data::Null => Ok(()),
            Data::Map(m) => self.table(key, m),
            Data::List(l) if toml_is_table_array(l)? => {
                if key.is_empty() {
                    return Err("toml: top-level values must be Go maps or structs".into());
                }
                for x in l.iter() {
                    if let Data::Map(m) = x {
                        self.newline();
                        self.indent(key);
                        let name = key.iter().map(|k| toml_key_part(k)).collect::<Vec<_>>();
                        self.out.push_str(&format!("[[{}]]", name.join(".")));
                        self.newline();
                        self.map(key, m, false)?;
                    }
                }
                Ok(())
            }
            _ => self.key_value(key, d, false),
        };
        self.depth -= 1;
        r
    }

    fn table(
        &mut self,
        key: &[String],
        m: &std::collections::BTreeMap<String, Data>,
    ) -> Result<(), String> {
        if key.len() == 1 {
            self.newline();
        }
        if !key.is_empty() {
            self.indent(key);
            let name = key.iter().map(|k| toml_key_part(k)).collect::<Vec<_>>();
            self.out.push_str(&format!("[{}]", name.join(".")));
            self.newline();
        }
        self.map(key, m, false)
    }

    fn map(
        &mut self,
        key: &[String],
        m: &std::collections::BTreeMap<String, Data>,
        inline: bool,
    ) -> Result<(), String> {
        let mut direct = Vec::new();
        let mut sub = Vec::new();
        for (k, v) in m {
            if toml_is_table(v)? {
                sub.push((k, v));
            } else {
                direct.push((k, v));
            }
        }
        if inline {
            self.out.push('{');
        }
        let has_sub = !sub.is_empty();
        for (group, trail) in [(direct, has_sub), (sub, false)] {
            let n = group.len();
            for (i, (k, v)) in group.into_iter().enumerate() {
                if matches!(v, Data::Null) {
                    continue;
                }
                if inline {
                    self.key_value(std::slice::from_ref(k), v, true)?;
                    if trail || i != n - 1 {
                        self.out.push_str(", ");
                    }
                } else {
                    let mut kk = key.to_vec();
                    kk.push(k.clone());
                    self.encode(&kk, v)?;
                }
            }
        }
        if inline {
            self.out.push('}');
        }
        Ok(())
    }

    fn key_value(&mut self, key: &[String], d: &Data, inline: bool) -> Result<(), String> {
        if let Some(last) = key.last() {
            self.indent(key);
            self.out.push_str(&toml_key_part(last));
            self.out.push_str(" = ");
        }
        self.element(d)?;
        if !inline && !key.is_empty() {
            self.newline();
        }
        Ok(())
    }

    fn element(&mut self, d: &Data) -> Result<(), String> {
        self.depth += 1;
        if self.depth > 1000 {
            return Err("toml: nesting too deep".into());
        }
        match d {
            Data::Null => {}
            Data::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Data::Int(i) => self.out.push_str(&i.to_string()),
            Data::Float(f) => {
                if f.is_nan() {
                    self.out
                        .push_str(if f.is_sign_negative() { "-nan" } else { "nan" });
                } else if f.is_infinite() {
                    self.out.push_str(if *f < 0.0 { "-inf" } else { "inf" });
                } else {
                    let t = json::go_format_float(*f, 'g', 64);
                    let needs = !t.contains(['e', '.']);
                    self.out.push_str(&t);
                    if needs {
                        self.out.push_str(".0");
                    }
                }
            }
            Data::String(s) => self.out.push_str(&toml_quote(s)),
            Data::List(l) => {
                self.out.push('[');
                for (i, x) in l.iter().enumerate() {
                    self.element(x)?;
                    if i + 1 != l.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Data::Map(m) => self.map(&[], m, true)?,
        }
        self.depth -= 1;
        Ok(())
    }
}
