//! YAML exactly as Helm reads and writes it.
//!
//! Reading (`parse`, `parse_all`) is `sigs.k8s.io/yaml.Unmarshal` into `interface{}` as Helm
//! v4.2.3 uses it (sigs.k8s.io/yaml v1.6.0 over go.yaml.in/yaml/v2 v2.4.3):
//!
//! 1. `parse.rs`: events from `saphyr-parser` become a node tree per document (anchors,
//!    aliases, tags, positions); errors get libyaml's wording.
//! 2. `resolve.rs`: go-yaml v2's YAML 1.1 implicit typing of plain scalars.
//! 3. `decode.rs`: the tree becomes `Data`: aliases (with go-yaml's alias-bomb limit), merge
//!    keys, key stringification, then the JSON round trip (all numbers float64).
//!
//! Writing (`to_yaml`, `emit.rs`) is Helm's `toYaml`: `sigs.k8s.io/yaml.Marshal` (encoding/json,
//! then go-yaml v2's encoder) with the final newline trimmed by the caller.

mod decode;
mod emit;
mod parse;
mod quick;
mod resolve;

pub(crate) use quick::quick_head;

pub use emit::{marshal, to_yaml, to_yaml_pretty};

use crate::value::Data;

/// A YAML error. `message` is the full text `sigs.k8s.io/yaml.Unmarshal` returns, e.g.
/// `error converting YAML to JSON: yaml: line 3: mapping values are not allowed in this context`;
/// `line` is the line go-yaml names, when it names one.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
}

impl YamlError {
    /// The message without sigs.k8s.io/yaml's `error converting YAML to JSON: ` prefix
    /// (what go-yaml itself says, e.g. `yaml: line 3: did not find expected key`).
    pub fn go_yaml_message(&self) -> &str {
        self.message
            .strip_prefix("error converting YAML to JSON: ")
            .unwrap_or(&self.message)
    }
}

/// The string sigs.k8s.io/yaml puts in a Go `string` struct field (Chart.yaml's `version`,
/// `appVersion`, annotations…) when the YAML holds a number or bool there: ints in decimal,
/// floats as `strconv.FormatFloat(f, 'g', -1, 32)` (so `1.10` → `1.1`, `1.0` → `1`),
/// `true`/`false`. `None` for strings, null and collections.
///
/// `Data` no longer says whether the YAML had an int or a float; integral values below 2^53
/// are taken as ints (a float literal such as `1e10` would give `1e+10` in Helm).
pub fn go_string_field(d: &Data) -> Option<String> {
    match d {
        Data::Bool(b) => Some(b.to_string()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Some(format!("{}", *f as i64))
        }
        Data::Float(f) => Some(crate::json::go_format_float(*f, 'g', 32)),
        _ => None,
    }
}

const PREFIX: &str = "error converting YAML to JSON: ";

/// Parses the first YAML document the way `sigs.k8s.io/yaml.Unmarshal` into `interface{}` does
/// (later documents are not read at all, as in go-yaml). An empty or comment-only text gives
/// `Data::Null`.
pub fn parse(text: &str) -> Result<Data, YamlError> {
    let docs = parse::parse_docs(text, 1).map_err(syntax)?;
    match docs.first() {
        None => Ok(Data::Null),
        Some(doc) => decode::decode(doc).map_err(|m| YamlError {
            message: format!("{PREFIX}{m}"),
            line: None,
        }),
    }
}

/// Parses every document of a multi-document text (`---` separated), each as `parse` would.
pub fn parse_all(text: &str) -> Result<Vec<Data>, YamlError> {
    let docs = parse::parse_docs(text, usize::MAX).map_err(syntax)?;
    docs.iter()
        .map(|d| {
            decode::decode(d).map_err(|m| YamlError {
                message: format!("{PREFIX}{m}"),
                line: None,
            })
        })
        .collect()
}

fn syntax(e: parse::SyntaxError) -> YamlError {
    YamlError {
        message: format!("{PREFIX}yaml: {}", e.go_text()),
        line: e.line,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod oracle_tests;

#[cfg(test)]
mod oracle_docs;
