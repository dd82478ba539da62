//! `wayfinder init`: scaffolds a small workspace that builds as is.

use std::path::Path;

/// The workspace cannot be created.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum InitError {
    #[error("`{0}` already exists")]
    #[diagnostic(
        code(wayfinder::init::exists),
        help("`wayfinder init` only creates new workspaces; pick an empty directory")
    )]
    Exists(String),
    #[error("cannot write `{path}`: {message}")]
    #[diagnostic(code(wayfinder::init::io))]
    Io { path: String, message: String },
}

const FILES: &[(&str, &str)] = &[
    (
        "workspace.toml",
        r#"[workspace]
name = "{name}"
kube_version = "1.31.0"

[output]
dir = "out"
"#,
    ),
    (".gitignore", "/out/\n/.wayfinder/\n"),
    (
        "charts/hello/Chart.yaml",
        "apiVersion: v2\nname: hello\ndescription: A small example chart\ntype: application\nversion: 0.1.0\nappVersion: \"1.0.0\"\n",
    ),
    (
        "charts/hello/values.yaml",
        "greeting: hello\nreplicaCount: 1\n",
    ),
    (
        "charts/hello/templates/_helpers.tpl",
        "{{- define \"hello.fullname\" -}}\n{{- printf \"%s-%s\" .Release.Name .Chart.Name | trunc 63 | trimSuffix \"-\" -}}\n{{- end -}}\n",
    ),
    (
        "charts/hello/templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"hello.fullname\" . }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicaCount | quote }}\n",
    ),
    (
        "voyages/base/voyage.toml",
        r#"name = "base"
version = "0.1.0"
description = "the components every cluster runs"

[components.hello]
chart = "charts/hello"
namespace = "hello"
values = ["values/hello.yaml"]
"#,
    ),
    ("voyages/base/values/hello.yaml", "greeting: hello from the voyage\n"),
    (
        "clusters/dev/dev-1/cluster.toml",
        r#"name = "dev-1"
voyage = "base@0.1.0"
labels = { env = "dev" }

[components.hello]
values = ["values/hello.yaml"]
"#,
    ),
    ("clusters/dev/dev-1/values/hello.yaml", "replicaCount: 2\n"),
];

/// Writes a new workspace into `dir` (created if needed); returns the files written.
pub fn init_workspace(dir: &Path, name: &str) -> Result<Vec<String>, InitError> {
    let ws = dir.join("workspace.toml");
    if ws.exists() {
        return Err(InitError::Exists(ws.display().to_string()));
    }
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if path.exists() {
            continue;
        }
        let io = |e: std::io::Error| InitError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, text.replace("{name}", name)).map_err(io)?;
        written.push(rel.to_string());
    }
    Ok(written)
}
