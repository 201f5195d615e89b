//! The paper's v3 noisy-target study: the teacher's target potential carries Ornstein-Uhlenbeck noise during training; replay is scored against the clean pattern.
//!
//! Grid over `pattern.tutor_noise_sigma_mv` (correlation time `pattern.tutor_noise_tau_ms`,
//! default 10 ms). During training every nudged cycle is taught by the clean target potential
//! plus one continuous OU process per visible neuron (its own stream "tutor-noise", so every
//! cycle sees a new realisation and the network, weights and delays are the same at every
//! noise level); validation and replay are scored against the clean target, and the three
//! nudged replay warm-up cycles use the clean teacher. `finish` draws `noisy_tutor.png` and
//! writes `summary.md`.

use elise_study::{Config, Study};
use elise_sweep::RunDir;

/// exp-noisy-tutor as a value (the binary `exp-noisy-tutor` and the registry `elise-lab` run it).
pub fn experiment() -> Study {
    Study::new("noisy-tutor", include_str!("../configs/default.toml"))
        .summary("v3: learning from a noisy teacher.")
        .figures(figures)
}

fn figures(_cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    elise_study::sweep_figure::finish_sweep(
        run,
        "pattern_tutor_noise_sigma_mv",
        "tutor noise sigma (mV)",
        "method",
        "exp-noisy-tutor: replay quality (clean target) vs tutor noise",
        "noisy_tutor.png",
    )
}
