//! `wayfinder test`: validation as cached build actions (DESIGN §8).

use clap::Args;

use crate::cli::Cli;

/// `wayfinder test [TARGET…]`.
#[derive(Args, Debug)]
pub(crate) struct TestCmd {
    /// Targets or globs (`cluster:prod-*`); default: every cluster
    pub(crate) targets: Vec<String>,
}

pub(crate) fn run(_args: &Cli, _cmd: &TestCmd) -> u8 {
    eprintln!("error: `wayfinder test` is not supported yet");
    crate::commands::BAD_INPUT
}
