use super::*;

/// Trial division, for checking small cases.
fn is_prime_naive(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    let mut d = 2u64;
    while d * d <= n {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 1;
    }
    true
}

fn from_u128(x: u128) -> [u64; 2] {
    [x as u64, (x >> 64) as u64]
}

#[test]
fn montgomery_matches_u128_arithmetic() {
    // Modulus below 2^64 in a 2-limb context, so products fit u128 for checking.
    for n in [
        3u64,
        0xffff_ffff_ffff_ffc5,
        1_000_000_007,
        0x8000_0000_0000_0001,
    ] {
        let m = Mont::<2>::new(&[n, 0]).unwrap();
        // R mod n and the conversion to Montgomery form via R² = (R mod n)² ...
        let r = (u128::from(u64::MAX) + 1) % u128::from(n); // 2^64 mod n
        let r_mod = r * r % u128::from(n); // R = 2^128 mod n
        assert_eq!(m.one, from_u128(r_mod));
        let to_mont = |a: u128| from_u128(a * r_mod % u128::from(n));
        for (a, b) in [
            (0u128, 5u128),
            (1, 1),
            (2, 3),
            (123_456_789, 987_654_321),
            (u128::from(n) - 1, u128::from(n) - 2),
        ] {
            let (a, b) = (a % u128::from(n), b % u128::from(n));
            let want = to_mont(a * b % u128::from(n));
            assert_eq!(m.mul(&to_mont(a), &to_mont(b)), want, "mul {a} {b} mod {n}");
            assert_eq!(
                m.sqr(&to_mont(a)),
                to_mont(a * a % u128::from(n)),
                "sqr {a} mod {n}"
            );
        }
        // pow against square-and-multiply in u128.
        for (base, exp) in [
            (2u128, 0u64),
            (2, 1),
            (3, 1000),
            (7, n - 1),
            (5, 0xdead_beef),
        ] {
            let mut want = 1u128;
            let mut b = base % u128::from(n);
            let mut e = exp;
            while e > 0 {
                if e & 1 == 1 {
                    want = want * b % u128::from(n);
                }
                b = b * b % u128::from(n);
                e >>= 1;
            }
            assert_eq!(
                m.pow(&to_mont(base), &[exp, 0]),
                to_mont(want),
                "{base}^{exp} mod {n}"
            );
            if base == 2 {
                assert_eq!(m.pow2(&[exp, 0]), to_mont(want));
            }
        }
    }
}

#[test]
fn multi_limb_arithmetic_is_consistent() {
    // (a·b)·c = a·(b·c), a² = a·a and a^(e1+e2) = a^e1 · a^e2 on a 1024-bit modulus.
    let mut n = random_limbs::<16>().unwrap();
    n[0] |= 1;
    n[15] |= 1 << 63;
    let m = Mont::new(&n).unwrap();
    let mut x = random_limbs::<16>().unwrap();
    let mut y = random_limbs::<16>().unwrap();
    let mut z = random_limbs::<16>().unwrap();
    for v in [&mut x, &mut y, &mut z] {
        v[15] &= !(1 << 63);
    }
    assert_eq!(m.mul(&m.mul(&x, &y), &z), m.mul(&x, &m.mul(&y, &z)));
    assert_eq!(m.sqr(&x), m.mul(&x, &x));
    assert_eq!(m.mul(&x, &m.one), {
        // x·R·R⁻¹ = x, reduced
        let mut r = x;
        if ge(&r, &n) {
            sub_in(&mut r, &n);
        }
        r
    });
    let e1 = random_limbs::<16>().unwrap();
    let mut e2 = [0u64; 16];
    e2[0] = 12345;
    let mut sum = e1;
    assert!(!add_small(&mut sum, 12345) || sum.iter().all(|&l| l == 0));
    assert_eq!(m.pow(&x, &sum), m.mul(&m.pow(&x, &e1), &m.pow(&x, &e2)));
    // 2^e via pow2 agrees with the windowed pow of 2's Montgomery form.
    let mut two = m.one;
    m.double_in(&mut two);
    assert_eq!(m.pow2(&e1), m.pow(&two, &e1));
}

#[test]
fn miller_rabin_agrees_with_trial_division() {
    // Every odd number in a range just below 2^64 and some famous pseudoprimes.
    let mut count = 0;
    for w in (1u64 << 40..(1u64 << 40) + 20_000).filter(|w| w % 2 == 1) {
        let got = probably_prime(&[w]).unwrap();
        assert_eq!(got, is_prime_naive(w), "{w}");
        count += usize::from(got);
    }
    assert!(count > 300, "{count}");
    // Strong pseudoprimes to base 2 and Carmichael numbers are rejected.
    for w in [
        2047u64,
        3277,
        4033,
        4681,
        8321,
        561,
        1105,
        1729,
        2465,
        3_215_031_751,
    ] {
        assert!(!probably_prime(&[w]).unwrap(), "{w}");
    }
    for w in [5u64, 7, 65537, 2_147_483_647, 0xffff_ffff_ffff_ffc5] {
        assert!(probably_prime(&[w]).unwrap(), "{w}");
    }
    // 2^128 - 159 is prime; 2^128 - 157 = 2^128 - 159 + 2 is not (divisible by 3).
    assert!(probably_prime(&from_u128(u128::MAX - 158)).unwrap());
    assert!(!probably_prime(&from_u128(u128::MAX - 156)).unwrap());
    // Even numbers and tiny ones.
    assert!(!probably_prime(&[4u64]).unwrap());
    assert!(!probably_prime(&[1u64]).unwrap());
}

#[test]
fn known_large_primes() {
    // 2^1279 - 1 is a Mersenne prime (needs 20 limbs); 2^1279 - 3 is not prime.
    let mut m = [u64::MAX; 20];
    m[19] = (1 << 63) - 1;
    assert!(probably_prime(&m).unwrap());
    m[0] -= 2;
    assert!(!probably_prime(&m).unwrap());
}

#[test]
fn random_primes_have_the_promised_shape() {
    let p = random_prime::<4>().unwrap();
    assert_eq!(p[3] >> 62, 0b11);
    let rem = |x: &[u64; 4], m: u64| rem_u32(x, m, u64::MAX / m);
    assert_ne!(rem(&p, u64::from(E)), 1);
    let small = small_primes();
    assert_eq!(small.primes.len(), 23_000 - 1); // π(2^18) = 23000, without 2
    assert_eq!(small.primes.last(), Some(&262_139));
    for &sp in &small.primes {
        assert_ne!(rem(&p, u64::from(sp)), 0);
    }
    let mut covered = 0;
    for g in &small.groups {
        assert!(g.modulus < 1 << 32);
        assert_eq!(g.from, covered);
        covered = g.to;
        let product: u64 = small.primes[g.from..g.to]
            .iter()
            .map(|&p| u64::from(p))
            .product();
        assert_eq!(product, g.modulus);
    }
    assert_eq!(covered, small.primes.len());
    // Fermat with a few bases as an independent check: b^(p-1) = 1.
    let mt = Mont::new(&p).unwrap();
    let mut pm1 = p;
    pm1[0] -= 1;
    let mut x = mt.one; // 1, then 2, 3, 4, 5 in Montgomery form (x + one each step)
    for b in 2..6 {
        let mut carry = false;
        for (xi, oi) in x.iter_mut().zip(mt.one.iter()) {
            let (s, c1) = xi.overflowing_add(*oi);
            let (s, c2) = s.overflowing_add(u64::from(carry));
            *xi = s;
            carry = c1 | c2;
        }
        if carry || ge(&x, &p) {
            sub_in(&mut x, &p);
        }
        assert_eq!(mt.pow(&x, &pm1), mt.one, "base {b}");
    }
    let (p, q) = rsa_primes::<4>().unwrap();
    assert_ne!(p, q);
    assert_eq!(p.len(), 32);
}

#[test]
fn barrett_remainders_match_division() {
    let x: [u64; 3] = [u64::MAX, 0x1234_5678_9abc_def0, 0xffff_ffff_0000_0001];
    for m in [
        3u64,
        65537,
        4_294_967_291,
        2_147_483_647,
        1 << 31,
        999_999_937,
    ] {
        // Reference: u128 arithmetic over the limbs.
        let mut r: u128 = 0;
        for &l in x.iter().rev() {
            r = ((r << 64) | u128::from(l)) % u128::from(m);
        }
        assert_eq!(u128::from(rem_u32(&x, m, u64::MAX / m)), r, "mod {m}");
    }
}

#[test]
fn squaring_agrees_with_multiplication() {
    // Random values and the extremes (0, 1, n - 1, n - 2) on random moduli and on moduli with
    // all-ones limbs, where the column sums and the final subtraction are at their largest.
    fn check<const N: usize>(n: [u64; N]) {
        let m = Mont::new(&n).unwrap();
        let mut values = vec![[0u64; N], m.one, m.minus_one];
        let mut n2 = n;
        sub_in(&mut n2, &{
            let mut two = [0u64; N];
            two[0] = 2;
            two
        });
        values.push(n2);
        for _ in 0..200 {
            let mut x = random_limbs::<N>().unwrap();
            while ge(&x, &n) {
                sub_in(&mut x, &n);
            }
            values.push(x);
        }
        for x in &values {
            assert_eq!(m.sqr(x), m.mul(x, x), "{x:?} mod {n:?}");
        }
    }
    for _ in 0..5 {
        let mut n = random_limbs::<16>().unwrap();
        n[0] |= 1;
        n[15] |= 1 << 63;
        check(n);
        let mut n = random_limbs::<32>().unwrap();
        n[0] |= 1;
        check(n);
    }
    check([u64::MAX; 16]);
    check([u64::MAX; 2]);
    let mut n = [u64::MAX; 16];
    n[3] = 0;
    check(n);
}
