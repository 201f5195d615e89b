//! The smoke comparison runs every method through the shared protocol and writes one `runs`
//! schema for all of them, with the same metric columns as exp-birdsong.

use elise_sweep::arrow_array::{StringArray, UInt64Array};
use elise_sweep::testing::run_in_temp_dir;
use elise_sweep::{column, run_cli};

#[test]
fn smoke_comparison_covers_every_method_with_one_schema() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = run_in_temp_dir(
        &exp_compare::experiment(),
        "compare-smoke",
        &["--config", cfg],
    );
    let dir = tmp.path();
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 8);
    let runs = tmp.dir().read_table("runs").unwrap();
    let schema = runs[0].schema();
    assert!(
        runs.iter().all(|b| b.schema() == schema),
        "one schema for every method"
    );
    for col in [
        "method",
        "seed",
        "n_neurons",
        "n_plastic",
        "replay_mse",
        "replay_corr_sum",
        "final_val_mse",
        "final_val_corr_sum",
        "wall_seconds",
    ] {
        assert!(schema.field_with_name(col).is_ok(), "runs lacks {col}");
    }
    let mut methods: Vec<(String, u64)> = runs
        .iter()
        .flat_map(|b| {
            let m = column::<StringArray>(b, "method").unwrap();
            let n = column::<UInt64Array>(b, "n_neurons").unwrap();
            (0..b.num_rows())
                .map(|k| (m.value(k).to_owned(), n.value(k)))
                .collect::<Vec<_>>()
        })
        .collect();
    methods.sort();
    methods.dedup();
    assert_eq!(
        methods,
        vec![
            ("elise".into(), 18),
            ("elise-reservoir".into(), 18),
            ("esn".into(), 30),
            ("force".into(), 30)
        ]
    );
    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(
        md.contains("| force | 30 |") && md.contains("| esn | 30 |"),
        "{md}"
    );
    assert!(dir.join("compare.png").exists());
    elise_study::figure::check_figure_files(&dir.join("compare.png"));
    // The methods sweep different sizes: the curve panels show each at its largest size and
    // label the curves as the panels above do, so the figure has one legend (per-panel
    // legends with the sizes in them took the curves' space).
    let svg = std::fs::read_to_string(dir.join("compare.svg")).unwrap();
    assert!(svg.contains("each at the right end of its line above"));
    assert!(
        !svg.contains("(neurons = "),
        "no per-panel legend with sizes"
    );
}

#[test]
fn unknown_method_is_rejected() {
    let args: Vec<String> = ["--set", "compare.methods=[\"elise\",\"lstm\"]", "--list"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let err = run_cli(&exp_compare::experiment(), &args).unwrap_err();
    assert!(format!("{err:#}").contains("lstm"), "{err:#}");
}
