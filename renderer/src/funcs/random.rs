//! Sprig's random functions: `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`,
//! `randInt`, `shuffle`, `uuidv4`. All draw from the operating system's CSPRNG and mark the
//! render nondeterministic. Also the shared randomness helpers `crypto` uses.

use std::collections::HashMap;

use super::args;
use crate::value::{Func, FuncCtx, FuncError, Value};

pub(super) fn register(m: &mut HashMap<&'static str, Func>) {
    m.insert("randAlphaNum", rand_alpha_num);
    m.insert("randAlpha", rand_alpha);
    m.insert("randNumeric", rand_numeric);
    m.insert("randAscii", rand_ascii);
    m.insert("randInt", rand_int);
    m.insert("shuffle", shuffle);
    m.insert("uuidv4", uuidv4);
}

/// The longest random string we produce; Go would try to allocate anything, we refuse.
const MAX_LEN: i64 = 1 << 24;

/// Fills `buf` with random bytes from the operating system.
pub(super) fn fill(buf: &mut [u8]) -> Result<(), FuncError> {
    getrandom::getrandom(buf).map_err(|e| FuncError::new(format!("reading random bytes: {e}")))
}

/// A uniform random number in `0..n` (`n > 0`), without modulo bias.
pub(super) fn below(n: u64) -> Result<u64, FuncError> {
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let mut b = [0u8; 8];
        fill(&mut b)?;
        let x = u64::from_le_bytes(b);
        if x < zone {
            return Ok(x % n);
        }
    }
}

fn random_from(name: &str, a: &[Value], ctx: &FuncCtx, chars: &[u8]) -> Result<Value, FuncError> {
    args::want(name, a, 1)?;
    let n = args::int(a, 0)?;
    ctx.mark_nondeterministic();
    // goutils returns an error for a negative count, which Sprig drops: the result is "".
    if n <= 0 {
        return Ok(Value::str(""));
    }
    if n > MAX_LEN {
        return Err(FuncError::new(format!(
            "{name}: a length of {n} is more than Wayfinder allows ({MAX_LEN})"
        )));
    }
    let mut s = String::with_capacity(n as usize);
    for _ in 0..n {
        s.push(chars[below(chars.len() as u64)? as usize] as char);
    }
    Ok(Value::string(s))
}

const DIGITS: &[u8] = b"0123456789";
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn rand_alpha_num(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    random_from("randAlphaNum", a, ctx, ALNUM)
}

fn rand_alpha(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    random_from("randAlpha", a, ctx, LETTERS)
}

fn rand_numeric(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    random_from("randNumeric", a, ctx, DIGITS)
}

fn rand_ascii(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    // Printable ASCII: space through tilde.
    let printable: Vec<u8> = (32u8..=126).collect();
    random_from("randAscii", a, ctx, &printable)
}

/// `randInt min max`: a number in `min..max`; Go panics when `max <= min`.
fn rand_int(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("randInt", a, 2)?;
    let lo = args::int(a, 0)?;
    let hi = args::int(a, 1)?;
    ctx.mark_nondeterministic();
    let span = hi.wrapping_sub(lo);
    if span <= 0 {
        return Err(FuncError::new("invalid argument to Intn"));
    }
    Ok(Value::Int(lo + below(span as u64)? as i64))
}

/// `shuffle`: the characters of a string in random order.
fn shuffle(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("shuffle", a, 1)?;
    let s = args::string(a, 0)?;
    ctx.mark_nondeterministic();
    let mut chars: Vec<char> = s.chars().collect();
    for i in (1..chars.len()).rev() {
        let j = below(i as u64 + 1)? as usize;
        chars.swap(i, j);
    }
    Ok(Value::string(chars.into_iter().collect()))
}

/// A random (version 4) UUID in its lowercase hyphenated form.
pub(super) fn new_uuid() -> Result<String, FuncError> {
    let mut b = [0u8; 16];
    fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

fn uuidv4(ctx: &FuncCtx, a: &[Value]) -> Result<Value, FuncError> {
    args::want("uuidv4", a, 0)?;
    ctx.mark_nondeterministic();
    Ok(Value::string(new_uuid()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(f: Func, a: &[Value]) -> (Result<Value, FuncError>, bool) {
        let ctx = FuncCtx::default();
        let r = f(&ctx, a);
        (r, ctx.nondeterministic.get())
    }

    fn text(r: Result<Value, FuncError>) -> String {
        r.unwrap().as_str().unwrap().to_string()
    }

    #[test]
    fn strings_have_the_right_alphabet_and_length() {
        let (r, nd) = call(rand_alpha_num, &[Value::Int(200)]);
        assert!(nd);
        let s = text(r);
        assert_eq!(s.len(), 200);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_uppercase()));
        let s = text(call(rand_alpha, &[Value::Int(100)]).0);
        assert!(s.len() == 100 && s.bytes().all(|b| b.is_ascii_alphabetic()));
        let s = text(call(rand_numeric, &[Value::Int(100)]).0);
        assert!(s.len() == 100 && s.bytes().all(|b| b.is_ascii_digit()));
        let s = text(call(rand_ascii, &[Value::Int(300)]).0);
        assert!(s.len() == 300 && s.bytes().all(|b| (32..=126).contains(&b)));
        assert_eq!(text(call(rand_alpha, &[Value::Int(-3)]).0), "");
        let e = call(rand_alpha, &[Value::Float(3.0)]).0.unwrap_err();
        assert_eq!(e.message, "wrong type for value; expected int; got float64");
    }

    #[test]
    fn rand_int_is_in_range() {
        for _ in 0..200 {
            let (r, nd) = call(rand_int, &[Value::Int(-3), Value::Int(4)]);
            assert!(nd);
            let Ok(Value::Int(n)) = r else {
                panic!("not an int")
            };
            assert!((-3..4).contains(&n));
        }
        let e = call(rand_int, &[Value::Int(4), Value::Int(4)])
            .0
            .unwrap_err();
        assert_eq!(e.message, "invalid argument to Intn");
    }

    #[test]
    fn shuffle_keeps_the_characters() {
        let s = text(call(shuffle, &[Value::str("abcdéfgh")]).0);
        let mut got: Vec<char> = s.chars().collect();
        got.sort();
        assert_eq!(got.into_iter().collect::<String>(), "abcdfghé");
    }

    #[test]
    fn uuid_is_version_4() {
        let u = text(call(uuidv4, &[]).0);
        let re = regex::Regex::new(
            "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
        )
        .unwrap();
        assert!(re.is_match(&u), "{u}");
    }
}
