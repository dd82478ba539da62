//! Helm's `--set` / `--set-string` / `--set-file` / `--set-json` parser (`pkg/strvals`).
//!
//! Grammar, as Helm reads it: comma-separated `name=value` pairs; names are dotted paths with
//! `[N]` list indexes (`a.b[0].c=x`); `\` escapes the next character; `{a,b}` is a list value.
//! `--set` types values (`true`/`false`, `null`, integers without a leading zero become int64,
//! everything else a string); `--set-string` keeps strings; `--set-file` reads the value as a
//! path; `--set-json` parses a JSON value. Indexes above 65536 and names nested deeper than 30
//! levels are refused, with Helm's messages.

use std::collections::BTreeMap;

use crate::value::Data;

/// Helm's `strvals.MaxIndex`.
pub const MAX_INDEX: i64 = 65536;
/// Helm's `strvals.MaxNestedNameLevel`.
pub const MAX_NESTED_NAME_LEVEL: usize = 30;
/// Our own guard (Helm has none): how deeply list indexes may nest (`a[0][0]…`). Go's growable
/// stacks take any depth; ours would overflow, so deeper input is an error.
pub const MAX_NESTED_INDEX_LEVEL: usize = 200;

/// Parses one `--set` expression (`a.b=c,d[0]=e`) into `base`.
pub fn parse_set(expr: &str, base: &mut Data) -> Result<(), String> {
    parse_with(expr, base, Mode::Typed)
}

/// `--set-string`: like `--set`, every value a string.
pub fn parse_set_string(expr: &str, base: &mut Data) -> Result<(), String> {
    parse_with(expr, base, Mode::Strings)
}

/// `--set-json`: values are JSON documents.
pub fn parse_set_json(expr: &str, base: &mut Data) -> Result<(), String> {
    parse_with(expr, base, Mode::Json)
}

/// `--set-file`: each value is a path whose content `read` returns (as a string).
pub fn parse_set_file(
    expr: &str,
    base: &mut Data,
    read: &dyn Fn(&str) -> Result<String, String>,
) -> Result<(), String> {
    parse_with(expr, base, Mode::File(read))
}

/// Helm's `strvals.Parse` into a fresh map.
pub fn parse(expr: &str) -> Result<Data, String> {
    let mut d = Data::empty_map();
    parse_set(expr, &mut d)?;
    Ok(d)
}

enum Mode<'a> {
    Typed,
    Strings,
    Json,
    File(&'a dyn Fn(&str) -> Result<String, String>),
}

fn parse_with(expr: &str, base: &mut Data, mode: Mode<'_>) -> Result<(), String> {
    if !matches!(base, Data::Map(_)) {
        *base = Data::empty_map();
    }
    let Data::Map(map) = base else {
        return Ok(());
    };
    let mut p = Parser {
        chars: expr.chars().collect(),
        pos: 0,
        mode,
        index_depth: 0,
    };
    loop {
        match p.key(map, 0) {
            Ok(()) => continue,
            Err(Stop::Eof) => return Ok(()),
            Err(Stop::Err(e)) => return Err(e),
        }
    }
}

/// Go's `io.EOF` (a normal end) or an error message.
enum Stop {
    Eof,
    Err(String),
}

impl From<String> for Stop {
    fn from(s: String) -> Stop {
        Stop::Err(s)
    }
}

struct Parser<'a> {
    chars: Vec<char>,
    pos: usize,
    mode: Mode<'a>,
    /// Current nesting of list indexes, bounded by `MAX_NESTED_INDEX_LEVEL`.
    index_depth: usize,
}

/// What `runesUntil` returns: the runes read, the stop rune, and whether input ended.
struct Run {
    text: String,
    last: Option<char>,
}

impl Parser<'_> {
    fn read(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    /// Reads until one of `stop` (consumed); `\x` yields `x`. `last == None` means EOF.
    fn until(&mut self, stop: &[char]) -> Run {
        let mut text = String::new();
        loop {
            match self.read() {
                None => return Run { text, last: None },
                Some(c) if stop.contains(&c) => {
                    return Run {
                        text,
                        last: Some(c),
                    }
                }
                Some('\\') => match self.read() {
                    None => return Run { text, last: None },
                    Some(n) => text.push(n),
                },
                Some(c) => text.push(c),
            }
        }
    }

    fn key(&mut self, data: &mut BTreeMap<String, Data>, mut level: usize) -> Result<(), Stop> {
        let run = self.until(&['=', '[', ',', '.']);
        let k = run.text;
        match run.last {
            None => {
                if k.is_empty() {
                    Err(Stop::Eof)
                } else {
                    Err(Stop::Err(format!("key {} has no value", quote(&k))))
                }
            }
            Some('[') => {
                let i = self
                    .key_index()
                    .map_err(|e| format!("error parsing index: {e}"))?;
                let list = match data.get(&k) {
                    None => Vec::new(),
                    Some(Data::List(l)) => l.clone(),
                    Some(other) => {
                        return Err(Stop::Err(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        )))
                    }
                };
                let (list, r) = self.list_item(list, i, level);
                set(data, &k, Data::List(list));
                r
            }
            Some('=') => {
                if let Mode::Json = self.mode {
                    if self.empty_val() {
                        set(data, &k, Data::Null);
                        return Ok(());
                    }
                    let v = self.json_value()?;
                    set(data, &k, v);
                    self.empty_val();
                    return Ok(());
                }
                match self.val_list() {
                    Ok(l) => {
                        set(data, &k, Data::List(l));
                        Ok(())
                    }
                    Err(ListErr::Eof) => {
                        set(data, &k, Data::String(String::new()));
                        Err(Stop::Eof)
                    }
                    Err(ListErr::NotList) => {
                        let run = self.until(&[',']);
                        let v = self.typed(&run.text)?;
                        set(data, &k, v);
                        Ok(())
                    }
                    Err(ListErr::Err(e)) => Err(Stop::Err(e)),
                }
            }
            Some(',') => {
                set(data, &k, Data::String(String::new()));
                Err(Stop::Err(format!(
                    "key {} has no value (cannot end with ,)",
                    quote(&k)
                )))
            }
            Some(_) => {
                // '.'
                level += 1;
                if level > MAX_NESTED_NAME_LEVEL {
                    return Err(Stop::Err(format!(
                        "value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}"
                    )));
                }
                let mut inner = match data.get(&k) {
                    None => BTreeMap::new(),
                    Some(Data::Map(m)) => m.clone(),
                    Some(other) => {
                        return Err(Stop::Err(format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                            go_type(other)
                        )))
                    }
                };
                let r = self.key(&mut inner, level);
                if r.is_ok() && inner.is_empty() {
                    return Err(Stop::Err(format!("key map {} has no value", quote(&k))));
                }
                if !inner.is_empty() {
                    set(data, &k, Data::Map(inner));
                }
                r
            }
        }
    }

    fn key_index(&mut self) -> Result<i64, String> {
        let run = self.until(&[']']);
        if run.last.is_none() {
            return Err("EOF".into());
        }
        go_atoi(&run.text)
    }

    fn list_item(
        &mut self,
        mut list: Vec<Data>,
        i: i64,
        level: usize,
    ) -> (Vec<Data>, Result<(), Stop>) {
        if i < 0 {
            return (
                list,
                Err(Stop::Err(format!("negative {i} index not allowed"))),
            );
        }
        let run = self.until(&['[', '.', '=']);
        if !run.text.is_empty() {
            return (
                list,
                Err(Stop::Err(format!(
                    "unexpected data at end of array index: {}",
                    quote(&run.text)
                ))),
            );
        }
        match run.last {
            None => (list, Err(Stop::Eof)),
            Some('=') => {
                if let Mode::Json = self.mode {
                    if self.empty_val() {
                        return set_index(list, i, Data::Null);
                    }
                    let v = match self.json_value() {
                        Ok(v) => v,
                        Err(e) => return (list, Err(e)),
                    };
                    let (list, r) = set_index(list, i, v);
                    if r.is_err() {
                        return (list, r);
                    }
                    self.empty_val();
                    return (list, Ok(()));
                }
                match self.val_list() {
                    Ok(l) => set_index(list, i, Data::List(l)),
                    Err(ListErr::Eof) => set_index(list, i, Data::String(String::new())),
                    Err(ListErr::NotList) => {
                        let run = self.until(&[',']);
                        match self.typed(&run.text) {
                            Ok(v) => set_index(list, i, v),
                            Err(e) => (list, Err(e)),
                        }
                    }
                    Err(ListErr::Err(e)) => (list, Err(Stop::Err(e))),
                }
            }
            Some('[') => {
                let next = match self.key_index() {
                    Ok(n) => n,
                    Err(e) => return (list, Err(Stop::Err(format!("error parsing index: {e}")))),
                };
                let current = match list.get(i as usize) {
                    None | Some(Data::Null) => Vec::new(),
                    Some(Data::List(l)) => l.clone(),
                    Some(other) => {
                        let msg = format!(
                            "unable to parse key: interface conversion: interface {{}} is {}, not []interface {{}}",
                            go_type(other)
                        );
                        return (list, Err(Stop::Err(msg)));
                    }
                };
                if self.index_depth >= MAX_NESTED_INDEX_LEVEL {
                    let msg = format!(
                        "value index nested level is greater than maximum supported nested level of {MAX_NESTED_INDEX_LEVEL}"
                    );
                    return (list, Err(Stop::Err(msg)));
                }
                self.index_depth += 1;
                let (inner, r) = self.list_item(current, next, level);
                self.index_depth -= 1;
                if r.is_err() {
                    return (list, r);
                }
                set_index(list, i, Data::List(inner))
            }
            Some(_) => {
                // '.'
                let mut inner = match list.get(i as usize) {
                    Some(Data::Map(m)) => m.clone(),
                    Some(_) => {
                        if let Some(slot) = list.get_mut(i as usize) {
                            *slot = Data::empty_map();
                        }
                        BTreeMap::new()
                    }
                    None => BTreeMap::new(),
                };
                let r = self.key(&mut inner, level);
                if r.is_err() {
                    return (list, r);
                }
                set_index(list, i, Data::Map(inner))
            }
        }
    }

    /// Skips spaces; true at the end or after a `,` (an empty value).
    fn empty_val(&mut self) -> bool {
        loop {
            match self.read() {
                None => return true,
                Some(',') => return true,
                Some(c) if c.is_whitespace() => continue,
                Some(_) => {
                    self.pos -= 1;
                    return false;
                }
            }
        }
    }

    /// A JSON value at the cursor (`json.Decoder.Decode`), the cursor moved past it.
    fn json_value(&mut self) -> Result<Data, Stop> {
        let rest: String = self.chars[self.pos..].iter().collect();
        let mut stream = serde_json::Deserializer::from_str(&rest).into_iter::<serde_json::Value>();
        match stream.next() {
            Some(Ok(v)) => {
                let used = stream.byte_offset();
                self.pos += rest[..used].chars().count();
                Ok(json_to_data(&v))
            }
            Some(Err(e)) => Err(Stop::Err(e.to_string())),
            None => Err(Stop::Err("EOF".into())),
        }
    }

    fn val_list(&mut self) -> Result<Vec<Data>, ListErr> {
        match self.read() {
            None => return Err(ListErr::Eof),
            Some('{') => {}
            Some(_) => {
                self.pos -= 1;
                return Err(ListErr::NotList);
            }
        }
        let mut list = Vec::new();
        loop {
            let run = self.until(&[',', '}']);
            match run.last {
                None => return Err(ListErr::Err("list must terminate with '}'".into())),
                Some('}') => {
                    if let Some(c) = self.read() {
                        if c != ',' {
                            self.pos -= 1;
                        }
                    }
                    let v = self.typed(&run.text).map_err(|e| match e {
                        Stop::Err(m) => ListErr::Err(m),
                        Stop::Eof => ListErr::Eof,
                    })?;
                    list.push(v);
                    return Ok(list);
                }
                Some(_) => {
                    let v = self.typed(&run.text).map_err(|e| match e {
                        Stop::Err(m) => ListErr::Err(m),
                        Stop::Eof => ListErr::Eof,
                    })?;
                    list.push(v);
                }
            }
        }
    }

    fn typed(&self, s: &str) -> Result<Data, Stop> {
        match &self.mode {
            Mode::Strings => Ok(Data::String(s.to_string())),
            Mode::File(read) => read(s).map(Data::String).map_err(Stop::Err),
            Mode::Typed | Mode::Json => Ok(typed_val(s)),
        }
    }
}

enum ListErr {
    Eof,
    NotList,
    Err(String),
}

fn set(data: &mut BTreeMap<String, Data>, key: &str, v: Data) {
    if !key.is_empty() {
        data.insert(key.to_string(), v);
    }
}

fn set_index(mut list: Vec<Data>, i: i64, v: Data) -> (Vec<Data>, Result<(), Stop>) {
    if i < 0 {
        return (
            list,
            Err(Stop::Err(format!("negative {i} index not allowed"))),
        );
    }
    if i > MAX_INDEX {
        return (
            list,
            Err(Stop::Err(format!(
                "index of {i} is greater than maximum supported index of {MAX_INDEX}"
            ))),
        );
    }
    let i = i as usize;
    if list.len() <= i {
        list.resize(i + 1, Data::Null);
    }
    list[i] = v;
    (list, Ok(()))
}

/// Helm's `typedVal` for `--set`.
fn typed_val(s: &str) -> Data {
    if s.eq_ignore_ascii_case("true") {
        return Data::Bool(true);
    }
    if s.eq_ignore_ascii_case("false") {
        return Data::Bool(false);
    }
    if s.eq_ignore_ascii_case("null") {
        return Data::Null;
    }
    if s == "0" {
        return Data::Int(0);
    }
    if !s.is_empty() && !s.starts_with('0') {
        if let Ok(i) = go_atoi(s) {
            return Data::Int(i);
        }
    }
    Data::String(s.to_string())
}

/// `strconv.Atoi`/`ParseInt(s, 10, 64)`: optional sign, decimal digits only.
fn go_atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.Atoi: parsing {}: invalid syntax",
            quote(s)
        ));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", quote(s)))
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn go_type(d: &Data) -> &'static str {
    match d {
        Data::Null => "nil",
        Data::Bool(_) => "bool",
        Data::Int(_) => "int64",
        Data::Float(_) => "float64",
        Data::String(_) => "string",
        Data::List(_) => "[]interface {}",
        Data::Map(_) => "map[string]interface {}",
    }
}

fn json_to_data(v: &serde_json::Value) -> Data {
    match v {
        serde_json::Value::Null => Data::Null,
        serde_json::Value::Bool(b) => Data::Bool(*b),
        serde_json::Value::Number(n) => Data::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Data::String(s.clone()),
        serde_json::Value::Array(a) => Data::List(a.iter().map(json_to_data).collect()),
        serde_json::Value::Object(o) => Data::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_data(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Data)]) -> Data {
        Data::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn s(x: &str) -> Data {
        Data::String(x.into())
    }

    #[test]
    fn scalars_and_types() {
        assert_eq!(
            parse("a=1,b=true,c=null,d=0,e=012,f=x").unwrap(),
            m(&[
                ("a", Data::Int(1)),
                ("b", Data::Bool(true)),
                ("c", Data::Null),
                ("d", Data::Int(0)),
                ("e", s("012")),
                ("f", s("x")),
            ])
        );
        let mut d = Data::empty_map();
        parse_set_string("a=1", &mut d).unwrap();
        assert_eq!(d, m(&[("a", s("1"))]));
    }

    #[test]
    fn nesting_lists_escapes() {
        assert_eq!(
            parse("a.b.c=x").unwrap(),
            m(&[("a", m(&[("b", m(&[("c", s("x"))]))]))])
        );
        assert_eq!(
            parse("a[1]=x").unwrap(),
            m(&[("a", Data::List(vec![Data::Null, s("x")]))])
        );
        assert_eq!(
            parse("a={x,y}").unwrap(),
            m(&[("a", Data::List(vec![s("x"), s("y")]))])
        );
        assert_eq!(parse(r"a=x\,y").unwrap(), m(&[("a", s("x,y"))]));
        assert_eq!(parse(r"a\.b=1").unwrap(), m(&[("a.b", Data::Int(1))]));
        assert_eq!(
            parse("a[0].b=1").unwrap(),
            m(&[("a", Data::List(vec![m(&[("b", Data::Int(1))])]))])
        );
        assert_eq!(parse("a=").unwrap(), m(&[("a", s(""))]));
    }

    #[test]
    fn errors() {
        assert_eq!(parse("a").unwrap_err(), "key \"a\" has no value");
        assert_eq!(
            parse("a,b=1").unwrap_err(),
            "key \"a\" has no value (cannot end with ,)"
        );
        assert_eq!(
            parse("a[65537]=1").unwrap_err(),
            "index of 65537 is greater than maximum supported index of 65536"
        );
        assert_eq!(
            parse("a[-1]=1").unwrap_err(),
            "negative -1 index not allowed"
        );
        let deep = format!("{}=1", vec!["a"; 32].join("."));
        assert!(parse(&deep).unwrap_err().contains("nested level"));
        assert!(parse("a={x").unwrap_err().contains("terminate"));
    }

    #[test]
    fn json_values() {
        let mut d = Data::empty_map();
        parse_set_json(r#"a={"b":[1,2]},c=null"#, &mut d).unwrap();
        assert_eq!(
            d,
            m(&[
                (
                    "a",
                    m(&[("b", Data::List(vec![Data::Float(1.0), Data::Float(2.0)]))])
                ),
                ("c", Data::Null),
            ])
        );
    }

    #[test]
    fn helm_parser_cases() {
        for bad in [
            "name1=value1,,,,name2=value2,",
            "name1,name2=",
            "name1.name2",
            "name1.=name2",
            "name1.,name2",
            "name1={1021,902",
            "list[0].foo=bar,list[-30].hello=world",
            "illegal[0]name.foo=bar",
            "]={}].",
        ] {
            assert!(parse(bad).is_err(), "{bad} must fail");
        }
        assert_eq!(
            parse("noval[0]").unwrap(),
            m(&[("noval", Data::List(vec![]))])
        );
        assert_eq!(
            parse("noval[0]=").unwrap(),
            m(&[("noval", Data::List(vec![s("")]))])
        );
        assert_eq!(
            parse("nested[1][1]=1").unwrap(),
            m(&[(
                "nested",
                Data::List(vec![Data::Null, Data::List(vec![Data::Null, Data::Int(1)])])
            )])
        );
        assert_eq!(
            parse("list[0]=foo,list[1]=bar,").unwrap(),
            m(&[("list", Data::List(vec![s("foo"), s("bar")]))])
        );
        assert_eq!(
            parse("name1=,name2=value2").unwrap(),
            m(&[("name1", s("")), ("name2", s("value2"))])
        );
    }
}
