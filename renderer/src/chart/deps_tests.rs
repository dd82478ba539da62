use super::*;

fn yaml(text: &str) -> Data {
    crate::yaml::parse(text).expect("test yaml")
}

fn chart(chart_yaml: &str, values: &str, deps: Vec<Chart>) -> Chart {
    let md = crate::chart::meta::validate(
        crate::chart::meta::parse_chart_yaml(chart_yaml.as_bytes()).expect("md"),
    )
    .expect("valid");
    Chart {
        metadata: md,
        values: yaml(values),
        dependencies: deps,
        ..Chart::default()
    }
}

fn names(c: &Chart) -> Vec<&str> {
    c.dependencies.iter().map(Chart::name).collect()
}

fn sub(name: &str, version: &str) -> Chart {
    chart(
        &format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
        "x: 1\n",
        vec![],
    )
}

#[test]
fn conditions_tags_and_aliases() {
    let top = "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n\
- name: a\n  version: 1.x\n  condition: a.enabled\n\
- name: b\n  version: '*'\n  alias: bee\n  tags: [front]\n\
- name: b\n  version: '*'\n  alias: bee2\n  condition: missing.path,bee2.flag\n  tags: [front]\n\
- name: c\n  version: 2.x\n";
    let base = chart(
        top,
        "a: {enabled: true}\ntags: {front: false}\nbee2: {flag: true}\n",
        vec![sub("a", "1.2.0"), sub("b", "0.1.0"), sub("c", "1.0.0")],
    );
    let mut c = base.clone();
    process_dependencies(&mut c, &Data::empty_map()).expect("ok");
    // c 1.0.0 does not satisfy 2.x: kept as an undeclared subchart, first.
    assert_eq!(names(&c), ["c", "a", "bee2"]);
    let mut c = base.clone();
    process_dependencies(
        &mut c,
        &yaml("a: {enabled: false}\ntags: {front: true}\nbee2: {flag: false}\n"),
    )
    .expect("ok");
    assert_eq!(names(&c), ["c", "bee"]);
    let declared: Vec<&str> = match c.metadata.as_map().and_then(|m| m.get("dependencies")) {
        Some(Data::List(l)) => l.iter().map(|d| get_str(d, "name")).collect(),
        _ => vec![],
    };
    assert_eq!(declared, ["bee", "c"]);
}

#[test]
fn non_bool_conditions_fall_through() {
    let top = "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n\
- name: a\n  version: '*'\n  condition: a.s,a.t\n";
    let mut c = chart(top, "a: {s: 'false', t: false}\n", vec![sub("a", "1.0.0")]);
    process_dependencies(&mut c, &Data::empty_map()).expect("ok");
    assert!(
        names(&c).is_empty(),
        "the string is skipped, the bool decides"
    );
}

#[test]
fn import_values_both_forms() {
    let top = "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n\
- name: a\n  version: '*'\n  import-values:\n  - data\n  - child: cfg.inner\n    parent: here.there\n";
    let a = chart(
        "apiVersion: v2\nname: a\nversion: 1.0.0\n",
        "exports: {data: {d: 1, p: 1}}\ncfg: {inner: {i: 2}}\n",
        vec![],
    );
    let mut c = chart(top, "p: parent\n", vec![a]);
    process_dependencies(&mut c, &Data::empty_map()).expect("ok");
    let v = &c.values;
    let get = |path: &str| path.split('.').try_fold(v, |cur, k| cur.as_map()?.get(k));
    assert_eq!(get("d"), Some(&Data::Float(1.0)));
    assert_eq!(
        get("p"),
        Some(&Data::String("parent".into())),
        "parent values win"
    );
    assert_eq!(get("here.there.i"), Some(&Data::Float(2.0)));
    assert_eq!(
        get("a.cfg.inner.i"),
        Some(&Data::Float(2.0)),
        "subchart values merged in"
    );
    let ivs = match c.metadata.as_map().and_then(|m| m.get("dependencies")) {
        Some(Data::List(l)) => l[0].as_map().and_then(|m| m.get("import-values")).cloned(),
        _ => None,
    };
    assert_eq!(
        ivs,
        Some(yaml(
            "[{child: exports.data, parent: .}, {child: cfg.inner, parent: here.there}]"
        ))
    );
}

#[test]
fn missing_dependencies_are_reported() {
    let top = "apiVersion: v2\nname: top\nversion: 1.0.0\ndependencies:\n- name: a\n  version: '*'\n- name: b\n  version: '*'\n  alias: x\n";
    let c = chart(top, "", vec![sub("a", "1.0.0")]);
    let e = check_dependencies(&c).expect_err("b is missing");
    assert_eq!(
        e.message,
        "an error occurred while checking for chart dependencies. You may need to run \
         'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but \
         missing in charts/ directory: b"
    );
}
