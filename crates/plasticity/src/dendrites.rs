//! Storage of the dendritic weights with the layout chosen for speed, and the fused
//! update + drive kernels on it.
//!
//! Three layouts give the same bits as the reference (`update` then `drive` on the dense
//! `[post * stride + pre]` matrices of [`crate::rate_matrix`]):
//! - [`Layout::Structured`]: all-to-all without self-synapses and the block learning rates of
//!   [`crate::rate_matrix`] (the paper's demo network). No rate matrix is stored: row `i` learns
//!   with `eta_vv * err_i` on visible columns of visible rows and `eta_other * err_i` elsewhere;
//!   only the 8-column block holding the diagonal (and, for visible rows, the block holding the
//!   visible/latent boundary) needs per-column factors. Two rows share each load of the trace
//!   and rates. Frozen rows (reservoir mode) only compute the drive.
//! - [`Layout::Masked`]: any mask, dense W and rate matrix (the previous kernel); the mask is
//!   kept as a bit set (one bit per pair) for [`Dendrites::to_sparse`].
//! - [`Layout::Csr`]: the weights as an `sprs` CSR matrix ([`SparseWeights`], column indices
//!   `u32`) and the rates in the order of its entries, for sparse masks. The drive keeps one
//!   accumulator per column residue mod 8, in increasing column order, so the sum is the dense
//!   kernel's sum without its exact-zero terms: the same bits (for finite rates).
//!
//! [`Dendrites::to_sparse`] gives the existing synapses and their weights as a [`SparseWeights`]
//! matrix in every layout.
//!
//! Every layout sums the drive of a row in eight accumulators (`acc[j mod 8]`, increasing `j`)
//! combined as `((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7))`; the update of a synapse is
//! `w += (eta * err) * tr`, no FMA. So the layout never changes results.

use crate::{LearningRates, PlasticRows, rate_matrix};
use elise_core::AlignedVec;

/// Dendritic weights as a sparse matrix: `n x n`, CSR, row = post, column = pre, one entry per
/// existing synapse (an entry may hold 0), columns increasing within a row. `u32` column indices
/// keep the CSR kernel's index traffic at half that of `usize`.
pub type SparseWeights = sprs::CsMatI<f64, u32, usize>;

/// How [`Dendrites`] stores the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// All-to-all with block learning rates (no stored rate matrix).
    Structured,
    /// Dense weights and rates with a mask (any connectivity).
    Masked,
    /// Compressed sparse rows.
    Csr,
}

/// Layout requested at construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LayoutChoice {
    /// Structured when the mask allows it, else CSR when the density is at most
    /// [`csr_max_density`], else masked.
    #[default]
    Auto,
    /// A given layout; `Structured` falls back to `Masked` when the mask is not all-to-all.
    Force(Layout),
}

/// Highest fraction of existing synapses (of n x n) at which [`LayoutChoice::Auto`] picks CSR
/// for `n` neurons. From `scripts/bench/step_scaling.sh` and `step_profile` (whole steps, fastest
/// segments, Zen 3): below 128 neurons the dense masked kernel is faster at every density
/// (N = 63: 1.34 µs against 1.48 / 1.89 / 2.12 µs for CSR at 0.05 / 0.1 / 0.3); from 128 to
/// 1023 CSR wins up to about 0.15 (N = 256: 11.8 against 18 µs at 0.1, 27.6 against 18.5 µs at
/// 0.3; N = 512: 48 against 75 µs at 0.1, 104 against 85 µs at 0.2); from 1024 neurons, where the
/// masked weights and rates leave the caches, up to at least 0.3 (N = 1024: 578 against 806 µs).
/// The layout never changes results, only time and memory.
pub fn csr_max_density(n: usize) -> f64 {
    match n {
        0..128 => 0.0,
        128..1024 => 0.15,
        _ => 0.3,
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct RowRates {
    /// Learning rate on columns `< boundary` and on columns `>= boundary` (0 for frozen rows).
    a: f64,
    b: f64,
    boundary: usize,
    plastic: bool,
}

/// Dendritic weights of a network of `n` neurons, with their learning rates.
#[derive(Clone, Debug)]
pub struct Dendrites {
    n: usize,
    stride: usize,
    layout: Layout,
    /// Dense (structured, masked): `n * stride` (zero padding); CSR: empty.
    w: AlignedVec,
    /// Masked: `n * stride`; CSR: one per stored synapse, in the order of `csr.data()`;
    /// Structured: empty.
    eta: AlignedVec,
    /// Per row (all layouts): whether any synapse of the row learns.
    row_plastic: Vec<bool>,
    /// Structured only: per row, and the rows grouped for the kernel.
    row_rates: Vec<RowRates>,
    groups: Vec<Group>,
    /// CSR only (else 0 x 0): the weights and their structure.
    csr: SparseWeights,
    /// Masked only (else empty): the mask, bit `k % 64` of word `k / 64` for `k = post * n +
    /// pre` (1/512 of the dense weights and rates, never read by the kernels).
    mask_bits: Vec<u64>,
    n_plastic: usize,
    n_synapses: usize,
    avx2: bool,
    /// Direction of the next structured pass over the rows (see `structured_avx2`).
    reverse: bool,
}

impl Dendrites {
    /// Weights `w_init` (row-major `[post * n + pre]`, 0 where `mask` is false) and the
    /// rates of [`crate::rate_matrix`] for `mask`, `n_visible`, `rates`, `rows`.
    pub fn new(
        mask: &[bool],
        w_init: &[f64],
        n: usize,
        n_visible: usize,
        rates: &LearningRates,
        rows: PlasticRows,
        choice: LayoutChoice,
    ) -> Self {
        let eta = rate_matrix(mask, n, n_visible, rates, rows, n);
        Self::from_dense(mask, w_init, &eta, n, n_visible, choice)
    }

    /// Weights and per-synapse learning rates given as `n x n` row-major matrices (e.g. a
    /// checkpoint); `eta` must be 0 where `mask` is false. The structured layout is used when
    /// the rates turn out to be block rates (checked entry by entry).
    pub fn from_dense(
        mask: &[bool],
        w_init: &[f64],
        eta_nn: &[f64],
        n: usize,
        n_visible: usize,
        choice: LayoutChoice,
    ) -> Self {
        assert_eq!(mask.len(), n * n, "mask shape");
        assert_eq!(w_init.len(), n * n, "weight shape");
        assert_eq!(eta_nn.len(), n * n, "rate shape");
        assert!(n < u32::MAX as usize, "too many neurons");
        assert!(
            (0..n * n).all(|k| mask[k] || eta_nn[k] == 0.0),
            "learning rate on an absent synapse"
        );
        let stride = n.next_multiple_of(8);
        let mut eta = vec![0.0; n * stride];
        for (row, src) in eta.chunks_exact_mut(stride).zip(eta_nn.chunks_exact(n)) {
            row[..n].copy_from_slice(src);
        }
        let n_plastic = eta.iter().filter(|&&e| e != 0.0).count();
        let n_synapses = mask.iter().filter(|&&m| m).count();
        let row_plastic: Vec<bool> = eta
            .chunks_exact(stride.max(1))
            .map(|r| r.iter().any(|&e| e != 0.0))
            .collect();
        // Structured: every row all-to-all off the diagonal, with one rate on the visible
        // columns and one on the others (visible rows) or one rate (latent rows), or frozen.
        let row_rates: Vec<RowRates> = (0..n)
            .map(|i| {
                let at = |j: usize| eta_nn[i * n + j];
                let other = |lo: usize, hi: usize| (lo..hi).find(|&j| j != i).map_or(0.0, at);
                let (a, boundary) = if i < n_visible {
                    (other(0, n_visible), n_visible)
                } else {
                    (other(0, n), 0)
                };
                let b = other(n_visible, n);
                let b = if i < n_visible { b } else { a };
                RowRates {
                    a,
                    b,
                    boundary,
                    plastic: row_plastic[i],
                }
            })
            .collect();
        let structured_ok = (0..n).all(|i| {
            (0..n).all(|j| {
                let expect = structured_rate(&row_rates[i], i, j, n);
                mask[i * n + j] == (i != j) && eta[i * stride + j].to_bits() == expect.to_bits()
            })
        });
        let density = n_synapses as f64 / (n * n).max(1) as f64;
        let layout = match choice {
            LayoutChoice::Force(Layout::Structured) | LayoutChoice::Auto if structured_ok => {
                Layout::Structured
            }
            LayoutChoice::Force(Layout::Csr) => Layout::Csr,
            LayoutChoice::Auto if density > 0.0 && density <= csr_max_density(n) => Layout::Csr,
            _ => Layout::Masked,
        };
        let mut me = Self {
            n,
            stride,
            layout,
            w: AlignedVec::default(),
            eta: AlignedVec::default(),
            row_plastic,
            row_rates: Vec::new(),
            groups: Vec::new(),
            csr: SparseWeights::zero((0, 0)),
            mask_bits: Vec::new(),
            n_plastic,
            n_synapses,
            avx2: avx2_available(),
            reverse: false,
        };
        match layout {
            Layout::Structured | Layout::Masked => {
                me.w = AlignedVec::filled(n * stride, 0.0);
                // Absent synapses hold +0 (never -0): the structured kernel resets the
                // diagonal to +0 after each update instead of adding (0 * err) * tr to it.
                for (k, (&m, &w)) in mask.iter().zip(w_init).enumerate() {
                    me.w[(k / n) * stride + k % n] = if m { w } else { 0.0 };
                }
                if layout == Layout::Structured {
                    me.groups = Group::plan(&row_rates, n);
                    me.row_rates = row_rates;
                } else {
                    me.eta = eta.into();
                    me.mask_bits = vec![0; (n * n).div_ceil(64)];
                    for (k, _) in mask.iter().enumerate().filter(|&(_, &m)| m) {
                        me.mask_bits[k / 64] |= 1 << (k % 64);
                    }
                }
            }
            Layout::Csr => {
                let (row_ptr, col) = compress(mask, n, n_synapses);
                let (mut w, mut rates) = (Vec::new(), Vec::new());
                w.reserve_exact(n_synapses);
                rates.reserve_exact(n_synapses);
                for (k, _) in mask.iter().enumerate().filter(|&(_, &m)| m) {
                    w.push(w_init[k]);
                    rates.push(eta[(k / n) * stride + k % n]);
                }
                me.csr = SparseWeights::new((n, n), row_ptr, col, w);
                me.eta = rates.into();
            }
        }
        me
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }
    pub fn n_neurons(&self) -> usize {
        self.n
    }
    /// Length of the `trace` and `rates` vectors the kernels take: n rounded up to 8.
    pub fn stride(&self) -> usize {
        self.stride
    }
    /// Synapses with a non-zero learning rate.
    pub fn n_plastic(&self) -> usize {
        self.n_plastic
    }
    /// Existing synapses (mask entries).
    pub fn n_synapses(&self) -> usize {
        self.n_synapses
    }
    /// Heap bytes of the weights and their structure.
    pub fn memory_bytes(&self) -> usize {
        self.w.heap_bytes()
            + self.eta.heap_bytes()
            + 8 * self.csr.indptr().len()
            + 12 * self.csr.nnz()
            + 8 * self.mask_bits.capacity()
            + self.row_plastic.capacity()
            + std::mem::size_of::<RowRates>() * self.row_rates.capacity()
    }

    /// Learning rates, row-major `[post * n + pre]` (0 for absent or frozen synapses).
    pub fn rates_dense(&self) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            match self.layout {
                Layout::Structured => {
                    for j in 0..n {
                        out[i * n + j] = structured_rate(&self.row_rates[i], i, j, n);
                    }
                }
                Layout::Masked => out[i * n..(i + 1) * n]
                    .copy_from_slice(&self.eta[i * self.stride..i * self.stride + n]),
                Layout::Csr => {
                    for k in self.csr.indptr().outer_inds_sz(i) {
                        out[i * n + self.csr.indices()[k] as usize] = self.eta[k];
                    }
                }
            }
        }
        out
    }

    /// The first synapse (post, pre, weight) whose weight is not finite, if any.
    pub fn first_non_finite(&self) -> Option<(usize, usize, f64)> {
        let w = self.to_dense();
        let k = w.iter().position(|x| !x.is_finite())?;
        Some((k / self.n, k % self.n, w[k]))
    }

    /// Weights, row-major `[post * n + pre]` (0 for absent synapses).
    pub fn to_dense(&self) -> Vec<f64> {
        let n = self.n;
        let mut out = vec![0.0; n * n];
        match self.layout {
            Layout::Structured | Layout::Masked => {
                for (o, row) in out
                    .chunks_exact_mut(n)
                    .zip(self.w.chunks_exact(self.stride))
                {
                    o.copy_from_slice(&row[..n]);
                }
            }
            Layout::Csr => {
                for (&w, (i, j)) in &self.csr {
                    out[i as usize * n + j as usize] = w;
                }
            }
        }
        out
    }

    /// The existing synapses and their weights as a sparse matrix (row = post, column = pre;
    /// a copy). Absent synapses have no entry; an existing one may hold 0.
    pub fn to_sparse(&self) -> SparseWeights {
        let n = self.n;
        match self.layout {
            Layout::Csr => self.csr.clone(),
            Layout::Masked | Layout::Structured => {
                let exists = |i: usize, j: usize| match self.layout {
                    Layout::Masked => {
                        let k = i * n + j;
                        self.mask_bits[k / 64] >> (k % 64) & 1 == 1
                    }
                    // All-to-all without the diagonal.
                    _ => i != j,
                };
                let mut row_ptr = Vec::with_capacity(n + 1);
                let mut col = Vec::with_capacity(self.n_synapses);
                let mut w = Vec::with_capacity(self.n_synapses);
                row_ptr.push(0);
                for i in 0..n {
                    for j in (0..n).filter(|&j| exists(i, j)) {
                        col.push(j as u32);
                        w.push(self.w[i * self.stride + j]);
                    }
                    row_ptr.push(col.len());
                }
                SparseWeights::new((n, n), row_ptr, col, w)
            }
        }
    }

    fn check(&self, err: &[f64], trace: &[f64], rates: &[f64], out: &[f64]) {
        assert!(err.len() == self.n && out.len() == self.n, "err/out length");
        assert!(
            trace.len() == self.stride && rates.len() == self.stride,
            "padded length"
        );
        debug_assert!(
            trace[self.n..]
                .iter()
                .chain(&rates[self.n..])
                .all(|&x| x == 0.0)
        );
    }

    /// The rule for one step: `w_ij += (eta_ij err_i) tr_j` on every synapse. `trace` has
    /// [`Dendrites::stride`] entries with zero padding.
    #[allow(clippy::needless_range_loop)]
    pub fn update(&mut self, err: &[f64], trace: &[f64]) {
        assert!(err.len() == self.n && trace.len() == self.stride, "lengths");
        let (n, stride) = (self.n, self.stride);
        match self.layout {
            Layout::Masked => crate::update(&mut self.w, &self.eta, err, trace),
            Layout::Structured => {
                for i in 0..n {
                    let rr = self.row_rates[i];
                    if !rr.plastic {
                        continue;
                    }
                    let e = err[i];
                    for (j, (w, &tr)) in self.w[i * stride..(i + 1) * stride]
                        .iter_mut()
                        .zip(trace)
                        .enumerate()
                    {
                        *w += (structured_rate(&rr, i, j, n) * e) * tr;
                    }
                }
            }
            Layout::Csr => {
                // The sprs matrix's own slices (row offsets, columns, weights), updated in place.
                let (row_ptr, col, w) = self.csr.view_mut().into_raw_storage();
                for i in 0..n {
                    let e = err[i];
                    for k in row_ptr[i]..row_ptr[i + 1] {
                        w[k] += (self.eta[k] * e) * trace[col[k] as usize];
                    }
                }
            }
        }
    }

    /// Dendritic drive `out_i = sum_j w_ij rates_j` (no learning).
    pub fn drive(&self, rates: &[f64], out: &mut [f64]) {
        assert!(out.len() == self.n && rates.len() == self.stride, "lengths");
        match self.layout {
            Layout::Masked | Layout::Structured => crate::drive(&self.w, rates, out),
            Layout::Csr => {
                // A bespoke loop over the sprs matrix's slices: sprs's product sums a row in
                // one accumulator, this one in the dense kernel's eight lanes (same bits).
                let indptr = self.csr.indptr();
                let (row_ptr, col, w) = (indptr.raw_storage(), self.csr.indices(), self.csr.data());
                for (i, o) in out.iter_mut().enumerate() {
                    let mut acc = [0.0f64; 8];
                    for k in row_ptr[i]..row_ptr[i + 1] {
                        let j = col[k] as usize;
                        acc[j & 7] += w[k] * rates[j];
                    }
                    *o = crate::reduce8(&acc) + 0.0;
                }
            }
        }
    }

    /// Fused: the pending update (`err`, `trace` of the previous step), then the drive from the
    /// updated weights; the same bits as [`Dendrites::update`] then [`Dendrites::drive`].
    pub fn update_and_drive(&mut self, err: &[f64], trace: &[f64], rates: &[f64], out: &mut [f64]) {
        self.check(err, trace, rates, out);
        match self.layout {
            Layout::Masked => {
                crate::update_and_drive(&mut self.w, &self.eta, err, trace, rates, out);
            }
            Layout::Structured => {
                #[cfg(target_arch = "x86_64")]
                if self.avx2 {
                    // SAFETY: AVX2 was detected at construction.
                    unsafe { self.structured_avx2(err, trace, rates, out) };
                    return;
                }
                self.update(err, trace);
                self.drive(rates, out);
            }
            Layout::Csr => self.csr_fused(err, trace, rates, out),
        }
    }

    /// The CSR kernel: a bespoke loop over the sprs matrix's row offsets, column indices and
    /// weights (updated in place), for speed and for the dense kernel's lane order (sprs's
    /// product sums a row in one accumulator).
    fn csr_fused(&mut self, err: &[f64], trace: &[f64], rates: &[f64], out: &mut [f64]) {
        let (row_ptr, col, w) = self.csr.view_mut().into_raw_storage();
        let eta = &self.eta[..];
        for (i, o) in out.iter_mut().enumerate() {
            let (lo, hi) = (row_ptr[i], row_ptr[i + 1]);
            let mut acc = [0.0f64; 8];
            let (w, col) = (&mut w[lo..hi], &col[lo..hi]);
            if self.row_plastic[i] {
                let e = err[i];
                for ((w, &eta), &j) in w.iter_mut().zip(&eta[lo..hi]).zip(col) {
                    let j = j as usize;
                    *w += (eta * e) * trace[j];
                    acc[j & 7] += *w * rates[j];
                }
            } else {
                for (&w, &j) in w.iter().zip(col) {
                    let j = j as usize;
                    acc[j & 7] += w * rates[j];
                }
            }
            *o = crate::reduce8(&acc) + 0.0;
        }
    }

    /// Structured kernel: groups of up to four rows (same block of 8, same rates) sharing the
    /// loads of `trace` and `rates`; each group runs a few precomputed segments of blocks.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn structured_avx2(
        &mut self,
        err: &[f64],
        trace: &[f64],
        rates: &[f64],
        out: &mut [f64],
    ) {
        let (n, stride) = (self.n, self.stride);
        // `check` ran: every slice has its full length, and `Group::plan` keeps every group's
        // rows inside 0..n and its segments inside 0..stride / 8.
        assert!(self.w.len() == n * stride && err.len() == n && out.len() == n);
        assert!(trace.len() == stride && rates.len() == stride);
        let (tp, rp) = (trace.as_ptr(), rates.as_ptr());
        let wp = self.w.as_mut_ptr();
        // Rows start on cache lines (`AlignedVec`, stride a multiple of 8): no access to W
        // splits across two lines (the network's trace and rates are aligned too).
        debug_assert!((wp as usize).is_multiple_of(64));
        // Alternate the direction of the pass over the groups every call: W does not fit in L1
        // next to the rest of a step's data, and the rows used last stay cached for the next
        // pass. Rows are independent, so the order never changes results.
        let reverse = self.reverse;
        self.reverse = !reverse;
        let groups = &self.groups[..];
        for k in 0..groups.len() {
            let g = &groups[if reverse { groups.len() - 1 - k } else { k }];
            let i = g.row;
            // SAFETY: rows i..i + g.len lie inside W (see above), and AVX2 is enabled here.
            unsafe {
                let w = wp.add(i * stride);
                let e = err.as_ptr().add(i);
                let o = out.as_mut_ptr().add(i);
                if g.frozen {
                    *o = crate::dot8(std::slice::from_raw_parts(w, stride), rates) + 0.0;
                    continue;
                }
                match g.len {
                    4 => store_out(o, group_avx2::<4>(g, w, stride, e, tp, rp)),
                    3 => store_out(o, group_avx2::<3>(g, w, stride, e, tp, rp)),
                    2 => store_out(o, group_avx2::<2>(g, w, stride, e, tp, rp)),
                    _ => store_out(o, group_avx2::<1>(g, w, stride, e, tp, rp)),
                }
            }
        }
    }
}

/// The row offsets and column indices of the `true` entries of a row-major `n x n` mask with
/// `nnz` of them.
fn compress(mask: &[bool], n: usize, nnz: usize) -> (Vec<usize>, Vec<u32>) {
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut col = Vec::with_capacity(nnz);
    row_ptr.push(0);
    for row in mask.chunks_exact(n.max(1)) {
        col.extend((0..n).filter(|&j| row[j]).map(|j| j as u32));
        row_ptr.push(col.len());
    }
    (row_ptr, col)
}

/// The rate matrix entry of a structured row (0 on the diagonal and the padding).
#[inline(always)]
fn structured_rate(rr: &RowRates, i: usize, j: usize, n: usize) -> f64 {
    if j == i || j >= n || !rr.plastic {
        0.0
    } else if j < rr.boundary {
        rr.a
    } else {
        rr.b
    }
}

fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Writes `R` drives.
///
/// # Safety
/// `o` points to `R` writable entries.
#[inline(always)]
unsafe fn store_out<const R: usize>(o: *mut f64, s: [f64; R]) {
    for (r, x) in s.into_iter().enumerate() {
        // SAFETY: by the caller.
        unsafe { *o.add(r) = x };
    }
}

/// Most rows a group of the structured kernel holds (their accumulators, factors, trace and
/// rates fill the 16 AVX2 registers).
const GROUP_ROWS: usize = 4;

/// No block (a `Segment::diag` that is not inside the segment).
const NO_BLOCK: u32 = u32::MAX;

/// A run of blocks `lo..hi` of a group with one factor per row.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    lo: u32,
    hi: u32,
    /// false: one rate per row on every lane (`eta`); true: the per-lane rates of a boundary
    /// block (`lo + 1 == hi`, `Group::rates`).
    per_lane: bool,
    /// Uniform segments: each row's learning rate on these blocks.
    eta: [f64; GROUP_ROWS],
    /// The block holding the group's diagonal if it lies in `lo..hi` and the segment is
    /// uniform: the diagonal lanes are reset to +0 after the update (their rate is 0 and
    /// their weight is +0, see `Dendrites::from_dense`), else `NO_BLOCK`.
    diag: u32,
}

const EMPTY_SEGMENT: Segment = Segment {
    lo: 0,
    hi: 0,
    per_lane: false,
    eta: [0.0; GROUP_ROWS],
    diag: NO_BLOCK,
};

/// Most segments of a group: a uniform run, a boundary block, a uniform run (every row's
/// boundary is `n_visible` or 0), with room for one more split.
const MAX_SEGMENTS: usize = 4;

/// Up to four plastic rows of the structured kernel inside one aligned quad `4m..4m + 4` (so
/// their diagonals lie in the same block of 8), or one frozen row. The rows may belong to
/// different classes (visible and latent rows share the quad holding the boundary). The blocks
/// are planned as segments in increasing order: uniform runs with one learning rate per row,
/// and the block holding a class boundary that is not a multiple of 8, with per-column rates;
/// in a uniform block holding the diagonal the diagonal lanes keep their weight +0.
#[derive(Clone, Debug)]
struct Group {
    row: usize,
    len: usize,
    frozen: bool,
    segments: [Segment; MAX_SEGMENTS],
    n_segments: usize,
    /// The per-lane rates of the boundary block, `[row][lane]` (boxed: the kernel reads the
    /// groups every step, so they stay small).
    rates: Box<[[f64; 8]; GROUP_ROWS]>,
}

/// `DIAG_KEEP[l]`: all bits set except on lane `l` (zero), as two 4-lane halves.
static DIAG_KEEP: [[u64; 8]; 8] = {
    let mut m = [[u64::MAX; 8]; 8];
    let mut l = 0;
    while l < 8 {
        m[l][l] = 0;
        l += 1;
    }
    m
};

impl Group {
    fn plan(row_rates: &[RowRates], n: usize) -> Vec<Group> {
        let nb = n.div_ceil(8);
        let mut groups = Vec::new();
        let mut i = 0;
        while i < n {
            let plastic = row_rates[i].plastic;
            let mut len = 1;
            while plastic
                && len < GROUP_ROWS
                && i + len < n
                && !(i + len).is_multiple_of(GROUP_ROWS)
                && row_rates[i + len].plastic
            {
                len += 1;
            }
            let rows = &row_rates[i..i + len];
            // Blocks with per-column rates: those holding a boundary that is not a block edge.
            let mut special: Vec<usize> = rows
                .iter()
                .filter(|rr| !rr.boundary.is_multiple_of(8) && rr.boundary < n)
                .map(|rr| rr.boundary / 8)
                .collect();
            special.sort_unstable();
            special.dedup();
            assert!(special.len() <= 1, "one class boundary per group");
            let mut cuts = vec![0, nb];
            cuts.extend(special.iter().flat_map(|&b| [b, b + 1]));
            cuts.extend(rows.iter().map(|rr| rr.boundary.div_ceil(8).min(nb)));
            cuts.sort_unstable();
            cuts.dedup();
            let diag = i / 8;
            let mut rates = Box::new([[0.0; 8]; GROUP_ROWS]);
            if let Some(&bb) = special.first() {
                for (r, lanes) in rates.iter_mut().enumerate().take(len) {
                    for (l, x) in lanes.iter_mut().enumerate() {
                        *x = structured_rate(&rows[r], i + r, bb * 8 + l, n);
                    }
                }
            }
            let mut segments = [EMPTY_SEGMENT; MAX_SEGMENTS];
            let mut n_segments = 0;
            for w in cuts.windows(2) {
                let (lo, hi) = (w[0], w[1]);
                let seg = if special.contains(&lo) {
                    Segment {
                        lo: lo as u32,
                        hi: hi as u32,
                        per_lane: true,
                        ..EMPTY_SEGMENT
                    }
                } else {
                    // No boundary inside lo..hi: each row's rate of its first column holds for
                    // the whole run (off the diagonal).
                    let mut eta = [0.0; GROUP_ROWS];
                    for (r, rr) in rows.iter().enumerate() {
                        eta[r] = if lo * 8 < rr.boundary { rr.a } else { rr.b };
                    }
                    Segment {
                        lo: lo as u32,
                        hi: hi as u32,
                        per_lane: false,
                        eta,
                        diag: if (lo..hi).contains(&diag) {
                            diag as u32
                        } else {
                            NO_BLOCK
                        },
                    }
                };
                assert!(n_segments < MAX_SEGMENTS, "too many segments");
                segments[n_segments] = seg;
                n_segments += 1;
            }
            groups.push(Group {
                row: i,
                len,
                frozen: !plastic,
                segments,
                n_segments,
                rates,
            });
            i += len;
        }
        groups
    }
}

/// `R` plastic rows of a group: `w += (eta * err) * tr`, then the eight-lane drive, per row.
///
/// # Safety
/// AVX2 is available; `w` points to `R` rows of `stride` entries, `err` to `R` entries, `tp` and
/// `rp` to `stride` entries, and every segment of `g` lies inside `0..stride / 8`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn group_avx2<const R: usize>(
    g: &Group,
    w: *mut f64,
    stride: usize,
    err: *const f64,
    tp: *const f64,
    rp: *const f64,
) -> [f64; R] {
    use std::arch::x86_64::*;
    let mut acc0 = [_mm256_setzero_pd(); R];
    let mut acc1 = [_mm256_setzero_pd(); R];
    // SAFETY: `err` has R entries, `w` R rows.
    let e: [f64; R] = std::array::from_fn(|r| unsafe { *err.add(r) });
    let rows: [*mut f64; R] = std::array::from_fn(|r| unsafe { w.add(r * stride) });
    let lane0 = g.row % 8;
    debug_assert!(lane0 + R <= 8, "a group lies in one block of 8 rows");
    for seg in &g.segments[..g.n_segments] {
        let (lo, hi) = (seg.lo as usize, seg.hi as usize);
        if !seg.per_lane {
            // Factors eta * err, as the rate-matrix kernel computes them.
            let f: [__m256d; R] = std::array::from_fn(|r| _mm256_set1_pd(seg.eta[r] * e[r]));
            let d = seg.diag as usize;
            // SAFETY: by the caller; blocks lo..d, d and d + 1..hi lie inside lo..hi.
            unsafe {
                if seg.diag == NO_BLOCK {
                    uniform_blocks(lo, hi, f, &rows, tp, rp, &mut acc0, &mut acc1);
                } else {
                    uniform_blocks(lo, d, f, &rows, tp, rp, &mut acc0, &mut acc1);
                    diagonal_block(d, lane0, f, &rows, tp, rp, &mut acc0, &mut acc1);
                    uniform_blocks(d + 1, hi, f, &rows, tp, rp, &mut acc0, &mut acc1);
                }
            }
        } else {
            let f: [[__m256d; 2]; R] = std::array::from_fn(|r| {
                let p = g.rates[r].as_ptr();
                // SAFETY: `err` has R entries (read here, not hoisted out of the segment loop
                // where it would only occupy a register).
                let er = unsafe { _mm256_broadcast_sd(&*err.add(r)) };
                // SAFETY: g.rates[r] has 8 entries.
                unsafe {
                    [
                        _mm256_mul_pd(_mm256_loadu_pd(p), er),
                        _mm256_mul_pd(_mm256_loadu_pd(p.add(4)), er),
                    ]
                }
            });
            // SAFETY: by the caller.
            unsafe { special_block(lo, f, &rows, tp, rp, &mut acc0, &mut acc1) };
        }
    }
    std::array::from_fn(|r| hsum8(acc0[r], acc1[r]))
}

/// Blocks `lo..hi` of `R` rows with one factor per row. Lanes 0-3 of a block for every row,
/// then lanes 4-7, so that 8 accumulators, 4 factors, the trace and the rates fit in registers.
///
/// # Safety
/// AVX2 is available; blocks `lo..hi` lie inside every row, the trace and the rates.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn uniform_blocks<const R: usize>(
    lo: usize,
    hi: usize,
    f: [std::arch::x86_64::__m256d; R],
    rows: &[*mut f64; R],
    tp: *const f64,
    rp: *const f64,
    acc0: &mut [std::arch::x86_64::__m256d; R],
    acc1: &mut [std::arch::x86_64::__m256d; R],
) {
    use std::arch::x86_64::*;
    if lo >= hi {
        return;
    }
    // Pointers to the end of the run and a negative offset counting up to 0 (one induction
    // variable for all rows).
    // SAFETY: by the caller.
    let (tp, rp) = unsafe { (tp.add(hi * 8), rp.add(hi * 8)) };
    let ends: [*mut f64; R] = std::array::from_fn(|r| unsafe { rows[r].add(hi * 8) });
    let mut off = -(((hi - lo) * 8) as isize);
    while off != 0 {
        // SAFETY: by the caller, `off` stays within the run.
        unsafe {
            let (t, x) = (
                _mm256_loadu_pd(tp.offset(off)),
                _mm256_loadu_pd(rp.offset(off)),
            );
            for r in 0..R {
                let p = ends[r].offset(off);
                let w = _mm256_add_pd(_mm256_loadu_pd(p), _mm256_mul_pd(f[r], t));
                _mm256_storeu_pd(p, w);
                acc0[r] = _mm256_add_pd(acc0[r], _mm256_mul_pd(w, x));
            }
            let (t, x) = (
                _mm256_loadu_pd(tp.offset(off + 4)),
                _mm256_loadu_pd(rp.offset(off + 4)),
            );
            for r in 0..R {
                let p = ends[r].offset(off + 4);
                let w = _mm256_add_pd(_mm256_loadu_pd(p), _mm256_mul_pd(f[r], t));
                _mm256_storeu_pd(p, w);
                acc1[r] = _mm256_add_pd(acc1[r], _mm256_mul_pd(w, x));
            }
        }
        off += 8;
    }
}

/// The block `b` holding the diagonal of rows `lane0..lane0 + R` (lanes within the block):
/// a uniform block whose diagonal weights are set back to +0 before they enter the drive.
///
/// # Safety
/// As [`uniform_blocks`] for the block `b`; `lane0 + R <= 8`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
#[allow(clippy::too_many_arguments)]
unsafe fn diagonal_block<const R: usize>(
    b: usize,
    lane0: usize,
    f: [std::arch::x86_64::__m256d; R],
    rows: &[*mut f64; R],
    tp: *const f64,
    rp: *const f64,
    acc0: &mut [std::arch::x86_64::__m256d; R],
    acc1: &mut [std::arch::x86_64::__m256d; R],
) {
    use std::arch::x86_64::*;
    let j = b * 8;
    // SAFETY: by the caller.
    unsafe {
        for (half, acc) in [(0, acc0), (4, acc1)] {
            let (t, x) = (
                _mm256_loadu_pd(tp.add(j + half)),
                _mm256_loadu_pd(rp.add(j + half)),
            );
            for r in 0..R {
                // `lane0 + r < 8`: the group's rows lie in one block of 8.
                let keep = DIAG_KEEP.as_ptr().add(lane0 + r).cast::<u64>().add(half);
                let keep = _mm256_loadu_pd(keep.cast());
                let p = rows[r].add(j + half);
                let w = _mm256_add_pd(_mm256_loadu_pd(p), _mm256_mul_pd(f[r], t));
                let w = _mm256_and_pd(w, keep);
                _mm256_storeu_pd(p, w);
                acc[r] = _mm256_add_pd(acc[r], _mm256_mul_pd(w, x));
            }
        }
    }
}

/// Block `b` of `R` rows with per-lane factors.
///
/// # Safety
/// As [`uniform_blocks`] for the block `b`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn special_block<const R: usize>(
    b: usize,
    f: [[std::arch::x86_64::__m256d; 2]; R],
    rows: &[*mut f64; R],
    tp: *const f64,
    rp: *const f64,
    acc0: &mut [std::arch::x86_64::__m256d; R],
    acc1: &mut [std::arch::x86_64::__m256d; R],
) {
    use std::arch::x86_64::*;
    let j = b * 8;
    // SAFETY: by the caller.
    unsafe {
        let (t0, t1) = (_mm256_loadu_pd(tp.add(j)), _mm256_loadu_pd(tp.add(j + 4)));
        let (x0, x1) = (_mm256_loadu_pd(rp.add(j)), _mm256_loadu_pd(rp.add(j + 4)));
        for r in 0..R {
            let p = rows[r].add(j);
            let w0 = _mm256_add_pd(_mm256_loadu_pd(p), _mm256_mul_pd(f[r][0], t0));
            let w1 = _mm256_add_pd(_mm256_loadu_pd(p.add(4)), _mm256_mul_pd(f[r][1], t1));
            _mm256_storeu_pd(p, w0);
            _mm256_storeu_pd(p.add(4), w1);
            acc0[r] = _mm256_add_pd(acc0[r], _mm256_mul_pd(w0, x0));
            acc1[r] = _mm256_add_pd(acc1[r], _mm256_mul_pd(w1, x1));
        }
    }
}

/// `((a0+a4)+(a2+a6)) + ((a1+a5)+(a3+a7))` of two 4-lane accumulators, as `reduce8`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn hsum8(acc0: std::arch::x86_64::__m256d, acc1: std::arch::x86_64::__m256d) -> f64 {
    use std::arch::x86_64::*;
    let s4 = _mm256_add_pd(acc0, acc1);
    let s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
    _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2))) + 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-0.4, 0.6).
    fn f(k: usize) -> f64 {
        ((k.wrapping_mul(2_654_435_761) >> 7) % 1000) as f64 / 1000.0 - 0.4
    }

    /// Runs `steps` fused steps on every layout and on the reference (`update` then `drive` on
    /// the dense matrices) and requires the same bits for drives and weights.
    fn check_all_layouts(mask: &[bool], n: usize, nv: usize, rows: PlasticRows, want: Layout) {
        let rates = LearningRates::default();
        let stride = n.next_multiple_of(8);
        let w0: Vec<f64> = (0..n * n)
            .map(|k| if mask[k] { f(k) } else { 0.0 })
            .collect();
        let eta = rate_matrix(mask, n, nv, &rates, rows, stride);
        let mut w_ref = vec![0.0; n * stride];
        for i in 0..n {
            w_ref[i * stride..i * stride + n].copy_from_slice(&w0[i * n..(i + 1) * n]);
        }
        let choices = [
            LayoutChoice::Auto,
            LayoutChoice::Force(Layout::Structured),
            LayoutChoice::Force(Layout::Masked),
            LayoutChoice::Force(Layout::Csr),
        ];
        let mut nets: Vec<Dendrites> = choices
            .iter()
            .map(|&c| Dendrites::new(mask, &w0, n, nv, &rates, rows, c))
            .collect();
        assert_eq!(nets[0].layout(), want, "auto layout");
        assert_eq!(nets[2].layout(), Layout::Masked);
        assert_eq!(nets[3].layout(), Layout::Csr);
        let plastic = eta.iter().filter(|&&e| e != 0.0).count();
        assert!(nets.iter().all(|d| d.n_plastic() == plastic));
        for step in 0..5 {
            let err: Vec<f64> = (0..n).map(|k| f(k + 31 * step) * 0.3).collect();
            let mut tr: Vec<f64> = (0..n).map(|k| f(k + 7 * step + 5).abs()).collect();
            let mut r: Vec<f64> = (0..n).map(|k| f(k + 11 * step + 17).abs()).collect();
            tr.resize(stride, 0.0);
            r.resize(stride, 0.0);
            let mut out_ref = vec![0.0; n];
            crate::update(&mut w_ref, &eta, &err, &tr);
            crate::drive(&w_ref, &r, &mut out_ref);
            for d in &mut nets {
                let mut out = vec![0.0; n];
                if step % 2 == 0 {
                    d.update_and_drive(&err, &tr, &r, &mut out);
                } else {
                    d.update(&err, &tr);
                    d.drive(&r, &mut out);
                }
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&out),
                    bits(&out_ref),
                    "{:?} drive, step {step}",
                    d.layout()
                );
                let dense = d.to_dense();
                for i in 0..n {
                    for j in 0..n {
                        assert_eq!(
                            dense[i * n + j],
                            w_ref[i * stride + j],
                            "{:?} w",
                            d.layout()
                        );
                    }
                }
            }
        }
        // The weights moved (the test can fail) and absent synapses stayed 0.
        let moved = (0..n * n).any(|k| mask[k] && w_ref[(k / n) * stride + k % n] != w0[k]);
        assert_eq!(moved, plastic > 0);
        assert!((0..n * n).all(|k| mask[k] || w_ref[(k / n) * stride + k % n] == 0.0));
    }

    fn all_to_all(n: usize) -> Vec<bool> {
        (0..n * n).map(|k| k / n != k % n).collect()
    }

    #[test]
    fn every_layout_gives_the_reference_bits() {
        for (n, nv) in [
            (2, 1),
            (3, 2),
            (13, 13),
            (16, 8),
            (20, 13),
            (63, 13),
            (70, 9),
            (40, 12),
            (33, 4),
            (130, 13),
        ] {
            let full = all_to_all(n);
            check_all_layouts(&full, n, nv, PlasticRows::All, Layout::Structured);
            check_all_layouts(&full, n, nv, PlasticRows::VisibleOnly, Layout::Structured);
            // Soma-only: latent rows empty.
            let soma: Vec<bool> = (0..n * n).map(|k| full[k] && k / n < nv).collect();
            let want = if nv == n {
                Layout::Structured
            } else if nv * (n - 1) <= (csr_max_density(n) * (n * n) as f64) as usize {
                Layout::Csr
            } else {
                Layout::Masked
            };
            check_all_layouts(&soma, n, nv, PlasticRows::All, want);
            // Sparse masks.
            for keep in [0.1, 0.6] {
                let sparse: Vec<bool> = (0..n * n)
                    .map(|k| full[k] && (f(k + 99) + 0.4) < keep)
                    .collect();
                let density = sparse.iter().filter(|&&m| m).count() as f64 / (n * n) as f64;
                let want = if density > 0.0 && density <= csr_max_density(n) {
                    Layout::Csr
                } else {
                    Layout::Masked
                };
                check_all_layouts(&sparse, n, nv, PlasticRows::All, want);
            }
        }
    }

    #[test]
    fn to_sparse_lists_every_synapse_in_every_layout() {
        let (n, nv) = (40, 12);
        let full = all_to_all(n);
        let sparse: Vec<bool> = (0..n * n).map(|k| full[k] && f(k + 5) < 0.0).collect();
        let r = LearningRates::default();
        for mask in [&full, &sparse] {
            // A present synapse with weight 0 keeps its entry.
            let w: Vec<f64> = (0..n * n)
                .map(|k| if mask[k] && k % 9 != 0 { f(k) } else { 0.0 })
                .collect();
            for layout in [Layout::Structured, Layout::Masked, Layout::Csr] {
                let force = LayoutChoice::Force(layout);
                let mut d = Dendrites::new(mask, &w, n, nv, &r, PlasticRows::All, force);
                if mask == &sparse && layout == Layout::Structured {
                    assert_eq!(d.layout(), Layout::Masked);
                }
                let err: Vec<f64> = (0..n).map(|k| f(k + 3) * 0.3).collect();
                let mut tr: Vec<f64> = (0..n).map(|k| f(k + 8).abs()).collect();
                tr.resize(d.stride(), 0.0);
                d.update(&err, &tr);
                let m = d.to_sparse();
                assert!(m.is_csr() && m.shape() == (n, n));
                assert_eq!(m.nnz(), mask.iter().filter(|&&b| b).count());
                let dense = d.to_dense();
                for (&x, (i, j)) in &m {
                    let k = i as usize * n + j as usize;
                    assert!(
                        mask[k],
                        "{:?}: entry ({i}, {j}) is not a synapse",
                        d.layout()
                    );
                    assert_eq!(x.to_bits(), dense[k].to_bits(), "{:?}", d.layout());
                }
            }
        }
    }

    #[test]
    fn structured_is_refused_for_other_masks_and_csr_saves_memory() {
        let n = 64;
        let mut mask = all_to_all(n);
        mask[5] = false;
        let w = vec![0.0; n * n];
        let r = LearningRates::default();
        let d = Dendrites::new(
            &mask,
            &w,
            n,
            10,
            &r,
            PlasticRows::All,
            LayoutChoice::Force(Layout::Structured),
        );
        assert_eq!(d.layout(), Layout::Masked);
        // Different rates per block are not structured either.
        let odd = LearningRates {
            eta_vv: 1e-3,
            eta_other: 1e-3,
            ..LearningRates::default()
        };
        let full = all_to_all(n);
        let d = Dendrites::new(&full, &w, n, 10, &odd, PlasticRows::All, LayoutChoice::Auto);
        assert_eq!(d.layout(), Layout::Structured);
        // Sparse masks: masked below 128 neurons, CSR at 10 % from 128 on, and at 30 % from
        // 1024 on.
        for (n, every, want) in [
            (64, 10, Layout::Masked),
            (128, 10, Layout::Csr),
            (256, 4, Layout::Masked),
            (1024, 4, Layout::Csr),
        ] {
            let w = vec![0.0; n * n];
            let sparse: Vec<bool> = (0..n * n)
                .map(|k| k / n != k % n && k % every == 1)
                .collect();
            let auto = Dendrites::new(&sparse, &w, n, 10, &r, PlasticRows::All, LayoutChoice::Auto);
            assert_eq!(auto.layout(), want, "n {n}, one synapse in {every}");
            if n == 64 {
                let force = |l| Dendrites::new(&sparse, &w, n, 10, &r, PlasticRows::All, l);
                let csr = force(LayoutChoice::Force(Layout::Csr));
                assert!(csr.memory_bytes() * 4 < auto.memory_bytes());
            }
        }
    }
}
