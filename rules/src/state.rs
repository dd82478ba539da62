//! What a build remembers for the next one (stored in the cache's `state-v1/`, per workspace):
//!
//! - `stat-<ws>`: the stat cache (engine `FileDigests`);
//! - `model-<ws>`: parsed declarations by file digest, values files known to be valid;
//! - `build-<ws>`: per target, the last key and result (the memo that makes a no-op build do
//!   no I/O beyond `stat`), the digests of its last two input sets (for `explain`), and the
//!   stamps of the output files last written.

use std::collections::HashMap;

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
        let mut names: Vec<&String> = self.targets.keys().collect();
        names.sort();
        w.u64(names.len() as u64);
        for n in names {
            let t = &self.targets[n];
            w.str(n)
                .digest(&t.key)
                .bytes(&t.result.encode())
                .digest(&t.inputs);
            match &t.previous {
                None => w.u64(0),
                Some((k, i)) => w.u64(1).digest(k).digest(i),
            };
        }
        let mut outs: Vec<&String> = self.outputs.keys().collect();
        outs.sort();
        w.u64(outs.len() as u64);
        for o in outs {
            let (s, d) = &self.outputs[o];
            w.str(o);
            put_stamp(&mut w, s);
            w.digest(d);
        }
        w.finish()
    }

    pub(crate) fn decode(data: &[u8]) -> Option<BuildRecord> {
        let mut r = Reader::new(data);
        if r.str()? != MAGIC {
            return None;
        }
        let mut rec = BuildRecord::default();
        let n = r.count(80)?;
        rec.targets.reserve(n);
        for _ in 0..n {
            let name = r.str()?.to_string();
            let key = r.digest()?;
            let result = ActionResult::decode(r.bytes()?)?;
            let inputs = r.digest()?;
            let previous = match r.u64()? {
                0 => None,
                1 => Some((r.digest()?, r.digest()?)),
                _ => return None,
            };
            rec.targets.insert(
                name,
                TargetRecord {
                    key,
                    result,
                    inputs,
                    previous,
                },
            );
        }
        let n = r.count(72)?;
        rec.outputs.reserve(n);
        for _ in 0..n {
            let name = r.str()?.to_string();
            let s = get_stamp(&mut r)?;
            rec.outputs.insert(name, (s, r.digest()?));
        }
        r.is_empty().then_some(rec)
    }
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
        let bytes = rec.encode();
        assert_eq!(BuildRecord::decode(&bytes), Some(rec));
        assert_eq!(BuildRecord::decode(&bytes[..bytes.len() - 1]), None);
    }
}
