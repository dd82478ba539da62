//! Reproducible `.tar.gz` archives (Helm chart packages, voyage and Flux layers) and their
//! bounded extraction.
//!
//! Writing: regular files only, sorted by path, mode `0644`, mtime 0, uid/gid 0, no user or
//! group names, GNU long names; gzip with no file name, mtime 0 and a fixed level. The same
//! entries give the same bytes on every machine.
//!
//! Reading: regular files only (directories skipped, links and devices rejected); absolute
//! paths and `..` rejected; per-file and total size limits.

use std::io::{Read, Write};

/// The largest file [`read_tgz`] accepts (Helm's 5 MiB per-file limit, with some room).
pub(crate) const MAX_ENTRY: u64 = 64 * 1024 * 1024;
/// The most [`read_tgz`] decompresses in total.
pub(crate) const MAX_TOTAL: u64 = 512 * 1024 * 1024;

/// A reproducible `.tar.gz` of `entries` (`(path, bytes)`; sorted here; duplicates keep the
/// last one).
pub fn tgz(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut sorted: std::collections::BTreeMap<&str, &[u8]> = std::collections::BTreeMap::new();
    for (p, d) in entries {
        sorted.insert(p.as_str(), d.as_slice());
    }
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::new(6));
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (path, data) in sorted {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        h.set_size(data.len() as u64);
        // Writing to memory cannot fail; a path tar cannot encode is skipped.
        if let Err(e) = tar.append_data(&mut h, path, data) {
            tracing::warn!(path, error = %e, "cannot archive a file");
        }
    }
    let gz = match tar.into_inner() {
        Ok(gz) => gz,
        Err(_) => return Vec::new(),
    };
    gz.finish().unwrap_or_default()
}

/// The files of a `.tar.gz` (`(path, bytes)` in archive order), bounded and checked.
pub fn read_tgz(data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let gz = flate2::read::GzDecoder::new(data);
    let mut ar = tar::Archive::new(gz.take(MAX_TOTAL + 1));
    let mut out = Vec::new();
    let mut total = 0u64;
    let entries = ar
        .entries()
        .map_err(|e| format!("not a tar.gz archive: {e}"))?;
    for e in entries {
        let mut e = e.map_err(|e| format!("corrupt archive: {e}"))?;
        let kind = e.header().entry_type();
        let path = e
            .path()
            .map_err(|e| format!("bad path in archive: {e}"))?
            .to_string_lossy()
            .into_owned();
        match kind {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular | tar::EntryType::Continuous => {}
            // pax and GNU long-name headers are handled by the tar crate itself.
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => continue,
            other => return Err(format!("`{path}` is not a regular file ({other:?})")),
        }
        if path.starts_with('/') || path.split('/').any(|c| c == "..") || path.contains('\\') {
            return Err(format!("unsafe path `{path}` in archive"));
        }
        let size = e.header().size().unwrap_or(u64::MAX);
        if size > MAX_ENTRY {
            return Err(format!("`{path}` is larger than {MAX_ENTRY} bytes"));
        }
        total = total.saturating_add(size);
        if total > MAX_TOTAL {
            return Err(format!("the archive is larger than {MAX_TOTAL} bytes"));
        }
        let mut buf = Vec::with_capacity(size as usize);
        e.read_to_end(&mut buf)
            .map_err(|e| format!("corrupt archive at `{path}`: {e}"))?;
        out.push((path.trim_start_matches("./").to_string(), buf));
    }
    Ok(out)
}

/// Writes `data` to `path` atomically (temp file in the same directory, then rename).
pub fn write_atomic(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile_in(dir)?;
    tmp.1.write_all(data)?;
    tmp.1.sync_all()?;
    std::fs::rename(&tmp.0, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp.0);
    })
}

fn tempfile_in(dir: &std::path::Path) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    loop {
        let p = dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_are_reproducible_and_sorted() {
        let a = tgz(&[
            ("web/values.yaml".into(), b"a: 1\n".to_vec()),
            ("web/Chart.yaml".into(), b"name: web\n".to_vec()),
        ]);
        let b = tgz(&[
            ("web/Chart.yaml".into(), b"name: web\n".to_vec()),
            ("web/values.yaml".into(), b"a: 1\n".to_vec()),
        ]);
        assert_eq!(a, b);
        // gzip: no name flag, mtime 0.
        assert_eq!(&a[..2], &[0x1f, 0x8b]);
        assert_eq!(a[3] & 0x08, 0);
        assert_eq!(&a[4..8], &[0, 0, 0, 0]);
        let files = read_tgz(&a).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["web/Chart.yaml", "web/values.yaml"]);
        let long = format!("web/{}/x.yaml", "d".repeat(150));
        let c = tgz(&[(long.clone(), b"x".to_vec())]);
        assert_eq!(read_tgz(&c).unwrap()[0].0, long);
    }

    #[test]
    fn unsafe_or_corrupt_archives_are_rejected() {
        assert!(read_tgz(b"not gzip").is_err());
        let mut raw = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path refuses `..`, so write the name bytes directly.
        h.as_gnu_mut().unwrap().name[..9].copy_from_slice(b"../evil\0\0");
        h.set_cksum();
        raw.append(&h, &b"x"[..]).unwrap();
        let tar_bytes = raw.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar_bytes).unwrap();
        let bad = gz.finish().unwrap();
        assert!(read_tgz(&bad).unwrap_err().contains("unsafe path"));
    }

    #[test]
    fn atomic_writes_leave_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/f");
        write_atomic(&p, b"1").unwrap();
        write_atomic(&p, b"2").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"2");
        assert_eq!(std::fs::read_dir(d.path().join("sub")).unwrap().count(), 1);
    }
}
