//! The paper's Fig 2: replay quality against the number of latent neurons.
//!
//! Grid over `network.n_latent` (in `[axes]`), 10 seeds per point; `finish` draws `size.png`
//! and writes `summary.md` (per size: seeds sustaining replay, median scores).

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;

/// The spec of exp-size.
pub struct SizeSpec;

/// The experiment type for the harness.
pub type Size = Study<SizeSpec>;

impl StudySpec for SizeSpec {
    const NAME: &'static str = "size";
    const OVERRIDES: &'static str = include_str!("../configs/paper.toml");

    fn finish(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        elise_study::sweep_figure::finish_sweep(
            run,
            "n_latent",
            "latent neurons",
            "method",
            "exp-size: replay quality vs latent neurons (Fig 2)",
            "size.png",
        )
    }
}
