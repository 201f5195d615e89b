//! The smoke grid runs in seconds: one runs row per noise level, the figure is drawn, the noise
//! changes training, and the scoring target stays the clean pattern (identical targets in the
//! traces at every noise level).

use elise_sweep::arrow_array::{Float32Array, Float64Array, UInt64Array};
use elise_sweep::column;
use std::collections::BTreeMap;

#[test]
fn smoke_grid_noise_acts_and_target_stays_clean() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    elise_study::check_smoke_grid(
        &exp_noisy_tutor::experiment(),
        "noisy-tutor-smoke",
        cfg,
        2,
        "pattern_tutor_noise_sigma_mv",
        2,
        "noisy_tutor.png",
    );
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(
        &exp_noisy_tutor::experiment(),
        "noisy-tutor-smoke-rows",
        &["--config", cfg],
    );
    assert!(summary.success());
    // job -> (sigma, final validation MSE)
    let mut runs = BTreeMap::new();
    for b in tmp.dir().read_table("runs").unwrap() {
        let job = column::<UInt64Array>(&b, "job").unwrap();
        let sigma = column::<Float64Array>(&b, "pattern_tutor_noise_sigma_mv").unwrap();
        let mse = column::<Float64Array>(&b, "final_val_mse").unwrap();
        for k in 0..b.num_rows() {
            runs.insert(job.value(k), (sigma.value(k), mse.value(k)));
        }
    }
    let (clean, noisy) = (runs[&0], runs[&1]);
    assert_eq!((clean.0, noisy.0), (0.0, 8.0));
    assert_ne!(clean.1, noisy.1, "the noisy tutor changes training");
    // Targets in the traces: the same clean teacher for both jobs.
    let mut targets: BTreeMap<u64, Vec<f32>> = BTreeMap::new();
    for b in tmp.dir().read_table("traces").unwrap() {
        let job = column::<UInt64Array>(&b, "job").unwrap();
        let t = column::<Float32Array>(&b, "target").unwrap();
        for k in 0..b.num_rows() {
            targets.entry(job.value(k)).or_default().push(t.value(k));
        }
    }
    assert!(!targets[&0].is_empty());
    assert_eq!(
        targets[&0], targets[&1],
        "replay is scored against the clean target"
    );
}

/// The smoke config runs under the lab fork's v3 protocol preset (crates/study/configs/v3.toml).
#[test]
fn smoke_grid_under_the_v3_preset() {
    elise_study::check_smoke_with_preset(
        &exp_noisy_tutor::experiment(),
        "noisy-tutor-smoke-v3",
        elise_study::V3_PRESET,
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml"),
        2,
    );
}
