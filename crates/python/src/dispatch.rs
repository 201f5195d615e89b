//! The one place that maps an experiment's name to the harness (the registry's `Entry::run`:
//! `plan`, then `execute_cancellable`) and that knows which experiment's schema a held network
//! uses (exp-birdsong's).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use elise_core::Inputs;
use elise_study::Config;
use elise_sweep::{ExecOptions, Experiment, Finished, Request, toml};

/// Runs experiment `name` from the registry (`None`: no such experiment).
pub fn run(
    name: &str,
    req: &Request,
    opts: &ExecOptions,
    cancel: Arc<AtomicBool>,
) -> Option<anyhow::Result<Finished>> {
    elise_lab::experiment(name).map(|e| e.run(req, opts, Some(cancel)))
}

/// The config of a held network: exp-birdsong's schema and checks (the same errors as
/// `exp-birdsong --config FILE --set ...`), without axes; also the job check of `seed` (its
/// scaffold). Returns the config, the resolved table and the input files.
pub fn network_config(
    file: Option<&Path>,
    sets: &[String],
    seed: Option<u64>,
) -> anyhow::Result<(Config, toml::Table, Arc<Inputs>, u64)> {
    let exp = exp_birdsong::experiment();
    let (cfg, table, inputs) = elise_sweep::resolve_config_inputs(&exp, file, sets, false, &[])?;
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
    exp.check_job(&cfg, &job, &inputs)?;
    Ok((cfg, table, inputs, seed))
}
