//! The paper's v3 pattern-completion study: after training the network is reset to rest, cued with part of the pattern, and recalls the rest.
//!
//! One job = one seed: the network is trained once (the demo protocol, `elise_study::train`)
//! and replayed once as usual (branch `replay`, the reference). Then, for every cue, a clone of
//! the trained network is reset to rest (all activity, delay lines and traces; the weights
//! stay), runs one cycle in which only the cue is nudged — `states:k`: the first k states of
//! the cycle, all visible neurons; `neurons:n`: visible neurons 0..n, the whole cycle — and then
//! `completion.free_cycles` free cycles. Uncued somas in the cue cycle run exactly free (their
//! teacher conductances are 0) with `completion.uncued = "free"`; with `"self"` they are nudged
//! towards their own potential, as in the lab fork (which, in this step, is free dynamics up to
//! rounding: the nudging term is G (U - U)).
//!
//! Tables: `runs` and `curves` (one row / curve per branch; a cue branch's replay scores are
//! the best-shift scores of its free cycles) and `recall` (one row per cue): how close the
//! uncued part of the cue cycle comes to the target, as MSE and as
//! `recall = 1 - uncued_mse / uncued_rest_mse` (1 = perfect, 0 = no better than staying at
//! rest), plus the same for the cued part (the cue itself) and the free cycles' scores.
//! `finish` draws `completion.png` and writes `summary.md`.

use elise_core::Inputs;
use elise_dynamics::Uncued;
use elise_sweep::{
    ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir, check_range,
};
use serde::{Deserialize, Serialize};

mod figure;
mod recall;

pub use recall::{Cue, RecallScore, cues, score_cue_cycle};

/// The `[completion]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionConfig {
    /// Cues of the first k states (all visible neurons).
    pub cue_states: Vec<usize>,
    /// Cues of the first n visible neurons (the whole cycle).
    pub cue_neurons: Vec<usize>,
    /// Free cycles after the cue cycle.
    pub free_cycles: usize,
    /// The uncued somas in the cue cycle: `"free"` (not nudged) or `"self"` (nudged towards
    /// their own potential, the lab fork's v3 protocol; free up to rounding in this step).
    #[serde(default)]
    pub uncued: Uncued,
}

/// The config: the ELiSe tables (`elise_study::Config`, checked key by key against the
/// embedded default by the harness) plus `[completion]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub elise: elise_study::Config,
    pub completion: CompletionConfig,
}

/// exp-completion (the binary `exp-completion` and the registry `elise-lab` run it).
pub struct Completion {
    default_config: String,
}

/// exp-completion as a value.
pub fn experiment() -> Completion {
    Completion {
        default_config: elise_study::default_config_with(include_str!("../configs/default.toml")),
    }
}

impl Experiment for Completion {
    type Config = Config;
    fn name(&self) -> &'static str {
        "completion"
    }

    fn summary(&self) -> &'static str {
        "v3: recall the rest of the pattern from a cue."
    }

    fn default_config(&self) -> &str {
        &self.default_config
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "3000"),
            ("replay.cycles", "10"),
        ]
    }

    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        elise_study::input_files(&cfg.elise)
    }

    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        let e = &cfg.elise;
        elise_study::record::refuse_views(e, "completion")?;
        elise_study::validate(e, inputs)?;
        let c = &cfg.completion;
        if c.cue_states.is_empty() && c.cue_neurons.is_empty() {
            return Err(ConfigError::invalid(
                "completion.cue_states",
                "at least one cue (in completion.cue_states or completion.cue_neurons)",
            ));
        }
        let pattern = e
            .pattern
            .load(inputs)
            .map_err(|err| ConfigError::invalid("pattern.file", err.to_string()))?;
        for &k in &c.cue_states {
            check_range("completion.cue_states", k, 0, pattern.n_states() - 1)?;
        }
        for &n in &c.cue_neurons {
            check_range("completion.cue_neurons", n, 0, pattern.n_neurons() - 1)?;
        }
        check_range("completion.free_cycles", c.free_cycles, 2, 1_000_000).map_err(|err| {
            ConfigError::invalid(
                "completion.free_cycles",
                format!(
                    "{err}; at least 2 so that one free cycle with a following cycle is scored"
                ),
            )
        })?;
        if !e.replay.disruption_file.is_empty() {
            return Err(ConfigError::invalid(
                "replay.disruption_file",
                "exp-completion does not disrupt; use exp-disruption",
            ));
        }
        Ok(())
    }

    fn jobs(&self, cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        elise_sweep::replicate_jobs(cfg.elise.run.seeds, cfg.elise.run.base_seed)
    }

    fn work_units(&self, cfg: &Config, _job: &Job) -> u64 {
        elise_study::work_units(&cfg.elise)
            + (cues(&cfg.completion).len() * (cfg.completion.free_cycles + 1)) as u64
    }

    fn max_checkpoint_bytes(&self, cfg: &Config) -> Option<u64> {
        elise_study::checkpointing::checkpoint_limit(&cfg.elise)
    }

    fn run_job(
        &self,
        cfg: &Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        recall::run_job(cfg, job, inputs, progress)
    }

    fn finish(&self, _cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        figure::finish(run)
    }
}
