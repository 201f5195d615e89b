//! The robust preset (`configs/robust.toml`, issue 17) is a valid config over every ELiSe
//! experiment's keys, and a short run under it carries its settings into the `runs` table.

use elise_sweep::arrow_array::{BooleanArray, Float64Array, Int64Array, UInt64Array};
use elise_sweep::column;

#[test]
fn robust_preset_runs_and_its_settings_reach_the_runs_table() {
    let preset = include_str!("../configs/robust.toml");
    let preset_table: toml::Table = preset.parse().expect("robust.toml is TOML");
    let (summary, tmp) = elise_study::run_smoke_with_preset(
        &exp_birdsong::experiment(),
        "birdsong-robust-preset",
        preset,
        concat!(env!("CARGO_MANIFEST_DIR"), "/configs/default.toml"),
        // Short: 6 training cycles in epochs of 3, 5 replay cycles, 2 seeds.
        "[run]\nseeds = 2\n[train]\ncycles = 6\nepoch_cycles = 3\nvalidate_every = 2\n\
         [replay]\ncycles = 5\n[output]\ntraces = false\n",
    );
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 2);
    let want = |section: &str, key: &str| -> f64 {
        let v = &preset_table[section][key];
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .unwrap()
    };
    let mut rows = 0;
    for b in tmp.dir().read_table("runs").unwrap() {
        let f = |name| column::<Float64Array>(&b, name).unwrap();
        let u = |name| column::<UInt64Array>(&b, name).unwrap();
        let n_latent = column::<Int64Array>(&b, "network_n_latent").unwrap();
        for k in 0..b.num_rows() {
            assert_eq!(n_latent.value(k) as f64, want("network", "n_latent"));
            assert_eq!(
                f("network_delay_max_ms").value(k),
                want("network", "delay_max_ms")
            );
            assert_eq!(f("scaffold_q").value(k), want("scaffold", "q"));
            assert_eq!(
                f("plasticity_eta_other").value(k),
                want("plasticity", "eta_other")
            );
            assert_eq!(f("train_lr_decay").value(k), want("train", "lr_decay"));
            assert_eq!(
                f("train_lock_in_corr").value(k),
                want("train", "lock_in_corr")
            );
            assert_eq!(
                f("train_lock_in_mse").value(k),
                want("train", "lock_in_mse")
            );
            assert_eq!(
                f("train_lock_in_decay").value(k),
                want("train", "lock_in_decay")
            );
            assert_eq!(
                column::<BooleanArray>(&b, "train_lock_in_stop")
                    .unwrap()
                    .value(k),
                preset_table["train"]["lock_in_stop"].as_bool().unwrap()
            );
            // The scaffold reaches (nearly) every latent neuron at this q.
            let reached = u("scaffold_latent_reached").value(k) as f64;
            assert!(reached >= 0.9 * want("network", "n_latent"), "row {k}");
            rows += 1;
        }
    }
    assert_eq!(rows, 2);
}
