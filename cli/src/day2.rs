//! Day-2 commands (DESIGN §7): `diff`, `upgrade`, `publish`.

use clap::Args;

use crate::cli::Cli;

/// `wayfinder diff [TARGET…] [--against GIT_REV|DIR]`.
#[derive(Args, Debug)]
pub(crate) struct DiffCmd {
    /// Targets or globs; default: every cluster
    pub(crate) targets: Vec<String>,
}

/// `wayfinder upgrade CLUSTER… --to VOYAGE@VERSION`.
#[derive(Args, Debug)]
pub(crate) struct UpgradeCmd {
    pub(crate) clusters: Vec<String>,
}

/// `wayfinder publish --git PATH_OR_URL --branch B`.
#[derive(Args, Debug)]
pub(crate) struct PublishCmd {}

pub(crate) fn diff(_args: &Cli, _cmd: &DiffCmd) -> u8 {
    not_yet("diff")
}

pub(crate) fn upgrade(_args: &Cli, _cmd: &UpgradeCmd) -> u8 {
    not_yet("upgrade")
}

pub(crate) fn publish(_args: &Cli, _cmd: &PublishCmd) -> u8 {
    not_yet("publish")
}

fn not_yet(name: &str) -> u8 {
    eprintln!("error: `wayfinder {name}` is not supported yet");
    crate::commands::BAD_INPUT
}
