//! The paper's Fig 4b: replay quality against dendritic connection density, with and without scaffold protection.
//!
//! Grid over `network.density` x `network.protect_scaffold` with sparse connectivity; `finish`
//! draws `sparsity.png` (replay quality vs density, one line per protection setting) and writes
//! `summary.md`.

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;

/// The spec of exp-sparsity.
pub struct SparsitySpec;

/// The experiment type for the harness.
pub type Sparsity = Study<SparsitySpec>;

impl StudySpec for SparsitySpec {
    const NAME: &'static str = "sparsity";
    const OVERRIDES: &'static str = include_str!("../configs/paper.toml");

    fn finish(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        elise_study::sweep_figure::finish_sweep(
            run,
            "network_density",
            "dendritic density",
            "network_protect_scaffold",
            "exp-sparsity: replay quality vs dendritic density (Fig 4b)",
            "sparsity.png",
        )
    }
}
