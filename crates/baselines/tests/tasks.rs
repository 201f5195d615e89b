//! The classic benchmark tasks: FORCE on the four-sine target, and ESN one-step prediction of
//! the Mackey-Glass series.

use elise_baselines::{
    EsnParams, ForceParams, four_sines_target, four_sines_task, mackey_glass, nrmse,
    one_step_prediction,
};
use elise_core::Seed;

/// The reference workload: N = 1000, dt = 1 ms, 14.4 s of training, 14.4 s free.
#[test]
fn force_learns_four_sines() {
    let r = four_sines_task(&ForceParams::default(), Seed(0), 14_400.0, 14_400.0).unwrap();
    assert_eq!((r.train_steps, r.test_steps), (14_400, 14_400));
    assert_eq!(r.updates, 7_200);
    assert!(r.train_mae < 0.01, "train MAE {}", r.train_mae);
    assert!(r.test_mae < 0.05, "test MAE {}", r.test_mae);
    // The free output keeps oscillating with the target's amplitude (not decaying to 0).
    let last = &r.test_output[r.test_steps - 1200..];
    let (lo, hi) = last
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &z| (a.min(z), b.max(z)));
    let (tlo, thi) = r.test_target[r.test_steps - 1200..]
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &z| (a.min(z), b.max(z)));
    assert!((hi - lo) / (thi - tlo) > 0.9, "{lo}..{hi} vs {tlo}..{thi}");
}

/// Without training (no RLS step) the output stays 0: the MAE is that of the target itself.
#[test]
fn untrained_force_fails_four_sines() {
    let r = four_sines_task(&ForceParams::default(), Seed(0), 0.0, 2_400.0).unwrap();
    assert_eq!(r.updates, 0);
    assert!(r.test_mae > 0.3, "test MAE {}", r.test_mae);
}

#[test]
fn four_sines_target_values() {
    // Period 1200 ms, f(0) = 0, odd around 0.
    assert_eq!(four_sines_target(0.0), 0.0);
    for t in [13.0, 250.0, 777.0] {
        assert!((four_sines_target(t) - four_sines_target(t + 1200.0)).abs() < 1e-12);
        assert!((four_sines_target(-t) + four_sines_target(t)).abs() < 1e-12);
    }
    // Hand value at t = 300 ms (w t = pi / 2): 1.3 (1 + 0 - 1/6 + 0) / 1.5.
    assert!((four_sines_target(300.0) - 1.3 * (5.0 / 6.0) / 1.5).abs() < 1e-12);
}

#[test]
fn mackey_glass_series_is_the_standard_attractor() {
    let x = mackey_glass(3000, 17.0, 0.1, 1.2);
    assert_eq!(x.len(), 3000);
    assert_eq!(x[0], 1.2);
    let tail = &x[500..];
    let (lo, hi) = tail
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    // The tau = 17 attractor lives in roughly [0.2, 1.4].
    assert!(lo > 0.15 && lo < 0.5 && hi > 1.1 && hi < 1.45, "{lo}..{hi}");
    // RK4 with Hermite-interpolated delays converges at 4th order: halving dt shrinks the
    // change of the first 200 time units 16-fold.
    let fine = mackey_glass(200, 17.0, 0.05, 1.2);
    let finer = mackey_glass(200, 17.0, 0.025, 1.2);
    let max_diff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()))
    };
    let (d1, d2) = (max_diff(&x[..200], &fine), max_diff(&fine, &finer));
    assert!(d1 < 1e-8, "{d1}");
    assert!((12.0..20.0).contains(&(d1 / d2)), "order ratio {}", d1 / d2);
    // Chaotic, not periodic: no lag up to 200 repeats the series.
    for lag in 1..200 {
        let d: f64 = (0..500)
            .map(|k| (tail[k] - tail[k + lag]).abs())
            .sum::<f64>()
            / 500.0;
        assert!(d > 1e-3, "lag {lag}: {d}");
    }
}

#[test]
fn esn_predicts_mackey_glass_one_step_ahead() {
    let raw = mackey_glass(6000, 17.0, 0.1, 1.2);
    // Drop the transient; centre around 0 for the tanh units.
    let series: Vec<f64> = raw[1000..].iter().map(|v| v - 1.0).collect();
    let params = EsnParams {
        n_reservoir: 500,
        leak_rate: 1.0,
        ridge: 1e-8,
        washout_steps: 200,
        ..Default::default()
    };
    let r = one_step_prediction(&params, Seed(0), &series, 4000).unwrap();
    assert_eq!(r.test_prediction.len(), 999);
    assert!(r.test_nrmse < 1e-3, "test NRMSE {}", r.test_nrmse);
    assert!(r.train_nrmse < 1e-3, "train NRMSE {}", r.train_nrmse);
    // Persistence (predict the current value) is ~1000x worse.
    let persistence = nrmse(&series[4000..series.len() - 1], &series[4001..]);
    assert!(persistence > 100.0 * r.test_nrmse, "{persistence}");
    // An untrained readout (washout covering all training steps is rejected; use a
    // one-sample fit instead) predicts nothing useful.
    let p1 = EsnParams {
        washout_steps: 3999,
        ridge: 1.0,
        ..params
    };
    let r1 = one_step_prediction(&p1, Seed(0), &series, 4000).unwrap();
    assert!(r1.test_nrmse > 0.5, "{}", r1.test_nrmse);
}

#[test]
fn nrmse_hand_values() {
    let y = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(nrmse(&y, &y), 0.0);
    // mean 2.5, var 1.25; constant error 0.5: sqrt(0.25 / 1.25).
    let p = [1.5, 2.5, 3.5, 4.5];
    assert!((nrmse(&p, &y) - (0.2f64).sqrt()).abs() < 1e-15);
    assert!(nrmse(&[1.0; 3], &[2.0; 3]).is_nan());
}
