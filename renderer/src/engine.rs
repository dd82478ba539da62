//! A whole chart render, as Helm's `engine.Render` does it for `helm template`.

use std::collections::BTreeMap;

use crate::chart::Chart;
use crate::value::Data;

/// What to render with: release, namespace, capabilities.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    pub release_name: String,
    pub namespace: String,
    /// `.Capabilities.KubeVersion` such as `v1.31.0`; `None` means Helm's default.
    pub kube_version: Option<String>,
    /// Extra `.Capabilities.APIVersions` (added to Helm's defaults).
    pub api_versions: Vec<String>,
    pub is_upgrade: bool,
    pub revision: i64,
    /// `--strict`-like `missingkey=error`.
    pub strict: bool,
}

impl RenderOptions {
    pub fn new(release_name: &str, namespace: &str) -> RenderOptions {
        RenderOptions {
            release_name: release_name.into(),
            namespace: namespace.into(),
            kube_version: None,
            api_versions: Vec::new(),
            is_upgrade: false,
            revision: 1,
            strict: false,
        }
    }
}

/// The raw per-template output of a render, before `helm template` post-processing.
#[derive(Clone, Debug, Default)]
pub struct Rendered {
    /// `<chart>/templates/x.yaml` → text, for every non-partial template (NOTES.txt included).
    pub manifests: BTreeMap<String, String>,
    /// CRD files of the chart and its enabled subcharts, `(path, text)` in Helm's order.
    pub crds: Vec<(String, String)>,
    /// A nondeterministic function (random, uuid, time, keys) ran: the output is not reproducible.
    pub nondeterministic: bool,
}

/// A render failure, with Helm's message.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(wayfinder::render))]
pub struct RenderError {
    pub message: String,
}

/// Renders `chart` with `user_values` (the merged `-f`/`--set` values) like `helm template`.
pub fn render_chart(
    chart: &Chart,
    user_values: &Data,
    opts: &RenderOptions,
) -> Result<Rendered, RenderError> {
    let _ = (chart, user_values, opts);
    Err(RenderError {
        message: "render not implemented yet".into(),
    })
}
