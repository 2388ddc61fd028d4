//! Deterministic elementary functions for the simulator.
//!
//! `f64::exp`, `ln` and `sin` call the platform's libm, whose last bits differ between C libraries and
//! versions. The simulator promises byte-identical archives for a seed on every machine (the bundled demo
//! is checked against a fresh generation), so it uses these versions instead: range reduction plus a
//! polynomial, built only from IEEE-754 `+ - * /` and `sqrt`, which are exactly rounded everywhere
//! (Rust never fuses them into FMA on its own). Accuracy is about 1e-15 relative, far beyond what a
//! simulated counter needs.

/// ln(2), rounded to the nearest `f64`.
const LN_2: f64 = std::f64::consts::LN_2;

/// `e^x`. Returns 0 below -745 and infinity above 709, like `f64::exp`.
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -745.0 {
        return 0.0;
    }
    // x = k ln2 + r with |r| <= ln2/2, then e^x = 2^k e^r.
    let k = (x / LN_2 + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let r = x - k as f64 * LN_2;
    // Taylor series of e^r to degree 18: the last term is below 1e-20 for |r| <= 0.35.
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=18 {
        term *= r / f64::from(n);
        sum += term;
    }
    sum * pow2(k)
}

/// `2^k` for any integer `k` in the range `exp` needs, built from the bit pattern (no libm).
fn pow2(k: i64) -> f64 {
    // Split so that each factor is a normal f64 even for k near the ends of the range.
    let half = k / 2;
    let rest = k - half;
    normal_pow2(half) * normal_pow2(rest)
}

/// `2^k` for -1022 <= k <= 1023.
fn normal_pow2(k: i64) -> f64 {
    let k = k.clamp(-1022, 1023);
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Natural logarithm of `x > 0`. Returns NaN for negative input and negative infinity for 0.
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln x = e ln2 + 2 atanh((m-1)/(m+1)).
    let mut m = x;
    let mut e: i64 = 0;
    while m >= std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    while m < std::f64::consts::FRAC_1_SQRT_2 {
        m *= 2.0;
        e -= 1;
    }
    let s = (m - 1.0) / (m + 1.0); // |s| <= 0.1716
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut n = 1.0;
    // 2 * sum of s^(2i+1)/(2i+1); 14 terms reach below 1e-21.
    for _ in 0..14 {
        sum += term / n;
        term *= s2;
        n += 2.0;
    }
    e as f64 * LN_2 + 2.0 * sum
}

/// `sin(x)`, by reduction to [-pi, pi] and a Taylor series.
pub fn sin(x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let two_pi = 2.0 * std::f64::consts::PI;
    let turns = (x / two_pi + if x < 0.0 { -0.5 } else { 0.5 }) as i64;
    let r = x - turns as f64 * two_pi;
    let r2 = r * r;
    let mut term = r;
    let mut sum = r;
    for n in 1..=16 {
        let n = f64::from(n);
        term *= -r2 / ((2.0 * n) * (2.0 * n + 1.0));
        sum += term;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-13 * b.abs().max(1.0)
    }

    #[test]
    fn exp_matches_std_over_its_range() {
        for i in -700..700 {
            let x = f64::from(i) * 0.713;
            assert!(close(exp(x), x.exp()), "exp({x}) = {} vs {}", exp(x), x.exp());
        }
        assert_eq!(exp(0.0).to_bits(), 1.0f64.to_bits());
        assert_eq!(exp(-800.0).to_bits(), 0.0f64.to_bits());
        assert!(exp(800.0).is_infinite());
    }

    #[test]
    fn ln_matches_std_from_tiny_to_huge() {
        for i in 1..2000 {
            let x = f64::from(i) * 0.0137;
            assert!(close(ln(x), x.ln()), "ln({x})");
        }
        for x in [1e-300, 1e-10, 0.5, 1.0, 2.0, 1e10, 1e300] {
            assert!(close(ln(x), x.ln()), "ln({x})");
        }
        assert!(ln(-1.0).is_nan());
        assert!(ln(0.0).is_infinite() && ln(0.0) < 0.0);
    }

    #[test]
    fn sin_matches_std_over_many_turns() {
        for i in -500..500 {
            let x = f64::from(i) * 0.137;
            assert!((sin(x) - x.sin()).abs() < 1e-12, "sin({x})");
        }
    }
}
