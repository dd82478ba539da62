//! Chart loading (directories, `.tgz`, `.helmignore`, guards), `Chart.yaml`, dependencies
//! (conditions, tags, aliases, import-values), values coalescing and `values.schema.json`,
//! as Helm v4.2.3 does them before any template runs.
//!
//! | file          | what                                                              |
//! |---------------|-------------------------------------------------------------------|
//! | `load.rs`     | directory walk, archives, sorting files into a `Chart`, `LoadValues` |
//! | `ignore.rs`   | `.helmignore` rules (Helm's, not gitignore's)                      |
//! | `glob.rs`     | Go's `filepath.Match`                                              |
//! | `meta.rs`     | `Chart.yaml` as Helm's `Metadata` struct, validation, `.Chart` map |
//! | `semver.rs`   | Masterminds semver versions and constraints (`IsCompatibleRange`)  |
//! | `deps.rs`     | `ProcessDependencies`: enabled/disabled subcharts, aliases, imports |
//! | `coalesce.rs` | `CoalesceValues` / `MergeValues` with Go's shared-map semantics     |
//! | `schema.rs`   | JSON Schema validation of every chart's values (`formats.rs`)      |
//!
//! Entry points: `load_chart` (or `load_archive`), `load_values` for `-f` files,
//! `merge_values` to stack them, then `prepare` for the values templates see.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::value::Data;

mod coalesce;
mod deps;
mod formats;
mod glob;
mod ignore;
mod load;
mod meta;
mod schema;
mod semver;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod probe_tests;

pub use load::{MAX_CHART_SIZE, MAX_FILE_SIZE};
pub use meta::{chart_object, chart_template_object};

/// A file of a chart: its path relative to the chart root and its bytes.
#[derive(Clone, Debug)]
pub struct ChartFile {
    pub name: String,
    /// Shared, so that cloning a chart (every render does, to apply its dependencies) does not
    /// copy file contents.
    pub data: Arc<[u8]>,
}

/// A loaded chart with its subcharts.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    /// `Chart.yaml` as Helm's `Metadata` struct holds it, with the YAML key names: `apiVersion`
    /// (defaults to `v1`), `name`, `version`, `appVersion`, `description`, `dependencies` (each
    /// a map with `name`, `version`, `repository`, `condition`, `tags`, `enabled`,
    /// `import-values`, `alias`), … Unknown keys are dropped, scalars in string fields are
    /// strings, text fields are sanitised. After `prepare`, `dependencies` holds only the
    /// enabled ones, aliases applied to `name`, `enabled: true`, import-values rewritten as
    /// Helm does. Use `chart_object(&chart.metadata)` for the `.Chart` template object.
    pub metadata: Data,
    /// `templates/**` files, in load order (lexical for directories, archive order for `.tgz`).
    pub templates: Vec<ChartFile>,
    /// Every other file (for `.Files`), after `.helmignore`: includes `crds/`, `.helmignore`,
    /// README…; not `Chart.yaml`, `values.yaml`, `values.schema.json`, `Chart.lock`,
    /// `templates/`, `charts/` (except `charts/*.prov`); v1 charts keep `requirements.*`.
    pub files: Vec<ChartFile>,
    /// `values.yaml`, parsed (all its YAML documents merged); an empty map when absent.
    pub values: Data,
    /// `values.schema.json`, raw.
    pub schema: Option<Vec<u8>>,
    /// Subcharts found in `charts/` (directories and archives), sorted by their directory or
    /// archive name. After `prepare`: Helm's order (undeclared subcharts first, then declared
    /// ones in `Chart.yaml` order), disabled ones removed, aliased ones renamed.
    pub dependencies: Vec<Chart>,
    /// The chart's files by path, for digests.
    pub raw: BTreeMap<String, Arc<[u8]>>,
}

impl Chart {
    /// The chart's name (`metadata.name`; the alias for an aliased subchart after `prepare`).
    pub fn name(&self) -> &str {
        meta::get_str(&self.metadata, "name")
    }

    /// The chart's API version (`v1` or `v2`).
    pub fn api_version(&self) -> &str {
        meta::api_version(&self.metadata)
    }

    /// Whether `Chart.yaml` says `type: library`.
    pub fn is_library(&self) -> bool {
        meta::get_str(&self.metadata, "type") == "library"
    }

    /// Files under `crds/` with a manifest extension (`.yaml`, `.yml`, `.json`), of this chart
    /// and then its subcharts, with their full paths (`chart/charts/sub/crds/x.yaml`), as
    /// Helm's `CRDObjects`.
    pub fn crd_objects(&self) -> Vec<(String, &ChartFile)> {
        let mut out = Vec::new();
        self.collect_crds(self.name(), &mut out);
        out
    }

    fn collect_crds<'a>(&'a self, full: &str, out: &mut Vec<(String, &'a ChartFile)>) {
        for f in &self.files {
            let base = f.name.rsplit('/').next().unwrap_or("");
            let ext = base
                .rfind('.')
                .map_or("", |i| &base[i..])
                .to_ascii_lowercase();
            let ext_ok = matches!(ext.as_str(), ".yaml" | ".yml" | ".json");
            if f.name.starts_with("crds/") && ext_ok {
                out.push((format!("{full}/{}", f.name), f));
            }
        }
        for d in &self.dependencies {
            d.collect_crds(&format!("{full}/charts/{}", d.name()), out);
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
    load::load_path(path)
}

/// Loads a chart from the bytes of a `.tgz` archive.
pub fn load_archive(bytes: &[u8]) -> Result<Chart, ChartError> {
    load::load_archive(bytes)
}

/// Parses a user values file as `helm -f` does (every YAML document merged; a file that is not
/// a map is an error).
pub fn load_values(bytes: &[u8]) -> Result<Data, ChartError> {
    load::load_values(bytes).map_err(|message| ChartError { message })
}

/// Merges a values file over another exactly as `helm -f a -f b` does (Helm's `MergeMaps`:
/// maps merge recursively, anything else in `over` replaces, `null` is kept as `null`).
pub fn merge_values(base: &mut Data, over: Data) {
    merge_maps(base, over);
}

/// Helm's `loader.MergeMaps` on `Data` (a non-map `base` becomes an empty map first).
pub(crate) fn merge_maps(base: &mut Data, over: Data) {
    let Data::Map(over) = over else {
        return;
    };
    if !matches!(base, Data::Map(_)) {
        *base = Data::empty_map();
    }
    let Data::Map(b) = base else {
        return;
    };
    for (k, v) in over {
        match (b.get_mut(&k), v) {
            (Some(existing @ Data::Map(_)), Data::Map(vm)) => merge_maps(existing, Data::Map(vm)),
            (_, v) => {
                b.insert(k, v);
            }
        }
    }
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
/// (the merged `-f`/`--set` values), as `helm template`/`install` do them. A dependency
/// declared in the top chart's `Chart.yaml` but absent from `charts/` is an error first.
pub fn prepare(chart: &Chart, user_values: &Data) -> Result<Prepared, ChartError> {
    deps::check_dependencies(chart)?;
    let user = match user_values {
        Data::Map(_) => user_values.clone(),
        _ => Data::empty_map(),
    };
    let mut chart = chart.clone();
    deps::process_dependencies(&mut chart, &user)?;
    let values = coalesce::coalesce_values(&chart, &user)?;
    schema::validate_all(&chart, &values)?;
    Ok(Prepared { chart, values })
}
