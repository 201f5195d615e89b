//! Urbanczik-Senn dendritic-prediction learning rule with per-block learning rates and plasticity masks.
//!
//! $$\Delta w_{ij} = \eta_{ij}\,(\varphi(U_i) - \varphi(V^*_i))\,\mathrm{tr}_j$$ every step
//! (MODEL.md (e)). `eta_ij` is `eta_vv` when both neurons are visible and `eta_other` otherwise,
//! and 0 where the synapse does not exist or is frozen (reservoir mode freezes every row of a
//! latent post neuron). Weights are row-major `[post * n + pre]`.
//!
//! The kernels here fuse the weight update of one step with the dendritic mat-vec of the next
//! (one pass over W): `w_ij += (eta_ij err_i) tr_j; I_i += w_ij R_j`. Sums use eight
//! accumulators in a fixed order, so results do not depend on the CPU's vector width.

use serde::{Deserialize, Serialize};

/// Learning rates per step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearningRates {
    /// Visible -> visible synapses.
    pub eta_vv: f64,
    /// All other plastic synapses.
    pub eta_other: f64,
}

impl Default for LearningRates {
    fn default() -> Self {
        Self {
            eta_vv: 1e-4,
            eta_other: 1e-3,
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

/// Per-synapse learning rates, row-major `[post * n + pre]`; 0 for absent or frozen synapses.
pub fn rate_matrix(mask: &[bool], n: usize, n_visible: usize, rates: &LearningRates, rows: PlasticRows) -> Vec<f64> {
    assert_eq!(mask.len(), n * n, "mask shape");
    let mut eta = vec![0.0; n * n];
    for post in 0..n {
        if rows == PlasticRows::VisibleOnly && post >= n_visible {
            continue;
        }
        for pre in 0..n {
            if mask[post * n + pre] {
                eta[post * n + pre] = if post < n_visible && pre < n_visible { rates.eta_vv } else { rates.eta_other };
            }
        }
    }
    eta
}

/// Applies one step of the rule to every row: `w_ij += (eta_ij err_i) tr_j`.
pub fn update(w: &mut [f64], eta: &[f64], err: &[f64], trace: &[f64]) {
    let n = trace.len();
    for ((w_row, eta_row), &e) in w.chunks_exact_mut(n).zip(eta.chunks_exact(n)).zip(err) {
        for ((w, &eta), &tr) in w_row.iter_mut().zip(eta_row).zip(trace) {
            *w += (eta * e) * tr;
        }
    }
}

/// Dendritic drive `out_i = sum_j w_ij rates_j` (no learning).
pub fn drive(w: &[f64], rates: &[f64], out: &mut [f64]) {
    let n = rates.len();
    for (w_row, o) in w.chunks_exact(n).zip(out.iter_mut()) {
        *o = dot8(w_row, rates);
    }
}

/// Fused: applies the pending update (`err`, `trace` of the previous step), then computes the
/// drive from the updated weights. Equal to [`update`] followed by [`drive`], bit for bit.
pub fn update_and_drive(w: &mut [f64], eta: &[f64], err: &[f64], trace: &[f64], rates: &[f64], out: &mut [f64]) {
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn update_and_drive_avx2(w: &mut [f64], eta: &[f64], err: &[f64], trace: &[f64], rates: &[f64], out: &mut [f64]) {
    update_and_drive_body(w, eta, err, trace, rates, out);
}

#[inline(always)]
fn update_and_drive_body(w: &mut [f64], eta: &[f64], err: &[f64], trace: &[f64], rates: &[f64], out: &mut [f64]) {
    let n = rates.len();
    assert!(w.len() == n * n && eta.len() == n * n && err.len() == n && trace.len() == n && out.len() == n);
    for (((w_row, eta_row), &e), o) in w.chunks_exact_mut(n).zip(eta.chunks_exact(n)).zip(err).zip(out.iter_mut()) {
        let mut acc = [0.0f64; 8];
        let mut wc = w_row.chunks_exact_mut(8);
        let mut ec = eta_row.chunks_exact(8);
        let mut tc = trace.chunks_exact(8);
        let mut rc = rates.chunks_exact(8);
        for (((wv, ev), tv), rv) in (&mut wc).zip(&mut ec).zip(&mut tc).zip(&mut rc) {
            for l in 0..8 {
                wv[l] += (ev[l] * e) * tv[l];
                acc[l] += wv[l] * rv[l];
            }
        }
        let mut tail = 0.0;
        for (((w, &eta), &tr), &r) in wc.into_remainder().iter_mut().zip(ec.remainder()).zip(tc.remainder()).zip(rc.remainder()) {
            *w += (eta * e) * tr;
            tail += *w * r;
        }
        *o = reduce8(&acc) + tail;
    }
}

/// Dot product with the same eight-lane order as the fused kernel.
#[inline(always)]
fn dot8(a: &[f64], b: &[f64]) -> f64 {
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
fn reduce8(acc: &[f64; 8]) -> f64 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
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
        let all = rate_matrix(&mask, n, 2, &r, PlasticRows::All);
        assert_eq!(all, vec![0.0, 1e-4, 1e-3, 1e-4, 0.0, 1e-3, 1e-3, 1e-3, 0.0]);
        let res = rate_matrix(&mask, n, 2, &r, PlasticRows::VisibleOnly);
        assert_eq!(res, vec![0.0, 1e-4, 1e-3, 1e-4, 0.0, 1e-3, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn fused_equals_update_then_drive_bitwise() {
        for n in [3usize, 8, 13, 63] {
            let f = |k: usize| ((k * 2_654_435_761) % 1000) as f64 / 997.0 - 0.4;
            let mask: Vec<bool> = (0..n * n).map(|k| k / n != k % n && k % 7 != 3).collect();
            let eta = rate_matrix(&mask, n, n / 3, &LearningRates::default(), PlasticRows::All);
            let w0: Vec<f64> = (0..n * n).map(|k| if mask[k] { f(k) } else { 0.0 }).collect();
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
