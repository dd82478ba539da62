//! `wayfinder test`: validation as cached build actions (DESIGN §8).
//!
//! Runs the build with the test actions (`test:CLUSTER`, after the cluster's renders), then
//! reads every test report from the cache: failures go to stderr naming cluster, component,
//! object, rule and message; `--json` prints the build summary plus a `tests` section. Exit
//! codes: 0 all passed, 1 a test or an action failed, 2 bad input (policies, `[tests]`).

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

use clap::Args;
use serde_json::{json, Value as J};
use wayfinder_engine::{Outcome, Status, Store};
use wayfinder_rules::{BuildError, BuildOptions, BuildReport};

use crate::cli::Cli;
use crate::commands::{open_workspace, report, Progress, BAD_INPUT, FAILED, OK};

/// At most this many findings of each severity are printed (all are in `--json`).
const MAX_PRINTED: usize = 200;

/// `wayfinder test [TARGET…]`.
#[derive(Args, Debug)]
pub(crate) struct TestCmd {
    /// Targets or globs (`cluster:prod-*`, `test:peu01`); default: every cluster
    pub(crate) targets: Vec<String>,
}

/// The build targets for the user's: a cluster (or a render of it) means its tests.
fn test_targets(targets: &[String], any_cluster: bool) -> Vec<String> {
    if targets.is_empty() {
        return if any_cluster {
            vec!["test:*".into()]
        } else {
            Vec::new()
        };
    }
    targets
        .iter()
        .map(|t| {
            if let Some(c) = t.strip_prefix("cluster:") {
                format!("test:{c}")
            } else if let Some(r) = t.strip_prefix("render:") {
                format!("test:{}", r.split('/').next().unwrap_or(r))
            } else {
                t.clone()
            }
        })
        .collect()
}

/// One test action's result.
struct Result_ {
    cluster: String,
    status: &'static str,
    objects: u64,
    findings: Vec<J>,
}

pub(crate) fn run(args: &Cli, cmd: &TestCmd) -> u8 {
    let start = Instant::now();
    let (_, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let store = match crate::remote::BuildStore::open(args, &session.ws.decl, &cache) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let progress = Progress::new(!args.global.json);
    let on_outcome = |o: &Outcome| progress.outcome(o);
    let on_start = |n: usize| progress.start(n);
    let opts = BuildOptions {
        targets: test_targets(&cmd.targets, !session.ws.clusters.is_empty()),
        jobs: args.global.jobs.unwrap_or(0),
        on_outcome: Some(&on_outcome),
        on_start: Some(&on_start),
        tests: true,
    };
    let result = session.build(&store, &opts);
    store.finish();
    progress.finish();
    let built = match result {
        Ok(r) => r,
        Err(e) => {
            let code = match e {
                BuildError::Io(_) => FAILED,
                _ => BAD_INPUT,
            };
            report(e);
            return code;
        }
    };
    for w in &built.warnings {
        eprintln!("warning: {w}");
    }
    let results = read_results(&built, &store);
    let (errors, warnings) = print_findings(&results);
    let failed_tests = results.iter().filter(|r| r.status != "passed").count();
    let out = summary(&built, &results);
    if let Some(file) = &args.global.summary {
        let text = serde_json::to_string_pretty(&out).unwrap_or_default();
        if let Err(e) = std::fs::write(file, text + "\n") {
            eprintln!("error: cannot write summary `{}`: {e}", file.display());
            return FAILED;
        }
    }
    if args.global.json {
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, &out);
        let _ = writeln!(stdout);
    }
    let count = |s: Status| built.outcomes.iter().filter(|o| o.status == s).count();
    let ran = built
        .outcomes
        .iter()
        .filter(|o| o.kind == "test" && o.status == Status::Built)
        .count();
    eprintln!(
        "{} clusters tested: {} passed, {failed_tests} failed ({errors} errors, {warnings} warnings); {ran} test actions ran; {} actions: {} built, {} cached, {} failed, {} skipped in {:.2}s",
        results.len(),
        results.len() - failed_tests,
        built.outcomes.len(),
        count(Status::Built),
        count(Status::Cached) + count(Status::RemoteCached),
        count(Status::Failed),
        count(Status::Skipped),
        start.elapsed().as_secs_f64()
    );
    let _ = cache.maybe_gc();
    let code = if built.failed() || failed_tests > 0 {
        FAILED
    } else {
        OK
    };
    std::mem::forget(built);
    std::mem::forget(session);
    code
}

/// Reads the report of every test action.
fn read_results(built: &BuildReport, store: &dyn Store) -> Vec<Result_> {
    let mut out = Vec::new();
    for o in built.outcomes.iter().filter(|o| o.kind == "test") {
        let cluster = o.target.trim_start_matches("test:").to_string();
        let doc: Option<J> = o
            .result
            .as_ref()
            .and_then(|r| r.outputs.get("report"))
            .and_then(|d| store.get_blob(d))
            .and_then(|b| serde_json::from_slice(&b).ok());
        let r = match doc {
            Some(doc) => {
                let findings: Vec<J> = doc["findings"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|mut f| {
                        if let Some(m) = f.as_object_mut() {
                            m.insert("cluster".into(), J::String(cluster.clone()));
                        }
                        f
                    })
                    .collect();
                let failed = findings.iter().any(|f| f["severity"] == "error");
                Result_ {
                    status: if failed { "failed" } else { "passed" },
                    objects: doc["objects"].as_u64().unwrap_or(0),
                    cluster,
                    findings,
                }
            }
            None => Result_ {
                status: if o.status == Status::Skipped {
                    "not run"
                } else {
                    "error"
                },
                objects: 0,
                cluster,
                findings: Vec::new(),
            },
        };
        out.push(r);
    }
    out
}

/// `cluster `c`, component `x`, Deployment ns/name: [policy rule] message`.
fn describe(f: &J) -> String {
    let s = |k: &str| f[k].as_str().unwrap_or("").to_string();
    let object = match (s("kind"), s("namespace"), s("name")) {
        (k, _, _) if k.is_empty() => format!("document `{}`", s("source")),
        (k, ns, n) if ns.is_empty() => format!("{k} {n}"),
        (k, ns, n) => format!("{k} {ns}/{n}"),
    };
    format!(
        "cluster `{}`, component `{}`, {object}: [{} {}] {}",
        s("cluster"),
        s("component"),
        s("check"),
        s("rule"),
        s("message")
    )
}

/// Prints errors then warnings (capped); returns their counts.
fn print_findings(results: &[Result_]) -> (usize, usize) {
    let all: Vec<&J> = results.iter().flat_map(|r| r.findings.iter()).collect();
    let (errors, warnings): (Vec<&J>, Vec<&J>) =
        all.into_iter().partition(|f| f["severity"] == "error");
    for (list, word) in [(&warnings, "warning"), (&errors, "error")] {
        for f in list.iter().take(MAX_PRINTED) {
            eprintln!("{word}: {}", describe(f));
        }
        if list.len() > MAX_PRINTED {
            eprintln!(
                "{word}: … and {} more (`--json` lists them all)",
                list.len() - MAX_PRINTED
            );
        }
    }
    for r in results
        .iter()
        .filter(|r| r.status == "not run" || r.status == "error")
    {
        eprintln!("error: the tests of cluster `{}` did not run", r.cluster);
    }
    (errors.len(), warnings.len())
}

/// The build summary plus `tests`: per cluster, its status and findings.
fn summary(built: &BuildReport, results: &[Result_]) -> J {
    let mut out = built.summary_json();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        *by_status.entry(r.status).or_default() += 1;
    }
    let list: Vec<J> = results
        .iter()
        .map(|r| {
            json!({
                "cluster": r.cluster,
                "target": format!("test:{}", r.cluster),
                "status": r.status,
                "objects": r.objects,
                "findings": r.findings,
            })
        })
        .collect();
    let count = |sev: &str| {
        results
            .iter()
            .flat_map(|r| r.findings.iter())
            .filter(|f| f["severity"] == sev)
            .count()
    };
    out["tests"] = json!({
        "clusters": results.len(),
        "passed": by_status.get("passed").copied().unwrap_or(0),
        "failed": results.len() - by_status.get("passed").copied().unwrap_or(0),
        "errors": count("error"),
        "warnings": count("warning"),
        "results": list,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_and_renders_map_to_their_tests() {
        let t =
            |v: &[&str]| test_targets(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), true);
        assert_eq!(t(&[]), ["test:*"]);
        assert_eq!(
            t(&["cluster:prod-*", "render:peu01/web", "test:x"]),
            ["test:prod-*", "test:peu01", "test:x"]
        );
        assert!(test_targets(&[], false).is_empty());
    }

    #[test]
    fn findings_name_cluster_component_object_rule() {
        let f = json!({"cluster": "peu01", "component": "web", "kind": "Deployment", "namespace": "web", "name": "d", "check": "policy", "rule": "no-latest", "message": "pin it"});
        assert_eq!(
            describe(&f),
            "cluster `peu01`, component `web`, Deployment web/d: [policy no-latest] pin it"
        );
    }
}
