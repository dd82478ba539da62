//! Hand-made edge-case charts checked against the Helm oracle: dependency processing
//! (aliases, conditions, tags, import-values, undeclared and mismatched subcharts), coalescing
//! (nulls, globals, type clashes) and schema validation. Each probe is rendered by Helm with a
//! single `{{ toJson .Values }}` template; our `prepare` must give the same values, or fail
//! where Helm fails. `coalesce_values` alone is compared with `helm-oracle merge`.

use std::path::Path;
use std::process::Command;

use serde_json::Value as J;
use sha2::{Digest, Sha256};

use super::conformance_tests::{data_eq_json, oracle_available, ORACLE};
use super::{coalesce, load_chart, load_values, prepare};

const PROBES: &str = "/tmp/wf-chart-oracle/probes";

fn oracle(dir: &Path, cmd: &str, values: &Path, key: &str) -> Option<J> {
    let cache = Path::new(PROBES).join(format!("{key}-{cmd}.json"));
    if let Ok(t) = std::fs::read_to_string(&cache) {
        if let Ok(j) = serde_json::from_str(&t) {
            return Some(j);
        }
    }
    let out = Command::new("python3")
        .arg(ORACLE)
        .arg(cmd)
        .arg(dir)
        .arg("-f")
        .arg(values)
        .output()
        .ok()?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if serde_json::from_str::<J>(&text).is_err() {
        // The oracle raised: its last stderr line holds Helm's message.
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let last = err.lines().last()?.to_string();
        let msg = last.split_once(": ").map_or(last.as_str(), |(_, m)| m);
        text = serde_json::json!({"ok": false, "error": msg}).to_string();
    }
    let j: J = serde_json::from_str(&text).ok()?;
    let _ = std::fs::write(&cache, &text);
    Some(j)
}

/// Writes the probe, asks Helm, compares; returns the differences found.
fn probe(name: &str, files: &[(&str, &str)], user: &str) -> Vec<String> {
    let mut h = Sha256::new();
    for (p, c) in files {
        h.update(p.as_bytes());
        h.update([0]);
        h.update(c.as_bytes());
        h.update([0]);
    }
    h.update(user.as_bytes());
    let key: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let root = Path::new(PROBES).join(&key);
    let dir = root.join("chart");
    let _ = std::fs::remove_dir_all(&root);
    let mut all: Vec<(&str, &str)> = files.to_vec();
    all.push(("templates/wf-values.json", "{{ toJson .Values }}"));
    for (p, c) in &all {
        let path = dir.join(p);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(&path, c);
    }
    let values = root.join("values.yaml");
    let _ = std::fs::write(&values, user);

    let mut diffs = Vec::new();
    let chart = match load_chart(&dir) {
        Ok(c) => c,
        Err(e) => return vec![format!("{name}: load failed: {e}")],
    };
    let user_data = match load_values(user.as_bytes()) {
        Ok(v) => v,
        Err(e) => return vec![format!("{name}: user values: {e}")],
    };
    if let Some(j) = oracle(&dir, "merge", &values, &key) {
        match coalesce::coalesce_values(&chart, &user_data) {
            Ok(ours) if j["ok"] == J::Bool(true) => {
                let mut d = Vec::new();
                data_eq_json(&ours, &j["values"], "", &mut d);
                diffs.extend(d.into_iter().map(|x| format!("{name}: coalesce: {x}")));
            }
            Ok(_) => diffs.push(format!(
                "{name}: coalesce passed, Helm's merge failed: {}",
                j["error"]
            )),
            Err(e) => {
                if j["ok"] == J::Bool(true) {
                    diffs.push(format!(
                        "{name}: coalesce failed ({e}), Helm's merge passed"
                    ));
                }
            }
        }
    } else {
        diffs.push(format!("{name}: no oracle merge answer"));
    }
    let Some(j) = oracle(&dir, "render", &values, &key) else {
        diffs.push(format!("{name}: no oracle render answer"));
        return diffs;
    };
    let ours = prepare(&chart, &user_data);
    if j["ok"] == J::Bool(true) {
        let text = j["manifests"]
            .as_object()
            .and_then(|m| m.values().next())
            .and_then(J::as_str)
            .unwrap_or("null");
        let helm: J = serde_json::from_str(text).unwrap_or(J::Null);
        match ours {
            Ok(p) => {
                let mut d = Vec::new();
                data_eq_json(&p.values, &helm, "", &mut d);
                diffs.extend(d.into_iter().map(|x| format!("{name}: prepare: {x}")));
            }
            Err(e) => diffs.push(format!("{name}: prepare failed ({e}), Helm passed")),
        }
    } else {
        match ours {
            Ok(_) => diffs.push(format!(
                "{name}: prepare passed, Helm failed: {}",
                j["error"]
            )),
            Err(e) => {
                let helm = j["error"].as_str().unwrap_or("");
                if !helm.ends_with(&e.message) {
                    eprintln!("{name}: messages differ:\n  ours: {e}\n  helm: {helm}");
                }
            }
        }
    }
    diffs
}

const TOP: &str = "apiVersion: v2\nname: top\nversion: 1.0.0\n";

fn chart_yaml(name: &str, version: &str, deps: &str) -> String {
    format!("apiVersion: v2\nname: {name}\nversion: {version}\n{deps}")
}

#[test]
fn edge_cases_match_helm() {
    if !oracle_available() {
        eprintln!("skipped: helm oracle not available");
        return;
    }
    let mut failures = Vec::new();
    let sub = chart_yaml("sub", "1.2.3", "");
    let sub2 = chart_yaml("sub2", "0.1.0", "");

    // Aliases, string import-values, tags, conditions, deep globals shared with subcharts.
    let top1 = chart_yaml(
        "top",
        "1.0.0",
        "dependencies:\n- name: sub\n  version: '*'\n  condition: sub.enabled\n  import-values:\n  - data\n- name: sub2\n  version: 0.1.0\n  alias: other\n  tags: [t1]\n- name: sub2\n  version: '>=0.1'\n  alias: third\n  condition: third.on,sub.enabled\n",
    );
    let files1: Vec<(&str, &str)> = vec![
        ("Chart.yaml", &top1),
        ("values.yaml", "global:\n  g1: top\n  deep:\n    a: {x: 1}\nsub:\n  enabled: true\nother:\n  fromParent: 1\ntags:\n  t1: true\nnullkey: null\ndata:\n  imported: parent-wins\n"),
        ("charts/sub/Chart.yaml", &sub),
        ("charts/sub/values.yaml", "exports:\n  data:\n    imported: from-sub\n    extra: 1\nglobal:\n  g2: sub\n  deep:\n    a: {z: 2}\n    b: 3\nsubnull: null\nm: {k: null, j: 1}\n"),
        ("charts/sub2/Chart.yaml", &sub2),
        ("charts/sub2/values.yaml", "s2: v\non: false\n"),
    ];
    for (i, user) in [
        "",
        "sub: {enabled: false}",
        "tags: {t1: false}\nthird: {on: true}",
        "global: {g1: user, deep: {a: {x: 9}}}\nsub: {m: {j: null}, subnull: 1}",
        "nullkey: 3\ndata: null",
        "other: 5",
        "global: 5",
    ]
    .iter()
    .enumerate()
    {
        failures.extend(probe(&format!("aliases-{i}"), &files1, user));
    }

    // Map-form import-values, nested parents, missing tables; sub-subchart conditions.
    let mid = chart_yaml(
        "mid",
        "2.0.0",
        "dependencies:\n- name: leaf\n  version: 1.x\n  condition: leaf.enabled\n  import-values:\n  - child: inner\n    parent: fromLeaf\n",
    );
    let top2 = chart_yaml(
        "top",
        "1.0.0",
        "dependencies:\n- name: mid\n  version: ~2.0.0\n  import-values:\n  - child: cfg\n    parent: a.b\n  - child: nothere\n    parent: x\n  - child: fromLeaf\n    parent: .\n",
    );
    let leaf = chart_yaml("leaf", "1.4.0", "");
    let files2: Vec<(&str, &str)> = vec![
        ("Chart.yaml", &top2),
        (
            "values.yaml",
            "a: {b: {keep: 1}}\nmid:\n  leaf:\n    enabled: true\n",
        ),
        ("charts/mid/Chart.yaml", &mid),
        (
            "charts/mid/values.yaml",
            "cfg: {c: 1, d: [1, 2]}\nleaf: {enabled: false}\n",
        ),
        ("charts/mid/charts/leaf/Chart.yaml", &leaf),
        (
            "charts/mid/charts/leaf/values.yaml",
            "inner: {deep: leaf}\nglobal: {fromLeaf: 1}\n",
        ),
    ];
    for (i, user) in ["", "mid: {leaf: {enabled: false}}", "mid: {cfg: {c: 2}}"]
        .iter()
        .enumerate()
    {
        failures.extend(probe(&format!("imports-{i}"), &files2, user));
    }

    // Undeclared subcharts, version mismatch, no version, type clashes.
    let top3 = chart_yaml(
        "top",
        "1.0.0",
        "dependencies:\n- name: sub\n  version: 9.x\n  alias: aliased\n  condition: sub.enabled\n- name: sub2\n  alias: nover\n",
    );
    let files3: Vec<(&str, &str)> = vec![
        ("Chart.yaml", &top3),
        (
            "values.yaml",
            "sub: {enabled: false}\nscalar: 1\nmap: {a: 1}\n",
        ),
        ("charts/sub/Chart.yaml", &sub),
        ("charts/sub/values.yaml", "x: 1\n"),
        ("charts/sub2/Chart.yaml", &sub2),
        ("charts/sub2/values.yaml", "y: 1\n"),
        (
            "charts/extra/Chart.yaml",
            "apiVersion: v1\nname: extra\nversion: 0.0.1\n",
        ),
        ("charts/extra/values.yaml", "e: 1\n"),
    ];
    for (i, user) in [
        "",
        "scalar: {a: 1}\nmap: 2",
        "sub: {enabled: true}",
        "extra: 3",
        "extra: null",
    ]
    .iter()
    .enumerate()
    {
        failures.extend(probe(&format!("undeclared-{i}"), &files3, user));
    }

    // A v1 chart with requirements.yaml; a missing dependency.
    let files4: Vec<(&str, &str)> = vec![
        ("Chart.yaml", "apiVersion: v1\nname: old\nversion: 1.0.0\n"),
        (
            "requirements.yaml",
            "dependencies:\n- name: sub\n  version: 1.2.3\n  condition: sub.on\n",
        ),
        ("values.yaml", "sub: {on: true}\n"),
        ("charts/sub/Chart.yaml", &sub),
        ("charts/sub/values.yaml", "x: 1\n"),
    ];
    for (i, user) in ["", "sub: {on: false}"].iter().enumerate() {
        failures.extend(probe(&format!("v1-{i}"), &files4, user));
    }
    let top5 = chart_yaml(
        "top",
        "1.0.0",
        "dependencies:\n- name: absent\n  version: 1.0.0\n",
    );
    failures.extend(probe("missing", &[("Chart.yaml", &top5)], ""));

    // Schemas: chart and subchart, drafts, refs, combinators.
    let schema_top = r##"{"$schema": "http://json-schema.org/draft-07/schema#",
      "type": "object", "required": ["replicas"],
      "definitions": {"port": {"type": "integer", "minimum": 1, "maximum": 65535}},
      "properties": {
        "replicas": {"type": "integer"},
        "port": {"$ref": "#/definitions/port"},
        "mode": {"enum": ["a", "b"]},
        "email": {"type": "string", "format": "email"},
        "name": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5},
        "either": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
        "list": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
        "closed": {"type": "object", "additionalProperties": false, "properties": {"ok": {}}}
      }}"##;
    let schema_sub = r#"{"type": "object", "properties": {"x": {"type": "number", "exclusiveMinimum": 0}}, "required": ["x"]}"#;
    let top6 = chart_yaml(
        "top",
        "1.0.0",
        "dependencies:\n- name: sub\n  version: 1.2.3\n  condition: sub.enabled\n",
    );
    let files6: Vec<(&str, &str)> = vec![
        ("Chart.yaml", &top6),
        (
            "values.yaml",
            "replicas: 1\nport: 80\nsub: {enabled: true}\n",
        ),
        ("values.schema.json", schema_top),
        ("charts/sub/Chart.yaml", &sub),
        ("charts/sub/values.yaml", "x: 1\n"),
        ("charts/sub/values.schema.json", schema_sub),
    ];
    for (i, user) in [
        "",
        "replicas: '1'",
        "replicas: 1.5",
        "replicas: null",
        "port: 70000",
        "mode: c",
        "email: not-an-email",
        "name: ABC",
        "name: abcdefg",
        "either: 1",
        "list: [a, a]",
        "closed: {ok: 1, no: 2}",
        "sub: {x: 0}",
        "sub: {x: null}",
        "sub: {enabled: false, x: 0}",
        "sub: {x: -1}\nreplicas: x",
    ]
    .iter()
    .enumerate()
    {
        failures.extend(probe(&format!("schema-{i}"), &files6, user));
    }
    // Draft 2020 (no $schema): format is not asserted; $defs refs; if/then.
    let schema_2020 = r##"{"type": "object",
      "$defs": {"n": {"type": "number"}},
      "properties": {"email": {"format": "email"}, "n": {"$ref": "#/$defs/n", "minimum": 2}},
      "if": {"properties": {"kind": {"const": "x"}}, "required": ["kind"]},
      "then": {"required": ["needed"]}}"##;
    let files7: Vec<(&str, &str)> = vec![("Chart.yaml", TOP), ("values.schema.json", schema_2020)];
    for (i, user) in [
        "email: nope",
        "n: 1",
        "n: a",
        "kind: x",
        "kind: x\nneeded: 1",
        "kind: y",
    ]
    .iter()
    .enumerate()
    {
        failures.extend(probe(&format!("schema2020-{i}"), &files7, user));
    }

    let schema_ref7 = r##"{"$schema": "http://json-schema.org/draft-07/schema#",
      "definitions": {"s": {"type": "string"}},
      "properties": {"c": {"$ref": "#/definitions/s", "const": "x", "enum": ["y"], "minLength": 5}}}"##;
    let files9: Vec<(&str, &str)> = vec![("Chart.yaml", TOP), ("values.schema.json", schema_ref7)];
    for (i, user) in ["c: x", "c: z", "c: 1"].iter().enumerate() {
        failures.extend(probe(&format!("ref7-{i}"), &files9, user));
    }

    let schema_comb = r##"{"type": "object", "properties": {
      "a": {"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 1000}]},
      "b": {"allOf": [{"type": "number"}, {"maximum": 1234.5}]},
      "c": {"not": {"type": "string"}},
      "d": {"type": "array", "minItems": 1001},
      "e": {"type": "number", "multipleOf": 0.5}}}"##;
    let files8: Vec<(&str, &str)> = vec![("Chart.yaml", TOP), ("values.schema.json", schema_comb)];
    for (i, user) in [
        "a: 5", "a: true", "b: 2000", "b: x", "c: s", "d: [1]", "e: 1.25", "e: 3",
    ]
    .iter()
    .enumerate()
    {
        failures.extend(probe(&format!("combinators-{i}"), &files8, user));
    }

    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `.Chart` of the top chart and of an aliased subchart, after dependency processing.
#[test]
fn chart_object_matches_helm() {
    if !oracle_available() {
        eprintln!("skipped: helm oracle not available");
        return;
    }
    let top = "apiVersion: v2\nname: top\nversion: 1.0.0-rc.1+b\nappVersion: 2.0\ndescription: |\n  two\n  lines\nkeywords: [a, 1]\nmaintainers:\n- name: me\n  email: m@x\nannotations:\n  n: 1\ndeprecated: true\nkubeVersion: '>=1.20'\nunknown: 3\ndependencies:\n- name: sub\n  version: 1.x\n  alias: renamed\n  tags: [t]\n  import-values: [data, {child: a, parent: b}]\n- name: gone\n  version: '*'\n  condition: gone.enabled\n";
    let files: Vec<(&str, &str)> = vec![
        ("Chart.yaml", top),
        ("values.yaml", "gone: {enabled: false}\n"),
        ("templates/chart.json", "{{ toJson .Chart }}"),
        ("charts/sub/Chart.yaml", "apiVersion: v1\nname: sub\nversion: 1.5.0\nhome: https://x\nsources: [s1]\ntype: application\n"),
        ("charts/sub/templates/chart.json", "{{ toJson .Chart }}"),
        ("charts/gone/Chart.yaml", "apiVersion: v2\nname: gone\nversion: 0.1.0\n"),
    ];
    let root = Path::new(PROBES).join("chart-object");
    let dir = root.join("chart");
    let _ = std::fs::remove_dir_all(&root);
    for (p, c) in &files {
        let path = dir.join(p);
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(&dir));
        let _ = std::fs::write(&path, c);
    }
    let values = root.join("values.yaml");
    let _ = std::fs::write(&values, "");
    let _ = std::fs::remove_file(Path::new(PROBES).join("chart-object-render.json"));
    let j = oracle(&dir, "render", &values, "chart-object").expect("oracle answer");
    assert_eq!(j["ok"], J::Bool(true), "{j}");
    let chart = load_chart(&dir).expect("load");
    let prepared = prepare(&chart, &crate::value::Data::empty_map()).expect("prepare");
    let sub = prepared
        .chart
        .dependencies
        .iter()
        .find(|d| d.name() == "renamed")
        .expect("alias");
    let mut diffs = Vec::new();
    for (key, md, root) in [
        ("top/templates/chart.json", &prepared.chart.metadata, true),
        (
            "top/charts/renamed/templates/chart.json",
            &sub.metadata,
            false,
        ),
    ] {
        let text = j["manifests"][key].as_str().unwrap_or("null");
        let helm: J = serde_json::from_str(text).unwrap_or(J::Null);
        data_eq_json(
            &super::chart_template_object(md, root),
            &helm,
            key,
            &mut diffs,
        );
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `.helmignore` (Helm's rules, negation quirk included), templates and `.Files` as Helm loads
/// them: compared through a template listing `.Files` and the rendered template paths.
#[test]
fn loaded_files_match_helm() {
    if !oracle_available() {
        eprintln!("skipped: helm oracle not available");
        return;
    }
    let list = "{{ range $p, $_ := .Files }}{{ $p }}\n{{ end }}";
    let ignores = [
        "*.md\n/top.txt\nsub/\n!keep.md\n",
        "docs/\n*.bak\n# comment\n  spaced.txt  \n",
        "/templates/skip.yaml\nnested/*.txt\n",
        "!*.yaml\n",
        "[",
        "a/**/b\n",
    ];
    let mut failures = Vec::new();
    for (i, ignore) in ignores.iter().enumerate() {
        let root = Path::new(PROBES).join(format!("files-{i}"));
        let dir = root.join("chart");
        let _ = std::fs::remove_dir_all(&root);
        let files: Vec<(&str, &str)> = vec![
            ("Chart.yaml", TOP),
            (".helmignore", ignore),
            ("README.md", "r"),
            ("keep.md", "k"),
            ("top.txt", "t"),
            ("nested/top.txt", "t"),
            ("nested/spaced.txt", "s"),
            ("docs/a.txt", "a"),
            ("x.bak", "b"),
            ("sub/file.yaml", "s"),
            ("crds/c.yaml", "c"),
            ("templates/files.txt", list),
            ("templates/skip.yaml", "skip"),
            ("templates/.dot.yaml", "dot"),
            ("templates/_helpers.tpl", ""),
            ("templates/deep/x.yaml", "x"),
            (
                "charts/inner/Chart.yaml",
                "apiVersion: v2\nname: inner\nversion: 0.1.0\n",
            ),
            ("charts/inner/notes.md", "n"),
            ("charts/inner/templates/i.yaml", "i"),
        ];
        for (p, c) in &files {
            let path = dir.join(p);
            let _ = std::fs::create_dir_all(path.parent().unwrap_or(&dir));
            let _ = std::fs::write(&path, c);
        }
        let values = root.join("values.yaml");
        let _ = std::fs::write(&values, "");
        let key = format!("files-{i}");
        let _ = std::fs::remove_file(Path::new(PROBES).join(format!("{key}-render.json")));
        let Some(j) = oracle(&dir, "render", &values, &key) else {
            failures.push(format!("{key}: no oracle answer"));
            continue;
        };
        let ours = load_chart(&dir);
        match (ours, j["ok"] == J::Bool(true)) {
            (Err(e), true) => failures.push(format!("{key}: load failed ({e}), Helm passed")),
            (Ok(_), false) => {
                failures.push(format!("{key}: load passed, Helm failed: {}", j["error"]))
            }
            (Err(_), false) => {}
            (Ok(c), true) => {
                let mut helm_paths: Vec<String> = j["manifests"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                helm_paths.sort();
                let mut ours_paths: Vec<String> = c
                    .templates
                    .iter()
                    .filter(|t| !t.name.rsplit('/').next().unwrap_or("").starts_with('_'))
                    .map(|t| format!("top/{}", t.name))
                    .chain(c.dependencies.iter().flat_map(|d| {
                        d.templates
                            .iter()
                            .map(move |t| format!("top/charts/{}/{}", d.name(), t.name))
                    }))
                    .collect();
                ours_paths.sort();
                if ours_paths != helm_paths {
                    failures.push(format!(
                        "{key}: templates {ours_paths:?} vs Helm's {helm_paths:?}"
                    ));
                }
                let helm_files = j["manifests"]["top/templates/files.txt"]
                    .as_str()
                    .unwrap_or("");
                let mut ours_files: Vec<&str> = c.files.iter().map(|f| f.name.as_str()).collect();
                ours_files.sort();
                let helm_files: Vec<&str> = helm_files.lines().collect();
                if ours_files != helm_files {
                    failures.push(format!(
                        "{key}: files {ours_files:?} vs Helm's {helm_files:?}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
