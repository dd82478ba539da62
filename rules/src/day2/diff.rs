//! The fleet diff: two rendered trees compared per cluster, per component file, per object.
//!
//! 1. Files whose bytes are equal are skipped without parsing (most of a fleet).
//! 2. A changed file is split into its YAML documents (`---` lines); each document is named by
//!    its object identity (kind, namespace, name, read with the renderer's YAML parser), so
//!    objects are reported as added, removed or changed even when they moved in the file.
//! 3. The file's unified diff (3 lines of context, real file line numbers, so `patch` applies
//!    it) labels every hunk with the object it falls in, the way git labels hunks with the
//!    enclosing function.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Duration;

use rayon::prelude::*;
use similar::{ChangeTag, DiffTag, TextDiff};

use super::rendered::RenderedTree;

/// How a cluster, a file or an object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
    /// `+`, `-` or `~`.
    pub fn sigil(self) -> char {
        match self {
            Change::Added => '+',
            Change::Removed => '-',
            Change::Changed => '~',
        }
    }
}

/// A Kubernetes object's identity inside one file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    pub kind: String,
    /// Empty for cluster-scoped objects (or when the manifest leaves it to the release).
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// One object that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectChange {
    pub id: ObjectId,
    pub change: Change,
}

/// One output file (a component's manifests, or `kustomization.yaml`) that changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub file: String,
    pub change: Change,
    pub objects: Vec<ObjectChange>,
    /// The unified diff: `--- a/…`, `+++ b/…` and the hunks.
    pub patch: String,
}

impl FileDiff {
    /// The component name (the file name without `.yaml`).
    pub fn component(&self) -> &str {
        self.file
            .strip_suffix(".yaml")
            .or_else(|| self.file.strip_suffix(".yml"))
            .unwrap_or(&self.file)
    }
}

/// One cluster whose output changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterDiff {
    pub name: String,
    pub change: Change,
    pub files: Vec<FileDiff>,
}

impl ClusterDiff {
    /// Objects (added, removed, changed) of this cluster.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for o in self.files.iter().flat_map(|f| &f.objects) {
            match o.change {
                Change::Added => c.0 += 1,
                Change::Removed => c.1 += 1,
                Change::Changed => c.2 += 1,
            }
        }
        c
    }
}

/// The whole diff, clusters sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetDiff {
    pub clusters: Vec<ClusterDiff>,
    /// Clusters compared (selected on either side).
    pub compared: usize,
}

/// The `--stat` figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub clusters_compared: usize,
    pub clusters_changed: usize,
    pub clusters_added: usize,
    pub clusters_removed: usize,
    pub objects_added: usize,
    pub objects_removed: usize,
    pub objects_changed: usize,
}

impl FleetDiff {
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    pub fn stat(&self) -> Stat {
        let mut s = Stat {
            clusters_compared: self.compared,
            clusters_changed: self.clusters.len(),
            ..Stat::default()
        };
        for c in &self.clusters {
            match c.change {
                Change::Added => s.clusters_added += 1,
                Change::Removed => s.clusters_removed += 1,
                Change::Changed => {}
            }
            let (a, r, ch) = c.counts();
            s.objects_added += a;
            s.objects_removed += r;
            s.objects_changed += ch;
        }
        s
    }
}

impl std::fmt::Display for Stat {
    /// `3 clusters changed (1 added, 0 removed): 2 objects added, 0 removed, 5 changed`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.clusters_changed == 0 {
            return write!(
                f,
                "no change in the rendered output of {} {}",
                self.clusters_compared,
                plural(self.clusters_compared, "cluster")
            );
        }
        write!(
            f,
            "{} of {} {} changed ({} added, {} removed): {} {} added, {} removed, {} changed",
            self.clusters_changed,
            self.clusters_compared,
            plural(self.clusters_compared, "cluster"),
            self.clusters_added,
            self.clusters_removed,
            self.objects_added,
            plural(self.objects_added, "object"),
            self.objects_removed,
            self.objects_changed
        )
    }
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}

/// Compares two rendered trees (`old` → `new`).
pub fn diff_trees(old: &RenderedTree, new: &RenderedTree) -> FleetDiff {
    let t0 = std::time::Instant::now();
    let mut names: Vec<&String> = old.clusters.keys().chain(new.clusters.keys()).collect();
    names.sort();
    names.dedup();
    let empty = BTreeMap::new();
    let clusters: Vec<ClusterDiff> = names
        .par_iter()
        .filter_map(|name| {
            let (o, n) = (old.clusters.get(*name), new.clusters.get(*name));
            let change = match (o, n) {
                (None, Some(_)) => Change::Added,
                (Some(_), None) => Change::Removed,
                _ => Change::Changed,
            };
            let files = diff_files(name, o.unwrap_or(&empty), n.unwrap_or(&empty));
            (!files.is_empty() || change != Change::Changed).then(|| ClusterDiff {
                name: name.to_string(),
                change,
                files,
            })
        })
        .collect();
    tracing::debug!(
        ms = t0.elapsed().as_millis() as u64,
        changed = clusters.len(),
        "compared"
    );
    FleetDiff {
        clusters,
        compared: names.len(),
    }
}

fn diff_files(
    cluster: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) -> Vec<FileDiff> {
    let mut names: Vec<&String> = old.keys().chain(new.keys()).collect();
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for f in names {
        let (o, n) = (old.get(f), new.get(f));
        if o == n {
            continue;
        }
        let change = match (o, n) {
            (None, _) => Change::Added,
            (_, None) => Change::Removed,
            _ => Change::Changed,
        };
        let (o, n) = (o.map_or("", String::as_str), n.map_or("", String::as_str));
        out.push(diff_file(cluster, f, change, o, n));
    }
    out
}

/// One YAML document of a file.
struct Doc {
    /// Named only when it has no identical twin on the other side (the costly part).
    id: Option<ObjectId>,
    /// 0-based first and one-past-last line in the file.
    lines: (usize, usize),
    text: String,
    /// Position among the file's documents.
    index: usize,
}

/// Splits a rendered file into its documents (`---` lines), trailing blank lines dropped.
fn split_docs(text: &str) -> Vec<Doc> {
    let lines: Vec<&str> = text.lines().collect();
    let mut docs = Vec::new();
    let mut start = 0;
    let push = |from: usize, to: usize, docs: &mut Vec<Doc>| {
        let mut end = to;
        while end > from && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        if end == from {
            return;
        }
        let mut body = lines[from..end].join("\n");
        body.push('\n');
        let index = docs.len();
        docs.push(Doc {
            id: None,
            lines: (from, end),
            text: body,
            index,
        });
    };
    for (i, l) in lines.iter().enumerate() {
        if l.trim_end() == "---" || l.starts_with("--- ") {
            push(start, i, &mut docs);
            start = i + 1;
        }
    }
    push(start, lines.len(), &mut docs);
    docs
}

/// Names the documents without an identical twin on the other side; identical names in
/// one file get ` (2)`, ` (3)`…
fn name_unmatched(docs: &mut [Doc], other: &[Doc], file: &str) {
    let mut twins: HashMap<&str, usize> = HashMap::new();
    for d in other {
        *twins.entry(d.text.as_str()).or_default() += 1;
    }
    let mut seen: HashMap<ObjectId, usize> = HashMap::new();
    for d in docs.iter_mut() {
        if let Some(n) = twins.get_mut(d.text.as_str()) {
            if *n > 0 {
                *n -= 1;
                continue;
            }
        }
        let mut id = identity(&d.text, file, d.index);
        let n = seen.entry(id.clone()).or_insert(0);
        *n += 1;
        if *n > 1 {
            id.name = format!("{} ({})", id.name, n);
        }
        d.id = Some(id);
    }
}

/// The object a document declares; documents without a readable kind are named by their
/// `# Source:` template and position.
fn identity(body: &str, file: &str, index: usize) -> ObjectId {
    let (kind, namespace, name) = quick_identity(body).unwrap_or_else(|| parsed_identity(body));
    if !kind.is_empty() {
        let name = if name.is_empty() {
            file.trim_end_matches(".yaml").to_string()
        } else {
            name
        };
        return ObjectId {
            kind,
            namespace,
            name,
        };
    }
    let source = body
        .lines()
        .find_map(|l| l.strip_prefix("# Source: "))
        .unwrap_or(file);
    ObjectId {
        kind: "document".into(),
        namespace: String::new(),
        name: format!("{} #{}", source.trim(), index + 1),
    }
}

/// Reads `kind`, `metadata.namespace` and `metadata.name` from block-style YAML line by line
/// (what Helm charts print); `None` when the document is anything less plain, for the parser.
fn quick_identity(body: &str) -> Option<(String, String, String)> {
    let (mut kind, mut namespace, mut name) = (None, None, None);
    let mut in_meta = false;
    let mut meta_indent = None;
    for line in body.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if line.starts_with('\t') {
            return None;
        }
        if indent == 0 {
            in_meta = false;
            if let Some(v) = trimmed.strip_prefix("kind:") {
                kind = Some(plain_scalar(v)?);
            } else if let Some(rest) = trimmed.strip_prefix("metadata:") {
                if !rest.trim().is_empty() && !rest.trim().starts_with('#') {
                    return None; // flow mapping or anchor: leave it to the parser
                }
                in_meta = true;
            } else if !trimmed.contains(':') {
                return None; // not a plain mapping
            }
            continue;
        }
        if !in_meta {
            continue;
        }
        let level = *meta_indent.get_or_insert(indent);
        if indent != level {
            continue;
        }
        if let Some(v) = trimmed.strip_prefix("name:") {
            name = Some(plain_scalar(v)?);
        } else if let Some(v) = trimmed.strip_prefix("namespace:") {
            namespace = Some(plain_scalar(v)?);
        }
    }
    Some((
        kind?,
        namespace.unwrap_or_default(),
        name.unwrap_or_default(),
    ))
}

/// A scalar without escapes, anchors, tags or flow syntax, unquoted.
fn plain_scalar(v: &str) -> Option<String> {
    let v = v.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q) {
            let end = inner.find(q)?;
            let rest = inner[end + 1..].trim_start();
            let body = &inner[..end];
            if body.contains('\\') || !(rest.is_empty() || rest.starts_with('#')) {
                return None;
            }
            return Some(body.to_string());
        }
    }
    let v = match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    };
    if v.is_empty()
        || v.starts_with(['{', '[', '&', '*', '!', '|', '>', '%', '@', '`'])
        || matches!(v, "~" | "null" | "Null" | "NULL")
    {
        return None;
    }
    Some(v.to_string())
}

/// The identity as the YAML parser reads it (slow path).
fn parsed_identity(body: &str) -> (String, String, String) {
    let data = wayfinder_render::yaml::parse(body).ok();
    let map = data.as_ref().and_then(|d| d.as_map());
    let text = |v: Option<&wayfinder_render::Data>| -> String {
        match v {
            Some(wayfinder_render::Data::String(s)) => s.clone(),
            Some(wayfinder_render::Data::Int(i)) => i.to_string(),
            Some(wayfinder_render::Data::Bool(b)) => b.to_string(),
            _ => String::new(),
        }
    };
    let meta = map.and_then(|m| m.get("metadata")).and_then(|m| m.as_map());
    (
        text(map.and_then(|m| m.get("kind"))),
        text(meta.and_then(|m| m.get("namespace"))),
        text(meta.and_then(|m| m.get("name"))),
    )
}

/// A pathological pair of files gets a correct but less minimal diff after this long.
const DIFF_DEADLINE: Duration = Duration::from_secs(2);

fn diff_file(cluster: &str, file: &str, change: Change, old: &str, new: &str) -> FileDiff {
    let mut old_docs = split_docs(old);
    let mut new_docs = split_docs(new);
    name_unmatched(&mut old_docs, &new_docs, file);
    name_unmatched(&mut new_docs, &old_docs, file);
    // Objects: in the new file's order, then the removed ones in the old file's order.
    let old_ids: HashMap<&ObjectId, ()> = old_docs
        .iter()
        .filter_map(|d| d.id.as_ref())
        .map(|i| (i, ()))
        .collect();
    let new_ids: HashMap<&ObjectId, ()> = new_docs
        .iter()
        .filter_map(|d| d.id.as_ref())
        .map(|i| (i, ()))
        .collect();
    let mut objects = Vec::new();
    for id in new_docs.iter().filter_map(|d| d.id.as_ref()) {
        let change = if old_ids.contains_key(id) {
            Change::Changed
        } else {
            Change::Added
        };
        objects.push(ObjectChange {
            id: id.clone(),
            change,
        });
    }
    for id in old_docs.iter().filter_map(|d| d.id.as_ref()) {
        if !new_ids.contains_key(id) {
            objects.push(ObjectChange {
                id: id.clone(),
                change: Change::Removed,
            });
        }
    }
    let patch = unified(cluster, file, change, old, new, &old_docs, &new_docs);
    FileDiff {
        file: file.to_string(),
        change,
        objects,
        patch,
    }
}

/// The object a line (0-based) falls in (named on the spot when it has a twin).
fn object_at(docs: &[Doc], line: usize, file: &str) -> Option<ObjectId> {
    docs.iter()
        .find(|d| line >= d.lines.0 && line < d.lines.1.max(d.lines.0 + 1))
        .or_else(|| docs.iter().rev().find(|d| d.lines.0 <= line))
        .map(|d| {
            d.id.clone()
                .unwrap_or_else(|| identity(&d.text, file, d.index))
        })
}

fn unified(
    cluster: &str,
    file: &str,
    change: Change,
    old: &str,
    new: &str,
    old_docs: &[Doc],
    new_docs: &[Doc],
) -> String {
    let mut out = String::new();
    let a = match change {
        Change::Added => "/dev/null".to_string(),
        _ => format!("a/{cluster}/{file}"),
    };
    let b = match change {
        Change::Removed => "/dev/null".to_string(),
        _ => format!("b/{cluster}/{file}"),
    };
    let _ = writeln!(out, "--- {a}\n+++ {b}");
    let diff = TextDiff::configure()
        .timeout(DIFF_DEADLINE)
        .diff_lines(old, new);
    for group in diff.grouped_ops(3) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        // The label: the object of the first changed line.
        let label = group
            .iter()
            .find(|op| op.tag() != DiffTag::Equal)
            .and_then(|op| {
                if op.new_range().is_empty() {
                    object_at(old_docs, op.old_range().start, file)
                } else {
                    object_at(new_docs, op.new_range().start, file)
                }
            });
        let _ = write!(
            out,
            "@@ -{} +{} @@",
            range(old_range.start, old_range.len()),
            range(new_range.start, new_range.len())
        );
        match label {
            Some(id) => {
                let _ = writeln!(out, " {id}");
            }
            None => out.push('\n'),
        }
        for op in &group {
            for c in diff.iter_changes(op) {
                let sign = match c.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                out.push(sign);
                let v = c.value();
                out.push_str(v);
                if !v.ends_with('\n') {
                    out.push_str("\n\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// A hunk range: `start,len` with 1-based start (`0,0` for an empty side, as diff prints).
fn range(start0: usize, len: usize) -> String {
    if len == 0 {
        format!("{start0},0")
    } else if len == 1 {
        format!("{}", start0 + 1)
    } else {
        format!("{},{}", start0 + 1, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CM: &str = "---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: web\ndata:\n  a: \"1\"\n\n";
    const SVC: &str = "---\n# Source: app/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: web\nspec:\n  ports: []\n\n";
    const CR: &str = "---\n# Source: app/templates/cr.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\nrules: []\n";

    fn tree(entries: &[(&str, &str, &str)]) -> RenderedTree {
        let mut t = RenderedTree::default();
        for (c, f, text) in entries {
            t.clusters
                .entry(c.to_string())
                .or_default()
                .insert(f.to_string(), text.to_string());
        }
        t
    }

    #[test]
    fn equal_trees_have_no_diff() {
        let t = tree(&[("a", "app.yaml", CM)]);
        let d = diff_trees(&t, &t);
        assert!(d.is_empty());
        assert_eq!(d.compared, 1);
        assert!(d.stat().to_string().starts_with("no change"));
    }

    #[test]
    fn objects_are_named_added_removed_changed() {
        let old = tree(&[("a", "app.yaml", &format!("{CM}{SVC}"))]);
        let new_cm = CM.replace("a: \"1\"", "a: \"2\"");
        let new = tree(&[("a", "app.yaml", &format!("{new_cm}{CR}"))]);
        // Only the ConfigMap changes: one hunk, lines 9 ± 3 of the file.
        let only_cm = diff_trees(&old, &tree(&[("a", "app.yaml", &format!("{new_cm}{SVC}"))]));
        let patch = &only_cm.clusters[0].files[0].patch;
        assert!(
            patch.contains("@@ -6,7 +6,7 @@ ConfigMap web/cfg\n"),
            "{patch}"
        );
        assert_eq!(patch.matches("@@ -").count(), 1);
        let d = diff_trees(&old, &new);
        assert_eq!(d.clusters.len(), 1);
        let f = &d.clusters[0].files[0];
        let got: Vec<String> = f
            .objects
            .iter()
            .map(|o| format!("{} {}", o.change.sigil(), o.id))
            .collect();
        assert_eq!(
            got,
            [
                "~ ConfigMap web/cfg",
                "+ ClusterRole reader",
                "- Service web/web"
            ]
        );
        let s = d.stat();
        assert_eq!(
            (s.objects_added, s.objects_removed, s.objects_changed),
            (1, 1, 1)
        );
        assert!(f.patch.contains("-  a: \"1\"\n+  a: \"2\"\n"));
    }

    #[test]
    fn added_and_removed_clusters_and_files() {
        let old = tree(&[("a", "app.yaml", CM), ("gone", "app.yaml", SVC)]);
        let new = tree(&[
            ("a", "app.yaml", CM),
            ("a", "more.yaml", CR),
            ("b", "app.yaml", SVC),
        ]);
        let d = diff_trees(&old, &new);
        let names: Vec<(&str, Change)> = d
            .clusters
            .iter()
            .map(|c| (c.name.as_str(), c.change))
            .collect();
        assert_eq!(
            names,
            [
                ("a", Change::Changed),
                ("b", Change::Added),
                ("gone", Change::Removed)
            ]
        );
        assert_eq!(d.clusters[0].files[0].change, Change::Added);
        assert!(d.clusters[0].files[0]
            .patch
            .starts_with("--- /dev/null\n+++ b/a/more.yaml\n@@ -0,0 +1,7 @@"));
        assert!(d.clusters[2].files[0].patch.contains("+++ /dev/null"));
        let s = d.stat();
        assert_eq!(
            (s.clusters_changed, s.clusters_added, s.clusters_removed),
            (3, 1, 1)
        );
    }

    fn named(text: &str, file: &str) -> Vec<String> {
        let mut docs = split_docs(text);
        name_unmatched(&mut docs, &[], file);
        docs.iter()
            .map(|d| d.id.as_ref().unwrap().to_string())
            .collect()
    }

    #[test]
    fn duplicate_and_unparsable_documents_get_distinct_names() {
        let text = format!("{CM}{CM}---\n# Source: x/templates/bad.yaml\n: : [\n");
        let names = named(&text, "x.yaml");
        assert_eq!(names[0], "ConfigMap web/cfg");
        assert_eq!(names[1], "ConfigMap web/cfg (2)");
        assert_eq!(names[2], "document x/templates/bad.yaml #3");
    }

    #[test]
    fn kustomization_is_an_object_named_by_its_file() {
        let k = "# Generated by wayfinder. Do not edit.\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - a.yaml\n";
        assert_eq!(
            named(k, "kustomization.yaml"),
            ["Kustomization kustomization"]
        );
    }

    #[test]
    fn the_line_scanner_agrees_with_the_parser_or_steps_aside() {
        let docs = [
            CM,
            SVC,
            CR,
            "kind: Secret\nmetadata:\n  labels:\n    name: not-this\n  name: 'quoted' # c\n  namespace: \"ns\"\n",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n    namespace: four\n    name: spaces\ndata:\n  name: x\n",
            "kind: A\nmetadata: {name: flow}\n",
            "kind: \"esc\\u0041\"\nmetadata:\n  name: x\n",
            "kind: List\nitems: []\n",
        ];
        for d in docs {
            let parsed = parsed_identity(d);
            if let Some(quick) = quick_identity(d) {
                assert_eq!(quick, parsed, "{d}");
            }
        }
        assert_eq!(
            quick_identity(docs[3]),
            Some(("Secret".into(), "ns".into(), "quoted".into()))
        );
        assert_eq!(quick_identity(docs[5]), None);
        assert_eq!(quick_identity(docs[6]), None);
        assert_eq!(parsed_identity(docs[5]).2, "flow");
    }

    #[test]
    fn identical_documents_are_not_reported_even_when_moved() {
        let old = tree(&[("a", "app.yaml", &format!("{CM}{SVC}"))]);
        let new = tree(&[("a", "app.yaml", &format!("{SVC}{CM}"))]);
        let d = diff_trees(&old, &new);
        assert_eq!(d.clusters.len(), 1, "the file changed");
        assert!(d.clusters[0].files[0].objects.is_empty());
    }

    #[test]
    fn ranges_print_like_diff() {
        assert_eq!(range(0, 0), "0,0");
        assert_eq!(range(4, 1), "5");
        assert_eq!(range(4, 3), "5,3");
    }
}
