//! FORCE learning (Sussillo & Abbott 2009): a chaotic rate network whose linear readout is
//! trained by recursive least squares while the readout is fed back.
//!
//! tau dx/dt = -x + g J r + w_f z,   r = tanh(x),   z = W_out^T r,
//!
//! integrated by Euler: x <- x + (dt / tau) (-x + g J r + w_f z) with r and z of the previous
//! step, then r = tanh(x) and z = W_out^T r.
//!
//! - J: n x n sparse (an sprs CSR matrix, [`crate::RecurrentMatrix`]), entries present with
//!   probability p, values N(0, 1 / (p n)); stored already multiplied by g. g = 1.5 makes the untrained network chaotic.
//! - w_f: n x m, uniform in [-1, 1) times `feedback_scaling`; W_out: n x m, starts at 0;
//!   x(0) ~ N(0, 0.5^2) per unit (the paper's demo code), so z(0) = 0.
//! - Training (teacher present): every `update_every`-th step (counted from construction), one
//!   RLS step with the a-priori error e = z - f ([`crate::rls`], P(0) = I / alpha, one P shared
//!   by all outputs). z is always fed back, also during training (classic FORCE, no teacher
//!   forcing). No update while free.
//!
//! Time base: one step is `dt_ms`; as a [`Model`] the step index `t` indexes a teacher built
//! with that same dt (e.g. 1 ms steps, 10 steps per 10 ms state).

use crate::BaselineError;
use crate::error::check;
use crate::recurrent::{self, RecurrentMatrix};
use crate::rls::Rls;
use elise_core::metrics::dot;
use elise_core::{Model, Seed, Teacher};
use serde::{Deserialize, Serialize};

/// Parameters of a FORCE network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForceParams {
    /// Network units N.
    pub n: usize,
    /// Connection probability of J, in (0, 1].
    pub p: f64,
    /// Gain of the recurrent weights (> 1: chaotic before training).
    pub g: f64,
    /// RLS regularizer: P(0) = I / alpha, > 0 (the learning rate is roughly 1/alpha).
    pub alpha: f64,
    /// Unit time constant tau in ms, > 0.
    pub tau_ms: f64,
    /// Euler step in ms, in (0, tau_ms].
    pub dt_ms: f64,
    /// Steps between two RLS updates while the teacher is present, >= 1.
    pub update_every: usize,
    /// Scale of the feedback weights w_f.
    pub feedback_scaling: f64,
}

impl Default for ForceParams {
    /// The values of Sussillo & Abbott (2009): N = 1000, p = 0.1, g = 1.5, alpha = 1,
    /// tau = 10 ms, dt = 1 ms (0.1 tau), an update every 2nd step, w_f uniform in [-1, 1).
    fn default() -> Self {
        Self {
            n: 1000,
            p: 0.1,
            g: 1.5,
            alpha: 1.0,
            tau_ms: 10.0,
            dt_ms: 1.0,
            update_every: 2,
            feedback_scaling: 1.0,
        }
    }
}

impl ForceParams {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), BaselineError> {
        if self.n == 0 {
            return Err(BaselineError::param("n", 0, "must be positive"));
        }
        if self.n > u32::MAX as usize {
            return Err(BaselineError::param("n", self.n, "too large"));
        }
        check(
            "p",
            self.p,
            self.p > 0.0 && self.p <= 1.0,
            "must be in (0, 1]",
        )?;
        check("g", self.g, self.g >= 0.0, "must be finite and >= 0")?;
        check(
            "alpha",
            self.alpha,
            self.alpha > 0.0,
            "must be finite and > 0",
        )?;
        check(
            "tau_ms",
            self.tau_ms,
            self.tau_ms > 0.0,
            "must be finite and > 0",
        )?;
        check(
            "dt_ms",
            self.dt_ms,
            self.dt_ms > 0.0 && self.dt_ms <= self.tau_ms,
            "must be finite, > 0 and <= tau_ms (Euler stability)",
        )?;
        if self.update_every == 0 {
            return Err(BaselineError::param("update_every", 0, "must be >= 1"));
        }
        check(
            "feedback_scaling",
            self.feedback_scaling,
            true,
            "must be finite",
        )?;
        Ok(())
    }
}

/// The FORCE network itself, driven by an optional target per step. [`Force`] wraps it as a
/// [`Model`]; [`crate::four_sines_task`] drives it with the paper's four-sine target.
#[derive(Clone, Debug)]
pub struct ForceCore {
    n: usize,
    n_out: usize,
    dt_over_tau: f64,
    update_every: u64,
    /// g J.
    j: RecurrentMatrix,
    /// n x n_out, row-major.
    w_f: Vec<f64>,
    x: Vec<f64>,
    r: Vec<f64>,
    /// Scratch: g J r.
    jr: Vec<f64>,
    /// Readout, column-major n x n_out.
    w_out: Vec<f64>,
    z: Vec<f64>,
    err: Vec<f64>,
    rls: Rls,
    steps: u64,
    updates: u64,
}

impl ForceCore {
    /// Builds the network for `n_outputs` outputs from the streams `"force_connectivity"` (J),
    /// `"force_feedback"` (w_f) and `"force_init"` (x(0)) of `seed`.
    pub fn new(params: &ForceParams, n_outputs: usize, seed: Seed) -> Result<Self, BaselineError> {
        params.validate()?;
        if n_outputs == 0 {
            return Err(BaselineError::NoOutputs(0));
        }
        let n = params.n;
        let sd = params.g / (params.p * n as f64).sqrt();
        let j = recurrent::random(n, params.p, &mut seed.stream("force_connectivity"), |s| {
            sd * s.normal()
        });
        let mut fb = seed.stream("force_feedback");
        let w_f = (0..n * n_outputs)
            .map(|_| params.feedback_scaling * (2.0 * fb.uniform() - 1.0))
            .collect();
        let mut init = seed.stream("force_init");
        let x: Vec<f64> = (0..n).map(|_| 0.5 * init.normal()).collect();
        let r = x.iter().map(|v| v.tanh()).collect();
        Ok(Self {
            n,
            n_out: n_outputs,
            dt_over_tau: params.dt_ms / params.tau_ms,
            update_every: params.update_every as u64,
            j,
            w_f,
            x,
            r,
            jr: vec![0.0; n],
            w_out: vec![0.0; n * n_outputs],
            z: vec![0.0; n_outputs],
            err: vec![0.0; n_outputs],
            rls: Rls::new(n, params.alpha),
            steps: 0,
            updates: 0,
        })
    }

    /// Units N.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Outputs per step.
    pub fn n_outputs(&self) -> usize {
        self.n_out
    }
    /// Nonzero recurrent weights.
    pub fn nnz(&self) -> usize {
        self.j.nnz()
    }
    /// The recurrent matrix g J (n x n).
    pub fn connectivity(&self) -> &RecurrentMatrix {
        &self.j
    }
    /// Unit currents x.
    pub fn state(&self) -> &[f64] {
        &self.x
    }
    /// Rates r = tanh(x).
    pub fn rates(&self) -> &[f64] {
        &self.r
    }
    /// Outputs z after the last step (before that step's RLS update).
    pub fn output(&self) -> &[f64] {
        &self.z
    }
    /// Readout weights, column-major n x n_outputs.
    pub fn readout_weights(&self) -> &[f64] {
        &self.w_out
    }
    /// Steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// RLS updates applied.
    pub fn updates(&self) -> u64 {
        self.updates
    }

    /// One Euler step; with `Some(target)` (the teacher present) an RLS update follows on every
    /// `update_every`-th step, with the error of the output just computed. Allocates nothing.
    ///
    /// # Panics
    /// If the target does not have `n_outputs` values.
    pub fn step(&mut self, target: Option<&[f64]>) {
        let (m, k) = (self.n_out, self.dt_over_tau);
        recurrent::mul_vec(&self.j, &self.r, &mut self.jr);
        for (i, x) in self.x.iter_mut().enumerate() {
            let mut u = self.jr[i];
            for (wf, z) in self.w_f[i * m..(i + 1) * m].iter().zip(&self.z) {
                u += wf * z;
            }
            *x += k * (u - *x);
        }
        for (r, x) in self.r.iter_mut().zip(&self.x) {
            *r = x.tanh();
        }
        let n = self.n;
        for (o, z) in self.z.iter_mut().enumerate() {
            *z = dot(&self.w_out[o * n..(o + 1) * n], &self.r);
        }
        self.steps += 1;
        if let Some(f) = target {
            assert_eq!(f.len(), m, "target length");
            if self.steps.is_multiple_of(self.update_every) {
                for ((e, z), f) in self.err.iter_mut().zip(&self.z).zip(f) {
                    *e = z - f;
                }
                self.rls.update(&self.r, &self.err, &mut self.w_out);
                self.updates += 1;
            }
        }
    }

    fn is_finite(&self) -> bool {
        self.x
            .iter()
            .chain(&self.z)
            .chain(&self.w_out)
            .all(|v| v.is_finite())
    }
}

/// FORCE network as a [`Model`]: RLS on the teacher's target rates while the teacher is
/// present, its own output fed back throughout (see the module header).
#[derive(Clone, Debug)]
pub struct Force {
    core: ForceCore,
    teacher: Teacher,
}

impl Force {
    /// A FORCE network with `teacher.n_visible()` outputs learning `teacher`'s target rates;
    /// randomness from the streams listed at [`ForceCore::new`]. The teacher must be built with
    /// `params.dt_ms` as its step.
    pub fn new(params: &ForceParams, teacher: Teacher, seed: Seed) -> Result<Self, BaselineError> {
        let m = teacher.n_visible();
        if m == 0 {
            return Err(BaselineError::NoOutputs(0));
        }
        Ok(Self {
            core: ForceCore::new(params, m, seed)?,
            teacher,
        })
    }

    /// The network core (state, readout).
    pub fn core(&self) -> &ForceCore {
        &self.core
    }
    /// The teacher.
    pub fn teacher(&self) -> &Teacher {
        &self.teacher
    }
}

impl Model for Force {
    fn n_outputs(&self) -> usize {
        self.core.n_out
    }

    fn step(&mut self, t: usize, lambda: f64) {
        let target = (lambda >= 0.5).then(|| self.teacher.target_rate(t));
        self.core.step(target);
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

    #[test]
    fn bad_params_name_the_field() {
        let bad: Vec<(ForceParams, &str)> = vec![
            (
                ForceParams {
                    n: 0,
                    ..Default::default()
                },
                "n",
            ),
            (
                ForceParams {
                    p: 0.0,
                    ..Default::default()
                },
                "p",
            ),
            (
                ForceParams {
                    p: 1.01,
                    ..Default::default()
                },
                "p",
            ),
            (
                ForceParams {
                    g: -1.0,
                    ..Default::default()
                },
                "g",
            ),
            (
                ForceParams {
                    alpha: 0.0,
                    ..Default::default()
                },
                "alpha",
            ),
            (
                ForceParams {
                    tau_ms: 0.0,
                    ..Default::default()
                },
                "tau_ms",
            ),
            (
                ForceParams {
                    dt_ms: 0.0,
                    ..Default::default()
                },
                "dt_ms",
            ),
            (
                ForceParams {
                    dt_ms: 20.0,
                    ..Default::default()
                },
                "dt_ms",
            ),
            (
                ForceParams {
                    update_every: 0,
                    ..Default::default()
                },
                "update_every",
            ),
            (
                ForceParams {
                    feedback_scaling: f64::NAN,
                    ..Default::default()
                },
                "feedback_scaling",
            ),
        ];
        for (p, field) in bad {
            match ForceCore::new(&p, 1, Seed(0)) {
                Err(BaselineError::InvalidParam { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(ForceParams::default().validate().is_ok());
    }

    #[test]
    fn params_serde_round_trip_and_reject_unknown_fields() {
        let p = ForceParams::default();
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<ForceParams>(&text).unwrap(), p);
        let extra = text.replacen('{', "{\"gain\":3,", 1);
        assert!(serde_json::from_str::<ForceParams>(&extra).is_err());
    }

    /// J has the paper's statistics: ~p n^2 entries with variance g^2 / (p n).
    #[test]
    fn connectivity_statistics() {
        let p = ForceParams {
            n: 400,
            ..Default::default()
        };
        let core = ForceCore::new(&p, 2, Seed(3)).unwrap();
        let d = crate::recurrent::to_dense(core.connectivity());
        let nnz = core.nnz() as f64;
        assert!((nnz / (400.0 * 400.0) - 0.1).abs() < 0.005, "{nnz}");
        let var = d.iter().map(|v| v * v).sum::<f64>() / nnz;
        let want = 1.5 * 1.5 / (0.1 * 400.0);
        assert!((var / want - 1.0).abs() < 0.03, "{var} vs {want}");
        assert!(core.readout_weights().iter().all(|&w| w == 0.0));
        assert!(core.output().iter().all(|&z| z == 0.0));
    }

    /// Updates happen on every `update_every`-th step, only with a target.
    #[test]
    fn updates_follow_the_schedule() {
        let p = ForceParams {
            n: 50,
            update_every: 3,
            ..Default::default()
        };
        let mut core = ForceCore::new(&p, 1, Seed(3)).unwrap();
        for _ in 0..9 {
            core.step(Some(&[0.5]));
        }
        assert_eq!(core.updates(), 3);
        let w = core.readout_weights().to_vec();
        for _ in 0..9 {
            core.step(None);
        }
        assert_eq!(core.updates(), 3);
        assert_eq!(core.readout_weights(), &w[..]);
        assert_eq!(core.steps(), 18);
    }
}
