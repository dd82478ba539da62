//! Stage 2 of reading YAML: a document's node tree becomes `Data` the way
//! `sigs.k8s.io/yaml.Unmarshal` into `interface{}` produces it:
//!
//! 1. go-yaml v2 decodes into `interface{}` (aliases expanded under its alias-ratio limit,
//!    merge keys `<<` applied in document order, duplicate keys: the last one wins);
//! 2. map keys become strings (`int` → decimal, `float64` → `%g` of its float32, `bool` →
//!    `true`/`false`; null and uint64 keys are errors);
//! 3. the JSON round trip: every number becomes float64, NaN and infinities are errors.

use std::collections::{BTreeMap, HashMap};

use super::parse::{Doc, Kind};
use super::resolve::{self, Scalar, BINARY_TAG, MERGE_TAG};
use crate::value::Data;

/// Deepest recursion the decoder allows (nesting plus alias chains); deeper input is refused
/// rather than risking the stack.
const MAX_RECURSION: usize = 500;

/// A decoded value before the JSON step; maps keep Go key types until conversion.
enum Go {
    Scalar(Scalar),
    Seq(Vec<Go>),
    Map(Vec<(Scalar, Go)>),
}

pub(crate) struct Decoder<'a> {
    doc: &'a Doc,
    decode_count: usize,
    alias_count: usize,
    alias_depth: usize,
    /// Alias nodes being expanded (cycle check).
    active: Vec<usize>,
    depth: usize,
}

/// Decodes a document into `Data`; errors are sigs.k8s.io/yaml's text after
/// `error converting YAML to JSON: `.
pub(crate) fn decode(doc: &Doc) -> Result<Data, String> {
    let Some(root) = doc.root else {
        return Ok(Data::Null);
    };
    let mut d = Decoder {
        doc,
        decode_count: 1, // go-yaml counts the document node too
        alias_count: 0,
        alias_depth: 0,
        active: Vec::new(),
        depth: 0,
    };
    let v = d.unmarshal(root).map_err(|e| format!("yaml: {e}"))?;
    let data = to_jsonable(v)?;
    check_json(&data)?;
    Ok(data)
}

fn allowed_alias_ratio(decode_count: usize) -> f64 {
    const LOW: usize = 400_000;
    const HIGH: usize = 4_000_000;
    if decode_count <= LOW {
        0.99
    } else if decode_count >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decode_count - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

impl Decoder<'_> {
    fn count(&mut self) -> Result<(), String> {
        self.decode_count += 1;
        if self.alias_depth > 0 {
            self.alias_count += 1;
        }
        if self.alias_count > 100
            && self.decode_count > 1000
            && self.alias_count as f64 / self.decode_count as f64
                > allowed_alias_ratio(self.decode_count)
        {
            return Err("document contains excessive aliasing".into());
        }
        Ok(())
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_RECURSION {
            return Err(format!("exceeded max depth of {}", super::parse::MAX_DEPTH));
        }
        Ok(())
    }

    fn unmarshal(&mut self, id: usize) -> Result<Go, String> {
        self.count()?;
        self.enter()?;
        let r = self.unmarshal_inner(id);
        self.depth -= 1;
        r
    }

    fn unmarshal_inner(&mut self, id: usize) -> Result<Go, String> {
        let node = &self.doc.nodes[id];
        match &node.kind {
            Kind::Alias { target, name } => {
                let target = *target;
                if self.active.contains(&id) {
                    return Err(format!("anchor '{name}' value contains itself"));
                }
                self.active.push(id);
                self.alias_depth += 1;
                let r = self.unmarshal(target);
                self.alias_depth -= 1;
                self.active.pop();
                r
            }
            Kind::Scalar {
                value,
                tag,
                implicit,
            } => Ok(Go::Scalar(scalar(value, tag, *implicit)?)),
            Kind::Seq(children) => {
                let mut out = Vec::with_capacity(children.len());
                for &c in children {
                    out.push(self.unmarshal(c)?);
                }
                Ok(Go::Seq(out))
            }
            Kind::Map(_) => {
                let mut out = MapAcc::default();
                self.mapping_into(id, &mut out)?;
                Ok(Go::Map(out.items))
            }
        }
    }

    /// Decodes mapping node `id` into an existing map (merge keys write into the same map).
    fn mapping_into(&mut self, id: usize, out: &mut MapAcc) -> Result<(), String> {
        let Kind::Map(children) = &self.doc.nodes[id].kind else {
            return Ok(());
        };
        for pair in children.chunks(2) {
            let (k, v) = (pair[0], pair.get(1).copied());
            let Some(v) = v else { break };
            if self.is_merge(k) {
                self.merge(v, out)?;
                continue;
            }
            let key = match self.unmarshal(k)? {
                Go::Scalar(s) => s,
                other => return Err(format!("invalid map key: {}", go_syntax(&other))),
            };
            let val = self.unmarshal(v)?;
            out.set(key, val);
        }
        Ok(())
    }

    fn is_merge(&self, id: usize) -> bool {
        matches!(&self.doc.nodes[id].kind,
            Kind::Scalar { value, tag, implicit } if value == "<<" && (*implicit || tag == MERGE_TAG))
    }

    fn is_mapping(&self, id: usize) -> bool {
        matches!(self.doc.nodes[id].kind, Kind::Map(_))
    }

    /// Decodes a merge value (mapping, alias of one, or sequence of them) into `out`.
    fn merge(&mut self, id: usize, out: &mut MapAcc) -> Result<(), String> {
        const WANT_MAP: &str = "map merge requires map or sequence of maps as the value";
        match &self.doc.nodes[id].kind {
            Kind::Map(_) => self.merge_one(id, out),
            Kind::Alias { target, .. } => {
                if !self.is_mapping(*target) {
                    return Err(WANT_MAP.into());
                }
                self.merge_one(id, out)
            }
            Kind::Seq(children) => {
                // Earlier maps take precedence: apply them last.
                for &c in children.iter().rev() {
                    let ok = match &self.doc.nodes[c].kind {
                        Kind::Alias { target, .. } => self.is_mapping(*target),
                        Kind::Map(_) => true,
                        _ => false,
                    };
                    if !ok {
                        return Err(WANT_MAP.into());
                    }
                    self.merge_one(c, out)?;
                }
                Ok(())
            }
            Kind::Scalar { .. } => Err(WANT_MAP.into()),
        }
    }

    /// `d.unmarshal(n, out)` with `out` an existing map: counts like go-yaml, follows aliases.
    fn merge_one(&mut self, id: usize, out: &mut MapAcc) -> Result<(), String> {
        self.count()?;
        self.enter()?;
        let r = match &self.doc.nodes[id].kind {
            Kind::Alias { target, name } => {
                let target = *target;
                if self.active.contains(&id) {
                    Err(format!("anchor '{name}' value contains itself"))
                } else {
                    self.active.push(id);
                    self.alias_depth += 1;
                    let r = self.merge_one(target, out);
                    self.alias_depth -= 1;
                    self.active.pop();
                    r
                }
            }
            _ => self.mapping_into(id, out),
        };
        self.depth -= 1;
        r
    }
}

/// A Go `map[interface{}]interface{}` being filled, in insertion order.
#[derive(Default)]
struct MapAcc {
    items: Vec<(Scalar, Go)>,
    index: HashMap<KeyId, usize>,
}

/// Go map key identity: type plus value (`-0.0 == 0.0`; NaN never equals anything).
#[derive(PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(u64),
    Str(String),
}

impl MapAcc {
    /// Go map assignment: an equal key is replaced in place.
    fn set(&mut self, key: Scalar, val: Go) {
        let id = match &key {
            Scalar::Null => Some(KeyId::Null),
            Scalar::Bool(b) => Some(KeyId::Bool(*b)),
            Scalar::Int(i) => Some(KeyId::Int(*i)),
            Scalar::Uint(u) => Some(KeyId::Uint(*u)),
            Scalar::Float(f) if f.is_nan() => None,
            Scalar::Float(f) => Some(KeyId::Float((f + 0.0).to_bits())),
            Scalar::Str(s) => Some(KeyId::Str(s.clone())),
        };
        match id {
            Some(id) => match self.index.get(&id) {
                Some(&i) => self.items[i].1 = val,
                None => {
                    self.index.insert(id, self.items.len());
                    self.items.push((key, val));
                }
            },
            None => self.items.push((key, val)),
        }
    }
}

fn scalar(value: &str, tag: &str, implicit: bool) -> Result<Scalar, String> {
    if tag.is_empty() && !implicit {
        return Ok(Scalar::Str(value.to_string()));
    }
    if tag == BINARY_TAG {
        let bytes = decode_base64(value)
            .ok_or_else(|| "!!binary value contains invalid base64 data".to_string())?;
        return Ok(Scalar::Str(String::from_utf8_lossy(&bytes).into_owned()));
    }
    resolve::resolve(tag, value)
}

/// Go's `base64.StdEncoding.DecodeString`: padded standard alphabet; `\r` and `\n` ignored.
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'\n' && c != b'\r').collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    let chunks = clean.len() / 4;
    for (i, ch) in clean.chunks(4).enumerate() {
        let last = i + 1 == chunks;
        let pads = ch.iter().rev().take_while(|&&c| c == b'=').count();
        if pads > 2 || (pads > 0 && !last) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &ch[..4 - pads] {
            n = (n << 6) | val(c)?;
        }
        n <<= 6 * pads as u32;
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Go rejects non-zero trailing bits in the padded quantum.
        match pads {
            0 => out.extend_from_slice(&bytes),
            1 => {
                if bytes[2] != 0 {
                    return None;
                }
                out.extend_from_slice(&bytes[..2]);
            }
            _ => {
                if bytes[1] != 0 || bytes[2] != 0 {
                    return None;
                }
                out.push(bytes[0]);
            }
        }
    }
    Some(out)
}

/// Go's `%#v` of a decoded value, for the few messages that print one.
fn go_syntax(v: &Go) -> String {
    match v {
        Go::Scalar(s) => scalar_syntax(s),
        Go::Seq(items) => format!(
            "[]interface {{}}{{{}}}",
            items.iter().map(go_syntax).collect::<Vec<_>>().join(", ")
        ),
        Go::Map(items) => format!(
            "map[interface {{}}]interface {{}}{{{}}}",
            items
                .iter()
                .map(|(k, v)| format!("{}:{}", scalar_syntax(k), go_syntax(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn scalar_syntax(s: &Scalar) -> String {
    match s {
        Scalar::Null => "<nil>".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Uint(u) => format!("0x{u:x}"),
        Scalar::Float(f) => crate::json::go_format_float(*f, 'g', 64),
        Scalar::Str(s) => format!("{s:?}"),
    }
}

fn go_type(s: &Scalar) -> &'static str {
    match s {
        Scalar::Null => "%!s(<nil>)",
        Scalar::Bool(_) => "bool",
        Scalar::Int(_) => "int",
        Scalar::Uint(_) => "uint64",
        Scalar::Float(_) => "float64",
        Scalar::Str(_) => "string",
    }
}

/// sigs.k8s.io/yaml's key conversion plus the JSON number rule, in one pass.
fn to_jsonable(v: Go) -> Result<Data, String> {
    Ok(match v {
        Go::Scalar(s) => scalar_data(s),
        Go::Seq(items) => Data::List(
            items
                .into_iter()
                .map(to_jsonable)
                .collect::<Result<_, _>>()?,
        ),
        Go::Map(items) => {
            let mut m = BTreeMap::new();
            for (k, v) in items {
                let key = match &k {
                    Scalar::Str(s) => s.clone(),
                    Scalar::Int(i) => i.to_string(),
                    Scalar::Float(f) => match crate::json::go_format_float(*f, 'g', 32).as_str() {
                        "+Inf" => ".inf".into(),
                        "-Inf" => "-.inf".into(),
                        "NaN" => ".nan".into(),
                        s => s.to_string(),
                    },
                    Scalar::Bool(b) => b.to_string(),
                    Scalar::Null | Scalar::Uint(_) => {
                        return Err(format!(
                            "unsupported map key of type: {}, key: {}, value: {}",
                            go_type(&k),
                            scalar_syntax(&k),
                            go_syntax(&v)
                        ))
                    }
                };
                m.insert(key, to_jsonable(v)?);
            }
            Data::Map(m)
        }
    })
}

fn scalar_data(s: Scalar) -> Data {
    match s {
        Scalar::Null => Data::Null,
        Scalar::Bool(b) => Data::Bool(b),
        Scalar::Int(i) => Data::Float(i as f64),
        Scalar::Uint(u) => Data::Float(u as f64),
        Scalar::Float(f) => Data::Float(f),
        Scalar::Str(s) => Data::String(s),
    }
}

/// `json.Marshal` refuses NaN and infinities; it walks maps in sorted key order.
fn check_json(d: &Data) -> Result<(), String> {
    let mut stack = vec![d];
    // Depth-first in document order: push children reversed.
    while let Some(d) = stack.pop() {
        match d {
            Data::Float(f) if !f.is_finite() => {
                return Err(format!(
                    "json: unsupported value: {}",
                    crate::json::go_format_float(*f, 'g', 64)
                ))
            }
            Data::List(l) => stack.extend(l.iter().rev()),
            Data::Map(m) => stack.extend(m.values().rev()),
            _ => {}
        }
    }
    Ok(())
}
