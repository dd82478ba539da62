//! Helm's `CoalesceValues` and `MergeValues` (`pkg/chart/common/util/coalesce.go`).
//!
//! Go maps are references, and Helm's coalescing shares and mutates maps in place: globals are
//! copied one level deep only, so deeper global tables are shared between a chart and its
//! subcharts (a subchart's `global.a.b` defaults can show up in its parent's `global.a.b`);
//! `coalesceTables` writes `nil` into its source for keys that are `nil` in its destination. To
//! get the same results we coalesce on `V`, a tree whose maps are shared `Rc<RefCell<…>>` like
//! Go's, and convert from and to `Data` at the edges (`deep copies` = Go's `copystructure`).
//!
//! The rules (values of the chart being coalesced are `src`, the user's or parent's are `dest`):
//! - a key only in `src` is copied in (when coalescing: `null` defaults are skipped and `null`s
//!   are cleaned out of copied tables);
//! - `null` in `dest` for a key `src` has deletes the key (coalescing only; merging keeps it);
//! - two tables merge recursively, `dest` winning; otherwise `dest`'s value wins, whatever the
//!   types (a table is never replaced by a scalar nor a scalar by a table);
//! - subchart values live under the subchart's name; before a subchart is coalesced, the parent's
//!   `global` table is merged over the subchart's `global`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::{Chart, ChartError};
use crate::value::{Data, Value};

/// A shared map, like a Go `map[string]interface{}`.
pub(crate) type M = Rc<RefCell<BTreeMap<String, V>>>;

/// A value tree with Go's reference semantics for maps.
#[derive(Clone, Debug)]
pub(crate) enum V {
    Null,
    /// Scalars and lists (coalescing never looks inside lists).
    Leaf(Data),
    Map(M),
}

/// How deep value trees may nest before we refuse (Go has no limit; we must not overflow).
const MAX_DEPTH: usize = 200;
/// How deep our recursion may go (values depth plus chart nesting).
const RECURSION_LIMIT: usize = 500;

pub(crate) fn new_map() -> M {
    Rc::new(RefCell::new(BTreeMap::new()))
}

impl V {
    /// A fresh tree (every map new): Go's `copystructure.Copy` of plain data.
    pub(crate) fn from_data(d: &Data) -> V {
        match d {
            Data::Null => V::Null,
            Data::Map(m) => V::Map(map_from_data(m)),
            other => V::Leaf(other.clone()),
        }
    }

    pub(crate) fn to_data(&self) -> Data {
        match self {
            V::Null => Data::Null,
            V::Leaf(d) => d.clone(),
            V::Map(m) => Data::Map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_data()))
                    .collect(),
            ),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, V::Null)
    }
}

pub(crate) fn map_from_data(m: &BTreeMap<String, Data>) -> M {
    Rc::new(RefCell::new(
        m.iter()
            .map(|(k, v)| (k.clone(), V::from_data(v)))
            .collect(),
    ))
}

/// A deep copy of a shared map (Go's `copystructure.Copy`).
pub(crate) fn deep_copy(m: &M) -> M {
    match V::Map(m.clone()).to_data() {
        Data::Map(d) => map_from_data(&d),
        _ => new_map(),
    }
}

fn get(m: &M, k: &str) -> Option<V> {
    m.borrow().get(k).cloned()
}

fn set(m: &M, k: &str, v: V) {
    m.borrow_mut().insert(k.to_string(), v);
}

fn entries(m: &M) -> Vec<(String, V)> {
    m.borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn depth_error() -> ChartError {
    ChartError {
        message: "values are nested too deeply to coalesce".into(),
    }
}

/// Go's `%t` of a non-bool value in `type mismatch` errors: `%!t(string=foo)`.
fn go_percent_t(v: &V) -> String {
    match v {
        V::Null => "%!t(<nil>)".into(),
        V::Leaf(Data::Bool(b)) => b.to_string(),
        other => {
            let value = Value::from_data(&other.to_data());
            format!(
                "%!t({}={})",
                value.type_name(),
                crate::fmt::sprint_v(&value)
            )
        }
    }
}

/// `CoalesceValues(chart, vals)`: the user's (or a parent's) values over the chart's defaults,
/// recursively into subcharts, `null`s deleting keys.
pub(crate) fn coalesce_values(chart: &Chart, vals: &Data) -> Result<Data, ChartError> {
    if deeper_than(vals, MAX_DEPTH) {
        return Err(depth_error());
    }
    let dest = match vals {
        Data::Map(m) => map_from_data(m),
        _ => new_map(),
    };
    coalesce(chart, &dest, false, 0)?;
    Ok(V::Map(dest).to_data())
}

/// `MergeValues(chart, nil)`: like coalescing but every `null` is kept.
pub(crate) fn merge_chart_values(chart: &Chart) -> Result<M, ChartError> {
    let dest = new_map();
    coalesce(chart, &dest, true, 0)?;
    Ok(dest)
}

/// Whether `d` nests more than `limit` levels (stops looking at the limit).
pub(crate) fn deeper_than(d: &Data, limit: usize) -> bool {
    if limit == 0 {
        return matches!(d, Data::Map(_) | Data::List(_));
    }
    match d {
        Data::Map(m) => m.values().any(|v| deeper_than(v, limit - 1)),
        Data::List(l) => l.iter().any(|v| deeper_than(v, limit - 1)),
        _ => false,
    }
}

fn coalesce(chart: &Chart, dest: &M, merge: bool, depth: usize) -> Result<(), ChartError> {
    if depth > RECURSION_LIMIT || deeper_than(&chart.values, MAX_DEPTH) {
        return Err(depth_error());
    }
    coalesce_chart_values(chart, dest, merge, depth)?;
    coalesce_deps(chart, dest, merge, depth)
}

fn coalesce_deps(chart: &Chart, dest: &M, merge: bool, depth: usize) -> Result<(), ChartError> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let dv = match get(dest, name) {
            None => {
                let m = new_map();
                set(dest, name, V::Map(m.clone()));
                m
            }
            Some(V::Map(m)) => m,
            Some(other) => {
                return Err(ChartError {
                    message: format!("type mismatch on {name}: {}", go_percent_t(&other)),
                })
            }
        };
        coalesce_globals(&dv, dest, depth)?;
        coalesce(sub, &dv, merge, depth + 1)?;
        set(dest, name, V::Map(dv));
    }
    Ok(())
}

/// Merges `src`'s `global` table into `dest`'s (one level copied, deeper tables shared).
fn coalesce_globals(dest: &M, src: &M, depth: usize) -> Result<(), ChartError> {
    let dg = match get(dest, "global") {
        None => new_map(),
        Some(V::Map(m)) => m,
        // "warning: skipping globals because destination global is not a table."
        Some(_) => return Ok(()),
    };
    let sg = match get(src, "global") {
        None => new_map(),
        Some(V::Map(m)) => m,
        Some(_) => return Ok(()),
    };
    if !Rc::ptr_eq(&dg, &sg) {
        for (key, val) in entries(&sg) {
            match &val {
                V::Map(vm) => {
                    let vv: M = Rc::new(RefCell::new(vm.borrow().clone()));
                    match get(&dg, &key) {
                        None => set(&dg, &key, V::Map(vv)),
                        Some(V::Map(destv)) => {
                            coalesce_tables(&vv, &destv, true, depth + 1)?;
                            set(&dg, &key, V::Map(vv));
                        }
                        // "Conflict: cannot merge map onto non-map. Skipping."
                        Some(_) => {}
                    }
                }
                _ => {
                    if !matches!(get(&dg, &key), Some(V::Map(_))) {
                        set(&dg, &key, val.clone());
                    }
                }
            }
        }
    }
    set(dest, "global", V::Map(dg));
    Ok(())
}

/// `coalesceValues`: the chart's own `values.yaml` under `v`.
fn coalesce_chart_values(
    chart: &Chart,
    v: &M,
    merge: bool,
    depth: usize,
) -> Result<(), ChartError> {
    let vc = match &chart.values {
        Data::Map(m) => map_from_data(m),
        _ => new_map(),
    };
    for (key, val) in entries(&vc) {
        match get(v, &key) {
            Some(value) => {
                if value.is_null() && !merge {
                    v.borrow_mut().remove(&key);
                } else if let V::Map(dest) = &value {
                    if let V::Map(src) = &val {
                        let is_subchart = chart.dependencies.iter().any(|d| d.name() == key);
                        let merge = merge || is_subchart;
                        if !merge {
                            clean_nil_values(src, depth + 1)?;
                        }
                        coalesce_tables(dest, src, merge, depth + 1)?;
                    }
                    // else: "warning: skipped value: Not a table."
                }
            }
            None => {
                if !merge {
                    if val.is_null() {
                        continue;
                    }
                    if let V::Map(sub) = &val {
                        clean_nil_values(sub, depth + 1)?;
                    }
                }
                set(v, &key, val);
            }
        }
    }
    Ok(())
}

/// Removes `null` entries from a table, recursively, in place.
fn clean_nil_values(m: &M, depth: usize) -> Result<(), ChartError> {
    if depth > RECURSION_LIMIT {
        return Err(depth_error());
    }
    for (key, val) in entries(m) {
        match val {
            V::Null => {
                m.borrow_mut().remove(&key);
            }
            V::Map(sub) => {
                if !Rc::ptr_eq(&sub, m) {
                    clean_nil_values(&sub, depth + 1)?;
                }
            }
            V::Leaf(_) => {}
        }
    }
    Ok(())
}

/// `coalesceTablesFullKey`: merges `src` into `dst`, `dst` authoritative.
pub(crate) fn coalesce_tables(
    dst: &M,
    src: &M,
    merge: bool,
    depth: usize,
) -> Result<(), ChartError> {
    if depth > RECURSION_LIMIT {
        return Err(depth_error());
    }
    if Rc::ptr_eq(dst, src) {
        return Ok(());
    }
    let src_non_nil: Vec<String> = src
        .borrow()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, _)| k.clone())
        .collect();
    for (key, val) in entries(dst) {
        if val.is_null() {
            set(src, &key, V::Null);
        }
    }
    for (key, val) in entries(src) {
        let dv = get(dst, &key);
        match dv {
            Some(V::Null) if !merge && src_non_nil.contains(&key) => {
                dst.borrow_mut().remove(&key);
            }
            None => set(dst, &key, val),
            Some(dv) => {
                if let V::Map(vm) = &val {
                    if let V::Map(dm) = &dv {
                        coalesce_tables(dm, vm, merge, depth + 1)?;
                    }
                    // else: "warning: cannot overwrite table with non table"
                }
                // else: dst's value wins ("destination is a table. Ignoring non-table value")
            }
        }
    }
    Ok(())
}

/// `MergeTables(dst, src)` on shared maps.
pub(crate) fn merge_tables(dst: &M, src: &M) -> Result<(), ChartError> {
    coalesce_tables(dst, src, true, 0)
}

/// `Values.Table(path)`: the table at a dotted path (shared, not copied).
pub(crate) fn table(root: &M, path: &str) -> Option<M> {
    let mut cur = root.clone();
    for part in path.split('.') {
        let next = match get(&cur, part) {
            Some(V::Map(m)) => m,
            _ => return None,
        };
        cur = next;
    }
    Some(cur)
}

#[cfg(test)]
#[path = "coalesce_tests.rs"]
mod tests;
