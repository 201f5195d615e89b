//! The paper's Fig 4b: replay quality against dendritic connection density, with and without scaffold protection.
//!
//! Grid over `network.density` x `network.protect_scaffold` with sparse connectivity; `finish`
//! draws `sparsity.png` (replay quality vs density, one line per protection setting) and writes
//! `summary.md`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-sparsity as a value (the binary `exp-sparsity` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("sparsity", include_str!("../configs/paper.toml"))
        .summary("Fig 4b: replay quality against dendritic density, with and without protection.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::sweep_figure::finish_sweep(
        run,
        "network_density",
        "dendritic density",
        "network_protect_scaffold",
        "exp-sparsity: replay quality vs dendritic density (Fig 4b)",
        "sparsity.png",
    )
}
