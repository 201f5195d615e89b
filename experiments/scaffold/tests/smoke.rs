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
