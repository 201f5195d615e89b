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

/// [`exp`] on four lanes with AVX2 intrinsics: the same operations in the same order (no FMA),
/// so every lane has the bits of the scalar function.
///
/// # Safety
/// The CPU supports AVX2 (callers compiled with AVX2 enabled may call it without `unsafe`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub fn exp4(x: std::arch::x86_64::__m256d) -> std::arch::x86_64::__m256d {
    exp4x([x])[0]
}

/// [`exp4`] on `K` vectors at once, their steps interleaved: the Horner chain is a long
/// dependency chain, so `K` independent chains keep the floating-point units busy.
///
/// # Safety
/// The CPU supports AVX2 (callers compiled with AVX2 enabled may call it without `unsafe`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
pub fn exp4x<const K: usize>(
    x: [std::arch::x86_64::__m256d; K],
) -> [std::arch::x86_64::__m256d; K] {
    use std::arch::x86_64::*;
    let c = _mm256_set1_pd;
    // clamp: NaN passes through (maxpd/minpd return the second operand on NaN).
    let x = x.map(|x| _mm256_min_pd(c(709.0), _mm256_max_pd(c(-708.0), x)));
    let shifted: [__m256d; K] =
        std::array::from_fn(|i| _mm256_add_pd(_mm256_mul_pd(x[i], c(LOG2E)), c(SHIFTER)));
    let r: [__m256d; K] = std::array::from_fn(|i| {
        let k = _mm256_sub_pd(shifted[i], c(SHIFTER));
        _mm256_sub_pd(
            _mm256_sub_pd(x[i], _mm256_mul_pd(k, c(LN2_HI))),
            _mm256_mul_pd(k, c(LN2_LO)),
        )
    });
    let mut p = [c(1.0 / 6_227_020_800.0); K];
    for coef in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        // SAFETY: AVX2 is enabled in this function.
        unsafe { horner_step(&mut p, &r, c(coef)) };
    }
    // ((bits - SHIFTER_bits) + 1023) << 52, in wrapping 64-bit integer arithmetic.
    let bias = _mm256_set1_epi64x(1023i64.wrapping_sub(SHIFTER.to_bits() as i64));
    std::array::from_fn(|i| {
        let scale =
            _mm256_slli_epi64::<52>(_mm256_add_epi64(_mm256_castpd_si256(shifted[i]), bias));
        _mm256_mul_pd(p[i], _mm256_castsi256_pd(scale))
    })
}

/// One Horner step `p = p * r + c` on `K` independent chains: all products, then all sums.
///
/// For eight chains the step is written in assembly. Written with intrinsics, LLVM keeps the 13
/// coefficients in registers and evaluates the chains one after the other, so that every step
/// waits for the previous one (a multiply and an add: 6 cycles on Zen 3); the 8-chain rate
/// function then ran at ~27 cycles per vector. In one `asm!` block per step (ordered, as it is
/// not `pure`) the eight chains share each step's latency; `r` is read from memory so that the
/// eight chains plus the coefficient fit in the 16 vector registers. Same operations, same
/// order per lane, no FMA: the bits are those of the intrinsics version.
///
/// # Safety
/// The CPU supports AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn horner_step<const K: usize>(
    p: &mut [std::arch::x86_64::__m256d; K],
    r: &[std::arch::x86_64::__m256d; K],
    c: std::arch::x86_64::__m256d,
) {
    use std::arch::x86_64::*;
    if K == 8 {
        let r = r.as_ptr();
        // SAFETY: `r` points to 8 vectors (K == 8); the block reads only them and writes only
        // its register operands.
        unsafe {
            std::arch::asm!(
                "vmulpd {p0}, {p0}, ymmword ptr [{r}]",
                "vmulpd {p1}, {p1}, ymmword ptr [{r} + 32]",
                "vmulpd {p2}, {p2}, ymmword ptr [{r} + 64]",
                "vmulpd {p3}, {p3}, ymmword ptr [{r} + 96]",
                "vmulpd {p4}, {p4}, ymmword ptr [{r} + 128]",
                "vmulpd {p5}, {p5}, ymmword ptr [{r} + 160]",
                "vmulpd {p6}, {p6}, ymmword ptr [{r} + 192]",
                "vmulpd {p7}, {p7}, ymmword ptr [{r} + 224]",
                "vaddpd {p0}, {p0}, {c}",
                "vaddpd {p1}, {p1}, {c}",
                "vaddpd {p2}, {p2}, {c}",
                "vaddpd {p3}, {p3}, {c}",
                "vaddpd {p4}, {p4}, {c}",
                "vaddpd {p5}, {p5}, {c}",
                "vaddpd {p6}, {p6}, {c}",
                "vaddpd {p7}, {p7}, {c}",
                p0 = inout(ymm_reg) p[0],
                p1 = inout(ymm_reg) p[1],
                p2 = inout(ymm_reg) p[2],
                p3 = inout(ymm_reg) p[3],
                p4 = inout(ymm_reg) p[4],
                p5 = inout(ymm_reg) p[5],
                p6 = inout(ymm_reg) p[6],
                p7 = inout(ymm_reg) p[7],
                r = in(reg) r,
                c = in(ymm_reg) c,
                options(nostack, readonly, preserves_flags),
            );
        }
    } else {
        for (p, &r) in p.iter_mut().zip(r) {
            *p = _mm256_add_pd(_mm256_mul_pd(*p, r), c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn exp4_has_the_bits_of_exp() {
        use std::arch::x86_64::*;
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut xs: Vec<f64> = (0..20_000).map(|k| -760.0 + 0.0761 * k as f64).collect();
        xs.extend([
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            709.0,
            -708.0,
            1e6,
            -1e6,
            f64::NAN,
        ]);
        xs.extend([f64::INFINITY, f64::NEG_INFINITY, 3.6, -3.6, 0.5]);
        while !xs.len().is_multiple_of(4) {
            xs.push(1.0);
        }
        for q in xs.chunks_exact(4) {
            let mut out = [0.0; 4];
            // SAFETY: AVX2 was detected above; `q` and `out` have 4 entries.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr(), exp4(_mm256_loadu_pd(q.as_ptr()))) };
            for (&x, &y) in q.iter().zip(&out) {
                assert_eq!(y.to_bits(), exp(x).to_bits(), "exp4({x})");
            }
        }
        // The interleaved forms (8 chains: the assembly Horner steps; 2: intrinsics), every
        // lane of every chain.
        fn chains<const K: usize>(xs: &[f64]) {
            if !xs.len().is_multiple_of(4 * K) {
                return chains::<K>(&[xs, &[0.25][..]].concat());
            }
            for q in xs.chunks_exact(4 * K) {
                // SAFETY: AVX2 was detected by the caller; `q` has 4 K entries.
                let v: [__m256d; K] =
                    std::array::from_fn(|i| unsafe { _mm256_loadu_pd(q.as_ptr().add(4 * i)) });
                // SAFETY: as above.
                let e = unsafe { exp4x(v) };
                for (i, e) in e.into_iter().enumerate() {
                    let mut out = [0.0; 4];
                    // SAFETY: `out` has 4 entries.
                    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), e) };
                    for (&x, &y) in q[4 * i..4 * i + 4].iter().zip(&out) {
                        assert_eq!(y.to_bits(), exp(x).to_bits(), "exp4x::<{K}>({x})");
                    }
                }
            }
        }
        chains::<8>(&xs);
        chains::<2>(&xs);
        chains::<8>(&xs[3..]);
    }

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
