//! Sprig's hashing, password and certificate functions.
//!
//! - Digests: `sha1sum`, `sha256sum`, `sha512sum`, `adler32sum`.
//! - Passwords: `bcrypt`, `htpasswd` (bcrypt, cost 10, `$2a$`), `derivePassword` (the
//!   Master Password algorithm: scrypt + HMAC-SHA256 + templates).
//! - `randBytes`, `encryptAES`/`decryptAES` (AES-256-CBC, PKCS#7 padding, random IV first,
//!   base64).
//! - Keys and certificates: `genPrivateKey` (rsa 4096, ecdsa P-256, ed25519),
//!   `buildCustomCert`, `genCA`, `genSelfSignedCert`, `genSignedCert` and their `WithKey`
//!   twins. Certificates are X.509 v3 with the fields Go's `x509.CreateCertificate` writes for
//!   Sprig's templates, DER-encoded by the small writer at the bottom of this file. They are
//!   returned as a `sprig.certificate` object with `.Cert` and `.Key` PEM strings.
//!
//! Everything that draws randomness marks the render nondeterministic.

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::args;
use super::random;
use crate::value::{Data, Func, FuncCtx, FuncError, Object, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("sha1sum", |_, a| digest::<Sha1>("sha1sum", a));
    m.insert("sha256sum", |_, a| digest::<Sha256>("sha256sum", a));
    m.insert("sha512sum", |_, a| digest::<Sha512>("sha512sum", a));
    m.insert("adler32sum", adler32sum);
    m.insert("bcrypt", bcrypt_fn);
    m.insert("htpasswd", htpasswd);
    m.insert("derivePassword", derive_password);
    m.insert("randBytes", rand_bytes);
    m.insert("encryptAES", encrypt_aes);
    m.insert("decryptAES", decrypt_aes);
    m.insert("genPrivateKey", gen_private_key);
    m.insert("buildCustomCert", build_custom_cert);
    m.insert("genCA", |c, a| gen_ca(c, a, "genCA", false));
    m.insert("genCAWithKey", |c, a| gen_ca(c, a, "genCAWithKey", true));
    m.insert("genSelfSignedCert", |c, a| {
        gen_self_signed(c, a, "genSelfSignedCert", false)
    });
    m.insert("genSelfSignedCertWithKey", |c, a| {
        gen_self_signed(c, a, "genSelfSignedCertWithKey", true)
    });
    m.insert("genSignedCert", |c, a| {
        gen_signed(c, a, "genSignedCert", false)
    });
    m.insert("genSignedCertWithKey", |c, a| {
        gen_signed(c, a, "genSignedCertWithKey", true)
    });
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn digest<D: Digest>(name: &str, a: &[Value]) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let s = args::string(a, 0)?;
    Ok(Value::string(hex(&D::digest(s.as_bytes()))))
}

fn adler32sum(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("adler32sum", a, 1)?;
    let s = args::string(a, 0)?;
    let (mut lo, mut hi) = (1u32, 0u32);
    for &b in s.as_bytes() {
        lo = (lo + b as u32) % 65521;
        hi = (hi + lo) % 65521;
    }
    Ok(Value::string(((hi << 16) | lo).to_string()))
}

// ---------------------------------------------------------------------------------------------
// Passwords

fn bcrypt_hash(password: &str) -> Result<String, FuncError> {
    if password.len() > 72 {
        return Ok(
            "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".into(),
        );
    }
    let mut salt = [0u8; 16];
    random::fill(&mut salt)?;
    let parts = bcrypt::hash_with_salt(password, 10, salt)
        .map_err(|e| FuncError::new(format!("bcrypt: {e}")))?;
    Ok(parts.format_for_version(bcrypt::Version::TwoA))
}

fn bcrypt_fn(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("bcrypt", a, 1)?;
    let s = args::string(a, 0)?;
    ctx.mark_nondeterministic();
    Ok(Value::string(bcrypt_hash(&s)?))
}

fn htpasswd(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("htpasswd", a, 2)?;
    let user = args::string(a, 0)?;
    let password = args::string(a, 1)?;
    if user.contains(':') {
        return Ok(Value::string(format!("invalid username: {user}")));
    }
    ctx.mark_nondeterministic();
    Ok(Value::string(format!("{user}:{}", bcrypt_hash(&password)?)))
}

/// Master Password's site templates, by password type.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// `derivePassword counter type password user site`.
fn derive_password(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("derivePassword", a, 5)?;
    let counter = match &a[0] {
        Value::Int(n) if (0..=u32::MAX as i64).contains(n) => *n as u32,
        Value::Nil => return Err(FuncError::new("invalid value; expected uint32")),
        v => {
            return Err(FuncError::new(format!(
                "wrong type for value; expected uint32; got {}",
                v.type_name()
            )))
        }
    };
    let kind = args::string(a, 1)?;
    let password = args::string(a, 2)?;
    let user = args::string(a, 3)?;
    let site = args::string(a, 4)?;
    let Some(templates) = password_templates(&kind) else {
        return Ok(Value::string(format!(
            "cannot find password template {kind}"
        )));
    };
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let params = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    scrypt::scrypt(password.as_bytes(), &salt, &params, &mut key)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
        .map_err(|e| FuncError::new(format!("failed to derive password: {e}")))?;
    mac.update(SEED);
    mac.update(&(site.len() as u32).to_be_bytes());
    mac.update(site.as_bytes());
    mac.update(&counter.to_be_bytes());
    let seed = mac.finalize().into_bytes();
    let template = templates[seed[0] as usize % templates.len()].as_bytes();
    let out: String = template
        .iter()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_chars(*class);
            chars[seed[i + 1] as usize % chars.len()] as char
        })
        .collect();
    Ok(Value::string(out))
}

// ---------------------------------------------------------------------------------------------
// Random bytes and AES

use super::encoding::{b64_encode, B64};

/// Go's `base64.StdEncoding.DecodeString`: strict padding, `\r` and `\n` skipped.
fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits, mut pad) = (0u32, 0u32, 0usize);
    let mut count = 0usize;
    for (i, c) in s.bytes().enumerate() {
        if c == b'\r' || c == b'\n' {
            continue;
        }
        let bad = || format!("illegal base64 data at input byte {i}");
        if c == b'=' {
            if count % 4 < 2 {
                return Err(bad());
            }
            pad += 1;
            count += 1;
            continue;
        }
        if pad > 0 {
            return Err(bad());
        }
        let v = B64.iter().position(|&x| x == c).ok_or_else(bad)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        count += 1;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if !count.is_multiple_of(4) {
        return Err(format!("illegal base64 data at input byte {}", s.len()));
    }
    Ok(out)
}

fn rand_bytes(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("randBytes", a, 1)?;
    let n = args::int(a, 0)?;
    ctx.mark_nondeterministic();
    if n < 0 {
        return Err(FuncError::new("runtime error: makeslice: len out of range"));
    }
    if n > 1 << 24 {
        return Err(FuncError::new(format!(
            "randBytes: {n} bytes is more than Wayfinder allows"
        )));
    }
    let mut buf = vec![0u8; n as usize];
    random::fill(&mut buf)?;
    Ok(Value::string(b64_encode(&buf)))
}

fn aes_key(password: &str) -> aes::Aes256 {
    use aes::cipher::KeyInit;
    let mut key = [0u8; 32];
    let p = password.as_bytes();
    let n = p.len().min(32);
    key[..n].copy_from_slice(&p[..n]);
    aes::Aes256::new(&key.into())
}

fn encrypt_aes(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::BlockEncrypt;
    args::want("encryptAES", a, 2)?;
    let password = args::string(a, 0)?;
    let plain = args::string(a, 1)?;
    if plain.is_empty() {
        return Ok(Value::str(""));
    }
    ctx.mark_nondeterministic();
    let cipher = aes_key(&password);
    let mut data = plain.as_bytes().to_vec();
    let pad = 16 - data.len() % 16;
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = vec![0u8; 16];
    random::fill(&mut out)?;
    let mut prev: [u8; 16] = out[..16].try_into().unwrap_or([0; 16]);
    for chunk in data.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut b = block.into();
        cipher.encrypt_block(&mut b);
        prev = b.into();
        out.extend_from_slice(&prev);
    }
    Ok(Value::string(b64_encode(&out)))
}

fn decrypt_aes(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    use aes::cipher::BlockDecrypt;
    args::want("decryptAES", a, 2)?;
    let password = args::string(a, 0)?;
    let text = args::string(a, 1)?;
    if text.is_empty() {
        return Ok(Value::str(""));
    }
    let data = b64_decode(&text).map_err(FuncError::new)?;
    let cipher = aes_key(&password);
    // The messages are the Go runtime panics Sprig's unchecked slicing produces.
    if data.len() < 16 {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        )));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err(FuncError::new("crypto/cipher: input not full blocks"));
    }
    let mut prev: [u8; 16] = iv.try_into().unwrap_or([0; 16]);
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let mut b = aes::Block::clone_from_slice(chunk);
        cipher.decrypt_block(&mut b);
        for i in 0..16 {
            plain.push(b[i] ^ prev[i]);
        }
        prev.copy_from_slice(chunk);
    }
    let Some(&last) = plain.last() else {
        return Err(FuncError::new("runtime error: index out of range [-1]"));
    };
    let keep = plain.len() as i64 - last as i64;
    if keep < 0 {
        return Err(FuncError::new(format!(
            "runtime error: slice bounds out of range [:{keep}]"
        )));
    }
    plain.truncate(keep as usize);
    Ok(Value::string(String::from_utf8_lossy(&plain).into_owned()))
}

// ---------------------------------------------------------------------------------------------
// Keys

/// A private key of one of the kinds Sprig generates or parses.
enum Key {
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
    fn generate_rsa(bits: usize) -> Result<Key, FuncError> {
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, bits)
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
    fn to_pem(&self) -> Result<String, FuncError> {
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
    fn public_bytes(&self) -> Vec<u8> {
        match self {
            Key::Rsa(k) => seq(&[&int_be(&k.n().to_bytes_be()), &int_be(&k.e().to_bytes_be())]),
            Key::Ec(k) => k.public_key().to_encoded_point(false).as_bytes().to_vec(),
            Key::Ed(k) => k.verifying_key().to_bytes().to_vec(),
        }
    }

    fn spki(&self) -> Vec<u8> {
        let alg = match self {
            Key::Rsa(_) => seq(&[&oid(OID_RSA), &[0x05, 0x00]]),
            Key::Ec(_) => seq(&[&oid(OID_EC_PUBLIC), &oid(OID_P256)]),
            Key::Ed(_) => seq(&[&oid(OID_ED25519)]),
        };
        seq(&[&alg, &bit_string(&self.public_bytes())])
    }

    fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            Key::Rsa(_) => seq(&[&oid(OID_SHA256_RSA), &[0x05, 0x00]]),
            Key::Ec(_) => seq(&[&oid(OID_ECDSA_SHA256)]),
            Key::Ed(_) => seq(&[&oid(OID_ED25519)]),
        }
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, FuncError> {
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
    fn from_pem(text: &str) -> Result<Key, String> {
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

fn gen_private_key(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
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

// ---------------------------------------------------------------------------------------------
// Certificates

/// Sprig's `certificate` struct.
#[derive(Debug)]
struct Certificate {
    cert: String,
    key: String,
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(&self.cert)),
            "Key" => Some(Value::str(&self.key)),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }
    fn to_data(&self) -> Data {
        let mut m = BTreeMap::new();
        m.insert("Cert".to_string(), Data::String(self.cert.clone()));
        m.insert("Key".to_string(), Data::String(self.key.clone()));
        Data::Map(m)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn cert_value(cert: String, key: String) -> Value {
    Value::Object(Rc::new(Certificate { cert, key }))
}

fn cert_arg(a: &[Value], i: usize) -> Result<(String, String), FuncError> {
    match &a[i] {
        Value::Object(o) => match o.as_any().downcast_ref::<Certificate>() {
            Some(c) => Ok((c.cert.clone(), c.key.clone())),
            None => Err(FuncError::new(format!(
                "wrong type for value; expected sprig.certificate; got {}",
                o.type_name()
            ))),
        },
        v => Err(FuncError::new(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            v.type_name()
        ))),
    }
}

/// A `[]interface{}` of strings (nil allowed), as Sprig's `getNetIPs`/`getAlternateDNSStrs`
/// read them.
fn string_list(a: &[Value], i: usize, what: &str) -> Result<Vec<String>, FuncError> {
    let items = match &a[i] {
        Value::Nil => return Ok(Vec::new()),
        Value::List(_) => args::list(a, i)?,
        v => {
            return Err(FuncError::new(format!(
                "wrong type for value; expected []interface {{}}; got {}",
                v.type_name()
            )))
        }
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) => Ok(s.to_string()),
            v => Err(FuncError::new(format!(
                "{what}: {} is not a string",
                crate::fmt::sprint_v(v)
            ))),
        })
        .collect()
}

fn parse_ips(list: &[String]) -> Result<Vec<Vec<u8>>, FuncError> {
    list.iter()
        .map(|s| match s.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(v4)) => Ok(v4.octets().to_vec()),
            Ok(std::net::IpAddr::V6(v6)) => Ok(match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets().to_vec(),
            }),
            Err(_) => Err(FuncError::new(format!("error parsing ip: {s}"))),
        })
        .collect()
}

/// What a new certificate says about itself.
struct Template {
    cn: String,
    ips: Vec<Vec<u8>>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

/// The parent a certificate is signed by: its subject Name (DER), public key info (DER) and
/// subject key identifier.
struct Parent<'a> {
    subject: Vec<u8>,
    spki: Vec<u8>,
    key_id: Option<Vec<u8>>,
    key: &'a Key,
}

fn name_der(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return seq(&[]);
    }
    let printable = cn
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    let value = tlv(if printable { 0x13 } else { 0x0c }, cn.as_bytes());
    seq(&[&tlv(0x31, &seq(&[&oid(&[2, 5, 4, 3]), &value]))])
}

fn time_der(secs: i64) -> Vec<u8> {
    let (y, mo, d, h, mi, s) = super::dates::civil_utc(secs);
    if (1950..2050).contains(&y) {
        let t = format!("{:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z", y % 100);
        tlv(0x17, t.as_bytes())
    } else {
        let t = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z");
        tlv(0x18, t.as_bytes())
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    if critical {
        seq(&[&oid(id), &[0x01, 0x01, 0xff], &tlv(0x04, value)])
    } else {
        seq(&[&oid(id), &tlv(0x04, value)])
    }
}

/// `x509.CreateCertificate` for Sprig's templates; returns the certificate PEM.
fn create_certificate(
    t: &Template,
    key: &Key,
    parent: Option<&Parent>,
) -> Result<String, FuncError> {
    if let Some(p) = parent {
        if p.spki != p.key.spki() {
            return Err(FuncError::new(
                "error creating certificate: x509: provided PrivateKey doesn't match parent's PublicKey",
            ));
        }
    }
    let mut serial = [0u8; 16];
    random::fill(&mut serial)?;
    let (now, _) = super::dates::now_unix();
    let not_after = now.saturating_add(t.days.saturating_mul(86_400));
    let subject = name_der(&t.cn);
    let issuer = parent.map_or_else(|| subject.clone(), |p| p.subject.clone());
    let signer = parent.map_or(key, |p| p.key);

    let mut usage: u8 = 0x80 | 0x20; // digitalSignature, keyEncipherment
    if t.is_ca {
        usage |= 0x04; // keyCertSign
    }
    let mut exts = vec![
        extension(
            &[2, 5, 29, 15],
            true,
            &tlv(0x03, &[usage.trailing_zeros() as u8, usage]),
        ),
        extension(
            &[2, 5, 29, 37],
            false,
            &seq(&[
                &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]),
                &oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]),
            ]),
        ),
        extension(
            &[2, 5, 29, 19],
            true,
            &if t.is_ca {
                seq(&[&[0x01, 0x01, 0xff]])
            } else {
                seq(&[])
            },
        ),
    ];
    if t.is_ca {
        let id = Sha1::digest(key.public_bytes());
        exts.push(extension(&[2, 5, 29, 14], false, &tlv(0x04, &id)));
    }
    if let Some(id) = parent.and_then(|p| p.key_id.as_ref()) {
        if issuer != subject {
            exts.push(extension(&[2, 5, 29, 35], false, &seq(&[&tlv(0x80, id)])));
        }
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names = Vec::new();
        for d in &t.dns {
            names.push(tlv(0x82, d.as_bytes()));
        }
        for ip in &t.ips {
            names.push(tlv(0x87, ip));
        }
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        exts.push(extension(&[2, 5, 29, 17], false, &seq(&refs)));
    }
    let ext_refs: Vec<&[u8]> = exts.iter().map(Vec::as_slice).collect();
    let sig_alg = signer.signature_algorithm();
    let tbs = seq(&[
        &tlv(0xa0, &int_u64(2)),
        &int_be(&serial),
        &sig_alg,
        &issuer,
        &seq(&[&time_der(now), &time_der(not_after)]),
        &subject,
        &key.spki(),
        &tlv(0xa3, &seq(&ext_refs)),
    ]);
    let sig = signer.sign(&tbs)?;
    Ok(pem(
        "CERTIFICATE",
        &seq(&[&tbs, &sig_alg, &bit_string(&sig)]),
    ))
}

/// A certificate's subject Name, public key info (both DER) and subject key identifier.
type CertInfo = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

/// Reads what signing needs from a parent certificate (`x509.ParseCertificate`, minimally).
fn parse_certificate(der: &[u8]) -> Option<CertInfo> {
    let (tag, cert, _) = read_tlv(der)?;
    if tag != 0x30 {
        return None;
    }
    let (tag, tbs, _) = read_tlv(cert)?;
    if tag != 0x30 {
        return None;
    }
    let mut fields = Vec::new();
    let mut rest = tbs;
    while let Some((tag, content, more)) = read_tlv(rest) {
        fields.push((tag, content, &rest[..rest.len() - more.len()]));
        rest = more;
    }
    // [0] version is optional; then serial, signature, issuer, validity, subject, spki.
    let skip = usize::from(fields.first()?.0 == 0xa0);
    let subject = fields.get(skip + 4)?.2.to_vec();
    let spki = fields.get(skip + 5)?.2.to_vec();
    let mut key_id = None;
    if let Some((_, exts, _)) = fields.iter().find(|f| f.0 == 0xa3) {
        let (_, mut list, _) = read_tlv(exts)?;
        while let Some((_, ext, more)) = read_tlv(list) {
            let (_, id, after) = read_tlv(ext)?;
            if tlv(0x06, id) == oid(&[2, 5, 29, 14]) {
                let mut after = after;
                while let Some((tag, content, more)) = read_tlv(after) {
                    if tag == 0x04 {
                        key_id = read_tlv(content).map(|(_, v, _)| v.to_vec());
                    }
                    after = more;
                }
            }
            list = more;
        }
    }
    Some((subject, spki, key_id))
}

fn day_count(a: &[Value], i: usize) -> Result<i64, FuncError> {
    args::int(a, i)
}

fn gen_ca(ctx: &FuncCtx, a: &[Value], name: &str, with_key: bool) -> Result<Value, FuncError> {
    args::want(name, a, if with_key { 3 } else { 2 })?;
    let cn = args::string(a, 0)?;
    let days = day_count(a, 1)?;
    ctx.mark_nondeterministic();
    let key = if with_key {
        let pem = args::string(a, 2)?;
        Key::from_pem(&pem).map_err(|e| FuncError::new(format!("parsing private key: {e}")))?
    } else {
        Key::generate_rsa(2048)?
    };
    let t = Template {
        cn: cn.to_string(),
        ips: vec![],
        dns: vec![],
        days,
        is_ca: true,
    };
    let cert = create_certificate(&t, &key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

fn gen_self_signed(
    ctx: &FuncCtx,
    a: &[Value],
    name: &str,
    with_key: bool,
) -> Result<Value, FuncError> {
    args::want(name, a, if with_key { 5 } else { 4 })?;
    let cn = args::string(a, 0)?;
    let ips = string_list(a, 1, "error parsing ip")?;
    let dns = string_list(a, 2, "error processing alternate dns name")?;
    let days = day_count(a, 3)?;
    ctx.mark_nondeterministic();
    let key = if with_key {
        let pem = args::string(a, 4)?;
        Key::from_pem(&pem).map_err(|e| FuncError::new(format!("parsing private key: {e}")))?
    } else {
        Key::generate_rsa(2048)?
    };
    let t = Template {
        cn: cn.to_string(),
        ips: parse_ips(&ips)?,
        dns,
        days,
        is_ca: false,
    };
    let cert = create_certificate(&t, &key, None)?;
    Ok(cert_value(cert, key.to_pem()?))
}

fn gen_signed(ctx: &FuncCtx, a: &[Value], name: &str, with_key: bool) -> Result<Value, FuncError> {
    args::want(name, a, if with_key { 6 } else { 5 })?;
    let cn = args::string(a, 0)?;
    let ips = string_list(a, 1, "error parsing ip")?;
    let dns = string_list(a, 2, "error processing alternate dns name")?;
    let days = day_count(a, 3)?;
    let (ca_cert, ca_key) = cert_arg(a, 4)?;
    ctx.mark_nondeterministic();
    let key = if with_key {
        let pem = args::string(a, 5)?;
        Key::from_pem(&pem).map_err(|e| FuncError::new(format!("parsing private key: {e}")))?
    } else {
        Key::generate_rsa(2048)?
    };
    let (_, der) =
        pem_decode(&ca_cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    let (subject, spki, key_id) = parse_certificate(&der).ok_or_else(|| {
        FuncError::new(
            "error parsing certificate: decodedSignerCert.Bytes: x509: malformed certificate",
        )
    })?;
    let signer = Key::from_pem(&ca_key)
        .map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    let t = Template {
        cn: cn.to_string(),
        ips: parse_ips(&ips)?,
        dns,
        days,
        is_ca: false,
    };
    let parent = Parent {
        subject,
        spki,
        key_id,
        key: &signer,
    };
    let cert = create_certificate(&t, &key, Some(&parent))?;
    Ok(cert_value(cert, key.to_pem()?))
}

fn build_custom_cert(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("buildCustomCert", a, 2)?;
    let cert_b64 = args::string(a, 0)?;
    let key_b64 = args::string(a, 1)?;
    let cert =
        b64_decode(&cert_b64).map_err(|_| FuncError::new("unable to decode base64 certificate"))?;
    let key =
        b64_decode(&key_b64).map_err(|_| FuncError::new("unable to decode base64 private key"))?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der) =
        pem_decode(&cert).ok_or_else(|| FuncError::new("unable to decode certificate"))?;
    if parse_certificate(&der).is_none() {
        return Err(FuncError::new(
            "error parsing certificate: decodedCert.Bytes: x509: malformed certificate",
        ));
    }
    Key::from_pem(&key).map_err(|e| FuncError::new(format!("error parsing private key: {e}")))?;
    Ok(cert_value(cert, key))
}

// ---------------------------------------------------------------------------------------------
// PEM and a minimal DER writer/reader

fn pem(kind: &str, der: &[u8]) -> String {
    let body = b64_encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// The first PEM block in `text`: its type and decoded contents (`pem.Decode`, without
/// headers support beyond skipping `Key: value` lines).
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let rest = &text[start + 11..];
    let (kind, rest) = rest.split_once("-----")?;
    let end_marker = format!("-----END {kind}-----");
    let end = rest.find(&end_marker)?;
    let body: String = rest[..end]
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.chars().filter(|c| !c.is_ascii_whitespace()))
        .collect();
    Some((kind.to_string(), b64_decode(&body).ok()?))
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = n.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
fn int_be(b: &[u8]) -> Vec<u8> {
    let skip = b.iter().take_while(|x| **x == 0).count();
    let mut v = b[skip..].to_vec();
    if v.first().is_none_or(|x| x & 0x80 != 0) {
        v.insert(0, 0);
    }
    tlv(0x02, &v)
}

fn int_u64(n: u64) -> Vec<u8> {
    int_be(&n.to_be_bytes())
}

fn bit_string(b: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(b);
    tlv(0x03, &v)
}

fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut push = |mut n: u64| {
        let mut tmp = vec![(n & 0x7f) as u8];
        n >>= 7;
        while n > 0 {
            tmp.push(0x80 | (n & 0x7f) as u8);
            n >>= 7;
        }
        tmp.reverse();
        body.extend_from_slice(&tmp);
    };
    push(arcs[0] * 40 + arcs[1]);
    for &a in &arcs[2..] {
        push(a);
    }
    tlv(0x06, &body)
}

/// One DER element: (tag, contents, the bytes after it).
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | *b as usize);
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::semver::tests::{oracle, oracle_available};

    fn call(name: &str, a: &[Value]) -> Result<Value, FuncError> {
        let mut m = HashMap::new();
        register(&mut m);
        m[name](&FuncCtx::default(), a)
    }

    fn text(v: Result<Value, FuncError>) -> String {
        v.unwrap().as_str().unwrap().to_string()
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn field(v: &Value, name: &str) -> String {
        let Value::Object(o) = v else {
            panic!("not an object")
        };
        o.field(name).unwrap().as_str().unwrap().to_string()
    }

    fn openssl(args: &[&str], input: &str) -> Option<String> {
        use std::io::Write;
        let mut child = std::process::Command::new("openssl")
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        child.stdin.take()?.write_all(input.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    #[test]
    fn digests() {
        // Known answers (FIPS 180 "abc", zlib's adler32 of "hello").
        assert_eq!(
            text(call("sha1sum", &[s("abc")])),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            text(call("sha256sum", &[s("abc")])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(text(call("adler32sum", &[s("hello")])), "103547413");
        assert_eq!(text(call("sha512sum", &[s("a")])).len(), 128);
    }

    #[test]
    fn base64_round_trip_and_errors() {
        for n in 0..20 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37) as u8).collect();
            assert_eq!(b64_decode(&b64_encode(&data)).unwrap(), data);
        }
        assert_eq!(b64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(
            b64_decode("aGVsbG8").unwrap_err(),
            "illegal base64 data at input byte 7"
        );
        assert_eq!(
            b64_decode("a$").unwrap_err(),
            "illegal base64 data at input byte 1"
        );
    }

    #[test]
    fn aes_round_trip() {
        let enc = text(call("encryptAES", &[s("secretkey"), s("plaintext")]));
        assert_eq!(
            text(call("decryptAES", &[s("secretkey"), s(&enc)])),
            "plaintext"
        );
        assert_eq!(text(call("encryptAES", &[s("k"), s("")])), "");
        let e = call("decryptAES", &[s("k"), s("AAAA")]).unwrap_err();
        assert_eq!(
            e.message,
            "runtime error: slice bounds out of range [:16] with capacity 3"
        );
    }

    #[test]
    fn htpasswd_rejects_colons() {
        assert_eq!(
            text(call("htpasswd", &[s("a:b"), s("c")])),
            "invalid username: a:b"
        );
        let h = text(call("htpasswd", &[s("user"), s("pw")]));
        assert!(h.starts_with("user:$2a$10$") && h.len() == 5 + 60, "{h}");
    }

    #[test]
    fn keys_are_valid() {
        for (kind, check) in [
            ("ecdsa", &["ec", "-check", "-noout"][..]),
            ("ed25519", &["pkey", "-noout"][..]),
        ] {
            let pem = text(call("genPrivateKey", &[s(kind)]));
            let back = Key::from_pem(&pem).unwrap();
            assert_eq!(back.to_pem().unwrap(), pem);
            openssl(check, &pem);
        }
        assert_eq!(text(call("genPrivateKey", &[s("foo")])), "Unknown type foo");
    }

    #[test]
    fn certificates_parse_with_openssl() {
        let ca = call("genCA", &[s("my-ca"), Value::Int(365)]).unwrap();
        let ca_cert = field(&ca, "Cert");
        let text_out = openssl(&["x509", "-noout", "-text"], &ca_cert).unwrap_or_default();
        assert!(
            text_out.contains("CA:TRUE") && text_out.contains("Subject: CN = my-ca"),
            "{text_out}"
        );
        openssl(&["rsa", "-check", "-noout"], &field(&ca, "Key"));
        let ips = Value::list(vec![s("10.0.0.1"), s("::1")]);
        let dns = Value::list(vec![s("a.example"), s("b")]);
        let leaf = call(
            "genSignedCert",
            &[s("svc"), ips, dns, Value::Int(30), ca.clone()],
        )
        .unwrap();
        let leaf_cert = field(&leaf, "Cert");
        let out = openssl(&["x509", "-noout", "-text"], &leaf_cert).unwrap_or_default();
        assert!(
            out.contains("DNS:a.example, DNS:b, IP Address:10.0.0.1"),
            "{out}"
        );
        assert!(
            out.contains("Issuer: CN = my-ca") && out.contains("Authority Key Identifier"),
            "{out}"
        );
        let dir = std::env::temp_dir().join(format!("sprig2-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.pem"), &ca_cert).unwrap();
        let ca_path = dir.join("ca.pem");
        let verify = openssl(
            &["verify", "-CAfile", ca_path.to_str().unwrap()],
            &leaf_cert,
        );
        let _ = std::fs::remove_dir_all(&dir);
        assert!(verify.unwrap_or_default().contains("OK"));
        // An EC key can sign for a CA too.
        let ec = text(call("genPrivateKey", &[s("ecdsa")]));
        let ec_ca = call("genCAWithKey", &[s("ec-ca"), Value::Int(1), s(&ec)]).unwrap();
        assert_eq!(field(&ec_ca, "Key"), ec);
        let ed = text(call("genPrivateKey", &[s("ed25519")]));
        let leaf = call(
            "genSignedCertWithKey",
            &[s("x"), Value::Nil, Value::Nil, Value::Int(1), ec_ca, s(&ed)],
        )
        .unwrap();
        openssl(&["x509", "-noout", "-text"], &field(&leaf, "Cert"));
        let e = call(
            "genSignedCert",
            &[
                s("x"),
                Value::Nil,
                Value::Nil,
                Value::Int(1),
                Value::empty_map(),
            ],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "wrong type for value; expected sprig.certificate; got map[string]interface {}"
        );
        let e = call(
            "genSelfSignedCert",
            &[
                s("x"),
                Value::list(vec![s("1.2.3")]),
                Value::Nil,
                Value::Int(1),
            ],
        )
        .unwrap_err();
        assert_eq!(e.message, "error parsing ip: 1.2.3");
    }

    #[test]
    fn matches_helm() {
        if !oracle_available() {
            eprintln!("skipped: helm oracle (python3 helm_python) not available");
            return;
        }
        // Deterministic functions: same output as Helm.
        let probes: Vec<(&str, Vec<Value>, String)> = vec![
            (
                "derivePassword",
                vec![
                    Value::Int(1),
                    s("long"),
                    s("password"),
                    s("user"),
                    s("example.com"),
                ],
                "derivePassword 1 \"long\" \"password\" \"user\" \"example.com\"".into(),
            ),
            (
                "derivePassword",
                vec![Value::Int(7), s("maximum"), s("pw"), s("ü"), s("s")],
                "derivePassword 7 \"maximum\" \"pw\" \"ü\" \"s\"".into(),
            ),
            (
                "derivePassword",
                vec![Value::Int(3), s("basic"), s(""), s(""), s("")],
                "derivePassword 3 \"basic\" \"\" \"\" \"\"".into(),
            ),
            (
                "derivePassword",
                vec![Value::Int(1), s("nope"), s("a"), s("b"), s("c")],
                "derivePassword 1 \"nope\" \"a\" \"b\" \"c\"".into(),
            ),
            ("sha512sum", vec![s("héllo")], "sha512sum \"héllo\"".into()),
            (
                "adler32sum",
                vec![s(&"x".repeat(6000))],
                format!("adler32sum \"{}\"", "x".repeat(6000)),
            ),
        ];
        let tpl: String = probes
            .iter()
            .map(|p| format!("{{{{ {} }}}}\n", p.2))
            .collect();
        let mine: String = probes
            .iter()
            .map(|p| text(call(p.0, &p.1)) + "\n")
            .collect();
        assert_eq!(oracle("crypto-det", &tpl).unwrap(), mine);

        // Helm's random outputs verified by our code, and ours by Helm.
        let enc = text(call("encryptAES", &[s("pw"), s("round trip ✓")]));
        let tpl = format!(
            "{{{{ decryptAES \"pw\" \"{enc}\" }}}}\n{{{{ encryptAES \"pw\" \"from helm\" }}}}\n{{{{ bcrypt \"secret\" }}}}\n{{{{ $ca := genCA \"helm-ca\" 3 }}}}{{{{ $ca.Cert | b64enc }}}}\n{{{{ $ca.Key | b64enc }}}}\n"
        );
        let out = oracle("crypto-rand", &tpl).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "round trip ✓");
        assert_eq!(
            text(call("decryptAES", &[s("pw"), s(lines[1])])),
            "from helm"
        );
        let hash = lines[2];
        let salt = crate::funcs::crypto::tests::bcrypt_salt(hash);
        let again = bcrypt::hash_with_salt("secret", 10, salt)
            .unwrap()
            .format_for_version(bcrypt::Version::TwoA);
        assert_eq!(again, hash);
        // Helm's CA signs with our code; our certificate and key go back into Helm.
        let ca = call("buildCustomCert", &[s(lines[3]), s(lines[4])]).unwrap();
        let leaf = call(
            "genSignedCert",
            &[
                s("leaf"),
                Value::Nil,
                Value::list(vec![s("x.y")]),
                Value::Int(2),
                ca,
            ],
        )
        .unwrap();
        let (c64, k64) = (
            b64_encode(field(&leaf, "Cert").as_bytes()),
            b64_encode(field(&leaf, "Key").as_bytes()),
        );
        let mine_ca = call("genCA", &[s("our-ca"), Value::Int(3)]).unwrap();
        let (mc, mk) = (
            b64_encode(field(&mine_ca, "Cert").as_bytes()),
            b64_encode(field(&mine_ca, "Key").as_bytes()),
        );
        let ec = text(call("genPrivateKey", &[s("ecdsa")]));
        let ed = text(call("genPrivateKey", &[s("ed25519")]));
        let tpl = format!(
            "{{{{ $l := buildCustomCert \"{c64}\" \"{k64}\" }}}}{{{{ $l.Key | len }}}}\n\
             {{{{ $c := genSignedCert \"z\" nil nil 1 (buildCustomCert \"{mc}\" \"{mk}\") }}}}{{{{ $c.Cert | len }}}}\n\
             {{{{ (genCAWithKey \"e\" 1 \"{}\").Key | sha256sum }}}}\n\
             {{{{ (genSelfSignedCertWithKey \"e\" nil nil 1 \"{}\").Key | sha256sum }}}}\n",
            ec.replace('\n', "\\n"),
            ed.replace('\n', "\\n"),
        );
        let out = oracle("crypto-back", &tpl).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], field(&leaf, "Key").len().to_string());
        assert_eq!(lines[2], hex(&Sha256::digest(ec.as_bytes())));
        assert_eq!(lines[3], hex(&Sha256::digest(ed.as_bytes())));
    }

    /// The 16 salt bytes of a `$2a$10$…` hash (bcrypt's own base64 alphabet).
    pub(super) fn bcrypt_salt(hash: &str) -> [u8; 16] {
        const ALPHA: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let enc = &hash.as_bytes()[7..29];
        let mut bits = 0u32;
        let mut acc = 0u32;
        let mut out = Vec::new();
        for c in enc {
            acc = acc << 6 | ALPHA.iter().position(|a| a == c).unwrap() as u32;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        out[..16].try_into().unwrap()
    }
}
