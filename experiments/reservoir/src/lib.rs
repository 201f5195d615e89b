//! The paper's Fig 3: ELiSe against its reservoir and soma-only ablations over latent sizes and seeds.
//!
//! Every grid point of `[axes]` (mode x latent size by default) runs the demo protocol for each
//! seed. `finish` draws `reservoir.png` (replay quality vs latent size, one line per mode, and
//! the median training and replay curves at the largest size) and writes `summary.md`.

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;

/// The spec of exp-reservoir.
pub struct ReservoirSpec;

/// The experiment type for the harness.
pub type Reservoir = Study<ReservoirSpec>;

impl StudySpec for ReservoirSpec {
    const NAME: &'static str = "reservoir";
    const OVERRIDES: &'static str = include_str!("../configs/default.toml");

    fn finish(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        elise_study::sweep_figure::finish_sweep(
            run,
            "n_latent",
            "latent neurons",
            "method",
            "exp-reservoir: ELiSe vs reservoir vs soma-only (Fig 3)",
            "reservoir.png",
        )
    }
}
