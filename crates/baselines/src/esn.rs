//! Leaky echo-state network with output feedback (Jaeger 2001; Lukoševičius & Jaeger 2009).
//!
//! State x (n units), drive d (m values: the fed-back output, or an external input):
//!
//! x[t+1] = (1 - a) x[t] + a tanh(W x[t] + W_fb d[t] + b),   y[t+1] = W_out^T z[t+1],
//! z = [1; x]  (the bias of the readout comes first).
//!
//! - W: n x n sparse (an sprs CSR matrix, [`crate::RecurrentMatrix`]), entries present with
//!   probability `density`, values uniform in [-1, 1), then scaled so that its spectral radius
//!   equals `spectral_radius` (estimated by power iteration with log-growth averaging,
//!   `recurrent.rs`, 1000 iterations; O(nnz) each,
//!   in the crate's optimized code instead of an O(n^3) dense eigenvalue solve).
//! - W_fb: n x m, uniform in [-1, 1) times `feedback_scaling`; b: uniform in [-1, 1) times
//!   `bias_scaling`; x[0] = 0.
//! - As a [`Model`] ([`Esn`]): while the teacher is present (lambda >= 0.5) the drive is the
//!   teacher's target of the previous in-cycle step, target_rate((t - 1) mod L), plus uniform
//!   noise in [-forcing_noise, forcing_noise) (teacher forcing; the noise, stream
//!   `"esn_noise"`, keeps the closed loop stable, Jaeger 2001); when free, the network's own
//!   previous output.
//!
//! Readouts ([`Readout`]), trained only on teacher-present steps after the first
//! `washout_steps` teacher-present steps since construction (later returns of the teacher,
//! e.g. after a validation cycle, are trained on at once; teacher forcing re-entrains the
//! reservoir within a few leak time constants):
//!
//! - Ridge: A = sum z z^T and B = sum z y^T over the training samples; W_out solves
//!   (A + ridge I) W_out = B (faer Cholesky). Samples are buffered in blocks of 64 and added as
//!   a rank-64 product (faer, lower triangle of A only), so the step allocates nothing and costs
//!   O(n^2) flops at matrix-product speed. The fit happens when the teacher leaves (lambda
//!   drops below 0.5), on all samples accumulated since construction; the output is then
//!   recomputed from the current state so that the first free step feeds back a fitted value.
//!   `ridge` is absolute (it is added to the unnormalized sum A). A failed factorization
//!   (possible only with `ridge = 0`) keeps the previous readout and is reported by
//!   [`Esn::fit_error`].
//! - RLS: recursive least squares on every training step ([`crate::rls`]), P(0) = I / rls_alpha;
//!   the output of a step is the a-priori output (before that step's update).

use crate::BaselineError;
use crate::error::check;
use crate::recurrent::{self, RecurrentMatrix, SPECTRAL_ITERATIONS};
use crate::rls::Rls;
use elise_core::metrics::dot;
use elise_core::{Model, Seed, Stream, Teacher};
use faer::linalg::matmul::matmul;
use faer::linalg::matmul::triangular::{BlockStructure, matmul as tri_matmul};
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use serde::{Deserialize, Serialize};

/// Training samples buffered before they are added to the ridge sums.
const RIDGE_BLOCK: usize = 64;

/// How the ESN readout is trained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readout {
    /// Batch ridge regression, fitted when the teacher leaves.
    Ridge,
    /// Online recursive least squares on every training step.
    Rls,
}

/// Parameters of an echo-state network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EsnParams {
    /// Reservoir units n.
    pub n_reservoir: usize,
    /// Fraction of nonzero recurrent weights, in (0, 1].
    pub density: f64,
    /// Spectral radius of W after scaling (>= 0; below 1 for the echo-state property).
    pub spectral_radius: f64,
    /// Leak rate a in (0, 1] (1 = no leak integration).
    pub leak_rate: f64,
    /// Scale of the feedback (drive) weights W_fb.
    pub feedback_scaling: f64,
    /// Scale of the unit biases b.
    pub bias_scaling: f64,
    /// Ridge (Tikhonov) regularization added to A = sum z z^T, >= 0.
    pub ridge: f64,
    /// Teacher-present steps at the start that are not used for training.
    pub washout_steps: usize,
    /// Ridge or RLS readout.
    pub readout: Readout,
    /// RLS: P(0) = I / rls_alpha, > 0.
    pub rls_alpha: f64,
    /// Amplitude of the uniform noise in [-forcing_noise, forcing_noise) added to the teacher
    /// signal fed back while the teacher is present (>= 0). The noise makes the closed loop
    /// robust to its own errors (Jaeger 2001); without it a teacher-forced ESN fits the
    /// one-step map almost exactly and its free run usually diverges. Used by [`Esn`] only
    /// ([`EsnCore`] takes its drive as given).
    pub forcing_noise: f64,
}

impl Default for EsnParams {
    /// n = 500 at density 0.1 (50 inputs per unit), spectral radius 0.9, leak 0.3 (a memory of
    /// a few tens of steps, for 10-step pattern states), feedback scale 0.5, bias scale 0.2,
    /// ridge 1e-6 on the unnormalized sums, 500 washout steps, ridge readout, forcing noise 0.2.
    /// RLS: rls_alpha = 1e-4 (RLS with P(0) = I / alpha minimizes the ridge cost with
    /// ridge = alpha, so this matches the ridge readout).
    ///
    /// The feedback scale and forcing noise were chosen on Für Elise at dt = 1 ms, 10 steps per
    /// state, 40 training cycles: free replay corr_sum 11.7-12.8 of 13 over 8 seeds (FORCE with
    /// its defaults: ~12.85). Feedback 1.0 or noise <= 0.1 lose the pattern for most seeds; the
    /// 3-unit test pattern is replayed at ~2.99 of 3 with these values.
    fn default() -> Self {
        Self {
            n_reservoir: 500,
            density: 0.1,
            spectral_radius: 0.9,
            leak_rate: 0.3,
            feedback_scaling: 0.5,
            bias_scaling: 0.2,
            ridge: 1e-6,
            washout_steps: 500,
            readout: Readout::Ridge,
            rls_alpha: 1e-4,
            forcing_noise: 0.2,
        }
    }
}

impl EsnParams {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), BaselineError> {
        if self.n_reservoir == 0 {
            return Err(BaselineError::param("n_reservoir", 0, "must be positive"));
        }
        if self.n_reservoir > u32::MAX as usize {
            return Err(BaselineError::param(
                "n_reservoir",
                self.n_reservoir,
                "too large",
            ));
        }
        let d = self.density;
        check("density", d, d > 0.0 && d <= 1.0, "must be in (0, 1]")?;
        let r = self.spectral_radius;
        check("spectral_radius", r, r >= 0.0, "must be finite and >= 0")?;
        let a = self.leak_rate;
        check("leak_rate", a, a > 0.0 && a <= 1.0, "must be in (0, 1]")?;
        check(
            "feedback_scaling",
            self.feedback_scaling,
            true,
            "must be finite",
        )?;
        check("bias_scaling", self.bias_scaling, true, "must be finite")?;
        check(
            "ridge",
            self.ridge,
            self.ridge >= 0.0,
            "must be finite and >= 0",
        )?;
        let al = self.rls_alpha;
        check("rls_alpha", al, al > 0.0, "must be finite and > 0")?;
        let nz = self.forcing_noise;
        check("forcing_noise", nz, nz >= 0.0, "must be finite and >= 0")?;
        Ok(())
    }
}

/// Ridge sums A (lower triangle), B and the block buffer of pending samples.
#[derive(Clone, Debug)]
struct RidgeSums {
    dim: usize,
    n_out: usize,
    /// sum z z^T, column-major dim x dim; only the lower triangle is maintained.
    a: Vec<f64>,
    /// sum z y^T, column-major dim x n_out.
    b: Vec<f64>,
    /// Pending z columns, column-major dim x RIDGE_BLOCK.
    z_block: Vec<f64>,
    /// Pending targets, column-major RIDGE_BLOCK x n_out.
    y_block: Vec<f64>,
    pending: usize,
    n_samples: u64,
}

impl RidgeSums {
    fn new(dim: usize, n_out: usize) -> Self {
        Self {
            dim,
            n_out,
            a: vec![0.0; dim * dim],
            b: vec![0.0; dim * n_out],
            z_block: vec![0.0; dim * RIDGE_BLOCK],
            y_block: vec![0.0; RIDGE_BLOCK * n_out],
            pending: 0,
            n_samples: 0,
        }
    }

    fn push(&mut self, z: &[f64], y: &[f64]) {
        let k = self.pending;
        self.z_block[k * self.dim..(k + 1) * self.dim].copy_from_slice(z);
        for (o, &v) in y.iter().enumerate() {
            self.y_block[o * RIDGE_BLOCK + k] = v;
        }
        self.pending += 1;
        self.n_samples += 1;
        if self.pending == RIDGE_BLOCK {
            self.flush();
        }
    }

    /// A += Z Z^T (lower triangle), B += Z Y for the pending block.
    fn flush(&mut self) {
        let (d, k) = (self.dim, self.pending);
        if k == 0 {
            return;
        }
        let z = MatRef::from_column_major_slice(&self.z_block[..d * k], d, k);
        let y =
            MatRef::from_column_major_slice_with_stride(&self.y_block, k, self.n_out, RIDGE_BLOCK);
        tri_matmul(
            MatMut::from_column_major_slice_mut(&mut self.a, d, d),
            BlockStructure::TriangularLower,
            Accum::Add,
            z,
            BlockStructure::Rectangular,
            z.transpose(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
        matmul(
            MatMut::from_column_major_slice_mut(&mut self.b, d, self.n_out),
            Accum::Add,
            z,
            y,
            1.0,
            Par::Seq,
        );
        self.pending = 0;
    }

    /// Solves (A + ridge I) W = B into `w_out` (column-major dim x n_out). On failure `w_out`
    /// is untouched.
    fn solve(&mut self, ridge: f64, w_out: &mut [f64]) -> Result<(), BaselineError> {
        self.flush();
        let d = self.dim;
        let a = &self.a;
        let m = Mat::<f64>::from_fn(d, d, |i, j| {
            let v = if i >= j { a[j * d + i] } else { a[i * d + j] };
            if i == j { v + ridge } else { v }
        });
        let llt = m
            .llt(Side::Lower)
            .map_err(|e| BaselineError::RidgeNotPositiveDefinite {
                ridge,
                n_samples: self.n_samples,
                pivot: match e {
                    faer::linalg::cholesky::llt::factor::LltError::NonPositivePivot { index } => {
                        index
                    }
                },
            })?;
        let x = llt.solve(MatRef::from_column_major_slice(&self.b, d, self.n_out));
        for o in 0..self.n_out {
            for i in 0..d {
                w_out[o * d + i] = x[(i, o)];
            }
        }
        Ok(())
    }
}

#[derive(Clone, Debug)]
enum ReadoutState {
    Ridge { sums: RidgeSums, ridge: f64 },
    Rls { rls: Rls, n_samples: u64 },
}

/// The echo-state network itself: reservoir, drive weights and trained readout, driven by any
/// signal. [`Esn`] wraps it as a teacher-forced [`Model`]; [`crate::one_step_prediction`]
/// drives it with an input series.
#[derive(Clone, Debug)]
pub struct EsnCore {
    n: usize,
    n_drive: usize,
    n_out: usize,
    leak: f64,
    w: RecurrentMatrix,
    /// Estimated spectral radius of W before scaling.
    raw_radius: f64,
    /// n x n_drive, row-major.
    w_fb: Vec<f64>,
    bias: Vec<f64>,
    /// [1; x].
    z: Vec<f64>,
    /// Scratch: W x.
    wx: Vec<f64>,
    /// Readout, column-major (n + 1) x n_out.
    w_out: Vec<f64>,
    y: Vec<f64>,
    err: Vec<f64>,
    readout: ReadoutState,
}

impl EsnCore {
    /// Builds the reservoir for `n_drive` drive values and `n_outputs` outputs from the streams
    /// `"esn_reservoir"` (W), `"esn_spectral"` (power-iteration start), `"esn_feedback"` (W_fb)
    /// and `"esn_bias"` (b) of `seed`. The readout starts at 0.
    pub fn new(
        params: &EsnParams,
        n_drive: usize,
        n_outputs: usize,
        seed: Seed,
    ) -> Result<Self, BaselineError> {
        params.validate()?;
        if n_outputs == 0 {
            return Err(BaselineError::NoOutputs(0));
        }
        let n = params.n_reservoir;
        let mut w = recurrent::random(n, params.density, &mut seed.stream("esn_reservoir"), |s| {
            2.0 * s.uniform() - 1.0
        });
        let raw_radius = recurrent::spectral_radius_estimate(
            &w,
            &mut seed.stream("esn_spectral"),
            SPECTRAL_ITERATIONS,
        );
        // A nilpotent W (radius 0, only possible for tiny n * density) cannot be scaled.
        if raw_radius > 0.0 {
            w.scale(params.spectral_radius / raw_radius);
        }
        let mut fb = seed.stream("esn_feedback");
        let w_fb = (0..n * n_drive)
            .map(|_| params.feedback_scaling * (2.0 * fb.uniform() - 1.0))
            .collect();
        let mut bs = seed.stream("esn_bias");
        let bias = (0..n)
            .map(|_| params.bias_scaling * (2.0 * bs.uniform() - 1.0))
            .collect();
        let mut z = vec![0.0; n + 1];
        z[0] = 1.0;
        let readout = match params.readout {
            Readout::Ridge => ReadoutState::Ridge {
                sums: RidgeSums::new(n + 1, n_outputs),
                ridge: params.ridge,
            },
            Readout::Rls => ReadoutState::Rls {
                rls: Rls::new(n + 1, params.rls_alpha),
                n_samples: 0,
            },
        };
        Ok(Self {
            n,
            n_drive,
            n_out: n_outputs,
            leak: params.leak_rate,
            w,
            raw_radius,
            w_fb,
            bias,
            z,
            wx: vec![0.0; n],
            w_out: vec![0.0; (n + 1) * n_outputs],
            y: vec![0.0; n_outputs],
            err: vec![0.0; n_outputs],
            readout,
        })
    }

    /// Reservoir size n.
    pub fn n_reservoir(&self) -> usize {
        self.n
    }
    /// Drive values per step.
    pub fn n_drive(&self) -> usize {
        self.n_drive
    }
    /// Outputs per step.
    pub fn n_outputs(&self) -> usize {
        self.n_out
    }
    /// Nonzero recurrent weights.
    pub fn nnz(&self) -> usize {
        self.w.nnz()
    }
    /// The reservoir matrix W (n x n, already scaled to `spectral_radius`).
    pub fn reservoir(&self) -> &RecurrentMatrix {
        &self.w
    }
    /// Estimated spectral radius of the random W before it was scaled to `spectral_radius`.
    pub fn raw_spectral_radius(&self) -> f64 {
        self.raw_radius
    }
    /// Reservoir state x.
    pub fn state(&self) -> &[f64] {
        &self.z[1..]
    }
    /// Outputs y = W_out^T [1; x] after the last update (a priori for RLS).
    pub fn output(&self) -> &[f64] {
        &self.y
    }
    /// Readout weights, column-major (n + 1) x n_outputs; row 0 is the output bias.
    pub fn readout_weights(&self) -> &[f64] {
        &self.w_out
    }
    /// Training samples seen by the readout.
    pub fn n_train_samples(&self) -> u64 {
        match &self.readout {
            ReadoutState::Ridge { sums, .. } => sums.n_samples,
            ReadoutState::Rls { n_samples, .. } => *n_samples,
        }
    }

    /// Advances the reservoir one step with drive `drive` and recomputes the outputs.
    /// Allocates nothing.
    ///
    /// # Panics
    /// If `drive.len() != n_drive`.
    pub fn update(&mut self, drive: &[f64]) {
        assert_eq!(drive.len(), self.n_drive, "drive length");
        let (m, a) = (self.n_drive, self.leak);
        recurrent::mul_vec(&self.w, &self.z[1..], &mut self.wx);
        for (i, x) in self.z[1..].iter_mut().enumerate() {
            let mut u = self.wx[i] + self.bias[i];
            for (wf, d) in self.w_fb[i * m..(i + 1) * m].iter().zip(drive) {
                u += wf * d;
            }
            *x = (1.0 - a) * *x + a * u.tanh();
        }
        self.compute_output();
    }

    fn compute_output(&mut self) {
        let d = self.n + 1;
        for (o, y) in self.y.iter_mut().enumerate() {
            *y = dot(&self.w_out[o * d..(o + 1) * d], &self.z);
        }
    }

    /// Uses the current state with `target` as one training sample: ridge accumulates it, RLS
    /// updates the readout with the a-priori error `output() - target` (the output itself is
    /// left as it was). Allocates nothing.
    ///
    /// # Panics
    /// If `target.len() != n_outputs`.
    pub fn train(&mut self, target: &[f64]) {
        assert_eq!(target.len(), self.n_out, "target length");
        match &mut self.readout {
            ReadoutState::Ridge { sums, .. } => sums.push(&self.z, target),
            ReadoutState::Rls { rls, n_samples } => {
                for ((e, y), t) in self.err.iter_mut().zip(&self.y).zip(target) {
                    *e = y - t;
                }
                rls.update(&self.z, &self.err, &mut self.w_out);
                *n_samples += 1;
            }
        }
    }

    /// Ridge: solves for the readout on all samples so far and recomputes the outputs (without
    /// samples, or for RLS, nothing changes). On failure the previous readout is kept.
    pub fn fit(&mut self) -> Result<(), BaselineError> {
        if let ReadoutState::Ridge { sums, ridge } = &mut self.readout {
            if sums.n_samples == 0 {
                return Ok(());
            }
            sums.solve(*ridge, &mut self.w_out)?;
            self.compute_output();
        }
        Ok(())
    }

    fn is_finite(&self) -> bool {
        self.z
            .iter()
            .chain(&self.y)
            .chain(&self.w_out)
            .all(|v| v.is_finite())
    }
}

/// Echo-state network as a [`Model`]: teacher-forced while the teacher is present, driven by
/// its own output when free (see the module header).
#[derive(Clone, Debug)]
pub struct Esn {
    core: EsnCore,
    teacher: Teacher,
    washout_steps: u64,
    present_steps: u64,
    was_present: bool,
    drive: Vec<f64>,
    forcing_noise: f64,
    noise: Stream,
    fit_error: Option<BaselineError>,
}

impl Esn {
    /// An ESN with `teacher.n_visible()` outputs (also fed back) learning `teacher`'s target
    /// rates; randomness from the streams listed at [`EsnCore::new`] plus `"esn_noise"` (the
    /// forcing noise).
    pub fn new(params: &EsnParams, teacher: Teacher, seed: Seed) -> Result<Self, BaselineError> {
        let m = teacher.n_visible();
        if m == 0 {
            return Err(BaselineError::NoOutputs(0));
        }
        let core = EsnCore::new(params, m, m, seed)?;
        Ok(Self {
            core,
            teacher,
            washout_steps: params.washout_steps as u64,
            present_steps: 0,
            was_present: false,
            drive: vec![0.0; m],
            forcing_noise: params.forcing_noise,
            noise: seed.stream("esn_noise"),
            fit_error: None,
        })
    }

    /// The network core (state, readout).
    pub fn core(&self) -> &EsnCore {
        &self.core
    }
    /// The teacher.
    pub fn teacher(&self) -> &Teacher {
        &self.teacher
    }

    /// The error of the last ridge fit, if it failed (`None` after a successful one). A failed
    /// fit keeps the previous readout.
    pub fn fit_error(&self) -> Option<&BaselineError> {
        self.fit_error.as_ref()
    }

    /// Fits the ridge readout now (normally done automatically when the teacher leaves) and
    /// records the outcome in [`Esn::fit_error`].
    pub fn fit(&mut self) -> Result<(), BaselineError> {
        let r = self.core.fit();
        self.fit_error = r.as_ref().err().cloned();
        r
    }
}

impl Model for Esn {
    fn n_outputs(&self) -> usize {
        self.core.n_out
    }

    fn step(&mut self, t: usize, lambda: f64) {
        let present = lambda >= 0.5;
        if !present && self.was_present {
            // The teacher leaves: fit the ridge readout (ignored for RLS); the error is kept.
            let _ = self.fit();
        }
        if present {
            let len = self.teacher.cycle_len_steps();
            let prev = (t + len - 1) % len;
            self.drive.copy_from_slice(self.teacher.target_rate(prev));
            if self.forcing_noise > 0.0 {
                for d in &mut self.drive {
                    *d += self.forcing_noise * (2.0 * self.noise.uniform() - 1.0);
                }
            }
        } else {
            self.drive.copy_from_slice(&self.core.y);
        }
        self.core.update(&self.drive);
        if present {
            self.present_steps += 1;
            if self.present_steps > self.washout_steps {
                self.core.train(self.teacher.target_rate(t));
            }
        }
        self.was_present = present;
    }

    fn output(&self) -> &[f64] {
        self.core.output()
    }

    fn is_finite(&self) -> bool {
        self.core.is_finite()
    }

    fn n_plastic(&self) -> usize {
        self.core.w_out.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::gauss_solve;

    fn small(readout: Readout, ridge: f64) -> EsnParams {
        EsnParams {
            n_reservoir: 12,
            density: 0.5,
            ridge,
            readout,
            rls_alpha: ridge,
            ..EsnParams::default()
        }
    }

    /// Drives `core` with a random 2-dimensional signal for `n` steps, training on random
    /// targets; returns the training pairs (z, y).
    fn drive(core: &mut EsnCore, n: usize) -> Vec<(Vec<f64>, Vec<f64>)> {
        let mut s = Seed(11).stream("drive");
        let mut samples = Vec::new();
        for _ in 0..n {
            let d = [s.normal(), s.normal()];
            core.update(&d);
            let y = [s.normal(), 0.3 * s.normal() + 1.0, s.uniform()];
            core.train(&y);
            let mut z = vec![1.0];
            z.extend_from_slice(core.state());
            samples.push((z, y.to_vec()));
        }
        samples
    }

    /// The blocked, lower-triangle accumulation and faer's Cholesky solve against the normal
    /// equations (A + ridge I) W = B built naively and solved by Gaussian elimination.
    #[test]
    fn ridge_fit_matches_direct_solution() {
        let ridge = 1e-3;
        let mut core = EsnCore::new(&small(Readout::Ridge, ridge), 2, 3, Seed(4)).unwrap();
        // 150 samples: two full blocks of 64 and a partial one.
        let samples = drive(&mut core, 150);
        core.fit().unwrap();
        let (d, m) = (13, 3);
        let mut a = vec![0.0; d * d];
        let mut b = vec![0.0; d * m];
        for (z, y) in &samples {
            for i in 0..d {
                for j in 0..d {
                    a[i * d + j] += z[i] * z[j];
                }
                for o in 0..m {
                    b[i * m + o] += z[i] * y[o];
                }
            }
        }
        for i in 0..d {
            a[i * d + i] += ridge;
        }
        let x = gauss_solve(a, b, d, m);
        let w = core.readout_weights();
        let scale = x.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        assert!(scale > 0.01, "nontrivial solution");
        for o in 0..m {
            for i in 0..d {
                let (got, want) = (w[o * d + i], x[i * m + o]);
                assert!((got - want).abs() < 1e-9, "w[{i},{o}] = {got} vs {want}");
            }
        }
        // The outputs were recomputed with the fitted readout.
        let z = &samples.last().unwrap().0;
        for o in 0..m {
            assert_eq!(core.output()[o], dot(&w[o * d..(o + 1) * d], z));
        }
    }

    /// RLS with P(0) = I / alpha minimizes the ridge cost with ridge = alpha: both readouts agree.
    #[test]
    fn rls_readout_equals_ridge_readout() {
        let mut ridge = EsnCore::new(&small(Readout::Ridge, 0.1), 2, 3, Seed(4)).unwrap();
        let mut rls = EsnCore::new(&small(Readout::Rls, 0.1), 2, 3, Seed(4)).unwrap();
        drive(&mut ridge, 100);
        drive(&mut rls, 100);
        ridge.fit().unwrap();
        rls.fit().unwrap();
        assert_eq!(rls.n_train_samples(), 100);
        for (a, b) in ridge.readout_weights().iter().zip(rls.readout_weights()) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
    }

    /// With ridge = 0 and a reservoir stuck at x = 0, A is singular: the fit reports the error
    /// and keeps the previous readout instead of panicking.
    #[test]
    fn singular_ridge_system_is_an_error() {
        let p = EsnParams {
            ridge: 0.0,
            rls_alpha: 1.0,
            feedback_scaling: 0.0,
            bias_scaling: 0.0,
            ..small(Readout::Ridge, 0.0)
        };
        let mut core = EsnCore::new(&p, 2, 3, Seed(1)).unwrap();
        drive(&mut core, 10);
        assert!(core.state().iter().all(|&x| x == 0.0));
        let err = core.fit().unwrap_err();
        assert!(
            matches!(
                err,
                BaselineError::RidgeNotPositiveDefinite { n_samples: 10, .. }
            ),
            "{err}"
        );
        assert!(core.readout_weights().iter().all(|&w| w == 0.0));
    }

    #[test]
    fn bad_params_name_the_field() {
        let bad: Vec<(EsnParams, &str)> = vec![
            (
                EsnParams {
                    n_reservoir: 0,
                    ..Default::default()
                },
                "n_reservoir",
            ),
            (
                EsnParams {
                    density: 0.0,
                    ..Default::default()
                },
                "density",
            ),
            (
                EsnParams {
                    density: 1.5,
                    ..Default::default()
                },
                "density",
            ),
            (
                EsnParams {
                    spectral_radius: -0.1,
                    ..Default::default()
                },
                "spectral_radius",
            ),
            (
                EsnParams {
                    leak_rate: 0.0,
                    ..Default::default()
                },
                "leak_rate",
            ),
            (
                EsnParams {
                    feedback_scaling: f64::NAN,
                    ..Default::default()
                },
                "feedback_scaling",
            ),
            (
                EsnParams {
                    bias_scaling: f64::INFINITY,
                    ..Default::default()
                },
                "bias_scaling",
            ),
            (
                EsnParams {
                    ridge: -1e-6,
                    ..Default::default()
                },
                "ridge",
            ),
            (
                EsnParams {
                    rls_alpha: 0.0,
                    ..Default::default()
                },
                "rls_alpha",
            ),
            (
                EsnParams {
                    forcing_noise: -0.1,
                    ..Default::default()
                },
                "forcing_noise",
            ),
        ];
        for (p, field) in bad {
            match EsnCore::new(&p, 1, 1, Seed(0)) {
                Err(BaselineError::InvalidParam { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(EsnParams::default().validate().is_ok());
        assert!(matches!(
            EsnCore::new(&EsnParams::default(), 1, 0, Seed(0)),
            Err(BaselineError::NoOutputs(0))
        ));
    }

    #[test]
    fn params_serde_round_trip_and_reject_unknown_fields() {
        let p = EsnParams {
            readout: Readout::Rls,
            ..Default::default()
        };
        let text = serde_json::to_string(&p).unwrap();
        assert!(text.contains("\"readout\":\"rls\""), "{text}");
        assert_eq!(serde_json::from_str::<EsnParams>(&text).unwrap(), p);
        let extra = text.replacen('{', "{\"n_units\":3,", 1);
        assert!(serde_json::from_str::<EsnParams>(&extra).is_err());
    }

    #[test]
    fn reservoir_is_scaled_to_the_spectral_radius() {
        let p = EsnParams {
            n_reservoir: 150,
            spectral_radius: 0.8,
            ..Default::default()
        };
        let core = EsnCore::new(&p, 1, 1, Seed(2)).unwrap();
        let d = crate::recurrent::to_dense(core.reservoir());
        let n = 150;
        let m = faer::Mat::<f64>::from_fn(n, n, |i, j| d[i * n + j]);
        let rho = m
            .eigenvalues()
            .unwrap()
            .iter()
            .map(|z| z.norm())
            .fold(0.0, f64::max);
        assert!((rho - 0.8).abs() < 1e-3, "{rho}");
        // ~10 % of the entries are present.
        let frac = core.nnz() as f64 / (n * n) as f64;
        assert!((0.09..0.11).contains(&frac), "{frac}");
    }
}
