//! Random primes for RSA keys, fast.
//!
//! Go's `rsa.GenerateKey` draws random primes of half the modulus size (top two bits set, so
//! the product has exactly the requested size) and checks them with Miller-Rabin (FIPS 186-5
//! B.3.1). We do the same, but much faster than the `rsa` crate's generator:
//!
//! - one random odd start per prime, then an incremental search over the next `WINDOW` odd
//!   numbers, sieved by every odd prime below `SIEVE_LIMIT` (2^18) (and by `x ≡ 1 (mod 65537)`, which
//!   would make `e = 65537` share a factor with `p - 1`); about 90% of the candidates never
//!   reach a modular exponentiation;
//! - a base-2 Miller-Rabin round first (a square-and-double ladder with no multiplications),
//!   which rejects practically every composite survivor;
//! - then `EXTRA_ROUNDS` rounds with uniformly random bases, for 5 rounds in all (FIPS 186-5
//!   table B.1 asks for 5 at 1024-bit primes, 4 at 2048).
//!
//! Arithmetic is fixed-width Montgomery over `[u64; N]` (little-endian limbs, `N = 16` for
//! 2048-bit keys, `32` for 4096-bit), with a dedicated squaring. Random bases are drawn directly
//! in Montgomery form: `x ↦ x·R⁻¹` is a bijection mod `w`, so a uniform `x` is a uniform base.
//!
//! This code is not constant-time. Keys are generated for manifests written to disk, the same
//! process never handles attacker-chosen inputs to it, and Helm's own prime search
//! (`isPrime`) is not constant-time either.

use std::sync::OnceLock;

use crate::value::FuncError;

/// Odd candidates sieved per random start (the expected gap between 1024-bit primes is ~710,
/// so a window of 4096 odd numbers almost never comes up empty; when it does we start over).
const WINDOW: usize = 4096;
/// Small primes below this bound sieve the window.
const SIEVE_LIMIT: u32 = 1 << 18;
/// Random-base Miller-Rabin rounds after the base-2 round.
const EXTRA_ROUNDS: usize = 4;
/// RSA's public exponent, as Go uses it.
pub(super) const E: u32 = 65537;

/// The odd primes below `SIEVE_LIMIT`, and groups of consecutive ones whose product fits in
/// 32 bits (one multi-precision remainder per group instead of one per prime).
struct SmallPrimes {
    primes: Vec<u32>,
    groups: Vec<Group>,
}

/// Consecutive small primes `primes[from..to]` with their product and its reciprocal.
struct Group {
    modulus: u64,
    reciprocal: u64,
    from: usize,
    to: usize,
}

impl Group {
    fn new(modulus: u64, from: usize, to: usize) -> Group {
        Group {
            modulus,
            reciprocal: u64::MAX / modulus,
            from,
            to,
        }
    }
}

fn small_primes() -> &'static SmallPrimes {
    static PRIMES: OnceLock<SmallPrimes> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let n = SIEVE_LIMIT as usize;
        let mut composite = vec![false; n];
        let mut primes = Vec::new();
        for i in (3..n).step_by(2) {
            if !composite[i] {
                primes.push(i as u32);
                let mut j = i * i;
                while j < n {
                    composite[j] = true;
                    j += 2 * i;
                }
            }
        }
        let mut groups = Vec::new();
        let mut start = 0;
        let mut product = 1u64;
        for (i, &p) in primes.iter().enumerate() {
            if product * u64::from(p) >= 1 << 32 {
                groups.push(Group::new(product, start, i));
                start = i;
                product = 1;
            }
            product *= u64::from(p);
        }
        groups.push(Group::new(product, start, primes.len()));
        SmallPrimes { primes, groups }
    })
}

/// `x mod m` for a little-endian number and `0 < m < 2^32`, with `reciprocal = ⌊(2^64-1)/m⌋`
/// (Barrett reduction of each 64-bit step instead of a division).
fn rem_u32<const N: usize>(x: &[u64; N], m: u64, reciprocal: u64) -> u64 {
    let step = |v: u64| -> u64 {
        let q = ((u128::from(v) * u128::from(reciprocal)) >> 64) as u64;
        let mut r = v - q * m;
        while r >= m {
            r -= m;
        }
        r
    };
    let mut r = 0u64;
    for &limb in x.iter().rev() {
        r = step((r << 32) | (limb >> 32));
        r = step((r << 32) | (limb & 0xffff_ffff));
    }
    r
}

/// Fixed-width Montgomery arithmetic modulo an odd `n > 1`, with `R = 2^(64·N)`.
pub(super) struct Mont<const N: usize> {
    n: [u64; N],
    /// `-n⁻¹ mod 2^64`.
    n0: u64,
    /// `R mod n`: 1 in Montgomery form.
    one: [u64; N],
    /// `n - (R mod n)`: -1 in Montgomery form.
    minus_one: [u64; N],
}

/// `a - b` in place; returns the borrow.
fn sub_in<const N: usize>(a: &mut [u64; N], b: &[u64; N]) -> bool {
    let mut borrow = false;
    for i in 0..N {
        let (d, b1) = a[i].overflowing_sub(b[i]);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        a[i] = d;
        borrow = b1 | b2;
    }
    borrow
}

/// `a >= b`.
fn ge<const N: usize>(a: &[u64; N], b: &[u64; N]) -> bool {
    for i in (0..N).rev() {
        if a[i] != b[i] {
            return a[i] > b[i];
        }
    }
    true
}

impl<const N: usize> Mont<N> {
    /// `None` when `n` is even or below 3.
    pub(super) fn new(n: &[u64; N]) -> Option<Mont<N>> {
        if n[0] & 1 == 0 || (n[1..].iter().all(|&l| l == 0) && n[0] < 3) {
            return None;
        }
        // Newton's iteration doubles the correct low bits: n·n ≡ 1 (mod 8) for odd n.
        let mut inv = n[0];
        for _ in 0..5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let mut m = Mont {
            n: *n,
            n0: inv.wrapping_neg(),
            one: [0; N],
            minus_one: [0; N],
        };
        // R mod n by doubling 1 (64·N times); cheap next to one exponentiation.
        let mut one = [0u64; N];
        one[0] = 1;
        for _ in 0..64 * N {
            m.double_in(&mut one);
        }
        m.one = one;
        let mut minus_one = *n;
        sub_in(&mut minus_one, &one);
        m.minus_one = minus_one;
        Some(m)
    }

    /// `a = 2a mod n` for `a < n`.
    fn double_in(&self, a: &mut [u64; N]) {
        let mut carry = 0u64;
        for limb in a.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 || ge(a, &self.n) {
            sub_in(a, &self.n);
        }
    }

    /// Montgomery reduction of `t` (2N limbs, `t < n·R`): `t·R⁻¹ mod n`.
    #[inline(always)]
    fn reduce(&self, t: &mut [u64], out: &mut [u64; N]) {
        // t has 2N + 1 limbs; the top one collects carries.
        let mut top = 0u64;
        for i in 0..N {
            let m = t[i].wrapping_mul(self.n0);
            let mut carry = 0u64;
            for j in 0..N {
                let s = u128::from(t[i + j])
                    + u128::from(m) * u128::from(self.n[j])
                    + u128::from(carry);
                t[i + j] = s as u64;
                carry = (s >> 64) as u64;
            }
            let s = u128::from(t[i + N]) + u128::from(carry) + u128::from(top);
            t[i + N] = s as u64;
            top = (s >> 64) as u64;
        }
        out.copy_from_slice(&t[N..2 * N]);
        if top != 0 || ge(out, &self.n) {
            sub_in(out, &self.n);
        }
    }

    /// `a·b·R⁻¹ mod n` for `a, b < n`.
    pub(super) fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let mut t = [[0u64; N]; 2];
        let t = t.as_flattened_mut();
        for i in 0..N {
            let mut carry = 0u64;
            for j in 0..N {
                let s =
                    u128::from(t[i + j]) + u128::from(a[i]) * u128::from(b[j]) + u128::from(carry);
                t[i + j] = s as u64;
                carry = (s >> 64) as u64;
            }
            t[i + N] = carry;
        }
        let mut out = [0u64; N];
        self.reduce(t, &mut out);
        out
    }

    /// `a²·R⁻¹ mod n` for `a < n`: the cross products once, doubled, plus the squares.
    pub(super) fn sqr(&self, a: &[u64; N]) -> [u64; N] {
        let mut t = [[0u64; N]; 2];
        let t = t.as_flattened_mut();
        for i in 0..N {
            let mut carry = 0u64;
            for j in i + 1..N {
                let s =
                    u128::from(t[i + j]) + u128::from(a[i]) * u128::from(a[j]) + u128::from(carry);
                t[i + j] = s as u64;
                carry = (s >> 64) as u64;
            }
            t[i + N] = carry;
        }
        // Double the cross products and add the squares a[i]².
        let mut shifted_out = 0u64;
        for limb in t.iter_mut() {
            let next = *limb >> 63;
            *limb = (*limb << 1) | shifted_out;
            shifted_out = next;
        }
        let mut carry = 0u64;
        for i in 0..N {
            let sq = u128::from(a[i]) * u128::from(a[i]);
            let s = u128::from(t[2 * i]) + (sq & u128::from(u64::MAX)) + u128::from(carry);
            t[2 * i] = s as u64;
            let s = u128::from(t[2 * i + 1]) + (sq >> 64) + (s >> 64);
            t[2 * i + 1] = s as u64;
            carry = (s >> 64) as u64;
        }
        let mut out = [0u64; N];
        self.reduce(t, &mut out);
        out
    }

    /// `base^exp` in Montgomery form (`base` in Montgomery form), sliding 5-bit windows.
    pub(super) fn pow(&self, base: &[u64; N], exp: &[u64; N]) -> [u64; N] {
        let bits = bit_len(exp);
        if bits == 0 {
            return self.one;
        }
        // Odd powers base^1, base^3, …, base^31.
        let sq = self.sqr(base);
        let mut table = [*base; 16];
        for i in 1..16 {
            table[i] = self.mul(&table[i - 1], &sq);
        }
        let mut acc = self.one;
        let mut started = false;
        let mut i = bits;
        while i > 0 {
            if !bit(exp, i - 1) {
                if started {
                    acc = self.sqr(&acc);
                }
                i -= 1;
                continue;
            }
            // The longest window of at most 5 bits ending in a set bit.
            let low = i.saturating_sub(5);
            let mut j = low;
            while !bit(exp, j) {
                j += 1;
            }
            let mut w = 0usize;
            for k in (j..i).rev() {
                w = (w << 1) | usize::from(bit(exp, k));
            }
            if started {
                for _ in j..i {
                    acc = self.sqr(&acc);
                }
                acc = self.mul(&acc, &table[w >> 1]);
            } else {
                acc = table[w >> 1];
                started = true;
            }
            i = j;
        }
        acc
    }

    /// `2^exp` in Montgomery form: square, and double where `exp` has a set bit.
    fn pow2(&self, exp: &[u64; N]) -> [u64; N] {
        let bits = bit_len(exp);
        let mut acc = self.one;
        for i in (0..bits).rev() {
            acc = self.sqr(&acc);
            if bit(exp, i) {
                self.double_in(&mut acc);
            }
        }
        acc
    }
}

fn bit_len<const N: usize>(x: &[u64; N]) -> usize {
    for i in (0..N).rev() {
        if x[i] != 0 {
            return 64 * i + 64 - x[i].leading_zeros() as usize;
        }
    }
    0
}

fn bit<const N: usize>(x: &[u64; N], i: usize) -> bool {
    (x[i / 64] >> (i % 64)) & 1 == 1
}

/// A Miller-Rabin context for an odd candidate `w > 3`: `w - 1 = 2^s · d`.
struct MillerRabin<const N: usize> {
    m: Mont<N>,
    d: [u64; N],
    s: usize,
}

impl<const N: usize> MillerRabin<N> {
    fn new(w: &[u64; N]) -> Option<MillerRabin<N>> {
        let m = Mont::new(w)?;
        let mut d = *w;
        d[0] &= !1;
        let s = (0..64 * N).find(|&i| bit(&d, i))?;
        // d >>= s
        let (limbs, shift) = (s / 64, s % 64);
        let mut out = [0u64; N];
        for i in 0..N - limbs {
            out[i] = d[i + limbs] >> shift;
            if shift > 0 && i + limbs + 1 < N {
                out[i] |= d[i + limbs + 1] << (64 - shift);
            }
        }
        Some(MillerRabin { m, d: out, s })
    }

    /// One round, given `base^d` in Montgomery form.
    fn finish(&self, mut x: [u64; N]) -> bool {
        if x == self.m.one || x == self.m.minus_one {
            return true;
        }
        for _ in 1..self.s {
            x = self.m.sqr(&x);
            if x == self.m.minus_one {
                return true;
            }
            if x == self.m.one {
                return false;
            }
        }
        false
    }

    fn base2(&self) -> bool {
        self.finish(self.m.pow2(&self.d))
    }

    /// A round with a uniformly random base in `[2, w - 2]` (drawn in Montgomery form).
    fn random_base(&self) -> Result<bool, FuncError> {
        let top = bit_len(&self.m.n);
        loop {
            let mut x = random_limbs::<N>()?;
            mask_to(&mut x, top);
            if ge(&x, &self.m.n) || x == [0; N] || x == self.m.one || x == self.m.minus_one {
                continue;
            }
            return Ok(self.finish(self.m.pow(&x, &self.d)));
        }
    }
}

/// Clears every bit at or above `bits`.
fn mask_to<const N: usize>(x: &mut [u64; N], bits: usize) {
    for (i, limb) in x.iter_mut().enumerate() {
        let lo = 64 * i;
        if lo >= bits {
            *limb = 0;
        } else if bits - lo < 64 {
            *limb &= (1u64 << (bits - lo)) - 1;
        }
    }
}

fn random_limbs<const N: usize>() -> Result<[u64; N], FuncError> {
    let mut bytes = vec![0u8; 8 * N];
    super::random::fill(&mut bytes)?;
    let mut out = [0u64; N];
    for (limb, chunk) in out.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(b);
    }
    Ok(out)
}

/// Miller-Rabin with base 2 and `EXTRA_ROUNDS` random bases; `w` must be odd and > 3.
pub(super) fn probably_prime<const N: usize>(w: &[u64; N]) -> Result<bool, FuncError> {
    let Some(mr) = MillerRabin::new(w) else {
        return Ok(false);
    };
    if !mr.base2() {
        return Ok(false);
    }
    for _ in 0..EXTRA_ROUNDS {
        if !mr.random_base()? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `x + k` for a small `k`; returns the carry out.
fn add_small<const N: usize>(x: &mut [u64; N], k: u64) -> bool {
    let mut carry = k;
    for limb in x.iter_mut() {
        let (s, c) = limb.overflowing_add(carry);
        *limb = s;
        carry = u64::from(c);
        if carry == 0 {
            return false;
        }
    }
    carry != 0
}

/// A random prime of exactly `64·N` bits with its top two bits set and `p mod 65537 ≠ 1`.
pub(super) fn random_prime<const N: usize>() -> Result<[u64; N], FuncError> {
    let primes = small_primes();
    loop {
        let mut start = random_limbs::<N>()?;
        start[N - 1] |= 0b11 << 62;
        start[0] |= 1;
        // marks[i]: start + 2i is divisible by a small prime (or ≡ 1 mod 65537).
        let mut marks = vec![false; WINDOW];
        let mut mark = |p: u32, r: u32, target: u32| {
            // start + 2i ≡ target (mod p)  ⇔  i ≡ (target - r)·2⁻¹ (mod p); halving mod an odd
            // p is d/2 for even d and (d + p)/2 for odd d.
            let d = if target >= r {
                target - r
            } else {
                target + p - r
            };
            let mut i = if d % 2 == 0 { d / 2 } else { (d + p) / 2 } as usize;
            while i < WINDOW {
                marks[i] = true;
                i += p as usize;
            }
        };
        for g in &primes.groups {
            let r = rem_u32(&start, g.modulus, g.reciprocal) as u32;
            for &p in &primes.primes[g.from..g.to] {
                mark(p, r % p, 0);
            }
        }
        mark(
            E,
            rem_u32(&start, u64::from(E), u64::MAX / u64::from(E)) as u32,
            1,
        );
        for (i, _) in marks.iter().enumerate().filter(|(_, m)| !**m) {
            let mut w = start;
            if add_small(&mut w, 2 * i as u64) || w[N - 1] >> 62 != 0b11 {
                break;
            }
            if probably_prime(&w)? {
                return Ok(w);
            }
        }
    }
}

/// The bit length of `|a - b|`.
fn abs_diff_bits<const N: usize>(a: &[u64; N], b: &[u64; N]) -> usize {
    let (mut hi, lo) = if ge(a, b) { (*a, b) } else { (*b, a) };
    sub_in(&mut hi, lo);
    bit_len(&hi)
}

/// Two primes for an RSA modulus of `128·N` bits, as big-endian bytes: `p ≠ q` and, as FIPS
/// 186-5 A.1.3 asks, `|p - q| > 2^(64·N - 100)`.
pub(super) fn rsa_primes<const N: usize>() -> Result<(Vec<u8>, Vec<u8>), FuncError> {
    loop {
        let p = random_prime::<N>()?;
        let q = random_prime::<N>()?;
        if abs_diff_bits(&p, &q) <= (64 * N).saturating_sub(100) {
            continue;
        }
        return Ok((to_be_bytes(&p), to_be_bytes(&q)));
    }
}

pub(super) fn to_be_bytes<const N: usize>(x: &[u64; N]) -> Vec<u8> {
    x.iter().rev().flat_map(|l| l.to_be_bytes()).collect()
}

#[cfg(test)]
#[path = "prime_tests.rs"]
mod tests;
