//! Structural checks of a cluster's objects, across its components:
//!
//! - `duplicate-object`: two objects with the same group, kind, namespace and name;
//! - `unknown-namespace`: a namespaced object whose `metadata.namespace` is neither its
//!   component's namespace, nor another component's, nor a Namespace the cluster renders, nor
//!   one every cluster has (`default`, `kube-system`, `kube-public`, `kube-node-lease`);
//! - `deprecated-api` / `removed-api`: an API version deprecated or removed at the cluster's
//!   Kubernetes version (`rules/data/deprecated-apis.tsv`).

use std::collections::{BTreeMap, BTreeSet};

use super::eval::Subject;
use super::report::Finding;

const TABLE: &str = include_str!("../../data/deprecated-apis.tsv");

const BUILTIN_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// `(major, minor)` of `1.31.0`, `v1.31`.
pub(crate) fn minor_version(v: &str) -> Option<(u64, u64)> {
    let v = v.trim().trim_start_matches('v');
    let mut it = v.split(['.', '-', '+']);
    let major = it.next()?.parse().ok()?;
    let minor = it.next()?.parse().ok()?;
    Some((major, minor))
}

/// `(major, minor)` of a Kubernetes version.
type Minor = (u64, u64);

/// `(deprecated in, removed in, replacement)` of an API version and kind.
fn lookup(api_version: &str, kind: &str) -> Option<(Option<Minor>, Option<Minor>, &'static str)> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|c| c.len() >= 5 && c[0] == api_version && c[1] == kind)
        .map(|c| (minor_version(c[2]), minor_version(c[3]), c[4]))
}

/// Runs the structural checks; `namespaces` are the component namespaces of the cluster and
/// the Namespace objects it renders.
pub(crate) fn check(
    subjects: &[Subject<'_>],
    component_ns: &BTreeMap<String, String>,
    namespaces: &BTreeSet<String>,
    kube_version: Option<(u64, u64)>,
    out: &mut Vec<Finding>,
) {
    let mut seen: BTreeMap<(String, String, String, String), usize> = BTreeMap::new();
    for (i, s) in subjects.iter().enumerate() {
        let o = s.obj;
        let key = (
            o.group().to_string(),
            o.kind.clone(),
            s.namespace.clone(),
            o.name.clone(),
        );
        if let Some(&first) = seen.get(&key) {
            let f = subjects[first].obj;
            out.push(Finding::error(
                o,
                "structure",
                "duplicate-object",
                format!(
                    "{} is also defined by component `{}` (`{}`)",
                    o.display(),
                    f.component,
                    f.source
                ),
            ));
        } else {
            seen.insert(key, i);
        }
        if s.namespaced && !o.namespace.is_empty() {
            let own = component_ns
                .get(&o.component)
                .map(String::as_str)
                .unwrap_or("");
            if o.namespace != own
                && !namespaces.contains(&o.namespace)
                && !BUILTIN_NAMESPACES.contains(&o.namespace.as_str())
            {
                out.push(Finding::error(
                    o,
                    "structure",
                    "unknown-namespace",
                    format!(
                        "namespace `{}` is neither the component's namespace (`{own}`) nor created in the cluster",
                        o.namespace
                    ),
                ));
            }
        }
        if let (Some(kv), Some((deprecated, removed, instead))) =
            (kube_version, lookup(&o.api_version, &o.kind))
        {
            if removed.is_some_and(|r| kv >= r) {
                let (ma, mi) = removed.unwrap_or_default();
                out.push(Finding::error(
                    o,
                    "structure",
                    "removed-api",
                    format!(
                        "`{}` {} was removed in Kubernetes {ma}.{mi} (the cluster runs {}.{}): use `{instead}`",
                        o.api_version, o.kind, kv.0, kv.1
                    ),
                ));
            } else if deprecated.is_some_and(|d| kv >= d) {
                let (ma, mi) = deprecated.unwrap_or_default();
                let until = removed
                    .map(|(a, b)| format!(", removed in {a}.{b}"))
                    .unwrap_or_default();
                out.push(Finding::warning(
                    o,
                    "structure",
                    "deprecated-api",
                    format!(
                        "`{}` {} is deprecated since Kubernetes {ma}.{mi}{until}: use `{instead}`",
                        o.api_version, o.kind
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::eval::{Cluster, Subject};
    use super::super::objects::{split_manifest, Obj};
    use super::*;

    fn findings(manifests: &[(&str, &str)], kube: &str) -> Vec<Finding> {
        let mut objs: Vec<Obj> = Vec::new();
        let mut comp_ns = BTreeMap::new();
        for (comp, text) in manifests {
            objs.extend(split_manifest(comp, text).0);
            comp_ns.insert(comp.to_string(), format!("{comp}-ns"));
        }
        let crds = BTreeMap::new();
        let nss = BTreeMap::new();
        let c = Cluster {
            crds: &crds,
            namespaces: &nss,
            params: &[],
        };
        let subjects: Vec<Subject<'_>> = objs
            .iter()
            .map(|o| Subject::new(o, &comp_ns[&o.component], &c))
            .collect();
        let mut names: BTreeSet<String> = comp_ns.values().cloned().collect();
        names.insert("made".into());
        let mut out = Vec::new();
        check(&subjects, &comp_ns, &names, minor_version(kube), &mut out);
        out
    }

    #[test]
    fn duplicates_across_components_by_effective_namespace() {
        let a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shared-ns}\n";
        let b = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
        let out = findings(&[("shared", a), ("other", b)], "1.31.0");
        assert!(out.is_empty(), "different namespaces: {out:?}");
        let out = findings(&[("shared", b), ("web", a)], "1.31.0");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].rule, "duplicate-object");
        assert_eq!(out[0].component, "web");
        assert!(out[0]
            .message
            .contains("also defined by component `shared`"));
    }

    #[test]
    fn namespaces_must_exist() {
        let m = "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: nowhere}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: made}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: u, namespace: kube-system}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: ignored}\n";
        let out = findings(&[("web", m)], "1.31.0");
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].rule, "unknown-namespace");
        assert_eq!(out[0].name, "s");
    }

    #[test]
    fn deprecated_and_removed_versions() {
        let m = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: p}\n";
        let out = findings(&[("web", m)], "1.24.3");
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "deprecated-api");
        assert!(!out[0].error);
        let out = findings(&[("web", m)], "v1.25.0");
        assert_eq!(out[0].rule, "removed-api");
        assert!(out[0].error);
        assert!(
            out[0].message.contains("use `policy/v1`"),
            "{}",
            out[0].message
        );
        assert!(findings(&[("web", m)], "1.20.0").is_empty());
    }
}
