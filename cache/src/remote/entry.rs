//! The remote action-cache entry: a small JSON document stored under `ac/<action key hex>`.
//!
//! ```json
//! {"format": "wayfinder-remote-ac-v1", "key": "<blake3 action key>",
//!  "outputs": [{"name": "manifest", "sha256": "…", "blake3": "…", "size": 1234}],
//!  "warnings": [], "signature": "hmac-sha256:…"}
//! ```
//!
//! Each output names its blob by SHA-256 (the remote CAS key, as Bazel's protocol wants) and
//! by blake3 (the local CAS key), with its size: a download is checked against all three.
//! `signature` (optional) is an HMAC-SHA256, with the shared key of
//! `WAYFINDER_CACHE_SIGNING_KEY`, over a canonical length-prefixed encoding of the action key,
//! the outputs and the warnings.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use wayfinder_engine::{ActionKey, ActionResult, Blob, Digest, Writer};

const FORMAT: &str = "wayfinder-remote-ac-v1";
const SIGNATURE_PREFIX: &str = "hmac-sha256:";
/// The largest entry accepted (an action has a few outputs).
pub(crate) const MAX_ENTRY_BYTES: u64 = 4 << 20;

/// One output of an action: where its bytes are in both CAS flavours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct OutputRef {
    pub name: String,
    pub sha256: String,
    pub blake3: Digest<Blob>,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub format: String,
    pub key: Digest<ActionKey>,
    pub outputs: Vec<OutputRef>,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// How an entry's signature checks out against the configured key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signature {
    Valid,
    /// No signature, or no key to check it with.
    Unverified,
    Bad,
}

impl Entry {
    pub(crate) fn new(
        key: Digest<ActionKey>,
        outputs: Vec<OutputRef>,
        warnings: Vec<String>,
    ) -> Entry {
        Entry {
            format: FORMAT.to_string(),
            key,
            outputs,
            warnings,
            signature: None,
        }
    }

    /// The canonical bytes the signature covers.
    fn signed_message(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(FORMAT)
            .digest(&self.key)
            .u64(self.outputs.len() as u64);
        for o in &self.outputs {
            w.str(&o.name).str(&o.sha256).digest(&o.blake3).u64(o.size);
        }
        w.u64(self.warnings.len() as u64);
        for m in &self.warnings {
            w.str(m);
        }
        w.finish()
    }

    fn mac(&self, secret: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length: `new_from_slice` cannot fail for it.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(&self.signed_message());
        mac
    }

    pub(crate) fn sign(&mut self, secret: &[u8]) {
        let tag = self.mac(secret).finalize().into_bytes();
        self.signature = Some(format!("{SIGNATURE_PREFIX}{}", hex(&tag)));
    }

    pub(crate) fn check_signature(&self, secret: Option<&[u8]>) -> Signature {
        let (Some(secret), Some(sig)) = (secret, &self.signature) else {
            return Signature::Unverified;
        };
        let Some(tag) = sig.strip_prefix(SIGNATURE_PREFIX).and_then(unhex) else {
            return Signature::Bad;
        };
        match self.mac(secret).verify_slice(&tag) {
            Ok(()) => Signature::Valid,
            Err(_) => Signature::Bad,
        }
    }

    pub(crate) fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses an entry fetched for `key`; an entry of another key or format is an error.
    pub(crate) fn from_json(data: &[u8], key: &Digest<ActionKey>) -> Result<Entry, String> {
        let e: Entry = serde_json::from_slice(data).map_err(|e| format!("not an entry: {e}"))?;
        if e.format != FORMAT {
            return Err(format!("unknown entry format `{}`", e.format));
        }
        if e.key != *key {
            return Err("the entry belongs to another action key".into());
        }
        for o in &e.outputs {
            if unhex(&o.sha256).is_none_or(|b| b.len() != 32) {
                return Err(format!("output `{}` has a malformed sha256", o.name));
            }
        }
        Ok(e)
    }

    pub(crate) fn result(&self) -> ActionResult {
        let mut r = ActionResult {
            warnings: self.warnings.clone(),
            ..ActionResult::default()
        };
        for o in &self.outputs {
            r.outputs.insert(o.name.clone(), o.blake3);
        }
        r
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2)
        || !s
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// The SHA-256 of `data` in lowercase hex: the remote CAS key.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex(&Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wayfinder_engine::KeyHasher;

    fn entry() -> Entry {
        let key: Digest<ActionKey> = KeyHasher::new("t").add("k").finish();
        Entry::new(
            key,
            vec![OutputRef {
                name: "manifest".into(),
                sha256: sha256_hex(b"x"),
                blake3: Digest::of(b"x"),
                size: 1,
            }],
            vec!["w".into()],
        )
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn json_round_trip_and_key_binding() {
        let e = entry();
        let back = Entry::from_json(&e.to_json(), &e.key).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.result().outputs["manifest"], Digest::of(b"x"));
        let other: Digest<ActionKey> = KeyHasher::new("t").add("other").finish();
        assert!(Entry::from_json(&e.to_json(), &other).is_err());
        assert!(Entry::from_json(b"{}", &e.key).is_err());
        assert!(Entry::from_json(b"\xff", &e.key).is_err());
    }

    #[test]
    fn signatures_cover_key_and_outputs() {
        let mut e = entry();
        assert_eq!(e.check_signature(Some(b"secret")), Signature::Unverified);
        e.sign(b"secret");
        assert_eq!(e.check_signature(Some(b"secret")), Signature::Valid);
        assert_eq!(e.check_signature(Some(b"other")), Signature::Bad);
        assert_eq!(e.check_signature(None), Signature::Unverified);
        let mut tampered = e.clone();
        tampered.outputs[0].size = 2;
        assert_eq!(tampered.check_signature(Some(b"secret")), Signature::Bad);
        let mut tampered = e.clone();
        tampered.key = KeyHasher::new("t").add("other").finish();
        assert_eq!(tampered.check_signature(Some(b"secret")), Signature::Bad);
        let mut garbled = e.clone();
        garbled.signature = Some("hmac-sha256:zz".into());
        assert_eq!(garbled.check_signature(Some(b"secret")), Signature::Bad);
    }
}
