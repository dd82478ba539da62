//! `wayfinder-bench`: builds a synthetic fleet and reports the figures of issue 3.
//!
//! ```text
//! cargo run -p wayfinder-cli --bin wayfinder-bench -- [--clusters N] [--source DIR] [--keep] [--distinct]
//! ```
//!
//! 1. Copies the example workspace (`--source`, default: the repository root) into a temp
//!    dir and multiplies its clusters into N clusters (`clusters/<group>/<name>-<i>/`).
//!    `--distinct` adds a value of its own to every cluster's overlay files, so those renders
//!    cannot dedupe (the memory figure at thousands of renders).
//! 2. Cold build (empty cache): wall time, renders per second, render actions run against
//!    (cluster, component) pairs (the content-addressed dedupe), peak memory (maxrss).
//! 3. No-op build (median of 9, with `--json`, and of 5 without) against the time to `stat`
//!    every input file (median of 9). Before them, `sync` writes the cold build's output to
//!    disk, so that no later fsync waits for it.
//! 4. Incremental build after editing one cluster's overlay (median of 9 edits, each built at
//!    once): its time against the no-op, and
//!    a check, through the JSON summary, that only that cluster's actions ran. The stat
//!    baseline, the no-ops (with `--json`) and the incremental builds alternate (one of each
//!    per round), so that all see the same moments of a shared machine's load.
//!
//! It runs the real `wayfinder` binary next to this one. Speed is reported, never asserted.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs per median of the no-op, stat and incremental figures: on a shared 2-core machine a
/// single run can be off by half.
const SAMPLES: usize = 9;

struct Args {
    clusters: usize,
    source: PathBuf,
    keep: bool,
    /// Give every cluster's overlay values a value of its own, so renders do not dedupe.
    distinct: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        clusters: 1000,
        source: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".."),
        keep: false,
        distinct: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--clusters" => {
                a.clusters = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--clusters takes a number")?
            }
            "--source" => a.source = PathBuf::from(it.next().ok_or("--source takes a directory")?),
            "--keep" => a.keep = true,
            "--distinct" => a.distinct = true,
            "-h" | "--help" => {
                println!(
                    "usage: wayfinder-bench [--clusters N] [--source DIR] [--keep] [--distinct]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let dest = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &dest)?;
        } else {
            std::fs::copy(e.path(), dest)?;
        }
    }
    Ok(())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => list_files(&p, out),
            Ok(_) => out.push(p),
            Err(_) => {}
        }
    }
}

/// Generates the fleet; returns (root, one cluster dir with an overlay values file).
fn generate(args: &Args, root: &Path) -> Result<(usize, PathBuf), String> {
    let io = |e: std::io::Error| e.to_string();
    std::fs::copy(
        args.source.join("workspace.toml"),
        root.join("workspace.toml"),
    )
    .map_err(io)?;
    for d in ["charts", "voyages", "plans", "policies"] {
        if args.source.join(d).is_dir() {
            copy_dir(&args.source.join(d), &root.join(d)).map_err(io)?;
        }
    }
    // The example clusters: (group, dir).
    let mut examples = Vec::new();
    let clusters = args.source.join("clusters");
    let mut groups: Vec<_> = std::fs::read_dir(&clusters)
        .map_err(io)?
        .flatten()
        .collect();
    groups.sort_by_key(|e| e.file_name());
    for g in groups {
        let gname = g.file_name().to_string_lossy().into_owned();
        let mut cs: Vec<_> = std::fs::read_dir(g.path()).map_err(io)?.flatten().collect();
        cs.sort_by_key(|e| e.file_name());
        for c in cs {
            if c.path().join("cluster.toml").is_file() {
                examples.push((gname.clone(), c.file_name().to_string_lossy().into_owned()));
            } else if c.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                // Group values and other shared directories.
                copy_dir(
                    &c.path(),
                    &root.join("clusters").join(&gname).join(c.file_name()),
                )
                .map_err(io)?;
            }
        }
    }
    if examples.is_empty() {
        return Err(format!("no clusters under `{}`", clusters.display()));
    }
    let mut edit_target = None;
    for i in 0..args.clusters {
        let (g, c) = &examples[i % examples.len()];
        let name = format!("{c}-{i:05}");
        let dest = root.join("clusters").join(g).join(&name);
        copy_dir(&clusters.join(g).join(c), &dest).map_err(io)?;
        let toml_path = dest.join("cluster.toml");
        let text = std::fs::read_to_string(&toml_path).map_err(io)?;
        let text = text.replacen(&format!("name = \"{c}\""), &format!("name = \"{name}\""), 1);
        std::fs::write(&toml_path, text).map_err(io)?;
        if args.distinct {
            let mut overlays = Vec::new();
            list_files(&dest.join("values"), &mut overlays);
            for f in overlays {
                let mut v = std::fs::read_to_string(&f).map_err(io)?;
                v.push_str(&format!("\nwayfinderBenchCluster: {i}\n"));
                std::fs::write(&f, v).map_err(io)?;
            }
        }
        if edit_target.is_none() && dest.join("values").is_dir() {
            edit_target = Some(dest.clone());
        }
    }
    let edit = edit_target.ok_or("no example cluster has overlay values")?;
    Ok((examples.len(), edit))
}

struct Run {
    wall: Duration,
    summary: serde_json::Value,
}

fn build(wayfinder: &Path, root: &Path, cache: &Path) -> Result<Run, String> {
    let start = Instant::now();
    let out = Command::new(wayfinder)
        .arg("-C")
        .arg(root)
        .args(["build", "--json"])
        .env("WAYFINDER_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", wayfinder.display()))?;
    let wall = start.elapsed();
    if !out.status.success() {
        return Err(format!(
            "build failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let summary = serde_json::from_slice(&out.stdout).map_err(|e| format!("bad summary: {e}"))?;
    Ok(Run { wall, summary })
}

/// The fast records of the cache (`state-v1/fast-*`) with their stamps.
fn fast_records(cache: &Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out: Vec<_> = std::fs::read_dir(cache.join("state-v1"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("fast-"))
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((e.path(), m.len(), m.modified().ok()))
        })
        .collect();
    out.sort();
    out
}

fn actions(s: &serde_json::Value) -> Vec<(String, String, String)> {
    s["actions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    (
                        x["target"].as_str().unwrap_or_default().to_string(),
                        x["kind"].as_str().unwrap_or_default().to_string(),
                        x["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn maxrss_children_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) == 0 {
            u.ru_maxrss
        } else {
            -1
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let wayfinder = exe.with_file_name("wayfinder");
    if !wayfinder.is_file() {
        return Err(format!(
            "`{}` not found: build it first (`cargo build -p wayfinder-cli`)",
            wayfinder.display()
        ));
    }
    let tmp = std::env::temp_dir().join(format!("wayfinder-bench-{}", std::process::id()));
    let root = tmp.join("ws");
    let cache = tmp.join("cache");
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let (examples, edit_dir) = generate(&args, &root)?;
    println!(
        "fleet: {} clusters (copies of {examples} example clusters) in {}",
        args.clusters,
        root.display()
    );
    // Let the files age past the stat cache's racy window.
    std::thread::sleep(Duration::from_millis(1100));

    // Cold build.
    let cold = build(&wayfinder, &root, &cache)?;
    let rss = maxrss_children_kib();
    let acts = actions(&cold.summary);
    let renders: Vec<_> = acts.iter().filter(|a| a.1 == "render").collect();
    let ran = renders.iter().filter(|a| a.2 == "built").count();
    let failed = acts.iter().filter(|a| a.2 == "failed").count();
    println!(
        "cold build:        {:9.1} ms  {} actions, {} (cluster, component) pairs, {} render actions ran (dedupe {:.1}x), {:.0} renders/s (pairs/s {:.0}), {} failed",
        ms(cold.wall),
        acts.len(),
        renders.len(),
        ran,
        renders.len() as f64 / ran.max(1) as f64,
        ran as f64 / cold.wall.as_secs_f64(),
        renders.len() as f64 / cold.wall.as_secs_f64(),
        failed
    );
    println!(
        "peak memory:       {:9.1} MiB (maxrss of the largest build process)",
        rss as f64 / 1024.0
    );

    // Let the outputs of the cold build age past the racy window too: within a second of a
    // build, the fast path cannot trust the stamps of what it just wrote and takes the full
    // path (measured separately below as the "full-path no-op").
    std::thread::sleep(Duration::from_millis(1100));
    // And let the disk take the cold build's tens of megabytes of `out/` first: otherwise
    // the first fsync of a later build (an action-cache entry) waits for that writeback,
    // which is the cold build's cost, not the measured one's.
    let _ = Command::new("sync").status();
    // Warm-up no-op (fills the stat cache for files that were racy at cold time).
    build(&wayfinder, &root, &cache)?;
    // The same no-op as users type it, without `--json` (stderr's count line says it built
    // nothing).
    let mut plain = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let out = Command::new(&wayfinder)
            .arg("-C")
            .arg(&root)
            .arg("build")
            .env("WAYFINDER_CACHE_DIR", &cache)
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| e.to_string())?;
        plain.push(start.elapsed());
        let err = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() || !err.contains(" 0 built,") {
            return Err(format!("a plain no-op build did work or failed:\n{err}"));
        }
    }
    let plain = median(plain);

    // Baseline: stat every input file of the workspace (everything but the output tree).
    let mut files = Vec::new();
    for d in [
        "workspace.toml",
        "charts",
        "voyages",
        "clusters",
        "plans",
        "policies",
    ] {
        let p = root.join(d);
        if p.is_file() {
            files.push(p);
        } else {
            list_files(&p, &mut files);
        }
    }
    // Timed in each round below, just before the no-op.
    let stat_all = || {
        let t = Instant::now();
        for f in &files {
            let _ = std::fs::metadata(f);
        }
        t.elapsed()
    };

    // Incremental: edit one overlay values file of one cluster.
    let cluster_name = edit_dir
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut overlay = Vec::new();
    list_files(&edit_dir.join("values"), &mut overlay);
    overlay.sort();
    let file = overlay.first().ok_or("the cluster has no overlay file")?;
    // Rounds of: the stat baseline; a no-op; an edit of the overlay, built at once (the
    // incremental build); a pause past the racy window (with a margin), then a build that
    // takes the edited file's stamp, so that the next round's no-op is decided by stat alone.
    // All three are measured in every round, so a change in the machine's load moves them
    // together.
    let mut stats = Vec::new();
    let mut noops = Vec::new();
    let mut times = Vec::new();
    let mut ran = Vec::new();
    let mut only_that_cluster = true;
    for n in 0..SAMPLES {
        stats.push(stat_all());
        // A no-op decided by stat alone writes no record; any other build rewrites its fast
        // record (a partial build with nothing to run included).
        let record_before = fast_records(&cache);
        let r = build(&wayfinder, &root, &cache)?;
        let built = actions(&r.summary)
            .iter()
            .filter(|a| a.2 == "built")
            .count();
        if built != 0 || fast_records(&cache) != record_before {
            return Err(format!(
                "round {n}: the no-op build was not decided by stat alone ({built} actions ran)"
            ));
        }
        noops.push(r.wall);
        let mut text = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
        text.push_str(&format!("\nbenchEdit{n}: {n}\n"));
        std::fs::write(file, text).map_err(|e| e.to_string())?;
        let inc = build(&wayfinder, &root, &cache)?;
        ran = actions(&inc.summary)
            .into_iter()
            .filter(|a| a.2 == "built")
            .collect();
        only_that_cluster &= !ran.is_empty()
            && ran.iter().all(|a| {
                a.0 == format!("cluster:{cluster_name}")
                    || a.0.starts_with(&format!("render:{cluster_name}/"))
                    || a.0.starts_with(&format!("values:{cluster_name}/"))
            });
        times.push(inc.wall);
        std::thread::sleep(Duration::from_millis(1500));
        build(&wayfinder, &root, &cache)?;
    }
    let stat = median(stats);
    let noop = median(noops);
    let inc = median(times);
    println!(
        "no-op build:       {:9.1} ms  (median of {SAMPLES}, process start included)",
        ms(noop)
    );
    println!(
        "stat every input:  {:9.1} ms  ({} files, median of {SAMPLES}); no-op / stat = {:.2}x (target <= 3x)",
        ms(stat),
        files.len(),
        noop.as_secs_f64() / stat.as_secs_f64()
    );
    println!(
        "no-op, no --json:  {:9.1} ms  (median of 5; the summary not printed); / stat = {:.2}x",
        ms(plain),
        plain.as_secs_f64() / stat.as_secs_f64()
    );
    println!(
        "incremental build: {:9.1} ms  (median of {SAMPLES} edits of {}); ran {:?}; only that cluster: {}; incremental / no-op = {:.2}x (target <= 1.5x)",
        ms(inc),
        file.strip_prefix(&root).unwrap_or(file).display(),
        ran.iter().map(|a| a.0.as_str()).collect::<Vec<_>>(),
        only_that_cluster,
        inc.as_secs_f64() / noop.as_secs_f64()
    );
    if !args.keep {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if only_that_cluster {
        Ok(())
    } else {
        Err("the incremental build ran actions of other clusters".into())
    }
}
