//! The paper's Fig 2: replay quality against the number of latent neurons.
//!
//! Grid over `network.n_latent` (in `[axes]`), 10 seeds per point; `finish` draws `size.png`
//! and writes `summary.md` (per size: seeds sustaining replay, median scores).

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;
use std::sync::OnceLock;

/// The spec of exp-size.
pub struct SizeSpec;

/// The experiment type for the harness.
pub type Size = Study<SizeSpec>;

impl StudySpec for SizeSpec {
    const NAME: &'static str = "size";

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
            "exp-size: replay quality vs latent neurons (Fig 2)",
            "size.png",
        )
    }
}
