//! Loading a chart the way Helm's `pkg/chart/v2/loader` does.
//!
//! - Directories: walked in lexical order, symbolic links followed (a link loop is an error),
//!   `.helmignore` of the top chart applied to every path (plus the default `templates/.?*`),
//!   irregular files rejected, files over 5 MiB rejected, a leading UTF-8 BOM dropped.
//! - Archives (`.tgz`): the first path component is dropped, absolute paths, `..`, drive
//!   letters and a top-level `Chart.yaml` are rejected, 5 MiB per file and 100 MiB in total.
//!   `.helmignore` is not applied inside archives.
//! - `load_files` sorts the files into `Chart.yaml`, `values.yaml`, `values.schema.json`,
//!   `templates/`, `charts/` (subcharts, recursively, directories and `.tgz`) and `.Files`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ignore::Rules;
use super::meta;
use super::{Chart, ChartError, ChartFile};
use crate::value::Data;

/// Helm's `MaxDecompressedFileSize`: the largest file loaded (5 MiB).
pub const MAX_FILE_SIZE: u64 = 5 * 1024 * 1024;
/// Helm's `MaxDecompressedChartSize`: the most an archive may decompress to (100 MiB).
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;
/// Our own guard: how deep archives may nest inside archives (Helm has none).
const MAX_NESTING: usize = 32;
/// Our own guard: total bytes decompressed over all nested archives of one load.
const MAX_TOTAL_DECOMPRESSED: u64 = 1024 * 1024 * 1024;
/// Our own guard: how deep a directory walk may go.
const MAX_DIR_DEPTH: usize = 256;

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn err(message: impl Into<String>) -> ChartError {
    ChartError {
        message: message.into(),
    }
}

/// A file read from a directory or an archive, before it is sorted into the chart.
#[derive(Debug, Clone)]
pub(crate) struct BufferedFile {
    pub(crate) name: String,
    pub(crate) data: Vec<u8>,
}

/// Work limits shared by one whole load (nested archives included).
struct Budget {
    decompressed: u64,
}

/// Loads a chart from a directory or a `.tgz` file.
pub(crate) fn load_path(path: &Path) -> Result<Chart, ChartError> {
    let meta = std::fs::metadata(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    if meta.is_dir() {
        load_dir(path)
    } else {
        load_archive_file(path)
    }
}

/// Loads a chart directory (Helm's `loader.LoadDir`).
pub(crate) fn load_dir(dir: &Path) -> Result<Chart, ChartError> {
    let top = std::path::absolute(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
    let chart_yaml = top.join("Chart.yaml");
    let head = std::fs::read(&chart_yaml).map_err(|e| {
        err(format!(
            "unable to detect chart at {}: {}",
            chart_yaml.display(),
            io_message(&e)
        ))
    })?;
    meta::check_api_version(&head)?;

    let mut rules = Rules::default();
    let ignore_file = top.join(".helmignore");
    if ignore_file.exists() {
        let text = std::fs::read(&ignore_file)
            .map_err(|e| err(format!("{}: {}", ignore_file.display(), io_message(&e))))?;
        rules = Rules::parse(&text).map_err(err)?;
    }
    rules.add_defaults();

    let mut files = Vec::new();
    let mut ancestors = Vec::new();
    if let Ok(c) = std::fs::canonicalize(&top) {
        ancestors.push(c);
    }
    walk_dir(&top, "", &rules, &mut files, &mut ancestors)?;
    let mut budget = Budget { decompressed: 0 };
    load_files(files, 0, &mut budget)
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// Walks `dir` (whose chart-relative path is `rel`, empty for the root) in lexical order.
fn walk_dir(
    dir: &Path,
    rel: &str,
    rules: &Rules,
    files: &mut Vec<BufferedFile>,
    ancestors: &mut Vec<PathBuf>,
) -> Result<(), ChartError> {
    if ancestors.len() > MAX_DIR_DEPTH {
        return Err(err(format!(
            "chart directory is nested too deeply at {rel}"
        )));
    }
    let entries = std::fs::read_dir(dir)
        .map_err(|e| err(format!("{}: {}", dir.display(), io_message(&e))))?;
    let mut names: Vec<std::ffi::OsString> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| err(format!("{}: {}", dir.display(), io_message(&e))))?;
        names.push(entry.file_name());
    }
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let path = dir.join(&name);
        let name = name.to_string_lossy();
        let n = if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        };
        let mut info = std::fs::symlink_metadata(&path)
            .map_err(|e| err(format!("{}: {}", path.display(), io_message(&e))))?;
        if info.file_type().is_symlink() {
            // Helm follows links (and logs them); a dangling link is an error.
            let resolved = std::fs::canonicalize(&path).map_err(|e| {
                err(format!(
                    "error evaluating symlink {}: {}",
                    path.display(),
                    io_message(&e)
                ))
            })?;
            info = std::fs::metadata(&resolved)
                .map_err(|e| err(format!("{}: {}", resolved.display(), io_message(&e))))?;
        }
        if info.is_dir() {
            if rules.ignore(&n, true) {
                continue;
            }
            let canonical = std::fs::canonicalize(&path)
                .map_err(|e| err(format!("{}: {}", path.display(), io_message(&e))))?;
            if ancestors.contains(&canonical) {
                return Err(err(format!(
                    "chart directory contains a symbolic link loop at {n}"
                )));
            }
            ancestors.push(canonical);
            let r = walk_dir(&path, &n, rules, files, ancestors);
            ancestors.pop();
            r?;
            continue;
        }
        if rules.ignore(&n, false) {
            continue;
        }
        if !info.is_file() {
            return Err(err(format!(
                "cannot load irregular file {} as it has file mode type bits set",
                path.display()
            )));
        }
        if info.len() > MAX_FILE_SIZE {
            return Err(err(format!(
                "chart file {name:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        // Sized from the metadata (checked above), so the read needs no regrowing; one spare
        // byte lets the end-of-file probe land in the buffer.
        let mut data = Vec::with_capacity(info.len() as usize + 1);
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_FILE_SIZE + 1).read_to_end(&mut data))
            .map_err(|e| err(format!("error reading {n}: {}", io_message(&e))))?;
        if data.len() as u64 > MAX_FILE_SIZE {
            return Err(err(format!(
                "chart file {name:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        if data.starts_with(BOM) {
            data.drain(..BOM.len());
        }
        files.push(BufferedFile { name: n, data });
    }
    Ok(())
}

/// Loads a `.tgz` chart file (Helm's `loader.LoadFile`).
pub(crate) fn load_archive_file(path: &Path) -> Result<Chart, ChartError> {
    let name = path.display().to_string();
    let data = std::fs::read(path).map_err(|e| err(format!("{name}: {}", io_message(&e))))?;
    if !data.starts_with(b"\x1F\x8B\x08") {
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            return Err(err(format!(
                "file '{name}' seems to be a YAML file, but expected a gzipped archive"
            )));
        }
        return Err(err(format!(
            "file '{name}' does not appear to be a gzipped archive"
        )));
    }
    load_archive(&data)
}

/// Loads a chart from the bytes of a `.tgz` archive (Helm's `loader.LoadArchive`).
pub(crate) fn load_archive(bytes: &[u8]) -> Result<Chart, ChartError> {
    let mut budget = Budget { decompressed: 0 };
    load_archive_nested(bytes, 0, &mut budget)
}

fn load_archive_nested(
    bytes: &[u8],
    depth: usize,
    budget: &mut Budget,
) -> Result<Chart, ChartError> {
    if depth > MAX_NESTING {
        return Err(err("chart archives are nested too deeply"));
    }
    let files = archive_files(bytes, budget)?;
    // Helm reads the top chart's apiVersion before choosing a loader (not a subchart's).
    if depth == 0 {
        if let Some(f) = files.iter().find(|f| f.name == "Chart.yaml") {
            meta::check_api_version(&f.data)?;
        }
    }
    load_files(files, depth, budget)
}

/// Helm's `archive.LoadArchiveFiles`: the files of a gzipped tar with its path checks.
fn archive_files(bytes: &[u8], budget: &mut Budget) -> Result<Vec<BufferedFile>, ChartError> {
    // Go's gzip reader reads concatenated members too.
    let gz = flate2::read::MultiGzDecoder::new(bytes);
    if gz.header().is_none() {
        return Err(err("gzip: invalid header"));
    }
    // Bound the whole decompressed stream (headers and padding included): a bomb stops here.
    let stream = gz.take(2 * MAX_CHART_SIZE);
    let mut tar = tar::Archive::new(stream);
    let entries = tar.entries().map_err(|e| err(e.to_string()))?;
    let mut files = Vec::new();
    let mut remaining = MAX_CHART_SIZE;
    for entry in entries {
        let mut entry = entry.map_err(|e| err(format!("reading chart archive: {e}")))?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let delimiter = if raw.contains('\\') { '\\' } else { '/' };
        let parts: Vec<&str> = raw.split(delimiter).collect();
        let joined = parts[1..].join(&delimiter.to_string());
        let n = joined.replace(delimiter, "/");
        if n.starts_with('/') {
            return Err(err("chart illegally contains absolute paths"));
        }
        let n = clean_path(&n);
        if n == "." {
            return Err(err(format!(
                "chart illegally contains content outside the base directory: {raw:?}"
            )));
        }
        if n.starts_with("..") {
            return Err(err("chart illegally references parent directory"));
        }
        let b = n.as_bytes();
        if b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/' {
            return Err(err("chart contains illegally named files"));
        }
        if parts[0] == "Chart.yaml" {
            return Err(err("chart yaml not in base directory"));
        }
        let size = entry.header().size().unwrap_or(0);
        if size > remaining {
            return Err(err(format!(
                "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
            )));
        }
        if size > MAX_FILE_SIZE {
            return Err(err(format!(
                "decompressed chart file {raw:?} is larger than the maximum file size {MAX_FILE_SIZE}"
            )));
        }
        let mut data = Vec::new();
        let written = (&mut entry)
            .take(remaining)
            .read_to_end(&mut data)
            .map_err(|e| err(format!("reading chart archive: {e}")))? as u64;
        remaining = remaining.saturating_sub(written);
        if written < size || remaining == 0 {
            return Err(err(format!(
                "decompressed chart is larger than the maximum size {MAX_CHART_SIZE}"
            )));
        }
        budget.decompressed += written;
        if budget.decompressed > MAX_TOTAL_DECOMPRESSED {
            return Err(err(format!(
                "nested chart archives decompress to more than {MAX_TOTAL_DECOMPRESSED} bytes"
            )));
        }
        if data.starts_with(BOM) {
            data.drain(..BOM.len());
        }
        files.push(BufferedFile { name: n, data });
    }
    if files.is_empty() {
        return Err(err("no files in chart archive"));
    }
    Ok(files)
}

/// Go's `path.Clean` for relative paths.
pub(crate) fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            _ => out.push(part),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Helm's `LoadFiles`: sorts the files into a chart and loads its subcharts.
fn load_files(
    files: Vec<BufferedFile>,
    depth: usize,
    budget: &mut Budget,
) -> Result<Chart, ChartError> {
    let mut chart = Chart {
        values: Data::empty_map(),
        ..Chart::default()
    };
    let mut metadata: Option<Data> = None;
    // Contents are shared between `raw` and the chart's file lists.
    let mut shared: Vec<Arc<[u8]>> = Vec::with_capacity(files.len());
    for f in &files {
        let data: Arc<[u8]> = Arc::from(f.data.as_slice());
        chart.raw.insert(f.name.clone(), data.clone());
        shared.push(data);
        if f.name == "Chart.yaml" {
            metadata = Some(meta::parse_chart_yaml(&f.data)?);
        }
    }
    let mut subcharts: BTreeMap<String, Vec<BufferedFile>> = BTreeMap::new();
    for (f, data) in files.into_iter().zip(shared) {
        let name = f.name.as_str();
        match name {
            "Chart.yaml" => {}
            "Chart.lock" => {
                crate::yaml::parse(&String::from_utf8_lossy(&f.data))
                    .map_err(|e| err(format!("cannot load Chart.lock: {e}")))?;
            }
            "values.yaml" => {
                chart.values = load_values(&f.data)
                    .map_err(|e| err(format!("cannot load values.yaml: {e}")))?;
            }
            "values.schema.json" => chart.schema = Some(f.data),
            "requirements.yaml" => {
                let md = metadata.get_or_insert_with(Data::empty_map);
                let v1 = meta::api_version(md) == "v1";
                meta::overlay_requirements(md, &f.data)?;
                if v1 {
                    chart.files.push(ChartFile { name: f.name, data });
                }
            }
            "requirements.lock" => {
                crate::yaml::parse(&String::from_utf8_lossy(&f.data))
                    .map_err(|e| err(format!("cannot load requirements.lock: {e}")))?;
                let md = metadata.get_or_insert_with(Data::empty_map);
                if meta::api_version(md) == "v1" {
                    chart.files.push(ChartFile { name: f.name, data });
                }
            }
            _ if name.starts_with("templates/") => {
                chart.templates.push(ChartFile { name: f.name, data })
            }
            _ if name.starts_with("charts/") => {
                if ext(name) == ".prov" {
                    chart.files.push(ChartFile { name: f.name, data });
                    continue;
                }
                let fname = &name["charts/".len()..];
                let cname = fname.split('/').next().unwrap_or("").to_string();
                let fname = fname.to_string();
                subcharts.entry(cname).or_default().push(BufferedFile {
                    name: fname,
                    data: f.data,
                });
            }
            _ => chart.files.push(ChartFile { name: f.name, data }),
        }
    }
    let Some(metadata) = metadata else {
        return Err(err("Chart.yaml file is missing"));
    };
    chart.metadata = meta::validate(metadata)?;

    for (n, files) in subcharts {
        if n.starts_with('_') || n.starts_with('.') {
            continue;
        }
        let sub = if ext(&n) == ".tgz" {
            let Some(file) = files.into_iter().next() else {
                continue;
            };
            if file.name != n {
                return Err(err(format!(
                    "error unpacking subchart tar in {}: expected {n}, got {}",
                    chart.name(),
                    file.name
                )));
            }
            load_archive_nested(&file.data, depth + 1, budget)
        } else {
            let buff: Vec<BufferedFile> = files
                .into_iter()
                .filter_map(|mut f| {
                    let (_, rest) = f.name.split_once('/')?;
                    f.name = rest.to_string();
                    Some(f)
                })
                .collect();
            load_files(buff, depth + 1, budget)
        };
        let sub = sub.map_err(|e| {
            err(format!(
                "error unpacking subchart {n} in {}: {}",
                chart.name(),
                e.message
            ))
        })?;
        chart.dependencies.push(sub);
    }
    Ok(chart)
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last path element.
fn ext(p: &str) -> &str {
    let base = p.rsplit('/').next().unwrap_or(p);
    match base.rfind('.') {
        Some(i) => &base[i..],
        None => "",
    }
}

thread_local! {
    /// Parsed values files by their bytes: loading a chart again (a fleet renders the same
    /// chart many times) copies the tree instead of parsing the YAML again.
    static PARSED_VALUES: std::cell::RefCell<Vec<(Vec<u8>, Data)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Values files kept parsed per thread, and the largest one kept.
const PARSED_VALUES_MAX: usize = 64;
const PARSED_VALUES_MAX_BYTES: usize = 1 << 20;

/// Helm's `LoadValues` (see `parse_values`), reusing an earlier parse of the same bytes.
pub(crate) fn load_values(data: &[u8]) -> Result<Data, String> {
    let hit = PARSED_VALUES.with(|c| {
        c.borrow()
            .iter()
            .find(|(text, _)| text[..] == *data)
            .map(|(_, values)| values.clone())
    });
    if let Some(values) = hit {
        return Ok(values);
    }
    let values = parse_values(data)?;
    if data.len() <= PARSED_VALUES_MAX_BYTES {
        PARSED_VALUES.with(|c| {
            let mut c = c.borrow_mut();
            if c.len() >= PARSED_VALUES_MAX {
                c.remove(0);
            }
            c.push((data.to_vec(), values.clone()));
        });
    }
    Ok(values)
}

/// Helm's `LoadValues`: every YAML document of the file, merged with `MergeMaps`.
fn parse_values(data: &[u8]) -> Result<Data, String> {
    let text = String::from_utf8_lossy(data);
    let mut values = Data::empty_map();
    for doc in split_documents(&text)? {
        let parsed =
            crate::yaml::parse(&doc).map_err(|e| format!("cannot unmarshal yaml document: {e}"))?;
        let map = match parsed {
            Data::Null => Data::empty_map(),
            Data::Map(m) => Data::Map(m),
            other => {
                return Err(format!(
                    "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                ))
            }
        };
        super::merge_maps(&mut values, map);
    }
    Ok(values)
}

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

/// Splits a multi-document YAML stream as `k8s.io/apimachinery`'s `YAMLReader` does: a line
/// starting with `---` ends a document; only spaces or a comment may follow it.
fn split_documents(text: &str) -> Result<Vec<String>, String> {
    let mut docs = Vec::new();
    let mut buf = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("---") {
            let trimmed = rest.trim();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                return Err(format!(
                    "error reading yaml document: invalid Yaml document separator: {trimmed}"
                ));
            }
            if !buf.is_empty() {
                docs.push(std::mem::take(&mut buf));
                continue;
            }
            // A separator opening a document stays in it (line numbers in errors count it).
        }
        buf.push_str(line);
    }
    if !buf.is_empty() {
        docs.push(buf);
    }
    Ok(docs)
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
