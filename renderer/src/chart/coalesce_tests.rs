use super::*;
use crate::chart::Chart;

fn yaml(text: &str) -> Data {
    crate::yaml::parse(text).expect("test yaml")
}

fn chart(name: &str, values: &str, deps: Vec<Chart>) -> Chart {
    let mut md = BTreeMap::new();
    md.insert("name".to_string(), Data::String(name.into()));
    Chart {
        metadata: Data::Map(md),
        values: yaml(values),
        dependencies: deps,
        ..Chart::default()
    }
}

fn get<'a>(d: &'a Data, path: &str) -> Option<&'a Data> {
    path.split('.').try_fold(d, |cur, k| cur.as_map()?.get(k))
}

// Expectations observed with Helm v4.2.3 (helm-oracle merge).
#[test]
fn user_values_win_and_null_deletes_defaults() {
    let c = chart(
        "top",
        "a: 1\nm: {x: 1, y: 2, n: null}\nkeep: null\nt: {k: 1}\n",
        vec![],
    );
    let out =
        coalesce_values(&c, &yaml("a: 2\nm: {y: null, z: 3}\nt: 5\nnew: null\n")).expect("ok");
    assert_eq!(get(&out, "a"), Some(&Data::Float(2.0)));
    assert_eq!(get(&out, "m.x"), Some(&Data::Float(1.0)));
    assert_eq!(
        get(&out, "m.y"),
        None,
        "null in user values deletes the default"
    );
    assert_eq!(
        get(&out, "m.n"),
        None,
        "null defaults are cleaned when coalescing"
    );
    assert_eq!(get(&out, "m.z"), Some(&Data::Float(3.0)));
    assert_eq!(get(&out, "keep"), None);
    assert_eq!(
        get(&out, "t"),
        Some(&Data::Float(5.0)),
        "a scalar over a table: user wins"
    );
    assert_eq!(
        get(&out, "new"),
        Some(&Data::Null),
        "a null for a key without default stays"
    );
}

#[test]
fn subcharts_get_their_defaults_and_globals() {
    let sub = chart(
        "sub",
        "s: 1\nglobal: {g2: sub, deep: {a: {z: 2}}}\n",
        vec![],
    );
    let top = chart(
        "top",
        "global: {g1: top, deep: {a: {x: 1}}}\nsub: {s: 2}\n",
        vec![sub],
    );
    let out = coalesce_values(&top, &Data::empty_map()).expect("ok");
    assert_eq!(get(&out, "sub.s"), Some(&Data::Float(2.0)));
    assert_eq!(
        get(&out, "sub.global.g1"),
        Some(&Data::String("top".into()))
    );
    assert_eq!(
        get(&out, "sub.global.g2"),
        Some(&Data::String("sub".into()))
    );
    assert_eq!(get(&out, "sub.global.deep.a.x"), Some(&Data::Float(1.0)));
    // Go shares global tables below the first level: the subchart's default leaks up.
    assert_eq!(get(&out, "global.deep.a.z"), Some(&Data::Float(2.0)));
    assert_eq!(
        get(&out, "global.g2"),
        None,
        "first-level globals do not go up"
    );
}

#[test]
fn every_subchart_gets_a_global_table() {
    let sub = chart("sub", "x: 1\n", vec![]);
    let top = chart("top", "", vec![sub]);
    let out = coalesce_values(&top, &Data::empty_map()).expect("ok");
    assert_eq!(get(&out, "sub.global"), Some(&Data::empty_map()));
    assert_eq!(get(&out, "global"), None);
}

#[test]
fn subchart_key_must_be_a_table() {
    let top = chart("top", "", vec![chart("sub", "x: 1\n", vec![])]);
    let e = coalesce_values(&top, &yaml("sub: 3\n")).expect_err("scalar for a subchart");
    assert_eq!(e.message, "type mismatch on sub: %!t(float64=3)");
    let e = coalesce_values(&top, &yaml("sub: null\n")).expect_err("null for a subchart");
    assert_eq!(e.message, "type mismatch on sub: %!t(<nil>)");
}

#[test]
fn merging_keeps_nulls() {
    let sub = chart("sub", "nn: null\nv: 1\n", vec![]);
    let top = chart("top", "x: null\n", vec![sub]);
    let m = merge_chart_values(&top).expect("ok");
    let out = V::Map(m).to_data();
    assert_eq!(get(&out, "x"), Some(&Data::Null));
    assert_eq!(get(&out, "sub.nn"), Some(&Data::Null));
}

#[test]
fn deep_values_do_not_overflow() {
    let mut deep = Data::Float(1.0);
    for _ in 0..3000 {
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), deep);
        deep = Data::Map(m);
    }
    let top = chart("top", "a: {b: 1}\n", vec![]);
    let e = coalesce_values(&top, &deep).expect_err("too deep");
    assert_eq!(e.message, "values are nested too deeply to coalesce");
    std::mem::forget(deep);
}
