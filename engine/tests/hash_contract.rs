//! The action key contract, re-derived from the documented encoding with raw blake3 calls:
//! if `KeyInputs::key` changes what it hashes or how, this test fails.

use std::collections::BTreeMap;

use wayfinder_engine::{ActionKey, Blob, Digest, KeyInputs};

/// An independent encoder following the table in `engine/src/key.rs`.
struct Enc(blake3::Hasher);

impl Enc {
    fn u64(&mut self, v: u64) {
        self.0.update(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.update(s.as_bytes());
    }
}

fn expected_key(k: &KeyInputs) -> Digest<ActionKey> {
    let mut e = Enc(blake3::Hasher::new());
    e.str("wayfinder-action-key");
    e.str(&k.kind);
    e.str(&k.rules_version);
    e.u64(k.inputs.len() as u64);
    for (_, d) in &k.inputs {
        e.0.update(d.as_bytes());
    }
    e.u64(k.deps.len() as u64);
    for (_, d) in &k.deps {
        e.0.update(d.as_bytes());
    }
    e.u64(k.settings.len() as u64);
    for (name, value) in &k.settings {
        e.str(name);
        e.str(value);
    }
    Digest::from_bytes(*e.0.finalize().as_bytes())
}

#[test]
fn render_key_follows_the_documented_encoding() {
    let mut settings = BTreeMap::new();
    settings.insert("release".to_string(), "web".to_string());
    settings.insert("namespace".to_string(), "web".to_string());
    settings.insert("kube_version".to_string(), "1.31.0".to_string());
    settings.insert("api_versions".to_string(), String::new());
    let k = KeyInputs {
        kind: "render".into(),
        rules_version: "1/0.1.0".into(),
        inputs: vec![
            (
                "voyages/core/values/web.yaml".into(),
                Digest::<Blob>::of(b"a: 1\n"),
            ),
            (
                "clusters/g/a/values/web.yaml".into(),
                Digest::<Blob>::of(b"a: 2\n"),
            ),
        ],
        deps: vec![("chart:web".into(), Digest::<Blob>::of(b"chart listing"))],
        settings,
    };
    assert_eq!(k.key(), expected_key(&k));
    // And for an empty key.
    let empty = KeyInputs::default();
    assert_eq!(empty.key(), expected_key(&empty));
}
