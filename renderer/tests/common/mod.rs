//! Shared by the conformance runner and the render benchmark: the corpus layout, case files,
//! rendering a case and comparing it with Helm's output.
#![allow(dead_code, clippy::print_stdout)]

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use wayfinder_render::manifest::{helm_template_output, ManifestOptions};
use wayfinder_render::{load_chart, render_chart, Data, RenderOptions, Rendered};

/// One case: `cases/<chart dir>/<case>.toml`.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    /// `<dir>/<case>`, e.g. `podinfo/default`.
    pub(crate) id: String,
    pub(crate) dir: String,
    pub(crate) case: String,
    pub(crate) release: String,
    pub(crate) namespace: String,
    /// `charts/<chart>`.
    pub(crate) chart: String,
    pub(crate) kube_version: Option<String>,
    pub(crate) api_versions: Vec<String>,
    pub(crate) unstable: Vec<String>,
}

pub(crate) enum Outcome {
    Pass,
    Fail(String),
}

/// `<repo>/../shared/conformance`, else `$CONFORMANCE_DIR`, else `/work/shared/conformance`.
pub(crate) fn find_corpus() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("CONFORMANCE_DIR") {
        let p = PathBuf::from(d);
        return p.join("cases").is_dir().then_some(p);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .to_path_buf();
    let candidates = [
        repo.join("../shared/conformance"),
        PathBuf::from("/work/shared/conformance"),
    ];
    candidates.into_iter().find(|p| p.join("cases").is_dir())
}

pub(crate) fn list_cases(root: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(root.join("cases")) else {
        return out;
    };
    let mut dirs: Vec<_> = dirs.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<_> = files
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for f in files {
            let dir_name = dir
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let case = f
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            let t: toml::Table = match text.parse() {
                Ok(t) => t,
                Err(_) => toml::Table::new(),
            };
            let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let list = |k: &str| -> Vec<String> {
                t.get(k)
                    .and_then(|v| v.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            out.push(Case {
                id: format!("{dir_name}/{case}"),
                chart: s("chart").unwrap_or_else(|| dir_name.clone()),
                dir: dir_name,
                case,
                release: s("name").unwrap_or_else(|| "release-name".into()),
                namespace: s("namespace").unwrap_or_else(|| "default".into()),
                kube_version: s("kube_version"),
                api_versions: list("api_versions"),
                unstable: list("unstable"),
            });
        }
    }
    out
}

/// Helm's expected result for a case.
pub(crate) struct Expected {
    pub(crate) ok: bool,
    pub(crate) manifests: BTreeMap<String, String>,
    pub(crate) error: Option<String>,
    pub(crate) manifest_error: Option<String>,
    /// `<case>.manifest.yaml`, when present.
    pub(crate) printed: Option<String>,
}

pub(crate) fn load_expected(root: &Path, case: &Case) -> Result<Expected, String> {
    let base = root.join("expected").join(&case.dir);
    let json_path = base.join(format!("{}.json", case.case));
    let text = std::fs::read_to_string(&json_path)
        .map_err(|e| format!("cannot read {}: {e}", json_path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("bad expected json: {e}"))?;
    let manifests = v
        .get("manifests")
        .and_then(|m| m.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let printed = std::fs::read_to_string(base.join(format!("{}.manifest.yaml", case.case))).ok();
    Ok(Expected {
        ok: v.get("ok").and_then(|x| x.as_bool()).unwrap_or(false),
        manifests,
        error: v.get("error").and_then(|x| x.as_str()).map(str::to_string),
        manifest_error: v
            .get("manifest_error")
            .and_then(|x| x.as_str())
            .map(str::to_string),
        printed,
    })
}

/// The case's values (`-f <case>.yaml`), parsed as Helm parses values files.
pub(crate) fn load_values(root: &Path, case: &Case) -> Result<Data, String> {
    let p = root
        .join("cases")
        .join(&case.dir)
        .join(format!("{}.yaml", case.case));
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(Data::empty_map());
    }
    match wayfinder_render::yaml::parse(&text) {
        Ok(Data::Null) => Ok(Data::empty_map()),
        Ok(d) => Ok(d),
        Err(e) => Err(format!("values: {}", e.message)),
    }
}

pub(crate) fn render_options(case: &Case) -> RenderOptions {
    let mut o = RenderOptions::new(&case.release, &case.namespace);
    o.kube_version = case.kube_version.clone();
    o.api_versions = case.api_versions.clone();
    o
}

/// Loads and renders a case; `Err` is the render error message.
pub(crate) fn render_case(root: &Path, case: &Case, values: &Data) -> Result<Rendered, String> {
    let chart = load_chart(&root.join("charts").join(&case.chart)).map_err(|e| e.message)?;
    render_chart(&chart, values, &render_options(case)).map_err(|e| e.message)
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".into()
    }
}

/// Runs one case; never panics (a panic is a failure with its message).
pub(crate) fn run_case(root: &Path, case: &Case, verbose: bool) -> Outcome {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(AssertUnwindSafe(|| check_case(root, case, verbose)));
    std::panic::set_hook(prev);
    match r {
        Ok(Ok(())) => Outcome::Pass,
        Ok(Err(msg)) => Outcome::Fail(msg),
        Err(p) => Outcome::Fail(format!("PANIC: {}", short(&panic_message(p)))),
    }
}

fn short(s: &str) -> String {
    let one_line = s.replace('\n', "⏎");
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

fn check_case(root: &Path, case: &Case, verbose: bool) -> Result<(), String> {
    let exp = load_expected(root, case)?;
    let values = load_values(root, case)?;
    let got = render_case(root, case, &values);
    if !exp.ok {
        return match got {
            Err(e) => {
                if verbose {
                    println!(
                        "helm error:\n{}\nour error:\n{e}",
                        exp.error.as_deref().unwrap_or("")
                    );
                }
                Ok(())
            }
            Ok(_) => Err(format!(
                "rendered, Helm fails with: {}",
                short(exp.error.as_deref().unwrap_or(""))
            )),
        };
    }
    let got = got.map_err(|e| {
        if verbose {
            println!("render error:\n{e}");
        }
        format!("render error: {}", short(&e))
    })?;
    // Same set of templates.
    let missing: Vec<&String> = exp
        .manifests
        .keys()
        .filter(|k| !got.manifests.contains_key(*k))
        .collect();
    let extra: Vec<&String> = got
        .manifests
        .keys()
        .filter(|k| !exp.manifests.contains_key(*k))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        return Err(format!(
            "template set differs: missing {:?}, extra {:?}",
            missing.iter().take(3).collect::<Vec<_>>(),
            extra.iter().take(3).collect::<Vec<_>>()
        ));
    }
    for (name, want) in &exp.manifests {
        if case.unstable.iter().any(|u| u == name) {
            continue;
        }
        let have = &got.manifests[name];
        if have != want {
            if verbose {
                println!("--- expected {name}\n+++ got {name}");
                println!("{}", diff(want, have));
            }
            return Err(format!("{name}: {}", first_difference(want, have)));
        }
    }
    // `helm template --no-hooks` output.
    let opts = ManifestOptions {
        no_hooks: true,
        ..Default::default()
    };
    let printed = helm_template_output(&got, &opts);
    if exp.manifest_error.is_some() {
        return match printed {
            Err(_) => Ok(()),
            Ok(_) => Err("helm template output succeeded, Helm fails (manifest_error)".into()),
        };
    }
    let printed =
        printed.map_err(|e| format!("helm template output error: {}", short(&e.message)))?;
    let want = exp.printed.unwrap_or_default();
    if case.unstable.is_empty() {
        if printed != want {
            if verbose {
                println!("--- expected manifest\n+++ got manifest");
                println!("{}", diff(&want, &printed));
            }
            return Err(format!("manifest: {}", first_difference(&want, &printed)));
        }
    } else {
        let sources = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| l.starts_with("# Source: "))
                .map(str::to_string)
                .collect()
        };
        let (a, b) = (sources(&want), sources(&printed));
        if a != b {
            if verbose {
                println!("{}", diff(&a.join("\n"), &b.join("\n")));
            }
            return Err(format!(
                "manifest sources: {}",
                first_difference(&a.join("\n"), &b.join("\n"))
            ));
        }
    }
    Ok(())
}

/// `line N: expected "…" got "…"`.
pub(crate) fn first_difference(want: &str, have: &str) -> String {
    let wl: Vec<&str> = want.split('\n').collect();
    let hl: Vec<&str> = have.split('\n').collect();
    for i in 0..wl.len().max(hl.len()) {
        let (w, h) = (wl.get(i), hl.get(i));
        if w != h {
            let show = |x: Option<&&str>| match x {
                Some(s) => format!("{:?}", short(s)),
                None => "<end>".into(),
            };
            return format!("line {}: expected {} got {}", i + 1, show(w), show(h));
        }
    }
    "differs".into()
}

/// A compact line diff: common prefix/suffix skipped, the changed middle printed with context.
pub(crate) fn diff(want: &str, have: &str) -> String {
    let wl: Vec<&str> = want.split('\n').collect();
    let hl: Vec<&str> = have.split('\n').collect();
    let mut pre = 0;
    while pre < wl.len() && pre < hl.len() && wl[pre] == hl[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < wl.len() - pre
        && suf < hl.len() - pre
        && wl[wl.len() - 1 - suf] == hl[hl.len() - 1 - suf]
    {
        suf += 1;
    }
    let mut out = String::new();
    let ctx = 3;
    out.push_str(&format!(
        "@@ -{},{} +{},{} @@\n",
        pre + 1,
        wl.len() - pre - suf,
        pre + 1,
        hl.len() - pre - suf
    ));
    for l in &wl[pre.saturating_sub(ctx)..pre] {
        out.push_str(&format!(" {l}\n"));
    }
    let cap = 60;
    let mid_w = &wl[pre..wl.len() - suf];
    let mid_h = &hl[pre..hl.len() - suf];
    for l in mid_w.iter().take(cap) {
        out.push_str(&format!("-{l}\n"));
    }
    if mid_w.len() > cap {
        out.push_str(&format!("-… {} more lines\n", mid_w.len() - cap));
    }
    for l in mid_h.iter().take(cap) {
        out.push_str(&format!("+{l}\n"));
    }
    if mid_h.len() > cap {
        out.push_str(&format!("+… {} more lines\n", mid_h.len() - cap));
    }
    for l in &wl[wl.len() - suf..(wl.len() - suf + ctx).min(wl.len())] {
        out.push_str(&format!(" {l}\n"));
    }
    out
}
