//! The smoke run trains each seed once and branches five replays: one runs row and one curve per
//! branch, identical training curves across branches (the network is trained once), and the
//! control and the disruptions differ in the disruption cycle.

use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray, UInt64Array};
use elise_sweep::column;
use elise_sweep::testing::run_in_temp_dir;
use exp_disruption::DisruptionExperiment;
use std::collections::BTreeMap;

#[test]
fn smoke_run_branches_replays_from_one_training() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) =
        run_in_temp_dir::<DisruptionExperiment>("disruption-smoke", &["--config", cfg]);
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
}
