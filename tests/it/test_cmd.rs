//! `wayfinder test` (issue 6): schemas, admission policies (CEL) and structural checks as
//! cached build actions; failures name cluster, component, object, rule; bad input exits 2.

use serde_json::Value;
use wayfinder_tests::{fleet, servers, Run, Workspace};

/// `[tests]` pointing at the test environment's kubeconform schemas, if it has them.
fn with_schemas(ws: &Workspace, unknown: &str) -> bool {
    match servers::k8s_schemas() {
        Some(dir) => {
            ws.append(
                "workspace.toml",
                &format!(
                    "\n[tests]\nschemas = {:?}\nunknown_kinds = \"{unknown}\"\n",
                    dir.display().to_string()
                ),
            );
            true
        }
        None => {
            println!("skipped the schema part: WAYFINDER_TEST_K8S_SCHEMAS is not set");
            false
        }
    }
}

fn tests_json(run: &Run) -> Value {
    let v: Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", run.stdout));
    v["tests"].clone()
}

/// Test targets with the given status.
fn tests_with_status(run: &Run, status: &str) -> Vec<String> {
    let mut out: Vec<String> = run
        .summary()
        .actions()
        .iter()
        .filter(|a| a.kind == "test" && a.status == status)
        .map(|a| a.target.clone())
        .collect();
    out.sort();
    out
}

fn clusters() -> Vec<&'static str> {
    let mut c: Vec<&str> = fleet::pairs().iter().map(|(c, _)| *c).collect();
    c.sort();
    c.dedup();
    c
}

/// A chart whose templates produce one problem per enabled value.
fn add_fixture_chart(ws: &Workspace) {
    ws.write(
        "charts/vtest-fixture/Chart.yaml",
        "apiVersion: v2\nname: vtest-fixture\nversion: 0.1.0\n",
    );
    ws.write(
        "charts/vtest-fixture/values.yaml",
        "badReplicas: false\nunknownField: false\nwrongNamespace: false\nremovedApi: false\ncustom: valid\n",
    );
    ws.write(
        "charts/vtest-fixture/crds/widgets.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.acme.example\nspec:\n  group: acme.example\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties:\n              size: {type: integer, minimum: 1}\n",
    );
    ws.write(
        "charts/vtest-fixture/templates/all.yaml",
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: fixture
  labels:
    app.kubernetes.io/name: fixture
spec:
  replicas: {{ if .Values.badReplicas }}"two"{{ else }}1{{ end }}
  selector:
    matchLabels: {app: fixture}
  template:
    metadata:
      labels: {app: fixture}
    spec:
      containers:
        - name: app
          image: registry.acme.example/app:1.0.0
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {memory: 32Mi}
          {{- if .Values.unknownField }}
          colour: blue
          {{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: fixture-config
  {{- if .Values.wrongNamespace }}
  namespace: nowhere
  {{- end }}
data:
  a: b
---
apiVersion: acme.example/v1
kind: Widget
metadata:
  name: w
spec:
  {{- if eq .Values.custom "valid" }}
  size: 3
  {{- else if eq .Values.custom "invalid" }}
  size: 0
  {{- end }}
{{- if .Values.removedApi }}
---
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: fixture
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: fixture}
{{- end }}
"#,
    );
}

/// Adds the fixture chart to cluster `peu01` as component `fixture` (values `values`).
fn add_fixture(ws: &Workspace, values: &str) {
    add_fixture_chart(ws);
    ws.write("clusters/gauss/peu01/values/fixture.yaml", values);
    ws.append(
        "clusters/gauss/peu01/cluster.toml",
        "\n[components.fixture]\nchart = \"charts/vtest-fixture\"\nnamespace = \"fixture\"\nvalues = [\"values/fixture.yaml\"]\n",
    );
}

#[test]
fn the_example_fleet_passes_and_a_rerun_runs_nothing() {
    let ws = Workspace::example();
    with_schemas(&ws, "error");
    let run = ws.run(&["test", "--json"]);
    run.assert_no_panic();
    let tests = tests_json(&run);
    let findings: Vec<&Value> = tests["results"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["findings"].as_array().unwrap().iter())
        .collect();
    assert!(
        findings.is_empty(),
        "the example fleet has findings: {findings:#?}"
    );
    let expected_code = 0;
    assert_eq!(run.code, Some(expected_code), "{}", run.stderr);
    assert_eq!(tests["clusters"], clusters().len(), "{tests}");
    let expected: Vec<String> = clusters().iter().map(|c| format!("test:{c}")).collect();
    let mut all = tests_with_status(&run, "built");
    all.extend(tests_with_status(&run, "cached"));
    all.sort();
    assert_eq!(all, expected, "one test action per cluster");
    assert!(
        tests["results"][0]["objects"].as_u64().unwrap_or(0) > 0,
        "{tests}"
    );

    // No change: nothing runs, and the verdict is the same.
    let again = ws.run(&["test", "--json"]);
    assert_eq!(again.code, Some(expected_code));
    let ran: Vec<_> = again.summary().built().map(|a| a.target.clone()).collect();
    assert!(ran.is_empty(), "a rerun with no change ran {ran:?}");
    // `wayfinder build` does not plan tests.
    let build = ws.build(&[]).summary();
    assert!(build.actions().iter().all(|a| a.kind != "test"));
}

/// Makes the example pass the core policies (what /work/notes/vtest-requests.md §2 asks).
fn make_example_pass(ws: &Workspace) {
    ws.write(
        "voyages/core/policies/require-resources.yaml",
        &ws.read("voyages/core/policies/require-resources.yaml").replace(
            "  validations:",
            "  matchConditions:\n    - name: not-cert-manager\n      expression: \"!has(object.metadata.namespace) || object.metadata.namespace != 'cert-manager'\"\n  validations:",
        ),
    );
}

#[test]
fn an_edit_to_one_cluster_reruns_only_its_tests() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    ws.run(&["test"]).assert_success();
    ws.append(
        "clusters/gauss/peu01/values/ingress-nginx.yaml",
        "commonLabels:\n  acme.example/edited-by: wayfinder-test\n",
    );
    let run = ws.run(&["test", "--json"]);
    run.assert_success();
    assert_eq!(tests_with_status(&run, "built"), ["test:peu01"]);
}

#[test]
fn a_new_voyage_policy_reruns_only_the_clusters_of_that_voyage() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    ws.run(&["test"]).assert_success();
    ws.write(
        "voyages/observability/policies/named-containers.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: observability.named-containers\nspec:\n  matchConstraints:\n    resourceRules:\n      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [daemonsets]}\n  validations:\n    - expression: \"object.spec.template.spec.containers.all(c, size(c.name) > 0)\"\n",
    );
    let run = ws.run(&["test", "--json"]);
    run.assert_success();
    let mut expected: Vec<String> = fleet::pairs()
        .iter()
        .filter(|(_, comp)| *comp == "log-shipper")
        .map(|(c, _)| format!("test:{c}"))
        .collect();
    expected.sort();
    expected.dedup();
    assert!(!expected.is_empty());
    assert_eq!(tests_with_status(&run, "built"), expected);
}

#[test]
fn a_denied_object_fails_naming_cluster_component_object_and_rule() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    ws.write(
        "policies/owner-label.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: acme.owner-label\nspec:\n  matchConstraints:\n    resourceRules:\n      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n    namespaceSelector:\n      matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [ingress]}]\n  validations:\n    - expression: \"has(object.metadata.labels) && 'acme.example/owner' in object.metadata.labels\"\n      messageExpression: \"'deployment ' + object.metadata.name + ' has no owner'\"\n",
    );
    let run = ws.run(&["test", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&[
        "cluster `peu01`",
        "component `ingress-nginx`",
        "Deployment ingress/",
        "acme.owner-label",
        "has no owner",
    ]);
    let tests = tests_json(&run);
    assert!(tests["failed"].as_u64().unwrap_or(0) > 0);
    let f = &tests["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cluster"] == "peu01")
        .unwrap()["findings"][0];
    assert_eq!(f["rule"], "acme.owner-label");
    assert_eq!(f["kind"], "Deployment");
    assert_eq!(f["namespace"], "ingress");
    assert_eq!(f["severity"], "error");
    // The verdict is cached: a rerun runs nothing and fails again.
    let again = ws.run(&["test", "--json"]);
    assert_eq!(again.code, Some(1));
    assert!(tests_with_status(&again, "built").is_empty());
    // Only the clusters with an ingress namespace ran the policy; others still pass.
    assert!(tests["passed"].as_u64().unwrap_or(0) > 0, "{tests}");
}

#[test]
fn warn_bindings_params_and_failure_policy() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    ws.write(
        "policies/max-replicas.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: acme.max-replicas}\nspec:\n  failurePolicy: Fail\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules:\n      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n  validations:\n    - expression: \"!has(object.spec.replicas) || object.spec.replicas <= int(params.data.max)\"\n      message: too many replicas\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: max-replicas-warn}\nspec:\n  policyName: acme.max-replicas\n  validationActions: [Warn]\n  paramRef: {name: replica-limits, namespace: default, parameterNotFoundAction: Deny}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: replica-limits, namespace: default}\ndata: {max: \"2\"}\n",
    );
    let run = ws.run(&["test"]);
    run.assert_success();
    run.assert_stderr_mentions(&["warning:", "too many replicas", "binding max-replicas-warn"]);

    // A runtime error (no such key) under failurePolicy: Fail fails the run…
    ws.write(
        "policies/runtime.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: acme.runtime}\nspec:\n  failurePolicy: Fail\n  matchConstraints:\n    resourceRules:\n      - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}\n  validations:\n    - expression: \"object.spec.noSuchField == 1\"\n",
    );
    let run = ws.run(&["test"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&[
        "acme.runtime",
        "object.spec.noSuchField == 1",
        "failurePolicy: Fail",
    ]);
    // …and is ignored under failurePolicy: Ignore.
    ws.replace(
        "policies/runtime.yaml",
        "failurePolicy: Fail",
        "failurePolicy: Ignore",
    );
    ws.run(&["test"]).assert_success();
}

#[test]
fn schemas_crds_and_unknown_kinds() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    if !with_schemas(&ws, "error") {
        return;
    }
    add_fixture(&ws, "custom: valid\n");
    ws.run(&["test"]).assert_success();

    ws.write(
        "clusters/gauss/peu01/values/fixture.yaml",
        "badReplicas: true\nunknownField: true\ncustom: invalid\n",
    );
    let run = ws.run(&["test", "--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&[
        "cluster `peu01`, component `fixture`, Deployment fixture:",
        "at `spec.replicas`: expected integer",
        "unknown field `colour`",
        "Widget w:",
        "less than the minimum 1",
    ]);
    assert_eq!(tests_with_status(&run, "built"), ["test:peu01"]);

    // A kind no schema knows: error, warn or skip as configured.
    ws.write(
        "clusters/gauss/peu01/values/fixture.yaml",
        "custom: valid\n",
    );
    ws.remove("charts/vtest-fixture/crds/widgets.yaml");
    let run = ws.run(&["test"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&["no schema for `acme.example/v1` Widget"]);
    ws.replace(
        "workspace.toml",
        "unknown_kinds = \"error\"",
        "unknown_kinds = \"warn\"",
    );
    let run = ws.run(&["test"]);
    run.assert_success();
    run.assert_stderr_mentions(&["warning:", "no schema for `acme.example/v1` Widget"]);
    ws.replace(
        "workspace.toml",
        "unknown_kinds = \"warn\"",
        "unknown_kinds = \"skip\"",
    );
    let run = ws.run(&["test"]);
    run.assert_success();
    assert!(!run.stderr.contains("no schema for"), "{}", run.stderr);
}

#[test]
fn structural_checks() {
    let ws = Workspace::example();
    make_example_pass(&ws);
    add_fixture(&ws, "wrongNamespace: true\nremovedApi: true\n");
    // The same chart twice in one namespace: every object is defined twice.
    ws.append(
        "clusters/gauss/peu01/cluster.toml",
        "\n[components.fixture-twin]\nchart = \"charts/vtest-fixture\"\nnamespace = \"fixture\"\n",
    );
    let run = ws.run(&["test"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    run.assert_stderr_mentions(&[
        "[structure duplicate-object]",
        "also defined by component `fixture`",
        "ConfigMap nowhere/fixture-config: [structure unknown-namespace] namespace `nowhere`",
        "[structure removed-api]",
        "`policy/v1beta1` PodDisruptionBudget was removed in Kubernetes 1.25",
    ]);
}

#[test]
fn bad_input_exits_2_pointing_at_the_file() {
    let policy = |body: &str| {
        format!("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: acme.bad\nspec:\n  matchConstraints:\n    resourceRules:\n      - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE], resources: [deployments]}}\n  validations:\n{body}")
    };
    // Malformed YAML.
    let ws = Workspace::example();
    ws.write(
        "policies/broken.yaml",
        "apiVersion: v1\nkind: [\n  - oops\n",
    );
    ws.run(&["test"])
        .assert_bad_input()
        .assert_stderr_mentions(&["policies/broken.yaml"]);

    // CEL that does not compile: the file, the line and the expression.
    let ws = Workspace::example();
    ws.write(
        "policies/bad-cel.yaml",
        &policy("    - expression: \"object.spec.replicas >\"\n"),
    );
    ws.run(&["test"])
        .assert_bad_input()
        .assert_points_at("policies/bad-cel.yaml", 10)
        .assert_stderr_mentions(&[
            "validations[0].expression",
            "compile:",
            "object.spec.replicas >",
        ]);

    // An undeclared variable is a compile error too, as in the API server.
    let ws = Workspace::example();
    ws.write(
        "voyages/core/policies/typo.yaml",
        &policy("    - expression: \"objet.spec.replicas > 1\"\n"),
    );
    ws.run(&["test"])
        .assert_bad_input()
        .assert_stderr_mentions(&["voyages/core/policies/typo.yaml", "`objet`"]);

    // A binding naming a policy that does not exist.
    let ws = Workspace::example();
    ws.write(
        "policies/binding.yaml",
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: b}\nspec:\n  policyName: acme.no-latest-imagez\n  validationActions: [Deny]\n",
    );
    ws.run(&["test"])
        .assert_bad_input()
        .assert_points_at("policies/binding.yaml", 5)
        .assert_stderr_mentions(&["`acme.no-latest-imagez`", "acme.no-latest-images"]);

    // A schema directory that does not exist.
    let ws = Workspace::example();
    ws.append("workspace.toml", "\n[tests]\nschemas = \"no/such/dir\"\n");
    ws.run(&["test"])
        .assert_bad_input()
        .assert_stderr_mentions(&["workspace.toml", "`no/such/dir`"]);
}
