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
