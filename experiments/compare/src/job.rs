//! exp-compare's checks and its job: an ELiSe network or a baseline (ESN, FORCE) trained and
//! replayed with the shared protocol.

use crate::{Config, METHODS};
use elise_baselines::{Esn, EsnParams, Force, ForceParams};
use elise_core::{Inputs, Model, NeuronParams, Seed, Teacher};
use elise_dynamics::{Mode, Protocol, TrainConfig};
use elise_study::JobResult;
use elise_sweep::{ConfigError, Job, JobOutput, Progress, check_at_least, check_positive};
use std::time::Instant;

pub(crate) fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
    elise_study::record::refuse_views(&cfg.elise, "compare")?;
    elise_study::validate(
        &cfg.elise_for(Mode::Elise, cfg.elise.network.n_latent),
        inputs,
    )?;
    let c = &cfg.compare;
    if c.methods.is_empty() {
        return Err(ConfigError::invalid(
            "compare.methods",
            "at least one method",
        ));
    }
    for m in &c.methods {
        if !METHODS.contains(&m.as_str()) {
            return Err(ConfigError::invalid(
                "compare.methods",
                format!("unknown method {m:?}; expected one of {METHODS:?}"),
            ));
        }
    }
    for &n in &c.elise_latent {
        elise_study::validate(&cfg.elise_for(Mode::Elise, n), inputs)
            .map_err(|e| ConfigError::invalid("compare.elise_latent", e.to_string()))?;
    }
    if c.baseline_sizes.iter().any(|&n| n == 0 || n > 20_000) {
        return Err(ConfigError::invalid(
            "compare.baseline_sizes",
            "sizes must be in [1, 20000]",
        ));
    }
    check_at_least("compare.baseline_train_cycles", c.baseline_train_cycles, 1)?;
    check_at_least(
        "compare.baseline_validate_every",
        c.baseline_validate_every,
        1,
    )?;
    check_positive("compare.esn_dt_ms", c.esn_dt_ms)?;
    for (key, dt) in [
        ("compare.esn_dt_ms", c.esn_dt_ms),
        ("force.dt_ms", cfg.force.dt_ms),
    ] {
        cfg.elise
            .pattern
            .steps_per_state(dt)
            .map_err(|m| ConfigError::invalid(key, format!("pattern.state_ms: {m}")))?;
    }
    cfg.esn
        .validate()
        .map_err(|e| ConfigError::invalid("esn", e.to_string()))?;
    cfg.force
        .validate()
        .map_err(|e| ConfigError::invalid("force", e.to_string()))?;
    if !cfg.elise.replay.disruption_file.is_empty() {
        return Err(ConfigError::invalid(
            "replay.disruption_file",
            "the baselines cannot be disrupted; leave it empty here",
        ));
    }
    Ok(())
}

pub(crate) fn run_job(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
) -> anyhow::Result<JobOutput> {
    let method = job
        .param("method")
        .ok_or_else(|| anyhow::anyhow!("job without method"))?;
    let size: usize = job
        .param("size")
        .ok_or_else(|| anyhow::anyhow!("job without size"))?
        .parse()?;
    let seed = Seed(job.seed);
    let on_cycle = &mut || progress.inc(1);
    // ELiSe jobs checkpoint like every ELiSe study (run.checkpoint_every); the baselines
    // train in a few hundred cycles and simply rerun.
    let ecfg = |mode: Mode| cfg.elise_for(mode, size);
    let files = elise_study::checkpointing::JobFiles::of(&ecfg(Mode::Elise), progress);
    let elise = |mode: Mode, on_cycle: &mut dyn FnMut()| {
        elise_study::simulate_with(&ecfg(mode), inputs, seed, &files, on_cycle)
    };
    let result = match method {
        "elise" => elise(Mode::Elise, on_cycle)?,
        "elise-reservoir" => elise(Mode::Reservoir, on_cycle)?,
        "esn" => {
            let teacher = baseline_teacher(cfg, inputs, cfg.compare.esn_dt_ms)?;
            let model = Esn::new(
                &EsnParams {
                    n_reservoir: size,
                    ..cfg.esn.clone()
                },
                teacher.clone(),
                seed,
            )?;
            run_baseline(cfg, inputs, "esn", size, model, &teacher, on_cycle)?
        }
        "force" => {
            let teacher = baseline_teacher(cfg, inputs, cfg.force.dt_ms)?;
            let model = Force::new(
                &ForceParams {
                    n: size,
                    ..cfg.force.clone()
                },
                teacher.clone(),
                seed,
            )?;
            run_baseline(cfg, inputs, "force", size, model, &teacher, on_cycle)?
        }
        other => anyhow::bail!("unknown method {other:?}"),
    };
    let mut out = elise_study::tables::job_output(cfg, false, job, &result)?;
    files.add_saved_network(job, &mut out);
    Ok(out)
}

/// The teacher on a baseline's time base.
fn baseline_teacher(cfg: &Config, inputs: &Inputs, dt_ms: f64) -> anyhow::Result<Teacher> {
    let pattern = cfg.elise.pattern.load(inputs)?;
    let steps = cfg
        .elise
        .pattern
        .steps_per_state(dt_ms)
        .map_err(anyhow::Error::msg)?;
    Ok(Teacher::new(
        &pattern,
        &NeuronParams {
            dt_ms,
            ..cfg.elise.neuron.clone()
        },
        steps,
    ))
}

/// Trains and replays a baseline with the shared protocol.
fn run_baseline<M: Model>(
    cfg: &Config,
    inputs: &Inputs,
    method: &str,
    size: usize,
    mut model: M,
    teacher: &Teacher,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<JobResult> {
    let start = Instant::now();
    let train = TrainConfig::paper(
        cfg.compare.baseline_train_cycles,
        cfg.compare.baseline_validate_every,
    );
    let protocol = Protocol {
        train: &train,
        replay: &cfg.elise.replay,
        disruption: None,
        sample_every_steps: 1,
    };
    let result = protocol.run(&mut model, teacher, cfg.elise.neuron.e_leak_mv, on_cycle)?;
    Ok(JobResult {
        pattern: cfg.elise.pattern.load(inputs)?,
        method: method.to_owned(),
        branch: String::new(),
        n_neurons: size,
        n_latent: 0,
        scaffold: None,
        n_plastic: model.n_plastic(),
        protocol: result,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}
