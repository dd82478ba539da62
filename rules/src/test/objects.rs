//! Rendered objects: a component's manifest (what `helm template` prints) split into its
//! documents, each parsed with the renderer's YAML reader, plus what the API server knows about
//! built-in kinds (their resource names, whether they are namespaced).

use std::collections::BTreeMap;

use wayfinder_render::Data;

/// One object of a rendered manifest.
#[derive(Debug, Clone)]
pub(crate) struct Obj {
    /// The component that rendered it (empty for workspace params).
    pub component: String,
    /// The `# Source:` template path.
    pub source: String,
    pub api_version: String,
    pub kind: String,
    /// `metadata.namespace` as written (may be empty).
    pub namespace: String,
    pub name: String,
    pub data: Data,
}

impl Obj {
    /// The API group (`""` for the core group).
    pub(crate) fn group(&self) -> &str {
        group_of(&self.api_version)
    }
    /// The version part of `apiVersion`.
    pub(crate) fn version(&self) -> &str {
        self.api_version.rsplit('/').next().unwrap_or("")
    }
    /// `metadata.labels` (string values only).
    pub(crate) fn labels(&self) -> BTreeMap<String, String> {
        labels_of(&self.data)
    }
    /// `Kind namespace/name` (or `Kind name` when it has no namespace).
    pub(crate) fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub(crate) fn group_of(api_version: &str) -> &str {
    api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or_default()
}

/// `metadata.labels` of an object tree.
pub(crate) fn labels_of(d: &Data) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(Data::Map(m)) = get_path(d, &["metadata", "labels"]) {
        for (k, v) in m {
            if let Data::String(s) = v {
                out.insert(k.clone(), s.clone());
            }
        }
    }
    out
}

/// The value at `path` (map keys) in `d`.
pub(crate) fn get_path<'a>(d: &'a Data, path: &[&str]) -> Option<&'a Data> {
    let mut cur = d;
    for p in path {
        cur = cur.as_map()?.get(*p)?;
    }
    Some(cur)
}

/// The string at `path`, or `""`.
pub(crate) fn get_str<'a>(d: &'a Data, path: &[&str]) -> &'a str {
    match get_path(d, path) {
        Some(Data::String(s)) => s,
        _ => "",
    }
}

/// A document that is not a Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadDoc {
    pub source: String,
    pub message: String,
}

/// Splits a manifest (`---\n# Source: path\n…`) into objects. Documents that do not parse or
/// lack `apiVersion`/`kind` come back as [`BadDoc`]s; empty documents are dropped. A `List`
/// kind (`v1`, `kind: List`) is flattened into its items.
pub(crate) fn split_manifest(component: &str, text: &str) -> (Vec<Obj>, Vec<BadDoc>) {
    let mut objs = Vec::new();
    let mut bad = Vec::new();
    for (source, doc) in documents(text) {
        match wayfinder_render::yaml::parse(doc) {
            Ok(Data::Null) => {}
            Ok(data) => push_object(component, &source, data, &mut objs, &mut bad, 0),
            Err(e) => bad.push(BadDoc {
                source,
                message: e.go_yaml_message().to_string(),
            }),
        }
    }
    (objs, bad)
}

fn push_object(
    component: &str,
    source: &str,
    data: Data,
    objs: &mut Vec<Obj>,
    bad: &mut Vec<BadDoc>,
    depth: usize,
) {
    let api_version = get_str(&data, &["apiVersion"]).to_string();
    let kind = get_str(&data, &["kind"]).to_string();
    if api_version.is_empty() || kind.is_empty() {
        bad.push(BadDoc {
            source: source.to_string(),
            message: "the document is not a Kubernetes object (no `apiVersion` or `kind`)".into(),
        });
        return;
    }
    if api_version == "v1" && kind == "List" && depth == 0 {
        if let Some(Data::List(items)) = get_path(&data, &["items"]) {
            for item in items.clone() {
                push_object(component, source, item, objs, bad, depth + 1);
            }
        }
        return;
    }
    objs.push(Obj {
        component: component.to_string(),
        source: source.to_string(),
        namespace: get_str(&data, &["metadata", "namespace"]).to_string(),
        name: get_str(&data, &["metadata", "name"]).to_string(),
        api_version,
        kind,
        data,
    });
}

/// `(source, text)` of each document of a multi-document YAML text.
fn documents(text: &str) -> Vec<(String, &str)> {
    fn push<'t>(doc: &'t str, out: &mut Vec<(String, &'t str)>) {
        let source = doc
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .unwrap_or_default()
            .to_string();
        if !doc.trim().is_empty() {
            out.push((source, doc));
        }
    }
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim_end_matches(['\n', '\r']);
        if l == "---" || l.starts_with("--- ") {
            push(&text[start..pos], &mut out);
            start = pos + line.len();
        }
        pos += line.len();
    }
    push(&text[start..], &mut out);
    out
}

/// Built-in kinds the API server serves: `(group, kind, resource, namespaced)`.
const BUILTIN: &[(&str, &str, &str, bool)] = &[
    ("", "Binding", "bindings", true),
    ("", "ComponentStatus", "componentstatuses", false),
    ("", "ConfigMap", "configmaps", true),
    ("", "Endpoints", "endpoints", true),
    ("", "Event", "events", true),
    ("", "LimitRange", "limitranges", true),
    ("", "Namespace", "namespaces", false),
    ("", "Node", "nodes", false),
    ("", "PersistentVolume", "persistentvolumes", false),
    ("", "PersistentVolumeClaim", "persistentvolumeclaims", true),
    ("", "Pod", "pods", true),
    ("", "PodTemplate", "podtemplates", true),
    ("", "ReplicationController", "replicationcontrollers", true),
    ("", "ResourceQuota", "resourcequotas", true),
    ("", "Secret", "secrets", true),
    ("", "Service", "services", true),
    ("", "ServiceAccount", "serviceaccounts", true),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    ),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    ),
    ("apiregistration.k8s.io", "APIService", "apiservices", false),
    ("apps", "ControllerRevision", "controllerrevisions", true),
    ("apps", "DaemonSet", "daemonsets", true),
    ("apps", "Deployment", "deployments", true),
    ("apps", "ReplicaSet", "replicasets", true),
    ("apps", "StatefulSet", "statefulsets", true),
    (
        "autoscaling",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    ),
    ("batch", "CronJob", "cronjobs", true),
    ("batch", "Job", "jobs", true),
    (
        "certificates.k8s.io",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        false,
    ),
    ("coordination.k8s.io", "Lease", "leases", true),
    ("discovery.k8s.io", "EndpointSlice", "endpointslices", true),
    ("events.k8s.io", "Event", "events", true),
    ("extensions", "DaemonSet", "daemonsets", true),
    ("extensions", "Deployment", "deployments", true),
    ("extensions", "Ingress", "ingresses", true),
    ("extensions", "NetworkPolicy", "networkpolicies", true),
    (
        "extensions",
        "PodSecurityPolicy",
        "podsecuritypolicies",
        false,
    ),
    ("extensions", "ReplicaSet", "replicasets", true),
    (
        "flowcontrol.apiserver.k8s.io",
        "FlowSchema",
        "flowschemas",
        false,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        false,
    ),
    ("networking.k8s.io", "Ingress", "ingresses", true),
    ("networking.k8s.io", "IngressClass", "ingressclasses", false),
    (
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    ("node.k8s.io", "RuntimeClass", "runtimeclasses", false),
    (
        "policy",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    ),
    ("policy", "PodSecurityPolicy", "podsecuritypolicies", false),
    (
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    ("rbac.authorization.k8s.io", "Role", "roles", true),
    (
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    (
        "scheduling.k8s.io",
        "PriorityClass",
        "priorityclasses",
        false,
    ),
    ("storage.k8s.io", "CSIDriver", "csidrivers", false),
    ("storage.k8s.io", "CSINode", "csinodes", false),
    (
        "storage.k8s.io",
        "CSIStorageCapacity",
        "csistoragecapacities",
        true,
    ),
    ("storage.k8s.io", "StorageClass", "storageclasses", false),
    (
        "storage.k8s.io",
        "VolumeAttachment",
        "volumeattachments",
        false,
    ),
];

/// The resource name and scope of a built-in kind.
pub(crate) fn builtin(group: &str, kind: &str) -> Option<(&'static str, bool)> {
    BUILTIN
        .iter()
        .find(|(g, k, _, _)| *g == group && *k == kind)
        .map(|(_, _, r, n)| (*r, *n))
}

/// What a kind of a group is called as a resource and whether it is namespaced: built-in
/// kinds from the table, custom kinds from their CRD (`crds`: `(group, kind)` → `(plural,
/// namespaced)`), others guessed (lowercase plural, namespaced when the object has a
/// namespace).
pub(crate) fn resource_of(
    obj: &Obj,
    crds: &BTreeMap<(String, String), (String, bool)>,
) -> (String, bool) {
    if let Some((r, n)) = builtin(obj.group(), &obj.kind) {
        return (r.to_string(), n);
    }
    if let Some((r, n)) = crds.get(&(obj.group().to_string(), obj.kind.clone())) {
        return (r.clone(), *n);
    }
    (guess_plural(&obj.kind), !obj.namespace.is_empty())
}

/// The API server's default plural of a kind (`Policy` → `policies`, `Ingress` → `ingresses`).
pub(crate) fn guess_plural(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if let Some(stem) = k.strip_suffix('y') {
        if !stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            return format!("{stem}ies");
        }
    }
    if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        return format!("{k}es");
    }
    format!("{k}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_with_their_sources() {
        let text = "---\n# Source: web/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: x\n---\n# Source: web/templates/b.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: b\n---\n# Source: web/templates/empty.yaml\n";
        let (objs, bad) = split_manifest("web", text);
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[0].source, "web/templates/a.yaml");
        assert_eq!(objs[0].display(), "ConfigMap x/a");
        assert_eq!(objs[1].group(), "apps");
        assert_eq!(objs[1].version(), "v1");
        assert_eq!(objs[1].display(), "Deployment b");
    }

    #[test]
    fn bad_documents_are_reported_not_dropped() {
        let text = "---\n# Source: a.yaml\nfoo: [\n---\n# Source: b.yaml\nfoo: bar\n";
        let (objs, bad) = split_manifest("web", text);
        assert!(objs.is_empty());
        assert_eq!(bad.len(), 2);
        assert_eq!(bad[0].source, "a.yaml");
        assert!(bad[1].message.contains("not a Kubernetes object"));
    }

    #[test]
    fn lists_are_flattened() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n";
        let (objs, _) = split_manifest("c", text);
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].kind, "Secret");
    }

    #[test]
    fn plurals_follow_the_api_server() {
        assert_eq!(guess_plural("Policy"), "policies");
        assert_eq!(guess_plural("Gateway"), "gateways");
        assert_eq!(guess_plural("Ingress"), "ingresses");
        assert_eq!(guess_plural("Certificate"), "certificates");
        assert_eq!(builtin("apps", "Deployment"), Some(("deployments", true)));
        assert_eq!(builtin("", "Namespace"), Some(("namespaces", false)));
    }
}
