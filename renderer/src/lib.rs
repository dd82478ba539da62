//! `wayfinder-render`: renders Helm charts in process, byte-identical to Helm.
//!
//! The stages, one per module:
//!
//! 1. `chart`: load a chart (directory or `.tgz`), its subcharts and `values.yaml`;
//!    process dependencies (conditions, tags, aliases, import-values); coalesce values;
//!    validate against `values.schema.json`.
//! 2. `template`: Go `text/template` (lexer → parser → AST → evaluator), with Helm's
//!    engine functions (`include`, `tpl`, `template`).
//! 3. `funcs`: Sprig and Helm's plain functions.
//! 4. `yaml`, `json`: YAML and JSON exactly as Go's libraries read and write them.
//! 5. `engine`: a whole chart render (Helm's `engine.Render`): the top-level objects
//!    (`.Values`, `.Release`, `.Chart`, `.Capabilities`, `.Files`, `.Template`).
//! 6. `manifest`: `helm template`'s post-processing: split, drop empty, sort in install order,
//!    hooks, `# Source:` comments.
//!
//! ```no_run
//! use wayfinder_render::{load_chart, render_chart, RenderOptions};
//! let chart = load_chart(std::path::Path::new("charts/web")).unwrap();
//! let opts = RenderOptions::new("web", "default");
//! let out = render_chart(&chart, &wayfinder_render::Data::empty_map(), &opts).unwrap();
//! for (path, text) in &out.manifests { println!("{path}: {} bytes", text.len()); }
//! ```

pub mod chart;
pub mod engine;
pub mod fmt;
pub mod funcs;
pub mod json;
pub mod manifest;
pub mod strvals;
pub mod template;
pub mod value;
pub mod yaml;

pub use chart::{load_chart, Chart};
pub use engine::{render_chart, RenderError, RenderOptions, Rendered};
pub use value::{Data, Value};
