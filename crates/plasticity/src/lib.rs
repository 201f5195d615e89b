//! Urbanczik-Senn dendritic-prediction learning rule with per-block learning rates and plasticity masks.
//!
//! $$\Delta w_{ij} = \eta_{ij}\,(\varphi(U_i) - \varphi(V^*_i))\,\mathrm{tr}_j$$ every step
//! (docs/model.md (e)). `eta_ij` is `eta_vv` when both neurons are visible and `eta_other` otherwise,
//! and 0 where the synapse does not exist or is frozen (reservoir mode freezes every row of a
//! latent post neuron). Weights are row-major `[post * n + pre]`.
//!
//! The kernels here fuse the weight update of one step with the dendritic mat-vec of the next
//! (one pass over W): `w_ij += (eta_ij err_i) tr_j; I_i += w_ij R_j`. Sums use eight
//! accumulators in a fixed order, so results do not depend on the CPU's vector width.

use serde::{Deserialize, Serialize};

mod dendrites;
pub use dendrites::{Dendrites, Layout, LayoutChoice, SparseWeights, csr_max_density};

/// Learning rates per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningRates {
    /// Visible -> visible synapses.
    pub eta_vv: f64,
    /// All other plastic synapses.
    pub eta_other: f64,
    /// Errors `|phi(U) - phi(V*)|` up to this size (a rate, in (0, 1) units) are set to 0
    /// before the weight update: the dead zone of one commit of the lab's fork. 0 = none, as
    /// in the CUDA code (and then nothing is compared, so results are the paper's bit for bit).
    #[serde(default)]
    pub error_dead_zone: f64,
}

impl Default for LearningRates {
    fn default() -> Self {
        Self {
            eta_vv: 1e-4,
            eta_other: 1e-3,
            error_dead_zone: 0.0,
        }
    }
}

/// Which post-synaptic rows learn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlasticRows {
    /// Every existing synapse (ELiSe).
    All,
    /// Only synapses onto visible neurons (reservoir mode).
    VisibleOnly,
}

/// Per-synapse learning rates, row-major with rows of `stride >= n` entries
/// (`[post * stride + pre]`, padding 0); 0 for absent or frozen synapses.
pub fn rate_matrix(
    mask: &[bool],
    n: usize,
    n_visible: usize,
    rates: &LearningRates,
    rows: PlasticRows,
    stride: usize,
) -> Vec<f64> {
    assert_eq!(mask.len(), n * n, "mask shape");
    assert!(stride >= n, "stride below n");
    let mut eta = vec![0.0; n * stride];
    for post in 0..n {
        if rows == PlasticRows::VisibleOnly && post >= n_visible {
            continue;
        }
        for pre in 0..n {
            if mask[post * n + pre] {
                eta[post * stride + pre] = if post < n_visible && pre < n_visible {
                    rates.eta_vv
                } else {
                    rates.eta_other
                };
            }
        }
    }
    eta
}

/// Applies one step of the rule to every row: `w_ij += (eta_ij err_i) tr_j`.
pub fn update(w: &mut [f64], eta: &[f64], err: &[f64], trace: &[f64]) {
    let stride = trace.len();
    for ((w_row, eta_row), &e) in w
        .chunks_exact_mut(stride)
        .zip(eta.chunks_exact(stride))
        .zip(err)
    {
        for ((w, &eta), &tr) in w_row.iter_mut().zip(eta_row).zip(trace) {
            *w += (eta * e) * tr;
        }
    }
}

/// Dendritic drive `out_i = sum_j w_ij rates_j` (no learning).
pub fn drive(w: &[f64], rates: &[f64], out: &mut [f64]) {
    let stride = rates.len();
    for (w_row, o) in w.chunks_exact(stride).zip(out.iter_mut()) {
        *o = dot8(w_row, rates);
    }
}

/// Fused: applies the pending update (`err`, `trace` of the previous step), then computes the
/// drive from the updated weights. Rows: `out.len()`; row stride: `rates.len()`. Equal to [`update`] followed by [`drive`], bit for bit.
pub fn update_and_drive(
    w: &mut [f64],
    eta: &[f64],
    err: &[f64],
    trace: &[f64],
    rates: &[f64],
    out: &mut [f64],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { update_and_drive_avx2(w, eta, err, trace, rates, out) };
            return;
        }
    }
    update_and_drive_body(w, eta, err, trace, rates, out);
}

/// Portable fused kernel: eight accumulators per row in a fixed order.
#[inline(always)]
fn update_and_drive_body(
    w: &mut [f64],
    eta: &[f64],
    err: &[f64],
    trace: &[f64],
    rates: &[f64],
    out: &mut [f64],
) {
    let (n, rows) = (rates.len(), out.len());
    assert!(w.len() == rows * n && eta.len() == rows * n && err.len() == rows && trace.len() == n);
    let n8 = n - n % 8;
    for (((w_row, eta_row), &e), o) in w
        .chunks_exact_mut(n)
        .zip(eta.chunks_exact(n))
        .zip(err)
        .zip(out.iter_mut())
    {
        let mut acc = [0.0f64; 8];
        let mut j = 0;
        while j < n8 {
            for l in 0..8 {
                w_row[j + l] += (eta_row[j + l] * e) * trace[j + l];
                acc[l] += w_row[j + l] * rates[j + l];
            }
            j += 8;
        }
        let mut tail = 0.0;
        for j in n8..n {
            w_row[j] += (eta_row[j] * e) * trace[j];
            tail += w_row[j] * rates[j];
        }
        *o = reduce8(&acc) + tail;
    }
}

/// AVX2 version of [`update_and_drive_body`]: the same operations in the same order (lane l of
/// the two 4-wide accumulators is accumulator l of the portable code), so the same bits.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_and_drive_avx2(
    w: &mut [f64],
    eta: &[f64],
    err: &[f64],
    trace: &[f64],
    rates: &[f64],
    out: &mut [f64],
) {
    use std::arch::x86_64::*;
    let (n, rows) = (rates.len(), out.len());
    assert!(w.len() == rows * n && eta.len() == rows * n && err.len() == rows && trace.len() == n);
    let n8 = n - n % 8;
    for i in 0..rows {
        let e = err[i];
        let row = i * n;
        let mut tail = 0.0;
        // SAFETY: every index below is < n within row `i` < rows of w and eta (len rows * n) and
        // < n in trace and rates (len n), checked by the assert above; unaligned loads, stores.
        let s = unsafe {
            let ev = _mm256_set1_pd(e);
            let (mut acc0, mut acc1) = (_mm256_setzero_pd(), _mm256_setzero_pd());
            let wp = w.as_mut_ptr().add(row);
            let ep = eta.as_ptr().add(row);
            let (tp, rp) = (trace.as_ptr(), rates.as_ptr());
            let mut j = 0;
            while j < n8 {
                let w0 = _mm256_add_pd(
                    _mm256_loadu_pd(wp.add(j)),
                    _mm256_mul_pd(
                        _mm256_mul_pd(_mm256_loadu_pd(ep.add(j)), ev),
                        _mm256_loadu_pd(tp.add(j)),
                    ),
                );
                let w1 = _mm256_add_pd(
                    _mm256_loadu_pd(wp.add(j + 4)),
                    _mm256_mul_pd(
                        _mm256_mul_pd(_mm256_loadu_pd(ep.add(j + 4)), ev),
                        _mm256_loadu_pd(tp.add(j + 4)),
                    ),
                );
                _mm256_storeu_pd(wp.add(j), w0);
                _mm256_storeu_pd(wp.add(j + 4), w1);
                acc0 = _mm256_add_pd(acc0, _mm256_mul_pd(w0, _mm256_loadu_pd(rp.add(j))));
                acc1 = _mm256_add_pd(acc1, _mm256_mul_pd(w1, _mm256_loadu_pd(rp.add(j + 4))));
                j += 8;
            }
            // s_l = acc_l + acc_{l+4}; then (s0 + s2) + (s1 + s3).
            let s4 = _mm256_add_pd(acc0, acc1);
            let s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
            _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)))
        };
        for j in n8..n {
            w[row + j] += (eta[row + j] * e) * trace[j];
            tail += w[row + j] * rates[j];
        }
        out[i] = s + tail;
    }
}

/// Dot product with the same eight-lane order as the fused kernel.
#[inline(always)]
pub(crate) fn dot8(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut tail = 0.0;
    for (x, y) in ac.remainder().iter().zip(bc.remainder()) {
        tail += x * y;
    }
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    reduce8(&acc) + tail
}

#[inline(always)]
pub(crate) fn reduce8(acc: &[f64; 8]) -> f64 {
    let s = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (s[0] + s[2]) + (s[1] + s[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_matrix_blocks_and_modes() {
        // 2 visible + 1 latent, all-to-all.
        let n = 3;
        let mask: Vec<bool> = (0..9).map(|k| k / 3 != k % 3).collect();
        let r = LearningRates::default();
        let all = rate_matrix(&mask, n, 2, &r, PlasticRows::All, n);
        assert_eq!(all, vec![0.0, 1e-4, 1e-3, 1e-4, 0.0, 1e-3, 1e-3, 1e-3, 0.0]);
        let res = rate_matrix(&mask, n, 2, &r, PlasticRows::VisibleOnly, n);
        assert_eq!(res, vec![0.0, 1e-4, 1e-3, 1e-4, 0.0, 1e-3, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn fused_equals_update_then_drive_bitwise() {
        for n in [3usize, 8, 13, 63] {
            let f = |k: usize| ((k * 2_654_435_761) % 1000) as f64 / 997.0 - 0.4;
            let mask: Vec<bool> = (0..n * n).map(|k| k / n != k % n && k % 7 != 3).collect();
            let eta = rate_matrix(
                &mask,
                n,
                n / 3,
                &LearningRates::default(),
                PlasticRows::All,
                n,
            );
            let w0: Vec<f64> = (0..n * n)
                .map(|k| if mask[k] { f(k) } else { 0.0 })
                .collect();
            let err: Vec<f64> = (0..n).map(|k| f(k + 11) * 0.3).collect();
            let tr: Vec<f64> = (0..n).map(|k| f(k + 5).abs()).collect();
            let rates: Vec<f64> = (0..n).map(|k| f(k + 17).abs()).collect();
            let (mut w1, mut w2) = (w0.clone(), w0.clone());
            let (mut o1, mut o2) = (vec![0.0; n], vec![0.0; n]);
            update(&mut w1, &eta, &err, &tr);
            drive(&w1, &rates, &mut o1);
            update_and_drive(&mut w2, &eta, &err, &tr, &rates, &mut o2);
            assert_eq!(w1, w2);
            assert_eq!(o1, o2);
            // The portable body gives the same bits as the dispatched (possibly AVX2) kernel.
            let (mut w3, mut o3) = (w0.clone(), vec![0.0; n]);
            update_and_drive_body(&mut w3, &eta, &err, &tr, &rates, &mut o3);
            assert_eq!(w3, w2);
            assert_eq!(o3, o2);
            // Hand check of one element: w_01 += (eta_vv * err_0) * tr_1 where both visible.
            if n >= 6 && mask[1] {
                assert_eq!(w1[1], w0[1] + (1e-4 * err[0]) * tr[1]);
            }
            // Absent synapses never change.
            assert!((0..n * n).filter(|&k| !mask[k]).all(|k| w1[k] == 0.0));
            // Drive equals the naive sum within rounding.
            for i in 0..n {
                let naive: f64 = (0..n).map(|j| w1[i * n + j] * rates[j]).sum();
                assert!((naive - o1[i]).abs() < 1e-12);
            }
        }
    }
}
