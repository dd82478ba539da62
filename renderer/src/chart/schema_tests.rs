use super::*;

fn check(schema: &str, values: &str) -> Result<(), String> {
    let v = crate::yaml::parse(values).expect("yaml");
    validate_single(&v, schema.as_bytes())
}

// Messages as Helm v4.2.3 prints them (observed with helm-oracle).
#[test]
fn messages_match_helm() {
    let s = r#"{"type": "object", "properties": {"replicaCount": {"type": "number"},
        "mode": {"enum": ["daemonset", "deployment", "statefulset", ""]},
        "port": {"maximum": 65535}}, "additionalProperties": false}"#;
    assert_eq!(
        check(s, "replicaCount: '1'"),
        Err("- at '/replicaCount': got string, want number\n".into())
    );
    assert_eq!(
        check(s, "mode: x\nnotAValue: 1"),
        Err("- at '/mode': value must be one of 'daemonset', 'deployment', 'statefulset', ''\n- at '': additional properties 'notAValue' not allowed\n".into())
    );
    assert_eq!(
        check(s, "port: 70000"),
        Err("- at '/port': maximum: got 70,000, want 65,535\n".into())
    );
    assert_eq!(check(s, "replicaCount: 2\nmode: ''"), Ok(()));
}

#[test]
fn drafts_refs_and_combinators() {
    let d7 = r##"{"$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"p": {"type": "integer"}},
        "properties": {"p": {"$ref": "#/definitions/p", "type": "string"}, "e": {"format": "email"}}}"##;
    assert!(
        check(d7, "p: 1").is_ok(),
        "draft 7: $ref siblings are ignored"
    );
    assert!(check(d7, "p: x").is_err());
    assert!(check(d7, "e: nope").is_err(), "draft 7 asserts formats");
    let d7c = r##"{"$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"s": {"type": "string"}},
        "properties": {"c": {"$ref": "#/definitions/s", "const": "x", "enum": ["y"]}}}"##;
    assert!(check(d7c, "c: x").is_ok(), "enum beside $ref is ignored");
    assert!(check(d7c, "c: z").is_err(), "const beside $ref is not");
    let d20 = r##"{"$defs": {"p": {"type": "integer"}},
        "properties": {"p": {"$ref": "#/$defs/p", "minimum": 5}, "e": {"format": "email"},
        "o": {"oneOf": [{"type": "string"}, {"maxLength": 3}]}}}"##;
    assert!(
        check(d20, "p: 1").is_err(),
        "2020: $ref and siblings both apply"
    );
    assert!(check(d20, "p: 6").is_ok());
    assert!(
        check(d20, "e: nope").is_ok(),
        "2020 does not assert formats"
    );
    assert!(check(d20, "o: ab").is_err(), "both oneOf branches match");
    assert!(check(d20, "o: 5").is_ok());
    let remote = r#"{"properties": {"x": {"$ref": "https://example.com/s.json"}}}"#;
    assert!(check(remote, "x: 1").is_ok(), "remote refs are not fetched");
}

#[test]
fn bad_schemas_fail() {
    assert!(check("{", "a: 1").is_err());
    assert!(check(r#"{"type": "thing"}"#, "a: 1").is_err());
    assert!(check(r#"{"required": true}"#, "a: 1").is_err());
    assert!(check(r#"{"pattern": "("}"#, "a: 1").is_err());
}

#[test]
fn subchart_values_are_scoped() {
    let mut md = std::collections::BTreeMap::new();
    md.insert("name".to_string(), Data::String("sub".into()));
    let sub = Chart {
        metadata: Data::Map(md),
        schema: Some(br#"{"required": ["x"]}"#.to_vec()),
        ..Chart::default()
    };
    let mut md = std::collections::BTreeMap::new();
    md.insert("name".to_string(), Data::String("top".into()));
    let top = Chart {
        metadata: Data::Map(md),
        dependencies: vec![sub],
        ..Chart::default()
    };
    let v = |t: &str| crate::yaml::parse(t).expect("yaml");
    assert!(validate_all(&top, &v("sub: {x: 1}")).is_ok());
    assert!(
        validate_all(&top, &v("other: 1")).is_ok(),
        "absent subchart values are not checked"
    );
    let e = validate_all(&top, &v("sub: {y: 1}")).expect_err("missing x");
    assert_eq!(
        e.message,
        "values don't meet the specifications of the schema(s) in the following chart(s):\nsub:\n- at '': missing property 'x'\n"
    );
}
