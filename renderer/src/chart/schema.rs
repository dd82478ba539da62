//! `values.schema.json` validation as Helm v4 does it (`santhosh-tekuri/jsonschema/v6`).
//!
//! Every chart with a schema validates its values; each subchart validates the table under its
//! name (skipped when absent or null; a non-table is an error). Failures are collected over the
//! whole tree and reported as Helm does:
//!
//! ```text
//! values don't meet the specifications of the schema(s) in the following chart(s):
//! mychart:
//! - at '/replicaCount': got string, want integer
//! ```
//!
//! An in-house validator: drafts 4, 6, 7, 2019-09 and 2020-12 (picked from `$schema`; none or
//! `http://json-schema.org/schema#` means 2020-12), keywords type, enum, const, format (asserted
//! for drafts before 2019 only, as the library does), $ref (local pointers, `$id`s, anchors;
//! remote refs are not fetched and accept everything), properties, patternProperties,
//! additionalProperties, required, dependencies / dependentRequired / dependentSchemas,
//! propertyNames, min/maxProperties, items / prefixItems / additionalItems, contains,
//! min/maxItems, uniqueItems, min/maxLength, pattern, minimum / maximum / exclusive* / multipleOf,
//! allOf, anyOf, oneOf, not, if/then/else. Not supported: unevaluated*, $dynamicRef, content*.
//! Messages follow the library's wording; their order can differ where Go iterates maps.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use regex::Regex;
use serde_json::Value as J;

use super::formats::format_ok;
use super::{Chart, ChartError};
use crate::value::Data;

const MAX_DEPTH: usize = 512;

/// Validates the values of `chart` and of every subchart against their schemas.
pub(crate) fn validate_all(chart: &Chart, values: &Data) -> Result<(), ChartError> {
    let mut out = String::new();
    validate_chart(chart, values, &mut out, 0);
    if out.is_empty() {
        return Ok(());
    }
    Err(ChartError {
        message: format!(
            "values don't meet the specifications of the schema(s) in the following chart(s):\n{out}"
        ),
    })
}

fn validate_chart(chart: &Chart, values: &Data, out: &mut String, depth: usize) {
    if depth > 64 {
        return;
    }
    if let Some(schema) = &chart.schema {
        if let Err(e) = validate_single(values, schema) {
            out.push_str(&format!("{}:\n{e}", chart.name()));
        }
    }
    for sub in &chart.dependencies {
        match values.as_map().and_then(|m| m.get(sub.name())) {
            None | Some(Data::Null) => {}
            Some(v @ Data::Map(_)) => validate_chart(sub, v, out, depth + 1),
            Some(other) => out.push_str(&format!(
                "{}:\ninvalid type for values: expected object (map), got {}\n",
                sub.name(),
                crate::value::Value::from_data(other).type_name()
            )),
        }
    }
}

thread_local! {
    /// Parsed schema documents by their text (every render of a chart parses the same ones).
    static PARSED: RefCell<Vec<(Vec<u8>, Rc<J>)>> = const { RefCell::new(Vec::new()) };
}

/// Schema documents kept parsed per thread.
const MAX_PARSED: usize = 32;

/// `schema` parsed as JSON, reusing an earlier parse of the same text.
fn parsed_schema(schema: &[u8]) -> Result<Rc<J>, String> {
    let hit = PARSED.with(|c| {
        c.borrow()
            .iter()
            .find(|(text, _)| text[..] == *schema)
            .map(|(_, doc)| doc.clone())
    });
    if let Some(doc) = hit {
        return Ok(doc);
    }
    let doc: Rc<J> = Rc::new(serde_json::from_slice(schema).map_err(|e| format!("{e}\n"))?);
    PARSED.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= MAX_PARSED {
            c.remove(0);
        }
        c.push((schema.to_vec(), doc.clone()));
    });
    Ok(doc)
}

/// Validates one values tree against one schema document; the error text ends with a newline.
pub(crate) fn validate_single(values: &Data, schema: &[u8]) -> Result<(), String> {
    let doc = parsed_schema(schema)?;
    let doc: &J = &doc;
    let draft = draft_of(doc);
    let mut v = Validator {
        root: doc,
        draft,
        ids: HashMap::new(),
        regexes: RefCell::new(HashMap::new()),
    };
    v.collect_ids(doc, 0);
    v.check_schema(doc, "", 0).map_err(|e| format!("{e}\n"))?;
    let inst = to_json(values);
    match v.validate(doc, &inst, "", 0) {
        Ok(()) => Ok(()),
        Err(e) => {
            let causes = if e.group { e.causes } else { vec![e] };
            let mut s = String::new();
            for c in &causes {
                c.display(&mut s, 1);
            }
            // Helm drops the library's first line and adds a newline.
            Err(format!("{}\n", s.trim_start_matches('\n')))
        }
    }
}

fn to_json(d: &Data) -> J {
    match d {
        Data::Null => J::Null,
        Data::Bool(b) => J::Bool(*b),
        Data::Int(i) => J::from(*i),
        Data::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Data::String(s) => J::String(s.clone()),
        Data::List(l) => J::Array(l.iter().map(to_json).collect()),
        Data::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

fn draft_of(doc: &J) -> u32 {
    let Some(s) = doc.get("$schema").and_then(J::as_str) else {
        return 2020;
    };
    let (u, frag) = s.split_once('#').unwrap_or((s, ""));
    if !frag.is_empty() {
        return 2020;
    }
    let u = u
        .strip_prefix("http://")
        .or_else(|| u.strip_prefix("https://"))
        .unwrap_or(u);
    match u {
        "json-schema.org/draft-04/schema" => 4,
        "json-schema.org/draft-06/schema" => 6,
        "json-schema.org/draft-07/schema" => 7,
        "json-schema.org/draft/2019-09/schema" => 2019,
        _ => 2020,
    }
}

/// A validation failure: where in the values, what, and nested causes.
#[derive(Debug)]
struct VErr {
    loc: String,
    msg: String,
    causes: Vec<VErr>,
    group: bool,
}

impl VErr {
    fn new(loc: &str, msg: impl Into<String>) -> VErr {
        VErr {
            loc: loc.to_string(),
            msg: msg.into(),
            causes: Vec::new(),
            group: false,
        }
    }

    fn display(&self, s: &mut String, indent: usize) {
        s.push('\n');
        for _ in 0..indent.saturating_sub(1) {
            s.push_str("  ");
        }
        s.push_str(&format!("- at {}: {}", quote(&self.loc), self.msg));
        for c in &self.causes {
            c.display(s, indent + 1);
        }
    }
}

/// The library's `quote`: Go's `%q` with single quotes outside.
fn quote(s: &str) -> String {
    let q = format!("{s:?}");
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn display(v: &J) -> String {
    match v {
        J::String(s) => quote(s),
        J::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn type_of(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(_) => "number",
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn is_integer(v: &J) -> bool {
    match v {
        J::Number(n) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn json_equal(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

fn const_error(loc: &str, c: &J) -> VErr {
    let msg = match c {
        J::Array(_) | J::Object(_) => "const failed".to_string(),
        other => format!("value must be {}", display(other)),
    };
    VErr::new(loc, msg)
}

fn ptr_escape(tok: &str) -> String {
    tok.replace('~', "~0").replace('/', "~1")
}

/// A number as the library's English message printer shows it: Go's `%v`, digits grouped.
fn fmt_num(f: f64) -> String {
    group(&crate::fmt::format_float_v(f))
}

/// Thousands separators in the integer part (`70000` → `70,000`, `1234.5` → `1,234.5`).
fn group(s: &str) -> String {
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", s),
    };
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (int, tail) = rest.split_at(end);
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}{tail}")
}

fn count(n: usize) -> String {
    group(&n.to_string())
}

fn count_f(f: f64) -> String {
    fmt_num(f)
}

struct Validator<'a> {
    root: &'a J,
    draft: u32,
    ids: HashMap<String, &'a J>,
    regexes: RefCell<HashMap<String, Option<Regex>>>,
}

thread_local! {
    static COMPILED: RefCell<HashMap<String, Option<Regex>>> = RefCell::new(HashMap::new());
}

/// Patterns kept compiled per thread.
const MAX_COMPILED: usize = 512;

impl<'a> Validator<'a> {
    fn collect_ids(&mut self, node: &'a J, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match node {
            J::Object(m) => {
                for key in ["$id", "id", "$anchor"] {
                    if let Some(J::String(id)) = m.get(key) {
                        let id = if key == "$anchor" {
                            format!("#{id}")
                        } else {
                            id.clone()
                        };
                        self.ids.insert(id, node);
                    }
                }
                for (k, v) in m {
                    if k != "enum" && k != "const" {
                        self.collect_ids(v, depth + 1);
                    }
                }
            }
            J::Array(l) => {
                for v in l {
                    self.collect_ids(v, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn regex(&self, pattern: &str) -> Option<Regex> {
        let mut cache = self.regexes.borrow_mut();
        if let Some(r) = cache.get(pattern) {
            return r.clone();
        }
        // Compiled patterns outlive one validation: every render of a chart checks the same
        // schema again.
        let compiled = COMPILED.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(r) = c.get(pattern) {
                return r.clone();
            }
            let r = Regex::new(pattern).ok();
            if c.len() >= MAX_COMPILED {
                c.clear();
            }
            c.insert(pattern.to_string(), r.clone());
            r
        });
        cache.insert(pattern.to_string(), compiled.clone());
        compiled
    }

    /// A light metaschema check: the keyword shapes a compiler would reject.
    fn check_schema(&self, s: &J, at: &str, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("schema is nested too deeply".into());
        }
        let m = match s {
            J::Bool(_) => return Ok(()),
            J::Object(m) => m,
            _ => {
                return Err(format!(
                    "jsonschema: invalid schema at '{at}': not an object or boolean"
                ))
            }
        };
        let bad =
            |k: &str, why: &str| Err(format!("jsonschema: invalid schema at '{at}/{k}': {why}"));
        const TYPES: &[&str] = &[
            "null", "boolean", "object", "array", "number", "string", "integer",
        ];
        match m.get("type") {
            None => {}
            Some(J::String(t)) if TYPES.contains(&t.as_str()) => {}
            Some(J::Array(ts))
                if ts
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t))) => {}
            Some(_) => return bad("type", "invalid type"),
        }
        if let Some(r) = m.get("required") {
            if !(r.is_array() && r.as_array().is_some_and(|l| l.iter().all(J::is_string))) {
                return bad("required", "want array of strings");
            }
        }
        if let Some(p) = m.get("pattern") {
            match p.as_str() {
                Some(p) if self.regex(p).is_some() => {}
                _ => return bad("pattern", "invalid regular expression"),
            }
        }
        for k in ["enum", "allOf", "anyOf", "oneOf"] {
            if let Some(v) = m.get(k) {
                if !v.is_array() {
                    return bad(k, "want array");
                }
            }
        }
        for k in [
            "minimum",
            "maximum",
            "multipleOf",
            "minLength",
            "maxLength",
            "minItems",
            "maxItems",
        ] {
            if let Some(v) = m.get(k) {
                if !v.is_number() {
                    return bad(k, "want number");
                }
            }
        }
        for k in ["properties", "patternProperties", "definitions", "$defs"] {
            match m.get(k) {
                None => {}
                Some(J::Object(props)) => {
                    for (name, sub) in props {
                        if k == "patternProperties" && self.regex(name).is_none() {
                            return bad(k, "invalid regular expression");
                        }
                        self.check_schema(
                            sub,
                            &format!("{at}/{k}/{}", ptr_escape(name)),
                            depth + 1,
                        )?;
                    }
                }
                Some(_) => return bad(k, "want object"),
            }
        }
        for k in ["allOf", "anyOf", "oneOf"] {
            if let Some(J::Array(l)) = m.get(k) {
                for (i, sub) in l.iter().enumerate() {
                    self.check_schema(sub, &format!("{at}/{k}/{i}"), depth + 1)?;
                }
            }
        }
        for k in [
            "additionalProperties",
            "not",
            "if",
            "then",
            "else",
            "contains",
            "propertyNames",
            "additionalItems",
        ] {
            if let Some(sub) = m.get(k) {
                self.check_schema(sub, &format!("{at}/{k}"), depth + 1)?;
            }
        }
        match m.get("items") {
            Some(J::Array(l)) => {
                for (i, sub) in l.iter().enumerate() {
                    self.check_schema(sub, &format!("{at}/items/{i}"), depth + 1)?;
                }
            }
            Some(sub) => self.check_schema(sub, &format!("{at}/items"), depth + 1)?,
            None => {}
        }
        Ok(())
    }

    fn resolve(&self, reference: &str) -> Option<&'a J> {
        let (base, frag) = reference.split_once('#').unwrap_or((reference, ""));
        let doc: &'a J = if base.is_empty() {
            self.root
        } else if let Some(n) = self.ids.get(base) {
            n
        } else {
            let found = self.ids.iter().find(|(id, _)| {
                let id = id.split('#').next().unwrap_or("");
                !id.is_empty() && (id.ends_with(&format!("/{base}")) || base.ends_with(id))
            });
            found.map(|(_, n)| *n)?
        };
        if frag.is_empty() {
            return Some(doc);
        }
        if !frag.starts_with('/') {
            return self.ids.get(&format!("#{frag}")).copied();
        }
        let mut cur = doc;
        for tok in frag[1..].split('/') {
            let tok = percent_decode(tok).replace("~1", "/").replace("~0", "~");
            cur = match cur {
                J::Object(m) => m.get(&tok)?,
                J::Array(l) => l.get(tok.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    fn validate(&self, s: &J, v: &J, loc: &str, depth: usize) -> Result<(), VErr> {
        if depth > MAX_DEPTH {
            return Err(VErr::new(
                loc,
                "schema references nest too deeply (reference cycle?)",
            ));
        }
        let m = match s {
            J::Bool(true) => return Ok(()),
            J::Bool(false) => return Err(VErr::new(loc, "false schema")),
            J::Object(m) => m,
            _ => return Ok(()),
        };
        if self.draft < 2019 {
            if let Some(J::String(r)) = m.get("$ref") {
                // Siblings of $ref are ignored, except `const` (drafts 6 and 7): the library
                // compiles draft-6 keywords anyway and checks `const` before `$ref`.
                if self.draft >= 6 {
                    if let Some(c) = m.get("const") {
                        if !json_equal(v, c) {
                            return Err(const_error(loc, c));
                        }
                    }
                }
                return match self.resolve(r) {
                    Some(target) => self.validate(target, v, loc, depth + 1),
                    None => Ok(()),
                };
            }
        }
        let t = type_of(v);
        if let Some(types) = m.get("type") {
            let want: Vec<&str> = match types {
                J::String(s) => vec![s.as_str()],
                J::Array(l) => l.iter().filter_map(J::as_str).collect(),
                _ => Vec::new(),
            };
            let ok = want.is_empty()
                || want.contains(&t)
                || (want.contains(&"integer") && is_integer(v));
            if !ok {
                return Err(VErr::new(
                    loc,
                    format!("got {t}, want {}", want.join(" or ")),
                ));
            }
        }
        if let Some(c) = m.get("const") {
            if !json_equal(v, c) {
                return Err(const_error(loc, c));
            }
        }
        if let Some(J::Array(items)) = m.get("enum") {
            if !items.iter().any(|e| json_equal(v, e)) {
                let primitive = items.iter().all(|e| !e.is_array() && !e.is_object());
                let msg = if !primitive {
                    "enum failed".to_string()
                } else if items.len() == 1 {
                    format!("value must be {}", display(&items[0]))
                } else {
                    let all: Vec<String> = items.iter().map(display).collect();
                    format!("value must be one of {}", all.join(", "))
                };
                return Err(VErr::new(loc, msg));
            }
        }
        if self.draft < 2019 {
            if let (Some(J::String(f)), J::String(sv)) = (m.get("format"), v) {
                if !format_ok(f, sv) {
                    let reason = if f == "email" && !sv.contains('@') {
                        ": missing @"
                    } else {
                        ""
                    };
                    return Err(VErr::new(
                        loc,
                        format!("{} is not valid {f}{reason}", display(v)),
                    ));
                }
            }
        }
        let mut errors: Vec<VErr> = Vec::new();
        if let Some(J::String(r)) = m.get("$ref") {
            if let Some(target) = self.resolve(r) {
                if let Err(e) = self.validate(target, v, loc, depth + 1) {
                    errors.push(e);
                }
            }
        }
        match v {
            J::Object(obj) => self.validate_object(m, obj, loc, depth, &mut errors),
            J::Array(arr) => self.validate_array(m, arr, loc, depth, &mut errors),
            J::String(sv) => self.validate_string(m, sv, loc, &mut errors),
            J::Number(n) => {
                validate_number(self.draft, m, n.as_f64().unwrap_or(0.0), loc, &mut errors)
            }
            _ => {}
        }
        self.validate_conditions(m, v, loc, depth, &mut errors);
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(VErr {
                loc: loc.to_string(),
                msg: "validation failed".into(),
                causes: errors,
                group: true,
            }),
        }
    }

    fn validate_object(
        &self,
        m: &serde_json::Map<String, J>,
        obj: &serde_json::Map<String, J>,
        loc: &str,
        depth: usize,
        errors: &mut Vec<VErr>,
    ) {
        let num = |k: &str| m.get(k).and_then(J::as_f64);
        if let Some(min) = num("minProperties") {
            if (obj.len() as f64) < min {
                errors.push(VErr::new(
                    loc,
                    format!(
                        "minProperties: got {}, want {}",
                        count(obj.len()),
                        count_f(min)
                    ),
                ));
            }
        }
        if let Some(max) = num("maxProperties") {
            if (obj.len() as f64) > max {
                errors.push(VErr::new(
                    loc,
                    format!(
                        "maxProperties: got {}, want {}",
                        count(obj.len()),
                        count_f(max)
                    ),
                ));
            }
        }
        if let Some(J::Array(req)) = m.get("required") {
            let missing: Vec<&str> = req
                .iter()
                .filter_map(J::as_str)
                .filter(|k| !obj.contains_key(*k))
                .collect();
            if missing.len() == 1 {
                errors.push(VErr::new(
                    loc,
                    format!("missing property {}", quote(missing[0])),
                ));
            } else if !missing.is_empty() {
                let q: Vec<String> = missing.iter().map(|k| quote(k)).collect();
                errors.push(VErr::new(
                    loc,
                    format!("missing properties {}", q.join(", ")),
                ));
            }
        }
        let dep_key = if self.draft < 2019 {
            "dependencies"
        } else {
            "dependentRequired"
        };
        for key in [dep_key, "dependentSchemas"] {
            if key == "dependentSchemas" && self.draft < 2019 {
                continue;
            }
            let Some(J::Object(deps)) = m.get(key) else {
                continue;
            };
            for (pname, dep) in deps {
                if !obj.contains_key(pname) {
                    continue;
                }
                match dep {
                    J::Array(req) => {
                        let missing: Vec<String> = req
                            .iter()
                            .filter_map(J::as_str)
                            .filter(|k| !obj.contains_key(*k))
                            .map(quote)
                            .collect();
                        if !missing.is_empty() {
                            errors.push(VErr::new(
                                loc,
                                format!(
                                    "properties {} required, if {} exists",
                                    missing.join(", "),
                                    quote(pname)
                                ),
                            ));
                        }
                    }
                    sub => {
                        if let Err(e) = self.validate(sub, &J::Object(obj.clone()), loc, depth + 1)
                        {
                            errors.push(e);
                        }
                    }
                }
            }
        }
        let props = m.get("properties").and_then(J::as_object);
        let pattern_props = m.get("patternProperties").and_then(J::as_object);
        let mut additional = Vec::new();
        for (pname, pvalue) in obj {
            let ploc = format!("{loc}/{}", ptr_escape(pname));
            let mut evaluated = false;
            if let Some(sub) = props.and_then(|p| p.get(pname)) {
                evaluated = true;
                if let Err(e) = self.validate(sub, pvalue, &ploc, depth + 1) {
                    errors.push(e);
                }
            }
            if let Some(pp) = pattern_props {
                for (re, sub) in pp {
                    if self.regex(re).is_some_and(|r| r.is_match(pname)) {
                        evaluated = true;
                        if let Err(e) = self.validate(sub, pvalue, &ploc, depth + 1) {
                            errors.push(e);
                        }
                    }
                }
            }
            if !evaluated {
                match m.get("additionalProperties") {
                    Some(J::Bool(false)) => additional.push(quote(pname)),
                    Some(sub @ J::Object(_)) => {
                        if let Err(e) = self.validate(sub, pvalue, &ploc, depth + 1) {
                            errors.push(e);
                        }
                    }
                    _ => {}
                }
            }
        }
        if !additional.is_empty() {
            errors.push(VErr::new(
                loc,
                format!(
                    "additional properties {} not allowed",
                    additional.join(", ")
                ),
            ));
        }
        if self.draft > 4 {
            if let Some(names) = m.get("propertyNames") {
                for pname in obj.keys() {
                    if self
                        .validate(names, &J::String(pname.clone()), loc, depth + 1)
                        .is_err()
                    {
                        errors.push(VErr::new(
                            loc,
                            format!("invalid propertyName {}", quote(pname)),
                        ));
                    }
                }
            }
        }
    }

    fn validate_array(
        &self,
        m: &serde_json::Map<String, J>,
        arr: &[J],
        loc: &str,
        depth: usize,
        errors: &mut Vec<VErr>,
    ) {
        let num = |k: &str| m.get(k).and_then(J::as_f64);
        if let Some(min) = num("minItems") {
            if (arr.len() as f64) < min {
                errors.push(VErr::new(
                    loc,
                    format!("minItems: got {}, want {}", count(arr.len()), count_f(min)),
                ));
            }
        }
        if let Some(max) = num("maxItems") {
            if (arr.len() as f64) > max {
                errors.push(VErr::new(
                    loc,
                    format!("maxItems: got {}, want {}", count(arr.len()), count_f(max)),
                ));
            }
        }
        if m.get("uniqueItems") == Some(&J::Bool(true)) {
            'outer: for i in 0..arr.len() {
                for j in i + 1..arr.len() {
                    if json_equal(&arr[i], &arr[j]) {
                        errors.push(VErr::new(
                            loc,
                            format!("items at {} and {} are equal", count(i), count(j)),
                        ));
                        break 'outer;
                    }
                }
            }
        }
        let check = |sub: &J, i: usize, item: &J, errors: &mut Vec<VErr>| {
            if let Err(e) = self.validate(sub, item, &format!("{loc}/{i}"), depth + 1) {
                errors.push(e);
            }
        };
        if self.draft < 2020 {
            let mut evaluated = 0;
            match m.get("items") {
                Some(J::Array(tuple)) => {
                    evaluated = tuple.len().min(arr.len());
                    for (i, item) in arr[..evaluated].iter().enumerate() {
                        check(&tuple[i], i, item, errors);
                    }
                }
                Some(sub) => {
                    for (i, item) in arr.iter().enumerate() {
                        check(sub, i, item, errors);
                    }
                    evaluated = arr.len();
                }
                None => {}
            }
            match m.get("additionalItems") {
                Some(J::Bool(false)) if evaluated != arr.len() => errors.push(VErr::new(
                    loc,
                    format!(
                        "last {} additionalItem(s) not allowed",
                        count(arr.len() - evaluated)
                    ),
                )),
                Some(sub @ J::Object(_)) => {
                    for (i, item) in arr.iter().enumerate().skip(evaluated) {
                        check(sub, i, item, errors);
                    }
                }
                _ => {}
            }
        } else {
            let prefix = m.get("prefixItems").and_then(J::as_array);
            let evaluated = prefix.map_or(0, |p| p.len().min(arr.len()));
            if let Some(p) = prefix {
                for (i, item) in arr[..evaluated].iter().enumerate() {
                    check(&p[i], i, item, errors);
                }
            }
            if let Some(sub) = m.get("items") {
                for (i, item) in arr.iter().enumerate().skip(evaluated) {
                    check(sub, i, item, errors);
                }
            }
        }
        if let Some(contains) = m.get("contains") {
            let matched = arr
                .iter()
                .enumerate()
                .filter(|(i, item)| {
                    self.validate(contains, item, &format!("{loc}/{i}"), depth + 1)
                        .is_ok()
                })
                .count();
            let min = if self.draft >= 2019 {
                num("minContains")
            } else {
                None
            };
            let max = if self.draft >= 2019 {
                num("maxContains")
            } else {
                None
            };
            match min {
                Some(min) if (matched as f64) < min => errors.push(VErr::new(
                    loc,
                    format!("min {min} items required to match contains schema, but matched {matched} items"),
                )),
                None if matched == 0 => errors.push(VErr::new(loc, "no items match contains schema")),
                _ => {}
            }
            if let Some(max) = max {
                if matched as f64 > max {
                    errors.push(VErr::new(
                        loc,
                        format!("max {max} items required to match contains schema, but matched {matched} items"),
                    ));
                }
            }
        }
    }

    fn validate_string(
        &self,
        m: &serde_json::Map<String, J>,
        s: &str,
        loc: &str,
        errors: &mut Vec<VErr>,
    ) {
        let len = s.chars().count();
        if let Some(min) = m.get("minLength").and_then(J::as_f64) {
            if (len as f64) < min {
                errors.push(VErr::new(
                    loc,
                    format!("minLength: got {}, want {}", count(len), count_f(min)),
                ));
            }
        }
        if let Some(max) = m.get("maxLength").and_then(J::as_f64) {
            if (len as f64) > max {
                errors.push(VErr::new(
                    loc,
                    format!("maxLength: got {}, want {}", count(len), count_f(max)),
                ));
            }
        }
        if let Some(J::String(p)) = m.get("pattern") {
            if let Some(re) = self.regex(p) {
                if !re.is_match(s) {
                    errors.push(VErr::new(
                        loc,
                        format!("{} does not match pattern {}", quote(s), quote(p)),
                    ));
                }
            }
        }
    }

    fn validate_conditions(
        &self,
        m: &serde_json::Map<String, J>,
        v: &J,
        loc: &str,
        depth: usize,
        errors: &mut Vec<VErr>,
    ) {
        if let Some(not) = m.get("not") {
            if self.validate(not, v, loc, depth + 1).is_ok() {
                errors.push(VErr::new(loc, "'not' failed"));
            }
        }
        let group = |msg: &str, causes: Vec<VErr>| VErr {
            loc: loc.to_string(),
            msg: msg.to_string(),
            causes,
            group: false,
        };
        if let Some(J::Array(all)) = m.get("allOf") {
            let fails: Vec<VErr> = all
                .iter()
                .filter_map(|s| self.validate(s, v, loc, depth + 1).err())
                .collect();
            if !fails.is_empty() {
                errors.push(group("'allOf' failed", fails));
            }
        }
        if let Some(J::Array(any)) = m.get("anyOf") {
            let mut fails = Vec::new();
            let mut matched = false;
            for s in any {
                match self.validate(s, v, loc, depth + 1) {
                    Ok(()) => {
                        matched = true;
                        break;
                    }
                    Err(e) => fails.push(e),
                }
            }
            if !matched {
                errors.push(group("'anyOf' failed", fails));
            }
        }
        if let Some(J::Array(one)) = m.get("oneOf") {
            let mut fails = Vec::new();
            let mut matched: Option<usize> = None;
            for (i, s) in one.iter().enumerate() {
                match self.validate(s, v, loc, depth + 1) {
                    Ok(()) => {
                        if let Some(first) = matched {
                            errors.push(VErr::new(
                                loc,
                                format!("'oneOf' failed, subschemas {first}, {i} matched"),
                            ));
                            break;
                        }
                        matched = Some(i);
                    }
                    Err(e) => {
                        if matched.is_none() {
                            fails.push(e);
                        }
                    }
                }
            }
            if matched.is_none() {
                errors.push(group("'oneOf' failed, none matched", fails));
            }
        }
        if self.draft > 6 {
            if let Some(cond) = m.get("if") {
                let branch = if self.validate(cond, v, loc, depth + 1).is_ok() {
                    m.get("then")
                } else {
                    m.get("else")
                };
                if let Some(b) = branch {
                    if let Err(e) = self.validate(b, v, loc, depth + 1) {
                        errors.push(e);
                    }
                }
            }
        }
    }
}

fn validate_number(
    draft: u32,
    m: &serde_json::Map<String, J>,
    n: f64,
    loc: &str,
    errors: &mut Vec<VErr>,
) {
    let num = |k: &str| m.get(k).and_then(J::as_f64);
    let got = fmt_num(n);
    let excl_min_bool = draft == 4 && m.get("exclusiveMinimum") == Some(&J::Bool(true));
    let excl_max_bool = draft == 4 && m.get("exclusiveMaximum") == Some(&J::Bool(true));
    if let Some(min) = num("minimum") {
        if n < min || (excl_min_bool && n <= min) {
            let kw = if excl_min_bool {
                "exclusiveMinimum"
            } else {
                "minimum"
            };
            errors.push(VErr::new(
                loc,
                format!("{kw}: got {got}, want {}", fmt_num(min)),
            ));
        }
    }
    if let Some(max) = num("maximum") {
        if n > max || (excl_max_bool && n >= max) {
            let kw = if excl_max_bool {
                "exclusiveMaximum"
            } else {
                "maximum"
            };
            errors.push(VErr::new(
                loc,
                format!("{kw}: got {got}, want {}", fmt_num(max)),
            ));
        }
    }
    if draft > 4 {
        if let Some(min) = num("exclusiveMinimum") {
            if n <= min {
                errors.push(VErr::new(
                    loc,
                    format!("exclusiveMinimum: got {got}, want {}", fmt_num(min)),
                ));
            }
        }
        if let Some(max) = num("exclusiveMaximum") {
            if n >= max {
                errors.push(VErr::new(
                    loc,
                    format!("exclusiveMaximum: got {got}, want {}", fmt_num(max)),
                ));
            }
        }
    }
    if let Some(mult) = num("multipleOf") {
        if mult != 0.0 {
            let q = n / mult;
            if !q.is_finite() || q.fract() != 0.0 {
                errors.push(VErr::new(
                    loc,
                    format!("multipleOf: got {got}, want {}", fmt_num(mult)),
                ));
            }
        }
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
