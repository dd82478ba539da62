//! Large sorted records kept as content-defined segments, so that a build that changes a few
//! entries rewrites a few small blobs instead of megabytes.
//!
//! A [`Segmented`] record is a key-ordered sequence of (key, value) entries cut into segments,
//! each stored as one blob in the cache. An entry ends its segment when a hash of its key
//! says so (one key in `every`, see [`ends_segment`]), so where the cuts fall depends only on
//! the keys: a record rewritten in part ([`Segmented::replace`]) is cut exactly as one
//! written whole, and identical segments are identical blobs, which the cache stores once.
//!
//! The fast path's summary (target → summary line) and the build record (target → what it
//! last built) are stored this way: a partial build of one cluster reads and rewrites only
//! the segments around that cluster's keys. Segment `i` holds the keys from its first key up
//! to the next segment's first key (the first segment also everything before it).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rayon::prelude::*;
use wayfinder_engine::{Blob, Digest, Reader, Store, Writer};

const MAGIC: &str = "wayfinder-segment-v1";

/// One stored segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SegRef {
    /// Its first key.
    pub first: String,
    pub digest: Digest<Blob>,
    /// Its number of entries.
    pub count: u64,
}

/// A record stored as segments (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Segmented {
    pub segs: Vec<SegRef>,
}

/// Entries by key.
pub(crate) type Entries = BTreeMap<String, Vec<u8>>;

/// A segment's blob as read or written (shared: a summary keeps them for printing).
pub(crate) type SegBlob = Arc<Vec<u8>>;

/// A segment's blob and whether a build rewrote it (its lines may need replacing).
pub(crate) type MarkedBlob = (SegBlob, bool);

/// How a record is cut and how its segments are encoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// One key in this many ends a segment (see [`ends_segment`]).
    pub every: u64,
    pub codec: Codec,
}

/// The encoding of a segment's blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// Length-prefixed (key, value) pairs.
    Pairs,
    /// Summary lines (`{"target": "NAME", …}`, the value) joined by `,\n  `, exactly as the
    /// printed summary has them, so a summary is printed by copying its segments. The key
    /// is the line's target (a JSON string, unescaped when it has escapes).
    SummaryLines,
}

/// The separator of summary lines (JSON escapes newlines inside strings).
pub(crate) const LINE_SEP: &str = ",\n  ";
const LINE_HEAD: &str = "{\"target\": \"";

impl Codec {
    fn encode<'a>(self, entries: impl ExactSizeIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
        match self {
            Codec::Pairs => {
                let mut w = Writer::new();
                w.str(MAGIC).u64(entries.len() as u64);
                for (k, v) in entries {
                    w.str(k).bytes(v);
                }
                w.finish()
            }
            Codec::SummaryLines => {
                let mut out = Vec::new();
                for (i, (_, v)) in entries.enumerate() {
                    if i > 0 {
                        out.extend_from_slice(LINE_SEP.as_bytes());
                    }
                    out.extend_from_slice(v);
                }
                out
            }
        }
    }

    /// The entries of a segment blob, borrowed from it; `None` if it is not one.
    pub(crate) fn decode(self, data: &[u8]) -> Option<Vec<(Cow<'_, str>, &[u8])>> {
        match self {
            Codec::Pairs => {
                let mut r = Reader::new(data);
                if r.str()? != MAGIC {
                    return None;
                }
                let n = r.count(16)?;
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    out.push((Cow::Borrowed(r.str()?), r.bytes()?));
                }
                r.is_empty().then_some(out)
            }
            Codec::SummaryLines => {
                let text = std::str::from_utf8(data).ok()?;
                let mut out = Vec::new();
                for line in text.split(LINE_SEP) {
                    let rest = line.strip_prefix(LINE_HEAD)?;
                    // The string ends at the first quote not escaped by a backslash.
                    let bytes = rest.as_bytes();
                    let mut end = 0;
                    let mut escaped = false;
                    while end < bytes.len() && bytes[end] != b'"' {
                        escaped |= bytes[end] == b'\\';
                        end += if bytes[end] == b'\\' { 2 } else { 1 };
                    }
                    if end >= bytes.len() {
                        return None;
                    }
                    let key = if escaped {
                        let quoted = &line[LINE_HEAD.len() - 1..LINE_HEAD.len() + end + 1];
                        Cow::Owned(serde_json::from_str::<String>(quoted).ok()?)
                    } else {
                        Cow::Borrowed(&rest[..end])
                    };
                    out.push((key, line.as_bytes()));
                }
                Some(out)
            }
        }
    }
}

/// Whether the entry of `key` is the last of its segment: for one key in `every` on average,
/// chosen by an FNV-1a hash of the key (stable across runs and machines).
pub(crate) fn ends_segment(key: &str, every: u64) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // The low bits of FNV-1a mix poorly for short keys; fold the high half in.
    (h ^ (h >> 32)).is_multiple_of(every.max(1))
}

/// A half-open key range `[from, to)`; `to: None` is unbounded.
#[derive(Clone, Debug)]
pub(crate) struct KeyRange {
    pub from: String,
    pub to: Option<String>,
}

impl KeyRange {
    /// Whether `key` lies in the range.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.from.as_str() <= key && self.to.as_deref().is_none_or(|t| key < t)
    }

    /// Every key that starts with `prefix`.
    pub(crate) fn prefix(prefix: &str) -> KeyRange {
        // The smallest string greater than every string with the prefix: its last character
        // incremented (carrying past the largest characters, which never appear in practice).
        let mut chars: Vec<char> = prefix.chars().collect();
        while let Some(c) = chars.pop() {
            if let Some(next) = char::from_u32(c as u32 + 1) {
                chars.push(next);
                return KeyRange {
                    from: prefix.to_string(),
                    to: Some(chars.into_iter().collect()),
                };
            }
        }
        KeyRange {
            from: prefix.to_string(),
            to: None,
        }
    }

    /// Exactly `key`.
    pub(crate) fn key(key: &str) -> KeyRange {
        KeyRange {
            from: key.to_string(),
            to: Some(format!("{key}\0")),
        }
    }
}

impl Segmented {
    /// Writes `entries` (in key order) as a whole new record.
    pub(crate) fn write<'a>(
        store: &dyn Store,
        entries: impl Iterator<Item = (&'a str, &'a [u8])>,
        layout: Layout,
    ) -> Result<(Segmented, Vec<SegBlob>), SegError> {
        let mut chunks: Vec<Vec<(&str, &[u8])>> = Vec::new();
        let mut cur = Vec::new();
        for (k, v) in entries {
            cur.push((k, v));
            if ends_segment(k, layout.every) {
                chunks.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        let written: Vec<(SegRef, SegBlob)> = chunks
            .par_iter()
            .map(|c| put_segment(store, c, layout.codec))
            .collect::<Result<_, _>>()?;
        let (segs, blobs) = written.into_iter().unzip();
        Ok((Segmented { segs }, blobs))
    }

    /// Total number of entries.
    pub(crate) fn len(&self) -> u64 {
        self.segs.iter().map(|s| s.count).sum()
    }

    /// The segment whose keys include `key`.
    fn holding(&self, key: &str) -> usize {
        self.segs
            .partition_point(|s| s.first.as_str() <= key)
            .saturating_sub(1)
    }

    /// The segments that may hold keys of `ranges`.
    pub(crate) fn covering(&self, ranges: &[KeyRange]) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        if self.segs.is_empty() {
            return out;
        }
        for r in ranges {
            if r.to.as_deref().is_some_and(|to| to <= r.from.as_str()) {
                continue;
            }
            let start = self.holding(&r.from);
            let end = match &r.to {
                None => self.segs.len() - 1,
                Some(to) => self
                    .segs
                    .partition_point(|s| s.first.as_str() < to.as_str())
                    .saturating_sub(1),
            };
            out.extend(start..=end.max(start));
        }
        out
    }

    /// Reads the blobs of the segments `which` (in parallel; the cache verifies each
    /// against its digest).
    pub(crate) fn read(
        &self,
        store: &dyn Store,
        which: &BTreeSet<usize>,
    ) -> Result<BTreeMap<usize, SegBlob>, SegError> {
        which
            .par_iter()
            .map(|&i| {
                let s = self.segs.get(i).ok_or(SegError::Missing)?;
                let data = store.get_blob(&s.digest).ok_or(SegError::Missing)?;
                Ok((i, Arc::new(data)))
            })
            .collect()
    }

    /// Reads every segment, in order.
    pub(crate) fn read_all(&self, store: &dyn Store) -> Result<Vec<SegBlob>, SegError> {
        let all: BTreeSet<usize> = (0..self.segs.len()).collect();
        Ok(self.read(store, &all)?.into_values().collect())
    }

    /// The entries of segments already read, owned, for changing.
    pub(crate) fn entries_of(
        blobs: &BTreeMap<usize, SegBlob>,
        codec: Codec,
    ) -> Result<Entries, SegError> {
        let mut out = Entries::new();
        for data in blobs.values() {
            for (k, v) in codec.decode(data).ok_or(SegError::Missing)? {
                out.insert(k.into_owned(), v.to_vec());
            }
        }
        Ok(out)
    }

    /// The record with the keys of the segments `loaded` replaced by `entries`: those
    /// segments' entries as the caller read and then changed them. A key of `entries` that
    /// falls among the keys of a segment not loaded is added to it. Only the segments that
    /// change are written; the result is cut as [`Segmented::write`] would cut it.
    ///
    /// Returns the record and, for every segment of it, the blob when this call had it in
    /// hand (`None` for segments kept as they were).
    pub(crate) fn replace(
        &self,
        store: &dyn Store,
        loaded: &BTreeMap<usize, SegBlob>,
        mut entries: Entries,
        layout: Layout,
    ) -> Result<(Segmented, Vec<Option<SegBlob>>), SegError> {
        if self.segs.is_empty() {
            let (rec, blobs) = Segmented::write(
                store,
                entries.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
                layout,
            )?;
            return Ok((rec, blobs.into_iter().map(Some).collect()));
        }
        // Segments to rewrite: the loaded ones, those a new key falls into (their entries
        // join `entries`), and (below) those a cut that moved runs into.
        let mut rewrite: BTreeSet<usize> = loaded.keys().copied().collect();
        let extra: BTreeSet<usize> = entries
            .keys()
            .map(|k| self.holding(k))
            .filter(|i| !rewrite.contains(i))
            .collect();
        if !extra.is_empty() {
            for (k, v) in Segmented::entries_of(&self.read(store, &extra)?, layout.codec)? {
                entries.entry(k).or_insert(v);
            }
            rewrite.extend(extra);
        }
        let mut segs = Vec::new();
        let mut blobs = Vec::new();
        let mut pending: Vec<(String, Vec<u8>)> = Vec::new();
        let flush = |pending: &mut Vec<(String, Vec<u8>)>,
                     segs: &mut Vec<SegRef>,
                     blobs: &mut Vec<Option<SegBlob>>|
         -> Result<(), SegError> {
            if pending.is_empty() {
                return Ok(());
            }
            let items: Vec<(&str, &[u8])> = pending
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            let (r, b) = put_segment(store, &items, layout.codec)?;
            segs.push(r);
            blobs.push(Some(b));
            pending.clear();
            Ok(())
        };
        for (i, seg) in self.segs.iter().enumerate() {
            if !rewrite.contains(&i) && pending.is_empty() {
                segs.push(seg.clone());
                blobs.push(None);
                continue;
            }
            // This segment's keys: from `entries` if it is rewritten (every key of `entries`
            // falls in a rewritten segment, so those below the next segment's first key are
            // this one's), else as stored (a cut before it moved: they join the pending ones).
            let own: Entries = if rewrite.contains(&i) {
                match self.segs.get(i + 1) {
                    Some(next) => {
                        let rest = entries.split_off(next.first.as_str());
                        std::mem::replace(&mut entries, rest)
                    }
                    None => std::mem::take(&mut entries),
                }
            } else {
                Segmented::entries_of(&self.read(store, &BTreeSet::from([i]))?, layout.codec)?
            };
            // A loaded segment whose entries did not change is cut and encoded as before:
            // it stays, unwritten.
            if pending.is_empty() && loaded.get(&i).is_some_and(|b| same(layout.codec, b, &own)) {
                segs.push(seg.clone());
                blobs.push(None);
                continue;
            }
            for (k, v) in own {
                let end = ends_segment(&k, layout.every);
                pending.push((k, v));
                if end {
                    flush(&mut pending, &mut segs, &mut blobs)?;
                }
            }
        }
        flush(&mut pending, &mut segs, &mut blobs)?;
        Ok((Segmented { segs }, blobs))
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u64(self.segs.len() as u64);
        for s in &self.segs {
            w.str(&s.first).digest(&s.digest).u64(s.count);
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<Segmented> {
        let n = r.count(48)?;
        let mut segs = Vec::with_capacity(n);
        for _ in 0..n {
            segs.push(SegRef {
                first: r.str()?.to_string(),
                digest: r.digest()?,
                count: r.u64()?,
            });
        }
        // Segments in key order, each non-empty: anything else was not written here.
        let ordered = segs.windows(2).all(|w| w[0].first < w[1].first);
        (ordered && segs.iter().all(|s| s.count > 0)).then_some(Segmented { segs })
    }
}

/// Why a segmented record could not be read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SegError {
    /// A segment is gone from the cache (garbage collection) or is not one.
    Missing,
    /// The cache could not store a segment.
    Store(String),
}

impl std::fmt::Display for SegError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SegError::Missing => {
                f.write_str("a segment of the build state is missing from the cache")
            }
            SegError::Store(m) => f.write_str(m),
        }
    }
}

/// Whether a segment's blob holds exactly `entries`.
fn same(codec: Codec, blob: &[u8], entries: &Entries) -> bool {
    codec.decode(blob).is_some_and(|old| {
        old.len() == entries.len()
            && old
                .iter()
                .zip(entries)
                .all(|((k, v), (k2, v2))| k == k2 && *v == v2.as_slice())
    })
}

fn put_segment(
    store: &dyn Store,
    items: &[(&str, &[u8])],
    codec: Codec,
) -> Result<(SegRef, SegBlob), SegError> {
    let data = codec.encode(items.iter().copied());
    let digest = store
        .put_blob_unsynced(&data)
        .map_err(|e| SegError::Store(e.message))?;
    Ok((
        SegRef {
            first: items
                .first()
                .map(|(k, _)| k.to_string())
                .unwrap_or_default(),
            digest,
            count: items.len() as u64,
        },
        Arc::new(data),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use wayfinder_engine::MemStore;

    fn entries(keys: &[String]) -> Entries {
        keys.iter()
            .map(|k| (k.clone(), format!("value of {k}").into_bytes()))
            .collect()
    }

    fn pairs(every: u64) -> Layout {
        Layout {
            every,
            codec: Codec::Pairs,
        }
    }

    fn whole(store: &MemStore, e: &Entries, layout: Layout) -> Segmented {
        Segmented::write(
            store,
            e.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
            layout,
        )
        .unwrap()
        .0
    }

    fn all(store: &MemStore, s: &Segmented, codec: Codec) -> Entries {
        let every = (0..s.segs.len()).collect();
        Segmented::entries_of(&s.read(store, &every).unwrap(), codec).unwrap()
    }

    #[test]
    fn prefix_ranges_hold_exactly_the_prefixed_keys() {
        let r = KeyRange::prefix("render:a/");
        assert_eq!(r.to.as_deref(), Some("render:a0"));
        for (k, inside) in [
            ("render:a/x", true),
            ("render:a/", true),
            ("render:a-b/x", false),
            ("render:a0", false),
            ("render:a", false),
        ] {
            assert_eq!(r.contains(k), inside, "{k}");
        }
    }

    #[test]
    fn a_missing_segment_is_reported_not_skipped() {
        let store = MemStore::new();
        let keys: Vec<String> = (0..200).map(|i| format!("k{i:04}")).collect();
        let s = whole(&store, &entries(&keys), pairs(8));
        let mut broken = s.clone();
        broken.segs[1].digest = Digest::of(b"not stored");
        assert!(broken.read_all(&store).is_err());
        assert_eq!(s.read_all(&store).unwrap().len(), s.segs.len());
    }

    #[test]
    fn a_partial_rewrite_writes_only_the_segments_that_change() {
        let store = MemStore::new();
        let keys: Vec<String> = (0..400).map(|i| format!("k{i:04}")).collect();
        let before = entries(&keys);
        let rec = whole(&store, &before, pairs(8));
        // Three segments loaded; one entry of the middle one changes.
        let which: BTreeSet<usize> = [3, 4, 5].into();
        let loaded = rec.read(&store, &which).unwrap();
        let mut mine = Segmented::entries_of(&loaded, Codec::Pairs).unwrap();
        let key = rec.segs[4].first.clone();
        mine.insert(key.clone(), b"changed".to_vec());
        let (after, blobs) = rec.replace(&store, &loaded, mine, pairs(8)).unwrap();
        let written: Vec<usize> = (0..blobs.len()).filter(|&i| blobs[i].is_some()).collect();
        assert_eq!(written, [4]);
        let mut expected = before;
        expected.insert(key, b"changed".to_vec());
        assert_eq!(after, whole(&store, &expected, pairs(8)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// A record changed in part is the record written whole from the changed entries:
        /// the same segments, blob for blob.
        #[test]
        fn partial_rewrites_cut_as_whole_writes(
            keys in proptest::collection::btree_set("[a-d\"\\\\]{1,4}", 0..120),
            ranges in proptest::collection::vec(("[a-d]{0,3}", proptest::option::of("[a-e]{0,3}")), 0..4),
            added in proptest::collection::btree_set("[a-d]{1,4}", 0..8),
            drop_every in 1usize..5,
            keep_every in 2usize..6,
            every in 1u64..6,
            lines in proptest::bool::ANY,
        ) {
            let store = MemStore::new();
            let layout = Layout {
                every,
                codec: if lines { Codec::SummaryLines } else { Codec::Pairs },
            };
            // Summary lines carry their key.
            let value = |k: &str, what: &str| -> Vec<u8> {
                if lines {
                    let k = serde_json::to_string(k).unwrap();
                    format!("{{\"target\": {k}, \"v\": \"{what}\"}}").into_bytes()
                } else {
                    what.as_bytes().to_vec()
                }
            };
            let keys: Vec<String> = keys.into_iter().collect();
            let before: Entries = keys.iter().map(|k| (k.clone(), value(k, "first"))).collect();
            let rec = whole(&store, &before, layout);
            prop_assert_eq!(rec.len(), before.len() as u64);
            let ranges: Vec<KeyRange> = ranges
                .into_iter()
                .map(|(from, to)| KeyRange { from, to })
                .collect();
            let which = rec.covering(&ranges);
            let loaded = rec.read(&store, &which).unwrap();
            let mut mine = Segmented::entries_of(&loaded, layout.codec).unwrap();
            // Every key of the ranges is among the loaded entries.
            for k in before.keys() {
                let inside = ranges.iter().any(|r| r.contains(k));
                if inside {
                    prop_assert!(mine.contains_key(k), "{} not loaded", k);
                }
            }
            // Change them: drop some, change some, keep some as they were, add new keys.
            let mut expected = before.clone();
            let loaded_keys: Vec<String> = mine.keys().cloned().collect();
            for (n, k) in loaded_keys.iter().enumerate() {
                if n % keep_every == 1 {
                    continue;
                }
                if n % drop_every == 0 {
                    mine.remove(k);
                    expected.remove(k);
                } else {
                    mine.insert(k.clone(), value(k, "changed"));
                    expected.insert(k.clone(), value(k, "changed"));
                }
            }
            for k in &added {
                if !expected.contains_key(k) {
                    mine.insert(k.clone(), value(k, "new"));
                    expected.insert(k.clone(), value(k, "new"));
                }
            }
            let (after, blobs) = rec.replace(&store, &loaded, mine, layout).unwrap();
            prop_assert_eq!(blobs.len(), after.segs.len());
            prop_assert_eq!(&all(&store, &after, layout.codec), &expected);
            prop_assert_eq!(&after, &whole(&store, &expected, layout));
            prop_assert_eq!(
                Segmented::decode(&mut Reader::new(&{
                    let mut w = Writer::new();
                    after.encode(&mut w);
                    w.finish()
                })),
                Some(after.clone())
            );
        }
    }
}
