//! Day-2 commands (DESIGN §7): `diff`, `upgrade`, `publish`. Each parses its flags, calls
//! `wayfinder_rules::day2`, prints data on stdout and progress on stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use wayfinder_engine::Outcome;
use wayfinder_rules::day2::{
    self, build_and_read, diff_trees, format, Day2Error, FleetDiff, PublishOptions, PublishOutcome,
    RenderedTree, Selection,
};
use wayfinder_rules::{BuildOptions, Session};

use crate::cli::Cli;
use crate::commands::{open_workspace, print_json, report, Progress, BAD_INPUT, FAILED, OK};
use crate::remote::BuildStore;

/// How a diff is printed.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DiffFormat {
    /// A unified diff with a summary per cluster
    Text,
    /// A pull-request comment: one collapsible section per cluster
    Markdown,
    /// Machine-readable
    Json,
}

/// Output flags shared by `diff` and `upgrade`.
#[derive(Args, Debug)]
pub(crate) struct DiffOutput {
    /// Only the summary: clusters changed, objects added, removed and changed
    #[arg(long)]
    pub(crate) stat: bool,
    /// Output format (`--json` is `--format json`)
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub(crate) format: DiffFormat,
}

/// `wayfinder diff [TARGET…] [--against GIT_REV|DIR]`.
#[derive(Args, Debug)]
pub(crate) struct DiffCmd {
    /// Clusters to compare: names or globs, `cluster:NAME`, `render:CLUSTER/COMPONENT`;
    /// default: every cluster
    pub(crate) targets: Vec<String>,
    /// The other state: a git revision (built in a checkout sharing the cache) or a
    /// directory of rendered output
    #[arg(long, value_name = "GIT_REV|DIR", default_value = "HEAD")]
    pub(crate) against: String,
    #[command(flatten)]
    pub(crate) output: DiffOutput,
    /// Exit with 1 when the rendered output differs
    #[arg(long)]
    pub(crate) exit_code: bool,
}

/// `wayfinder upgrade CLUSTER… | --selector KEY=VALUE --to VOYAGE@VERSION`.
#[derive(Args, Debug)]
pub(crate) struct UpgradeCmd {
    /// Clusters: names or globs
    pub(crate) clusters: Vec<String>,
    /// Clusters whose labels match (repeat to require several)
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) selector: Vec<String>,
    /// The new pin
    #[arg(long, value_name = "VOYAGE@VERSION", required = true)]
    pub(crate) to: String,
    /// Commit the change on this new git branch (and switch to it)
    #[arg(long, value_name = "NAME")]
    pub(crate) branch: Option<String>,
    #[command(flatten)]
    pub(crate) output: DiffOutput,
}

/// `wayfinder publish --git PATH_OR_URL --branch B [--path PREFIX]`.
#[derive(Args, Debug)]
pub(crate) struct PublishCmd {
    /// The GitOps repository: a path or a URL git can push to
    #[arg(long = "git", value_name = "PATH_OR_URL")]
    pub(crate) git: String,
    /// The branch to commit to (created when missing)
    #[arg(long, value_name = "B")]
    pub(crate) branch: String,
    /// Where `clusters/` goes in the repository (default: the top)
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub(crate) path: String,
    /// Push attempts when other publishers move the branch meanwhile
    #[arg(long, value_name = "N", default_value_t = day2::DEFAULT_ATTEMPTS)]
    pub(crate) attempts: usize,
}

/// Reports a day-2 error; returns its exit code.
fn fail(e: Day2Error) -> u8 {
    let code = if e.is_bad_input() { BAD_INPUT } else { FAILED };
    report(e);
    code
}

/// Runs `f` with build options whose progress goes to a fresh bar.
fn with_progress<T>(args: &Cli, f: impl FnOnce(&BuildOptions<'_>) -> T) -> T {
    let progress = Progress::new(!args.global.json);
    let on_outcome = |o: &Outcome| progress.outcome(o);
    let on_start = |n: usize| progress.start(n);
    let opts = BuildOptions {
        targets: Vec::new(),
        jobs: args.global.jobs.unwrap_or(0),
        on_outcome: Some(&on_outcome),
        on_start: Some(&on_start),
        tests: false,
    };
    let r = f(&opts);
    progress.finish();
    r
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Prints a diff in the asked format.
fn print_diff(args: &Cli, out: &DiffOutput, d: &FleetDiff, title: &str, against: &str) {
    let fmt = if args.global.json {
        DiffFormat::Json
    } else {
        out.format
    };
    let mut stdout = std::io::stdout().lock();
    match fmt {
        DiffFormat::Json => {
            let mut v = format::json(d, against);
            if out.stat {
                strip_patches(&mut v);
            }
            drop(stdout);
            print_json(&v);
        }
        DiffFormat::Markdown if out.stat => {
            let _ = write!(stdout, "### {title}\n\n```\n{}```\n", format::stat_text(d));
        }
        DiffFormat::Markdown => {
            let _ = stdout.write_all(format::markdown(d, title, format::MARKDOWN_LIMIT).as_bytes());
        }
        DiffFormat::Text if out.stat => {
            let _ = stdout.write_all(format::stat_text(d).as_bytes());
        }
        DiffFormat::Text => {
            let _ = stdout.write_all(format::text(d, color()).as_bytes());
            drop(stdout);
            eprintln!("{}", d.stat());
        }
    }
}

fn strip_patches(v: &mut serde_json::Value) {
    if let Some(clusters) = v.get_mut("clusters").and_then(|c| c.as_array_mut()) {
        for c in clusters {
            if let Some(files) = c.get_mut("files").and_then(|f| f.as_array_mut()) {
                for f in files {
                    if let Some(m) = f.as_object_mut() {
                        m.remove("diff");
                    }
                }
            }
        }
    }
}

pub(crate) fn diff(args: &Cli, cmd: &DiffCmd) -> u8 {
    let sel = match Selection::parse(&cmd.targets) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let (root, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let store = match BuildStore::open(args, &session.ws.decl, &cache) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = diff_sides(args, cmd, &root, &session, &store, &sel);
    store.finish();
    let (d, label) = match result {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    print_diff(
        args,
        &cmd.output,
        &d,
        &format!("Rendered diff against {label}"),
        &cmd.against,
    );
    let _ = cache.maybe_gc();
    if cmd.exit_code && !d.is_empty() {
        FAILED
    } else {
        OK
    }
}

/// Renders both sides and compares them; returns the diff and a label for the old side.
fn diff_sides(
    args: &Cli,
    cmd: &DiffCmd,
    root: &Path,
    session: &Session,
    store: &BuildStore<'_>,
    sel: &Selection,
) -> Result<(FleetDiff, String), Day2Error> {
    let mut known = day2::cluster_names(session);
    let against_dir = Path::new(&cmd.against);
    let (old, label): (RenderedTree, String) = if against_dir.is_dir() {
        let t = day2::read_dir_tree(against_dir, sel)?;
        (t, format!("`{}`", cmd.against))
    } else {
        let (t, names, commit) = with_progress(args, |opts| {
            day2::render_revision(root, &cmd.against, store, opts, sel)
        })?;
        known.extend(names);
        let short = commit.get(..12).unwrap_or(&commit).to_string();
        (t, format!("`{}` ({short})", cmd.against))
    };
    known.extend(old.clusters.keys().cloned());
    sel.check(&known)?;
    let new = with_progress(args, |opts| {
        build_and_read(session, store, opts, sel, "the working tree")
    })?;
    Ok((diff_trees(&old, &new), label))
}

pub(crate) fn upgrade(args: &Cli, cmd: &UpgradeCmd) -> u8 {
    let (root, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let store = match BuildStore::open(args, &session.ws.decl, &cache) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = upgrade_in(args, cmd, &root, &session, &store);
    store.finish();
    code
}

fn upgrade_in(
    args: &Cli,
    cmd: &UpgradeCmd,
    root: &Path,
    session: &Session,
    store: &BuildStore<'_>,
) -> u8 {
    // 1. What changes, checked before anything is written.
    let plan = match day2::parse_pin(&cmd.to)
        .and_then(|(voyage, _)| {
            day2::select_clusters(&session.ws, &cmd.clusters, &cmd.selector, &voyage)
        })
        .and_then(|cs| day2::plan_upgrade(&session.ws, &cs, &cmd.to))
    {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    for c in &plan.already {
        eprintln!("{c} already pins {}", plan.to);
    }
    if plan.edits.is_empty() {
        eprintln!("nothing to upgrade");
        return OK;
    }
    let files = plan.files();
    match day2::preflight(root, &files, cmd.branch.as_deref()) {
        Ok(true) => {}
        Ok(false) => eprintln!(
            "warning: the workspace is not in a git repository: uncommitted changes cannot be checked"
        ),
        Err(e) => return fail(e),
    }
    let names: Vec<String> = plan.edits.iter().map(|e| e.cluster.clone()).collect();
    let sel = match Selection::parse(&names) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    // 2. The rendering before, the new pins, the rendering after.
    let before = match with_progress(args, |o| {
        build_and_read(session, store, o, &sel, "the workspace before the upgrade")
    }) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if let Err(e) = plan.apply(root) {
        return fail(e);
    }
    let after = match Session::open(root, store) {
        Ok(upgraded) => with_progress(args, |o| {
            build_and_read(&upgraded, store, o, &sel, "the upgraded workspace")
        }),
        Err(e) => {
            // An unknown version (or another problem the new pins cause): put the files back.
            plan.revert(root);
            report(e);
            eprintln!("the pins were not changed");
            return BAD_INPUT;
        }
    };
    let after = match after {
        Ok(t) => t,
        Err(e) => {
            plan.revert(root);
            // Put the output tree back as it was, too.
            let _ = with_progress(args, |o| {
                build_and_read(session, store, o, &sel, "the workspace")
            });
            eprintln!("the pins were not changed");
            return fail(e);
        }
    };
    for e in &plan.edits {
        eprintln!(
            "{}: {} -> {} ({})",
            e.cluster,
            e.from.as_deref().unwrap_or("no pin"),
            plan.to,
            e.file
        );
    }
    let d = diff_trees(&before, &after);
    print_diff(
        args,
        &cmd.output,
        &d,
        &format!("Upgrade to `{}`", plan.to),
        "the workspace before the upgrade",
    );
    // 3. The branch.
    if let Some(branch) = &cmd.branch {
        let message = plan.commit_message(&d);
        match day2::commit_upgrade(root, &files, branch, &message) {
            Ok(sha) => eprintln!(
                "created branch `{branch}` with commit {}",
                sha.get(..12).unwrap_or(&sha)
            ),
            Err(e) => return fail(e),
        }
    }
    OK
}

pub(crate) fn publish(args: &Cli, cmd: &PublishCmd) -> u8 {
    let (root, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let store = match BuildStore::open(args, &session.ws.decl, &cache) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let built = with_progress(args, |o| {
        day2::build_selected(&session, &store, o, &Selection::default(), "the workspace")
            .map(|_| ())
    });
    store.finish();
    if let Err(e) = built {
        eprintln!("nothing was published");
        return fail(e);
    }
    let on_retry = |n: usize, why: &str| {
        eprintln!("push attempt {n} rejected ({why}): retrying on the new tip");
    };
    let opts = PublishOptions {
        url: cmd.git.clone(),
        branch: cmd.branch.clone(),
        prefix: cmd.path.clone(),
        attempts: cmd.attempts,
        source_root: &root,
        source_name: session.ws.decl.name.clone(),
        out_dir: session.out_dir(),
        on_retry: Some(&on_retry),
    };
    let outcome = match day2::publish(&opts) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    match &outcome {
        PublishOutcome::Unchanged { .. } => {
            eprintln!("`{}` already holds this rendering: no commit", cmd.branch)
        }
        PublishOutcome::Committed {
            commit,
            attempts,
            files,
        } => eprintln!(
            "published {files} files to `{}` on `{}`: commit {}{}",
            day2::redact(&cmd.git),
            cmd.branch,
            commit.get(..12).unwrap_or(commit),
            if *attempts > 1 {
                format!(" (after {attempts} attempts)")
            } else {
                String::new()
            }
        ),
    }
    if args.global.json {
        let v = match outcome {
            PublishOutcome::Unchanged { tip } => {
                serde_json::json!({ "changed": false, "commit": tip })
            }
            PublishOutcome::Committed {
                commit,
                attempts,
                files,
            } => serde_json::json!({
                "changed": true, "commit": commit, "attempts": attempts, "files": files,
            }),
        };
        print_json(&v);
    }
    let _ = cache.maybe_gc();
    OK
}
