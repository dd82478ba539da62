//! Policy files: `ValidatingAdmissionPolicy` and `ValidatingAdmissionPolicyBinding`
//! (`admissionregistration.k8s.io/v1`) read from YAML, checked, their CEL compiled once.
//!
//! A policy file may also hold other objects: they are *params* a binding's `paramRef` can
//! name, next to the params rendered in the cluster. Every problem (bad YAML, a missing field,
//! CEL that does not compile, a binding naming no policy) is a [`Problem`] pointing at the file
//! and the expression: the run stops with exit code 2 before anything is evaluated.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Env, Program};
use wayfinder_render::Data;

use super::objects::{get_path, get_str, split_manifest, Obj};
use crate::diag::Problem;

const API_VERSION: &str = "admissionregistration.k8s.io/v1";

/// The CEL environment of admission policies: the standard library with the string and list
/// extensions Kubernetes enables.
pub(crate) fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        env.set_error_on_duplicate_map_keys(false);
        Arc::new(env)
    })
    .clone()
}

/// Names a CEL expression of a policy may use without declaring them.
const GLOBALS: &[&str] = &[
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "variables",
    "authorizer",
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "type",
    "null_type",
    "dyn",
];

/// A compiled CEL expression and where it came from.
pub(crate) struct Expression {
    pub text: String,
    pub program: Program,
}

/// A validation of a policy.
pub(crate) struct Validation {
    pub expr: Expression,
    pub message: Option<String>,
    pub message_expr: Option<Expression>,
    pub reason: String,
}

/// A label selector (`matchLabels` and `matchExpressions`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Selector {
    pub labels: BTreeMap<String, String>,
    /// `(key, operator, values)`: `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub exprs: Vec<(String, String, Vec<String>)>,
}

impl Selector {
    pub(crate) fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.exprs.iter().all(|(k, op, vals)| match op.as_str() {
                "In" => labels.get(k).is_some_and(|v| vals.contains(v)),
                "NotIn" => labels.get(k).is_none_or(|v| !vals.contains(v)),
                "Exists" => labels.contains_key(k),
                "DoesNotExist" => !labels.contains_key(k),
                _ => false,
            })
    }
}

/// A `resourceRules` / `excludeResourceRules` entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rule {
    pub groups: Vec<String>,
    pub versions: Vec<String>,
    pub resources: Vec<String>,
    pub operations: Vec<String>,
    pub names: Vec<String>,
    /// `Cluster`, `Namespaced` or `*`.
    pub scope: String,
}

/// `matchConstraints` of a policy or `matchResources` of a binding.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Match {
    pub namespace_selector: Option<Selector>,
    pub object_selector: Option<Selector>,
    pub rules: Vec<Rule>,
    pub exclude: Vec<Rule>,
}

/// A `ValidatingAdmissionPolicy`.
pub(crate) struct Policy {
    pub name: String,
    /// `failurePolicy: Fail` (the default) rather than `Ignore`.
    pub fail_closed: bool,
    /// `paramKind`: `(apiVersion, kind)`.
    pub param_kind: Option<(String, String)>,
    pub constraints: Option<Match>,
    pub conditions: Vec<(String, Expression)>,
    pub variables: Vec<(String, Expression)>,
    pub validations: Vec<Validation>,
}

/// A `paramRef` of a binding.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ParamRef {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub selector: Option<Selector>,
    /// `parameterNotFoundAction: Deny` (else `Allow`).
    pub deny_when_missing: bool,
}

/// A `ValidatingAdmissionPolicyBinding` (or the implicit one of an unbound policy).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Binding {
    pub name: String,
    pub file: String,
    pub policy: String,
    pub param_ref: Option<ParamRef>,
    pub matches: Option<Match>,
    /// `Deny`, `Warn`, `Audit`.
    pub actions: Vec<String>,
}

/// The parsed content of policy files.
#[derive(Default)]
pub(crate) struct PolicySet {
    pub policies: Vec<Arc<Policy>>,
    pub bindings: Vec<Binding>,
    /// Other objects of the files: params.
    pub params: Vec<Obj>,
}

impl PolicySet {
    /// Adds another set (a voyage's on top of the workspace's).
    pub(crate) fn extend(&mut self, other: &PolicySet) {
        self.policies.extend(other.policies.iter().cloned());
        self.bindings.extend(other.bindings.iter().cloned());
        self.params.extend(other.params.iter().cloned());
    }
}

/// Reads one policy file (`rel`, its text) into `set`; problems go to `problems`.
pub(crate) fn parse_file(
    rel: &str,
    text: &Arc<String>,
    set: &mut PolicySet,
    problems: &mut Vec<Problem>,
) {
    let (objs, bad) = split_manifest("", text);
    for b in bad {
        let line = yaml_error_line(text, &b.message);
        let p = match line {
            Some(l) => Problem::at_line(rel, text, l, "wayfinder::test::policy_yaml", b.message),
            None => Problem::file(rel, "wayfinder::test::policy_yaml", b.message),
        };
        problems.push(p.help("a policy file holds YAML documents: ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding and their params"));
    }
    for o in objs {
        let mut f = FileCtx {
            rel,
            text,
            problems,
        };
        match (o.api_version.as_str(), o.kind.as_str()) {
            (API_VERSION, "ValidatingAdmissionPolicy") => {
                if let Some(p) = f.policy(&o) {
                    set.policies.push(Arc::new(p));
                }
            }
            (API_VERSION, "ValidatingAdmissionPolicyBinding") => {
                if let Some(b) = f.binding(&o) {
                    set.bindings.push(b);
                }
            }
            (v, k @ ("ValidatingAdmissionPolicy" | "ValidatingAdmissionPolicyBinding")) => {
                let p = f.at(&o.name, format!("`{k}` `{}` has apiVersion `{v}`", o.name));
                problems.push(p.help(format!("use `apiVersion: {API_VERSION}`")));
            }
            _ => set.params.push(o),
        }
    }
}

/// The line of a go-yaml message (`yaml: line 3: …`), relative to the whole file.
fn yaml_error_line(_text: &str, message: &str) -> Option<usize> {
    let rest = message.split("line ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

struct FileCtx<'a> {
    rel: &'a str,
    text: &'a Arc<String>,
    problems: &'a mut Vec<Problem>,
}

impl FileCtx<'_> {
    /// A problem at the first line holding `needle` (the whole file when none does).
    fn at(&self, needle: &str, message: String) -> Problem {
        let first = needle
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        match (!first.is_empty()).then(|| self.text.find(first)).flatten() {
            Some(pos) => Problem::at(
                self.rel,
                self.text,
                pos..pos + first.len(),
                "wayfinder::test::policy",
                message,
            ),
            None => Problem::file(self.rel, "wayfinder::test::policy", message),
        }
    }

    fn problem(&mut self, needle: &str, message: String, help: Option<&str>) {
        let mut p = self.at(needle, message);
        if let Some(h) = help {
            p = p.help(h);
        }
        self.problems.push(p);
    }

    /// Compiles a CEL expression; `what` names it in messages (`validations[0].expression`).
    fn compile(
        &mut self,
        owner: &str,
        what: &str,
        text: &str,
        extra: &BTreeSet<String>,
    ) -> Option<Expression> {
        if text.trim().is_empty() {
            self.problem(owner, format!("`{owner}`: `{what}` is empty"), None);
            return None;
        }
        match env().compile(text) {
            Ok(program) => {
                let mut free = BTreeSet::new();
                free_idents(program.expression(), &mut Vec::new(), &mut free, 0);
                if let Some(bad) = free
                    .iter()
                    .find(|n| !GLOBALS.contains(&n.as_str()) && !extra.contains(*n))
                {
                    let msg = format!("`{owner}`: `{what}` does not compile: undeclared reference to `{bad}` in `{}`", text.trim());
                    self.problem(text, msg, Some("policies see `object`, `oldObject`, `request`, `params`, `namespaceObject` and `variables`"));
                    return None;
                }
                Some(Expression {
                    text: text.to_string(),
                    program,
                })
            }
            Err(e) => {
                let detail = e.to_string().replace('\n', " ");
                let msg = format!("`{owner}`: `{what}` does not compile: {detail}");
                self.problem(
                    text,
                    msg,
                    Some("see https://kubernetes.io/docs/reference/using-api/cel/"),
                );
                None
            }
        }
    }

    fn policy(&mut self, o: &Obj) -> Option<Policy> {
        let name = o.name.clone();
        if name.is_empty() {
            self.problem(
                "ValidatingAdmissionPolicy",
                "a ValidatingAdmissionPolicy has no `metadata.name`".into(),
                None,
            );
            return None;
        }
        let spec = get_path(&o.data, &["spec"]).cloned().unwrap_or_default();
        let before = self.problems.len();
        let fail_closed = match get_str(&spec, &["failurePolicy"]) {
            "" | "Fail" => true,
            "Ignore" => false,
            other => {
                self.problem(
                    &format!("failurePolicy: {other}"),
                    format!("`{name}`: unknown failurePolicy `{other}`"),
                    Some("use `Fail` or `Ignore`"),
                );
                true
            }
        };
        let param_kind = get_path(&spec, &["paramKind"]).map(|p| {
            (
                get_str(p, &["apiVersion"]).to_string(),
                get_str(p, &["kind"]).to_string(),
            )
        });
        let constraints = get_path(&spec, &["matchConstraints"]).map(|m| self.matches(&name, m));
        if constraints.as_ref().is_none_or(|m| m.rules.is_empty()) {
            self.problem(&name, format!("`{name}` has no `spec.matchConstraints.resourceRules`"), Some("say which resources the policy checks, e.g. `resourceRules: [{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}]`"));
        }
        let mut conditions = Vec::new();
        for (i, c) in list(&spec, "matchConditions").iter().enumerate() {
            let cname = get_str(c, &["name"]).to_string();
            let text = get_str(c, &["expression"]);
            if let Some(e) = self.compile(
                &name,
                &format!("matchConditions[{i}].expression"),
                text,
                &BTreeSet::new(),
            ) {
                conditions.push((cname, e));
            }
        }
        let mut variables = Vec::new();
        let mut known = BTreeSet::new();
        for (i, v) in list(&spec, "variables").iter().enumerate() {
            let vname = get_str(v, &["name"]).to_string();
            let text = get_str(v, &["expression"]);
            if vname.is_empty() {
                self.problem(
                    text,
                    format!("`{name}`: `variables[{i}]` has no name"),
                    None,
                );
                continue;
            }
            if let Some(e) =
                self.compile(&name, &format!("variables[{i}].expression"), text, &known)
            {
                variables.push((vname.clone(), e));
            }
            known.insert(vname);
        }
        let mut validations = Vec::new();
        let vals = list(&spec, "validations");
        if vals.is_empty() {
            self.problem(
                &name,
                format!("`{name}` has no `spec.validations`"),
                Some("add at least one validation with an `expression`"),
            );
        }
        for (i, v) in vals.iter().enumerate() {
            let text = get_str(v, &["expression"]);
            let expr = self.compile(
                &name,
                &format!("validations[{i}].expression"),
                text,
                &BTreeSet::new(),
            );
            let message_expr = match get_str(v, &["messageExpression"]) {
                "" => None,
                m => self.compile(
                    &name,
                    &format!("validations[{i}].messageExpression"),
                    m,
                    &BTreeSet::new(),
                ),
            };
            let message = Some(get_str(v, &["message"]).to_string()).filter(|m| !m.is_empty());
            let reason = Some(get_str(v, &["reason"]).to_string())
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "Invalid".into());
            if let Some(expr) = expr {
                validations.push(Validation {
                    expr,
                    message,
                    message_expr,
                    reason,
                });
            }
        }
        (self.problems.len() == before).then_some(Policy {
            name,
            fail_closed,
            param_kind,
            constraints,
            conditions,
            variables,
            validations,
        })
    }

    fn binding(&mut self, o: &Obj) -> Option<Binding> {
        let name = o.name.clone();
        let spec = get_path(&o.data, &["spec"]).cloned().unwrap_or_default();
        let policy = get_str(&spec, &["policyName"]).to_string();
        let before = self.problems.len();
        if policy.is_empty() {
            self.problem(
                &name,
                format!("binding `{name}` has no `spec.policyName`"),
                None,
            );
        }
        let mut actions = Vec::new();
        for a in list(&spec, "validationActions") {
            match a {
                Data::String(s) if matches!(s.as_str(), "Deny" | "Warn" | "Audit") => {
                    actions.push(s.clone())
                }
                other => {
                    let shown = wayfinder_render::yaml::to_yaml(&other).trim().to_string();
                    self.problem(
                        &shown,
                        format!("binding `{name}`: unknown validationAction `{shown}`"),
                        Some("use `Deny`, `Warn` or `Audit`"),
                    );
                }
            }
        }
        if actions.is_empty() && self.problems.len() == before {
            self.problem(
                &name,
                format!("binding `{name}` has no `spec.validationActions`"),
                Some("add `validationActions: [Deny]`"),
            );
        }
        let param_ref = get_path(&spec, &["paramRef"]).map(|p| ParamRef {
            name: Some(get_str(p, &["name"]).to_string()).filter(|s| !s.is_empty()),
            namespace: Some(get_str(p, &["namespace"]).to_string()).filter(|s| !s.is_empty()),
            selector: get_path(p, &["selector"]).map(selector),
            deny_when_missing: get_str(p, &["parameterNotFoundAction"]) == "Deny",
        });
        if let Some(p) = &param_ref {
            if p.name.is_some() == p.selector.is_some() {
                self.problem(
                    "paramRef",
                    format!(
                        "binding `{name}`: `paramRef` needs exactly one of `name` and `selector`"
                    ),
                    None,
                );
            }
        }
        let matches = get_path(&spec, &["matchResources"]).map(|m| self.matches(&name, m));
        (self.problems.len() == before).then_some(Binding {
            name,
            file: self.rel.to_string(),
            policy,
            param_ref,
            matches,
            actions,
        })
    }

    fn matches(&mut self, owner: &str, m: &Data) -> Match {
        let rules = |key: &str| -> Vec<Rule> {
            list(m, key)
                .iter()
                .map(|r| Rule {
                    groups: strings(r, "apiGroups"),
                    versions: strings(r, "apiVersions"),
                    resources: strings(r, "resources"),
                    operations: strings(r, "operations"),
                    names: strings(r, "resourceNames"),
                    scope: Some(get_str(r, &["scope"]).to_string())
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| "*".into()),
                })
                .collect()
        };
        let out = Match {
            namespace_selector: get_path(m, &["namespaceSelector"]).map(selector),
            object_selector: get_path(m, &["objectSelector"]).map(selector),
            rules: rules("resourceRules"),
            exclude: rules("excludeResourceRules"),
        };
        for sel in [&out.namespace_selector, &out.object_selector]
            .into_iter()
            .flatten()
        {
            if let Some((_, op, _)) = sel.exprs.iter().find(|(_, op, _)| {
                !matches!(op.as_str(), "In" | "NotIn" | "Exists" | "DoesNotExist")
            }) {
                self.problem(
                    &format!("operator: {op}"),
                    format!("`{owner}`: unknown selector operator `{op}`"),
                    Some("use `In`, `NotIn`, `Exists` or `DoesNotExist`"),
                );
            }
        }
        out
    }
}

fn list(d: &Data, key: &str) -> Vec<Data> {
    match get_path(d, &[key]) {
        Some(Data::List(l)) => l.clone(),
        _ => Vec::new(),
    }
}

fn strings(d: &Data, key: &str) -> Vec<String> {
    list(d, key)
        .into_iter()
        .filter_map(|v| match v {
            Data::String(s) => Some(s),
            _ => None,
        })
        .collect()
}

pub(crate) fn selector(d: &Data) -> Selector {
    let mut s = Selector::default();
    if let Some(Data::Map(m)) = get_path(d, &["matchLabels"]) {
        for (k, v) in m {
            if let Data::String(v) = v {
                s.labels.insert(k.clone(), v.clone());
            }
        }
    }
    for e in list(d, "matchExpressions") {
        s.exprs.push((
            get_str(&e, &["key"]).to_string(),
            get_str(&e, &["operator"]).to_string(),
            strings(&e, "values"),
        ));
    }
    s
}

/// Identifiers an expression uses that no comprehension binds.
fn free_idents(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 200 {
        return;
    }
    match &e.expr {
        Expr::Ident(n) => {
            if !bound.iter().any(|b| b == n) {
                out.insert(n.clone());
            }
        }
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                free_idents(t, bound, out, depth + 1);
            }
            for a in &c.args {
                free_idents(a, bound, out, depth + 1);
            }
        }
        Expr::Comprehension(c) => {
            free_idents(&c.iter_range, bound, out, depth + 1);
            free_idents(&c.accu_init, bound, out, depth + 1);
            let n = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            for x in [&c.loop_cond, &c.loop_step, &c.result] {
                free_idents(x, bound, out, depth + 1);
            }
            bound.truncate(n);
        }
        Expr::List(l) => {
            for x in &l.elements {
                free_idents(x, bound, out, depth + 1);
            }
        }
        Expr::Map(m) => entries(&m.entries, bound, out, depth),
        Expr::Struct(s) => entries(&s.entries, bound, out, depth),
        Expr::Select(s) => free_idents(&s.operand, bound, out, depth + 1),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entries(
    es: &[cel::common::ast::IdedEntryExpr],
    bound: &mut Vec<String>,
    out: &mut BTreeSet<String>,
    depth: usize,
) {
    for e in es {
        match &e.expr {
            EntryExpr::StructField(f) => free_idents(&f.value, bound, out, depth + 1),
            EntryExpr::MapEntry(m) => {
                free_idents(&m.key, bound, out, depth + 1);
                free_idents(&m.value, bound, out, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (PolicySet, Vec<Problem>) {
        let mut set = PolicySet::default();
        let mut problems = Vec::new();
        parse_file(
            "policies/p.yaml",
            &Arc::new(text.to_string()),
            &mut set,
            &mut problems,
        );
        (set, problems)
    }

    const GOOD: &str = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n    namespaceSelector:\n      matchExpressions: [{key: env, operator: In, values: [prod]}]\n  variables:\n  - {name: cs, expression: object.spec.template.spec.containers}\n  validations:\n  - expression: \"variables.cs.all(c, c.image.startsWith(params.data.registry))\"\n    messageExpression: \"'bad image in ' + object.metadata.name\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: b}\nspec:\n  policyName: p\n  validationActions: [Warn]\n  paramRef: {name: registry, namespace: default}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: registry, namespace: default}\ndata: {registry: ghcr.io/acme/}\n";

    #[test]
    fn a_policy_its_binding_and_a_param() {
        let (set, problems) = parse(GOOD);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(set.policies.len(), 1);
        let p = &set.policies[0];
        assert!(p.fail_closed);
        assert_eq!(p.param_kind, Some(("v1".into(), "ConfigMap".into())));
        assert_eq!(p.variables.len(), 1);
        assert!(p.validations[0].message_expr.is_some());
        let m = p.constraints.as_ref().unwrap();
        assert_eq!(m.rules[0].resources, ["deployments"]);
        assert_eq!(m.rules[0].scope, "*");
        assert_eq!(set.bindings[0].actions, ["Warn"]);
        assert_eq!(
            set.bindings[0].param_ref.as_ref().unwrap().name.as_deref(),
            Some("registry")
        );
        assert_eq!(set.params.len(), 1);
    }

    #[test]
    fn cel_that_does_not_compile_points_at_the_expression() {
        let text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: p}\nspec:\n  matchConstraints: {resourceRules: [{apiGroups: ['*'], apiVersions: ['*'], operations: ['*'], resources: ['*']}]}\n  validations:\n  - expression: \"object.spec.replicas >\"\n  - expression: \"objct.spec.replicas > 1\"\n";
        let (set, problems) = parse(text);
        assert!(set.policies.is_empty());
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].line, 7);
        assert!(problems[0]
            .message
            .contains("validations[0].expression` does not compile"));
        assert_eq!(problems[1].line, 8);
        assert!(
            problems[1]
                .message
                .contains("undeclared reference to `objct`"),
            "{}",
            problems[1].message
        );
    }

    #[test]
    fn malformed_yaml_and_bad_fields() {
        let (_, problems) = parse("apiVersion: v1\nkind: [\n");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 2, "{problems:?}");
        let text = "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: b}\nspec:\n  validationActions: [Block]\n";
        let (_, problems) = parse(text);
        let msgs: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            msgs.iter().any(|m| m.contains("has no `spec.policyName`")),
            "{msgs:?}"
        );
        assert!(
            msgs.iter()
                .any(|m| m.contains("unknown validationAction `Block`")),
            "{msgs:?}"
        );
    }

    #[test]
    fn selectors() {
        let d = wayfinder_render::yaml::parse("matchLabels: {a: b}\nmatchExpressions:\n- {key: env, operator: NotIn, values: [dev]}\n- {key: team, operator: Exists}").unwrap();
        let s = selector(&d);
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        assert!(s.matches(&labels(&[("a", "b"), ("team", "x"), ("env", "prod")])));
        assert!(!s.matches(&labels(&[("a", "b"), ("team", "x"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[("a", "b")])));
    }
}
