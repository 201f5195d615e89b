//! The paper's Fig 2: replay quality against the number of latent neurons.
//!
//! Grid over `network.n_latent` (in `[axes]`), 10 seeds per point; `finish` draws `size.png`
//! and writes `summary.md` (per size: seeds sustaining replay, median scores).

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-size as a value (the binary `exp-size` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("size", include_str!("../configs/paper.toml"))
        .summary("Fig 2: replay quality against the number of latent neurons.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::sweep_figure::finish_sweep(
        run,
        "n_latent",
        "latent neurons",
        "method",
        "exp-size: replay quality vs latent neurons (Fig 2)",
        "size.png",
    )
}
