//! Stable keys: a canonical, length-prefixed encoding of action inputs, hashed with blake3.
//!
//! `std::hash::Hash` is not stable across Rust versions or platforms and does not separate
//! fields, so keys use their own trait, [`StableHash`]. Its encoding rules:
//!
//! | value | bytes written |
//! |---|---|
//! | `u64` | 8 bytes, little endian |
//! | `bool` | one byte, 0 or 1 |
//! | `str` / `String` | its length (`u64`), then its UTF-8 bytes |
//! | `Digest<_>` | its 32 bytes |
//! | `Option<T>` | tag byte 0 (none) or 1 then `T` |
//! | `[T]` / `Vec<T>` | its length, then each item in order |
//! | `BTreeMap<K, V>` | its length, then each `(K, V)` in key order |
//!
//! An action key ([`KeyInputs::key`]) hashes, in this order: the domain tag
//! `wayfinder-action-key`, the action kind, the rules version, the named input digests, the
//! named upstream *output* digests (early cutoff), and the named settings. What each action kind
//! puts in these fields is listed in `wayfinder-rules` (`actions` module).

use std::collections::BTreeMap;

use crate::digest::{Action, Blob, Digest};

/// Writes a value into a [`KeyHasher`] with a canonical, unambiguous encoding.
pub trait StableHash {
    fn stable_hash(&self, h: &mut KeyHasher);
}

/// A blake3 hasher that only takes canonical encodings.
pub struct KeyHasher(blake3::Hasher);

impl KeyHasher {
    /// A hasher whose output is bound to `domain`, so keys of different uses never collide.
    pub fn new(domain: &str) -> KeyHasher {
        let mut h = KeyHasher(blake3::Hasher::new());
        domain.stable_hash(&mut h);
        h
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// Adds a value.
    pub fn add<T: StableHash + ?Sized>(&mut self, v: &T) -> &mut KeyHasher {
        v.stable_hash(self);
        self
    }
    /// The digest of everything written.
    pub fn finish<K>(&self) -> Digest<K> {
        Digest::from_bytes(*self.0.finalize().as_bytes())
    }
}

impl StableHash for u64 {
    fn stable_hash(&self, h: &mut KeyHasher) {
        h.write(&self.to_le_bytes());
    }
}
impl StableHash for usize {
    fn stable_hash(&self, h: &mut KeyHasher) {
        (*self as u64).stable_hash(h);
    }
}
impl StableHash for bool {
    fn stable_hash(&self, h: &mut KeyHasher) {
        h.write(&[*self as u8]);
    }
}
impl StableHash for str {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.len().stable_hash(h);
        h.write(self.as_bytes());
    }
}
impl StableHash for String {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.as_str().stable_hash(h);
    }
}
impl<K> StableHash for Digest<K> {
    fn stable_hash(&self, h: &mut KeyHasher) {
        h.write(self.as_bytes());
    }
}
impl<T: StableHash> StableHash for Option<T> {
    fn stable_hash(&self, h: &mut KeyHasher) {
        match self {
            None => h.write(&[0]),
            Some(v) => {
                h.write(&[1]);
                v.stable_hash(h);
            }
        }
    }
}
impl<T: StableHash> StableHash for [T] {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.len().stable_hash(h);
        for v in self {
            v.stable_hash(h);
        }
    }
}
impl<T: StableHash> StableHash for Vec<T> {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.as_slice().stable_hash(h);
    }
}
impl<K: StableHash, V: StableHash> StableHash for BTreeMap<K, V> {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.len().stable_hash(h);
        for (k, v) in self {
            k.stable_hash(h);
            v.stable_hash(h);
        }
    }
}
impl<A: StableHash, B: StableHash> StableHash for (A, B) {
    fn stable_hash(&self, h: &mut KeyHasher) {
        self.0.stable_hash(h);
        self.1.stable_hash(h);
    }
}
impl<T: StableHash + ?Sized> StableHash for &T {
    fn stable_hash(&self, h: &mut KeyHasher) {
        (**self).stable_hash(h);
    }
}

/// Everything that feeds an action key.
///
/// `inputs` and `deps` are *positional* in the key (a list of digests in the order the action
/// declares them); their names only explain the key (summary, `explain`). So two clusters whose
/// render inputs have the same content but different file names share one key: that is the
/// content-addressed dedupe.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KeyInputs {
    /// The action kind (`render`, `chart`…).
    pub kind: String,
    /// The rules version: bump it when what an action does changes.
    pub rules_version: String,
    /// Input files: `(name, digest)` in the action's order.
    pub inputs: Vec<(String, Digest<Blob>)>,
    /// Upstream outputs: `(name, digest)` in the action's order (output digests, not keys).
    pub deps: Vec<(String, Digest<Blob>)>,
    /// Settings: name → value.
    pub settings: BTreeMap<String, String>,
}

impl KeyInputs {
    /// The action key.
    pub fn key(&self) -> Digest<Action> {
        let mut h = KeyHasher::new("wayfinder-action-key");
        h.add(&self.kind).add(&self.rules_version);
        let inputs: Vec<&Digest<Blob>> = self.inputs.iter().map(|(_, d)| d).collect();
        let deps: Vec<&Digest<Blob>> = self.deps.iter().map(|(_, d)| d).collect();
        h.add(&inputs).add(&deps).add(&self.settings);
        h.finish()
    }

    /// Every named digest (inputs then deps), as the summary shows them.
    pub fn named(&self) -> BTreeMap<String, Digest<Blob>> {
        self.inputs
            .iter()
            .chain(self.deps.iter())
            .map(|(n, d)| (n.clone(), *d))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Digest<Blob> {
        Digest::of(s.as_bytes())
    }

    #[test]
    fn strings_are_length_prefixed() {
        let a: Digest<Action> = KeyHasher::new("t").add("ab").add("c").finish();
        let b: Digest<Action> = KeyHasher::new("t").add("a").add("bc").finish();
        assert_ne!(a, b);
    }

    #[test]
    fn option_and_lists_are_tagged() {
        let a: Digest<Action> = KeyHasher::new("t").add(&None::<String>).finish();
        let b: Digest<Action> = KeyHasher::new("t").add(&Vec::<String>::new()).finish();
        assert_ne!(a, b);
    }

    #[test]
    fn names_do_not_enter_the_key_but_order_and_content_do() {
        let mut k = KeyInputs {
            kind: "render".into(),
            rules_version: "1".into(),
            inputs: vec![("a.yaml".into(), d("x")), ("b.yaml".into(), d("y"))],
            ..Default::default()
        };
        let base = k.key();
        k.inputs[0].0 = "other.yaml".into();
        assert_eq!(k.key(), base, "file names are not part of the key");
        k.inputs.swap(0, 1);
        assert_ne!(k.key(), base, "layer order is part of the key");
        k.inputs.swap(0, 1);
        k.settings.insert("namespace".into(), "x".into());
        assert_ne!(k.key(), base);
        k.settings.clear();
        k.deps.push(("chart:x".into(), d("c")));
        assert_ne!(k.key(), base);
        k.deps.clear();
        k.rules_version = "2".into();
        assert_ne!(k.key(), base);
    }
}
