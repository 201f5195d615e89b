//! The smoke grid runs in seconds: one runs row per (grid point, seed), the swept column holds
//! the grid's values, curves have validation and replay rows, and the figure is drawn.

#[test]
fn smoke_grid_tables_and_figure() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let summary = elise_study::check_smoke_grid(
        &exp_scaffold::experiment(),
        "scaffold-smoke",
        cfg,
        8,
        "scaffold_p",
        2,
        "scaffold.png",
    );
    // summary.md: one row per (p, q) grid point, each over the 2 seeds.
    let rows: Vec<&str> = summary.lines().skip(2).collect();
    assert_eq!(rows.len(), 4, "{summary}");
    for (row, (p, q)) in rows
        .iter()
        .zip([(0.1, 0.1), (0.1, 0.5), (0.3, 0.1), (0.3, 0.5)])
    {
        assert!(row.starts_with(&format!("| {p} | {q} | 2 | ")), "{row}");
    }
}

/// Another grid axis over p x q (here p0, the probability that a teacher makes no edge) is
/// kept apart in the table and the heat maps, never merged into one cell per (p, q).
#[test]
fn another_axis_gets_its_own_rows() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(
        &exp_scaffold::experiment(),
        "scaffold-p0",
        &[
            "--config",
            cfg,
            "--seeds",
            "1",
            "--axis",
            "scaffold.p0=0.04,0.6",
        ],
    );
    assert!(summary.success(), "{summary:?}");
    let table = std::fs::read_to_string(tmp.path().join("summary.md")).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("| scaffold_p | scaffold_q | scaffold_p0 | seeds |"),
        "{table}"
    );
    assert_eq!(lines.len(), 2 + 8, "one row per (p, q, p0): {table}");
    for p0 in ["0.04", "0.6"] {
        assert!(
            lines.contains(&format!("| 0.1 | 0.5 | {p0} | 1 |").as_str())
                || lines
                    .iter()
                    .any(|l| l.starts_with(&format!("| 0.1 | 0.5 | {p0} | 1 |"))),
            "{table}"
        );
    }
    let svg = std::fs::read_to_string(tmp.path().join("scaffold.svg")).unwrap();
    assert!(
        svg.contains("0.5, p0 0.6") && svg.contains("q (acceptance), p0"),
        "y categories name p0"
    );
}
