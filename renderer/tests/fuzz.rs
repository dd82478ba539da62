//! Bounded, deterministic robustness tests (property tests with `proptest`) of the renderer's
//! input parsers: the template lexer+parser and evaluator, the YAML parser and emitter, and the
//! `--set` parser. The properties: no panic, no stack overflow, bounded time, and for the YAML
//! emitter `parse(marshal(d)) == d`.
//!
//! Every test runs a fixed number of cases from a fixed seed (proptest's deterministic runner),
//! so a failure reproduces; the whole file stays well under 20 s in a debug build. The
//! long-running, corpus-driven fuzzer is `examples/fuzz.rs`.
#![allow(clippy::print_stdout)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use wayfinder_render::template::{ExecOptions, TemplateSet};
use wayfinder_render::value::FuncCtx;
use wayfinder_render::{strvals, yaml, Data, Value};

const CORPUS: &str = "/work/shared/conformance/charts";
/// What one input may take (debug build) before we call it a hang.
const SLOW: Duration = Duration::from_secs(3);

fn runner(cases: u32) -> TestRunner {
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]))
}

/// Runs `f`, turning a panic into an error naming the input, and checks the time it took.
fn guarded<R>(what: &str, input: &str, f: impl FnOnce() -> R) -> Result<R, TestCaseError> {
    let start = Instant::now();
    let r = catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!("{what} panicked ({msg}) on input {input:?}"))
    })?;
    if start.elapsed() > SLOW {
        return Err(TestCaseError::fail(format!(
            "{what} took {:?} on input {input:?}",
            start.elapsed()
        )));
    }
    Ok(r)
}

/// Runs `f` on a thread with a 2 MiB stack (the default of spawned threads), so a stack
/// overflow shows up here rather than depending on the test harness's thread.
fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn");
    if let Err(e) = h.join() {
        std::panic::resume_unwind(e);
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every template file of the conformance corpus (empty when the corpus is absent).
fn corpus_templates() -> Vec<String> {
    let mut files = Vec::new();
    walk(Path::new(CORPUS), &mut files);
    files
        .iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.contains("/templates/") && (s.ends_with(".yaml") || s.ends_with(".tpl"))
        })
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

fn dot() -> Value {
    let values = yaml::parse("a: 1\nb: [1, 2, {c: d}]\nname: x\nf: 1.5\nt: true\nn: null\n")
        .unwrap_or_else(|_| Data::empty_map());
    let mut root = std::collections::BTreeMap::new();
    root.insert("Values".to_string(), values);
    Value::from_data(&Data::Map(root))
}

fn parse_and_run(src: &str) {
    let mut set = TemplateSet::new();
    if set.parse("t", src).is_ok() {
        let ctx = FuncCtx::default();
        let _ = set.execute("t", dot(), &ctx, &ExecOptions::default());
    }
}

// ---------------------------------------------------------------- templates

const TEMPLATE_TOKENS: &[&str] = &[
    "{{",
    "}}",
    "{{- ",
    " -}}",
    "{{/* c */}}",
    "{{ end }}",
    "{{ else }}",
    "{{ else if .a }}",
    " if ",
    " range ",
    " with ",
    " define \"x\" ",
    " template \"x\" . ",
    " include \"x\" . ",
    " block \"b\" . ",
    "$x := ",
    "$x = ",
    "$",
    " . ",
    ".Values.a",
    ".Values.b",
    " | ",
    "(",
    ")",
    "\"s\"",
    "`raw`",
    "'c'",
    " printf \"%v %d %s %q %x %5.2f %T\" ",
    " toYaml ",
    " nindent 2 ",
    " index ",
    " len ",
    " default 1 ",
    " dict \"a\" 1 ",
    " list 1 2 ",
    " 1e309 ",
    " -1 ",
    " 0x1F ",
    " 9223372036854775807 ",
    "{{ break }}",
    "{{ continue }}",
    " nil ",
    " true ",
    " eq ",
    " and ",
    " or ",
    " not ",
    " quote ",
    " upper ",
    " trunc ",
    " substr 1 0 ",
    " repeat 2 ",
    " add1 ",
    " div 1 0 ",
    " fromYaml ",
    " toJson ",
    " tpl ",
    " required \"r\" ",
    " fail \"f\" ",
    " get ",
    " keys ",
    "text ",
    "\n",
    " 1.5 ",
    " slice ",
    " call ",
    " html ",
];

fn template_grammar() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEMPLATE_TOKENS), 0..40).prop_map(|v| v.concat())
}

#[test]
fn template_parse_arbitrary_text() {
    let mut r = runner(400);
    r.run(&".{0,200}", |s| {
        guarded("TemplateSet::parse", &s, || {
            let _ = TemplateSet::new().parse("t", &s);
        })
    })
    .unwrap();
    let mut r = runner(300);
    r.run(&"(\\{\\{|\\}\\}|[-. $|()\"`'a-z0-9:=\n]){0,80}", |s| {
        guarded("parse+execute", &s, || parse_and_run(&s))
    })
    .unwrap();
}

#[test]
fn template_grammar_shaped_parse_and_execute() {
    let mut r = runner(1500);
    r.run(&template_grammar(), |s| {
        guarded("parse+execute", &s, || parse_and_run(&s))
    })
    .unwrap();
}

#[test]
fn template_corpus_files_parse_and_mutations_do_not_panic() {
    let seeds = corpus_templates();
    if seeds.is_empty() {
        println!("SKIP: conformance corpus not found at {CORPUS}");
        return;
    }
    // Every corpus file parses without panic (lenient: the function library may be incomplete).
    for s in &seeds {
        guarded("TemplateSet::parse (corpus)", s, || {
            let _ = TemplateSet::new_lenient().parse("t", s);
        })
        .unwrap();
    }
    // Mutations: cut a window of a seed and splice tokens into it.
    let n = seeds.len();
    let strat = (
        0..n,
        any::<prop::sample::Index>(),
        0usize..600,
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop::sample::select(TEMPLATE_TOKENS),
            ),
            0..4,
        ),
    );
    let mut r = runner(400);
    r.run(&strat, |(i, start, len, inserts)| {
        let seed = &seeds[i];
        let chars: Vec<char> = seed.chars().collect();
        let s0 = start.index(chars.len().max(1)).min(chars.len());
        let mut cut: Vec<char> = chars[s0..(s0 + len).min(chars.len())].to_vec();
        for (at, tok) in inserts {
            let at = at.index(cut.len() + 1);
            cut.splice(at..at, tok.chars());
        }
        let text: String = cut.into_iter().collect();
        guarded("parse+execute (corpus mutation)", &text, || {
            parse_and_run(&text)
        })
    })
    .unwrap();
}

// ---------------------------------------------------------------- YAML

const YAML_TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ", ",
    "&a ",
    "*a",
    "<<: *a",
    "- ",
    ": ",
    "? ",
    "!!str ",
    "!!binary ",
    "!!int ",
    "!!float ",
    "!!map ",
    "|\n  ",
    ">-\n  ",
    "---\n",
    "...\n",
    "# c\n",
    "'q'",
    "\"d\\u00e9\"",
    "\n",
    "\n  ",
    "\n    ",
    "\t",
    "~",
    "null",
    "0x1F",
    "0o17",
    "1e9999",
    ".inf",
    ".nan",
    "yes",
    "key",
    "k2",
    "12",
    "-3.5",
    "2001-12-14",
    "190:20:30",
    "1_000",
    "\"",
    "'",
    "%YAML 1.1\n",
    "!x ",
    "=",
    "<<",
    "a: ",
    "b: ",
    "\r\n",
];

fn yaml_grammar() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(YAML_TOKENS), 0..40).prop_map(|v| v.concat())
}

fn yaml_all(s: &str) {
    let _ = yaml::parse(s);
    let _ = yaml::parse_all(s);
}

#[test]
fn yaml_parse_arbitrary_and_structured() {
    let mut r = runner(500);
    r.run(&".{0,200}", |s| guarded("yaml::parse", &s, || yaml_all(&s)))
        .unwrap();
    let mut r = runner(1500);
    r.run(&yaml_grammar(), |s| {
        guarded("yaml::parse", &s, || yaml_all(&s))
    })
    .unwrap();
}

#[test]
fn yaml_alias_bombs_are_bounded() {
    // Billion laughs: 9 levels of 9 aliases each.
    let mut doc = String::from("a0: &a0 [\"lol\"]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        let items = vec![prev; 9].join(", ");
        doc.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    let flow_map = {
        let mut d = String::from("a0: &a0 {x: 1}\n");
        for i in 1..12 {
            d.push_str(&format!("a{i}: &a{i} {{"));
            for j in 0..8 {
                d.push_str(&format!("k{j}: *a{}, ", i - 1));
            }
            d.push_str("}\n");
        }
        d
    };
    let merge = {
        let mut d = String::from("a0: &a0 {x: 1}\n");
        for i in 1..40 {
            d.push_str(&format!(
                "a{i}: &a{i}\n  <<: [*a{}, *a{}]\n  y{i}: 1\n",
                i - 1,
                i - 1
            ));
        }
        d
    };
    for (what, d) in [
        ("billion laughs", doc),
        ("flow map bomb", flow_map),
        ("merge bomb", merge),
    ] {
        let start = Instant::now();
        let d2 = d.clone();
        on_small_stack(move || {
            let _ = yaml::parse(&d2);
            let _ = yaml::parse_all(&d2);
        });
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{what}: took {:?}",
            start.elapsed()
        );
    }
}

/// Strings that need quoting or escaping in YAML.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            " ",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "true",
            "False",
            "null",
            "~",
            "NULL",
            "1",
            "01",
            "0x1F",
            "0o17",
            "1e3",
            "1_000",
            ".inf",
            "-.inf",
            ".nan",
            "1.0",
            "-0",
            "190:20:30",
            "2001-12-14",
            "2001-12-14T21:59:43.10-05:00",
            "a: b",
            "- x",
            "#c",
            "a #c",
            "'",
            "\"",
            "\\",
            "|",
            ">",
            "&a",
            "*a",
            "!t",
            "%x",
            "@x",
            "`x",
            "[x]",
            "{x}",
            ",",
            "? x",
            "x\n",
            "\ny",
            "a\nb\n",
            "  lead",
            "trail  ",
            "tab\there",
            "é",
            "日本",
            "\u{85}",
            "\u{feff}x",
            "\u{2028}",
            "=",
            "<<",
            "---",
            "...",
            "+1",
            ".5",
            "1.",
            "0b101",
            "+.inf",
            "Y",
            "N",
            "NO",
            "Off",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,12}",
        "[a-z \n:#'\"-]{0,12}",
        "\\PC{0,6}",
    ]
}

fn arb_data() -> impl Strategy<Value = Data> {
    let leaf = prop_oneof![
        Just(Data::Null),
        any::<bool>().prop_map(Data::Bool),
        any::<i64>().prop_map(Data::Int),
        (-1e6f64..1e6).prop_map(Data::Float),
        prop::sample::select(vec![0.5, 1e21, 1e-7, 123456789.125, 1e300, -2.5e-300, 0.1])
            .prop_map(Data::Float),
        tricky_string().prop_map(Data::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Data::List),
            prop::collection::btree_map(tricky_string(), inner, 0..5).prop_map(Data::Map),
        ]
    })
}

/// Numbers compare by value (sigs.k8s.io/yaml reads every number as float64 then narrows).
fn data_eq(a: &Data, b: &Data) -> bool {
    fn num(d: &Data) -> Option<f64> {
        match d {
            Data::Int(i) => Some(*i as f64),
            Data::Float(f) => Some(*f),
            _ => None,
        }
    }
    match (a, b) {
        (Data::List(x), Data::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| data_eq(p, q))
        }
        (Data::Map(x), Data::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && data_eq(v1, v2))
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// Whether go-yaml round-trips the string at all: encoding/json and the YAML reader refuse
/// control characters (`to_yaml` then yields "", as Helm does); NEL, LS and PS are
/// emitted as line breaks and a `<<` key is emitted unquoted (Helm does the same: checked with
/// the oracle), so those do not round-trip in Go either.
fn representable(d: &Data) -> bool {
    let ok = |s: &str| {
        s.chars().all(|c| {
            (!c.is_control() || matches!(c, '\n' | '\t' | '\r'))
                && !matches!(
                    c,
                    '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
                )
        }) && s != "<<"
    };
    match d {
        Data::String(s) => ok(s),
        Data::List(l) => l.iter().all(representable),
        Data::Map(m) => m.iter().all(|(k, v)| ok(k) && representable(v)),
        _ => true,
    }
}

#[test]
fn yaml_emitter_round_trips() {
    let mut r = runner(1500);
    r.run(&arb_data(), |d| {
        if !representable(&d) {
            return Ok(());
        }
        // `marshal`, not `to_yaml`: Helm's toYaml trims the final newline, which a `|+` block
        // scalar needs.
        let text = guarded("yaml::marshal", &format!("{d:?}"), || yaml::marshal(&d))?;
        let Ok(text) = text else {
            return Ok(());
        };
        let back = guarded("yaml::parse", &text, || yaml::parse(&text))?;
        match back {
            Ok(b) if data_eq(&b, &d) => Ok(()),
            Ok(b) => Err(TestCaseError::fail(format!(
                "round trip differs:\n data:    {d:?}\n yaml:    {text:?}\n reparsed: {b:?}"
            ))),
            Err(e) => Err(TestCaseError::fail(format!(
                "emitted YAML does not parse:\n data: {d:?}\n yaml: {text:?}\n error: {e}"
            ))),
        }
    })
    .unwrap();
}

// ---------------------------------------------------------------- strvals

const SET_TOKENS: &[&str] = &[
    "=",
    ",",
    ".",
    "[",
    "]",
    "{",
    "}",
    "\\",
    "[0]",
    "[1]",
    "[65536]",
    "[65537]",
    "[-1]",
    "[99999999999999999999]",
    "true",
    "null",
    "0",
    "01",
    "-5",
    "a",
    "b",
    "x.y",
    "{a,b}",
    "{}",
    "\"",
    "'",
    " ",
    "9223372036854775808",
    "1.5",
    "é",
];

fn strvals_all(s: &str) {
    let mut d = Data::empty_map();
    let _ = strvals::parse_set(s, &mut d);
    let mut d = Data::empty_map();
    let _ = strvals::parse_set_string(s, &mut d);
    let mut d = Data::empty_map();
    let _ = strvals::parse_set_json(s, &mut d);
    let _ = strvals::parse(s);
}

#[test]
fn strvals_parse_set_arbitrary_and_structured() {
    let mut r = runner(500);
    r.run(&".{0,80}", |s| {
        guarded("strvals::parse_set", &s, || strvals_all(&s))
    })
    .unwrap();
    let strat =
        prop::collection::vec(prop::sample::select(SET_TOKENS), 0..30).prop_map(|v| v.concat());
    let mut r = runner(2000);
    r.run(&strat, |s| {
        guarded("strvals::parse_set", &s, || strvals_all(&s))
    })
    .unwrap();
}

// ---------------------------------------------------------------- deep and large inputs

/// Inputs that stress recursion depth and size. Each runs in a child process (this test binary
/// re-run on `deep_case_child`), so a stack overflow, which aborts the process, is reported per
/// case instead of killing the whole test binary.
const DEEP_CASES: &[&str] = &[
    "template-parens",
    "template-ifs",
    "template-ranges",
    "template-unclosed",
    "template-pipes",
    "template-include-recursion",
    "template-template-recursion",
    "template-tpl-recursion",
    "yaml-flow-seq",
    "yaml-flow-seq-closed",
    "yaml-flow-map",
    "yaml-block-seq",
    "yaml-block-map",
    "yaml-mixed",
    "yaml-anchored",
    "strvals-dots",
    "strvals-indexes",
    "strvals-max-index",
    "strvals-braces",
    "strvals-backslashes",
    "strvals-many-keys",
];

/// Cases known to crash today (stack overflow), each a finding for the module's owner (see
/// FINDINGS.md). The test fails when one of them stops crashing: then remove it here.
const KNOWN_CRASHES: &[&str] = &[];

fn deep_input(id: &str) -> String {
    match id {
        "template-parens" => format!("{{{{ {}1{} }}}}", "(".repeat(100_000), ")".repeat(100_000)),
        "template-ifs" => format!("{}x{}", "{{ if 1 }}".repeat(20_000), "{{ end }}".repeat(20_000)),
        "template-ranges" => format!(
            "{}x{}",
            "{{ range .Values.b }}".repeat(5_000),
            "{{ end }}".repeat(5_000)
        ),
        "template-unclosed" => "{{ if 1 }}".repeat(100_000),
        "template-pipes" => format!("{{{{ 1 {} }}}}", "| add1 ".repeat(50_000)),
        "template-include-recursion" => {
            "{{ define \"r\" }}{{ include \"r\" . }}{{ end }}{{ include \"r\" . }}".into()
        }
        "template-template-recursion" => {
            "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}".into()
        }
        "template-tpl-recursion" => "{{ define \"r\" }}{{ tpl \"{{ include \\\"r\\\" . }}\" . }}{{ end }}{{ include \"r\" . }}".into(),
        "yaml-flow-seq" => "[".repeat(100_000),
        "yaml-flow-seq-closed" => format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        "yaml-flow-map" => "{a: ".repeat(100_000),
        "yaml-block-seq" => "- ".repeat(100_000),
        "yaml-block-map" => (0..3_000).map(|i| format!("{}k:\n", " ".repeat(i))).collect(),
        "yaml-mixed" => "[{a: ".repeat(50_000),
        "yaml-anchored" => "&a [".repeat(50_000),
        "strvals-dots" => "a".to_string() + &".a".repeat(100_000) + "=1",
        "strvals-indexes" => "a".to_string() + &"[0]".repeat(100_000) + "=1",
        "strvals-max-index" => "a[65536]=1".into(),
        "strvals-braces" => "a={".to_string() + &"{".repeat(100_000),
        "strvals-backslashes" => "a=".to_string() + &"\\".repeat(100_001),
        "strvals-many-keys" => (0..20_000).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(","),
        _ => String::new(),
    }
}

fn run_deep(id: &str) {
    let input = deep_input(id);
    if id.starts_with("template") {
        parse_and_run(&input);
    } else if id.starts_with("yaml") {
        yaml_all(&input);
    } else {
        strvals_all(&input);
    }
}

/// The child side of `deep_inputs_do_not_overflow` (ignored: run only by it).
#[test]
#[ignore]
fn deep_case_child() {
    if let Ok(id) = std::env::var("WAYFINDER_DEEP_CASE") {
        on_small_stack(move || run_deep(&id));
    }
}

#[test]
fn deep_inputs_do_not_overflow() {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut report = String::new();
    for id in DEEP_CASES {
        let start = Instant::now();
        let out = std::process::Command::new(&exe)
            .args([
                "--exact",
                "deep_case_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("WAYFINDER_DEEP_CASE", id)
            .output()
            .expect("re-run test binary");
        let took = start.elapsed();
        let crashed = !out.status.success();
        let known = KNOWN_CRASHES.contains(id);
        if crashed && !known {
            let err = String::from_utf8_lossy(&out.stderr);
            let why = if err.contains("overflowed its stack") {
                "stack overflow"
            } else {
                "crash"
            };
            report.push_str(&format!("{id}: {why} ({})\n", out.status));
        } else if !crashed && known {
            report.push_str(&format!(
                "{id}: no longer crashes: remove it from KNOWN_CRASHES\n"
            ));
        }
        if !crashed && took > Duration::from_secs(10) {
            report.push_str(&format!("{id}: took {took:?}\n"));
        }
    }
    assert!(report.is_empty(), "{report}");
}
