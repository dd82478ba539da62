//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Wayfinder: a build system for Kubernetes fleets.
#[derive(Parser, Debug)]
#[command(name = "wayfinder", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Args, Debug, Clone)]
pub(crate) struct Global {
    /// Run as if started in DIR
    #[arg(short = 'C', id = "directory", value_name = "DIR", global = true)]
    pub(crate) directory: Option<PathBuf>,
    /// Parallel jobs (default: one per core)
    #[arg(short = 'j', long, value_name = "N", global = true)]
    pub(crate) jobs: Option<usize>,
    /// Print a machine-readable result on stdout
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Write the build summary (JSON) to FILE
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) summary: Option<PathBuf>,
    /// Cache directory (WAYFINDER_CACHE_DIR takes precedence)
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) cache_dir: Option<PathBuf>,
    /// More logging (-v: debug, -vv: trace); RUST_LOG overrides
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// Remote cache: `http(s)://…` (Bazel HTTP cache protocol) or `oci://host/repo`
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) remote_cache: Option<String>,
    /// Do not use the remote cache, even if `workspace.toml` names one
    #[arg(long, global = true, conflicts_with = "remote_cache")]
    pub(crate) no_remote_cache: bool,
    /// Read from the remote cache but never write to it (untrusted builds)
    #[arg(long, global = true)]
    pub(crate) remote_read_only: bool,
    /// Treat remote action-cache entries without a valid signature as misses
    /// (the key is WAYFINDER_CACHE_SIGNING_KEY)
    #[arg(long, global = true)]
    pub(crate) require_signed: bool,
}

// Parsed once per run: the size of the `template` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Build targets (all when none given): render every cluster into the output tree
    Build {
        /// Targets or globs: `cluster:prod-*`, `render:CLUSTER/COMPONENT`, `chart:NAME`, `voyage:NAME`
        targets: Vec<String>,
    },
    /// Render a chart like `helm template [NAME] CHART`
    Template(TemplateCmd),
    /// Say which inputs changed between the last two builds of a target
    Explain { target: String },
    /// Query the build graph
    Query {
        #[command(subcommand)]
        query: QueryCmd,
    },
    /// Print the build graph
    Graph {
        #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
        format: GraphFormat,
    },
    /// Inspect and maintain the local cache
    Cache {
        #[command(subcommand)]
        cmd: CacheCmd,
    },
    /// Create a new workspace
    Init {
        /// Directory (default: the current one)
        dir: Option<PathBuf>,
        /// Workspace name (default: the directory name)
        #[arg(long)]
        name: Option<String>,
    },
    /// Validate rendered manifests: schemas, admission policies, structural checks
    Test(crate::test_cmd::TestCmd),
    /// Push voyages (`voyage:NAME`) and cluster renderings (`cluster:NAME`) to a registry
    Push(crate::push::PushCmd),
    /// Show what a change does to the rendered fleet
    Diff(crate::day2::DiffCmd),
    /// Move clusters to another voyage version and show the rendered diff
    Upgrade(crate::day2::UpgradeCmd),
    /// Write the rendered tree into a GitOps repository and commit it
    Publish(crate::day2::PublishCmd),
    /// Commands of the design that are not built yet: they say so and exit 2
    #[command(external_subcommand)]
    Unsupported(Vec<String>),
}

/// Commands of DESIGN §9 that are not implemented yet, with what to use meanwhile.
pub(crate) const NOT_YET: &[(&str, &str)] = &[
    ("promote", "edit the pins station by station meanwhile"),
    ("cluster", "copy an existing cluster directory meanwhile"),
];

#[derive(Subcommand, Debug)]
pub(crate) enum QueryCmd {
    /// Transitive dependencies of a target
    Deps { target: String },
    /// Transitive dependents of a target
    Rdeps { target: String },
    /// Targets whose inputs changed since a git revision
    Affected {
        #[arg(long, value_name = "GIT_REV")]
        since: String,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum CacheCmd {
    /// Entry counts and sizes
    Stats,
    /// Remove least recently used entries down to a size cap
    Gc {
        /// Size cap, such as `5G`, `500M` (default 5G)
        #[arg(long, value_name = "SIZE")]
        max_size: Option<String>,
    },
    /// Check every entry against its digest
    Verify {
        /// Remove corrupt entries
        #[arg(long)]
        repair: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum GraphFormat {
    Dot,
    Json,
}

/// `helm template` flags.
#[derive(Args, Debug)]
pub(crate) struct TemplateCmd {
    /// `[NAME] CHART`, as `helm template`
    #[arg(num_args = 1..=2, required = true, value_name = "[NAME] CHART")]
    pub(crate) args: Vec<String>,
    /// Values files, merged in order
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub(crate) values: Vec<PathBuf>,
    /// Release name
    #[arg(long = "name", value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Release namespace
    #[arg(short = 'n', long)]
    pub(crate) namespace: Option<String>,
    /// Kubernetes version for .Capabilities
    #[arg(long, value_name = "VERSION")]
    pub(crate) kube_version: Option<String>,
    /// Extra API versions for .Capabilities
    #[arg(short = 'a', long = "api-versions", value_name = "VERSION")]
    pub(crate) api_versions: Vec<String>,
    #[arg(long)]
    pub(crate) no_hooks: bool,
    #[arg(long)]
    pub(crate) include_crds: bool,
    #[arg(long)]
    pub(crate) skip_tests: bool,
    /// Only show manifests rendered from these templates
    #[arg(short = 's', long = "show-only", value_name = "PATH")]
    pub(crate) show_only: Vec<String>,
    #[arg(long = "set", value_name = "K=V")]
    pub(crate) set: Vec<String>,
    #[arg(long = "set-string", value_name = "K=V")]
    pub(crate) set_string: Vec<String>,
    #[arg(long = "set-file", value_name = "K=PATH")]
    pub(crate) set_file: Vec<String>,
    #[arg(long = "set-json", value_name = "K=JSON")]
    pub(crate) set_json: Vec<String>,
}
