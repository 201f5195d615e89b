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
use elise_sweep::{
    ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir, check_range,
};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

mod figure;

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
        let d = self.replay.disruption_cycle as i64;
        (d - 1).max(0)..=(d + 2).min(self.replay.cycles as i64 - 1)
    }
}

/// The config: the ELiSe tables plus `[disruption]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: elise_study::RunConfig,
    pub pattern: elise_core::PatternConfig,
    pub network: elise_dynamics::NetworkConfig,
    pub scaffold: elise_study::ScaffoldParams,
    pub plasticity: elise_study::LearningRates,
    pub neuron: elise_core::NeuronParams,
    pub train: elise_dynamics::TrainConfig,
    pub replay: elise_dynamics::ReplayConfig,
    pub output: elise_study::OutputConfig,
    pub disruption: DisruptionConfig,
}

impl Config {
    fn elise(&self) -> EliseConfig {
        EliseConfig {
            run: self.run.clone(),
            pattern: self.pattern.clone(),
            network: self.network.clone(),
            scaffold: self.scaffold.clone(),
            plasticity: self.plasticity.clone(),
            neuron: self.neuron.clone(),
            train: self.train.clone(),
            replay: self.replay.clone(),
            output: self.output.clone(),
        }
    }
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

/// The experiment type for the harness.
pub struct DisruptionExperiment;

impl Experiment for DisruptionExperiment {
    type Config = Config;
    const NAME: &'static str = "disruption";

    fn default_config() -> &'static str {
        static TEXT: OnceLock<String> = OnceLock::new();
        TEXT.get_or_init(|| elise_study::default_config_with(include_str!("../configs/paper.toml")))
    }

    fn quick_overrides() -> &'static [(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "3000"),
            ("replay.cycles", "12"),
        ]
    }

    fn input_files(cfg: &Config) -> Vec<InputFile> {
        let mut files = elise_study::input_files(&cfg.elise());
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

    fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        elise_study::validate(&cfg.elise(), inputs)?;
        let d = &cfg.disruption;
        if d.branches.is_empty() {
            return Err(ConfigError::invalid(
                "disruption.branches",
                "at least one branch",
            ));
        }
        check_range(
            "replay.disruption_cycle",
            cfg.replay.disruption_cycle,
            0,
            cfg.replay.cycles.saturating_sub(1),
        )?;
        let pattern = cfg
            .pattern
            .load(inputs)
            .map_err(|e| ConfigError::invalid("pattern.file", e.to_string()))?;
        let steps = cfg
            .pattern
            .steps_per_state(cfg.neuron.dt_ms)
            .map_err(|m| ConfigError::invalid("pattern.state_ms", m))?;
        for name in &d.branches {
            let disruption = branch_disruption(name, inputs).map_err(|e| {
                ConfigError::invalid("disruption.branches", format!("{name}: {e:#}"))
            })?;
            if let Some(dis) = disruption {
                dis.check_fits(steps * pattern.n_states(), pattern.n_neurons())
                    .map_err(|m| {
                        ConfigError::invalid("disruption.branches", format!("{name}: {m}"))
                    })?;
            }
        }
        if !cfg.replay.disruption_file.is_empty() {
            return Err(ConfigError::invalid(
                "replay.disruption_file",
                "use disruption.branches here",
            ));
        }
        Ok(())
    }

    fn jobs(cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        elise_sweep::replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }

    fn work_units(cfg: &Config, _job: &Job) -> u64 {
        (cfg.train.cycles + 1 + cfg.replay.cycles * cfg.disruption.branches.len()) as u64
    }

    fn max_checkpoint_bytes(cfg: &Config) -> Option<u64> {
        elise_study::checkpointing::checkpoint_limit(&cfg.elise())
    }

    fn run_job(
        cfg: &Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        let branches = cfg
            .disruption
            .branches
            .iter()
            .map(|n| Ok((n.clone(), branch_disruption(n, inputs)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let elise = cfg.elise();
        let files = elise_study::checkpointing::JobFiles::of(&elise, progress);
        let results = elise_study::simulate_branches_with(
            &elise,
            inputs,
            elise_core::Seed(job.seed),
            &branches,
            &files,
            &mut || progress.inc(1),
        )?;
        let mut out = JobOutput::new();
        let with_raster = job.replicate < cfg.disruption.raster_replicates;
        for r in &results {
            out.push("runs", elise_study::tables::runs(cfg, job, r)?);
            out.push("curves", elise_study::tables::curves(job, r)?);
            if with_raster {
                out.push(
                    "traces",
                    elise_study::tables::replay_traces(job, r, cfg.raster_cycles())?,
                );
            }
        }
        if let Some(degrees) = results
            .first()
            .map(|r| elise_study::tables::degrees(job, r))
            .transpose()?
            .flatten()
        {
            out.push("degrees", degrees);
        }
        files.add_saved_network(job, &mut out);
        Ok(out)
    }

    fn finish(cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        figure::finish(cfg, run)
    }
}
