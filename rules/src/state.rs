//! What a build remembers for the next one (stored in the cache's `state-v1/`, per workspace):
//!
//! - `stat-<ws>`: the stat cache (engine `FileDigests`);
//! - `model-<ws>`: parsed declarations by file digest, values files known to be valid;
//! - `build-<ws>`: per target, the last key and result (the memo that makes a no-op build do
//!   no I/O beyond `stat`), the digests of its last two input sets (for `explain`), and the
//!   stamps of the output files last written;
//! - `fast-<ws>`: the no-op fast path's stamps (see `fast`);
//! - `shared-<ws>`: the part of the stat and model caches that is not under `clusters/`
//!   (workspace file, voyages, charts): what a partial build of the fast path loads instead
//!   of the whole caches, reading its clusters' few files again.
//!
//! They are written without fsync: each carries a checksum, so a record torn or lost by a
//! crash reads as absent, and the next build is only slower, never wrong.

use std::collections::{BTreeMap, HashMap};

use wayfinder_engine::{
    ActionKey, ActionResult, Blob, Digest, FileStamp, KeyHasher, Memo, Reader, Store, Writer,
};

use crate::segments::{Codec, Entries, KeyRange, Layout, SegBlob, SegError, Segmented};

const MAGIC: &str = "wayfinder-build-record-v2";
/// One target (or output) in this many ends a segment: about 20 KB segments.
const LAYOUT: Layout = Layout {
    every: 64,
    codec: Codec::Pairs,
};

/// The persisted record of one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TargetRecord {
    pub key: Digest<ActionKey>,
    pub result: ActionResult,
    /// Blob (in the cache) holding the encoded input names and digests of `key`.
    pub inputs: Digest<Blob>,
    /// The previous distinct key and its inputs blob, for `explain`.
    pub previous: Option<(Digest<ActionKey>, Digest<Blob>)>,
}

/// The persisted record of a workspace's last build. Stored as two segmented records
/// (targets and outputs, see `segments`) under a small index: a partial build reads and
/// rewrites only the segments around its clusters' keys.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildRecord {
    pub targets: HashMap<String, TargetRecord>,
    /// Output files (workspace-relative) → stamp and digest when last written or checked.
    pub outputs: HashMap<String, (FileStamp, Digest<Blob>)>,
    /// A record read in part: the stored segments and which of them `targets` and
    /// `outputs` hold (all their entries). Saving rewrites only those.
    part: Option<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Part {
    targets: Segmented,
    outputs: Segmented,
    read_targets: BTreeMap<usize, SegBlob>,
    read_outputs: BTreeMap<usize, SegBlob>,
    /// Targets of the segments read that lie outside the ranges asked for, as stored (not
    /// decoded: the build does not look at them; saving writes them back unchanged).
    raw_targets: Entries,
}

/// The name of a workspace's state records: a digest of its root path.
pub(crate) fn workspace_id(root: &std::path::Path) -> String {
    let d: Digest<Blob> = KeyHasher::new("wayfinder-workspace-id")
        .add(root.to_string_lossy().as_ref())
        .finish();
    d.short()
}

fn put_stamp(w: &mut Writer, s: &FileStamp) {
    w.u64(s.size).i64(s.mtime_ns).i64(s.ctime_ns).u64(s.ino);
}
fn get_stamp(r: &mut Reader<'_>) -> Option<FileStamp> {
    Some(FileStamp {
        size: r.u64()?,
        mtime_ns: r.i64()?,
        ctime_ns: r.i64()?,
        ino: r.u64()?,
    })
}

impl BuildRecord {
    /// The stored record `name`, whole; `None` if absent, not one, or a segment is gone.
    pub(crate) fn load(store: &dyn Store, name: &str) -> Option<BuildRecord> {
        let everything = [KeyRange {
            from: String::new(),
            to: None,
        }];
        let mut rec = BuildRecord::load_part(store, name, &everything, &everything)?;
        rec.part = None;
        Some(rec)
    }

    /// The entries of the stored record `name` in the key ranges given (and whatever else
    /// shares their segments); saving it keeps every other entry as stored.
    pub(crate) fn load_part(
        store: &dyn Store,
        name: &str,
        target_ranges: &[KeyRange],
        output_ranges: &[KeyRange],
    ) -> Option<BuildRecord> {
        let (targets, outputs) = BuildRecord::index(&store.load_state(name)?)?;
        let read_targets = targets.read(store, &targets.covering(target_ranges)).ok()?;
        let read_outputs = outputs.read(store, &outputs.covering(output_ranges)).ok()?;
        let mut rec = BuildRecord::default();
        let raw_targets = rec.fill(&read_targets, &read_outputs, target_ranges)?;
        rec.part = Some(Part {
            targets,
            outputs,
            read_targets,
            read_outputs,
            raw_targets,
        });
        Some(rec)
    }

    fn index(data: &[u8]) -> Option<(Segmented, Segmented)> {
        let mut r = Reader::new(data);
        if r.str()? != MAGIC {
            return None;
        }
        let targets = Segmented::decode(&mut r)?;
        let outputs = Segmented::decode(&mut r)?;
        r.is_empty().then_some((targets, outputs))
    }

    /// Decodes the entries of segment blobs into the maps; returns the targets outside
    /// `target_ranges`, as stored.
    fn fill(
        &mut self,
        targets: &BTreeMap<usize, SegBlob>,
        outputs: &BTreeMap<usize, SegBlob>,
        target_ranges: &[KeyRange],
    ) -> Option<Entries> {
        let mut raw = Entries::new();
        for data in targets.values() {
            for (name, v) in Codec::Pairs.decode(data)? {
                if target_ranges.iter().any(|r| r.contains(&name)) {
                    self.targets.insert(name.to_string(), decode_target(v)?);
                } else {
                    raw.insert(name.into_owned(), v.to_vec());
                }
            }
        }
        for data in outputs.values() {
            for (name, v) in Codec::Pairs.decode(data)? {
                let mut r = Reader::new(v);
                let entry = (get_stamp(&mut r)?, r.digest()?);
                r.is_empty().then_some(())?;
                self.outputs.insert(name.to_string(), entry);
            }
        }
        Some(raw)
    }

    /// Stores the record as `name`: whole, or for a record read in part, its segments that
    /// changed.
    pub(crate) fn save(&self, store: &dyn Store, name: &str) -> Result<(), SegError> {
        let mut targets: Entries = self
            .part
            .as_ref()
            .map_or_else(Entries::new, |p| p.raw_targets.clone());
        targets.extend(
            self.targets
                .iter()
                .map(|(n, t)| (n.clone(), encode_target(t))),
        );
        let outputs: Entries = self
            .outputs
            .iter()
            .map(|(n, (s, d))| {
                let mut w = Writer::new();
                put_stamp(&mut w, s);
                w.digest(d);
                (n.clone(), w.finish())
            })
            .collect();
        let whole = |e: &Entries| {
            Segmented::write(
                store,
                e.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
                LAYOUT,
            )
            .map(|(s, _)| s)
        };
        let (targets, outputs) = match &self.part {
            None => (whole(&targets)?, whole(&outputs)?),
            Some(p) => (
                p.targets
                    .replace(store, &p.read_targets, targets, LAYOUT)?
                    .0,
                p.outputs
                    .replace(store, &p.read_outputs, outputs, LAYOUT)?
                    .0,
            ),
        };
        let mut w = Writer::new();
        w.str(MAGIC);
        targets.encode(&mut w);
        outputs.encode(&mut w);
        store
            .save_state_unsynced(name, &w.finish())
            .map_err(|e| SegError::Store(e.message))
    }
}

fn encode_target(t: &TargetRecord) -> Vec<u8> {
    let mut w = Writer::new();
    put_target(&mut w, t);
    w.finish()
}

fn decode_target(data: &[u8]) -> Option<TargetRecord> {
    let mut r = Reader::new(data);
    let key = r.digest()?;
    let result = ActionResult::decode(r.bytes()?)?;
    let inputs = r.digest()?;
    let previous = match r.u64()? {
        0 => None,
        1 => Some((r.digest()?, r.digest()?)),
        _ => return None,
    };
    r.is_empty().then_some(TargetRecord {
        key,
        result,
        inputs,
        previous,
    })
}

fn put_target(w: &mut Writer, t: &TargetRecord) {
    w.digest(&t.key).bytes(&t.result.encode()).digest(&t.inputs);
    match &t.previous {
        None => w.u64(0),
        Some((k, i)) => w.u64(1).digest(k).digest(i),
    };
}

impl Memo for BuildRecord {
    fn recall(&self, target: &str, key: &Digest<ActionKey>) -> Option<ActionResult> {
        let t = self.targets.get(target)?;
        (t.key == *key).then(|| t.result.clone())
    }
}

/// Encodes an input set (names and digests) as the blob `explain` reads back.
pub(crate) fn encode_inputs(inputs: &std::collections::BTreeMap<String, Digest<Blob>>) -> Vec<u8> {
    let mut w = Writer::new();
    w.str("wayfinder-inputs-v1").u64(inputs.len() as u64);
    for (n, d) in inputs {
        w.str(n).digest(d);
    }
    w.finish()
}

pub(crate) fn decode_inputs(
    data: &[u8],
) -> Option<std::collections::BTreeMap<String, Digest<Blob>>> {
    let mut r = Reader::new(data);
    if r.str()? != "wayfinder-inputs-v1" {
        return None;
    }
    let mut m = std::collections::BTreeMap::new();
    for _ in 0..r.count(40)? {
        let n = r.str()?.to_string();
        m.insert(n, r.digest()?);
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let mut rec = BuildRecord::default();
        let mut result = ActionResult::default();
        result.outputs.insert("manifest".into(), Digest::of(b"m"));
        rec.targets.insert(
            "render:a/b".into(),
            TargetRecord {
                key: KeyHasher::new("k").finish(),
                result,
                inputs: Digest::of(b"i"),
                previous: Some((KeyHasher::new("p").finish(), Digest::of(b"j"))),
            },
        );
        rec.outputs.insert(
            "out/clusters/a/b.yaml".into(),
            (
                FileStamp {
                    size: 1,
                    mtime_ns: 2,
                    ctime_ns: 3,
                    ino: 4,
                },
                Digest::of(b"m"),
            ),
        );
        rec.targets.insert(
            "chart:web".into(),
            TargetRecord {
                key: KeyHasher::new("c").finish(),
                result: ActionResult::default(),
                inputs: Digest::of(b"c"),
                previous: None,
            },
        );
        let store = wayfinder_engine::MemStore::new();
        rec.save(&store, "build-x").unwrap();
        assert_eq!(BuildRecord::load(&store, "build-x"), Some(rec.clone()));
        assert_eq!(BuildRecord::load(&store, "build-y"), None);
        // Read in part: only the segments of the ranges asked for.
        for i in 0..300 {
            rec.targets.insert(
                format!("render:c{i:03}/x"),
                TargetRecord {
                    key: KeyHasher::new("k").add(&i.to_string()).finish(),
                    result: ActionResult::default(),
                    inputs: Digest::of(b"i"),
                    previous: None,
                },
            );
        }
        rec.save(&store, "build-x").unwrap();
        let mut part =
            BuildRecord::load_part(&store, "build-x", &[KeyRange::key("chart:web")], &[])
                .expect("reads");
        // Decoded: only the targets in the ranges (the others of their segments are kept as
        // stored).
        assert_eq!(
            part.targets.keys().collect::<Vec<_>>(),
            ["chart:web"],
            "decoded targets"
        );
        assert!(part.outputs.is_empty());
        // Saved, it changes what it holds and keeps everything else.
        part.targets.get_mut("chart:web").unwrap().inputs = Digest::of(b"d");
        part.targets
            .insert("chart:new".into(), part.targets["chart:web"].clone());
        part.save(&store, "build-x").unwrap();
        let back = BuildRecord::load(&store, "build-x").unwrap();
        let mut expected = rec.targets.clone();
        expected.get_mut("chart:web").unwrap().inputs = Digest::of(b"d");
        expected.insert("chart:new".into(), back.targets["chart:web"].clone());
        assert_eq!(back.targets, expected);
        assert_eq!(back.outputs, rec.outputs);
        // A lost segment makes the record absent, never partial.
        let bare = wayfinder_engine::MemStore::new();
        bare.save_state("build-x", &store.load_state("build-x").unwrap())
            .unwrap();
        assert_eq!(BuildRecord::load(&bare, "build-x"), None);
        assert_eq!(
            BuildRecord::load_part(&bare, "build-x", &[KeyRange::key("chart:web")], &[]),
            None
        );
    }
}
