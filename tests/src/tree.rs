//! Snapshots of a directory tree: contents, mtimes and inodes, to prove that
//! a build rewrote nothing (or exactly what it should).

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

/// One file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    pub bytes: Vec<u8>,
    pub mtime: Option<SystemTime>,
    /// The inode: a file renamed into place gets a new one even when the
    /// clock is too coarse to change the mtime.
    pub ino: u64,
}

/// Relative path (with `/`) → state, for every regular file under a dir.
pub type Tree = BTreeMap<String, FileState>;

/// Snapshots every regular file under `dir` (empty when `dir` is missing),
/// leaving out hidden files and directories (names starting with `.`).
pub fn snapshot(dir: &Path) -> Tree {
    let mut tree = Tree::new();
    walk(dir, dir, &mut tree);
    tree
}

fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        // Hidden entries (lock files, tool state) are not part of a tree's contents.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &path, tree);
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            tree.insert(
                rel,
                FileState {
                    bytes: fs::read(&path).unwrap_or_default(),
                    mtime: meta.modified().ok(),
                    ino: inode(&meta),
                },
            );
        }
    }
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(meta)
}

#[cfg(not(unix))]
fn inode(_meta: &fs::Metadata) -> u64 {
    0
}
