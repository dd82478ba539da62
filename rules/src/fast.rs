//! The no-op fast path: decide from `stat` alone whether a build has anything to do.
//!
//! After every successful whole-workspace build, [`FastRecord`] keeps the stamp (size, mtime,
//! ctime, inode) of every input file the load digested, of every directory whose listing
//! could change what the load sees (the root, `voyages/` and chart directories recursively,
//! `clusters/`, each group directory and its `values/`), and of the output directories
//! (`out/`, `out/clusters/`, one per cluster: a removed or added output file changes them; an
//! output file edited in place by hand is not noticed until its cluster renders again).
//! Each entry has an owner:
//!
//! - a cluster, for paths under `clusters/<group>/<cluster>/` and `out/clusters/<cluster>/`;
//! - a group, for `clusters/<group>/values/…` (group values layer into every cluster of it);
//! - the workspace, for everything else (workspace.toml, voyages, charts, the directories
//!   that list clusters).
//!
//! The next build stats every entry (in parallel) and answers:
//!
//! 1. nothing changed: the build is a no-op; the summary is the stored one (all `cached`);
//! 2. only entries owned by some clusters (or groups) changed: a partial build loads, plans
//!    and runs just those clusters (see `Session::open_fast`);
//! 3. a workspace-owned entry changed, or the record is missing or from another version:
//!    the normal full build.
//!
//! A stamp newer than the record's start minus [`RACY_WINDOW_NS`] counts as changed (the file
//! could have changed again within the same timestamp tick), as in the stat cache.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use rayon::prelude::*;
use wayfinder_engine::{FileStamp, Reader, Writer, RACY_WINDOW_NS};

use crate::segments::{Codec, Layout, MarkedBlob, Segmented, LINE_SEP};

const MAGIC: &str = "wayfinder-fast-record-v4";

/// The stored summary: one line in 128 ends a segment (about 50 KB), whose blob is the
/// lines as printed.
pub(crate) const SUMMARY: Layout = Layout {
    every: 128,
    codec: Codec::SummaryLines,
};

/// Who is affected when an entry changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Owner {
    Workspace,
    /// Index into [`FastRecord::clusters`].
    Cluster(u32),
    /// Index into [`FastRecord::groups`].
    Group(u32),
}

/// One stat'ed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub path: String,
    pub dir: bool,
    /// `None`: the stamp was not stable when recorded; the entry always counts as changed.
    pub stamp: Option<FileStamp>,
    pub owner: Owner,
}

/// A cluster as the record knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FastCluster {
    pub name: String,
    pub group: String,
    pub dir: String,
    /// Targets of the charts its components use (`chart:NAME`): a partial build drops the
    /// summary line of a chart that only its changed clusters used and no longer do.
    pub charts: Vec<String>,
}

/// The stamps of the last successful whole-workspace build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FastRecord {
    /// The binary and rules version that wrote it.
    pub version: String,
    /// When the recorded build started (ns since the epoch).
    pub started_ns: i64,
    /// The workspace's output directory (`out`): a partial build reads its part of the build
    /// record while the workspace loads. (Changing it changes `workspace.toml`: a full build.)
    pub output_dir: String,
    pub clusters: Vec<FastCluster>,
    pub groups: Vec<String>,
    pub entries: Vec<Entry>,
    /// The summary lines of the build by target, every status `cached`.
    pub summary: Option<Segmented>,
    /// Number of actions in that summary.
    pub actions: u64,
    /// Warnings of the recorded build, repeated by a no-op.
    pub warnings: Vec<String>,
    /// Two charts of the workspace share a directory name, so chart target names depend on
    /// which charts a build loads: partial builds are off.
    pub ambiguous_charts: bool,
    /// When this run started checking the record (not persisted): a partial build's new
    /// record trusts no stamp taken after it.
    pub checked_at_ns: i64,
}

/// A record to encode, borrowed: a partial build writes the last record's entries and
/// clusters again without copying them.
pub(crate) struct RecordParts<'a> {
    pub version: &'a str,
    pub started_ns: i64,
    pub output_dir: &'a str,
    pub clusters: &'a [&'a FastCluster],
    pub groups: &'a [String],
    pub entries: &'a [&'a Entry],
    pub summary: Option<&'a Segmented>,
    pub actions: u64,
    pub ambiguous_charts: bool,
    pub warnings: &'a [String],
}

impl RecordParts<'_> {
    pub(crate) fn encode(&self) -> Vec<u8> {
        // Sized up front (an entry takes about 130 bytes): a large fleet's record is most of a
        // megabyte, and growing it by doubling copies and touches twice the memory.
        let mut w = Writer::with_capacity(
            1024 + self.entries.len() * 160
                + self.clusters.len() * 256
                + self.summary.map_or(0, |s| s.segs.len() * 128),
        );
        w.str(MAGIC)
            .str(self.version)
            .i64(self.started_ns)
            .str(self.output_dir);
        w.u64(self.clusters.len() as u64);
        for c in self.clusters {
            w.str(&c.name).str(&c.group).str(&c.dir);
            w.u64(c.charts.len() as u64);
            for t in &c.charts {
                w.str(t);
            }
        }
        w.u64(self.groups.len() as u64);
        for g in self.groups {
            w.str(g);
        }
        w.u64(self.entries.len() as u64);
        for e in self.entries {
            w.str(&e.path).u64(e.dir as u64);
            match &e.stamp {
                None => w.u64(0),
                Some(s) => w
                    .u64(1)
                    .u64(s.size)
                    .i64(s.mtime_ns)
                    .i64(s.ctime_ns)
                    .u64(s.ino),
            };
            match e.owner {
                Owner::Workspace => w.u64(0),
                Owner::Cluster(i) => w.u64(1).u64(i as u64),
                Owner::Group(i) => w.u64(2).u64(i as u64),
            };
        }
        match self.summary {
            None => {
                w.u64(0);
            }
            Some(s) => {
                w.u64(1);
                s.encode(&mut w);
            }
        };
        w.u64(self.actions);
        w.u64(self.ambiguous_charts as u64);
        w.u64(self.warnings.len() as u64);
        for m in self.warnings {
            w.str(m);
        }
        w.finish()
    }
}

/// What [`FastRecord::check`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Nothing changed.
    Clean,
    /// Only these clusters (indices into `clusters`) are affected.
    Clusters(BTreeSet<u32>),
    /// Something of the workspace changed: build everything.
    Full,
}

/// The version a record must carry to be trusted.
pub(crate) fn version() -> String {
    format!("{}+{}", env!("CARGO_PKG_VERSION"), crate::RULES_VERSION)
}

fn stamp_of(path: &Path) -> Option<FileStamp> {
    std::fs::metadata(path).ok().map(|m| FileStamp::of(&m))
}

impl FastRecord {
    /// Stats every entry under `root` and says what changed.
    pub(crate) fn check(&self, root: &Path) -> Check {
        if self.version != version() {
            return Check::Full;
        }
        let limit = self.started_ns - RACY_WINDOW_NS;
        let changed_entry = |e: &Entry| match (e.stamp, stamp_of(&root.join(&e.path))) {
            (Some(old), Some(new)) => old != new || old.mtime_ns >= limit || old.ctime_ns >= limit,
            _ => true,
        };
        let changed: Vec<Owner> = self
            .entries
            .par_iter()
            .with_min_len(256)
            .filter(|e| changed_entry(e))
            .map(|e| e.owner)
            .collect();
        if changed.is_empty() {
            return Check::Clean;
        }
        if tracing::enabled!(tracing::Level::DEBUG) {
            let first: Vec<&str> = self
                .entries
                .iter()
                .filter(|e| changed_entry(e))
                .map(|e| e.path.as_str())
                .take(5)
                .collect();
            tracing::debug!(?first, "changed since the last whole build");
        }
        let mut out = BTreeSet::new();
        for o in changed {
            match o {
                Owner::Workspace => return Check::Full,
                Owner::Cluster(i) => {
                    out.insert(i);
                }
                Owner::Group(g) => {
                    let Some(name) = self.groups.get(g as usize) else {
                        return Check::Full;
                    };
                    for (i, c) in self.clusters.iter().enumerate() {
                        if &c.group == name {
                            out.insert(i as u32);
                        }
                    }
                }
            }
        }
        Check::Clusters(out)
    }

    #[cfg(test)]
    pub(crate) fn encode(&self) -> Vec<u8> {
        RecordParts {
            version: &self.version,
            started_ns: self.started_ns,
            output_dir: &self.output_dir,
            clusters: &self.clusters.iter().collect::<Vec<_>>(),
            groups: &self.groups,
            entries: &self.entries.iter().collect::<Vec<_>>(),
            summary: self.summary.as_ref(),
            actions: self.actions,
            ambiguous_charts: self.ambiguous_charts,
            warnings: &self.warnings,
        }
        .encode()
    }

    pub(crate) fn decode(data: &[u8]) -> Option<FastRecord> {
        let mut r = Reader::new(data);
        if r.str()? != MAGIC {
            return None;
        }
        let mut rec = FastRecord {
            version: r.str()?.to_string(),
            started_ns: r.i64()?,
            output_dir: r.str()?.to_string(),
            ..Default::default()
        };
        for _ in 0..r.count(24)? {
            let (name, group, dir) = (r.str()?, r.str()?, r.str()?);
            let mut charts = Vec::new();
            for _ in 0..r.count(8)? {
                charts.push(r.str()?.to_string());
            }
            rec.clusters.push(FastCluster {
                name: name.to_string(),
                group: group.to_string(),
                dir: dir.to_string(),
                charts,
            });
        }
        for _ in 0..r.count(8)? {
            rec.groups.push(r.str()?.to_string());
        }
        for _ in 0..r.count(24)? {
            let path = r.str()?.to_string();
            let dir = r.u64()? == 1;
            let stamp = match r.u64()? {
                0 => None,
                1 => Some(FileStamp {
                    size: r.u64()?,
                    mtime_ns: r.i64()?,
                    ctime_ns: r.i64()?,
                    ino: r.u64()?,
                }),
                _ => return None,
            };
            let owner = match r.u64()? {
                0 => Owner::Workspace,
                1 => Owner::Cluster(u32::try_from(r.u64()?).ok()?),
                2 => Owner::Group(u32::try_from(r.u64()?).ok()?),
                _ => return None,
            };
            rec.entries.push(Entry {
                path,
                dir,
                stamp,
                owner,
            });
        }
        rec.summary = match r.u64()? {
            0 => None,
            1 => Some(Segmented::decode(&mut r)?),
            _ => return None,
        };
        rec.actions = r.u64()?;
        rec.ambiguous_charts = r.u64()? == 1;
        for _ in 0..r.count(8)? {
            rec.warnings.push(r.str()?.to_string());
        }
        r.is_empty().then_some(rec)
    }
}

/// Assigns owners to workspace-relative paths.
pub(crate) struct Owners<'a> {
    out_clusters: String,
    by_dir: BTreeMap<(&'a str, &'a str), u32>,
    by_name: BTreeMap<&'a str, u32>,
    groups: BTreeMap<&'a str, u32>,
}

impl<'a> Owners<'a> {
    pub(crate) fn new(out_dir: &str, clusters: &[&'a FastCluster], groups: &'a [String]) -> Self {
        Owners {
            out_clusters: format!("{}/clusters/", out_dir.trim_end_matches('/')),
            by_dir: clusters
                .iter()
                .enumerate()
                .map(|(i, c)| ((c.group.as_str(), c.dir.as_str()), i as u32))
                .collect(),
            by_name: clusters
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.as_str(), i as u32))
                .collect(),
            groups: groups
                .iter()
                .enumerate()
                .map(|(i, g)| (g.as_str(), i as u32))
                .collect(),
        }
    }

    /// The owner of `path` (`dir`: whether it is a directory).
    pub(crate) fn of(&self, path: &str, dir: bool) -> Owner {
        if let Some(rest) = path.strip_prefix(&self.out_clusters) {
            let mut parts = rest.split('/');
            return match (parts.next(), parts.next()) {
                // out/clusters/<name>/<file> (the directory itself lists the files: also its).
                (Some(name), _) => self
                    .by_name
                    .get(name)
                    .map_or(Owner::Workspace, |&i| Owner::Cluster(i)),
                _ => Owner::Workspace,
            };
        }
        let Some(rest) = path.strip_prefix("clusters/") else {
            return Owner::Workspace;
        };
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            // clusters/<group>: lists the clusters of the group.
            [_] => Owner::Workspace,
            [group, "values", ..] if parts.len() > 2 || dir => self
                .groups
                .get(group)
                .map_or(Owner::Workspace, |&g| Owner::Group(g)),
            [group, cluster, ..] => match self.by_dir.get(&(*group, *cluster)) {
                // clusters/<group>/<cluster> itself and everything under it.
                Some(&i) => Owner::Cluster(i),
                None => Owner::Workspace,
            },
            _ => Owner::Workspace,
        }
    }
}

/// Every directory under `root/rel` (itself included), workspace-relative, skipping `.git`.
pub(crate) fn walk_dirs(root: &Path, rel: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    out.push(rel.to_string());
    let mut subs: Vec<String> = rd
        .flatten()
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != ".git")
        .collect();
    subs.sort();
    for s in subs {
        let child = if rel.is_empty() {
            s
        } else {
            format!("{rel}/{s}")
        };
        walk_dirs(root, &child, out, depth + 1);
    }
}

/// Stamps a list of paths (in parallel), each with its owner.
pub(crate) fn stamp_entries(
    root: &Path,
    paths: Vec<(String, bool)>,
    owners: &Owners<'_>,
) -> Vec<Entry> {
    paths
        .into_par_iter()
        .with_min_len(256)
        .map(|(path, dir)| Entry {
            stamp: stamp_of(&root.join(&path)),
            owner: owners.of(&path, dir),
            path,
            dir,
        })
        .collect()
}

/// The summary's text around its lines: `{"actions": [`, then each line after `\n  ` (the
/// first) or [`LINE_SEP`], then `\n]}\n` (`]}\n` without lines).
const HEAD: &str = "{\"actions\": [";
const FIRST: &str = "\n  ";
const TAIL: &str = "\n]}\n";
const EMPTY_TAIL: &str = "]}\n";

/// The summary text (as `BuildReport::summary_chunks` writes it) of `lines`, in their order.
pub(crate) fn summary_of_lines<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    // Sized up front: for a large fleet this is megabytes, and growing it by doubling
    // touches twice the memory.
    let lines: Vec<&str> = lines.collect();
    let size: usize = lines.iter().map(|l| l.len() + LINE_SEP.len()).sum();
    let mut out = String::with_capacity(HEAD.len() + size + TAIL.len());
    out.push_str(HEAD);
    for (i, l) in lines.iter().enumerate() {
        out.push_str(if i == 0 { FIRST } else { LINE_SEP });
        out.push_str(l);
    }
    out.push_str(if lines.is_empty() { EMPTY_TAIL } else { TAIL });
    out
}

/// The summary text of stored summary segments (in target order), as [`summary_of_lines`]
/// writes it, in pieces to write one after the other: the segments are not copied. A segment
/// marked `true` may hold targets of `own`, whose lines replace the stored ones. `None` if
/// such a segment is not one.
pub(crate) fn summary_of_segments<'a>(
    blobs: &'a [MarkedBlob],
    own: &HashMap<&str, &str>,
) -> Option<Vec<Cow<'a, [u8]>>> {
    let mut out: Vec<Cow<'a, [u8]>> = Vec::with_capacity(blobs.len() * 2 + 2);
    out.push(Cow::Borrowed(HEAD.as_bytes()));
    for (i, (blob, mine)) in blobs.iter().enumerate() {
        let sep = if i == 0 { FIRST } else { LINE_SEP };
        out.push(Cow::Borrowed(sep.as_bytes()));
        if !*mine {
            out.push(Cow::Borrowed(blob.as_slice()));
            continue;
        }
        let mut text = Vec::with_capacity(blob.len());
        for (j, (t, l)) in SUMMARY.codec.decode(blob)?.into_iter().enumerate() {
            if j > 0 {
                text.extend_from_slice(LINE_SEP.as_bytes());
            }
            text.extend_from_slice(own.get(t.as_ref()).map_or(l, |l| l.as_bytes()));
        }
        out.push(Cow::Owned(text));
    }
    let tail = if blobs.is_empty() { EMPTY_TAIL } else { TAIL };
    out.push(Cow::Borrowed(tail.as_bytes()));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clusters() -> (Vec<FastCluster>, Vec<String>) {
        (
            vec![
                FastCluster {
                    name: "a1".into(),
                    group: "g".into(),
                    dir: "a1".into(),
                    charts: vec!["chart:web".into()],
                },
                FastCluster {
                    name: "renamed".into(),
                    group: "g".into(),
                    dir: "b1".into(),
                    charts: Vec::new(),
                },
            ],
            vec!["g".into()],
        )
    }

    fn joined(chunks: Option<Vec<Cow<'_, [u8]>>>) -> Option<String> {
        let bytes: Vec<u8> = chunks?.iter().flat_map(|c| c.iter().copied()).collect();
        String::from_utf8(bytes).ok()
    }

    #[test]
    fn summary_text_of_segments_with_own_lines() {
        let store = wayfinder_engine::MemStore::new();
        let lines = [
            ("a", r#"{"target": "a", "kind": "x"}"#),
            ("b", r#"{"target": "b", "kind": "y"}"#),
            ("d", r#"{"target": "d", "kind": "z"}"#),
        ];
        let layout = Layout {
            every: 1,
            codec: Codec::SummaryLines,
        };
        let (seg, blobs) = Segmented::write(
            &store,
            lines.iter().map(|(t, l)| (*t, l.as_bytes())),
            layout,
        )
        .unwrap();
        assert_eq!(seg.segs.len(), 3, "one line per segment with every = 1");
        let verbatim: Vec<_> = blobs.iter().map(|b| (b.clone(), false)).collect();
        let mine: Vec<_> = blobs.iter().map(|b| (b.clone(), true)).collect();
        let plain: Vec<&str> = lines.iter().map(|(_, l)| *l).collect();
        assert_eq!(
            joined(summary_of_segments(&verbatim, &HashMap::new())).unwrap(),
            summary_of_lines(plain.iter().copied())
        );
        // Own lines replace the stored line of their target, in place.
        let own = HashMap::from([("b", "B")]);
        assert_eq!(
            joined(summary_of_segments(&mine, &own)).unwrap(),
            summary_of_lines([plain[0], "B", plain[2]].into_iter())
        );
        assert_eq!(
            joined(summary_of_segments(&[], &HashMap::new())).unwrap(),
            summary_of_lines(std::iter::empty())
        );
        // Not a segment: no summary (the caller builds fully).
        let junk = [(std::sync::Arc::new(b"junk".to_vec()), true)];
        assert!(summary_of_segments(&junk, &HashMap::new()).is_none());
        // Several lines in one segment are copied whole.
        let (_, one) = Segmented::write(
            &store,
            lines.iter().map(|(t, l)| (*t, l.as_bytes())),
            Layout {
                every: 1 << 40,
                codec: Codec::SummaryLines,
            },
        )
        .unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(
            joined(summary_of_segments(
                &[(one[0].clone(), false)],
                &HashMap::new()
            ))
            .unwrap(),
            summary_of_lines(plain.iter().copied())
        );
    }

    #[test]
    fn owners_follow_the_layout() {
        let (c, g) = clusters();
        let o = Owners::new("out", &c.iter().collect::<Vec<_>>(), &g);
        assert_eq!(o.of("workspace.toml", false), Owner::Workspace);
        assert_eq!(o.of("clusters", true), Owner::Workspace);
        assert_eq!(o.of("clusters/g", true), Owner::Workspace);
        assert_eq!(o.of("clusters/g/values", true), Owner::Group(0));
        assert_eq!(o.of("clusters/g/values/x.yaml", false), Owner::Group(0));
        assert_eq!(o.of("clusters/g/a1", true), Owner::Cluster(0));
        assert_eq!(
            o.of("clusters/g/b1/values/x.yaml", false),
            Owner::Cluster(1)
        );
        assert_eq!(o.of("clusters/g/zz/cluster.toml", false), Owner::Workspace);
        assert_eq!(
            o.of("out/clusters/renamed/x.yaml", false),
            Owner::Cluster(1)
        );
        assert_eq!(o.of("out/clusters/b1/x.yaml", false), Owner::Workspace);
        assert_eq!(o.of("out/clusters", true), Owner::Workspace);
        assert_eq!(o.of("charts/web/values.yaml", false), Owner::Workspace);
    }

    #[test]
    fn record_round_trips_and_check_sees_changes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("clusters/g/a1")).unwrap();
        std::fs::write(root.join("workspace.toml"), "x").unwrap();
        std::fs::write(root.join("clusters/g/a1/cluster.toml"), "x").unwrap();
        let (c, g) = clusters();
        let owners = Owners::new("out", &c.iter().collect::<Vec<_>>(), &g);
        let entries = stamp_entries(
            root,
            vec![
                ("workspace.toml".into(), false),
                ("clusters/g/a1/cluster.toml".into(), false),
            ],
            &owners,
        );
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64;
        let rec = FastRecord {
            version: version(),
            started_ns: now,
            output_dir: "out".into(),
            clusters: c.clone(),
            groups: g.clone(),
            entries,
            summary: None,
            actions: 3,
            warnings: vec!["w".into()],
            ambiguous_charts: true,
            checked_at_ns: 0,
        };
        let back = FastRecord::decode(&rec.encode()).unwrap();
        assert_eq!(back, rec);
        assert_eq!(FastRecord::decode(&rec.encode()[1..]), None);
        // Everything was written just now: racy, so changed.
        assert_eq!(rec.check(root), Check::Full);
        let old = FastRecord {
            started_ns: i64::MAX / 2,
            ..rec.clone()
        };
        let mut aged = old.clone();
        for e in &mut aged.entries {
            if let Some(s) = &mut e.stamp {
                s.mtime_ns = 0;
                s.ctime_ns = 0;
            }
        }
        // Stamps that differ from the disk: changed, owner decides the answer.
        aged.entries.retain(|e| e.owner != Owner::Workspace);
        assert_eq!(aged.check(root), Check::Clusters([0].into()));
        aged.entries.clear();
        assert_eq!(aged.check(root), Check::Clean);
        aged.version = "other".into();
        assert_eq!(aged.check(root), Check::Full);
    }
}
