//! Go `text/template`: lexer → parser → AST → evaluator, with Helm's engine functions.
//!
//! Contract used by `engine`:
//! - `TemplateSet::new()`, `parse(name, source)` adds a template and its `define`s (later
//!   definitions of the same name replace earlier ones, as in Go; an empty definition never
//!   replaces a non-empty one);
//! - `execute(name, dot, &ExecOptions)` runs one template and returns its text (with Go's
//!   `<no value>` for missing values: the caller strips it, as Helm does).
//! - A parsed set is immutable, `Send + Sync`, and can be cached per chart digest.
//!
//! The flow: [`lexer`] turns a source into tokens, [`parser`] builds [`parser::Tree`]s of
//! [`ast`] nodes (resolving functions through `crate::funcs::lookup` and the builtins),
//! `eval` walks a tree against a `Value`, printing with [`crate::fmt`]. Go's builtin
//! functions (`eq`, `index`, `printf`, …) live in `builtins`; `include`, `tpl` and the
//! `template` action are in the evaluator because they need the set.
//!
//! Errors keep Go's text and Go's error chain (what `errors.Unwrap` walks), so the engine can
//! reformat them exactly as Helm v4's `reformatExecErrorMsg` does. A function error marked
//! `raw` (`fail`, `required`) is wrapped in `HELM_ERR_START…HELM_ERR_END` as Helm's own
//! functions do, so Helm's `execution error at (…): MSG` form can be recovered.
//!
//! Known differences from Go/Helm (for `COMPATIBILITY.md`):
//! - `chartutil.Values` methods (`AsMap`, `YAML`, `Table`, `PathValue`) work on any map that has
//!   no key of that name (Go: only `.Values` and `.Template`, and before keys);
//! - a missing key of a Go map with a non-interface element type (a nil `map[string]string`
//!   field of an object) gives no value rather than that type's zero value;
//! - nesting is bounded: 200 levels of control structures/parentheses when parsing, and a
//!   native-stack budget for nested templates (`set_stack_budget`; Go allows 100000 levels);
//! - complex constants are rejected; `\x`/octal escapes above 0x7f give the code point, not a
//!   raw byte; `unicode.IsPrint` (used by `%q`) is approximated;
//! - argument conversion errors of plain functions are reported at the command, not at the
//!   argument (the column may differ).

pub mod ast;
mod builtins;
mod eval;
pub mod lexer;
pub mod parser;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::value::{FuncCtx, Value};
use parser::Tree;

/// Options of one execution.
#[derive(Default, Clone)]
pub struct ExecOptions {
    /// `missingkey=error` (Helm's `--strict`); default is `missingkey=zero`.
    pub strict: bool,
}

/// How much native stack nested templates may use by default (safe on any thread).
pub const DEFAULT_STACK_BUDGET: usize = 1 << 20;

/// A template error in Go's format: `template: NAME:LINE:COL: executing "NAME" at <.X>: …`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub message: String,
    /// Go's error chain as `errors.Unwrap` walks it, starting with `message` itself. Links
    /// with the same text are listed once (Go's `ExecError` and the error it wraps print the
    /// same). Helm v4's `reformatExecErrorMsg` inspects every link.
    pub chain: Vec<String>,
    /// True for a `template.ExecError` (execution), false for parse and lookup errors.
    pub exec: bool,
}

impl TemplateError {
    pub(crate) fn plain(message: String) -> TemplateError {
        TemplateError {
            chain: vec![message.clone()],
            message,
            exec: false,
        }
    }
}

/// The name Helm gives its root template; `tpl` parses its text under this name.
pub const ROOT_NAME: &str = "gotpl";

/// The templates of one `tpl` call (its text and its `define`s), parsed once per set.
pub(crate) struct Overlay {
    pub(crate) main: Arc<Tree>,
    pub(crate) defs: HashMap<Box<str>, Arc<Tree>>,
}

/// A cached parse of a `tpl` text (the parse error is cached too).
type TplParse = Result<Arc<Overlay>, String>;

/// A set of parsed templates sharing their `define`s.
#[derive(Default)]
pub struct TemplateSet {
    templates: HashMap<Box<str>, Arc<Tree>>,
    /// Unknown functions fail when called instead of when parsing (corpus tests only).
    lenient: bool,
    tpl_cache: Mutex<HashMap<Box<str>, TplParse>>,
    stack_budget: usize,
}

impl TemplateSet {
    pub fn new() -> TemplateSet {
        TemplateSet::default()
    }

    /// A set whose parser accepts unknown function names (they fail when called). Only for
    /// checking templates while the function library is incomplete.
    pub fn new_lenient() -> TemplateSet {
        TemplateSet {
            lenient: true,
            ..TemplateSet::default()
        }
    }

    /// Sets how many bytes of native stack nested templates may use before execution fails
    /// with `exceeded maximum template depth` (default [`DEFAULT_STACK_BUDGET`]). Executing on
    /// a thread with a large stack (say 512 MiB) and a budget a little below it reaches Helm's
    /// own `include` recursion limit (1000 levels) and its message.
    pub fn set_stack_budget(&mut self, bytes: usize) {
        self.stack_budget = bytes;
    }

    /// Parses `source` as the template `name`.
    pub fn parse(&mut self, name: &str, source: &str) -> Result<(), TemplateError> {
        let trees = parser::parse(name, source, self.lenient).map_err(TemplateError::plain)?;
        for tree in trees {
            associate(&mut self.templates, tree);
        }
        Ok(())
    }

    /// Whether a template (file or `define`) of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.templates.contains_key(name)
    }

    /// The names of all templates, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.templates.keys().map(|k| &**k).collect();
        v.sort_unstable();
        v
    }

    /// Executes template `name` with `dot` as `.`; plain functions see `ctx`.
    pub fn execute(
        &self,
        name: &str,
        dot: Value,
        ctx: &FuncCtx,
        opts: &ExecOptions,
    ) -> Result<String, TemplateError> {
        let Some(tree) = self.templates.get(name) else {
            return Err(TemplateError::plain(format!(
                "template: no template {} associated with template {}",
                crate::fmt::quote_go(name),
                crate::fmt::quote_go(ROOT_NAME)
            )));
        };
        let tree = tree.clone();
        let mut out = String::new();
        let budget = if self.stack_budget == 0 {
            DEFAULT_STACK_BUDGET
        } else {
            self.stack_budget
        };
        let mut st = eval::State::new(self, ctx, opts.strict, budget);
        st.exec_tree(&tree, dot, &mut out).map_err(|e| *e)?;
        Ok(out)
    }

    pub(crate) fn lookup(&self, name: &str) -> Option<&Arc<Tree>> {
        self.templates.get(name)
    }

    /// Parses the text of a `tpl` call (cached: charts call `tpl` on the same strings often).
    pub(crate) fn tpl_overlay(&self, text: &str) -> Result<Arc<Overlay>, String> {
        if let Ok(cache) = self.tpl_cache.lock() {
            if let Some(r) = cache.get(text) {
                return r.clone();
            }
        }
        let r = parser::parse(ROOT_NAME, text, self.lenient).map(|trees| {
            let mut defs = HashMap::new();
            let mut main = None;
            for t in trees {
                if &*t.name == ROOT_NAME && main.is_none() {
                    main = Some(Arc::new(t));
                } else {
                    associate(&mut defs, t);
                }
            }
            let main = main.unwrap_or_else(|| {
                Arc::new(Tree {
                    name: ROOT_NAME.into(),
                    parse_name: Arc::from(ROOT_NAME),
                    root: Vec::new(),
                })
            });
            Arc::new(Overlay { main, defs })
        });
        if let Ok(mut cache) = self.tpl_cache.lock() {
            if cache.len() < 4096 {
                cache.insert(text.into(), r.clone());
            }
        }
        r
    }
}

/// Go's `associate`: a new tree replaces an old one unless it is empty and the old one is not.
fn associate(map: &mut HashMap<Box<str>, Arc<Tree>>, tree: Tree) {
    if let Some(old) = map.get(&*tree.name) {
        if ast::is_empty_list(&tree.root) && !ast::is_empty_list(&old.root) {
            return;
        }
    }
    map.insert(tree.name.clone(), Arc::new(tree));
}

#[cfg(test)]
mod tests;
