//! The smoke grid runs in seconds: one runs row per (grid point, seed), the swept column holds
//! the grid's values, curves have validation and replay rows, and the figure is drawn.

use elise_sweep::arrow_array::{Array, StringArray};
use elise_sweep::testing::run_in_temp_dir;
use exp_size::Size;

#[test]
fn smoke_grid_tables_and_figure() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = run_in_temp_dir::<Size>("size-smoke", &["--config", cfg]);
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 6);
    let runs = tmp.dir().read_table("runs").unwrap();
    assert_eq!(runs.iter().map(|b| b.num_rows()).sum::<usize>(), 6);
    let mut values: Vec<String> = runs
        .iter()
        .map(|b| {
            let col = b.column_by_name("network_n_latent").expect("swept column");
            format!("{:?}", col.slice(0, 1))
        })
        .collect();
    values.sort();
    values.dedup();
    assert_eq!(
        values.len(),
        3,
        "distinct values of network_n_latent: {values:?}"
    );
    let curves = tmp.dir().read_table("curves").unwrap();
    let phases: Vec<String> = curves
        .iter()
        .flat_map(|b| {
            let p = b
                .column_by_name("phase")
                .unwrap()
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .clone();
            (0..p.len()).map(move |k| p.value(k).to_owned())
        })
        .collect();
    assert!(phases.iter().any(|p| p == "validation") && phases.iter().any(|p| p == "replay"));
    assert!(tmp.path().join("size.png").exists() && tmp.path().join("summary.md").exists());
}
