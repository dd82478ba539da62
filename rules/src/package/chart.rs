//! Reproducible chart archives, laid out as `helm package` lays them out:
//! `<name>/Chart.yaml`, `<name>/values.yaml`, `<name>/templates/…`, `<name>/charts/…`, with the
//! chart's `.helmignore` (and Helm's default `templates/.?*`) applied. File bytes are kept as
//! they are (Helm re-serializes `Chart.yaml`; loading gives the same chart). The archive is
//! [`wayfinder_oci::tgz`]: sorted, fixed mtimes and modes, no gzip name or time.

use std::path::Path;

use wayfinder_engine::{Blob, Digest};
use wayfinder_render::{Chart, Data};

use super::ignore::HelmIgnore;

/// A packaged chart.
pub(crate) struct Packaged {
    /// `NAME-VERSION.tgz`.
    pub file: String,
    pub bytes: Vec<u8>,
}

fn meta_str(chart: &Chart, key: &str) -> String {
    match chart.metadata.as_map().and_then(|m| m.get(key)) {
        Some(Data::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Packages the chart at workspace path `dir` whose files (workspace-relative, with digests)
/// are `files`; `chart` is the loaded chart (for its name and version).
pub(crate) fn package_chart(
    root: &Path,
    dir: &str,
    files: &[(String, Digest<Blob>)],
    chart: &Chart,
) -> Result<Packaged, String> {
    let name = chart.name().to_string();
    let version = meta_str(chart, "version");
    let safe = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))
    };
    if !safe(&name) || !safe(&version) {
        return Err(format!(
            "chart `{dir}`: cannot package a chart named `{name}` with version `{version}`"
        ));
    }
    let prefix = format!("{dir}/");
    let read = |rel: &str, digest: &Digest<Blob>| -> Result<Vec<u8>, String> {
        let data =
            std::fs::read(root.join(rel)).map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        if Digest::of(&data) != *digest {
            return Err(format!(
                "`{rel}` changed during the build; run the build again"
            ));
        }
        Ok(data)
    };
    let ignore = match files
        .iter()
        .find(|(f, _)| *f == format!("{prefix}.helmignore"))
    {
        Some((f, d)) => {
            let text = read(f, d)?;
            HelmIgnore::parse(&String::from_utf8_lossy(&text))
                .map_err(|e| format!("chart `{dir}`: {e}"))?
        }
        None => HelmIgnore::parse("")?,
    };
    let mut entries = Vec::new();
    for (f, d) in files {
        let Some(inner) = f.strip_prefix(&prefix) else {
            continue;
        };
        if !ignore.keeps_file(inner) {
            continue;
        }
        entries.push((format!("{name}/{inner}"), read(f, d)?));
    }
    Ok(Packaged {
        file: format!("{name}-{version}.tgz"),
        bytes: wayfinder_oci::tgz(&entries),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_are_reproducible_and_skip_ignored_files() {
        let mk = || {
            let d = tempfile::tempdir().unwrap();
            let r = d.path();
            let w = |p: &str, t: &str| {
                let p = r.join(p);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, t).unwrap();
            };
            w(
                "charts/web/Chart.yaml",
                "apiVersion: v2\nname: web\nversion: 1.2.3\n",
            );
            w("charts/web/values.yaml", "a: 1\n");
            w("charts/web/templates/cm.yaml", "kind: ConfigMap\n");
            w("charts/web/templates/.swp", "x");
            w("charts/web/.helmignore", "*.md\n");
            w("charts/web/README.md", "doc");
            d
        };
        let pack = |d: &tempfile::TempDir| {
            let r = d.path();
            let mut files = Vec::new();
            for f in [
                ".helmignore",
                "Chart.yaml",
                "README.md",
                "templates/.swp",
                "templates/cm.yaml",
                "values.yaml",
            ] {
                let rel = format!("charts/web/{f}");
                files.push((
                    rel.clone(),
                    Digest::of(&std::fs::read(r.join(&rel)).unwrap()),
                ));
            }
            let chart = wayfinder_render::load_chart(&r.join("charts/web")).unwrap();
            package_chart(r, "charts/web", &files, &chart).unwrap()
        };
        let (a, b) = (mk(), mk());
        let (pa, pb) = (pack(&a), pack(&b));
        assert_eq!(pa.file, "web-1.2.3.tgz");
        assert_eq!(pa.bytes, pb.bytes);
        let names: Vec<String> = wayfinder_oci::read_tgz(&pa.bytes)
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            [
                "web/.helmignore",
                "web/Chart.yaml",
                "web/templates/cm.yaml",
                "web/values.yaml"
            ]
        );
        // The renderer loads the archive as the same chart.
        let chart = wayfinder_render::chart::load_archive(&pa.bytes).unwrap();
        assert_eq!(chart.name(), "web");
        assert_eq!(chart.templates.len(), 1);
    }
}
