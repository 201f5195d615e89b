//! The paper's v3 speed study: the same network learns Für Elise at half, normal and double speed, with and without delay diversity.
//!
//! Grid over `pattern.state_ms` (5, 10, 20 ms per state: a 125, 250 or 500 ms cycle) x
//! `network.uniform_delays` (false: delays drawn in 5–15 ms as usual; true: every delay 10 ms,
//! the control without delay diversity). Every grid point uses the same seeds, so the networks
//! (scaffold, weights, delay draws) are the same across speeds. The teacher, and therefore the
//! replay target, is built at each point's speed. `finish` draws `timescales.png` and writes
//! `summary.md`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-timescales as a value (the binary `exp-timescales` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("timescales", include_str!("../configs/default.toml"))
        .summary("v3: half, normal and double speed, with and without delay diversity.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::sweep_figure::finish_sweep(
        run,
        "pattern_state_ms",
        "state duration (ms)",
        "network_uniform_delays",
        "exp-timescales: replay quality vs speed, with and without delay diversity",
        "timescales.png",
    )
}
