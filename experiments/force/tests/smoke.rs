//! exp-force at a small size: the four-sine table and the pattern task's tables are written,
//! and FORCE reduces the four-sine training error far below the target's amplitude.

use elise_sweep::arrow_array::{Float64Array, StringArray};
use elise_sweep::column;
use elise_sweep::testing::run_in_temp_dir;

#[test]
fn smoke_run_writes_both_tasks() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) =
        run_in_temp_dir(&exp_force::experiment(), "force-smoke", &["--config", cfg]);
    let dir = tmp.path();
    assert!(summary.success(), "{summary:?}");
    let run = tmp.dir();
    let fs = run.read_table("four_sines").unwrap();
    let train: Vec<f64> = fs
        .iter()
        .flat_map(|b| {
            column::<Float64Array>(b, "train_mae")
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(train.len(), 2);
    // The target's mean absolute value is ~0.6; RLS tracking keeps the training error small.
    assert!(train.iter().all(|&e| e < 0.1), "{train:?}");
    let runs = run.read_table("runs").unwrap();
    assert!(runs.iter().all(|b| {
        column::<StringArray>(b, "method")
            .unwrap()
            .iter()
            .all(|m| m == Some("force"))
    }));
    assert!(dir.join("force.png").exists() && dir.join("summary.md").exists());
    elise_study::figure::check_figure_files(&dir.join("force.png"));
}
