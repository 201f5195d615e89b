//! The paper's Fig 3: ELiSe against its reservoir and soma-only ablations over latent sizes and seeds.
//!
//! Every grid point of `[axes]` (mode x latent size by default) runs the demo protocol for each
//! seed. `finish` draws `reservoir.png` (replay quality vs latent size, one line per mode, and
//! the median training and replay curves at the largest size) and writes `summary.md`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-reservoir as a value (the binary `exp-reservoir` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("reservoir", include_str!("../configs/default.toml"))
        .summary("Fig 3: ELiSe against its reservoir and soma-only ablations.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::sweep_figure::finish_sweep(
        run,
        "n_latent",
        "latent neurons",
        "method",
        "exp-reservoir: ELiSe vs reservoir vs soma-only (Fig 3)",
        "reservoir.png",
    )
}
