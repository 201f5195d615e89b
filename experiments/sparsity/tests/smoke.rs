//! The smoke grid runs in seconds: one runs row per (grid point, seed), the swept column holds
//! the grid's values, curves have validation and replay rows, and the figure is drawn.

#[test]
fn smoke_grid_tables_and_figure() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    elise_study::check_smoke_grid(
        &exp_sparsity::experiment(),
        "sparsity-smoke",
        cfg,
        8,
        "network_density",
        2,
        "sparsity.png",
    );
}

/// Another grid axis over density x protection (here the latent size) gets its own lines in
/// the figure and its own rows in the table, never merged into one median per density.
#[test]
fn another_axis_gets_its_own_lines() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(
        &exp_sparsity::experiment(),
        "sparsity-latent",
        &[
            "--config",
            cfg,
            "--seeds",
            "1",
            "--axis",
            "network.n_latent=8,10",
        ],
    );
    assert!(summary.success(), "{summary:?}");
    let table = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with(
            "| network_protect_scaffold | other grid axes | dendritic density | seeds |"
        ),
        "{table}"
    );
    assert_eq!(
        lines.len(),
        2 + 8,
        "one row per (protection, latent size, density): {table}"
    );
    assert!(
        lines[2]
            .starts_with("| network_protect_scaffold = false | network_n_latent = 8 | 0.1 | 1 |"),
        "numeric order of the other axis: {table}"
    );
    let svg = std::fs::read_to_string(tmp.path().join("sparsity.svg")).unwrap();
    for label in [
        "protection on, 8 latent neurons",
        "protection off, 10 latent neurons",
    ] {
        assert!(svg.contains(label), "legend lacks {label:?}");
    }
}

/// A figure drawn from fewer jobs than the run has (here `--redraw` after one job's record is
/// gone, as mid-run) says so in its title; the complete run's figure does not.
#[test]
fn a_partial_figure_says_so() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let exp = exp_sparsity::experiment();
    let (summary, tmp) =
        elise_sweep::testing::run_in_temp_dir(&exp, "sparsity-partial", &["--config", cfg]);
    assert!(summary.success(), "{summary:?}");
    let svg = || std::fs::read_to_string(tmp.path().join("sparsity.svg")).unwrap();
    assert!(
        !svg().contains("partial"),
        "a complete run's figure is not partial"
    );
    std::fs::remove_file(tmp.path().join("_done/job-000003.toml")).unwrap();
    let args: Vec<String> = ["--redraw", "--out", tmp.path().to_str().unwrap()]
        .map(String::from)
        .to_vec();
    elise_sweep::run_cli(&exp, &args).unwrap();
    assert!(
        svg().contains("[partial: 7 of 8 jobs]"),
        "title of the redrawn figure"
    );
}
