//! The paper's Fig 5: a trained network replays while its visible somas are clamped (four disruptions and a control), train once per seed and branch.
//!
//! One job = one seed: the network is trained once, then a clone of the trained network replays
//! for each branch of `disruption.branches` (`none` = control). Tables `runs` and `curves` hold
//! one row / one curve per branch (column `branch`). `finish` draws `disruption.png` (median
//! replay quality per cycle around the disruption, one line per branch) and writes
//! `summary.md` with the cycles each branch needs to recover.

use elise_core::Inputs;
use elise_dynamics::protocol::{Disruption, MAX_DISRUPTION_FILE_BYTES};
use elise_study::Config as EliseConfig;
use elise_sweep::{ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir};
use serde::{Deserialize, Serialize};

mod figure;
mod job;

/// The `[disruption]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisruptionConfig {
    pub branches: Vec<String>,
    pub recovered_corr_sum: f64,
    /// Replicates (first seeds) whose replay traces around the disruption are stored (table
    /// `traces`, replay cycles disruption_cycle - 1 ..= disruption_cycle + 2) and drawn in
    /// `disruption_raster.png`.
    pub raster_replicates: usize,
}

impl Config {
    /// Replay cycles whose traces are kept for the rasters: one before the disruption to two
    /// after it, within the replay.
    pub fn raster_cycles(&self) -> std::ops::RangeInclusive<i64> {
        let d = self.elise.replay.disruption_cycle as i64;
        (d - 1).max(0)..=(d + 2).min(self.elise.replay.cycles as i64 - 1)
    }
}

/// The config: the ELiSe tables (`elise_study::Config`, flattened: the same keys) plus
/// `[disruption]`. Unknown keys are refused by the harness against the default config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub elise: EliseConfig,
    pub disruption: DisruptionConfig,
}

/// The disruption files of docs/model.md (j), built in.
const BUILT_IN: [(&str, &str); 4] = [
    ("full", include_str!("../../../data/disruptions/full.txt")),
    (
        "full_offset",
        include_str!("../../../data/disruptions/full_offset.txt"),
    ),
    ("small", include_str!("../../../data/disruptions/small.txt")),
    (
        "small_offset",
        include_str!("../../../data/disruptions/small_offset.txt"),
    ),
];

/// Whether a branch name is a disruption file (not `none` or a built-in).
fn is_file_branch(name: &str) -> bool {
    name != "none" && !BUILT_IN.iter().any(|(n, _)| *n == name)
}

/// The disruption of a branch name: none, a built-in, or a file (from `inputs`).
fn branch_disruption(name: &str, inputs: &Inputs) -> anyhow::Result<Option<Disruption>> {
    if name == "none" {
        return Ok(None);
    }
    if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name) {
        return Ok(Some(Disruption::parse(
            text,
            &format!("data/disruptions/{name}.txt"),
        )?));
    }
    let bytes = inputs.require(name).map_err(anyhow::Error::msg)?;
    Ok(Some(Disruption::from_bytes(bytes, name)?))
}

/// exp-disruption (the binary `exp-disruption` and the registry `elise-lab` run it).
pub struct DisruptionExperiment {
    default_config: String,
}

/// exp-disruption as a value.
pub fn experiment() -> DisruptionExperiment {
    DisruptionExperiment {
        default_config: elise_study::default_config_with(include_str!("../configs/paper.toml")),
    }
}

impl Experiment for DisruptionExperiment {
    type Config = Config;
    fn name(&self) -> &'static str {
        "disruption"
    }

    fn summary(&self) -> &'static str {
        "Fig 5: replay while visible somas are clamped (four disruptions and a control)."
    }

    fn default_config(&self) -> &str {
        &self.default_config
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "3000"),
            ("replay.cycles", "12"),
        ]
    }

    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        let mut files = elise_study::input_files(&cfg.elise);
        for name in cfg.disruption.branches.iter().filter(|n| is_file_branch(n)) {
            files.push(InputFile::new(
                "disruption.branches",
                name,
                MAX_DISRUPTION_FILE_BYTES,
                "a disruption file (lines `t_start: A t_end: B nrn_start: C nrn_end: D offset_el: E`), \"none\" or a built-in name",
            ));
        }
        files
    }

    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        job::validate(cfg, inputs)
    }

    fn jobs(&self, cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        elise_sweep::replicate_jobs(cfg.elise.run.seeds, cfg.elise.run.base_seed)
    }

    fn work_units(&self, cfg: &Config, _job: &Job) -> u64 {
        (cfg.elise.train.cycles + 1 + cfg.elise.replay.cycles * cfg.disruption.branches.len())
            as u64
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
        job::run_job(cfg, job, inputs, progress)
    }

    fn finish(&self, cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        figure::finish(cfg, run)
    }
}
