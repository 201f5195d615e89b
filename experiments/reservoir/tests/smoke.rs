//! The smoke grid runs end to end: every (mode, size, seed) job is written, grid points share
//! seeds, each job ran its own configuration, and the figure and summary are produced.

use elise_sweep::arrow_array::{Int64Array, StringArray, UInt64Array};
use elise_sweep::column;
use elise_sweep::testing::run_in_temp_dir;

#[test]
fn smoke_grid_runs_every_point_with_its_own_config() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = run_in_temp_dir(
        &exp_reservoir::experiment(),
        "reservoir-smoke",
        &["--config", cfg],
    );
    let dir = tmp.path();
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 12);
    let run = tmp.dir();
    let mut seen = Vec::new();
    for b in run.read_table("runs").unwrap() {
        let method = column::<StringArray>(&b, "method").unwrap();
        let mode = column::<StringArray>(&b, "network_mode").unwrap();
        let n_latent = column::<UInt64Array>(&b, "n_latent").unwrap();
        let cfg_latent = column::<Int64Array>(&b, "network_n_latent").unwrap();
        let seed = column::<UInt64Array>(&b, "seed").unwrap();
        let plastic = column::<UInt64Array>(&b, "n_plastic").unwrap();
        for k in 0..b.num_rows() {
            assert_eq!(
                n_latent.value(k) as i64,
                cfg_latent.value(k),
                "the job's network has the job's size"
            );
            seen.push((
                method.value(k).to_owned(),
                mode.value(k).to_owned(),
                n_latent.value(k),
                seed.value(k),
                plastic.value(k),
            ));
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 12);
    for (method, mode, ..) in &seen {
        assert_eq!(
            method,
            &format!(
                "elise{}",
                if mode == "elise" {
                    String::new()
                } else {
                    format!("-{mode}")
                }
            )
        );
    }
    // Plastic synapses: ELiSe (all N(N-1)) > reservoir (13 visible rows) = soma-only, at n = 18.
    let plastic = |m: &str| seen.iter().find(|s| s.0 == m && s.2 == 5).unwrap().4;
    assert_eq!(plastic("elise"), 18 * 17);
    assert_eq!(plastic("elise-reservoir"), 13 * 17);
    assert_eq!(plastic("elise-soma-only"), 13 * 17);
    // Every grid point sees the same two seeds.
    for m in ["elise", "elise-reservoir", "elise-soma-only"] {
        for n in [5, 10] {
            let seeds: Vec<u64> = seen
                .iter()
                .filter(|s| s.0 == m && s.2 == n)
                .map(|s| s.3)
                .collect();
            assert_eq!(seeds, vec![12345, 12346], "{m} {n}");
        }
    }
    assert!(dir.join("reservoir.png").exists());
    elise_study::figure::check_figure_files(&dir.join("reservoir.png"));
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.contains("| elise-reservoir | 10 | 2 |"), "{md}");
}
