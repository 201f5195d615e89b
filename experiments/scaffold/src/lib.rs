//! The paper's Fig 4a: replay quality and scaffold size over the scaffold parameters p and q.
//!
//! Grid over `scaffold.p` x `scaffold.q`; the `runs` table records each network's scaffold
//! (`scaffold_edges`, `scaffold_latent_reached`). `finish` draws `scaffold.png` (heat maps of
//! replay quality and scaffold size) and writes `summary.md`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-scaffold as a value (the binary `exp-scaffold` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("scaffold", include_str!("../configs/paper.toml"))
        .summary("Fig 4a: replay quality over the scaffold's p and q.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    let table = elise_study::sweep_figure::draw_heatmaps(
        run,
        ("scaffold_p", "p (a teacher makes one more edge)"),
        ("scaffold_q", "q (acceptance)"),
        "exp-scaffold: scaffold parameters p, q (Fig 4a)",
        "scaffold.png",
    )?;
    tracing::info!("summary (one row per grid point):\n{table}");
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())
}
