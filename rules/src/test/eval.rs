//! Evaluating admission policies against a cluster's rendered objects, offline, with the API
//! server's semantics (every object is a `CREATE` request):
//!
//! 1. Bindings: each binding of the policy (a policy no binding names gets an implicit one with
//!    `validationActions: [Deny]`).
//! 2. Matching: the policy's `matchConstraints` and the binding's `matchResources`, each
//!    `resourceRules` (kinds mapped to resources) minus `excludeResourceRules`,
//!    `namespaceSelector` (labels of the Namespace object rendered in the cluster, plus
//!    `kubernetes.io/metadata.name`), `objectSelector`.
//! 3. Params: `paramKind` + the binding's `paramRef` (by name or selector, in `namespace` or the
//!    object's namespace) among the cluster's objects and the workspace's policy files;
//!    none found: `parameterNotFoundAction` (`Allow` skips, `Deny` fails).
//! 4. `matchConditions` (all true), `variables` (in order, as `variables.NAME`), then each
//!    validation: false is a violation (`messageExpression`, `message`, or the expression);
//!    a runtime error counts as a violation only with `failurePolicy: Fail`.
//! 5. A violation is an error when the binding's `validationActions` has `Deny`, else a warning.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Value};
use wayfinder_render::Data;

use super::objects::{builtin, group_of, resource_of, Obj};
use super::policy::{env, Binding, Expression, Match, Policy, Rule, Selector};

/// What a cluster offers policies besides the object under test.
pub(crate) struct Cluster<'a> {
    /// `(group, kind)` → `(plural, namespaced)` of its CRDs.
    pub crds: &'a BTreeMap<(String, String), (String, bool)>,
    /// Rendered Namespace objects by name.
    pub namespaces: &'a BTreeMap<String, &'a Obj>,
    /// Objects params can come from (the cluster's, then the policy files').
    pub params: &'a [&'a Obj],
}

/// One failed validation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Violation {
    pub rule: String,
    pub message: String,
    /// `Deny` among the binding's actions.
    pub deny: bool,
}

/// An object with its effective namespace and its CEL form (built once).
pub(crate) struct Subject<'a> {
    pub obj: &'a Obj,
    /// The namespace it lands in (`""` for cluster-scoped objects).
    pub namespace: String,
    pub resource: String,
    pub namespaced: bool,
    cel: Option<Value>,
}

impl<'a> Subject<'a> {
    pub(crate) fn new(obj: &'a Obj, component_ns: &str, c: &Cluster<'_>) -> Subject<'a> {
        let (resource, namespaced) = resource_of(obj, c.crds);
        let namespace = if !namespaced {
            String::new()
        } else if obj.namespace.is_empty() {
            component_ns.to_string()
        } else {
            obj.namespace.clone()
        };
        Subject {
            obj,
            namespace,
            resource,
            namespaced,
            cel: None,
        }
    }

    fn value(&mut self) -> Value {
        self.cel
            .get_or_insert_with(|| to_cel(&self.obj.data, 0))
            .clone()
    }
}

/// Converts YAML data to a CEL value (integral numbers are ints, as in JSON decoding by schema).
pub(crate) fn to_cel(d: &Data, depth: usize) -> Value {
    if depth > 200 {
        return Value::Null;
    }
    match d {
        Data::Null => Value::Null,
        Data::Bool(b) => Value::Bool(*b),
        Data::Int(i) => Value::Int(*i),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 => {
            Value::Int(*f as i64)
        }
        Data::Float(f) => Value::Float(*f),
        Data::String(s) => Value::String(Arc::new(s.clone())),
        Data::List(l) => Value::List(Arc::new(l.iter().map(|x| to_cel(x, depth + 1)).collect())),
        Data::Map(m) => Value::Map(Map {
            map: Arc::new(
                m.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v, depth + 1)))
                    .collect::<HashMap<_, _>>(),
            ),
        }),
    }
}

fn str_map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(Map {
        map: Arc::new(
            pairs
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.to_string())), v.clone()))
                .collect(),
        ),
    })
}

fn s(v: &str) -> Value {
    Value::String(Arc::new(v.to_string()))
}

/// Evaluates one policy through one binding against one object.
pub(crate) fn evaluate(
    policy: &Policy,
    binding: &Binding,
    subject: &mut Subject<'_>,
    c: &Cluster<'_>,
) -> Vec<Violation> {
    let Some(constraints) = &policy.constraints else {
        return Vec::new();
    };
    if !matches(constraints, subject, c) {
        return Vec::new();
    }
    if let Some(m) = &binding.matches {
        if !matches(m, subject, c) {
            return Vec::new();
        }
    }
    let deny = binding.actions.iter().any(|a| a == "Deny");
    let rule = if binding.name.is_empty() {
        policy.name.clone()
    } else {
        format!("{} (binding {})", policy.name, binding.name)
    };
    let violation = |message: String| Violation {
        rule: rule.clone(),
        message,
        deny,
    };
    // Params.
    let params: Vec<Option<&Obj>> = match &policy.param_kind {
        None => vec![None],
        Some((api_version, kind)) => {
            let Some(r) = &binding.param_ref else {
                return if policy.fail_closed {
                    vec![violation(format!(
                        "the policy has paramKind `{kind}` but its binding has no `paramRef`"
                    ))]
                } else {
                    Vec::new()
                };
            };
            let namespaced = builtin(group_of(api_version), kind).is_none_or(|(_, n)| n);
            let ns = match (&r.namespace, namespaced) {
                (Some(n), _) => n.clone(),
                (None, true) => subject.namespace.clone(),
                (None, false) => String::new(),
            };
            let found: Vec<Option<&Obj>> = c
                .params
                .iter()
                .copied()
                .filter(|p| &p.api_version == api_version && &p.kind == kind)
                .filter(|p| !namespaced || p.namespace == ns)
                .filter(|p| match (&r.name, &r.selector) {
                    (Some(n), _) => &p.name == n,
                    (None, Some(sel)) => sel.matches(&p.labels()),
                    (None, None) => false,
                })
                .map(Some)
                .collect();
            if found.is_empty() {
                return if r.deny_when_missing {
                    vec![violation(format!(
                        "no params found: no `{kind}` matches the binding's paramRef (parameterNotFoundAction: Deny)"
                    ))]
                } else {
                    Vec::new()
                };
            }
            found
        }
    };
    let object = subject.value();
    let ns_object = c
        .namespaces
        .get(&subject.namespace)
        .map(|o| to_cel(&o.data, 0))
        .unwrap_or(Value::Null);
    let request = str_map(&[
        ("operation", s("CREATE")),
        ("name", s(&subject.obj.name)),
        ("namespace", s(&subject.namespace)),
        ("dryRun", Value::Bool(true)),
        (
            "kind",
            str_map(&[
                ("group", s(subject.obj.group())),
                ("version", s(subject.obj.version())),
                ("kind", s(&subject.obj.kind)),
            ]),
        ),
        (
            "resource",
            str_map(&[
                ("group", s(subject.obj.group())),
                ("version", s(subject.obj.version())),
                ("resource", s(&subject.resource)),
            ]),
        ),
        ("userInfo", str_map(&[("username", s("wayfinder"))])),
    ]);
    let mut out = Vec::new();
    'params: for param in params {
        let mut ctx = Context::with_env(env());
        ctx.add_variable_from_value("object", object.clone());
        ctx.add_variable_from_value("oldObject", Value::Null);
        ctx.add_variable_from_value("request", request.clone());
        ctx.add_variable_from_value("namespaceObject", ns_object.clone());
        ctx.add_variable_from_value("params", param.map_or(Value::Null, |p| to_cel(&p.data, 0)));
        ctx.add_variable_from_value("variables", str_map(&[]));
        for (name, e) in &policy.conditions {
            match e.program.execute(&ctx) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => continue 'params,
                Ok(other) => {
                    if policy.fail_closed {
                        out.push(violation(format!(
                            "matchCondition `{name}` returned {}, not a bool",
                            type_of(&other)
                        )));
                    }
                    continue 'params;
                }
                Err(err) => {
                    if policy.fail_closed {
                        out.push(violation(format!(
                            "matchCondition `{name}` failed: {err} (failurePolicy: Fail)"
                        )));
                    }
                    continue 'params;
                }
            }
        }
        let mut vars: Vec<(String, Value)> = Vec::new();
        for (name, e) in &policy.variables {
            if let Ok(v) = e.program.execute(&ctx) {
                vars.push((name.clone(), v));
                let pairs: Vec<(&str, Value)> =
                    vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
                ctx.add_variable_from_value("variables", str_map(&pairs));
            }
        }
        for v in &policy.validations {
            match v.expr.program.execute(&ctx) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => {
                    let msg = message(v.message_expr.as_ref(), &ctx)
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", v.expr.text.trim()));
                    out.push(violation(if v.reason == "Invalid" {
                        msg
                    } else {
                        format!("{msg} (reason: {})", v.reason)
                    }));
                }
                Ok(other) => {
                    if policy.fail_closed {
                        out.push(violation(format!(
                            "expression `{}` returned {}, not a bool",
                            v.expr.text.trim(),
                            type_of(&other)
                        )));
                    }
                }
                Err(err) => {
                    if policy.fail_closed {
                        out.push(violation(format!(
                            "expression `{}` failed: {err} (failurePolicy: Fail)",
                            v.expr.text.trim()
                        )));
                    }
                }
            }
        }
    }
    out
}

fn message(e: Option<&Expression>, ctx: &Context<'_, '_>) -> Option<String> {
    match e?.program.execute(ctx) {
        Ok(Value::String(s)) if !s.trim().is_empty() => Some(s.to_string()),
        _ => None,
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "a list",
        Value::Map(_) => "a map",
        Value::Int(_) | Value::UInt(_) => "an int",
        Value::Float(_) => "a double",
        Value::String(_) => "a string",
        Value::Null => "null",
        _ => "a value",
    }
}

fn rule_matches(r: &Rule, subject: &Subject<'_>) -> bool {
    let any = |list: &[String], v: &str| list.iter().any(|x| x == "*" || x == v);
    let resource_ok = r
        .resources
        .iter()
        .any(|x| x == "*" || x == "*/*" || *x == subject.resource);
    let scope_ok = match r.scope.as_str() {
        "Cluster" => !subject.namespaced,
        "Namespaced" => subject.namespaced,
        _ => true,
    };
    any(&r.groups, subject.obj.group())
        && any(&r.versions, subject.obj.version())
        && resource_ok
        && any(&r.operations, "CREATE")
        && scope_ok
        && (r.names.is_empty() || r.names.contains(&subject.obj.name))
}

/// `matchConstraints` / `matchResources` against an object.
fn matches(m: &Match, subject: &Subject<'_>, c: &Cluster<'_>) -> bool {
    if !m.rules.iter().any(|r| rule_matches(r, subject)) {
        return false;
    }
    if m.exclude.iter().any(|r| rule_matches(r, subject)) {
        return false;
    }
    if let Some(sel) = &m.object_selector {
        if !sel.matches(&subject.obj.labels()) {
            return false;
        }
    }
    if let Some(sel) = &m.namespace_selector {
        if !namespace_selected(sel, subject, c) {
            return false;
        }
    }
    true
}

fn namespace_selected(sel: &Selector, subject: &Subject<'_>, c: &Cluster<'_>) -> bool {
    if subject.obj.kind == "Namespace" && subject.obj.group().is_empty() {
        let mut labels = subject.obj.labels();
        labels.insert(
            "kubernetes.io/metadata.name".into(),
            subject.obj.name.clone(),
        );
        return sel.matches(&labels);
    }
    if !subject.namespaced {
        return true;
    }
    let mut labels = c
        .namespaces
        .get(&subject.namespace)
        .map(|o| o.labels())
        .unwrap_or_default();
    labels.insert(
        "kubernetes.io/metadata.name".into(),
        subject.namespace.clone(),
    );
    sel.matches(&labels)
}

#[cfg(test)]
mod tests {
    use super::super::objects::split_manifest;
    use super::super::policy::{parse_file, PolicySet};
    use super::*;

    fn policies(text: &str) -> PolicySet {
        let mut set = PolicySet::default();
        let mut problems = Vec::new();
        parse_file(
            "p.yaml",
            &Arc::new(text.to_string()),
            &mut set,
            &mut problems,
        );
        assert!(problems.is_empty(), "{problems:?}");
        set
    }

    fn run(policy_text: &str, manifest: &str) -> Vec<Violation> {
        let set = policies(policy_text);
        let (objs, _) = split_manifest("web", manifest);
        let crds = BTreeMap::new();
        let namespaces: BTreeMap<String, &Obj> = objs
            .iter()
            .filter(|o| o.kind == "Namespace")
            .map(|o| (o.name.clone(), o))
            .collect();
        let mut params: Vec<&Obj> = objs.iter().collect();
        params.extend(set.params.iter());
        let c = Cluster {
            crds: &crds,
            namespaces: &namespaces,
            params: &params,
        };
        let implicit = Binding {
            actions: vec!["Deny".into()],
            ..Default::default()
        };
        let mut out = Vec::new();
        for o in &objs {
            let mut subject = Subject::new(o, "web", &c);
            for p in &set.policies {
                let bound: Vec<&Binding> =
                    set.bindings.iter().filter(|b| b.policy == p.name).collect();
                let bindings = if bound.is_empty() {
                    vec![&implicit]
                } else {
                    bound
                };
                for b in bindings {
                    out.extend(evaluate(p, b, &mut subject, &c));
                }
            }
        }
        out
    }

    const POLICY: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: replicas}\nspec:\n  failurePolicy: FP\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n    namespaceSelector: {matchLabels: {env: prod}}\n  matchConditions:\n  - {name: not-excluded, expression: \"!has(object.metadata.labels) || !('skip' in object.metadata.labels)\"}\n  variables:\n  - {name: r, expression: object.spec.replicas}\n  validations:\n  - expression: variables.r >= 2\n    messageExpression: \"'only ' + string(variables.r) + ' replicas'\"\n  - expression: object.spec.missing.field == 1\n";

    fn deploy(ns: &str, replicas: i64, labels: &str) -> String {
        format!("---\n# Source: web/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n  namespace: {ns}\n  labels: {{{labels}}}\nspec:\n  replicas: {replicas}\n")
    }

    const NS: &str = "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod-ns, labels: {env: prod}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: dev-ns, labels: {env: dev}}\n";

    #[test]
    fn validations_messages_and_failure_policy() {
        let fail = POLICY.replace("FP", "Fail");
        let out = run(&fail, &format!("{NS}{}", deploy("prod-ns", 1, "")));
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[0].message, "only 1 replicas");
        assert!(out[0].deny);
        assert!(
            out[1].message.contains("failurePolicy: Fail"),
            "{}",
            out[1].message
        );
        let ignore = POLICY.replace("FP", "Ignore");
        let out = run(&ignore, &format!("{NS}{}", deploy("prod-ns", 1, "")));
        assert_eq!(
            out.len(),
            1,
            "a runtime error is ignored with failurePolicy: Ignore"
        );
    }

    #[test]
    fn namespace_selector_and_match_conditions() {
        let p = POLICY.replace("FP", "Ignore");
        assert!(run(&p, &format!("{NS}{}", deploy("dev-ns", 1, ""))).is_empty());
        assert!(run(&p, &format!("{NS}{}", deploy("prod-ns", 1, "skip: 'yes'"))).is_empty());
        assert_eq!(
            run(&p, &format!("{NS}{}", deploy("prod-ns", 1, "a: b"))).len(),
            1
        );
        // A namespace not rendered in the cluster has only its name label.
        assert!(run(&p, &deploy("other", 1, "")).is_empty());
    }

    #[test]
    fn bindings_actions_and_params() {
        let text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: max}\nspec:\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*']}\n    excludeResourceRules:\n    - {apiGroups: [''], apiVersions: [v1], operations: ['*'], resources: [configmaps, namespaces]}\n  validations:\n  - expression: object.spec.replicas <= int(params.data.max)\n    message: too many replicas\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: warn-max}\nspec:\n  policyName: max\n  validationActions: [Warn, Audit]\n  paramRef: {name: limits, parameterNotFoundAction: Deny}\n";
        let cm = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: limits, namespace: prod-ns}\ndata: {max: '3'}\n";
        let out = run(text, &format!("{cm}{}", deploy("prod-ns", 5, "")));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].message, "too many replicas");
        assert!(!out[0].deny, "Warn and Audit only warn");
        assert_eq!(out[0].rule, "max (binding warn-max)");
        assert!(run(text, &format!("{cm}{}", deploy("prod-ns", 3, ""))).is_empty());
        // The param lives in another namespace: not found, and the binding says Deny.
        let out = run(text, &format!("{cm}{}", deploy("dev-ns", 1, "")));
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.starts_with("no params found"),
            "{}",
            out[0].message
        );
    }
}
