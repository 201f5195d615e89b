//! FORCE learning: the classic four-sine sanity check, then FORCE on the ELiSe pattern task with the shared protocol and metrics.
//!
//! Per seed: (1) Sussillo & Abbott's (2009) four-sine task, N = 1000 by default, trained for
//! `four_sines.train_ms` and tested free for `four_sines.test_ms` (table `four_sines`: train
//! and test mean absolute error, wall time; table `four_sines_trace`: the first `trace_ms` of
//! the test output); (2) FORCE learning the pattern (default Für Elise) through the same
//! protocol and metrics as ELiSe (tables `runs` with `method = "force"`, `curves`).
//! `finish` draws `force.png` and writes `summary.md`.

use elise_baselines::ForceParams;
use elise_core::{Inputs, PatternConfig};
use elise_dynamics::{ReplayConfig, TrainConfig};
use elise_study::RunConfig;
use elise_sweep::{ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir};
use serde::{Deserialize, Serialize};

mod figure;
mod job;

pub use job::pattern_task;

/// The `[four_sines]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FourSinesConfig {
    pub train_ms: f64,
    pub test_ms: f64,
    pub trace_ms: f64,
}

/// The config of `exp-force` (see `configs/default.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    pub four_sines: FourSinesConfig,
    pub pattern: PatternConfig,
    pub train: TrainConfig,
    pub replay: ReplayConfig,
    pub force: ForceParams,
}

/// exp-force (the binary `exp-force` and the registry `elise-lab` run it).
pub struct ForceExperiment {
    default_config: String,
}

/// exp-force as a value.
pub fn experiment() -> ForceExperiment {
    // The [force] defaults as commented TOML (equal to `ForceParams::default()`, tested in
    // elise-baselines), so `--list` shows each key's meaning.
    ForceExperiment {
        default_config: format!(
            "{}\n{}",
            include_str!("../configs/default.toml"),
            elise_baselines::FORCE_DEFAULTS_TOML
        ),
    }
}

impl Experiment for ForceExperiment {
    type Config = Config;
    fn name(&self) -> &'static str {
        "force"
    }

    fn summary(&self) -> &'static str {
        "FORCE: four sines, then the ELiSe pattern task with the shared protocol."
    }

    fn default_config(&self) -> &str {
        &self.default_config
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("four_sines.train_ms", "4800.0"),
            ("four_sines.test_ms", "2400.0"),
            ("train.cycles", "60"),
            ("replay.cycles", "20"),
        ]
    }

    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        elise_study::pattern_input_files(&cfg.pattern)
    }

    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        job::validate(cfg, inputs)
    }

    fn jobs(&self, cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        elise_sweep::replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }

    fn work_units(&self, cfg: &Config, _job: &Job) -> u64 {
        (cfg.train.cycles + 1 + cfg.replay.cycles) as u64 + 1
    }

    fn run_job(
        &self,
        cfg: &Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        job::run_job(cfg, job, inputs, progress)
    }

    fn finish(&self, _cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        figure::finish(run)
    }
}
