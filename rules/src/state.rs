//! What a build remembers for the next one (stored in the cache's `state-v1/`, per workspace):
//!
//! - `stat-<ws>`: the stat cache (engine `FileDigests`);
//! - `model-<ws>`: parsed declarations by file digest, values files known to be valid;
//! - `build-<ws>`: per target, the last key and result (the memo that makes a no-op build do
//!   no I/O beyond `stat`), the digests of its last two input sets (for `explain`), and the
//!   stamps of the output files last written;
//! - `fast-<ws>`: the no-op fast path's stamps (see `fast`).
//!
//! They are written without fsync: each carries a checksum, so a record torn or lost by a
//! crash reads as absent, and the next build is only slower, never wrong.

use std::collections::HashMap;
use std::ops::Range;

use wayfinder_engine::{
    ActionKey, ActionResult, Blob, Digest, FileStamp, KeyHasher, Memo, Reader, Writer,
};

const MAGIC: &str = "wayfinder-build-record-v1";

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

/// The persisted record of a workspace's last build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BuildRecord {
    pub targets: HashMap<String, TargetRecord>,
    /// Output files (workspace-relative) → stamp and digest when last written or checked.
    pub outputs: HashMap<String, (FileStamp, Digest<Blob>)>,
    /// Targets and outputs a partial build does not look at, kept encoded and written back
    /// as they were (see [`BuildRecord::decode_some`]): (name, encoding) ranges into `raw`.
    opaque_targets: Vec<(Range<usize>, Range<usize>)>,
    opaque_outputs: Vec<(Range<usize>, Range<usize>)>,
    /// The record the opaque entries were read from.
    raw: Vec<u8>,
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
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(MAGIC);
        // Decoded and opaque entries, in name order.
        let mut targets: Vec<(&str, Option<&[u8]>)> = self
            .targets
            .keys()
            .map(|n| (n.as_str(), None))
            .chain(
                self.opaque(&self.opaque_targets)
                    .filter(|(n, _)| !self.targets.contains_key(*n))
                    .map(|(n, b)| (n, Some(b))),
            )
            .collect();
        targets.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(targets.len() as u64);
        for (n, raw) in targets {
            w.str(n);
            match raw {
                Some(b) => {
                    w.raw(b);
                }
                None => put_target(&mut w, &self.targets[n]),
            }
        }
        let mut outs: Vec<(&str, Option<&[u8]>)> = self
            .outputs
            .keys()
            .map(|n| (n.as_str(), None))
            .chain(
                self.opaque(&self.opaque_outputs)
                    .filter(|(n, _)| !self.outputs.contains_key(*n))
                    .map(|(n, b)| (n, Some(b))),
            )
            .collect();
        outs.sort_by(|a, b| a.0.cmp(b.0));
        w.u64(outs.len() as u64);
        for (o, raw) in outs {
            w.str(o);
            match raw {
                Some(b) => {
                    w.raw(b);
                }
                None => {
                    let (s, d) = &self.outputs[o];
                    put_stamp(&mut w, s);
                    w.digest(d);
                }
            }
        }
        w.finish()
    }

    /// (name, encoding) of opaque entries.
    fn opaque<'a>(
        &'a self,
        entries: &'a [(Range<usize>, Range<usize>)],
    ) -> impl Iterator<Item = (&'a str, &'a [u8])> {
        entries.iter().filter_map(|(n, b)| {
            let name = std::str::from_utf8(self.raw.get(n.clone())?).ok()?;
            Some((name, self.raw.get(b.clone())?))
        })
    }

    pub(crate) fn decode(data: &[u8]) -> Option<BuildRecord> {
        BuildRecord::decode_inner(data, |_| true, |_| true)
    }

    /// Decodes the targets and outputs the predicates keep; the others stay encoded (cheap to
    /// carry, written back unchanged), so a partial build pays only for what it touches.
    pub(crate) fn decode_some(
        data: Vec<u8>,
        keep_target: impl Fn(&str) -> bool,
        keep_output: impl Fn(&str) -> bool,
    ) -> Option<BuildRecord> {
        let mut rec = BuildRecord::decode_inner(&data, keep_target, keep_output)?;
        rec.raw = data;
        Some(rec)
    }

    /// The record with ranges into `data` for the opaque entries (the caller keeps `data`).
    fn decode_inner(
        data: &[u8],
        keep_target: impl Fn(&str) -> bool,
        keep_output: impl Fn(&str) -> bool,
    ) -> Option<BuildRecord> {
        let offset = |s: &str| s.as_ptr() as usize - data.as_ptr() as usize;
        let mut r = Reader::new(data);
        if r.str()? != MAGIC {
            return None;
        }
        let mut rec = BuildRecord::default();
        let n = r.count(80)?;
        for _ in 0..n {
            let name = r.str()?;
            let start = data.len() - r.remaining();
            let key = r.digest()?;
            let result = r.bytes()?;
            let inputs = r.digest()?;
            let previous = match r.u64()? {
                0 => None,
                1 => Some((r.digest()?, r.digest()?)),
                _ => return None,
            };
            if !keep_target(name) {
                let at = offset(name);
                rec.opaque_targets
                    .push((at..at + name.len(), start..data.len() - r.remaining()));
                continue;
            }
            rec.targets.insert(
                name.to_string(),
                TargetRecord {
                    key,
                    result: ActionResult::decode(result)?,
                    inputs,
                    previous,
                },
            );
        }
        let n = r.count(72)?;
        for _ in 0..n {
            let name = r.str()?;
            let start = data.len() - r.remaining();
            let s = get_stamp(&mut r)?;
            let d = r.digest()?;
            if keep_output(name) {
                rec.outputs.insert(name.to_string(), (s, d));
            } else {
                let at = offset(name);
                rec.opaque_outputs
                    .push((at..at + name.len(), start..data.len() - r.remaining()));
            }
        }
        r.is_empty().then_some(rec)
    }
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
        let bytes = rec.encode();
        assert_eq!(BuildRecord::decode(&bytes), Some(rec.clone()));
        assert_eq!(BuildRecord::decode(&bytes[..bytes.len() - 1]), None);
        // Decoding only some entries keeps the others as they were.
        let some = BuildRecord::decode_some(bytes.clone(), |t| t.starts_with("chart:"), |_| false)
            .expect("decodes");
        assert_eq!(some.targets.len(), 1);
        assert_eq!(some.opaque_targets.len(), 1);
        assert_eq!(some.opaque_outputs.len(), 1);
        assert_eq!(some.encode(), bytes);
        // A decoded entry that changed replaces nothing else.
        let mut edited = some.clone();
        edited.targets.get_mut("chart:web").unwrap().inputs = Digest::of(b"d");
        let back = BuildRecord::decode(&edited.encode()).unwrap();
        assert_eq!(back.targets["chart:web"].inputs, Digest::of(b"d"));
        assert_eq!(back.targets["render:a/b"], rec.targets["render:a/b"]);
    }
}
