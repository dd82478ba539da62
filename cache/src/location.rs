//! Where the cache lives: `WAYFINDER_CACHE_DIR`, then `--cache-dir`, then `[cache] dir`, then
//! the XDG cache directory.

use std::path::{Path, PathBuf};

/// Which setting chose the cache directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheDirSource {
    Env,
    Flag,
    Config,
    Default,
}

/// `$XDG_CACHE_HOME/wayfinder`, else `$HOME/.cache/wayfinder`, else a temp dir.
pub fn default_cache_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(x);
        if p.is_absolute() {
            return p.join("wayfinder");
        }
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h).join(".cache").join("wayfinder");
    }
    std::env::temp_dir().join("wayfinder-cache")
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(h) = std::env::var_os("HOME") {
            return PathBuf::from(h).join(rest);
        }
    }
    PathBuf::from(p)
}

/// Resolves the cache directory. `config` is `[cache] dir` (relative to `workspace_root`).
pub fn resolve_cache_dir(
    flag: Option<&Path>,
    config: Option<&str>,
    workspace_root: Option<&Path>,
) -> (PathBuf, CacheDirSource) {
    if let Some(e) = std::env::var_os("WAYFINDER_CACHE_DIR").filter(|v| !v.is_empty()) {
        return (expand_home(&e.to_string_lossy()), CacheDirSource::Env);
    }
    if let Some(f) = flag {
        return (f.to_path_buf(), CacheDirSource::Flag);
    }
    if let Some(c) = config.filter(|c| !c.is_empty()) {
        let p = expand_home(c);
        let p = match workspace_root {
            Some(root) if p.is_relative() => root.join(p),
            _ => p,
        };
        return (p, CacheDirSource::Config);
    }
    (default_cache_dir(), CacheDirSource::Default)
}
