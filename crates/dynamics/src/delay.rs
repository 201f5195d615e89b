//! Delay lines, staged in blocks of steps.
//!
//! Every neuron's rate history is a ring of its own (`hist[j * row + (step & mask)]`, neuron
//! major). A step does not read the rings: every `period` steps (up to 8, and at most the
//! shortest delay allows) the reads of the next `period` steps are copied into small tables,
//! one row per step (dendritic input `r_j(k - (D_den_j - 1))`, and each neuron's scaffold
//! output `g_exc0 * max(r_c(k - D_exc_c), phi_rest)` and the same for inhibition), and the
//! rates of the last `period` steps are collected in one table and written to the rings
//! together. So a step touches a few contiguous rows instead of three random places per neuron
//! (which evicted the weights from L1), with the same values as reading the rings every step:
//! a read for step `k` only needs rates of steps `<= k - period`, which are in the rings.
//!
//! Rates of steps before 0 are the resting rate. The rings hold `len > max delay` slots plus a
//! copy of their first `period` slots at the end, so that `period` consecutive slots never wrap.

use elise_core::AlignedVec;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// The 4 x 4 transpose: lane `q` of output `t` is lane `t` of input `q`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn transpose4(r: [__m256d; 4]) -> [__m256d; 4] {
    let t0 = _mm256_unpacklo_pd(r[0], r[1]);
    let t1 = _mm256_unpackhi_pd(r[0], r[1]);
    let t2 = _mm256_unpacklo_pd(r[2], r[3]);
    let t3 = _mm256_unpackhi_pd(r[2], r[3]);
    [
        _mm256_permute2f128_pd::<0x20>(t0, t2),
        _mm256_permute2f128_pd::<0x20>(t1, t3),
        _mm256_permute2f128_pd::<0x31>(t0, t2),
        _mm256_permute2f128_pd::<0x31>(t1, t3),
    ]
}

/// Staged delay lines of `n` neurons (tables padded to `stride` columns with zeros).
#[derive(Clone, Debug)]
pub(crate) struct DelayLines {
    n: usize,
    stride: usize,
    /// Ring length (a power of two above the longest delay).
    len: usize,
    /// Length of a neuron's ring with its mirrored head: `len + period`.
    row: usize,
    period: usize,
    /// `stride` rings (padding rings stay 0).
    hist: AlignedVec,
    /// Rates of steps `base..base + period`, row `t` for step `base + t`.
    written: AlignedVec,
    /// Reads for steps `base..base + period`, row `t` for step `base + t`.
    den: AlignedVec,
    exc: AlignedVec,
    inh: AlignedVec,
    lag_den: Vec<usize>,
    lag_exc: Vec<usize>,
    lag_inh: Vec<usize>,
    /// Whether the scaffold reads are needed (any scaffold edge).
    scaffold: bool,
    /// Whether the AVX2 block copies apply (CPU support and `period == 8`).
    avx2: bool,
    base: u64,
    phi_rest: f64,
    g_exc0: f64,
    g_inh0: f64,
}

impl DelayLines {
    /// Delay lines at rest. Delays are in steps, at least 2 each (`lag_den = D_den - 1`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        stride: usize,
        delay_den: &[usize],
        delay_exc: &[usize],
        delay_inh: &[usize],
        scaffold: bool,
        phi_rest: f64,
        g_exc0: f64,
        g_inh0: f64,
    ) -> Self {
        let n = delay_den.len();
        assert!(delay_exc.len() == n && delay_inh.len() == n && stride >= n);
        let lag_den: Vec<usize> = delay_den.iter().map(|&d| d - 1).collect();
        let lags = lag_den.iter().chain(delay_exc).chain(delay_inh);
        assert!(lags.clone().all(|&l| l >= 1), "delays of at least 2 steps");
        let period = lags.clone().copied().min().unwrap_or(8).min(8);
        let len = (lags.copied().max().unwrap_or(1) + 1).next_power_of_two();
        // Lags padded to `stride` (the padding rings are 0; any lag of at least `period` reads
        // them), for the block copies of four neurons.
        let padded = |lags: &[usize]| {
            let mut l = lags.to_vec();
            l.resize(stride, period);
            l
        };
        #[cfg(target_arch = "x86_64")]
        let avx2 =
            period == 8 && stride.is_multiple_of(4) && std::arch::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        let row = len + period;
        let mut me = Self {
            n,
            stride,
            len,
            row,
            period,
            hist: AlignedVec::filled(stride * row, 0.0),
            written: AlignedVec::filled(period * stride, 0.0),
            den: AlignedVec::filled(period * stride, 0.0),
            exc: AlignedVec::filled(period * stride, 0.0),
            inh: AlignedVec::filled(period * stride, 0.0),
            lag_den: padded(&lag_den),
            lag_exc: padded(delay_exc),
            lag_inh: padded(delay_inh),
            scaffold,
            avx2,
            base: 0,
            phi_rest,
            g_exc0,
            g_inh0,
        };
        me.reset();
        me
    }

    /// Every rate of the past at rest (steps `base..` included), the reads restaged.
    pub(crate) fn reset(&mut self) {
        let (n, row, rest) = (self.n, self.row, self.phi_rest);
        self.hist[..n * row].fill(rest);
        for w in self.written.chunks_exact_mut(self.stride) {
            w[..n].fill(rest);
        }
        self.restage();
    }

    /// Call at the start of step `k` (steps come in order): moves on to the next block of
    /// steps when the current one is complete.
    #[inline]
    pub(crate) fn advance(&mut self, k: u64) {
        if k - self.base == self.period as u64 {
            self.flush();
            self.base += self.period as u64;
            self.restage();
        }
        debug_assert!(k >= self.base && k - self.base < self.period as u64);
    }

    fn rows(&self, table: &[f64], k: u64) -> usize {
        let t = (k - self.base) as usize;
        debug_assert!(t < self.period && table.len() == self.period * self.stride);
        t * self.stride
    }

    /// Delayed dendritic inputs of step `k` (`stride` entries, zero padding).
    #[inline]
    pub(crate) fn den(&self, k: u64) -> &[f64] {
        let s = self.rows(&self.den, k);
        &self.den[s..s + self.stride]
    }

    /// Each neuron's scaffold outputs in step `k`, excitatory and inhibitory (`n` entries).
    #[inline]
    pub(crate) fn scaffold(&self, k: u64) -> (&[f64], &[f64]) {
        let s = self.rows(&self.exc, k);
        (&self.exc[s..s + self.n], &self.inh[s..s + self.n])
    }

    /// Records the rates of step `k` (`n` entries or more).
    #[inline]
    pub(crate) fn push(&mut self, k: u64, rate: &[f64]) {
        let s = self.rows(&self.written, k);
        self.written[s..s + self.n].copy_from_slice(&rate[..self.n]);
    }

    /// The rate of neuron `j` in step `step` (negative: before the start), with `k` the next
    /// step to run.
    fn rate_at(&self, k: u64, step: i64, j: usize) -> f64 {
        if step >= self.base as i64 {
            debug_assert!(step < k as i64);
            self.written[(step as u64 - self.base) as usize * self.stride + j]
        } else {
            self.hist[j * self.row + (step as usize & (self.len - 1))]
        }
    }

    /// The rates of the last `lags` steps before step `k`, newest first (`n` per step).
    pub(crate) fn history(&self, k: u64, lags: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(lags * self.n);
        for lag in 0..lags {
            let step = k as i64 - 1 - lag as i64;
            out.extend((0..self.n).map(|j| self.rate_at(k, step, j)));
        }
        out
    }

    /// Restores the lines of a network about to run step `k` from the rates of its last steps
    /// (newest first, `n` per step, as [`DelayLines::history`]); older steps are at rest.
    pub(crate) fn restore(&mut self, k: u64, history: &[f64]) {
        self.base = k - k % self.period as u64;
        self.reset();
        let mask = self.len - 1;
        for (lag, rates) in history.chunks_exact(self.n).enumerate() {
            let step = k as i64 - 1 - lag as i64;
            for (j, &r) in rates.iter().enumerate() {
                if step >= self.base as i64 {
                    self.written[(step as u64 - self.base) as usize * self.stride + j] = r;
                } else {
                    let slot = step as usize & mask;
                    self.hist[j * self.row + slot] = r;
                    if slot < self.period {
                        self.hist[j * self.row + self.len + slot] = r;
                    }
                }
            }
        }
        self.restage();
    }

    /// Writes the rates of steps `base..base + period` to the rings.
    fn flush(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: `avx2` implies AVX2 support, period 8 and a stride of whole quads.
            unsafe { self.flush_avx2() };
            return;
        }
        let (mask, row) = (self.len - 1, self.row);
        for t in 0..self.period {
            let slot = (self.base as usize + t) & mask;
            let w = &self.written[t * self.stride..t * self.stride + self.n];
            for (j, &r) in w.iter().enumerate() {
                self.hist[j * row + slot] = r;
                if slot < self.period {
                    self.hist[j * row + self.len + slot] = r;
                }
            }
        }
    }

    /// Fills the read tables for steps `base..base + period` from the rings.
    fn restage(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: as in `flush`.
            unsafe { self.restage_avx2() };
            return;
        }
        let (mask, row, stride, p) = (self.len - 1, self.row, self.stride, self.period);
        let base = self.base as usize;
        let (rest, g_e, g_i) = (self.phi_rest, self.g_exc0, self.g_inh0);
        for j in 0..self.n {
            let ring = &self.hist[j * row..(j + 1) * row];
            let start = |lag: usize| base.wrapping_sub(lag) & mask;
            let d = &ring[start(self.lag_den[j])..][..p];
            for (t, &x) in d.iter().enumerate() {
                self.den[t * stride + j] = x;
            }
            if self.scaffold {
                let e = &ring[start(self.lag_exc[j])..][..p];
                let i = &ring[start(self.lag_inh[j])..][..p];
                for (t, (&x, &y)) in e.iter().zip(i).enumerate() {
                    self.exc[t * stride + j] = g_e * x.max(rest);
                    self.inh[t * stride + j] = g_i * y.max(rest);
                }
            }
        }
    }

    /// [`DelayLines::flush`] for `period == 8`, four neurons at a time: two 4 x 4 transposes
    /// turn four rows of `written` (steps) into four rings' eight slots (an aligned block).
    ///
    /// # Safety
    /// AVX2 is available, `period == 8`, `stride` is a multiple of 4.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn flush_avx2(&mut self) {
        let (row, stride, len) = (self.row, self.stride, self.len);
        let slot = self.base as usize & (len - 1);
        // base is a multiple of 8 and len a power of two above 8: slot..slot + 8 stays inside.
        assert!(self.period == 8 && slot + 8 <= len && self.hist.len() == stride * row);
        assert!(self.written.len() == 8 * stride && stride.is_multiple_of(4));
        let (w, h) = (self.written.as_ptr(), self.hist.as_mut_ptr());
        for j in (0..stride).step_by(4) {
            // SAFETY: rows t < 8 of `written` have `stride` entries, j + 4 <= stride; ring
            // j + q has `row` = len + 8 entries and slot + 8 <= len.
            unsafe {
                let steps: [__m256d; 8] =
                    std::array::from_fn(|t| _mm256_loadu_pd(w.add(t * stride + j)));
                let lo = transpose4([steps[0], steps[1], steps[2], steps[3]]);
                let hi = transpose4([steps[4], steps[5], steps[6], steps[7]]);
                for q in 0..4 {
                    let ring = h.add((j + q) * row);
                    _mm256_storeu_pd(ring.add(slot), lo[q]);
                    _mm256_storeu_pd(ring.add(slot + 4), hi[q]);
                    if slot == 0 {
                        _mm256_storeu_pd(ring.add(len), lo[q]);
                        _mm256_storeu_pd(ring.add(len + 4), hi[q]);
                    }
                }
            }
        }
    }

    /// [`DelayLines::restage`] for `period == 8`, four neurons at a time: eight consecutive
    /// slots of four rings (floored and scaled for the scaffold reads: the same operations),
    /// transposed into four columns of eight table rows.
    ///
    /// # Safety
    /// As [`DelayLines::flush_avx2`].
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn restage_avx2(&mut self) {
        let (row, stride, mask) = (self.row, self.stride, self.len - 1);
        assert!(self.period == 8 && self.hist.len() == stride * row);
        assert!(self.lag_den.len() == stride && self.lag_exc.len() == stride);
        assert!(self.lag_inh.len() == stride && stride.is_multiple_of(4));
        for t in [&self.den, &self.exc, &self.inh] {
            assert!(t.len() == 8 * stride);
        }
        let base = self.base as usize;
        let h = self.hist.as_ptr();
        let floor = |g: f64| Some((_mm256_set1_pd(self.phi_rest), _mm256_set1_pd(g)));
        let kinds = [
            (&self.lag_den, self.den.as_mut_ptr(), None),
            (&self.lag_exc, self.exc.as_mut_ptr(), floor(self.g_exc0)),
            (&self.lag_inh, self.inh.as_mut_ptr(), floor(self.g_inh0)),
        ];
        let n_kinds = if self.scaffold { 3 } else { 1 };
        for (lags, out, floor) in kinds.into_iter().take(n_kinds) {
            for j in (0..stride).step_by(4) {
                // SAFETY: ring j + q has `row` = len + 8 entries and its start is below len;
                // table rows t < 8 have `stride` entries and j + 4 <= stride.
                unsafe {
                    let mut slots = [[_mm256_setzero_pd(); 2]; 4];
                    for (q, s) in slots.iter_mut().enumerate() {
                        let ring = h.add((j + q) * row + (base.wrapping_sub(lags[j + q]) & mask));
                        *s = [_mm256_loadu_pd(ring), _mm256_loadu_pd(ring.add(4))];
                        if let Some((rest, g)) = floor {
                            // maxpd returns its second operand (rest) on NaN, as f64::max.
                            *s = s.map(|x| _mm256_mul_pd(g, _mm256_max_pd(x, rest)));
                        }
                    }
                    let lo = transpose4(slots.map(|s| s[0]));
                    let hi = transpose4(slots.map(|s| s[1]));
                    for t in 0..4 {
                        _mm256_storeu_pd(out.add(t * stride + j), lo[t]);
                        _mm256_storeu_pd(out.add((t + 4) * stride + j), hi[t]);
                    }
                }
            }
        }
        // The padding columns of the dendritic table must stay 0 (the weight kernels read
        // them): the padding rings are 0, so they are.
        debug_assert!((self.n..stride).all(|j| (0..8).all(|t| self.den[t * stride + j] == 0.0)));
    }

    /// Heap bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        [&self.hist, &self.written, &self.den, &self.exc, &self.inh]
            .into_iter()
            .map(AlignedVec::heap_bytes)
            .sum::<usize>()
            + 8 * (self.lag_den.capacity() + self.lag_exc.capacity() + self.lag_inh.capacity())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [0, 1).
    fn unit(k: usize) -> f64 {
        ((k.wrapping_mul(2_654_435_761) >> 5) % 10_007) as f64 / 10_007.0
    }

    /// The staged reads equal reads of the full history, for staging periods of 8 (the AVX2
    /// copies) and below (short delays), across restores in the middle of a block.
    #[test]
    fn staged_reads_equal_the_history() {
        let (rest, g_e, g_i) = (0.03, 0.3, 6.0);
        for (n, lo, hi) in [
            (13usize, 50usize, 150usize),
            (5, 2, 9),
            (9, 4, 30),
            (8, 9, 12),
        ] {
            let stride = n.next_multiple_of(8);
            let delay = |seed: usize| -> Vec<usize> {
                (0..n)
                    .map(|j| lo + (unit(j * 31 + seed) * (hi - lo + 1) as f64) as usize)
                    .collect()
            };
            let (den, exc) = (delay(1), delay(2));
            let inh: Vec<usize> = exc.iter().map(|d| d + 3).collect();
            let mut lines = DelayLines::new(stride, &den, &exc, &inh, true, rest, g_e, g_i);
            // rates[s][j]: the rate of neuron j in step s.
            let mut rates: Vec<Vec<f64>> = Vec::new();
            let at = |rates: &Vec<Vec<f64>>, s: i64, j: usize| {
                if s < 0 { rest } else { rates[s as usize][j] }
            };
            for k in 0..700u64 {
                if k == 333 || k == 517 {
                    // Restore a copy from the saved history and continue with it.
                    // As a checkpoint: the rates of the last `longest delay` steps.
                    let lags = *den.iter().chain(&exc).chain(&inh).max().unwrap();
                    let h = lines.history(k, lags);
                    let mut other = DelayLines::new(stride, &den, &exc, &inh, true, rest, g_e, g_i);
                    other.restore(k, &h);
                    assert!(other.history(k, lags) == h, "history after restore");
                    lines = other;
                }
                lines.advance(k);
                let ks = k as i64;
                let d = lines.den(k);
                let (e, i) = lines.scaffold(k);
                for j in 0..n {
                    let want = at(&rates, ks - (den[j] as i64 - 1), j);
                    assert_eq!(d[j].to_bits(), want.to_bits(), "den n {n} k {k} j {j}");
                    let x = at(&rates, ks - exc[j] as i64, j);
                    assert_eq!(e[j].to_bits(), (g_e * x.max(rest)).to_bits());
                    let y = at(&rates, ks - inh[j] as i64, j);
                    assert_eq!(i[j].to_bits(), (g_i * y.max(rest)).to_bits());
                }
                assert!(d[n..].iter().all(|&x| x == 0.0), "zero padding");
                let r: Vec<f64> = (0..n).map(|j| unit(k as usize * 97 + j)).collect();
                lines.push(k, &r);
                rates.push(r);
            }
        }
    }
}
