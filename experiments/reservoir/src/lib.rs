//! The paper's Fig 3: ELiSe against its reservoir and soma-only ablations over latent sizes and seeds.
//!
//! Every grid point of `[axes]` (mode x latent size by default) runs the demo protocol for each
//! seed. `finish` draws `reservoir.png` (replay quality vs latent size, one line per mode, and
//! the median training and replay curves at the largest size) and writes `summary.md`.

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;
use std::sync::OnceLock;

/// The spec of exp-reservoir.
pub struct ReservoirSpec;

/// The experiment type for the harness.
pub type Reservoir = Study<ReservoirSpec>;

impl StudySpec for ReservoirSpec {
    const NAME: &'static str = "reservoir";

    fn default_config() -> &'static str {
        static TEXT: OnceLock<String> = OnceLock::new();
        TEXT.get_or_init(|| {
            elise_study::default_config_with(include_str!("../configs/default.toml"))
        })
    }

    fn quick_overrides() -> &'static [(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "1000"),
            ("replay.cycles", "10"),
        ]
    }

    fn finish(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        let table = elise_study::sweep_figure::markdown_table(
            run,
            "n_latent",
            "latent neurons",
            "method",
            12.0,
        )?;
        tracing::info!("summary:\n{table}");
        elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
        elise_study::sweep_figure::draw_sweep(
            run,
            "n_latent",
            "latent neurons",
            "method",
            "exp-reservoir: ELiSe vs reservoir vs soma-only (Fig 3)",
            "reservoir.png",
        )
    }
}
