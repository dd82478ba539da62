//! One function per command: validated options → a library call → output and exit code.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use wayfinder_cache::{resolve_cache_dir, LocalCache, DEFAULT_MAX_SIZE};
use wayfinder_engine::{Outcome, Status};
use wayfinder_rules::{
    cache_dir_setting, explain, find_root, init_workspace, template, BuildError, BuildOptions,
    BuildReport, FastStart, Session, TemplateArgs, TemplateError,
};

use crate::cli::{CacheCmd, Cli, Command, GraphFormat, QueryCmd, TemplateCmd};

pub(crate) const OK: u8 = 0;
pub(crate) const FAILED: u8 = 1;
pub(crate) const BAD_INPUT: u8 = 2;

fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) || !std::io::stderr().is_terminal()
}

/// Installs the diagnostics printer and the tracing subscriber (the only one in the program).
pub(crate) fn setup_output(args: &Cli) {
    let color = !no_color();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .terminal_links(false)
                .build(),
        )
    }));
    let default = match args.global.verbose {
        0 => "warn",
        1 => "info,wayfinder=debug,wayfinder_engine=debug,wayfinder_rules=debug,wayfinder_cache=debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

pub(crate) fn report(err: impl miette::Diagnostic + Send + Sync + 'static) {
    eprintln!("{:?}", miette::Report::new(err));
}

pub(crate) fn print_json(v: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

/// Runs the command; returns the exit code.
pub(crate) fn run(args: &Cli) -> u8 {
    if let Some(dir) = &args.global.directory {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!("error: cannot change to directory `{}`: {e}", dir.display());
            return BAD_INPUT;
        }
    }
    match &args.command {
        Command::Build { targets } => build(args, targets),
        Command::Template(t) => template_cmd(t),
        Command::Explain { target } => explain_cmd(args, target),
        Command::Query { query } => query_cmd(args, query),
        Command::Graph { format } => graph_cmd(args, *format),
        Command::Cache { cmd } => cache_cmd(args, cmd),
        Command::Init { dir, name } => init_cmd(dir.as_deref(), name.as_deref()),
        Command::Test(t) => crate::test_cmd::run(args, t),
        Command::Push(p) => crate::push::run(args, p),
        Command::Diff(d) => crate::day2::diff(args, d),
        Command::Upgrade(u) => crate::day2::upgrade(args, u),
        Command::Publish(p) => crate::day2::publish(args, p),
        Command::Unsupported(words) => unsupported(words),
    }
}

/// A command of the design that does not exist yet, or an unknown one: exit 2 either way.
fn unsupported(words: &[String]) -> u8 {
    let name = words.first().map(String::as_str).unwrap_or_default();
    match crate::cli::NOT_YET.iter().find(|(n, _)| *n == name) {
        Some((_, hint)) => {
            eprintln!("error: `wayfinder {name}` is not supported yet\n  help: {hint}");
        }
        None => {
            eprintln!(
                "error: unknown command `{name}`\n  help: run `wayfinder --help` for the commands"
            );
        }
    }
    BAD_INPUT
}

/// Finds the workspace root, or reports why not.
pub(crate) fn root() -> Result<PathBuf, u8> {
    find_root(Path::new(".")).map_err(|e| {
        report(e);
        BAD_INPUT
    })
}

pub(crate) fn open_cache(args: &Cli, root: Option<&Path>) -> Result<LocalCache, u8> {
    let config = root.and_then(cache_dir_setting);
    let (dir, source) =
        resolve_cache_dir(args.global.cache_dir.as_deref(), config.as_deref(), root);
    // Pinned voyages pulled from a registry are kept in the same cache.
    wayfinder_rules::package::use_cache_dir(&dir);
    tracing::debug!(dir = %dir.display(), ?source, "cache directory");
    LocalCache::open(&dir).map_err(|e| {
        report(e);
        BAD_INPUT
    })
}

/// The preamble of every workspace command: find the root, open the cache, load the session.
pub(crate) fn open_workspace(args: &Cli) -> Result<(PathBuf, LocalCache, Session), u8> {
    let root = root()?;
    let cache = open_cache(args, Some(&root))?;
    let session = Session::open(&root, &cache).map_err(|e| {
        report(e);
        BAD_INPUT
    })?;
    Ok((root, cache, session))
}

fn build(args: &Cli, targets: &[String]) -> u8 {
    let start = Instant::now();
    let (root, cache) = match root().and_then(|r| open_cache(args, Some(&r)).map(|c| (r, c))) {
        Ok(w) => w,
        Err(code) => return code,
    };
    // A plain build goes through the fast path: a no-op, or only the changed clusters.
    let opened = if targets.is_empty() {
        Session::open_fast(
            &root,
            &cache,
            args.global.json || args.global.summary.is_some(),
        )
    } else {
        Session::open(&root, &cache).map(FastStart::Full)
    };
    let session = match opened {
        Ok(FastStart::NoOp(report_)) => return finish_build(args, &cache, report_, start),
        Ok(FastStart::Partial(s) | FastStart::Full(s)) => s,
        Err(e) => {
            report(e);
            return BAD_INPUT;
        }
    };
    let store = match crate::remote::BuildStore::open(args, &session.ws.decl, &cache) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let progress = Progress::new(!args.global.json);
    let on_outcome = |o: &Outcome| progress.outcome(o);
    let on_start = |n: usize| progress.start(n);
    let opts = BuildOptions {
        targets: targets.to_vec(),
        jobs: args.global.jobs.unwrap_or(0),
        on_outcome: Some(&on_outcome),
        on_start: Some(&on_start),
        tests: false,
    };
    let result = session.build(&store, &opts);
    store.finish();
    let report_ = match result {
        Ok(r) => r,
        Err(e) => {
            progress.finish();
            let code = match e {
                BuildError::Io(_) => FAILED,
                _ => BAD_INPUT,
            };
            report(e);
            return code;
        }
    };
    progress.finish();
    let code = finish_build(args, &cache, report_, start);
    // The process ends now: skip freeing a large graph (a measurable part of a no-op build).
    std::mem::forget(session);
    code
}

/// Prints a build's warnings, summary and counts; returns the exit code.
fn finish_build(args: &Cli, cache: &LocalCache, report_: BuildReport, start: Instant) -> u8 {
    for w in &report_.warnings {
        eprintln!("warning: {w}");
    }
    if let Err(code) = write_summary(args, &report_) {
        return code;
    }
    let (built, cached, failed, skipped) = (
        report_.count(Status::Built),
        report_.count(Status::Cached) + report_.count(Status::RemoteCached),
        report_.count(Status::Failed),
        report_.count(Status::Skipped),
    );
    eprintln!(
        "{} actions: {built} built, {cached} cached, {failed} failed, {skipped} skipped; {} files written, {} removed in {:.2}s",
        report_.total(),
        report_.files_written,
        report_.files_removed,
        start.elapsed().as_secs_f64()
    );
    tracing::debug!(
        files_stat = report_.files_stat,
        files_read = report_.files_read,
        "input files"
    );
    let _ = cache.maybe_gc();
    let code = if report_.failed() { FAILED } else { OK };
    std::mem::forget(report_);
    code
}

/// Writes the summary to `--summary FILE` and, with `--json`, to stdout.
pub(crate) fn write_summary(args: &Cli, report_: &BuildReport) -> Result<(), u8> {
    let summary =
        (args.global.json || args.global.summary.is_some()).then(|| report_.summary_chunks());
    let write_all = |w: &mut dyn Write, chunks: &[std::borrow::Cow<'_, [u8]>]| {
        chunks.iter().try_for_each(|c| w.write_all(c))
    };
    if let (Some(file), Some(chunks)) = (&args.global.summary, &summary) {
        let written = std::fs::File::create(file).and_then(|mut f| write_all(&mut f, chunks));
        if let Err(e) = written {
            eprintln!("error: cannot write summary `{}`: {e}", file.display());
            return Err(FAILED);
        }
    }
    if let (true, Some(chunks)) = (args.global.json, &summary) {
        let _ = write_all(&mut std::io::stdout().lock(), chunks);
    }
    Ok(())
}

/// Progress on stderr: a bar on terminals, failures as they happen.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    failures: Mutex<Vec<String>>,
}

impl Progress {
    pub(crate) fn new(enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::with_draw_target(
                None,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} {wide_msg}",
            ) {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        Progress {
            bar,
            failures: Mutex::new(Vec::new()),
        }
    }
    pub(crate) fn start(&self, n: usize) {
        if let Some(b) = &self.bar {
            b.set_length(n as u64);
        }
    }
    pub(crate) fn outcome(&self, o: &Outcome) {
        if let Some(b) = &self.bar {
            b.inc(1);
            if o.status == Status::Built {
                b.set_message(o.target.clone());
            }
        }
        if o.status == Status::Failed {
            let msg = format!(
                "error: `{}` failed: {}",
                o.target,
                o.error.as_deref().unwrap_or("unknown error")
            );
            match &self.bar {
                Some(b) => b.println(&msg),
                None => eprintln!("{msg}"),
            }
            if let Ok(mut f) = self.failures.lock() {
                f.push(msg);
            }
        }
    }
    pub(crate) fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn template_cmd(t: &TemplateCmd) -> u8 {
    let (name, chart) = match t.args.as_slice() {
        [chart] => (t.name.clone(), chart.clone()),
        [name, chart] => (Some(name.clone()), chart.clone()),
        _ => {
            eprintln!("error: expected `wayfinder template [NAME] CHART`");
            return BAD_INPUT;
        }
    };
    let args = TemplateArgs {
        chart: PathBuf::from(chart),
        release: name,
        namespace: t.namespace.clone(),
        values_files: t.values.clone(),
        set: t.set.clone(),
        set_string: t.set_string.clone(),
        set_file: t.set_file.clone(),
        set_json: t.set_json.clone(),
        kube_version: t.kube_version.clone(),
        api_versions: t.api_versions.clone(),
        no_hooks: t.no_hooks,
        include_crds: t.include_crds,
        skip_tests: t.skip_tests,
        show_only: t.show_only.clone(),
    };
    match template(&args) {
        Ok(text) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            OK
        }
        Err(e) => {
            let code = match e {
                TemplateError::Input(_) => BAD_INPUT,
                TemplateError::Render(_) => FAILED,
            };
            eprintln!("Error: {e}");
            code
        }
    }
}

fn explain_cmd(args: &Cli, target: &str) -> u8 {
    let (root, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    if let Err(e) = session.check_target(&session.plan(), target) {
        report(e);
        return BAD_INPUT;
    }
    let e = explain(&root, &cache, target);
    if args.global.json {
        print_json(&e.to_json());
    } else {
        print!("{e}");
    }
    OK
}

fn query_cmd(args: &Cli, q: &QueryCmd) -> u8 {
    let (_, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let _ = session.save(&cache);
    let list: Vec<String> = match q {
        QueryCmd::Deps { target } | QueryCmd::Rdeps { target } => {
            let plan = session.plan();
            if let Err(e) = session.check_target(&plan, target) {
                report(e);
                return BAD_INPUT;
            }
            let v = if matches!(q, QueryCmd::Deps { .. }) {
                plan.graph.deps(target)
            } else {
                plan.graph.rdeps(target)
            };
            v.into_iter().map(str::to_string).collect()
        }
        QueryCmd::Affected { since } => match session.affected_since(since) {
            Ok(v) => v,
            Err(e) => {
                report(e);
                return BAD_INPUT;
            }
        },
    };
    if args.global.json {
        print_json(&serde_json::json!(list));
    } else {
        let mut out = std::io::stdout().lock();
        for t in list {
            let _ = writeln!(out, "{t}");
        }
    }
    OK
}

fn graph_cmd(args: &Cli, format: GraphFormat) -> u8 {
    let (_, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let _ = session.save(&cache);
    match (format, args.global.json) {
        (GraphFormat::Json, _) | (_, true) => print_json(&session.graph_json()),
        (GraphFormat::Dot, false) => print!("{}", session.plan().graph.to_dot()),
    }
    OK
}

/// `5G`, `500M`, `10k`, or bytes.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => {
            let mult = match s[i..]
                .to_ascii_lowercase()
                .trim_end_matches('b')
                .trim_end_matches('i')
            {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1u64 << 40,
                _ => return None,
            };
            (&s[..i], mult)
        }
        None => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

fn cache_cmd(args: &Cli, cmd: &CacheCmd) -> u8 {
    let root = find_root(Path::new(".")).ok();
    let cache = match open_cache(args, root.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    match cmd {
        CacheCmd::Stats => {
            let s = cache.stats();
            let r = wayfinder_cache::RemoteStats::load(&cache);
            if args.global.json {
                print_json(&serde_json::json!({
                    "dir": cache.root().display().to_string(),
                    "blobs": s.blobs, "blob_bytes": s.blob_bytes,
                    "actions": s.actions, "action_bytes": s.action_bytes,
                    "state_bytes": s.state_bytes, "tmp_files": s.tmp_files,
                    "total_bytes": s.total_bytes(),
                    "remote": {
                        "builds": r.builds, "lookups": r.lookups, "hits": r.hits,
                        "hit_rate": r.hit_rate(), "bytes_down": r.bytes_down,
                        "bytes_up": r.bytes_up, "errors": r.errors, "rejected": r.rejected,
                    },
                }));
            } else {
                println!("cache:   {}", cache.root().display());
                println!("blobs:   {} ({} bytes)", s.blobs, s.blob_bytes);
                println!("actions: {} ({} bytes)", s.actions, s.action_bytes);
                println!("state:   {} bytes", s.state_bytes);
                println!("total:   {} bytes", s.total_bytes());
                for line in crate::remote::stats_lines(&cache) {
                    println!("{line}");
                }
            }
            OK
        }
        CacheCmd::Gc { max_size } => {
            let max = match max_size.as_deref().map(parse_size) {
                None => DEFAULT_MAX_SIZE,
                Some(Some(n)) => n,
                Some(None) => {
                    eprintln!("error: invalid size `{}`\n  help: use a number with an optional unit, such as `500M` or `5G`", max_size.as_deref().unwrap_or(""));
                    return BAD_INPUT;
                }
            };
            let r = cache.gc(max);
            if args.global.json {
                print_json(&serde_json::json!({
                    "removed_entries": r.removed_entries, "removed_bytes": r.removed_bytes,
                    "removed_tmp": r.removed_tmp, "remaining_bytes": r.remaining_bytes,
                }));
            } else {
                println!(
                    "removed {} entries ({} bytes) and {} temp files; {} bytes remain",
                    r.removed_entries, r.removed_bytes, r.removed_tmp, r.remaining_bytes
                );
            }
            OK
        }
        CacheCmd::Verify { repair } => {
            let r = cache.verify(*repair);
            if args.global.json {
                print_json(&serde_json::json!({
                    "checked": r.checked,
                    "corrupt": r.corrupt.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
                    "repaired": *repair,
                }));
            } else {
                println!("checked {} entries, {} corrupt", r.checked, r.corrupt.len());
                for p in &r.corrupt {
                    println!("corrupt: {}", p.display());
                }
            }
            if r.corrupt.is_empty() || *repair {
                OK
            } else {
                FAILED
            }
        }
    }
}

fn init_cmd(dir: Option<&Path>, name: Option<&str>) -> u8 {
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = name.map(str::to_string).unwrap_or_else(|| {
        std::fs::canonicalize(&dir)
            .ok()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "platform".into())
    });
    match init_workspace(&dir, &name) {
        Ok(files) => {
            for f in files {
                eprintln!("created {f}");
            }
            eprintln!("next: `wayfinder build` renders the fleet into `out/`");
            OK
        }
        Err(e) => {
            report(e);
            BAD_INPUT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5G"), Some(5 << 30));
        assert_eq!(parse_size("500M"), Some(500 << 20));
        assert_eq!(parse_size("10KiB"), Some(10 << 10));
        assert_eq!(parse_size("123"), Some(123));
        assert_eq!(parse_size("x"), None);
    }
}
