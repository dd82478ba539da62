//! `helm template`'s post-processing: split documents, drop empty ones, sort in install order,
//! hooks, `# Source:` comments.
//!
//! Helm v4.2.3 (`action.renderResources`, `releaseutil.SortManifests`, `cmd/template.go`):
//!
//! 1. every `*NOTES.txt` output is removed (notes are not printed by `helm template`);
//! 2. files are visited in sorted path order, partials and whitespace-only outputs skipped, each
//!    split with the regex `(?:^|\s*\n)---\s*` (documents left-trimmed, blank ones dropped);
//! 3. each document's head (`apiVersion`, `kind`, `metadata.name`, `metadata.annotations`) is
//!    read with `sigs.k8s.io/yaml` into a typed struct: invalid YAML or a wrong shape fails the
//!    whole command (`YAML parse error on <path>: …`). `yaml::quick_head` reads the common
//!    block-style subset in one pass; everything else goes through the full parser;
//! 4. documents annotated `helm.sh/hook` become hooks (unknown hook events: dropped), the others
//!    manifests; both are stably sorted by kind in `InstallOrder` (unknown kinds last, by name);
//! 5. printed as `---\n# Source: <path>\n<doc>\n` (CRDs first with `--include-crds`), the whole
//!    trimmed plus `\n`, then the hooks unless `--no-hooks`; `--show-only` filters that text.

use std::collections::BTreeMap;

use crate::engine::{RenderError, Rendered};
use crate::value::Data;

/// Options of `helm template` output.
#[derive(Clone, Debug, Default)]
pub struct ManifestOptions {
    pub no_hooks: bool,
    pub include_crds: bool,
    /// `--show-only` template paths.
    pub show_only: Vec<String>,
    /// `--skip-tests`: drop `test` hooks.
    pub skip_tests: bool,
}

/// Helm's `releaseutil.InstallOrder`.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One document of a rendered file, with the head Helm reads.
#[derive(Clone, Debug)]
pub struct Doc {
    /// The template path (`<chart>/templates/x.yaml`).
    pub path: String,
    pub content: String,
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub annotations: BTreeMap<String, String>,
}

/// Manifests and hooks, each in Helm's order.
#[derive(Clone, Debug, Default)]
pub struct Sorted {
    pub manifests: Vec<Doc>,
    pub hooks: Vec<Doc>,
}

/// Go's `\s` (no Unicode spaces, no `\v`).
fn is_go_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// The document separators of `s`, left to right: Helm's `(?:^|\s*\n)---\s*`, matched by
/// hand (compiling the expression cost every rendering process half a millisecond). A match
/// starts at the text's start with `---`, or at a run of spaces whose last one is a newline
/// followed by `---`; it takes the spaces after the dashes.
fn separators(s: &str) -> Vec<std::ops::Range<usize>> {
    let b = s.as_bytes();
    let spaces = |from: usize| from + b[from..].iter().take_while(|&&c| is_go_space(c)).count();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let run = spaces(i);
        let dashes = if i == 0 && b.starts_with(b"---") {
            Some(0)
        } else {
            (run > i && b[run - 1] == b'\n' && b[run..].starts_with(b"---")).then_some(run)
        };
        match dashes {
            Some(d) => {
                let end = spaces(d + 3);
                out.push(i..end);
                i = end;
            }
            // No position inside the run starts a match either: its run ends where this one does.
            None => i = run.max(i + 1),
        }
    }
    out
}

/// Helm's `releaseutil.SplitManifests` (documents in order, left-trimmed, blank ones dropped).
pub fn split_manifests(big: &str) -> Vec<String> {
    let s = big.trim_start();
    let mut docs = Vec::new();
    let mut last = 0;
    for m in separators(s) {
        docs.push(&s[last..m.start]);
        last = m.end;
    }
    docs.push(&s[last..]);
    docs.into_iter()
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim_start().to_string())
        .collect()
}

/// Helm's `releaseutil.SortManifests` over the rendered files (NOTES.txt already removed).
pub fn sort_manifests(files: &BTreeMap<String, String>) -> Result<Sorted, RenderError> {
    let mut out = Sorted::default();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_manifests(content) {
            let d = match crate::yaml::quick_head(&doc) {
                Some(h) => Doc {
                    path: path.clone(),
                    content: doc,
                    kind: h.kind,
                    api_version: h.api_version,
                    name: h.name,
                    annotations: h.annotations,
                },
                None => full_head(path, doc)?,
            };
            match d.annotations.get("helm.sh/hook") {
                None => out.manifests.push(d),
                Some(events) => {
                    let known = events
                        .split(',')
                        .all(|e| HOOK_EVENTS.contains(&e.trim().to_ascii_lowercase().as_str()));
                    if known {
                        out.hooks.push(d);
                    }
                }
            }
        }
    }
    sort_by_kind(&mut out.manifests);
    sort_by_kind(&mut out.hooks);
    Ok(out)
}

/// Reads a document's head with the full YAML parser (the reference; `quick_head` is the fast
/// path for the common subset).
pub(crate) fn full_head(path: &str, doc: String) -> Result<Doc, RenderError> {
    let head = crate::yaml::parse(&doc).map_err(|e| RenderError {
        message: format!(
            "YAML parse error on {path}: error converting YAML to JSON: {}",
            e.message
        ),
    })?;
    read_head(path, doc, &head).map_err(|m| RenderError {
        message: format!(
            "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: {m}"
        ),
    })
}

fn kind_rank(kind: &str) -> Option<usize> {
    INSTALL_ORDER.iter().position(|k| *k == kind)
}

/// Helm's `sortManifestsByKind` (stable): known kinds by install order, unknown kinds after them
/// ordered by kind name.
fn sort_by_kind(docs: &mut [Doc]) {
    docs.sort_by(|a, b| {
        use std::cmp::Ordering;
        match (kind_rank(&a.kind), kind_rank(&b.kind)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => a.kind.cmp(&b.kind),
        }
    });
}

/// The kind of JSON value a YAML node becomes, for Go's type-mismatch messages.
fn json_kind(d: &Data) -> &'static str {
    match d {
        Data::Null => "null",
        Data::Bool(_) => "bool",
        Data::Int(_) | Data::Float(_) => "number",
        Data::String(_) => "string",
        Data::List(_) => "array",
        Data::Map(_) => "object",
    }
}

/// A scalar read into a Go `string` field by `sigs.k8s.io/yaml` (scalars are stringified).
fn scalar_string(d: &Data, field: &str) -> Result<String, String> {
    match d {
        Data::Null => Ok(String::new()),
        Data::String(s) => Ok(s.clone()),
        Data::Bool(b) => Ok(b.to_string()),
        Data::Int(i) => Ok(i.to_string()),
        Data::Float(f) => Ok(go_float32_g(*f)),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field {field} of type string",
            json_kind(other)
        )),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` for the common cases (integers, short decimals).
fn go_float32_g(f: f64) -> String {
    let f32v = f as f32;
    if f32v.fract() == 0.0 && f32v.abs() < 1e21 {
        let s = crate::fmt::format_float_v(f64::from(f32v));
        return s;
    }
    let s = format!("{f32v}");
    if s.contains('e') || s.contains('E') {
        crate::fmt::format_float_v(f)
    } else {
        s
    }
}

/// Looks up a struct field as `encoding/json` does: exact name first, else case-insensitive.
fn struct_field<'a>(m: &'a BTreeMap<String, Data>, name: &str) -> Option<&'a Data> {
    m.get(name).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// Decodes a document into Helm's `SimpleHead`.
fn read_head(path: &str, content: String, head: &Data) -> Result<Doc, String> {
    let mut doc = Doc {
        path: path.to_string(),
        content,
        kind: String::new(),
        api_version: String::new(),
        name: String::new(),
        annotations: BTreeMap::new(),
    };
    let root = match head {
        Data::Null => return Ok(doc),
        Data::Map(m) => m,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type util.SimpleHead",
                json_kind(other)
            ))
        }
    };
    if let Some(v) = struct_field(root, "apiVersion") {
        doc.api_version = scalar_string(v, "SimpleHead.apiVersion")?;
    }
    if let Some(v) = struct_field(root, "kind") {
        doc.kind = scalar_string(v, "SimpleHead.kind")?;
    }
    match struct_field(root, "metadata") {
        None | Some(Data::Null) => {}
        Some(Data::Map(md)) => {
            if let Some(v) = struct_field(md, "name") {
                doc.name = scalar_string(v, "SimpleHead.metadata.name")?;
            }
            match struct_field(md, "annotations") {
                None | Some(Data::Null) => {}
                Some(Data::Map(a)) => {
                    for (k, v) in a {
                        let s = scalar_string(v, "SimpleHead.metadata.annotations")?;
                        doc.annotations.insert(k.clone(), s);
                    }
                }
                Some(other) => {
                    return Err(format!(
                        "json: cannot unmarshal {} into Go struct field .metadata.annotations of type map[string]string",
                        json_kind(other)
                    ))
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "json: cannot unmarshal {} into Go struct field SimpleHead.metadata of type struct {{ Name string \"json:\\\"name\\\"\"; Annotations map[string]string \"json:\\\"annotations\\\"\" }}",
                json_kind(other)
            ))
        }
    }
    Ok(doc)
}

/// The rendered files `helm template` post-processes: everything but `*NOTES.txt`.
fn printable_files(r: &Rendered) -> BTreeMap<String, String> {
    r.manifests
        .iter()
        .filter(|(k, _)| !k.ends_with("NOTES.txt"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Exactly what `helm template` prints for a render.
pub fn helm_template_output(r: &Rendered, opts: &ManifestOptions) -> Result<String, RenderError> {
    let sorted = sort_manifests(&printable_files(r))?;
    let mut manifest = String::new();
    if opts.include_crds {
        for (path, text) in &r.crds {
            manifest.push_str(&format!("---\n# Source: {path}\n{text}\n"));
        }
    }
    for d in &sorted.manifests {
        manifest.push_str(&format!("---\n# Source: {}\n{}\n", d.path, d.content));
    }
    let mut out = String::new();
    out.push_str(manifest.trim());
    out.push('\n');
    if !opts.no_hooks {
        for h in &sorted.hooks {
            if opts.skip_tests && is_test_hook(h) {
                continue;
            }
            out.push_str(&format!("---\n# Source: {}\n{}\n", h.path, h.content));
        }
    }
    if opts.show_only.is_empty() {
        return Ok(out);
    }
    show_only(&out, &opts.show_only)
}

fn is_test_hook(h: &Doc) -> bool {
    h.annotations
        .get("helm.sh/hook")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "test"))
}

/// `--show-only`: the documents whose `# Source:` path (without the chart name) matches one of
/// the patterns (`filepath.Match`), in pattern order.
fn show_only(out: &str, patterns: &[String]) -> Result<String, RenderError> {
    let docs = split_manifests(out);
    let mut picked: Vec<&str> = Vec::new();
    for pat in patterns {
        let pat = pat.replace('\\', "/");
        let mut missing = true;
        for d in &docs {
            let Some(path) = source_path(d) else {
                continue;
            };
            if path_match(&pat, path) {
                picked.push(d);
                missing = false;
            }
        }
        if missing {
            return Err(RenderError {
                message: format!("could not find template {pat} in chart"),
            });
        }
    }
    let mut s = String::new();
    for d in picked {
        s.push_str(&format!("---\n{d}\n"));
    }
    Ok(s)
}

/// `# Source: [^/]+/(.+)` — the first match in the document.
fn source_path(doc: &str) -> Option<&str> {
    let mut rest = doc;
    while let Some(i) = rest.find("# Source: ") {
        let after = &rest[i + "# Source: ".len()..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let line = &after[..line_end];
        if let Some(slash) = line.find('/') {
            if slash > 0 && slash + 1 < line.len() {
                return Some(&line[slash + 1..]);
            }
        }
        rest = after;
    }
    None
}

/// Go's `filepath.Match` on `/`-separated paths (`*`, `?`, `[...]`, `[^...]`, `\` escapes);
/// a malformed pattern matches nothing.
pub fn path_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    match_from(&p, &s, 0)
}

fn match_from(p: &[char], s: &[char], depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    let (mut i, mut j) = (0, 0);
    while i < p.len() {
        match p[i] {
            '*' => {
                let rest = &p[i + 1..];
                let mut k = j;
                loop {
                    if match_from(rest, &s[k..], depth + 1) {
                        return true;
                    }
                    if k >= s.len() || s[k] == '/' {
                        return false;
                    }
                    k += 1;
                }
            }
            '?' => {
                if j >= s.len() || s[j] == '/' {
                    return false;
                }
                i += 1;
                j += 1;
            }
            '[' => {
                if j >= s.len() {
                    return false;
                }
                let Some((ok, next)) = match_class(p, i + 1, s[j]) else {
                    return false;
                };
                if !ok || s[j] == '/' {
                    return false;
                }
                i = next;
                j += 1;
            }
            '\\' => {
                let Some(&c) = p.get(i + 1) else {
                    return false;
                };
                if j >= s.len() || s[j] != c {
                    return false;
                }
                i += 2;
                j += 1;
            }
            c => {
                if j >= s.len() || s[j] != c {
                    return false;
                }
                i += 1;
                j += 1;
            }
        }
    }
    j == s.len()
}

/// Matches `c` against the class starting after `[`; returns (matched, index after `]`).
fn match_class(p: &[char], mut i: usize, c: char) -> Option<(bool, usize)> {
    let neg = p.get(i) == Some(&'^');
    if neg {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let mut lo = *p.get(i)?;
        if lo == ']' && !first {
            return Some((matched != neg, i + 1));
        }
        first = false;
        if lo == '\\' {
            i += 1;
            lo = *p.get(i)?;
        }
        i += 1;
        let mut hi = lo;
        if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&x| x != ']') {
            hi = p[i + 1];
            if hi == '\\' {
                hi = *p.get(i + 2)?;
                i += 1;
            }
            i += 2;
        }
        if lo <= c && c <= hi {
            matched = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// The hand scan finds what Helm's regular expression finds.
        #[test]
        fn separators_match_helms_regular_expression(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("-"), Just("---"), Just("\n"), Just(" "), Just("\t"), Just("\r"),
                    Just("\u{c}"), Just("\u{b}"), Just("a"), Just("é"), Just("\n---\n"),
                ],
                0..16,
            )
        ) {
            let text = parts.concat();
            let re = regex::Regex::new(r"(?:^|[\t\n\x0C\r ]*\n)---[\t\n\x0C\r ]*").unwrap();
            let want: Vec<_> = re.find_iter(&text).map(|m| m.range()).collect();
            prop_assert_eq!(separators(&text), want);
        }
    }

    #[test]
    fn split_like_helm() {
        assert_eq!(split_manifests("a: 1\n---\nb: 2\n"), vec!["a: 1", "b: 2\n"]);
        assert_eq!(split_manifests("---\na: 1"), vec!["a: 1"]);
        assert_eq!(
            split_manifests("\n\n---\n---\nx: 1\n  \n---  \n"),
            vec!["---\nx: 1"]
        );
        assert_eq!(
            split_manifests("a: 1\n---\n---\nx: 1"),
            vec!["a: 1", "---\nx: 1"]
        );
        assert_eq!(
            split_manifests("a: |\n  x\n-----BEGIN\n"),
            vec!["a: |\n  x", "--BEGIN\n"]
        );
        assert!(split_manifests("  \n ").is_empty());
    }

    #[test]
    fn kind_order() {
        let mk = |k: &str, p: &str| Doc {
            path: p.into(),
            content: String::new(),
            kind: k.into(),
            api_version: String::new(),
            name: String::new(),
            annotations: BTreeMap::new(),
        };
        let mut v = vec![
            mk("Deployment", "a"),
            mk("Zeta", "b"),
            mk("Alpha", "c"),
            mk("Service", "d"),
            mk("Alpha", "e"),
            mk("Namespace", "f"),
        ];
        sort_by_kind(&mut v);
        let order: Vec<&str> = v.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(order, vec!["f", "d", "a", "c", "e", "b"]);
    }

    #[test]
    fn path_matching() {
        assert!(path_match("templates/*.yaml", "templates/a.yaml"));
        assert!(!path_match("templates/*.yaml", "templates/x/a.yaml"));
        assert!(path_match("templates/[a-c].yaml", "templates/b.yaml"));
        assert!(!path_match("templates/[^a-c].yaml", "templates/b.yaml"));
        assert!(path_match("t?", "tx"));
    }

    #[test]
    fn source_paths() {
        assert_eq!(
            source_path("# Source: chart/templates/a.yaml\nx: 1"),
            Some("templates/a.yaml")
        );
    }
}
