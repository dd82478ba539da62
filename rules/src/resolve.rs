//! Resolving components: a cluster's voyage pin, chart paths, values layers (voyage → group →
//! cluster), `needs` order. Every problem goes to the [`Loader`].

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use wayfinder_engine::{find_cycle, Blob, Digest};

use crate::diag::{did_you_mean, Problem};
use crate::load::{rel_join, ChartInfo, Cluster, Component, Loader};
use crate::model::{ClusterDecl, ComponentDecl, VoyageDecl};
use crate::tomlread::Sp;

/// Every file under `dir` (recursively, sorted), relative to `root`.
fn walk_files(root: &Path, rel_dir: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel_dir)) else {
        return;
    };
    let mut entries: Vec<(String, bool)> = rd
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let is_dir = e.file_type().ok()?.is_dir();
            Some((name, is_dir))
        })
        .collect();
    entries.sort();
    for (name, is_dir) in entries {
        let rel = format!("{rel_dir}/{name}");
        if is_dir {
            walk_files(root, &rel, out, depth + 1);
        } else {
            out.push(rel);
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn resolve_cluster(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    voyage_decls: &[(VoyageDecl, String, Digest<Blob>)],
    broken: &HashSet<String>,
    d: &ClusterDecl,
    group: &str,
    dir: &str,
    file: &str,
) -> Option<Cluster> {
    let name = d.name.as_ref().map_or(dir.to_string(), |n| n.v.clone());
    let cdir = format!("clusters/{group}/{dir}");
    let mut pin = None;
    let mut base: Vec<ComponentDecl> = Vec::new();
    let mut voyage_dir = String::new();
    let mut voyage_file = String::new();
    if let Some(v) = &d.voyage {
        let (vname, vversion) = match v.v.split_once('@') {
            Some((n, ver)) => (n.to_string(), Some(ver.to_string())),
            None => (v.v.clone(), None),
        };
        let same_name: Vec<&(VoyageDecl, String, Digest<Blob>)> = voyage_decls
            .iter()
            .filter(|(vd, _, _)| vd.name.v == vname)
            .collect();
        let found = same_name
            .iter()
            .find(|(vd, _, _)| vversion.as_ref().is_none_or(|ver| *ver == vd.version.v));
        match found {
            Some((vd, vf, _)) => {
                pin = Some((vname.clone(), vd.version.v.clone()));
                base = vd.components.clone();
                voyage_file = vf.clone();
                voyage_dir = vf.trim_end_matches("/voyage.toml").to_string();
            }
            None if same_name.is_empty() && broken.contains(&vname) => return None,
            None if same_name.is_empty() => {
                let names: Vec<&str> = voyage_decls
                    .iter()
                    .map(|(vd, _, _)| vd.name.v.as_str())
                    .collect();
                let help = match did_you_mean(&vname, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None if names.is_empty() => {
                        "the workspace has no voyages under `voyages/`".to_string()
                    }
                    None => format!(
                        "the workspace has {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                loader.problem(
                    loader
                        .problem_at(
                            file,
                            &v.span,
                            "wayfinder::cluster::voyage",
                            format!("unknown voyage `{vname}`"),
                        )
                        .label("pinned here")
                        .help(help),
                );
                return None;
            }
            None => match crate::package::pull::pulled_voyage(
                &loader.root,
                &vname,
                vversion.as_deref().unwrap_or_default(),
            ) {
                Ok(p) => {
                    pin = Some((vname.clone(), vversion.clone().unwrap_or_default()));
                    base = p.components;
                    voyage_dir = p.voyage_dir;
                    voyage_file = voyage_file_of(&voyage_dir);
                }
                Err(why) => {
                    let have: Vec<String> = same_name
                        .iter()
                        .map(|(vd, _, _)| format!("`{}@{}`", vname, vd.version.v))
                        .collect();
                    loader.problem(
                    loader
                        .problem_at(file, &v.span, "wayfinder::cluster::voyage_version", format!("voyage `{}` is not in the workspace", v.v))
                        .label("pinned here")
                        .help(format!("the workspace has {}; pin one of them, or push this version to the registry first (it cannot be pulled: {why})", have.join(", "))),
                );
                    return None;
                }
            },
        }
    }
    let _ = voyage_file;
    // Merge cluster component declarations over the voyage's.
    let mut merged: BTreeMap<String, (ComponentDecl, Option<ComponentDecl>)> = BTreeMap::new();
    for c in base {
        merged.insert(c.name.v.clone(), (c, None));
    }
    for c in &d.components {
        match merged.get_mut(&c.name.v) {
            Some(entry) => entry.1 = Some(c.clone()),
            None => {
                if c.chart.is_none() && c.remote_chart.is_none() {
                    let help = match did_you_mean(&c.name.v, merged.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`? an extra component needs `chart = \"charts/NAME\"`"),
                        None => "an extra component (not in the voyage) needs `chart = \"charts/NAME\"`".to_string(),
                    };
                    loader.problem(
                        loader
                            .problem_at(
                                file,
                                &c.name.span,
                                "wayfinder::cluster::component",
                                format!(
                                    "component `{}` is not in the voyage and has no `chart`",
                                    c.name.v
                                ),
                            )
                            .label("here")
                            .help(help),
                    );
                    continue;
                }
                merged.insert(
                    c.name.v.clone(),
                    (ComponentDecl::default(), Some(c.clone())),
                );
            }
        }
    }
    let mut comps = Vec::new();
    for (cname, (vc, cc)) in merged {
        if cc.as_ref().and_then(|c| c.enabled).or(vc.enabled) == Some(false) {
            continue;
        }
        let from_voyage = !vc.name.v.is_empty();
        // Chart, namespace, release: the cluster's declaration wins.
        let mut eff = if from_voyage {
            vc.clone()
        } else {
            ComponentDecl::default()
        };
        eff.name = Sp::new(cname.clone(), 0..0);
        let mut values: Vec<(String, String, std::ops::Range<usize>)> = Vec::new(); // (rel path, decl file, span)
        if from_voyage {
            for v in &vc.values {
                values.push((
                    rel_join(&voyage_dir, &v.v),
                    voyage_file_of(&voyage_dir),
                    v.span.clone(),
                ));
            }
        }
        let group_values = format!("clusters/{group}/values/{cname}.yaml");
        if loader.exists(&group_values) {
            values.push((group_values, String::new(), 0..0));
        }
        let mut chart_file = voyage_file_of(&voyage_dir);
        if let Some(c) = &cc {
            if c.chart.is_some() {
                eff.chart = c.chart.clone();
                chart_file = file.to_string();
            }
            if c.remote_chart.is_some() {
                eff.remote_chart = c.remote_chart.clone();
                chart_file = file.to_string();
            }
            if c.namespace.is_some() {
                eff.namespace = c.namespace.clone();
            }
            if c.release.is_some() {
                eff.release = c.release.clone();
            }
            eff.needs.extend(c.needs.iter().cloned());
            for v in &c.values {
                values.push((rel_join(&cdir, &v.v), file.to_string(), v.span.clone()));
            }
        }
        if let Some(comp) = finish_component(loader, charts, &chart_file, &eff, values) {
            comps.push(comp);
        }
    }
    let own_needs = d.components.iter().any(|c| !c.needs.is_empty());
    let comps = order_components(loader, file, comps, own_needs);
    Some(Cluster {
        name,
        group: group.to_string(),
        dir: cdir,
        file: file.to_string(),
        voyage: pin,
        labels: d.labels.clone(),
        components: comps,
    })
}

fn voyage_file_of(dir: &str) -> String {
    if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/voyage.toml")
    }
}

pub(crate) fn resolve_components(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    file: &str,
    dir: &str,
    _cluster: Option<&str>,
    decls: &[ComponentDecl],
    _extra: &[ComponentDecl],
) -> Vec<Component> {
    let mut out = Vec::new();
    for c in decls {
        if c.enabled == Some(false) {
            continue;
        }
        let values = c
            .values
            .iter()
            .map(|v| (rel_join(dir, &v.v), file.to_string(), v.span.clone()))
            .collect();
        if let Some(comp) = finish_component(loader, charts, file, c, values) {
            out.push(comp);
        }
    }
    order_components(loader, file, out, true)
}

/// Checks a component's chart and values files and builds it.
fn finish_component(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    chart_file: &str,
    c: &ComponentDecl,
    values: Vec<(String, String, std::ops::Range<usize>)>,
) -> Option<Component> {
    let mut ok = true;
    let chart = match (&c.chart, &c.remote_chart) {
        (Some(ch), _) => {
            let path = rel_join("", &ch.v);
            if !chart_info(loader, charts, &path) {
                let msg = if ch.v.starts_with('/') || path.starts_with("..") {
                    format!("chart path `{}` is outside the workspace", ch.v)
                } else {
                    format!("chart `{}` not found: no `{}/Chart.yaml`", ch.v, path)
                };
                loader.problem(
                    loader
                        .problem_at(chart_file, &ch.span, "wayfinder::component::chart", msg)
                        .label("chart path")
                        .help(
                            "chart paths are relative to the workspace root, such as `charts/web`",
                        ),
                );
                ok = false;
            }
            path
        }
        (None, Some(span)) => {
            loader.problem(
                loader
                    .problem_at(
                        chart_file,
                        span,
                        "wayfinder::component::remote_chart",
                        format!(
                            "component `{}` uses a remote chart, which is not supported yet",
                            c.name.v
                        ),
                    )
                    .label("remote chart")
                    .help("vendor the chart into `charts/` and use a workspace path"),
            );
            return None;
        }
        (None, None) => return None,
    };
    let mut layers = Vec::new();
    for (rel, decl_file, span) in values {
        match loader.digest(&rel) {
            Ok(d) => {
                loader.check_values(&rel, d);
                layers.push((rel, d));
            }
            Err(e) => {
                ok = false;
                let p = if decl_file.is_empty() {
                    Problem::file(
                        &rel,
                        "wayfinder::values::missing",
                        format!("cannot read values file: {e}"),
                    )
                } else {
                    loader.problem_at(
                        &decl_file,
                        &span,
                        "wayfinder::values::missing",
                        format!("values file `{rel}` not found"),
                    )
                };
                loader.problem(
                    p.label("listed here")
                        .help("values paths are relative to the file that lists them"),
                );
            }
        }
    }
    if !ok {
        return None;
    }
    Some(Component {
        name: c.name.v.clone(),
        chart,
        release: c.release.as_ref().map_or(c.name.v.clone(), |r| r.v.clone()),
        namespace: c
            .namespace
            .as_ref()
            .map_or("default".to_string(), |n| n.v.clone()),
        values: layers,
        needs: c.needs.iter().map(|n| n.v.clone()).collect(),
    })
}

/// Digests a chart directory once; false if it is not a chart.
fn chart_info(
    loader: &Loader<'_>,
    charts: &Mutex<BTreeMap<String, Option<ChartInfo>>>,
    path: &str,
) -> bool {
    if let Ok(m) = charts.lock() {
        if let Some(v) = m.get(path) {
            return v.is_some();
        }
    }
    let info = if path.starts_with("..")
        || path.is_empty()
        || !loader.root.join(path).join("Chart.yaml").is_file()
    {
        None
    } else {
        let mut files = Vec::new();
        walk_files(&loader.root, path, &mut files, 0);
        let digests: Vec<(String, Digest<Blob>)> = files
            .into_iter()
            .filter_map(|f| loader.digest(&f).ok().map(|d| (f, d)))
            .collect();
        let base = path.rsplit('/').next().unwrap_or(path);
        Some(ChartInfo {
            path: path.to_string(),
            target: format!("chart:{base}"),
            files: digests,
        })
    };
    let ok = info.is_some();
    if let Ok(mut m) = charts.lock() {
        m.insert(path.to_string(), info);
    }
    ok
}

/// Checks `needs` (known names, no cycle) and orders components: dependencies first.
fn order_components(
    loader: &Loader<'_>,
    file: &str,
    comps: Vec<Component>,
    report: bool,
) -> Vec<Component> {
    if comps.iter().all(|c| c.needs.is_empty()) {
        let mut comps = comps;
        comps.sort_by(|a, b| a.name.cmp(&b.name));
        return comps;
    }
    if let Some(ordered) = install_order(&comps) {
        return ordered;
    }
    let owned: BTreeSet<String> = comps.iter().map(|c| c.name.clone()).collect();
    let names: BTreeSet<&str> = owned.iter().map(String::as_str).collect();
    let needs: Vec<(String, Vec<String>)> = comps
        .iter()
        .map(|c| (c.name.clone(), c.needs.clone()))
        .collect();
    let mut edges = Vec::new();
    for (cname, cneeds) in &needs {
        for n in cneeds {
            if !names.contains(n.as_str()) {
                if !report {
                    continue;
                }
                let help = match did_you_mean(n, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "`needs` lists components of the same voyage or cluster".to_string(),
                };
                let msg = format!("component `{cname}` needs unknown component `{n}`");
                loader.problem(
                    needs_entry_problem(loader, file, cname, n, msg)
                        .label("unknown component")
                        .help(help),
                );
            } else {
                edges.push((cname.as_str(), n.as_str()));
            }
        }
    }
    if let Some(cycle) = find_cycle(edges.iter().copied()) {
        if !report {
            return comps;
        }
        let text = cycle
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(" → ");
        let line_hint = std::fs::read_to_string(loader.root.join(file))
            .ok()
            .and_then(|t| {
                let t = Arc::new(t);
                let needle = "needs";
                let from = cycle
                    .first()
                    .and_then(|c| t.find(&format!("[components.{c}]")))
                    .unwrap_or(0);
                t[from..].find(needle).map(|i| i + from).map(|i| {
                    Problem::at(
                        file,
                        &t,
                        i..i + needle.len(),
                        "wayfinder::component::needs_cycle",
                        format!("`needs` forms a cycle: {text}"),
                    )
                })
            });
        let p = line_hint.unwrap_or_else(|| {
            Problem::file(
                file,
                "wayfinder::component::needs_cycle",
                format!("`needs` forms a cycle: {text}"),
            )
        });
        loader.problem(
            p.label("cycle")
                .help("remove one of the `needs` entries along the cycle"),
        );
        return comps;
    }
    // Topological order with ties broken by name.
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    let mut rest: Vec<Component> = comps;
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    while !rest.is_empty() {
        let pos = rest.iter().position(|c| {
            c.needs
                .iter()
                .all(|n| done.contains(n) || !names.contains(n.as_str()))
        });
        let Some(pos) = pos else { break };
        let c = rest.remove(pos);
        done.insert(c.name.clone());
        out.push(c);
    }
    out.extend(rest);
    out
}

/// Components with `needs` first, ties by name; `None` when `needs` has a cycle or an unknown
/// name (the slow path reports it).
fn install_order(comps: &[Component]) -> Option<Vec<Component>> {
    let mut rest: Vec<&Component> = comps.iter().collect();
    rest.sort_by(|a, b| a.name.cmp(&b.name));
    if rest
        .iter()
        .any(|c| c.needs.iter().any(|n| !rest.iter().any(|o| &o.name == n)))
    {
        return None;
    }
    let mut out: Vec<Component> = Vec::with_capacity(rest.len());
    while !rest.is_empty() {
        let pos = rest
            .iter()
            .position(|c| c.needs.iter().all(|n| out.iter().any(|o| &o.name == n)))?;
        out.push(rest.remove(pos).clone());
    }
    Some(out)
}

/// A problem pointing at the `"NAME"` entry of `needs` in the table of component `cname`.
fn needs_entry_problem(
    loader: &Loader<'_>,
    file: &str,
    cname: &str,
    n: &str,
    msg: String,
) -> Problem {
    let code = "wayfinder::component::needs";
    let Ok(text) = std::fs::read_to_string(loader.root.join(file)) else {
        return Problem::file(file, code, msg);
    };
    let text = Arc::new(text);
    let from = text
        .find(&format!("[components.{cname}]"))
        .or_else(|| text.find(&format!("[components.\"{cname}\"]")))
        .unwrap_or(0);
    let span = text[from..].find("needs").and_then(|i| {
        let at = from + i;
        let quoted = format!("\"{n}\"");
        text[at..]
            .find(&quoted)
            .map(|j| at + j..at + j + quoted.len())
    });
    match span {
        Some(span) => Problem::at(file, &text, span, code, msg),
        None => Problem::file(file, code, msg),
    }
}
