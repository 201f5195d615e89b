//! A run is a pure function of (config, seed): the same rows with 1 and 2 threads.

use elise_sweep::arrow_array::RecordBatch;
use elise_sweep::{RunDir, run_cli};
use std::path::PathBuf;

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elise-birdsong-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run(threads: usize) -> PathBuf {
    let dir = out_dir(&format!("threads{threads}"));
    let args: Vec<String> = [
        "--seeds",
        "3",
        "--threads",
        &threads.to_string(),
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "network.n_latent=10",
        "--set",
        "train.cycles=12",
        "--set",
        "train.validate_every=4",
        "--set",
        "replay.cycles=5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let summary = run_cli(&exp_birdsong::experiment(), &args)
        .and_then(elise_sweep::Outcome::into_run)
        .unwrap();
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, 3);
    dir
}

/// All batches of a table, without the wall-clock columns.
fn table(dir: &PathBuf, name: &str) -> Vec<RecordBatch> {
    let batches = RunDir::new(dir).read_table(name).unwrap();
    assert!(!batches.is_empty(), "{name} is empty");
    batches
        .into_iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&k| {
                    !matches!(
                        b.schema().field(k).name().as_str(),
                        "wall_seconds" | "steps_per_second"
                    )
                })
                .collect();
            b.project(&keep).unwrap()
        })
        .collect()
}

#[test]
fn same_rows_with_one_and_two_threads() {
    let (a, b) = (run(1), run(2));
    for name in ["runs", "curves", "traces"] {
        let (ta, tb) = (table(&a, name), table(&b, name));
        assert_eq!(ta, tb, "table {name} differs between 1 and 2 threads");
    }
    // The tables hold what the issue names.
    let runs = table(&a, "runs");
    let schema = runs[0].schema();
    for col in [
        "seed",
        "n_latent",
        "replay_mse",
        "replay_corr_sum",
        "final_val_mse",
        "final_val_corr_sum",
        "scaffold_p",
        "network_mode",
    ] {
        assert!(schema.field_with_name(col).is_ok(), "runs lacks {col}");
    }
    let full = RunDir::new(&a).read_table("runs").unwrap();
    for col in ["wall_seconds", "steps_per_second"] {
        assert!(full[0].schema().field_with_name(col).is_ok());
    }
    // Different seeds give different networks.
    let curves = table(&a, "curves");
    assert_eq!(curves.len(), 3);
    assert_ne!(
        curves[0].column_by_name("mse"),
        curves[1].column_by_name("mse")
    );
    assert!(
        a.join("birdsong.png").exists()
            && a.join("manifest.toml").exists()
            && a.join("config.toml").exists()
    );
    // The figure can be redrawn from the tables alone.
    std::fs::remove_file(a.join("birdsong.png")).unwrap();
    let args: Vec<String> = ["--out", a.to_str().unwrap(), "--redraw"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let redraw = run_cli(&exp_birdsong::experiment(), &args).unwrap();
    assert!(
        redraw.success() && matches!(redraw, elise_sweep::Outcome::Redrawn { .. }),
        "{redraw:?}"
    );
    assert!(a.join("birdsong.png").exists());
    elise_study::figure::check_figure_files(&a.join("birdsong.png"));
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
}
