//! `wayfinder push`: voyages and cluster renderings to an OCI registry (DESIGN §5).
//!
//! Builds what the pushes need (never the other way round: `wayfinder build` never pushes),
//! then pushes each artifact; prints one line per push on stderr and, with `--json`, the
//! build summary with one `push:…` action per push (`key`: the manifest and the reference;
//! `inputs.manifest`; `uploads`, `digest`, `reference`).
//! Exit codes: 0 all pushed or unchanged; 1 a build or push failed (registry down, 401, an
//! untrusted TLS certificate: the hint names `--ca-file`…);
//! 2 bad input (no registry configured, bad URL or CA file, a version tag conflict).

use std::path::PathBuf;

use clap::Args;
use wayfinder_engine::Status;
use wayfinder_rules::package::push::{build_targets, push, PushOptions, PushTarget};
use wayfinder_rules::BuildOptions;

use crate::cli::Cli;
use crate::commands::{open_workspace, report, BAD_INPUT, FAILED, OK};

/// `wayfinder push [TARGET…]`.
#[derive(Args, Debug)]
pub(crate) struct PushCmd {
    /// `voyage:NAME` or `cluster:NAME` targets (globs allowed); default: every voyage
    pub(crate) targets: Vec<String>,
    /// Registry URL (`oci://HOST[:PORT]/PREFIX`); default: `[registry] url` of workspace.toml
    #[arg(long, value_name = "URL")]
    pub(crate) registry: Option<String>,
    /// Talk plain HTTP (loopback registries without TLS)
    #[arg(long)]
    pub(crate) plain_http: bool,
    /// Trust this CA (PEM) for the registry's TLS certificate (SSL_CERT_FILE works too)
    #[arg(long, value_name = "FILE")]
    pub(crate) ca_file: Option<PathBuf>,
    /// Overwrite a version tag that already holds different content
    #[arg(long)]
    pub(crate) force: bool,
    /// Build the artifacts and print their digests without contacting the registry
    #[arg(long)]
    pub(crate) dry_run: bool,
}

pub(crate) fn run(args: &Cli, cmd: &PushCmd) -> u8 {
    // Pinned voyages pulled while loading go to the cache directory this command uses.
    if let Ok(root) = crate::commands::root() {
        let config = wayfinder_rules::cache_dir_setting(&root);
        let (dir, _) = wayfinder_cache::resolve_cache_dir(
            args.global.cache_dir.as_deref(),
            config.as_deref(),
            Some(&root),
        );
        wayfinder_rules::package::use_cache_dir(&dir);
    }
    if let Some(ca) = &cmd.ca_file {
        wayfinder_rules::package::use_ca_file(ca);
    }
    let (_, cache, session) = match open_workspace(args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let targets = match PushTarget::select(&session, &cmd.targets) {
        Ok(t) => t,
        Err(e) => {
            report(e);
            return BAD_INPUT;
        }
    };
    let opts = BuildOptions {
        targets: build_targets(&targets),
        jobs: args.global.jobs.unwrap_or(0),
        ..Default::default()
    };
    let built = match session.build(&cache, &opts) {
        Ok(r) => r,
        Err(e) => {
            let code = match e {
                wayfinder_rules::BuildError::Io(_) => FAILED,
                _ => BAD_INPUT,
            };
            report(e);
            return code;
        }
    };
    for o in built.outcomes.iter().filter(|o| o.status == Status::Failed) {
        eprintln!(
            "error: {} failed: {}",
            o.target,
            o.error.as_deref().unwrap_or("unknown error")
        );
    }
    if built.failed() {
        return FAILED;
    }
    let popts = PushOptions {
        registry: cmd.registry.clone(),
        plain_http: cmd.plain_http,
        ca_file: cmd.ca_file.clone(),
        force: cmd.force,
        dry_run: cmd.dry_run,
    };
    let records = match push(&session, &cache, &built.outcomes, &targets, &popts) {
        Ok(r) => r,
        Err(e) => {
            let code = match &e {
                wayfinder_rules::package::push::PushError::Oci(o) if !o.is_bad_input() => FAILED,
                _ => BAD_INPUT,
            };
            report(e);
            return code;
        }
    };
    let mut code = OK;
    let mut uploads = 0;
    for r in &records {
        uploads += r.blobs_uploaded;
        match &r.error {
            Some(e) => {
                eprintln!("{e}");
                eprintln!("error: {} failed", r.target);
                code = code.max(if r.bad_input { BAD_INPUT } else { FAILED });
            }
            None => eprintln!(
                "{} {} → {} ({}): {} blobs uploaded ({} bytes), {} already present in {} ms",
                r.status,
                r.target,
                r.reference,
                r.digest,
                r.blobs_uploaded,
                r.bytes_uploaded,
                r.blobs_present,
                r.duration_ms
            ),
        }
    }
    eprintln!("{} pushes, {uploads} uploads", records.len());
    if args.global.json || args.global.summary.is_some() {
        let mut summary = built.summary_json();
        if let Some(actions) = summary.get_mut("actions").and_then(|a| a.as_array_mut()) {
            actions.extend(records.iter().map(|r| r.to_json()));
        }
        summary["uploads"] = serde_json::json!(uploads);
        if let Some(file) = &args.global.summary {
            let text = serde_json::to_string_pretty(&summary).unwrap_or_default();
            if let Err(e) = std::fs::write(file, text + "\n") {
                eprintln!("error: cannot write summary `{}`: {e}", file.display());
                return FAILED;
            }
        }
        if args.global.json {
            crate::commands::print_json(&summary);
        }
    }
    code
}
