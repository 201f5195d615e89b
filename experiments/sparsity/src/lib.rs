//! The paper's Fig 4b: replay quality against dendritic connection density, with and without scaffold protection.
//!
//! Grid over `network.density` x `network.protect_scaffold` with sparse connectivity; `finish`
//! draws `sparsity.png` (replay quality vs density, one line per protection setting) and writes
//! `summary.md`.

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;
use std::sync::OnceLock;

/// The spec of exp-sparsity.
pub struct SparsitySpec;

/// The experiment type for the harness.
pub type Sparsity = Study<SparsitySpec>;

impl StudySpec for SparsitySpec {
    const NAME: &'static str = "sparsity";

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
            "network_density",
            "density",
            "network_protect_scaffold",
            12.0,
        )?;
        tracing::info!("summary:\n{table}");
        elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
        elise_study::sweep_figure::draw_sweep(
            run,
            "network_density",
            "dendritic density",
            "network_protect_scaffold",
            "exp-sparsity: replay quality vs dendritic density (Fig 4b)",
            "sparsity.png",
        )
    }
}
