//! Head to head on the same task: ELiSe, its reservoir mode, echo-state networks and FORCE over network sizes and seeds.
//!
//! Every method learns the same pattern file; its target is the teacher's target rate
//! phi(Um(t)) of each visible unit (docs/model.md (f)), on the method's own time base (ELiSe 0.1 ms,
//! the baselines `esn_dt_ms` / `force.dt_ms`). Every model runs the same protocol
//! (`elise_dynamics::Protocol`: training with free validation cycles, then replay with the first
//! cycles teacher-driven) and is scored with the same metrics (MSE, summed Pearson r, best
//! shift per replay cycle). The baselines' outputs are sampled every step of their time base,
//! ELiSe's every 0.2 ms.
//!
//! Jobs: for each method, each size of its list, each seed. `runs` has a `method` column
//! (`elise`, `elise-reservoir`, `esn`, `force`) and `n_neurons`; `finish` writes `compare.png`
//! (replay quality vs neurons, one line per method) and `summary.md`.

use elise_baselines::{EsnParams, ForceParams};
use elise_core::Inputs;
use elise_dynamics::Mode;
use elise_study::Config as EliseConfig;
use elise_sweep::{ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir};
use serde::{Deserialize, Serialize};

mod job;
mod summary;

/// The `[compare]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareConfig {
    pub methods: Vec<String>,
    pub elise_latent: Vec<usize>,
    pub baseline_sizes: Vec<usize>,
    pub baseline_train_cycles: usize,
    pub baseline_validate_every: usize,
    pub esn_dt_ms: f64,
    pub criterion_corr_sum: f64,
}

/// The whole config: the ELiSe tables (`elise_study::Config`, flattened: the same keys) plus
/// `[compare]`, `[esn]`, `[force]`. Unknown keys are refused by the harness against the default
/// config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub elise: EliseConfig,
    pub compare: CompareConfig,
    pub esn: EsnParams,
    pub force: ForceParams,
}

impl Config {
    /// The ELiSe config of a job of `mode` with `n_latent` latent neurons.
    fn elise_for(&self, mode: Mode, n_latent: usize) -> EliseConfig {
        let mut elise = self.elise.clone();
        elise.network.mode = mode;
        elise.network.n_latent = n_latent;
        elise
    }
}

const METHODS: [&str; 4] = ["elise", "elise-reservoir", "esn", "force"];

/// exp-compare (the binary `exp-compare` and the registry `elise-lab` run it).
pub struct Compare {
    default_config: String,
}

/// exp-compare as a value.
pub fn experiment() -> Compare {
    // The baselines' defaults as commented TOML (equal to `EsnParams::default()` and
    // `ForceParams::default()`, tested in elise-baselines).
    let defaults = format!(
        "{}\n{}",
        elise_baselines::ESN_DEFAULTS_TOML,
        elise_baselines::FORCE_DEFAULTS_TOML
    );
    let text = elise_study::default_config_with(include_str!("../configs/default.toml"));
    Compare {
        default_config: format!("{text}\n{defaults}"),
    }
}

impl Experiment for Compare {
    type Config = Config;
    fn name(&self) -> &'static str {
        "compare"
    }

    fn summary(&self) -> &'static str {
        "Head to head: ELiSe, its reservoir mode, echo-state networks and FORCE over sizes."
    }

    fn default_config(&self) -> &str {
        &self.default_config
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "1000"),
            ("replay.cycles", "10"),
            ("compare.elise_latent", "[20]"),
            ("compare.baseline_sizes", "[200]"),
            ("compare.baseline_train_cycles", "50"),
        ]
    }

    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        // The largest ELiSe network bounds a checkpoint file.
        let n = cfg.compare.elise_latent.iter().copied().max().unwrap_or(0);
        elise_study::input_files(&cfg.elise_for(Mode::Elise, n.max(cfg.elise.network.n_latent)))
    }

    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        job::validate(cfg, inputs)
    }

    fn jobs(&self, cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        let mut jobs = Vec::new();
        for m in &cfg.compare.methods {
            let sizes = if m.starts_with("elise") {
                &cfg.compare.elise_latent
            } else {
                &cfg.compare.baseline_sizes
            };
            for &n in sizes {
                for r in 0..cfg.elise.run.seeds {
                    jobs.push(Job {
                        index: jobs.len(),
                        replicate: r,
                        seed: cfg.elise.run.base_seed.wrapping_add(r as u64),
                        params: vec![("method".into(), m.clone()), ("size".into(), n.to_string())],
                    });
                }
            }
        }
        jobs
    }

    fn work_units(&self, cfg: &Config, job: &Job) -> u64 {
        let train = if job.param("method").is_some_and(|m| m.starts_with("elise")) {
            cfg.elise.train.cycles
        } else {
            cfg.compare.baseline_train_cycles
        };
        (train + 1 + cfg.elise.replay.cycles) as u64
    }

    fn max_checkpoint_bytes(&self, cfg: &Config) -> Option<u64> {
        let n = cfg.compare.elise_latent.iter().copied().max().unwrap_or(0);
        elise_study::checkpointing::checkpoint_limit(
            &cfg.elise_for(Mode::Elise, n.max(cfg.elise.network.n_latent)),
        )
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
        summary::finish(cfg, run)
    }
}
