/// (file, YAML text, what Helm's `fromYaml | toJson` printed for it: oracle run).
const DOCS: &[(&str, &str, &str)] = &[
    ("d01.yaml", "%YAML 1.1\n---\na: 1\n", "{\"a\":1}"),
    ("d02.yaml", "a: 1\na: 2\n", "{\"a\":2}"),
    ("d03.yaml", "a: &x 1\nb: *x\nc: &x 2\nd: *x\n", "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}"),
    ("d04.yaml", "a: !!str 1\nb: !!float 2\nc: !custom x\nd: !!binary aGVsbG8=\ne: ! 12\nf: !!null \"\"\ng: !!bool yes\nh: !!timestamp 2020-01-01\n", "{\"a\":\"1\",\"b\":2,\"c\":\"x\",\"d\":\"hello\",\"e\":\"12\",\"f\":null,\"g\":true,\"h\":\"2020-01-01\"}"),
    ("d05.yaml", "a: |+\n  x\n\nb: >\n  folded\n  text\n\n  para\nc: |2-\n    indented\nd: >-\n  a\n   b\n  c\n", "{\"a\":\"x\\n\\n\",\"b\":\"folded text\\npara\\n\",\"c\":\"  indented\",\"d\":\"a\\n b\\nc\"}"),
    ("d06.yaml", "a: \"esc \\t \\x41 \\u00e9 \\U0001F600 \\N \\_ \\L \\P \\/ \\e \\0 \\a \\b \\v \\f\"\n", "{\"Error\":\"error converting YAML to JSON: yaml: found unknown escape character\"}"),
    ("d07.yaml", "a: plain\n  continued\n\n  para\nb: x # comment\nc: \"# not\"\nd: a#b\n", "{\"a\":\"plain continued\\npara\",\"b\":\"x\",\"c\":\"# not\",\"d\":\"a#b\"}"),
    ("d08.yaml", "? complex\n: value\n? [a, b]\n: seq key\n", "{\"Error\":\"error converting YAML to JSON: yaml: invalid map key: []interface {}{\\\"a\\\", \\\"b\\\"}\"}"),
    ("d09.yaml", "- a\n- b: 1\n  c: 2\n- - x\n  - y\n", "{\"Error\":\"error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}\"}"),
    ("d10.yaml", "a: {b: 1, c: [x, y], d: }\ne: [a: 1, b]\n", "{\"a\":{\"b\":1,\"c\":[\"x\",true],\"d\":null},\"e\":[{\"a\":1},\"b\"]}"),
    ("d11.yaml", "base: &b\n  x: 1\n  y: 2\nm1:\n  <<: *b\n  x: 9\nm2:\n  x: 9\n  <<: *b\nm3:\n  <<: [*b, {z: 3, x: 7}]\n", "{\"base\":{\"true\":2,\"x\":1},\"m1\":{\"true\":2,\"x\":9},\"m2\":{\"true\":2,\"x\":1},\"m3\":{\"true\":2,\"x\":1,\"z\":3}}"),
    ("d12.yaml", "1: a\n1.5: b\ntrue: c\n0x10: d\n1e3: e\n.inf: f\n0.1: g\n3.14159265358979: h\n", "{\".inf\":\"f\",\"0.1\":\"g\",\"1\":\"a\",\"1.5\":\"b\",\"1000\":\"e\",\"16\":\"d\",\"3.1415927\":\"h\",\"true\":\"c\"}"),
    ("d13.yaml", "", "{}"),
    ("d14.yaml", "# only comment\n", "{}"),
    ("d15.yaml", "---\na: 1\n---\nb: 2\n", "{\"a\":1}"),
    ("d16.yaml", "a: 1\n...\n", "{\"a\":1}"),
    ("d17.yaml", "a: 12345678901234567890\nb: 99999999999999999999999\nc: 1e400\nd: -0\ne: 0o17\nf: 017\ng: 08\nh: +12\ni: 1_000\nj: 0b11\nk: .5\nl: 1.\nm: -.inf\n", "{\"Error\":\"error converting YAML to JSON: json: unsupported value: -Inf\"}"),
    ("d18.yaml", "a: yes\nb: No\nc: ON\nd: oFF\ne: y\nf: N\ng: ~\nh: Null\ni: nULL\nj:\n", "{\"a\":true,\"b\":false,\"c\":true,\"d\":\"oFF\",\"e\":true,\"f\":false,\"g\":null,\"h\":null,\"i\":\"nULL\",\"j\":null}"),
    ("d19.yaml", "a: \"line1\n  line2\n\n  line4\"\nb: 'it''s\n  folded'\n", "{\"a\":\"line1 line2\\nline4\",\"b\":\"it's folded\"}"),
    ("d20.yaml", "\u{feff}a: bom\n", "{\"a\":\"bom\"}"),
    ("d21.yaml", "a:\n- b\n-\n- c\n", "{\"a\":[\"b\",null,\"c\"]}"),
    ("d22.yaml", "a: x\r\nb: y\r\n", "{\"a\":\"x\",\"b\":true}"),
    ("d23.yaml", "a: [1, 2, ]\nb: {x: 1, }\n", "{\"a\":[1,2],\"b\":{\"x\":1}}"),
    ("d24.yaml", "list:\n- a\nb: 1\n", "{\"b\":1,\"list\":[\"a\"]}"),
    ("d25.yaml", "a:   \n  b\n", "{\"a\":\"b\"}"),
    ("d26.yaml", "k: -\nl: - x\n", "{\"Error\":\"error converting YAML to JSON: yaml: block sequence entries are not allowed in this context\"}"),
    ("d27.yaml", "a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\n", "{\"a\":\"2001-12-14t21:59:43.10-05:00\",\"b\":\"2002-12-14\"}"),
    ("d28.yaml", "a: !!map {}\nb: !!seq []\nc: !!str\n", "{\"a\":{},\"b\":[],\"c\":\"\"}"),
    ("d29.yaml", "- [a, b]: c\n", "{\"Error\":\"error converting YAML to JSON: yaml: invalid map key: []interface {}{\\\"a\\\", \\\"b\\\"}\"}"),
    ("d30.yaml", "a: &anc\nb: *anc\n", "{\"a\":null,\"b\":null}"),
    ("d31.yaml", "a: \"x\\/y\"\n", "{\"Error\":\"error converting YAML to JSON: yaml: found unknown escape character\"}"),
    ("d32.yaml", "a: \"\\x41\\u00e9\\U0001F600\\t\\e\\0\\N\\_\\L\\P\"\n", "{\"a\":\"A\u{e9}\u{1f600}\\t\\u001b\\u0000\u{85}\u{a0}\\u2028\\u2029\"}"),
    ("d33.yaml", "a: \"a\\\n  b\"\n", "{\"a\":\"ab\"}"),
    ("d34.yaml", "x:\n  - a\n  -b\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 4: could not find expected ':'\"}"),
    ("d35.yaml", "{a: 1, b: 2}\n", "{\"a\":1,\"b\":2}"),
    ("d36.yaml", "a: {b: [1, {c: d}]}\n", "{\"a\":{\"b\":[1,{\"c\":\"d\"}]}}"),
    ("e01.yaml", "a: b\nc: d: e\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context\"}"),
    ("e02.yaml", "a:\n  - b\n  c: d\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: did not find expected '-' indicator\"}"),
    ("e03.yaml", "a: [1, 2\nb: 3\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'\"}"),
    ("e04.yaml", "a: {x: 1\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 1: did not find expected ',' or '}'\"}"),
    ("e05.yaml", "a: \"unterminated\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: found unexpected end of stream\"}"),
    ("e06.yaml", "a: 'x\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: found unexpected end of stream\"}"),
    ("e07.yaml", "a: *nope\n", "{\"Error\":\"error converting YAML to JSON: yaml: unknown anchor 'nope' referenced\"}"),
    ("e08.yaml", "a:\n\tb: 1\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: found character that cannot start any token\"}"),
    ("e09.yaml", "a: 1\n a: 2\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context\"}"),
    ("e10.yaml", "key: value\n- item\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 1: did not find expected key\"}"),
    ("e11.yaml", "a: b\n  c: d\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context\"}"),
    ("e12.yaml", "a: !!int abc\n", "{\"Error\":\"error converting YAML to JSON: yaml: cannot decode !!str `abc` as a !!int\"}"),
    ("e13.yaml", "a: !!binary \"!!!\"\n", "{\"Error\":\"error converting YAML to JSON: yaml: !!binary value contains invalid base64 data\"}"),
    ("e14.yaml", "<<: 1\n", "{\"Error\":\"error converting YAML to JSON: yaml: map merge requires map or sequence of maps as the value\"}"),
    ("e15.yaml", "a: @x\n", "{\"Error\":\"error converting YAML to JSON: yaml: found character that cannot start any token\"}"),
    ("e16.yaml", "a: `x\n", "{\"Error\":\"error converting YAML to JSON: yaml: found character that cannot start any token\"}"),
    ("e17.yaml", "a: \"x\"y\n", "{\"Error\":\"error converting YAML to JSON: yaml: did not find expected key\"}"),
    ("e18.yaml", "a: b: c\n", "{\"Error\":\"error converting YAML to JSON: yaml: mapping values are not allowed in this context\"}"),
    ("e19.yaml", "a: [a, b]c\n", "{\"Error\":\"error converting YAML to JSON: yaml: did not find expected key\"}"),
    ("e20.yaml", "a:\n  b:\n    c: 1\n  d: 2\n e: 3\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 4: did not find expected key\"}"),
    ("e21.yaml", "a: 1\nb: [x\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: did not find expected ',' or ']'\"}"),
    ("e22.yaml", "a: \"\\q\"\n", "{\"Error\":\"error converting YAML to JSON: yaml: found unknown escape character\"}"),
    ("e23.yaml", "a: b\n\n\nc: d: e\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 4: mapping values are not allowed in this context\"}"),
    ("e24.yaml", "a: |\n  x\n y\n", "{\"Error\":\"error converting YAML to JSON: yaml: line 2: did not find expected key\"}"),
];

/// Helm's `fromYaml` result as `toJson` prints it, computed with our parser and functions.
fn from_yaml_json(text: &str) -> String {
    let ctx = crate::value::FuncCtx::default();
    let from = crate::funcs::lookup("fromYaml").expect("fromYaml registered");
    let to = crate::funcs::lookup("toJson").expect("toJson registered");
    let v = from(&ctx, &[crate::value::Value::str(text)]).expect("fromYaml never fails");
    let s = to(&ctx, &[v]).expect("toJson never fails");
    s.as_str().unwrap_or_default().to_string()
}

#[test]
fn from_yaml_matches_helm_on_corner_cases() {
    let mut bad = Vec::new();
    for (name, text, want) in DOCS {
        let got = from_yaml_json(text);
        if got != *want {
            bad.push(format!("{name}:\n  helm: {want}\n  ours: {got}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        DOCS.len(),
        bad.join("\n")
    );
}
