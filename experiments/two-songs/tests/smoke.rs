//! The smoke grid runs in seconds: three runs rows per network (both songs, each song), the
//! figure is drawn, and the per-song scores are consistent with the joint ones: the final
//! validation MSE (no shift) of the whole is the neuron-weighted mean of the songs' MSEs, and
//! each song's own best shift can only improve on the joint shift.

use elise_sweep::arrow_array::{Float64Array, StringArray, UInt64Array};
use elise_sweep::column;
use std::collections::BTreeMap;

#[test]
fn smoke_grid_per_song_scores() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(
        &exp_two_songs::experiment(),
        "two-songs-smoke",
        &["--config", cfg],
    );
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 2);
    // (job, branch) -> (n_visible, final_val_mse, replay_mse, n_latent)
    let mut m = BTreeMap::new();
    for b in tmp.dir().read_table("runs").unwrap() {
        let job = column::<UInt64Array>(&b, "job").unwrap();
        let br = column::<StringArray>(&b, "branch").unwrap();
        let nv = column::<UInt64Array>(&b, "n_visible").unwrap();
        let nl = column::<UInt64Array>(&b, "n_latent").unwrap();
        let val = column::<Float64Array>(&b, "final_val_mse").unwrap();
        let rep = column::<Float64Array>(&b, "replay_mse").unwrap();
        for k in 0..b.num_rows() {
            m.insert(
                (job.value(k), br.value(k).to_owned()),
                (nv.value(k), val.value(k), rep.value(k), nl.value(k)),
            );
        }
    }
    assert_eq!(m.len(), 6);
    for job in [0u64, 1] {
        let both = m[&(job, "both".to_owned())];
        let a = m[&(job, "fuer_elise".to_owned())];
        let b = m[&(job, "ode_to_joy".to_owned())];
        assert_eq!((both.0, a.0, b.0), (18, 13, 5));
        assert_eq!(both.3, [10, 20][job as usize]);
        let weighted = (13.0 * a.1 + 5.0 * b.1) / 18.0;
        assert!(
            (weighted - both.1).abs() < 1e-12,
            "{weighted} vs {}",
            both.1
        );
        assert!((13.0 * a.2 + 5.0 * b.2) / 18.0 <= both.2 + 1e-12);
    }
    assert!(tmp.path().join("two_songs.png").exists() && tmp.path().join("summary.md").exists());
    elise_study::figure::check_figure_files(&tmp.path().join("two_songs.png"));
}

/// The smoke config runs under the lab fork's v3 protocol preset (crates/study/configs/v3.toml).
#[test]
fn smoke_grid_under_the_v3_preset() {
    elise_study::check_smoke_with_preset(
        &exp_two_songs::experiment(),
        "two-songs-smoke-v3",
        elise_study::V3_PRESET,
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml"),
        2,
    );
}
