//! Private keys: generation (`genPrivateKey` and the RSA keys of `genCA` & co.), Sprig's
//! `pemBlockForKey` output, `parsePrivateKeyPEM`, and signing for certificates.

use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

use super::der::{bit_string, int_be, int_u64, oid, pem, pem_decode, read_tlv, seq, tlv};
use super::{args, prime, random};
use crate::value::{FuncCtx, FuncError, Value};

/// A private key of one of the kinds Sprig generates or parses.
pub(super) enum Key {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ec(p256::SecretKey),
    Ed(ed25519_dalek::SigningKey),
}

const OID_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const OID_SHA256_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const OID_EC_PUBLIC: &[u64] = &[1, 2, 840, 10045, 2, 1];
const OID_P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const OID_ECDSA_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const OID_ED25519: &[u64] = &[1, 3, 101, 112];

fn key_err(e: impl std::fmt::Display) -> FuncError {
    FuncError::new(format!("failed to generate private key: {e}"))
}

impl Key {
    /// A fresh RSA key of 2048 or 4096 bits (the sizes Sprig asks for), e = 65537 and
    /// d = e⁻¹ mod λ(n) as Go computes it.
    pub(super) fn generate_rsa(bits: usize) -> Result<Key, FuncError> {
        let (p, q) = match bits {
            2048 => prime::rsa_primes::<16>()?,
            4096 => prime::rsa_primes::<32>()?,
            _ => {
                return Err(FuncError::new(format!(
                    "error generating rsa key: unsupported size {bits}"
                )))
            }
        };
        let k = rsa::RsaPrivateKey::from_p_q(
            rsa::BigUint::from_bytes_be(&p),
            rsa::BigUint::from_bytes_be(&q),
            rsa::BigUint::from(prime::E),
        )
        .map_err(|e| FuncError::new(format!("error generating rsa key: {e}")))?;
        Ok(Key::Rsa(Box::new(k)))
    }

    fn generate_ec() -> Result<Key, FuncError> {
        Ok(Key::Ec(p256::SecretKey::random(&mut rand_core::OsRng)))
    }

    fn generate_ed() -> Result<Key, FuncError> {
        let mut seed = [0u8; 32];
        random::fill(&mut seed)?;
        Ok(Key::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)))
    }

    /// The key as Sprig's `pemBlockForKey` writes it.
    pub(super) fn to_pem(&self) -> Result<String, FuncError> {
        Ok(match self {
            Key::Rsa(k) => {
                let doc = k.to_pkcs1_der().map_err(key_err)?;
                pem("RSA PRIVATE KEY", doc.as_bytes())
            }
            Key::Ec(k) => {
                let point = k.public_key().to_encoded_point(false);
                let der = seq(&[
                    &int_u64(1),
                    &tlv(0x04, &k.to_bytes()),
                    &tlv(0xa0, &oid(OID_P256)),
                    &tlv(0xa1, &bit_string(point.as_bytes())),
                ]);
                pem("EC PRIVATE KEY", &der)
            }
            Key::Ed(k) => {
                let der = seq(&[
                    &int_u64(0),
                    &seq(&[&oid(OID_ED25519)]),
                    &tlv(0x04, &tlv(0x04, &k.to_bytes())),
                ]);
                pem("PRIVATE KEY", &der)
            }
        })
    }

    /// The public key as X.509 stores it (the BIT STRING contents); its SHA-1 is the
    /// subject key identifier.
    pub(super) fn public_bytes(&self) -> Vec<u8> {
        match self {
            Key::Rsa(k) => seq(&[&int_be(&k.n().to_bytes_be()), &int_be(&k.e().to_bytes_be())]),
            Key::Ec(k) => k.public_key().to_encoded_point(false).as_bytes().to_vec(),
            Key::Ed(k) => k.verifying_key().to_bytes().to_vec(),
        }
    }

    pub(super) fn spki(&self) -> Vec<u8> {
        let alg = match self {
            Key::Rsa(_) => seq(&[&oid(OID_RSA), &[0x05, 0x00]]),
            Key::Ec(_) => seq(&[&oid(OID_EC_PUBLIC), &oid(OID_P256)]),
            Key::Ed(_) => seq(&[&oid(OID_ED25519)]),
        };
        seq(&[&alg, &bit_string(&self.public_bytes())])
    }

    pub(super) fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            Key::Rsa(_) => seq(&[&oid(OID_SHA256_RSA), &[0x05, 0x00]]),
            Key::Ec(_) => seq(&[&oid(OID_ECDSA_SHA256)]),
            Key::Ed(_) => seq(&[&oid(OID_ED25519)]),
        }
    }

    pub(super) fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, FuncError> {
        let fail =
            |e: &dyn std::fmt::Display| FuncError::new(format!("error creating certificate: {e}"));
        match self {
            Key::Rsa(k) => {
                // DigestInfo for SHA-256, then PKCS#1 v1.5 padding.
                let info = seq(&[
                    &seq(&[&oid(&[2, 16, 840, 1, 101, 3, 4, 2, 1]), &[5, 0]]),
                    &tlv(0x04, &Sha256::digest(msg)),
                ]);
                k.sign(rsa::Pkcs1v15Sign::new_unprefixed(), &info)
                    .map_err(|e| fail(&e))
            }
            Key::Ec(k) => {
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer.sign(msg);
                let (r, s) = sig.split_bytes();
                Ok(seq(&[&int_be(&r), &int_be(&s)]))
            }
            Key::Ed(k) => {
                use ed25519_dalek::Signer as _;
                Ok(k.sign(msg).to_bytes().to_vec())
            }
        }
    }

    /// Sprig's `parsePrivateKeyPEM`.
    pub(super) fn from_pem(text: &str) -> Result<Key, String> {
        let (kind, der) = pem_decode(text).ok_or("no PEM data in input")?;
        match kind.as_str() {
            "PRIVATE KEY" => parse_pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}")),
            "RSA PRIVATE KEY" => {
                parse_pkcs1(&der).map_err(|e| format!("parsing RSA private key from PEM: {e}"))
            }
            "EC PRIVATE KEY" => {
                parse_sec1(&der).map_err(|e| format!("parsing EC private key from PEM: {e}"))
            }
            "DSA PRIVATE KEY" => Err(
                "parsing DSA private key from PEM: DSA keys are not supported by Wayfinder".into(),
            ),
            k if k.ends_with(" PRIVATE KEY") => Err(format!("invalid private key type {k}")),
            k => Err(format!("no private key data in PEM block of type {k}")),
        }
    }
}

fn parse_pkcs1(der: &[u8]) -> Result<Key, String> {
    rsa::RsaPrivateKey::from_pkcs1_der(der)
        .map(|k| Key::Rsa(Box::new(k)))
        .map_err(|_| "x509: failed to parse private key".to_string())
}

fn parse_sec1(der: &[u8]) -> Result<Key, String> {
    let malformed = || "x509: failed to parse EC private key".to_string();
    let (_, body, _) = read_tlv(der)
        .filter(|t| t.0 == 0x30)
        .ok_or_else(malformed)?;
    let (_, _version, rest) = read_tlv(body).ok_or_else(malformed)?;
    let (tag, private, mut rest) = read_tlv(rest).ok_or_else(malformed)?;
    if tag != 0x04 {
        return Err(malformed());
    }
    while let Some((tag, content, more)) = read_tlv(rest) {
        if tag == 0xa0 && content != oid(OID_P256).as_slice() {
            return Err("x509: unknown elliptic curve (Wayfinder supports P-256 only)".into());
        }
        rest = more;
    }
    p256::SecretKey::from_slice(private)
        .map(Key::Ec)
        .map_err(|_| "x509: invalid elliptic curve private key value".to_string())
}

fn parse_pkcs8(der: &[u8]) -> Result<Key, String> {
    let malformed = || "x509: failed to parse private key".to_string();
    let (_, body, _) = read_tlv(der)
        .filter(|t| t.0 == 0x30)
        .ok_or_else(malformed)?;
    let (_, _version, rest) = read_tlv(body).ok_or_else(malformed)?;
    let (_, alg, rest) = read_tlv(rest).ok_or_else(malformed)?;
    let (_, private, _) = read_tlv(rest).ok_or_else(malformed)?;
    let (_, alg_oid, _) = read_tlv(alg).ok_or_else(malformed)?;
    let is = |o: &[u64]| tlv(0x06, alg_oid) == oid(o);
    if is(OID_RSA) {
        parse_pkcs1(private)
    } else if is(OID_EC_PUBLIC) {
        parse_sec1(private)
    } else if is(OID_ED25519) {
        let (_, seed, _) = read_tlv(private).ok_or_else(malformed)?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| "x509: invalid Ed25519 private key".to_string())?;
        Ok(Key::Ed(ed25519_dalek::SigningKey::from_bytes(&seed)))
    } else {
        Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".into())
    }
}

pub(super) fn gen_private_key(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("genPrivateKey", a, 1)?;
    let kind = args::string(a, 0)?;
    let key = match &*kind {
        "" | "rsa" => Key::generate_rsa(4096)?,
        "ecdsa" => Key::generate_ec()?,
        "ed25519" => Key::generate_ed()?,
        "dsa" => {
            return Err(FuncError::new(
                "genPrivateKey: dsa keys are not supported by Wayfinder",
            ))
        }
        other => return Ok(Value::string(format!("Unknown type {other}"))),
    };
    ctx.mark_nondeterministic();
    Ok(Value::string(key.to_pem()?))
}
