//! `b64enc`, `b64dec`, `b32enc`, `b32dec`: Go's standard (padded) base64 and base32.
//!
//! Decoding failures do not fail the template: Sprig returns the error text instead, such as
//! `illegal base64 data at input byte 4`. Decoders skip `\r` and `\n` as Go's do.

use std::collections::HashMap;

use super::args;
use crate::value::{Func, FuncError, Value};

pub(super) const B64: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("b64enc", |_, a| {
        one("b64enc", a, |s| b64_encode(s.as_bytes()))
    });
    m.insert("b64dec", |_, a| {
        one("b64dec", a, |s| match b64_decode(s.as_bytes()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(at) => format!("illegal base64 data at input byte {at}"),
        })
    });
    m.insert("b32enc", |_, a| {
        one("b32enc", a, |s| b32_encode(s.as_bytes()))
    });
    m.insert("b32dec", |_, a| {
        one("b32dec", a, |s| match b32_decode(s.as_bytes()) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(at) => format!("illegal base32 data at input byte {at}"),
        })
    });
}

fn one(name: &str, a: &[Value], f: impl Fn(&str) -> String) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let s = args::string(a, 0)?;
    Ok(Value::string(f(&s)))
}

/// Go's `base64.StdEncoding.EncodeToString`; the one encoder the renderer uses.
pub(crate) fn b64_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
    for chunk in b.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= n {
                out.push(char::from(B64[((v >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn b64_value(c: u8) -> Option<u32> {
    B64.iter().position(|x| *x == c).map(|p| p as u32)
}

fn is_newline(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Go's `base64.StdEncoding.DecodeString`; the error is the offending input offset.
pub(super) fn b64_decode(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    loop {
        let mut quad = [0u32; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing: Option<usize> = None;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(out);
                }
                // Padding is required.
                return Err(si - j);
            }
            let c = src[si];
            si += 1;
            if let Some(v) = b64_value(c) {
                quad[j] = v;
                j += 1;
                continue;
            }
            if is_newline(c) {
                continue;
            }
            if c != b'=' {
                return Err(si - 1);
            }
            // Padding: only after two or three data characters.
            match j {
                0 | 1 => return Err(si - 1),
                2 => {
                    while si < src.len() && is_newline(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Err(src.len());
                    }
                    if src[si] != b'=' {
                        return Err(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            if si < src.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let v = (quad[0] << 18) | (quad[1] << 12) | (quad[2] << 6) | quad[3];
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        out.extend_from_slice(&bytes[..len - 1]);
        if let Some(at) = trailing {
            return Err(at);
        }
        if len < 4 {
            return Ok(out);
        }
    }
}

pub(super) fn b32_encode(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(5) * 8);
    for chunk in b.chunks(5) {
        let mut v: u64 = 0;
        for i in 0..5 {
            v = (v << 8) | u64::from(*chunk.get(i).unwrap_or(&0));
        }
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                out.push(char::from(B32[((v >> (35 - 5 * i)) & 31) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString` (newlines are dropped first; offsets count the
/// input without them).
pub(super) fn b32_decode(input: &[u8]) -> Result<Vec<u8>, usize> {
    let src: Vec<u8> = input.iter().copied().filter(|c| !is_newline(*c)).collect();
    let olen = src.len();
    let mut out = Vec::with_capacity(olen / 8 * 5);
    let mut rest: &[u8] = &src;
    let mut end = false;
    while !rest.is_empty() && !end {
        let mut buf = [0u64; 8];
        let mut dlen = 8;
        let mut j = 0;
        while j < 8 {
            if rest.is_empty() {
                return Err(olen - j);
            }
            let c = rest[0];
            rest = &rest[1..];
            if c == b'=' && j >= 2 && rest.len() < 8 {
                if rest.len() + j < 7 {
                    return Err(olen);
                }
                for k in 0..(7 - j) {
                    if rest.len() > k && rest[k] != b'=' {
                        return Err(olen - rest.len() + k - 1);
                    }
                }
                dlen = j;
                end = true;
                if matches!(dlen, 1 | 3 | 6) {
                    return Err(olen - rest.len() - 1);
                }
                break;
            }
            match B32.iter().position(|x| *x == c) {
                Some(p) => buf[j] = p as u64,
                None => return Err(olen - rest.len() - 1),
            }
            j += 1;
        }
        let v = buf.iter().fold(0u64, |acc, x| (acc << 5) | x);
        let bytes = [
            (v >> 32) as u8,
            (v >> 24) as u8,
            (v >> 16) as u8,
            (v >> 8) as u8,
            v as u8,
        ];
        let n = match dlen {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend_from_slice(&bytes[..n]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(b64_encode(b""), "");
        assert_eq!(b64_encode(b"f"), "Zg==");
        assert_eq!(b64_encode(b"fo"), "Zm8=");
        assert_eq!(b64_encode(b"foo"), "Zm9v");
        assert_eq!(b64_encode(b"hello world"), "aGVsbG8gd29ybGQ=");
        assert_eq!(b64_decode(b"aGVsbG8gd29ybGQ=").unwrap(), b"hello world");
        assert_eq!(b64_decode(b"aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(b64_decode(b"Zg==").unwrap(), b"f");
    }

    #[test]
    fn base64_errors_name_the_byte() {
        assert_eq!(b64_decode(b"Zg"), Err(0));
        assert_eq!(b64_decode(b"Zm9v!"), Err(4));
        assert_eq!(b64_decode(b"Zg=a"), Err(2));
        assert_eq!(b64_decode(b"Zg==Zg=="), Err(4));
        assert_eq!(b64_decode(b"Z==="), Err(1));
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(b32_encode(b"f"), "MY======");
        assert_eq!(b32_encode(b"foobar"), "MZXW6YTBOI======");
        assert_eq!(b32_decode(b"MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(b32_decode(b"MY======").unwrap(), b"f");
        assert_eq!(b32_decode(b"MY"), Err(0));
        assert_eq!(b32_decode(b"M1======"), Err(1));
    }

    #[test]
    fn against_helm() {
        let s = Value::str;
        let mut cases: Vec<(&str, Vec<Value>)> = Vec::new();
        for x in [
            "",
            "f",
            "fo",
            "foo",
            "foob",
            "fooba",
            "foobar",
            "héllo\n\u{1}",
        ] {
            cases.push(("b64enc", vec![s(x)]));
            cases.push(("b32enc", vec![s(x)]));
        }
        for x in [
            "",
            "Zg==",
            "Zg=",
            "Zg",
            "Z",
            "Zm9v",
            "Zm9vYg==",
            "Zm9v\nYg==",
            "Zm9v\r\nYg=\n=",
            "Zg==\n",
            "Zg==Zg==",
            "Zm9v!",
            "Z===",
            "Zg=a",
            "=",
            "Zh==",
            "aGVsbG8gd29ybGQ=",
            "a GVs",
        ] {
            cases.push(("b64dec", vec![s(x)]));
        }
        for x in [
            "",
            "MY======",
            "MY=====",
            "MY",
            "MZXW6===",
            "MZXW6YTBOI======",
            "MZXW6YQ=",
            "MZXW\n6===",
            "M1======",
            "MY======MY======",
            "MZXW6YTB",
            "MZX=====",
            "MZXW6Y==",
            "my======",
            "M=======",
        ] {
            cases.push(("b32dec", vec![s(x)]));
        }
        super::super::reflect::oracle::check(&cases);
    }
}
