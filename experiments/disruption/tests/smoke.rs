//! The smoke run trains each seed once and branches five replays: one runs row and one curve per
//! branch, identical training curves across branches (the network is trained once), and the
//! control and the disruptions differ in the disruption cycle.

use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray, UInt64Array};
use elise_sweep::column;
use elise_sweep::testing::run_in_temp_dir;
use std::collections::BTreeMap;

#[test]
fn smoke_run_branches_replays_from_one_training() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = run_in_temp_dir(
        &exp_disruption::experiment(),
        "disruption-smoke",
        &["--config", cfg],
    );
    assert!(summary.success(), "{summary:?}");
    let runs = tmp.dir().read_table("runs").unwrap();
    assert_eq!(runs.iter().map(|b| b.num_rows()).sum::<usize>(), 2 * 5);
    // (branch, seed, phase, cycle) -> mse
    let mut m: BTreeMap<(String, u64, String, i64), f64> = BTreeMap::new();
    for b in tmp.dir().read_table("curves").unwrap() {
        let (br, seed, ph) = (
            column::<StringArray>(&b, "branch").unwrap(),
            column::<UInt64Array>(&b, "seed").unwrap(),
            column::<StringArray>(&b, "phase").unwrap(),
        );
        let (cy, mse) = (
            column::<Int64Array>(&b, "cycle").unwrap(),
            column::<Float64Array>(&b, "mse").unwrap(),
        );
        for k in 0..b.num_rows() {
            m.insert(
                (
                    br.value(k).into(),
                    seed.value(k),
                    ph.value(k).into(),
                    cy.value(k),
                ),
                mse.value(k),
            );
        }
    }
    let get = |br: &str, ph: &str, c: i64| m[&(br.to_owned(), 12345, ph.to_owned(), c)];
    for br in ["full", "full_offset", "small", "small_offset"] {
        assert_eq!(
            get(br, "validation", 10),
            get("none", "validation", 10),
            "one training for all branches"
        );
        assert_ne!(
            get(br, "replay", 4),
            get("none", "replay", 4),
            "{br} disrupts cycle 4"
        );
    }
    assert!(tmp.path().join("disruption.png").exists() && tmp.path().join("summary.md").exists());
    elise_study::figure::check_figure_files(&tmp.path().join("disruption.png"));

    // Traces only for replicate 0 (raster_replicates = 1), replay cycles 3..=6 around the
    // disruption in cycle 4, every branch; the raster figure is drawn from them.
    let mut seen: BTreeMap<(String, u64, i64), usize> = BTreeMap::new();
    for b in tmp.dir().read_table("traces").unwrap() {
        let br = column::<StringArray>(&b, "branch").unwrap();
        let seed = column::<UInt64Array>(&b, "seed").unwrap();
        let ph = column::<StringArray>(&b, "phase").unwrap();
        let cy = column::<Int64Array>(&b, "cycle").unwrap();
        for k in 0..b.num_rows() {
            assert_eq!(ph.value(k), "replay");
            *seen
                .entry((br.value(k).into(), seed.value(k), cy.value(k)))
                .or_default() += 1;
        }
    }
    let keys: Vec<_> = seen.keys().cloned().collect();
    let mut want = Vec::new();
    for br in ["full", "full_offset", "none", "small", "small_offset"] {
        for c in 3..=6 {
            want.push((br.to_owned(), 12345, c));
        }
    }
    assert_eq!(keys, want);
    assert!(seen.values().all(|&n| n == seen[&want[0]]), "{seen:?}");
    assert!(tmp.path().join("disruption_raster.png").exists());
    elise_study::figure::check_figure_files(&tmp.path().join("disruption_raster.png"));
}
