//! `helm template`'s post-processing: split documents, drop empty ones, sort in install order,
//! hooks, `# Source:` comments.

use crate::engine::{RenderError, Rendered};

/// Options of `helm template` output.
#[derive(Clone, Debug, Default)]
pub struct ManifestOptions {
    pub no_hooks: bool,
    pub include_crds: bool,
    /// `--show-only` template paths.
    pub show_only: Vec<String>,
}

/// Exactly what `helm template` prints for a render.
pub fn helm_template_output(r: &Rendered, opts: &ManifestOptions) -> Result<String, RenderError> {
    let _ = (r, opts);
    Err(RenderError {
        message: "manifest output not implemented yet".into(),
    })
}
