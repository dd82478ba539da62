//! `wayfinder template`: a drop-in for `helm template` on one chart.

use std::path::PathBuf;

use wayfinder_render::manifest::{helm_template_output, ManifestOptions};
use wayfinder_render::{Data, RenderOptions};

/// `helm template`'s arguments.
#[derive(Debug, Clone, Default)]
pub struct TemplateArgs {
    pub chart: PathBuf,
    /// `release-name` when `None`, as Helm.
    pub release: Option<String>,
    pub namespace: Option<String>,
    pub values_files: Vec<PathBuf>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    pub set_json: Vec<String>,
    pub kube_version: Option<String>,
    pub api_versions: Vec<String>,
    pub no_hooks: bool,
    pub include_crds: bool,
    pub skip_tests: bool,
    pub show_only: Vec<String>,
}

/// A failure, with Helm's wording where Helm has one.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TemplateError {
    /// Bad arguments or input files (exit code 2).
    #[error("{0}")]
    #[diagnostic(code(wayfinder::template::input))]
    Input(String),
    /// The chart failed to render (exit code 1).
    #[error("{0}")]
    #[diagnostic(code(wayfinder::template::render))]
    Render(String),
}

/// Renders like `helm template` and returns what it prints on stdout.
pub fn template(args: &TemplateArgs) -> Result<String, TemplateError> {
    let chart =
        wayfinder_render::load_chart(&args.chart).map_err(|e| TemplateError::Input(e.message))?;
    // Helm's order: -f files, then --set-json, --set, --set-string, --set-file.
    let mut values = Data::empty_map();
    for f in &args.values_files {
        let bytes = std::fs::read(f)
            .map_err(|e| TemplateError::Input(format!("open {}: {e}", f.display())))?;
        let data = wayfinder_render::chart::load_values(&bytes).map_err(|e| {
            TemplateError::Input(format!("failed to parse {}: {}", f.display(), e.message))
        })?;
        wayfinder_render::chart::merge_values(&mut values, data);
    }
    let mut sets = Data::empty_map();
    for s in &args.set_json {
        wayfinder_render::strvals::parse_set_json(s, &mut sets).map_err(|e| {
            TemplateError::Input(format!("failed parsing --set-json data {s}: {e}"))
        })?;
    }
    for s in &args.set {
        wayfinder_render::strvals::parse_set(s, &mut sets)
            .map_err(|e| TemplateError::Input(format!("failed parsing --set data: {e}")))?;
    }
    for s in &args.set_string {
        wayfinder_render::strvals::parse_set_string(s, &mut sets)
            .map_err(|e| TemplateError::Input(format!("failed parsing --set-string data: {e}")))?;
    }
    let read = |p: &str| -> Result<String, String> {
        std::fs::read_to_string(p).map_err(|e| format!("open {p}: {e}"))
    };
    for s in &args.set_file {
        wayfinder_render::strvals::parse_set_file(s, &mut sets, &read)
            .map_err(|e| TemplateError::Input(format!("failed parsing --set-file data: {e}")))?;
    }
    wayfinder_render::chart::merge_values(&mut values, sets);
    let mut opts = RenderOptions::new(
        args.release.as_deref().unwrap_or("release-name"),
        args.namespace.as_deref().unwrap_or("default"),
    );
    opts.kube_version = args.kube_version.clone();
    opts.api_versions = args.api_versions.clone();
    let rendered = wayfinder_render::render_chart(&chart, &values, &opts)
        .map_err(|e| TemplateError::Render(e.message))?;
    let mopts = ManifestOptions {
        no_hooks: args.no_hooks,
        include_crds: args.include_crds,
        show_only: args.show_only.clone(),
        skip_tests: args.skip_tests,
    };
    helm_template_output(&rendered, &mopts).map_err(|e| TemplateError::Render(e.message))
}
