//! Differential testing against Helm: many small generated probes (printf verbs over every kind
//! of value, toYaml/toJson of tricky strings and numbers, range/if/with, Sprig string, list and
//! dict functions, default/empty/coalesce, missing keys, whitespace trimming, and random
//! pipelines from a fixed seed) are rendered by Helm and by `wayfinder_render::render_chart`,
//! and every probe's output (or error message) must be identical.
//!
//! Each probe is its own tiny chart (so one probe's error cannot hide the others); Helm renders
//! them all in ONE Python process that loads the oracle (`shared/tools/helm-oracle`) as a module,
//! which amortises its start-up. Known differences live in `tests/differential-known.txt`
//! (`probe-id<TAB>reason`): the test fails on a new mismatch, and on an allowlisted probe that
//! now passes (remove it from the file). `WAYFINDER_DIFF_BLESS=1` rewrites the file with the
//! current mismatches (review the reasons by hand afterwards). Skipped with a message when the
//! oracle is not available.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use wayfinder_render::{load_chart, render_chart, Data, RenderOptions};

const ORACLE: &str = "../shared/tools/helm-oracle";

fn oracle_path() -> Option<PathBuf> {
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(ORACLE),
        PathBuf::from("/work/shared/tools/helm-oracle"),
    ];
    let p = candidates.into_iter().find(|p| p.exists())?;
    let ok = Command::new("python3")
        .args(["-c", "import helm_python"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    ok.then_some(p)
}

/// The values every probe sees (JSON is YAML).
const VALUES: &str = r##"{
 "i": 42, "neg": -7, "zero": 0, "big": 9007199254740993, "f": 3.14159, "fi": 2.0,
 "e": 1e21, "small": 0.000001, "s": "hello world", "es": "", "ts": "true", "ns": "0123",
 "ys": "yes", "multi": "a\nb\n", "sp": " x ", "q": "it's \"q\"", "colon": "a: b",
 "hash": "#x", "b": true, "bf": false, "n": null, "l": [1, "two", 3.5, null, true],
 "el": [], "ls": ["b", "a", "c", "a"], "m": {"a": 1, "b": "x", "c": [1, 2], "d": {"e": "f"}},
 "em": {}, "uni": "h\u00e9llo \u65e5\u672c", "tab": "a\tb", "csv": "a,b,,c"
}"##;

/// Value expressions the generated probes combine.
const EXPRS: &[&str] = &[
    ".Values.i",
    ".Values.neg",
    ".Values.zero",
    ".Values.big",
    ".Values.f",
    ".Values.fi",
    ".Values.e",
    ".Values.small",
    ".Values.s",
    ".Values.es",
    ".Values.ts",
    ".Values.ns",
    ".Values.multi",
    ".Values.q",
    ".Values.b",
    ".Values.bf",
    ".Values.n",
    ".Values.l",
    ".Values.el",
    ".Values.m",
    ".Values.em",
    ".Values.missing",
    "1",
    "-2",
    "1.5",
    "1e3",
    "\"lit\"",
    "nil",
    "true",
    ".Values.uni",
];

const VERBS: &[&str] = &[
    "%v", "%+v", "%#v", "%d", "%s", "%q", "%x", "%X", "%f", "%.2f", "%e", "%g", "%t", "%T", "%5d|",
    "%-6s|", "%08.3f", "%o", "%c", "%U", "%b", "%10.4v|", "%%",
];

/// Strings whose YAML/JSON rendering is tricky.
const TRICKY: &[&str] = &[
    "",
    " ",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "true",
    "False",
    "null",
    "~",
    "1",
    "01",
    "0x1F",
    "0o17",
    "1e3",
    "1_000",
    ".inf",
    ".nan",
    "1.0",
    "-0",
    "190:20:30",
    "2001-12-14",
    "a: b",
    "- x",
    "#c",
    "a #c",
    "'",
    "\\\"",
    "\\\\",
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
    "x\\n",
    "\\ny",
    "a\\nb\\n",
    "  lead",
    "trail  ",
    "tab\\there",
    "é",
    "日本",
    "=",
    "<<",
    "---",
    "...",
    "+1",
    ".5",
    "0b101",
    "Y",
    "NO",
    "123456789012345678901",
];

/// Unary pipeline stages (`X | stage`).
const STAGES: &[&str] = &[
    "upper",
    "lower",
    "title",
    "untitle",
    "trim",
    "trimAll \"h\"",
    "trimPrefix \"he\"",
    "trimSuffix \"d\"",
    "nospace",
    "abbrev 5",
    "trunc 3",
    "trunc -3",
    "substr 1 3",
    "repeat 2",
    "replace \"l\" \"L\"",
    "snakecase",
    "camelcase",
    "kebabcase",
    "swapcase",
    "initials",
    "wrap 5",
    "indent 2",
    "nindent 2",
    "squote",
    "quote",
    "toString",
    "toStrings",
    "len",
    "toYaml",
    "toJson",
    "toPrettyJson",
    "b64enc",
    "sha256sum",
    "kindOf",
    "typeOf",
    "empty",
    "default \"d\"",
    "int",
    "int64",
    "float64",
    "atoi",
    "add1",
    "first",
    "last",
    "rest",
    "initial",
    "reverse",
    "compact",
    "uniq",
    "sortAlpha",
    "keys | sortAlpha",
    "toRawJson",
    "splitList \",\"",
    "join \"-\"",
    "cat \"x\"",
    "plural \"one\" \"many\"",
    "contains \"l\"",
    "hasPrefix \"h\"",
    "regexMatch \"^h\"",
    "regexReplaceAll \"l+\" \"L\"",
    "printf \"<%v>\"",
    "list",
    "dict \"k\"",
    "not",
    "toDecimal",
    "fromYaml",
    "fromJson",
    "ternary \"a\" \"b\"",
    "coalesce 0",
    "semverCompare \">=1.0\"",
    "round 1",
    "floor",
    "ceil",
    "min 3",
    "max 3",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// The probes, `(id, template text)`; ids are stable for a given table above.
fn probes() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |cat: &str, text: String| {
        let id = format!(
            "{cat}-{:03}",
            out.iter().filter(|(i, _)| i.starts_with(cat)).count()
        );
        out.push((id, text));
    };
    for v in VERBS {
        for e in EXPRS {
            add("printf", format!("{{{{ printf \"{v}\" {e} }}}}"));
        }
    }
    for e in EXPRS {
        add(
            "print",
            format!("[{{{{ {e} }}}}] [{{{{ print {e} }}}}] [{{{{ println {e} }}}}]"),
        );
        add(
            "toyaml",
            format!("{{{{ toYaml {e} }}}}\n---\n{{{{ {e} | toJson }}}}"),
        );
        add(
            "quote",
            format!("{{{{ quote {e} }}}} {{{{ squote {e} }}}} {{{{ toString {e} }}}}"),
        );
        add(
            "range",
            format!("{{{{ range $k, $v := {e} }}}}[{{{{ $k }}}}={{{{ $v }}}}]{{{{ else }}}}empty{{{{ end }}}}"),
        );
        add(
            "if",
            format!(
                "{{{{ if {e} }}}}T{{{{ else }}}}F{{{{ end }}}} {{{{ if not {e} }}}}N{{{{ end }}}}"
            ),
        );
        add(
            "with",
            format!("{{{{ with {e} }}}}W={{{{ . }}}}{{{{ else }}}}none{{{{ end }}}}"),
        );
        add(
            "default",
            format!("{{{{ default \"d\" {e} }}}}|{{{{ empty {e} }}}}|{{{{ coalesce {e} \"c\" }}}}|{{{{ {e} | default (list 1) }}}}"),
        );
        add("len", format!("{{{{ len {e} }}}}"));
        add(
            "eq",
            format!("{{{{ eq {e} 1 }}}} {{{{ eq {e} \"lit\" }}}} {{{{ ne {e} nil }}}}"),
        );
    }
    for t in TRICKY {
        add(
            "tricky",
            format!("{{{{ toYaml (dict \"k\" \"{t}\" \"{t}\" 1) }}}}\n{{{{ toYaml (list \"{t}\") }}}}\n{{{{ \"{t}\" | quote }}}} {{{{ \"{t}\" | toJson }}}}"),
        );
    }
    for s in STAGES {
        for e in [
            ".Values.s",
            ".Values.i",
            ".Values.f",
            ".Values.l",
            ".Values.m",
            ".Values.missing",
            ".Values.es",
            ".Values.ls",
            ".Values.csv",
        ] {
            add("stage", format!("{{{{ {e} | {s} }}}}"));
        }
    }
    // Lists and dicts.
    for t in [
        "{{ list 1 2 3 | append 4 | toJson }}",
        "{{ prepend (list 1 2) 0 | toJson }}",
        "{{ concat (list 1) (list 2 3) .Values.l | toJson }}",
        "{{ has 2 (list 1 2) }} {{ has \"x\" .Values.l }}",
        "{{ without .Values.ls \"a\" | toJson }}",
        "{{ slice .Values.ls 1 3 | toJson }} {{ slice .Values.s 1 4 }}",
        "{{ .Values.m | keys | sortAlpha | toJson }}",
        "{{ pick .Values.m \"a\" \"zz\" | toJson }} {{ omit .Values.m \"a\" | toJson }}",
        "{{ hasKey .Values.m \"a\" }} {{ get .Values.m \"b\" }} {{ get .Values.m \"zz\" }}",
        "{{ $d := dict \"a\" 1 }}{{ $_ := set $d \"b\" 2 }}{{ toJson $d }}{{ $_ := unset $d \"a\" }}{{ toJson $d }}",
        "{{ merge (dict \"a\" 1) (dict \"a\" 2 \"b\" 3) | toJson }}",
        "{{ mergeOverwrite (dict \"a\" 1) (dict \"a\" 2 \"b\" 3) | toJson }}",
        "{{ dig \"d\" \"e\" \"def\" .Values.m }} {{ dig \"x\" \"y\" \"def\" .Values.m }}",
        "{{ pluck \"a\" .Values.m (dict \"a\" 5) | toJson }}",
        "{{ index .Values.m \"d\" \"e\" }} {{ index .Values.l 1 }} {{ index .Values.m \"zz\" }}",
        "{{ until 5 | toJson }} {{ untilStep 1 10 3 | toJson }} {{ seq 1 5 }}",
        "{{ tuple 1 \"a\" nil | toJson }}",
        "{{ splitn \",\" 2 .Values.csv | toJson }} {{ split \",\" .Values.csv | toJson }}",
        "{{ regexSplit \",\" .Values.csv -1 | toJson }} {{ regexFindAll \"[a-c]\" .Values.csv 2 | toJson }}",
        "{{ sortAlpha (list \"b\" 1 \"a\") | toJson }}",
        "{{ deepCopy .Values.m | toYaml }}",
        "{{ add 1 2.5 }} {{ sub 1 3 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ mod 7 3 }} {{ addf 1 2.5 }} {{ divf 1 3 }}",
        "{{ max 1 5 3 }} {{ min 4 2 }} {{ maxf 1.5 2 }} {{ round 2.555 2 }} {{ floor 1.5 }}",
        "{{ int \"12abc\" }} {{ int 3.9 }} {{ float64 \"1.5\" }} {{ atoi \"x\" }} {{ int64 .Values.big }}",
        "{{ .Values.big }} {{ .Values.e }} {{ .Values.small }} {{ .Values.fi }} {{ 1e21 }} {{ 0.000001 }}",
        "{{ toYaml .Values }}",
        "{{ toJson .Values }}",
        "{{ toPrettyJson .Values.m }}",
        "{{ .Values | toYaml | fromYaml | toJson }}",
        "{{ fromYaml \"a: [1\" | toJson }}",
        "{{ fromYamlArray \"- 1\\n- b\" | toJson }} {{ fromJsonArray \"[1,\\\"x\\\"]\" | toJson }}",
        "{{ include \"nope\" . }}",
        "{{ required \"need it\" .Values.s }}",
        "{{ tpl \"{{ .Values.s | upper }}\" . }}",
        "{{ $x := 1 }}{{ range .Values.ls }}{{ $x = add $x 1 }}{{ end }}{{ $x }}",
        "{{ range $i, $v := .Values.ls }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $v }}{{ end }}",
        "{{ range $i, $v := .Values.ls }}{{ if eq $i 1 }}{{ continue }}{{ end }}{{ $v }}{{ end }}",
        "{{ range 3 }}{{ . }}{{ end }}",
        "{{ and 1 0 \"x\" }} {{ or 0 \"\" \"y\" }} {{ and }}",
        "{{ lt 1 2 }} {{ le 2.0 2 }} {{ gt \"b\" \"a\" }} {{ eq 1 1.0 }}",
        "{{ printf \"%v %v\" 1 }} {{ printf \"%d\" 1 2 }} {{ printf \"%[2]v %[1]v\" 1 2 }}",
        "{{ printf \"%6.2f|%-8.3e|%+d|% d|%x\" 3.14159 1234.5 5 7 \"hi\" }}",
        "{{ printf \"%v\" .Values }}",
        "{{ printf \"%s\" (list 1 \"a\" nil) }} {{ printf \"%d\" (list 1 2) }}",
        "{{ html \"<a&b>\" }} {{ js \"it's\" }} {{ urlquery \"a b&c\" }}",
        "{{ b64dec \"aGk=\" }} {{ b64dec \"!!\" }} {{ b32enc \"hi\" }}",
        "{{ .Values.missing.deeper }}",
        "{{ .Values.m.zz }}|{{ .Values.m.d.zz }}|{{ .Values.n }}",
        "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Chart.Name }} {{ .Template.Name }}",
        "{{ semver \"1.2.3-rc.1\" | toJson }} {{ semverCompare \"^1.2\" \"1.3.0\" }}",
        "{{ sha1sum \"x\" }} {{ adler32sum \"x\" }} {{ htpasswd \"u\" \"p\" | len }}",
        "{{ toYaml 1e21 }} {{ toYaml 0.1 }} {{ toYaml 100000000 }} {{ toYaml -0.0 }}",
        "{{ float64 1e100 | toYaml }} {{ 1e100 }} {{ float64 12345678 }}",
        "{{ fromYaml (printf \"a: b%cc\" 127) | toJson }}",
        "{{ toYaml (dict \"<<\" nil) }} {{ toYaml (dict (printf \"k%c\" 133) 1) | toJson }} {{ toYaml (list (printf \"x%cy\" 8232)) | toJson }}",
        "{{ fromYaml (printf \"a: x%cy\" 133) | toJson }} {{ fromYaml \"a: [1, 2\" | toJson }} {{ fromYaml \"a:\\n- 1\\n b: 2\" | toJson }}",
    ] {
        add("misc", t.to_string());
    }
    // Whitespace trimming.
    for t in [
        "a  {{- 1 -}}  b",
        "a\n\n{{- 1 }}\n\nb",
        "a\n{{ 1 -}}\n\n  b",
        "x {{- /* c */ -}} y",
        "{{- if true }}\n  yes\n{{- end }}\n",
        "\t{{- \"t\" -}}\t\n",
        "{{ \"a\" }}\r\n{{- \"b\" }}",
        "line1\n  {{- range .Values.ls }}\n  - {{ . }}\n  {{- end }}\nend",
    ] {
        add("ws", t.to_string());
    }
    // Random pipelines from a fixed seed.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..200 {
        let e = EXPRS[rng.below(EXPRS.len())];
        let mut t = format!("{{{{ {e}");
        for _ in 0..1 + rng.below(3) {
            t.push_str(" | ");
            t.push_str(STAGES[rng.below(STAGES.len())]);
        }
        t.push_str(" }}");
        add("random", t);
    }
    out
}

/// Writes one chart per probe; returns the chart directories by id.
fn write_charts(root: &Path, probes: &[(String, String)]) -> BTreeMap<String, PathBuf> {
    let mut dirs = BTreeMap::new();
    for (id, text) in probes {
        let dir = root.join(id);
        std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
        std::fs::write(
            dir.join("Chart.yaml"),
            "apiVersion: v2\nname: probe\nversion: 0.1.0\n",
        )
        .expect("write");
        std::fs::write(dir.join("values.yaml"), VALUES).expect("write");
        std::fs::write(dir.join("templates").join("probe.yaml"), text).expect("write");
        dirs.insert(id.clone(), dir);
    }
    dirs
}

const DRIVER: &str = r#"
import importlib.machinery, importlib.util, json, sys
loader = importlib.machinery.SourceFileLoader("helm_oracle", sys.argv[1])
spec = importlib.util.spec_from_loader("helm_oracle", loader)
mod = importlib.util.module_from_spec(spec)
loader.exec_module(mod)
out = {}
for line in sys.stdin.read().splitlines():
    pid, path = line.split("\t", 1)
    out[pid] = mod.render(path, {}, "rel", "ns")
json.dump(out, sys.stdout)
"#;

/// Helm's result per probe: Ok(text) or Err(message).
fn helm_results(
    oracle: &Path,
    dirs: &BTreeMap<String, PathBuf>,
) -> BTreeMap<String, Result<String, String>> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args(["-c", DRIVER])
        .arg(oracle)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let list: String = dirs
        .iter()
        .map(|(id, d)| format!("{id}\t{}\n", d.display()))
        .collect();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(list.as_bytes())
        .expect("write to oracle");
    let out = child.wait_with_output().expect("oracle output");
    assert!(out.status.success(), "oracle driver failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("oracle json");
    let mut res = BTreeMap::new();
    for id in dirs.keys() {
        let r = &json[id.as_str()];
        let v = if r["ok"].as_bool().unwrap_or(false) {
            Ok(r["manifests"]["probe/templates/probe.yaml"]
                .as_str()
                .unwrap_or("<missing>")
                .to_string())
        } else {
            Err(r["error"].as_str().unwrap_or("").to_string())
        };
        res.insert(id.clone(), v);
    }
    res
}

fn ours(dir: &Path) -> Result<String, String> {
    let chart = load_chart(dir).map_err(|e| e.message)?;
    let r = std::panic::catch_unwind(|| {
        render_chart(&chart, &Data::empty_map(), &RenderOptions::new("rel", "ns"))
    })
    .map_err(|_| "PANIC".to_string())?
    .map_err(|e| e.message)?;
    Ok(r.manifests
        .get("probe/templates/probe.yaml")
        .cloned()
        .unwrap_or_else(|| "<missing>".into()))
}

fn known_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/differential-known.txt")
}

fn read_known() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(known_path()).unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (id, reason) = l.split_once('\t').unwrap_or((l, ""));
            (id.trim().to_string(), reason.to_string())
        })
        .collect()
}

/// A first guess at the reason of a mismatch, for `WAYFINDER_DIFF_BLESS`.
fn classify(m: &str) -> String {
    let mut lines = m.lines().skip(1);
    let helm = lines.next().unwrap_or("").trim();
    let ours = lines.next().unwrap_or("").trim();
    let norm = |s: &str| -> String {
        let mut out = String::new();
        let mut rest = s;
        // Drop `LINE:COL` and the `at <…>` node: what remains is the message itself.
        while let Some(i) = rest.find("at <") {
            out.push_str(&rest[..i]);
            rest = rest[i..]
                .find(">:")
                .map(|j| &rest[i + j + 2..])
                .unwrap_or("");
        }
        out.push_str(rest);
        out.chars().filter(|c| !c.is_ascii_digit()).collect()
    };
    if helm.contains("int64") && ours.contains("got int") {
        return "Go type name: Sprig's result is int64, we report int".into();
    }
    if norm(helm).trim_start_matches("helm:") == norm(ours).trim_start_matches("ours:") {
        return "error location: Go names the failing argument node (`at <ARG>` and its column), we name the whole command".into();
    }
    if helm.contains("[]string") {
        return "Go type name: toStrings gives []string, we report []interface {}".into();
    }
    let both = format!("{helm} / {ours}");
    both.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(240)
        .collect()
}

fn short(r: &Result<String, String>) -> String {
    let s = match r {
        Ok(t) => format!("ok {t:?}"),
        Err(e) => format!("error {e:?}"),
    };
    s.chars().take(300).collect()
}

#[test]
fn differential_against_helm() {
    let Some(oracle) = oracle_path() else {
        println!(
            "SKIP differential: the Helm oracle (../shared, python3 helm_python) is not available"
        );
        return;
    };
    let probes = probes();
    let root = std::env::temp_dir().join(format!("wayfinder-differential-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dirs = write_charts(&root, &probes);
    let helm = helm_results(&oracle, &dirs);
    let texts: BTreeMap<&str, &str> = probes
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_str()))
        .collect();
    let mut mismatches = BTreeMap::new();
    for (id, dir) in &dirs {
        let want = &helm[id];
        let got = ours(dir);
        if &got != want {
            mismatches.insert(
                id.clone(),
                format!(
                    "{id}: template {:?}\n   helm: {}\n   ours: {}",
                    texts[id.as_str()],
                    short(want),
                    short(&got)
                ),
            );
        }
    }
    let _ = std::fs::remove_dir_all(&root);
    let known = read_known();
    if std::env::var_os("WAYFINDER_DIFF_BLESS").is_some() {
        let mut text = String::from(
            "# Known differences of the differential test (tests/differential.rs) from Helm:\n\
             # `probe-id<TAB>reason`. Remove a line when the probe passes.\n",
        );
        for (id, m) in &mismatches {
            let reason = known.get(id).cloned().unwrap_or_else(|| classify(m));
            text.push_str(&format!("{id}\t{reason}\n"));
        }
        std::fs::write(known_path(), text).expect("write known");
    }
    let new: Vec<&String> = mismatches
        .iter()
        .filter(|(id, _)| !known.contains_key(*id))
        .map(|(_, m)| m)
        .collect();
    let fixed: Vec<&String> = known
        .keys()
        .filter(|id| !mismatches.contains_key(*id))
        .collect();
    println!(
        "differential: {} probes, {} mismatches ({} allowlisted, {} new), {} allowlisted now pass",
        probes.len(),
        mismatches.len(),
        mismatches.len() - new.len(),
        new.len(),
        fixed.len()
    );
    let mut report = String::new();
    for m in &new {
        report.push_str(&format!("NEW MISMATCH {m}\n"));
    }
    for id in &fixed {
        report.push_str(&format!(
            "NOW PASSES (remove from tests/differential-known.txt): {id}\n"
        ));
    }
    assert!(report.is_empty(), "{report}");
}
