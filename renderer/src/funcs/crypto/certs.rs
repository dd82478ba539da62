//! Certificates: `genCA`, `genSelfSignedCert`, `genSignedCert` (and `WithKey` twins),
//! `buildCustomCert`, and the `sprig.certificate` object they return.

use std::any::Any;
use std::collections::BTreeMap;
use std::rc::Rc;

use sha1::{Digest, Sha1};

use super::der::{bit_string, int_be, int_u64, oid, pem, pem_decode, read_tlv, seq, tlv};
use super::keys::Key;
use super::{args, b64_decode, random};
use crate::value::{Data, FuncCtx, FuncError, Object, Value};

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
    let (y, mo, d, h, mi, s) = crate::funcs::dates::civil_utc(secs);
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
    let (now, _) = crate::funcs::dates::now_unix();
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

/// The key in PEM at argument `pem_at` (the `…WithKey` variants), or a new 2048-bit RSA key.
fn given_or_new_key(a: &[Value], pem_at: Option<usize>) -> Result<Key, FuncError> {
    match pem_at {
        Some(i) => {
            let pem = args::string(a, i)?;
            Key::from_pem(&pem).map_err(|e| FuncError::new(format!("parsing private key: {e}")))
        }
        None => Key::generate_rsa(2048),
    }
}

pub(super) fn gen_ca(
    ctx: &FuncCtx,
    a: &[Value],
    name: &str,
    with_key: bool,
) -> Result<Value, FuncError> {
    args::want(name, a, if with_key { 3 } else { 2 })?;
    let cn = args::string(a, 0)?;
    let days = day_count(a, 1)?;
    ctx.mark_nondeterministic();
    let key = given_or_new_key(a, with_key.then_some(2))?;
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

pub(super) fn gen_self_signed(
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
    let key = given_or_new_key(a, with_key.then_some(4))?;
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

pub(super) fn gen_signed(
    ctx: &FuncCtx,
    a: &[Value],
    name: &str,
    with_key: bool,
) -> Result<Value, FuncError> {
    args::want(name, a, if with_key { 6 } else { 5 })?;
    let cn = args::string(a, 0)?;
    let ips = string_list(a, 1, "error parsing ip")?;
    let dns = string_list(a, 2, "error processing alternate dns name")?;
    let days = day_count(a, 3)?;
    let (ca_cert, ca_key) = cert_arg(a, 4)?;
    ctx.mark_nondeterministic();
    let key = given_or_new_key(a, with_key.then_some(5))?;
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

pub(super) fn build_custom_cert(_: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::{call, field, s, text};
    use super::*;

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

    /// 4096-bit prime search takes minutes without optimisations; `cargo test --release` runs it.
    #[test]
    #[cfg_attr(debug_assertions, ignore = "slow without optimisations")]
    fn rsa_4096_keys_are_valid() {
        use rsa::traits::PublicKeyParts;
        let pem = text(call("genPrivateKey", &[s("rsa")]));
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "{pem}"
        );
        openssl(&["rsa", "-check", "-noout"], &pem);
        let Key::Rsa(k) = Key::from_pem(&pem).unwrap() else {
            panic!("not rsa")
        };
        assert_eq!(k.n().bits(), 4096);
        assert_eq!(Key::Rsa(k).to_pem().unwrap(), pem);
    }

    #[test]
    fn rsa_keys_are_valid_and_sign() {
        use rsa::traits::PublicKeyParts;
        // 2048-bit keys (genCA & co.): exact size, e = 65537, and a signature that verifies.
        for _ in 0..2 {
            let key = Key::generate_rsa(2048).unwrap();
            let Key::Rsa(k) = &key else { panic!("not rsa") };
            assert_eq!(k.n().bits(), 2048);
            assert_eq!(k.e(), &rsa::BigUint::from(65537u32));
            k.validate().unwrap();
            let msg = b"to be signed";
            let sig = key.sign(msg).unwrap();
            // RFC 8017 9.2: the DER DigestInfo prefix for SHA-256, then the hash.
            let mut info = vec![
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ];
            info.extend_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(msg));
            k.to_public_key()
                .verify(rsa::Pkcs1v15Sign::new_unprefixed(), &info, &sig)
                .unwrap();
            openssl(&["rsa", "-check", "-noout"], &key.to_pem().unwrap());
        }
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
}
