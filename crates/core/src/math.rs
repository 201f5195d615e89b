//! A portable, deterministic exponential.
//!
//! `exp` here is written in plain f64 arithmetic (no FMA, no table), so it gives the same bits on
//! every platform and compiler, and a loop of it vectorizes. Accuracy: within 2 ulp of the
//! correctly rounded result over the whole range used (tested against `f64::exp`).
//!
//! Method: x = k ln2 + r with k = round(x / ln2) and a two-constant (Cody-Waite) reduction, so
//! |r| <= ln2 / 2; e^r by its Taylor series to degree 13 (truncation error < 1e-17 relative);
//! then the result is scaled by 2^k through the exponent bits.

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2 split so that k * LN2_HI is exact for |k| < 2^11.
/// (6.9314718036912381649e-1 and 1.9082149292705877000e-10, given as exact bit patterns.)
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 * 2^52: adding and subtracting it rounds to the nearest integer.
const SHIFTER: f64 = 6_755_399_441_055_744.0;

/// e^x, for x in [-708, 709] (clamped outside; e^-708 ~ 3e-308).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let shifted = x * LOG2E + SHIFTER;
    let k = shifted - SHIFTER;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Horner form of sum_{m=0}^{13} r^m / m!.
    let mut p = 1.0 / 6_227_020_800.0;
    p = p * r + 1.0 / 479_001_600.0;
    p = p * r + 1.0 / 39_916_800.0;
    p = p * r + 1.0 / 3_628_800.0;
    p = p * r + 1.0 / 362_880.0;
    p = p * r + 1.0 / 40_320.0;
    p = p * r + 1.0 / 5_040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    // k is an integer in [-1022, 1023]; the low bits of `shifted` hold it.
    let k_bits = (shifted.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let scale = f64::from_bits(((k_bits + 1023) as u64) << 52);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ulps(a: f64, b: f64) -> f64 {
        (a - b).abs() / (b.abs() * f64::EPSILON)
    }

    #[test]
    fn matches_std_exp_within_2_ulp() {
        let mut worst = 0.0f64;
        let mut x = -700.0;
        while x < 700.0 {
            worst = worst.max(ulps(exp(x), x.exp()));
            x += 0.013_7;
        }
        for x in [-1e-300, 0.0, 1e-10, -3.6, 0.5, 3.6, 5.4, -2.4, 12.9] {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2.0, "worst {worst} ulp");
        assert_eq!(exp(0.0), 1.0);
        assert!(ulps(exp(1.0), std::f64::consts::E) <= 1.0);
    }

    #[test]
    fn clamps_far_outside() {
        assert!(exp(-1e6) > 0.0 && exp(-1e6) < 1e-300);
        assert!(exp(1e6).is_finite());
        assert!(exp(f64::NAN).is_nan());
    }
}
