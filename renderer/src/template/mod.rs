//! Go `text/template`: lexer → parser → AST → evaluator, with Helm's engine functions.
//!
//! Contract used by `engine`:
//! - `TemplateSet::new()`, `parse(name, source)` adds a template and its `define`s (later
//!   definitions of the same name replace earlier ones, as in Go);
//! - `execute(name, dot, &ExecOptions)` runs one template and returns its text (with Go's
//!   `<no value>` for missing values: the caller strips it, as Helm does).
//! - A parsed set is immutable, `Send + Sync`, and can be cached per chart digest.

use crate::value::{FuncCtx, Value};

/// Options of one execution.
#[derive(Default)]
pub struct ExecOptions {
    /// `missingkey=error` (Helm's `--strict`); default is `missingkey=zero`.
    pub strict: bool,
}

/// A template error in Go's format: `template: NAME:LINE:COL: executing "NAME" at <.X>: …`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
}

/// A set of parsed templates sharing their `define`s.
#[derive(Default)]
pub struct TemplateSet {}

impl TemplateSet {
    pub fn new() -> TemplateSet {
        TemplateSet {}
    }

    /// Parses `source` as the template `name`.
    pub fn parse(&mut self, name: &str, source: &str) -> Result<(), TemplateError> {
        let _ = (name, source);
        Err(TemplateError {
            message: "template engine not implemented yet".into(),
        })
    }

    /// Executes template `name` with `dot` as `.`; plain functions see `ctx`.
    pub fn execute(
        &self,
        name: &str,
        dot: Value,
        ctx: &FuncCtx,
        opts: &ExecOptions,
    ) -> Result<String, TemplateError> {
        let _ = (name, dot, ctx, opts);
        Err(TemplateError {
            message: "template engine not implemented yet".into(),
        })
    }
}
