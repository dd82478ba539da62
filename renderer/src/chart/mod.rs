//! Chart loading (directories, `.tgz`, `.helmignore`, guards), `Chart.yaml`, dependencies
//! (conditions, tags, aliases, import-values), values coalescing and `values.schema.json`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::value::Data;

/// A file of a chart: its path relative to the chart root and its bytes.
#[derive(Clone, Debug)]
pub struct ChartFile {
    pub name: String,
    pub data: Vec<u8>,
}

/// A loaded chart with its subcharts.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// `Chart.yaml` as parsed data (apiVersion, name, version, dependencies…).
    pub metadata: Data,
    /// `templates/**` files.
    pub templates: Vec<ChartFile>,
    /// Every other file (for `.Files`), after `.helmignore`.
    pub files: Vec<ChartFile>,
    /// `values.yaml`, parsed.
    pub values: Data,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Subcharts found in `charts/` (directories and archives), by their own name.
    pub dependencies: Vec<Chart>,
    /// The chart's files by path, for digests.
    pub raw: BTreeMap<String, Vec<u8>>,
}

impl Chart {
    pub fn name(&self) -> &str {
        match self.metadata.as_map().and_then(|m| m.get("name")) {
            Some(Data::String(s)) => s,
            _ => "",
        }
    }
}

/// A chart loading or dependency error.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(wayfinder::chart))]
pub struct ChartError {
    pub message: String,
}

/// Loads a chart from a directory or a `.tgz` archive.
pub fn load_chart(path: &Path) -> Result<Chart, ChartError> {
    Err(ChartError {
        message: format!("chart loading not implemented yet: `{}`", path.display()),
    })
}

/// Merges a values file over another exactly as `helm -f a -f b` does.
pub fn merge_values(base: &mut Data, over: Data) {
    let _ = (base, over);
}

/// A chart ready to render: Helm's dependency processing and values coalescing done.
#[derive(Clone, Debug, Default)]
pub struct Prepared {
    /// The chart with only its enabled subcharts (conditions, tags), aliases applied
    /// (an aliased subchart's metadata `name` is the alias), recursively.
    pub chart: Chart,
    /// The final `.Values` tree of the top chart (subchart values under their names, globals
    /// propagated, import-values applied, nulls deleted), validated against every
    /// `values.schema.json`.
    pub values: Data,
}

/// Helm's `ProcessDependencies` + `CoalesceValues` + schema validation for `user_values`
/// (the merged `-f`/`--set` values).
pub fn prepare(chart: &Chart, user_values: &Data) -> Result<Prepared, ChartError> {
    let _ = (chart, user_values);
    Err(ChartError {
        message: "dependency processing not implemented yet".into(),
    })
}
