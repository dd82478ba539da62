//! Unit tests of YAML reading and writing (expected values come from Helm's documented
//! behaviour and oracle runs, not from this implementation).

use super::*;
use std::collections::BTreeMap;

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
fn f(x: f64) -> Data {
    Data::Float(x)
}

#[test]
fn parse_basic_types() {
    let d = parse("a: 1\nb: yes\nc: ~\nd: '1'\ne: 0x10\nf: 1.5\ng: hello world\nh: [1, two]\n")
        .unwrap();
    assert_eq!(
        d,
        m(&[
            ("a", f(1.0)),
            ("b", Data::Bool(true)),
            ("c", Data::Null),
            ("d", s("1")),
            ("e", f(16.0)),
            ("f", f(1.5)),
            ("g", s("hello world")),
            ("h", Data::List(vec![f(1.0), s("two")])),
        ])
    );
}

#[test]
fn parse_keys_become_strings() {
    let d = parse("1: a\ntrue: b\n1.5: c\n").unwrap();
    assert_eq!(d, m(&[("1", s("a")), ("true", s("b")), ("1.5", s("c"))]));
    let e = parse("~: a\n").unwrap_err();
    assert!(e.message.contains("unsupported map key"), "{}", e.message);
}

#[test]
fn parse_empty_and_multi_docs() {
    assert_eq!(parse("").unwrap(), Data::Null);
    assert_eq!(parse("# only a comment\n").unwrap(), Data::Null);
    assert_eq!(parse("a: 1\n---\nb: [\n").unwrap(), m(&[("a", f(1.0))]));
    let all = parse_all("a: 1\n---\nb: 2\n").unwrap();
    assert_eq!(all, vec![m(&[("a", f(1.0))]), m(&[("b", f(2.0))])]);
}

#[test]
fn parse_anchors_and_merge() {
    let d = parse("base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n").unwrap();
    let want_d = m(&[("x", f(1.0)), ("z", f(3.0))]);
    assert_eq!(d.as_map().unwrap()["d"], want_d);
    let d = parse("a: &a [1]\nb: *a\n").unwrap();
    assert_eq!(d.as_map().unwrap()["b"], Data::List(vec![f(1.0)]));
    let e = parse("a: &x [*x]\n").unwrap_err();
    assert!(
        e.message.ends_with("anchor 'x' value contains itself"),
        "{}",
        e.message
    );
}

#[test]
fn parse_alias_bomb_is_refused() {
    let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let p = i - 1;
        t.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let e = parse(&t).unwrap_err();
    assert!(
        e.message.ends_with("document contains excessive aliasing"),
        "{}",
        e.message
    );
}

#[test]
fn parse_deep_nesting_is_an_error_not_a_crash() {
    let t = "[".repeat(100_000);
    assert!(parse(&t).is_err());
    let mut t = String::new();
    for i in 0..20_000 {
        t.push_str(&" ".repeat(i));
        t.push_str("a:\n");
    }
    assert!(parse(&t).is_err());
}

#[test]
fn parse_scalar_styles() {
    let d = parse(
        "a: |\n  x\n  y\nb: >-\n  x\n  y\nc: \"t\\tq\\u00e9\"\nd: 'it''s'\ne: plain\n  multi\n",
    )
    .unwrap();
    assert_eq!(
        d,
        m(&[
            ("a", s("x\ny\n")),
            ("b", s("x y")),
            ("c", s("t\tqé")),
            ("d", s("it's")),
            ("e", s("plain multi")),
        ])
    );
}

#[test]
fn parse_errors_have_lines() {
    let e = parse("a: b\nc: d: e\n").unwrap_err();
    assert_eq!(
        e.message,
        "error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context"
    );
    let e = parse("a: .inf\n").unwrap_err();
    assert_eq!(
        e.message,
        "error converting YAML to JSON: json: unsupported value: +Inf"
    );
    let _ = BTreeMap::<String, Data>::new();
}

#[test]
fn parse_yaml11_key_y_is_true() {
    // go-yaml v2 resolves a plain `y` key to the boolean true, which becomes "true".
    assert_eq!(parse("y: 1\n").unwrap(), m(&[("true", f(1.0))]));
}

/// Deep input must give a value or an error within a 2 MiB stack (test threads' default).
#[test]
fn deep_nesting_fits_a_small_stack() {
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(|| {
            for depth in [500, 999, 1001, 1999, 2001, 9999, 10_001] {
                let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
                let _ = parse(&text);
                let _ = crate::json::parse(&text);
                let mut d = Data::Float(1.0);
                for _ in 0..depth {
                    d = Data::List(vec![d]);
                }
                let _ = to_yaml(&d);
                let _ = crate::json::try_to_json(&d, true, "");
                if depth < 1500 {
                    // Value::from_data itself recurses.
                    let _ = to_yaml_pretty(&crate::value::Value::from_data(&d));
                }
            }
        })
        .unwrap();
    assert!(h.join().is_ok());
}

#[test]
fn string_fields_like_sigs_yaml() {
    // Helm reads `appVersion: 1.10` as "1.1" and `version: 1.0` as "1".
    assert_eq!(go_string_field(&f(1.1)).as_deref(), Some("1.1"));
    assert_eq!(go_string_field(&f(1.0)).as_deref(), Some("1"));
    assert_eq!(
        go_string_field(&f(1.234_567_891_23)).as_deref(),
        Some("1.2345679")
    );
    assert_eq!(go_string_field(&Data::Bool(true)).as_deref(), Some("true"));
    assert_eq!(go_string_field(&s("x")), None);
}
