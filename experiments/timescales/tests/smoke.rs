//! The smoke grid runs in seconds: one runs row per (speed, delays), the figure is drawn, the
//! cycle length scales with the state duration (5 ms: a quarter of the steps of 20 ms), and
//! uniform delays change the network's behaviour.

use elise_sweep::arrow_array::{BooleanArray, Float64Array, UInt64Array};
use elise_sweep::column;

#[test]
fn smoke_grid_tables_figure_and_speeds() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    elise_study::check_smoke_grid(
        &exp_timescales::experiment(),
        "timescales-smoke",
        cfg,
        4,
        "pattern_state_ms",
        2,
        "timescales.png",
    );
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(
        &exp_timescales::experiment(),
        "timescales-smoke-rows",
        &["--config", cfg],
    );
    assert!(summary.success());
    // (state_ms, uniform) -> (n_steps, final validation MSE)
    let mut rows = Vec::new();
    for b in tmp.dir().read_table("runs").unwrap() {
        let ms = column::<Float64Array>(&b, "pattern_state_ms").unwrap();
        let uni = column::<BooleanArray>(&b, "network_uniform_delays").unwrap();
        let steps = column::<UInt64Array>(&b, "n_steps").unwrap();
        let mse = column::<Float64Array>(&b, "final_val_mse").unwrap();
        for k in 0..b.num_rows() {
            rows.push((ms.value(k), uni.value(k), steps.value(k), mse.value(k)));
        }
    }
    let get = |ms: f64, uni: bool| *rows.iter().find(|r| r.0 == ms && r.1 == uni).unwrap();
    // 21 training + 6 replay cycles of 25 states.
    assert_eq!(get(5.0, false).2, 27 * 25 * 50);
    assert_eq!(get(20.0, false).2, 4 * get(5.0, false).2);
    assert_ne!(get(20.0, false).3, get(20.0, true).3, "uniform delays act");
}

/// The smoke config runs under the lab fork's v3 protocol preset (crates/study/configs/v3.toml).
#[test]
fn smoke_grid_under_the_v3_preset() {
    elise_study::check_smoke_with_preset(
        &exp_timescales::experiment(),
        "timescales-smoke-v3",
        elise_study::V3_PRESET,
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml"),
        4,
    );
}
