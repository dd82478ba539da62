//! The fleet diff printed: plain text (a valid unified diff, with a summary per cluster),
//! `--stat`, Markdown for a pull-request comment, and JSON.

use std::fmt::Write as _;

use super::diff::{plural, Change, ClusterDiff, FleetDiff};

/// Markdown longer than this does not fit a GitHub comment (65,536 characters): the rest
/// of the clusters are listed without their diffs.
pub const MARKDOWN_LIMIT: usize = 60_000;
/// One cluster's diff is cut after this many characters in Markdown.
const MARKDOWN_CLUSTER_LIMIT: usize = 12_000;
/// Objects listed per cluster in Markdown.
const MARKDOWN_MAX_OBJECTS: usize = 50;
/// Room kept at the end of the Markdown for the note about clusters not shown.
const RESERVED: usize = 512;
/// Clusters listed by name once the Markdown is full.
const MARKDOWN_MAX_LISTED: usize = 200;

/// `1 added, 2 changed` (the non-zero object counts), or `no object changed`.
fn counts_text(c: &ClusterDiff) -> String {
    let (a, r, ch) = c.counts();
    let mut parts = Vec::new();
    if a > 0 {
        parts.push(format!("{a} added"));
    }
    if r > 0 {
        parts.push(format!("{r} removed"));
    }
    if ch > 0 {
        parts.push(format!("{ch} changed"));
    }
    if parts.is_empty() {
        "no object changed".to_string()
    } else {
        format!("{} {}", parts.join(", "), plural(a + r + ch, "object"))
    }
}

fn cluster_line(c: &ClusterDiff) -> String {
    match c.change {
        Change::Changed => format!("{}: {}", c.name, counts_text(c)),
        other => format!("{} ({}): {}", c.name, other.as_str(), counts_text(c)),
    }
}

/// The object list of a cluster: `  ~ ingress-nginx: ConfigMap ingress/cfg`.
fn object_lines(c: &ClusterDiff, out: &mut String, indent: &str) {
    for f in &c.files {
        for o in &f.objects {
            let _ = writeln!(
                out,
                "{indent}{} {}: {}",
                o.change.sigil(),
                f.component(),
                o.id
            );
        }
    }
}

/// The text diff: per cluster a `cluster NAME: …` line, its objects, then the unified diff
/// of each file. With `color`, ANSI colours as git uses them.
pub fn text(d: &FleetDiff, color: bool) -> String {
    let mut out = String::new();
    for c in &d.clusters {
        let head = format!("cluster {}", cluster_line(c));
        if color {
            let _ = writeln!(out, "\x1b[1m{head}\x1b[0m");
        } else {
            let _ = writeln!(out, "{head}");
        }
        object_lines(c, &mut out, "  ");
        for f in &c.files {
            if color {
                for line in f.patch.lines() {
                    let code = if line.starts_with("+++") || line.starts_with("---") {
                        "1"
                    } else if line.starts_with('+') {
                        "32"
                    } else if line.starts_with('-') {
                        "31"
                    } else if line.starts_with("@@") {
                        "36"
                    } else {
                        ""
                    };
                    if code.is_empty() {
                        let _ = writeln!(out, "{line}");
                    } else {
                        let _ = writeln!(out, "\x1b[{code}m{line}\x1b[0m");
                    }
                }
            } else {
                out.push_str(&f.patch);
            }
        }
    }
    out
}

/// `--stat`: one line per changed cluster, then the totals.
pub fn stat_text(d: &FleetDiff) -> String {
    let mut out = String::new();
    let width = d
        .clusters
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &d.clusters {
        let what = match c.change {
            Change::Changed => counts_text(c),
            other => format!("{}, {}", other.as_str(), counts_text(c)),
        };
        let _ = writeln!(out, " {:width$} | {what}", c.name);
    }
    let _ = writeln!(out, "{}", d.stat());
    out
}

/// A code fence longer than any run of backticks in `body`.
fn fence_for(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for ch in body.chars() {
        if ch == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Escapes text for HTML inside `<summary>`.
fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cuts `body` at a line boundary before `limit` characters; says how many lines were left.
fn cut(body: &str, limit: usize) -> (String, usize) {
    if body.len() <= limit {
        return (body.to_string(), 0);
    }
    let mut end = 0;
    for (i, _) in body.match_indices('\n') {
        if i + 1 > limit {
            break;
        }
        end = i + 1;
    }
    let left = body[end..].lines().count();
    (body[..end].to_string(), left)
}

/// Markdown for a pull-request comment: a title with the totals, one collapsible
/// `<details>` section per cluster, cut with a note when it would not fit in `limit`.
pub fn markdown(d: &FleetDiff, title: &str, limit: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### {title}\n");
    let _ = writeln!(out, "{}\n", d.stat());
    if d.is_empty() {
        return out;
    }
    let mut shown = 0;
    for c in &d.clusters {
        let mut section = String::new();
        let _ = writeln!(
            section,
            "<details><summary><code>{}</code> {}</summary>\n",
            html(&c.name),
            html(&match c.change {
                Change::Changed => counts_text(c),
                other => format!("({}) {}", other.as_str(), counts_text(c)),
            })
        );
        let mut objects = String::new();
        object_lines(c, &mut objects, "");
        let total = objects.lines().count();
        for l in objects.lines().take(MARKDOWN_MAX_OBJECTS) {
            let _ = writeln!(section, "- `{}`", l.replace('`', "'"));
        }
        if total > MARKDOWN_MAX_OBJECTS {
            let _ = writeln!(
                section,
                "- … and {} more objects",
                total - MARKDOWN_MAX_OBJECTS
            );
        }
        let body: String = c.files.iter().map(|f| f.patch.as_str()).collect();
        let (body, left) = cut(&body, MARKDOWN_CLUSTER_LIMIT);
        let fence = fence_for(&body);
        let _ = writeln!(section, "\n{fence}diff\n{body}{fence}");
        if left > 0 {
            let _ = writeln!(
                section,
                "\n_{left} more diff lines of `{}` not shown; run `wayfinder diff {}` for all of them._",
                c.name, c.name
            );
        }
        let _ = writeln!(section, "\n</details>\n");
        // Room is kept for the note and the list of the clusters not shown.
        if out.len() + section.len() + RESERVED > limit {
            break;
        }
        out.push_str(&section);
        shown += 1;
    }
    let rest = &d.clusters[shown..];
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "_The diff is too long for one comment: {} more {} not shown; run `wayfinder diff` for the full diff._\n",
            rest.len(),
            plural(rest.len(), "cluster")
        );
        for c in rest.iter().take(MARKDOWN_MAX_LISTED) {
            let line = format!("- `{}`\n", cluster_line(c).replace('`', "'"));
            if out.len() + line.len() + 64 > limit {
                let _ = writeln!(out, "- …");
                break;
            }
            out.push_str(&line);
        }
        if rest.len() > MARKDOWN_MAX_LISTED {
            let _ = writeln!(out, "- … and {} more", rest.len() - MARKDOWN_MAX_LISTED);
        }
    }
    out
}

/// The diff as JSON: totals, and per cluster its files, objects and patches.
pub fn json(d: &FleetDiff, against: &str) -> serde_json::Value {
    let s = d.stat();
    let clusters: Vec<serde_json::Value> = d
        .clusters
        .iter()
        .map(|c| {
            let files: Vec<serde_json::Value> = c
                .files
                .iter()
                .map(|f| {
                    let objects: Vec<serde_json::Value> = f
                        .objects
                        .iter()
                        .map(|o| {
                            serde_json::json!({
                                "change": o.change.as_str(),
                                "kind": o.id.kind,
                                "namespace": o.id.namespace,
                                "name": o.id.name,
                            })
                        })
                        .collect();
                    serde_json::json!({
                        "file": f.file,
                        "component": f.component(),
                        "change": f.change.as_str(),
                        "objects": objects,
                        "diff": f.patch,
                    })
                })
                .collect();
            serde_json::json!({ "name": c.name, "change": c.change.as_str(), "files": files })
        })
        .collect();
    serde_json::json!({
        "against": against,
        "changed": !d.is_empty(),
        "stat": {
            "clusters_compared": s.clusters_compared,
            "clusters_changed": s.clusters_changed,
            "clusters_added": s.clusters_added,
            "clusters_removed": s.clusters_removed,
            "objects_added": s.objects_added,
            "objects_removed": s.objects_removed,
            "objects_changed": s.objects_changed,
        },
        "clusters": clusters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::day2::diff::diff_trees;
    use crate::day2::rendered::RenderedTree;

    fn cm(name: &str, v: &str) -> String {
        format!("---\n# Source: app/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: web\ndata:\n  v: \"{v}\"\n")
    }

    fn fleet(n: usize, v: &str) -> RenderedTree {
        let mut t = RenderedTree::default();
        for i in 0..n {
            t.clusters
                .entry(format!("c{i:03}"))
                .or_default()
                .insert("app.yaml".into(), cm("cfg", v));
        }
        t
    }

    #[test]
    fn text_has_the_cluster_summary_objects_and_patch() {
        let d = diff_trees(&fleet(2, "1"), &fleet(2, "2"));
        let t = text(&d, false);
        assert!(t.contains("cluster c000: 1 changed object\n  ~ app: ConfigMap web/cfg\n--- a/c000/app.yaml\n+++ b/c000/app.yaml\n"), "{t}");
        assert!(t.contains("-  v: \"1\"\n+  v: \"2\"\n"));
        assert!(!text(&d, true).is_empty());
        assert!(text(&d, true).contains("\x1b[32m+  v: \"2\""));
    }

    #[test]
    fn stat_lists_clusters_and_totals() {
        let d = diff_trees(&fleet(2, "1"), &fleet(3, "2"));
        let s = stat_text(&d);
        assert!(s.contains(" c002 | added, 1 added object\n"), "{s}");
        assert!(s.contains("3 of 3 clusters changed (1 added, 0 removed): 1 object added, 0 removed, 2 changed"), "{s}");
    }

    #[test]
    fn markdown_has_one_details_section_per_cluster() {
        let d = diff_trees(&fleet(3, "1"), &fleet(3, "2"));
        let m = markdown(&d, "Rendered diff", MARKDOWN_LIMIT);
        assert_eq!(m.matches("<details>").count(), 3);
        assert_eq!(m.matches("</details>").count(), 3);
        assert!(m.contains("```diff\n--- a/c001/app.yaml"));
        assert!(!m.contains("not shown"));
    }

    #[test]
    fn huge_markdown_is_cut_with_a_note() {
        let d = diff_trees(&fleet(500, "1"), &fleet(500, "2"));
        let m = markdown(&d, "Rendered diff", 20_000);
        assert!(m.len() <= 20_000, "{}", m.len());
        assert!(m.contains("too long for one comment"));
        let shown = m.matches("<details>").count();
        assert!(shown > 0 && shown < 500);
        assert_eq!(shown, m.matches("</details>").count());
    }

    #[test]
    fn one_huge_cluster_is_cut_inside_its_section() {
        let mut old = RenderedTree::default();
        let mut new = RenderedTree::default();
        let big_old: String = (0..3000).map(|i| cm(&format!("n{i}"), "1")).collect();
        let big_new: String = (0..3000).map(|i| cm(&format!("n{i}"), "2")).collect();
        old.clusters
            .entry("big".into())
            .or_default()
            .insert("app.yaml".into(), big_old);
        new.clusters
            .entry("big".into())
            .or_default()
            .insert("app.yaml".into(), big_new);
        let m = markdown(&diff_trees(&old, &new), "t", MARKDOWN_LIMIT);
        assert!(m.contains("more diff lines of `big` not shown"));
        assert!(m.len() < MARKDOWN_LIMIT);
    }

    #[test]
    fn fences_outgrow_backticks() {
        assert_eq!(fence_for("a ``` b"), "````");
        assert_eq!(fence_for("plain"), "```");
    }

    #[test]
    fn json_shape() {
        let d = diff_trees(&fleet(1, "1"), &fleet(1, "2"));
        let j = json(&d, "HEAD");
        assert_eq!(j["changed"], true);
        assert_eq!(j["stat"]["objects_changed"], 1);
        assert_eq!(
            j["clusters"][0]["files"][0]["objects"][0]["kind"],
            "ConfigMap"
        );
        assert_eq!(j["clusters"][0]["files"][0]["component"], "app");
    }
}
