//! Sprig's hashing, password and certificate functions.
//!
//! - Digests: `sha1sum`, `sha256sum`, `sha512sum`, `adler32sum`.
//! - Passwords: `bcrypt`, `htpasswd` (bcrypt, cost 10, `$2a$`), `derivePassword` (the
//!   Master Password algorithm: scrypt + HMAC-SHA256 + templates).
//! - `randBytes`, `encryptAES`/`decryptAES` (AES-256-CBC, PKCS#7 padding, random IV first,
//!   base64).
//! - Keys and certificates (`keys.rs`, `certs.rs`): `genPrivateKey` (rsa 4096, ecdsa P-256,
//!   ed25519), `buildCustomCert`, `genCA`, `genSelfSignedCert`, `genSignedCert` and their
//!   `WithKey` twins. Certificates are X.509 v3 with the fields Go's `x509.CreateCertificate`
//!   writes for Sprig's templates, DER-encoded by the small writer in `der.rs`. They are
//!   returned as a `sprig.certificate` object with `.Cert` and `.Key` PEM strings. RSA primes
//!   come from `prime.rs` (sieve + Miller-Rabin over Montgomery arithmetic), which is several
//!   times faster than the `rsa` crate's own generator.
//!
//! Everything that draws randomness marks the render nondeterministic.

mod certs;
mod der;
mod keys;
mod prime;

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::args;
use super::random;
use crate::value::{Func, FuncCtx, FuncError, Value};
use certs::{build_custom_cert, gen_ca, gen_self_signed, gen_signed};
use keys::gen_private_key;

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

pub(super) use super::encoding::b64_encode;
use super::encoding::B64;

/// Go's `base64.StdEncoding.DecodeString`: strict padding, `\r` and `\n` skipped.
pub(super) fn b64_decode(s: &str) -> Result<Vec<u8>, String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funcs::semver::tests::{oracle, oracle_available};

    pub(super) fn call(name: &str, a: &[Value]) -> Result<Value, FuncError> {
        let mut m = HashMap::new();
        register(&mut m);
        m[name](&FuncCtx::default(), a)
    }

    pub(super) fn text(v: Result<Value, FuncError>) -> String {
        v.unwrap().as_str().unwrap().to_string()
    }

    pub(super) fn s(x: &str) -> Value {
        Value::str(x)
    }

    pub(super) fn field(v: &Value, name: &str) -> String {
        let Value::Object(o) = v else {
            panic!("not an object")
        };
        o.field(name).unwrap().as_str().unwrap().to_string()
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
