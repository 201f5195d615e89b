//! The one place that maps an experiment's name to the harness's generic calls (`plan`, then
//! `execute_cancellable`) and that knows which experiment's schema a held network uses
//! (exp-birdsong's). When experiments become values, only this module changes.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use elise_core::Inputs;
use elise_study::Config;
use elise_sweep::{ExecOptions, Experiment, Request, RunSummary, toml};

/// A finished (or failed) run: the harness's summary and the resolved config table.
pub struct Outcome {
    pub summary: RunSummary,
    pub table: toml::Table,
}

fn run_as<E: Experiment>(
    req: &Request,
    opts: &ExecOptions,
    cancel: Arc<AtomicBool>,
) -> anyhow::Result<Outcome> {
    let plan = elise_sweep::plan::<E>(req)?;
    let summary = elise_sweep::execute_cancellable(&plan, opts, cancel)?;
    Ok(Outcome {
        summary,
        table: plan.table,
    })
}

/// Runs experiment `name` (`None`: no such experiment).
pub fn run(
    name: &str,
    req: &Request,
    opts: &ExecOptions,
    cancel: Arc<AtomicBool>,
) -> Option<anyhow::Result<Outcome>> {
    Some(match name {
        "birdsong" => run_as::<exp_birdsong::Birdsong>(req, opts, cancel),
        "size" => run_as::<exp_size::Size>(req, opts, cancel),
        "reservoir" => run_as::<exp_reservoir::Reservoir>(req, opts, cancel),
        "scaffold" => run_as::<exp_scaffold::Scaffold>(req, opts, cancel),
        "sparsity" => run_as::<exp_sparsity::Sparsity>(req, opts, cancel),
        "disruption" => run_as::<exp_disruption::DisruptionExperiment>(req, opts, cancel),
        "timescales" => run_as::<exp_timescales::Timescales>(req, opts, cancel),
        "two-songs" => run_as::<exp_two_songs::TwoSongs>(req, opts, cancel),
        "completion" => run_as::<exp_completion::Completion>(req, opts, cancel),
        "noisy-tutor" => run_as::<exp_noisy_tutor::NoisyTutor>(req, opts, cancel),
        "force" => run_as::<exp_force::ForceExperiment>(req, opts, cancel),
        "compare" => run_as::<exp_compare::Compare>(req, opts, cancel),
        _ => return None,
    })
}

/// The config of a held network: exp-birdsong's schema and checks (the same errors as
/// `exp-birdsong --config FILE --set ...`), without axes; also the job check of `seed` (its
/// scaffold). Returns the config, the resolved table and the input files.
pub fn network_config(
    file: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
) -> anyhow::Result<(Config, toml::Table, Arc<Inputs>, u64)> {
    type E = exp_birdsong::Birdsong;
    let (cfg, table, inputs) = elise_sweep::resolve_config_inputs::<E>(file, sets, false, &[])?;
    if !elise_sweep::axes_of(&table).is_empty() {
        return Err(elise_sweep::ConfigError::Usage(
            "axes: a Network is one network; give each axis value its own Network (or use el.run for a grid)".to_owned(),
        )
        .into());
    }
    let seed = seed.unwrap_or(cfg.run.base_seed);
    let job = elise_sweep::Job {
        index: 0,
        replicate: 0,
        seed,
        params: Vec::new(),
    };
    <E as Experiment>::check_job(&cfg, &job, &inputs)?;
    Ok((cfg, table, inputs, seed))
}
