//! Helm's dependency processing (`pkg/chart/v2/util/dependencies.go`, `action.CheckDependencies`).
//!
//! `process_dependencies` = `ProcessDependencies`:
//! 1. `processDependencyEnabled`, top-down: declared dependencies are matched with the charts in
//!    `charts/` by name and version range (an `alias` makes a renamed copy); charts in
//!    `charts/` no declaration matches stay as they are. Every declared one starts enabled, then
//!    `tags` (from the coalesced values' `tags` table: any true tag enables, only false tags
//!    disable) and then `condition` (comma list; the first path that resolves to a bool wins;
//!    paths are relative to the values of the chart that declares them) decide. Disabled ones
//!    are dropped, then the same runs in each remaining subchart, with the parent's coalesced
//!    values.
//! 2. `processDependencyImportValues`, bottom-up: for a chart that declares dependencies, its
//!    values become `MergeValues(chart)` (its subcharts' values under their names, globals
//!    propagated, nulls kept) with the imported tables merged under them (parent values win).

use std::collections::BTreeSet;

use super::coalesce::{self, new_map, V};
use super::meta::get_str;
use super::semver::is_compatible_range;
use super::{Chart, ChartError};
use crate::value::Data;

/// Our own guard: how deep subcharts may nest (a chart cannot contain itself on disk, but
/// aliases and archives make deep trees possible).
const MAX_CHART_DEPTH: usize = 64;

fn declared(chart: &Chart) -> Option<&Vec<Data>> {
    match chart.metadata.as_map().and_then(|m| m.get("dependencies")) {
        Some(Data::List(l)) => Some(l),
        _ => None,
    }
}

fn declared_mut(chart: &mut Chart) -> Option<&mut Vec<Data>> {
    match &mut chart.metadata {
        Data::Map(m) => match m.get_mut("dependencies") {
            Some(Data::List(l)) => Some(l),
            _ => None,
        },
        _ => None,
    }
}

fn chart_version(chart: &Chart) -> &str {
    get_str(&chart.metadata, "version")
}

/// `action.CheckDependencies`: every dependency the top chart declares must be in `charts/`
/// (by chart name; versions and aliases do not matter). The message is the `helm` CLI's.
pub(crate) fn check_dependencies(chart: &Chart) -> Result<(), ChartError> {
    let Some(reqs) = declared(chart) else {
        return Ok(());
    };
    let missing: Vec<&str> = reqs
        .iter()
        .map(|r| get_str(r, "name"))
        .filter(|name| !chart.dependencies.iter().any(|d| d.name() == *name))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ChartError {
        message: format!(
            "an error occurred while checking for chart dependencies. You may need to run \
             'helm dependency build' to fetch missing dependencies: \
             found in Chart.yaml, but missing in charts/ directory: {}",
            missing.join(", ")
        ),
    })
}

/// `ProcessDependencies(chart, values)`.
pub(crate) fn process_dependencies(chart: &mut Chart, values: &Data) -> Result<(), ChartError> {
    process_enabled(chart, values, "", 0)?;
    process_import_values(chart, 0)
}

fn set_field(d: &mut Data, key: &str, v: Data) {
    if let Data::Map(m) = d {
        m.insert(key.to_string(), v);
    }
}

fn process_enabled(
    chart: &mut Chart,
    v: &Data,
    path: &str,
    depth: usize,
) -> Result<(), ChartError> {
    if depth > MAX_CHART_DEPTH {
        return Err(ChartError {
            message: "subcharts are nested too deeply".into(),
        });
    }
    let Some(reqs) = declared(chart).cloned() else {
        return Ok(());
    };
    let existing = std::mem::take(&mut chart.dependencies);
    let matches = |c: &Chart, r: &Data| {
        c.name() == get_str(r, "name")
            && is_compatible_range(get_str(r, "version"), chart_version(c))
    };
    // Charts no declaration matches are kept as they are.
    let mut deps: Vec<Chart> = existing
        .iter()
        .filter(|c| !reqs.iter().any(|r| matches(c, r)))
        .cloned()
        .collect();
    let mut reqs = reqs;
    for r in reqs.iter_mut() {
        if let Some(found) = existing.iter().find(|c| matches(c, r)) {
            let mut copy = found.clone();
            let alias = get_str(r, "alias").to_string();
            if !alias.is_empty() {
                set_field(&mut copy.metadata, "name", Data::String(alias));
            }
            deps.push(copy);
        }
        let alias = get_str(r, "alias").to_string();
        if !alias.is_empty() {
            set_field(r, "name", Data::String(alias));
        }
        set_field(r, "enabled", Data::Bool(true));
    }
    chart.dependencies = deps;

    let cvals = coalesce::coalesce_values(chart, v)?;
    process_tags(&mut reqs, &cvals);
    process_conditions(&mut reqs, &cvals, path);

    let removed: BTreeSet<String> = reqs
        .iter()
        .filter(|r| {
            !matches!(
                r.as_map().and_then(|m| m.get("enabled")),
                Some(Data::Bool(true))
            )
        })
        .map(|r| get_str(r, "name").to_string())
        .collect();
    let mut kept: Vec<Chart> = std::mem::take(&mut chart.dependencies)
        .into_iter()
        .filter(|c| !removed.contains(c.name()))
        .collect();
    let kept_reqs: Vec<Data> = reqs
        .into_iter()
        .filter(|r| !removed.contains(get_str(r, "name")))
        .collect();
    for t in kept.iter_mut() {
        let sub_path = format!("{path}{}.", t.name());
        process_enabled(t, &cvals, &sub_path, depth + 1)?;
    }
    if let Data::Map(m) = &mut chart.metadata {
        if kept_reqs.is_empty() {
            m.remove("dependencies");
        } else {
            m.insert("dependencies".into(), Data::List(kept_reqs));
        }
    }
    chart.dependencies = kept;
    Ok(())
}

/// `Values.Table(path)` on plain data.
fn data_table<'a>(root: &'a Data, path: &str) -> Option<&'a Data> {
    let mut cur = root;
    for part in path.split('.') {
        match cur.as_map().and_then(|m| m.get(part)) {
            Some(next @ Data::Map(_)) => cur = next,
            _ => return None,
        }
    }
    Some(cur)
}

/// `Values.PathValue(path)`: a non-table value at a dotted path.
fn path_value<'a>(root: &'a Data, path: &str) -> Option<&'a Data> {
    if path.is_empty() {
        return None;
    }
    let (table, key) = match path.rsplit_once('.') {
        Some((t, k)) => (data_table(root, t)?, k),
        None => (root, path),
    };
    match table.as_map().and_then(|m| m.get(key)) {
        Some(Data::Map(_)) | None => None,
        Some(v) => Some(v),
    }
}

fn process_tags(reqs: &mut [Data], cvals: &Data) {
    let Some(Data::Map(tags)) = data_table(cvals, "tags") else {
        return;
    };
    for r in reqs.iter_mut() {
        let (mut has_true, mut has_false) = (false, false);
        if let Some(Data::List(rt)) = r.as_map().and_then(|m| m.get("tags")) {
            for t in rt {
                let Data::String(t) = t else { continue };
                // A non-bool tag value only earns a warning.
                if let Some(Data::Bool(b)) = tags.get(t) {
                    if *b {
                        has_true = true;
                    } else {
                        has_false = true;
                    }
                }
            }
        }
        let enabled = has_true || !has_false;
        set_field(r, "enabled", Data::Bool(enabled));
    }
}

fn process_conditions(reqs: &mut [Data], cvals: &Data, path: &str) {
    for r in reqs.iter_mut() {
        let condition = get_str(r, "condition").trim().to_string();
        for c in condition.split(',') {
            if c.is_empty() {
                continue;
            }
            // A non-bool value only earns a warning; the next path is tried.
            if let Some(Data::Bool(b)) = path_value(cvals, &format!("{path}{c}")) {
                set_field(r, "enabled", Data::Bool(*b));
                break;
            }
        }
    }
}

fn process_import_values(chart: &mut Chart, depth: usize) -> Result<(), ChartError> {
    if depth > MAX_CHART_DEPTH {
        return Err(ChartError {
            message: "subcharts are nested too deeply".into(),
        });
    }
    for d in chart.dependencies.iter_mut() {
        process_import_values(d, depth + 1)?;
    }
    import_values(chart)
}

/// Go's `%v` of an import-values `child`/`parent` entry.
fn go_v(d: Option<&Data>) -> String {
    match d {
        None | Some(Data::Null) => "<nil>".into(),
        Some(d) => crate::fmt::sprint_v(&crate::value::Value::from_data(d)),
    }
}

/// `pathToMap(path, data)`: `data` nested under the dotted `path` (`.` is the root itself).
fn path_to_map(path: &str, data: coalesce::M) -> coalesce::M {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let m = new_map();
        m.borrow_mut().insert(part.to_string(), V::Map(cur));
        cur = m;
    }
    cur
}

/// `processImportValues(chart, merge=true)`.
fn import_values(chart: &mut Chart) -> Result<(), ChartError> {
    let Some(reqs) = declared(chart).cloned() else {
        return Ok(());
    };
    let cvals = coalesce::merge_chart_values(chart)?;
    let b = new_map();
    let mut new_reqs = Vec::with_capacity(reqs.len());
    for mut r in reqs {
        let name = get_str(&r, "name").to_string();
        let ivs = match r.as_map().and_then(|m| m.get("import-values")) {
            Some(Data::List(l)) => l.clone(),
            _ => Vec::new(),
        };
        let mut out = Vec::new();
        for iv in &ivs {
            let (child, parent, table_path) = match iv {
                Data::Map(m) => {
                    let child = go_v(m.get("child"));
                    let parent = go_v(m.get("parent"));
                    let tp = format!("{name}.{child}");
                    (child, parent, tp)
                }
                Data::String(s) => {
                    let child = format!("exports.{s}");
                    let tp = format!("{name}.{child}");
                    (child, ".".to_string(), tp)
                }
                _ => continue,
            };
            let mut entry = std::collections::BTreeMap::new();
            entry.insert("child".to_string(), Data::String(child));
            entry.insert("parent".to_string(), Data::String(parent.clone()));
            out.push(Data::Map(entry));
            // A missing table only earns a warning.
            let Some(vv) = coalesce::table(&cvals, &table_path) else {
                continue;
            };
            coalesce::merge_tables(&b, &path_to_map(&parent, vv))?;
        }
        if out.is_empty() {
            if let Data::Map(m) = &mut r {
                m.remove("import-values");
            }
        } else {
            set_field(&mut r, "import-values", Data::List(out));
        }
        new_reqs.push(r);
    }
    if let Some(l) = declared_mut(chart) {
        *l = new_reqs;
    }
    // Parent values win over imported ones: the imports are merged under a copy of them.
    let copy = coalesce::deep_copy(&cvals);
    coalesce::merge_tables(&copy, &b)?;
    chart.values = V::Map(copy).to_data();
    Ok(())
}

#[cfg(test)]
#[path = "deps_tests.rs"]
mod tests;
