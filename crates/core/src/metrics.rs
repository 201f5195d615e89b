//! Replay metrics as the paper's evaluation computes them (docs/model.md (h)).
//!
//! - MSE: mean over neurons i and samples k of (r_i(k) - rT_i(k))^2; perfect = 0.
//! - corr_sum: the SUM over neurons of the Pearson correlation of r_i and rT_i; perfect = number
//!   of neurons. A neuron with zero variance makes it NaN (reported, not hidden).
//! - Replay scores slide the window start s = 0..S-1 into the following cycle and keep the best
//!   shift for each metric separately (min MSE, max corr_sum).
//!
//! Signals are neuron-major: `signal[i * len + k]`.

/// Scores of one cycle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CycleScore {
    pub mse: f64,
    pub corr_sum: f64,
}

/// Precomputed target statistics for scoring many windows against one target cycle.
#[derive(Clone, Debug)]
pub struct ReplayScorer {
    n_neurons: usize,
    n_samples: usize,
    /// Target minus its per-neuron mean, neuron-major.
    centered: Vec<f64>,
    mean: Vec<f64>,
    sum_centered: Vec<f64>,
    sum_sq_centered: Vec<f64>,
}

impl ReplayScorer {
    /// `target` is neuron-major with `n_samples` samples per neuron.
    ///
    /// # Panics
    /// If the length does not match or `n_samples` is 0.
    pub fn new(target: &[f64], n_neurons: usize, n_samples: usize) -> Self {
        assert!(
            n_samples > 0 && target.len() == n_neurons * n_samples,
            "target shape mismatch"
        );
        let mut centered = Vec::with_capacity(target.len());
        let mut mean = Vec::with_capacity(n_neurons);
        let mut sum_centered = Vec::with_capacity(n_neurons);
        let mut sum_sq_centered = Vec::with_capacity(n_neurons);
        for row in target.chunks_exact(n_samples) {
            let m = row.iter().sum::<f64>() / n_samples as f64;
            let c: Vec<f64> = row.iter().map(|&y| y - m).collect();
            sum_centered.push(c.iter().sum());
            sum_sq_centered.push(dot(&c, &c));
            mean.push(m);
            centered.extend(c);
        }
        Self {
            n_neurons,
            n_samples,
            centered,
            mean,
            sum_centered,
            sum_sq_centered,
        }
    }

    pub fn n_neurons(&self) -> usize {
        self.n_neurons
    }
    /// Samples per cycle (S).
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Scores `output` (neuron-major, exactly S samples per neuron) without any time shift.
    pub fn score_aligned(&self, output: &[f64]) -> CycleScore {
        assert_eq!(
            output.len(),
            self.n_neurons * self.n_samples,
            "output shape mismatch"
        );
        self.score_shifts(output, self.n_samples, 1)
    }

    /// Best scores over window starts s = 0..S-1 in `output` (neuron-major, `len` samples per
    /// neuron, `len >= 2S - 1`): the replay score of the cycle that starts at sample 0.
    pub fn score_best_shift(&self, output: &[f64], len: usize) -> CycleScore {
        assert!(
            len >= 2 * self.n_samples - 1,
            "need S - 1 samples after the cycle for the shift search"
        );
        assert_eq!(output.len(), self.n_neurons * len, "output shape mismatch");
        self.score_shifts(output, len, self.n_samples)
    }

    fn score_shifts(&self, output: &[f64], len: usize, n_shifts: usize) -> CycleScore {
        let s_len = self.n_samples;
        let s_f = s_len as f64;
        let mut sq_err = vec![0.0; n_shifts];
        let mut corr = vec![0.0; n_shifts];
        let mut prefix = vec![0.0; s_len + n_shifts];
        let mut prefix_sq = vec![0.0; s_len + n_shifts];
        let mut shifted = vec![0.0; s_len + n_shifts - 1];
        let mut sab_all = vec![0.0; n_shifts];
        for i in 0..self.n_neurons {
            let x = &output[i * len..i * len + s_len + n_shifts - 1];
            // Centre the output by a constant so that sums of squares do not cancel badly.
            let c = x.iter().sum::<f64>() / x.len() as f64;
            for (a, &v) in shifted.iter_mut().zip(x) {
                *a = v - c;
            }
            for k in 0..shifted.len() {
                prefix[k + 1] = prefix[k] + shifted[k];
                prefix_sq[k + 1] = prefix_sq[k] + shifted[k] * shifted[k];
            }
            let b = &self.centered[i * s_len..(i + 1) * s_len];
            let (sb, sbb) = (self.sum_centered[i], self.sum_sq_centered[i]);
            let delta = c - self.mean[i];
            let var_b = sbb - sb * sb / s_f;
            window_dots(&shifted, b, &mut sab_all);
            for (s, &sab) in sab_all.iter().enumerate() {
                let sa = prefix[s + s_len] - prefix[s];
                let saa = prefix_sq[s + s_len] - prefix_sq[s];
                // x - y = a - b + delta, with a = x - c, b = y - mean(y), delta = c - mean(y).
                sq_err[s] += saa - 2.0 * sab + sbb + 2.0 * delta * (sa - sb) + s_f * delta * delta;
                let cov = sab - sa * sb / s_f;
                let var_a = saa - sa * sa / s_f;
                let denom = (var_a * var_b).sqrt();
                corr[s] += if denom > 0.0 { cov / denom } else { f64::NAN };
            }
        }
        let n_values = (self.n_neurons * s_len) as f64;
        let mse = sq_err
            .iter()
            .map(|&e| e.max(0.0) / n_values)
            .fold(f64::NAN, f64::min);
        let corr_sum = corr.iter().copied().fold(f64::NAN, f64::max);
        CycleScore { mse, corr_sum }
    }
}

/// Dot product with four accumulators (a fixed order, so results are reproducible, and one the
/// compiler can vectorize).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `out[s] = dot(&a[s..s + b.len()], b)` for every shift s, with the same bits, four shifts at
/// a time (`a.len() == b.len() + out.len() - 1`).
fn window_dots(a: &[f64], b: &[f64], out: &mut [f64]) {
    let len = b.len();
    assert_eq!(a.len() + 1, len + out.len());
    let blocked = out.len() - out.len() % 4;
    for s in (0..blocked).step_by(4) {
        out[s..s + 4].copy_from_slice(&dot4_shifted(&a[s..s + len + 3], b));
    }
    for s in blocked..out.len() {
        out[s] = dot(&a[s..s + len], b);
    }
}

/// `[dot(&a[j..j + b.len()], b) for j in 0..4]` with the same bits, `a.len() == b.len() + 3`:
/// with AVX2 the four windows share each load of `b` (the replay score's shift search is a
/// cross-correlation of 2500-sample windows; this made it ~3x faster).
pub fn dot4_shifted(a: &[f64], b: &[f64]) -> [f64; 4] {
    assert_eq!(a.len(), b.len() + 3);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 was detected; the lengths were checked.
        return unsafe { dot4_shifted_avx2(a, b) };
    }
    std::array::from_fn(|j| dot(&a[j..j + b.len()], b))
}

/// # Safety
/// AVX2 is available and `a.len() == b.len() + 3`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot4_shifted_avx2(a: &[f64], b: &[f64]) -> [f64; 4] {
    use std::arch::x86_64::*;
    let len = b.len();
    let body = len - len % 4;
    let mut acc = [_mm256_setzero_pd(); 4];
    let (ap, bp) = (a.as_ptr(), b.as_ptr());
    let mut k = 0;
    while k < body {
        // SAFETY: k + 4 <= len, and a has len + 3 entries, so window j reads a[j + k..j + k + 4].
        unsafe {
            let y = _mm256_loadu_pd(bp.add(k));
            for (j, acc) in acc.iter_mut().enumerate() {
                let x = _mm256_loadu_pd(ap.add(j + k));
                // Lane l of window j: acc[l] += x[l] * y[l], as `dot` (no FMA).
                *acc = _mm256_add_pd(*acc, _mm256_mul_pd(x, y));
            }
        }
        k += 4;
    }
    std::array::from_fn(|j| {
        let mut l = [0.0; 4];
        // SAFETY: `l` has 4 entries.
        unsafe { _mm256_storeu_pd(l.as_mut_ptr(), acc[j]) };
        let mut tail = 0.0;
        for (x, y) in a[j + body..j + len].iter().zip(&b[body..]) {
            tail += x * y;
        }
        (l[0] + l[1]) + (l[2] + l[3]) + tail
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot4_shifted_has_the_bits_of_four_dots() {
        for len in [1usize, 3, 4, 5, 8, 13, 2500] {
            let a: Vec<f64> = (0..len + 3)
                .map(|k| ((k * 7919 % 1013) as f64 - 500.0) * 1.37e-3)
                .collect();
            let b: Vec<f64> = (0..len)
                .map(|k| ((k * 104_729 % 997) as f64).sqrt())
                .collect();
            let got = dot4_shifted(&a, &b);
            for (j, g) in got.iter().enumerate() {
                let want = dot(&a[j..j + len], &b);
                assert_eq!(g.to_bits(), want.to_bits(), "len {len}, window {j}");
            }
        }
    }

    fn naive(
        out: &[f64],
        target: &[f64],
        n: usize,
        len: usize,
        s_len: usize,
        s: usize,
    ) -> CycleScore {
        let mut se = 0.0;
        let mut cs = 0.0;
        for i in 0..n {
            let x = &out[i * len + s..i * len + s + s_len];
            let y = &target[i * s_len..(i + 1) * s_len];
            let mx = x.iter().sum::<f64>() / s_len as f64;
            let my = y.iter().sum::<f64>() / s_len as f64;
            let (mut c, mut vx, mut vy) = (0.0, 0.0, 0.0);
            for k in 0..s_len {
                se += (x[k] - y[k]).powi(2);
                c += (x[k] - mx) * (y[k] - my);
                vx += (x[k] - mx).powi(2);
                vy += (y[k] - my).powi(2);
            }
            cs += c / (vx * vy).sqrt();
        }
        CycleScore {
            mse: se / (n * s_len) as f64,
            corr_sum: cs,
        }
    }

    fn wave(i: usize, k: usize, period: usize) -> f64 {
        let ph = (k % period) as f64 / period as f64;
        0.5 + 0.4 * (std::f64::consts::TAU * (ph + i as f64 * 0.13)).sin()
    }

    #[test]
    fn aligned_matches_naive_and_hand_values() {
        let (n, s_len) = (3, 40);
        let target: Vec<f64> = (0..n)
            .flat_map(|i| (0..s_len).map(move |k| wave(i, k, s_len)))
            .collect();
        let sc = ReplayScorer::new(&target, n, s_len);
        let perfect = sc.score_aligned(&target);
        assert!(perfect.mse.abs() < 1e-15);
        assert!((perfect.corr_sum - 3.0).abs() < 1e-12);
        // A constant offset of 0.1: MSE 0.01, correlation unchanged.
        let off: Vec<f64> = target.iter().map(|v| v + 0.1).collect();
        let s = sc.score_aligned(&off);
        assert!((s.mse - 0.01).abs() < 1e-12);
        assert!((s.corr_sum - 3.0).abs() < 1e-12);
        // Inverted output: correlation -1 per neuron.
        let inv: Vec<f64> = target.iter().map(|v| 1.0 - v).collect();
        assert!((sc.score_aligned(&inv).corr_sum + 3.0).abs() < 1e-12);
        let noisy: Vec<f64> = target
            .iter()
            .enumerate()
            .map(|(k, v)| v + 0.05 * ((k * 7919) % 13) as f64 / 13.0)
            .collect();
        let a = sc.score_aligned(&noisy);
        let b = naive(&noisy, &target, n, s_len, s_len, 0);
        assert!((a.mse - b.mse).abs() < 1e-13 && (a.corr_sum - b.corr_sum).abs() < 1e-12);
    }

    #[test]
    fn constant_output_gives_nan_correlation() {
        let target: Vec<f64> = (0..10).map(|k| wave(0, k, 10)).collect();
        let sc = ReplayScorer::new(&target, 1, 10);
        let s = sc.score_aligned(&[0.0266; 10]);
        assert!(s.corr_sum.is_nan());
        assert!(s.mse > 0.0);
    }

    #[test]
    fn shift_search_finds_a_delayed_replay() {
        let (n, s_len, lag) = (2, 50, 17);
        let target: Vec<f64> = (0..n)
            .flat_map(|i| (0..s_len).map(move |k| wave(i, k, s_len)))
            .collect();
        let len = 2 * s_len;
        // Output = target delayed by `lag` samples, periodic.
        let out: Vec<f64> = (0..n)
            .flat_map(|i| (0..len).map(move |k| wave(i, (k + s_len - lag) % s_len, s_len)))
            .collect();
        let sc = ReplayScorer::new(&target, n, s_len);
        let best = sc.score_best_shift(&out, len);
        assert!(best.mse < 1e-14, "{best:?}");
        assert!((best.corr_sum - 2.0).abs() < 1e-12);
        assert!(
            sc.score_aligned(
                &out.chunks(len)
                    .flat_map(|c| c[..s_len].to_vec())
                    .collect::<Vec<_>>()
            )
            .mse > 0.01
        );
        // Every shift agrees with the naive computation.
        let mut noisy = out.clone();
        for (k, v) in noisy.iter_mut().enumerate() {
            *v += 0.03 * ((k * 104_729) % 17) as f64 / 17.0;
        }
        let best = sc.score_best_shift(&noisy, len);
        let naive_best = (0..s_len)
            .map(|s| naive(&noisy, &target, n, len, s_len, s))
            .fold((f64::MAX, f64::MIN), |acc, c| {
                (acc.0.min(c.mse), acc.1.max(c.corr_sum))
            });
        assert!((best.mse - naive_best.0).abs() < 1e-12);
        assert!((best.corr_sum - naive_best.1).abs() < 1e-10);
    }
}
