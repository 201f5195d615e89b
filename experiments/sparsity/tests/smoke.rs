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
    let tmp = smoke_run(
        "sparsity-latent",
        &["--seeds", "1", "--axis", "network.n_latent=8,10"],
    );
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
    // Protection off and on sweep the same densities: the curve panels show one density for
    // all, where the groups differ most, and the title names it.
    assert!(
        svg.contains("Free validation cycles (dendritic density = ")
            && svg.contains(", largest gap)"),
        "curve panels at one named density"
    );
}

/// A figure drawn from fewer jobs than the run has (here `--redraw` after one job's record is
/// gone, as mid-run) says so in its title; the complete run's figure does not.
#[test]
fn a_partial_figure_says_so() {
    let tmp = smoke_run("sparsity-partial", &[]);
    let svg = || std::fs::read_to_string(tmp.path().join("sparsity.svg")).unwrap();
    assert!(
        !svg().contains("partial"),
        "a complete run's figure is not partial"
    );
    std::fs::remove_file(tmp.path().join("_done/job-000003.toml")).unwrap();
    cli("--redraw", tmp.path()).unwrap();
    assert!(
        svg().contains("[partial: 7 of 8 jobs]"),
        "title of the redrawn figure"
    );
}

/// The smoke config with `extra` arguments run into a temporary directory; it must succeed.
fn smoke_run(tag: &str, extra: &[&str]) -> elise_sweep::testing::TempRun {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let mut args = vec!["--config", cfg];
    args.extend_from_slice(extra);
    let (summary, tmp) =
        elise_sweep::testing::run_in_temp_dir(&exp_sparsity::experiment(), tag, &args);
    assert!(summary.success(), "{summary:?}");
    tmp
}

/// `exp-sparsity <command> --out <run>` in-process (`--redraw`, `collect`).
fn cli(command: &str, run: &std::path::Path) -> anyhow::Result<elise_sweep::Outcome> {
    let args = [command, "--out", run.to_str().unwrap()].map(String::from);
    elise_sweep::run_cli(&exp_sparsity::experiment(), &args)
}

/// Rewrites job `job`'s `runs` part without `column`, as a build from before that column
/// existed would have written it, and updates its completion record to match.
fn drop_column(run: &std::path::Path, job: usize, column: &str) {
    use elise_sweep::toml;
    let dir = elise_sweep::RunDir::new(run);
    let part = dir.part("runs", job).unwrap().unwrap();
    let meta = elise_sweep::read_parquet_metadata(&part).unwrap();
    let mut batch = elise_sweep::read_parquet(&part).unwrap().remove(0);
    let at = batch.schema().index_of(column).unwrap();
    batch.remove_column(at);
    elise_sweep::write_parquet_atomic(&part, &batch, &meta).unwrap();
    let bytes = std::fs::read(&part).unwrap();
    let record = run.join(format!("_done/job-{job:06}.toml"));
    let mut t: toml::Table = std::fs::read_to_string(&record).unwrap().parse().unwrap();
    for p in t["parts"].as_array_mut().unwrap() {
        let p = p.as_table_mut().unwrap();
        if p["table"].as_str() == Some("runs") {
            p.insert("bytes".into(), toml::Value::Integer(bytes.len() as i64));
            let hash = format!("{:016x}", elise_sweep::fnv1a_64(&bytes));
            p.insert("fnv1a64".into(), toml::Value::String(hash));
        }
    }
    std::fs::write(&record, toml::to_string(&t).unwrap()).unwrap();
}

/// `collect` merges parts written by an older build, which lack a config column added since
/// (a run resumes across builds only when such a key is at its default): the merged table has
/// the column, filled with the run's config value. A missing column that is no config value
/// refuses the merge, naming the part and the column.
#[test]
fn collect_fills_config_columns_that_older_parts_lack() {
    use elise_sweep::arrow_array::{Array, BooleanArray};
    let tmp = smoke_run("sparsity-evolve", &[]);
    let reference = elise_sweep::read_parquet(&tmp.path().join("runs/job-000001.parquet"))
        .unwrap()
        .remove(0)
        .schema();
    // The key network.uniform_delays is false in this run; jobs 0 and 5 "predate" it.
    drop_column(tmp.path(), 0, "network_uniform_delays");
    drop_column(tmp.path(), 5, "network_uniform_delays");
    cli("collect", tmp.path()).unwrap();
    let merged = elise_sweep::read_parquet(&tmp.path().join("runs.parquet")).unwrap();
    assert_eq!(merged.iter().map(|b| b.num_rows()).sum::<usize>(), 8);
    for b in &merged {
        assert_eq!(
            b.schema().fields(),
            reference.fields(),
            "the newest parts' columns"
        );
        let col = elise_sweep::column::<BooleanArray>(b, "network_uniform_delays").unwrap();
        assert!((0..col.len()).all(|k| col.is_valid(k) && !col.value(k)));
    }
    // A result column missing from a part cannot be filled.
    drop_column(tmp.path(), 2, "replay_mse");
    let err = format!("{:#}", cli("collect", tmp.path()).unwrap_err());
    assert!(
        err.contains("job-000002.parquet")
            && err.contains("\"replay_mse\" is missing here and is not a config value"),
        "{err}"
    );
}
