//! Classic benchmark tasks of the two baselines, driving the same cores the models use.
//!
//! - Four sines (Sussillo & Abbott 2009, Fig. 2; the target of their MATLAB demo):
//!   f(t) = 1.3 (sin(w t) + sin(2 w t) / 2 + sin(3 w t) / 6 + sin(4 w t) / 3) / 1.5 with
//!   w = 2 pi / 1200 ms (period 1.2 s = 120 tau), trained for `train_ms`, then run free for
//!   `test_ms`. The reference workload is N = 1000, dt = 1 ms, 14.4 s + 14.4 s (the demo's
//!   1440 tau units each). The weaker variant (sin(k w t) / k for k = 1..4, over 1.5, peak ~0.9)
//!   is learned as well (train MAE ~0.003) but its free run falls off the orbit for about half
//!   of the seeds: the feedback amplitude of the 1.3 target is what quenches the chaos.
//!   The free run stays on the orbit but its period is slightly off, so the test MAE grows
//!   linearly with the phase drift (0.009-0.08 over seeds 0-5 for the reference workload).
//! - Mackey-Glass (Mackey & Glass 1977): dx/dt = beta x(t - tau) / (1 + x(t - tau)^n) - gamma x
//!   with beta = 0.2, gamma = 0.1, n = 10; tau = 17 gives the standard mildly chaotic series.
//!   Integrated by RK4 with step dt (delayed values at half steps by cubic Hermite
//!   interpolation from the stored values and slopes), x = x0 for t <= 0, sampled every 1 time
//!   unit.
//! - One-step prediction: an [`EsnCore`] driven by the series (the series value is the drive
//!   in place of the feedback) is trained to output the next value; scored by the NRMSE
//!   sqrt(mean (y - yhat)^2 / var(y)).

use crate::{BaselineError, EsnCore, EsnParams, ForceCore, ForceParams};
use elise_core::Seed;

/// Angular frequency of the four-sine target's fundamental, rad/ms (period 1200 ms).
const FOUR_SINES_OMEGA: f64 = std::f64::consts::TAU / 1200.0;

/// The four-sine target of Sussillo & Abbott (2009) at time `t_ms` (module header).
pub fn four_sines_target(t_ms: f64) -> f64 {
    let w = FOUR_SINES_OMEGA * t_ms;
    1.3 * (w.sin() + (2.0 * w).sin() / 2.0 + (3.0 * w).sin() / 6.0 + (4.0 * w).sin() / 3.0) / 1.5
}

/// Outcome of [`four_sines_task`].
#[derive(Clone, Debug, PartialEq)]
pub struct FourSinesResult {
    /// Mean |z - f| over the training steps (z before each step's update).
    pub train_mae: f64,
    /// Mean |z - f| over the free test steps.
    pub test_mae: f64,
    /// Wall-clock time of the whole run (construction included), in seconds.
    pub wall_seconds: f64,
    /// Training steps (train_ms / dt, rounded).
    pub train_steps: usize,
    /// Free test steps (test_ms / dt, rounded).
    pub test_steps: usize,
    /// RLS updates applied.
    pub updates: u64,
    /// Output z at every test step.
    pub test_output: Vec<f64>,
    /// Target f at every test step.
    pub test_target: Vec<f64>,
}

/// Trains a one-output FORCE network on the four-sine target for `train_ms`, then runs it free
/// for `test_ms` (steps of `params.dt_ms`, times rounded to whole steps; step k is at k dt).
pub fn four_sines_task(
    params: &ForceParams,
    seed: Seed,
    train_ms: f64,
    test_ms: f64,
) -> Result<FourSinesResult, BaselineError> {
    let start = std::time::Instant::now();
    for (field, v) in [("train_ms", train_ms), ("test_ms", test_ms)] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(BaselineError::param(field, v, "must be finite and >= 0"));
        }
    }
    let mut core = ForceCore::new(params, 1, seed)?;
    let dt = params.dt_ms;
    let train_steps = (train_ms / dt).round() as usize;
    let test_steps = (test_ms / dt).round() as usize;
    let mut train_abs = 0.0;
    for k in 0..train_steps {
        let f = four_sines_target(k as f64 * dt);
        core.step(Some(&[f]));
        train_abs += (core.output()[0] - f).abs();
    }
    let mut test_output = Vec::with_capacity(test_steps);
    let mut test_target = Vec::with_capacity(test_steps);
    for k in train_steps..train_steps + test_steps {
        core.step(None);
        test_output.push(core.output()[0]);
        test_target.push(four_sines_target(k as f64 * dt));
    }
    let test_abs: f64 = test_output
        .iter()
        .zip(&test_target)
        .map(|(z, f)| (z - f).abs())
        .sum();
    Ok(FourSinesResult {
        train_mae: train_abs / train_steps.max(1) as f64,
        test_mae: test_abs / test_steps.max(1) as f64,
        wall_seconds: start.elapsed().as_secs_f64(),
        train_steps,
        test_steps,
        updates: core.updates(),
        test_output,
        test_target,
    })
}

/// Mackey-Glass series: `n_samples` values at t = 0, 1, 2, ... (time units) of
/// dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x, integrated by RK4 with step `dt`
/// from the constant history x = `x0` (t <= 0). The start is transient: discard a few hundred
/// samples.
///
/// # Panics
/// If `dt` is not positive, `tau` is not a positive whole multiple of `dt`, or 1 / dt is not a
/// whole number.
pub fn mackey_glass(n_samples: usize, tau: f64, dt: f64, x0: f64) -> Vec<f64> {
    const BETA: f64 = 0.2;
    const GAMMA: f64 = 0.1;
    const POWER: i32 = 10;
    assert!(dt > 0.0 && dt.is_finite(), "dt must be positive");
    let whole = |v: f64| v.round() >= 1.0 && (v - v.round()).abs() < 1e-9 * v.max(1.0);
    assert!(
        whole(tau / dt),
        "tau must be a positive whole multiple of dt"
    );
    assert!(whole(1.0 / dt), "1 / dt must be a whole number");
    let delay = (tau / dt).round() as usize;
    let per_sample = (1.0 / dt).round() as usize;
    let f = |x: f64, xd: f64| BETA * xd / (1.0 + xd.powi(POWER)) - GAMMA * x;
    // hist[i] = x((i - delay) dt); slope[i] = dx/dt there (0 on the constant history; at
    // t = 0 the right-hand derivative, which is what the intervals after 0 need).
    let total = delay + 1 + n_samples.saturating_sub(1) * per_sample;
    let mut hist = Vec::with_capacity(total);
    let mut slope = Vec::with_capacity(total);
    hist.resize(delay + 1, x0);
    slope.resize(delay, 0.0);
    slope.push(f(x0, x0));
    let mut out = Vec::with_capacity(n_samples);
    if n_samples > 0 {
        out.push(x0);
    }
    while out.len() < n_samples {
        for _ in 0..per_sample {
            let c = hist.len() - 1;
            let x = hist[c];
            let (d0, d1) = (hist[c - delay], hist[c - delay + 1]);
            // Cubic Hermite value at the half step (4th-order accurate like RK4 itself). The
            // interval ending at t = 0 lies in the constant history: its right slope is 0.
            let s1 = if c + 1 == 2 * delay {
                0.0
            } else {
                slope[c - delay + 1]
            };
            let dm = 0.5 * (d0 + d1) + dt / 8.0 * (slope[c - delay] - s1);
            let k1 = f(x, d0);
            let k2 = f(x + 0.5 * dt * k1, dm);
            let k3 = f(x + 0.5 * dt * k2, dm);
            let k4 = f(x + dt * k3, d1);
            let next = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            hist.push(next);
            slope.push(f(next, hist[c + 1 - delay]));
        }
        out.push(*hist.last().expect("history is never empty"));
    }
    out
}

/// Normalized root-mean-square error sqrt(mean (y - yhat)^2 / var(y)) (population variance of
/// the target `y`). NaN for empty input or a constant target.
pub fn nrmse(prediction: &[f64], target: &[f64]) -> f64 {
    assert_eq!(prediction.len(), target.len(), "length mismatch");
    let n = target.len() as f64;
    let mean = target.iter().sum::<f64>() / n;
    let var = target.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n;
    let mse = prediction
        .iter()
        .zip(target)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / n;
    if var > 0.0 {
        (mse / var).sqrt()
    } else {
        f64::NAN
    }
}

/// Outcome of [`one_step_prediction`].
#[derive(Clone, Debug, PartialEq)]
pub struct PredictionResult {
    /// NRMSE on the training steps (after the washout), with the final readout.
    pub train_nrmse: f64,
    /// NRMSE on the test steps.
    pub test_nrmse: f64,
    /// Prediction of `series[k + 1]` for every test step k.
    pub test_prediction: Vec<f64>,
}

/// One-step-ahead prediction with an input-driven ESN: at step k the drive is `series[k]` and
/// the target `series[k + 1]`. Steps `0..n_train` train the readout (the first
/// `params.washout_steps` are only run), the readout is fitted, and steps
/// `n_train..series.len() - 1` are predicted. RLS readouts keep learning only while training.
pub fn one_step_prediction(
    params: &EsnParams,
    seed: Seed,
    series: &[f64],
    n_train: usize,
) -> Result<PredictionResult, BaselineError> {
    let washout = params.washout_steps;
    if washout >= n_train || n_train + 1 >= series.len() {
        return Err(BaselineError::TaskData(format!(
            "need washout ({washout}) < n_train ({n_train}) < series length - 1 ({})",
            series.len().saturating_sub(1)
        )));
    }
    let mut core = EsnCore::new(params, 1, 1, seed)?;
    let mut states = Vec::with_capacity((n_train - washout) * (core.n_reservoir() + 1));
    for k in 0..n_train {
        core.update(&series[k..k + 1]);
        if k >= washout {
            core.train(&series[k + 1..k + 2]);
            states.push(1.0);
            states.extend_from_slice(core.state());
        }
    }
    core.fit()?;
    // Training error with the final readout.
    let w = core.readout_weights();
    let train_pred: Vec<f64> = states
        .chunks_exact(w.len())
        .map(|z| elise_core::metrics::dot(z, w))
        .collect();
    let train_nrmse = nrmse(&train_pred, &series[washout + 1..n_train + 1]);
    let mut test_prediction = Vec::with_capacity(series.len() - 1 - n_train);
    for k in n_train..series.len() - 1 {
        core.update(&series[k..k + 1]);
        test_prediction.push(core.output()[0]);
    }
    let test_nrmse = nrmse(&test_prediction, &series[n_train + 1..]);
    Ok(PredictionResult {
        train_nrmse,
        test_nrmse,
        test_prediction,
    })
}
