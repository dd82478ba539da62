//! The output of a test action: a JSON report of its findings (the `report` output blob).
//!
//! ```json
//! {"version": 1, "objects": 42, "errors": 1, "warnings": 0,
//!  "findings": [{"severity": "error", "check": "policy", "rule": "acme.no-latest-images",
//!    "component": "web", "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "web",
//!    "name": "web", "source": "web/templates/deployment.yaml", "message": "…"}]}
//! ```
//!
//! The report never names the cluster, so clusters with identical inputs share one result; the
//! `wayfinder test` command adds the cluster from the action's target (`test:CLUSTER`).
//! Findings are sorted, so a report is a function of the inputs.

use serde_json::json;

use super::objects::Obj;

/// One problem found by a test.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Finding {
    pub component: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub api_version: String,
    /// `schema`, `policy` or `structure`.
    pub check: String,
    pub rule: String,
    pub message: String,
    pub source: String,
    /// An error fails the run; a warning is only shown.
    pub error: bool,
}

impl Finding {
    fn new(o: &Obj, check: &str, rule: &str, message: String, error: bool) -> Finding {
        Finding {
            component: o.component.clone(),
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            api_version: o.api_version.clone(),
            check: check.to_string(),
            rule: rule.to_string(),
            message,
            source: o.source.clone(),
            error,
        }
    }
    pub(crate) fn error(o: &Obj, check: &str, rule: &str, message: String) -> Finding {
        Finding::new(o, check, rule, message, true)
    }
    pub(crate) fn warning(o: &Obj, check: &str, rule: &str, message: String) -> Finding {
        Finding::new(o, check, rule, message, false)
    }
    /// A finding about a document that is not an object (it has no kind or name).
    pub(crate) fn document(component: &str, source: &str, message: String) -> Finding {
        Finding {
            component: component.to_string(),
            source: source.to_string(),
            check: "schema".into(),
            rule: "not-an-object".into(),
            message,
            error: true,
            ..Default::default()
        }
    }
}

/// The report of one test action, as JSON text.
pub(crate) fn encode(objects: usize, mut findings: Vec<Finding>) -> Vec<u8> {
    findings.sort();
    findings.dedup();
    let errors = findings.iter().filter(|f| f.error).count();
    let list: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            json!({
                "severity": if f.error { "error" } else { "warning" },
                "check": f.check,
                "rule": f.rule,
                "component": f.component,
                "apiVersion": f.api_version,
                "kind": f.kind,
                "namespace": f.namespace,
                "name": f.name,
                "source": f.source,
                "message": f.message,
            })
        })
        .collect();
    let doc = json!({
        "version": 1,
        "objects": objects,
        "errors": errors,
        "warnings": findings.len() - errors,
        "findings": list,
    });
    let mut text = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    text.push(b'\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_sorted_and_counted() {
        let o = Obj {
            component: "web".into(),
            source: "web/templates/d.yaml".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "web".into(),
            name: "d".into(),
            data: Default::default(),
        };
        let a = Finding::warning(&o, "policy", "b-rule", "warn".into());
        let b = Finding::error(&o, "policy", "a-rule", "deny".into());
        let text = encode(3, vec![a.clone(), b.clone(), a]);
        let v: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(v["errors"], 1);
        assert_eq!(v["warnings"], 1);
        assert_eq!(v["objects"], 3);
        assert_eq!(v["findings"][0]["rule"], "a-rule");
        assert_eq!(v["findings"][0]["severity"], "error");
        assert_eq!(v["findings"][1]["kind"], "Deployment");
    }
}
