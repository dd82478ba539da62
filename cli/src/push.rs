//! `wayfinder push`: voyages and cluster renderings to an OCI registry (DESIGN §5).

use clap::Args;

use crate::cli::Cli;

/// `wayfinder push [TARGET…]`.
#[derive(Args, Debug)]
pub(crate) struct PushCmd {
    /// `voyage:NAME` or `cluster:NAME` targets (globs allowed); default: every voyage
    pub(crate) targets: Vec<String>,
}

pub(crate) fn run(_args: &Cli, _cmd: &PushCmd) -> u8 {
    eprintln!("error: `wayfinder push` is not supported yet");
    crate::commands::BAD_INPUT
}
