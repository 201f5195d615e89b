//! The paper's v3 speed study: the same network learns Für Elise at half, normal and double speed, with and without delay diversity.
//!
//! Grid over `pattern.state_ms` (5, 10, 20 ms per state: a 125, 250 or 500 ms cycle) x
//! `network.uniform_delays` (false: delays drawn in 5–15 ms as usual; true: every delay 10 ms,
//! the control without delay diversity). Every grid point uses the same seeds, so the networks
//! (scaffold, weights, delay draws) are the same across speeds. The teacher, and therefore the
//! replay target, is built at each point's speed. `finish` draws `timescales.png` and writes
//! `summary.md`.

use elise_study::{Config, Study, StudySpec};
use elise_sweep::RunDir;

/// The spec of exp-timescales.
pub struct TimescalesSpec;

/// The experiment type for the harness.
pub type Timescales = Study<TimescalesSpec>;

impl StudySpec for TimescalesSpec {
    const NAME: &'static str = "timescales";
    const OVERRIDES: &'static str = include_str!("../configs/default.toml");

    fn finish(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        elise_study::sweep_figure::finish_sweep(
            run,
            "pattern_state_ms",
            "state duration (ms)",
            "network_uniform_delays",
            "exp-timescales: replay quality vs speed, with and without delay diversity",
            "timescales.png",
        )
    }
}
