//! exp-force's checks and its job: the four-sine task, then FORCE on the pattern task.

use crate::Config;
use elise_baselines::{Force, four_sines_task};
use elise_core::{Inputs, Model, NeuronParams, Seed, Teacher};
use elise_dynamics::Protocol;
use elise_study::JobResult;
use elise_sweep::arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use elise_sweep::{ConfigError, Job, JobOutput, Progress, check_at_least, check_range};
use std::sync::Arc;
use std::time::Instant;

pub(crate) fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
    check_range("run.seeds", cfg.run.seeds, 1, 100_000)?;
    let fs = &cfg.four_sines;
    check_range("four_sines.train_ms", fs.train_ms, 0.0, 1e8)?;
    check_range("four_sines.test_ms", fs.test_ms, 0.0, 1e8)?;
    check_range("four_sines.trace_ms", fs.trace_ms, 0.0, fs.test_ms)?;
    cfg.pattern
        .load(inputs)
        .map_err(|e| ConfigError::invalid("pattern.file", e.to_string()))?;
    cfg.pattern
        .steps_per_state(cfg.force.dt_ms)
        .map_err(|m| ConfigError::invalid("pattern.state_ms", format!("{m} (force.dt_ms)")))?;
    check_at_least("train.cycles", cfg.train.cycles, 1)?;
    check_at_least("train.validate_every", cfg.train.validate_every, 1)?;
    check_range(
        "replay.cycles",
        cfg.replay.cycles,
        cfg.replay.nudged_cycles + 2,
        10_000_000,
    )?;
    if !cfg.replay.disruption_file.is_empty() {
        return Err(ConfigError::invalid(
            "replay.disruption_file",
            "a FORCE network has no soma to clamp; leave it empty",
        ));
    }
    cfg.force
        .validate()
        .map_err(|e| ConfigError::invalid("force", e.to_string()))
}

pub(crate) fn run_job(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
) -> anyhow::Result<JobOutput> {
    let seed = Seed(job.seed);
    // (1) The four-sine task.
    let fs = four_sines_task(
        &cfg.force,
        seed,
        cfg.four_sines.train_ms,
        cfg.four_sines.test_ms,
    )?;
    progress.inc(1);
    tracing::debug!(
        "seed {}: four sines train MAE {:.4}, test MAE {:.4}",
        job.seed,
        fs.train_mae,
        fs.test_mae
    );
    let u = |v: u64| Arc::new(UInt64Array::from(vec![v])) as ArrayRef;
    let f = |v: f64| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
    let four_sines = RecordBatch::try_from_iter([
        ("job", u(job.index as u64)),
        ("seed", u(job.seed)),
        ("n", u(cfg.force.n as u64)),
        ("train_ms", f(cfg.four_sines.train_ms)),
        ("test_ms", f(cfg.four_sines.test_ms)),
        ("train_mae", f(fs.train_mae)),
        ("test_mae", f(fs.test_mae)),
        ("rls_updates", u(fs.updates)),
        ("wall_seconds", f(fs.wall_seconds)),
    ])?;
    let n_trace =
        ((cfg.four_sines.trace_ms / cfg.force.dt_ms).round() as usize).min(fs.test_output.len());
    let t0 = cfg.four_sines.train_ms;
    let trace = RecordBatch::try_from_iter([
        (
            "job",
            Arc::new(UInt64Array::from(vec![job.index as u64; n_trace])) as ArrayRef,
        ),
        ("seed", Arc::new(UInt64Array::from(vec![job.seed; n_trace]))),
        (
            "t_ms",
            Arc::new(Float64Array::from(
                (0..n_trace)
                    .map(|k| t0 + (k + 1) as f64 * cfg.force.dt_ms)
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "output",
            Arc::new(Float64Array::from(fs.test_output[..n_trace].to_vec())),
        ),
        (
            "target",
            Arc::new(Float64Array::from(fs.test_target[..n_trace].to_vec())),
        ),
    ])?;
    // (2) The pattern task with the shared protocol.
    let result = pattern_task(cfg, inputs, seed, &mut || progress.inc(1))?;
    let mut out = elise_study::tables::job_output(cfg, false, job, &result)?;
    let describe = elise_study::columns::describe;
    out.push("four_sines", describe("four_sines", four_sines, false)?);
    out.push(
        "four_sines_trace",
        describe("four_sines_trace", trace, false)?,
    );
    Ok(out)
}

/// FORCE learning the pattern: teacher on the FORCE time base, shared protocol and scoring.
pub fn pattern_task(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<JobResult> {
    let start = Instant::now();
    let pattern = cfg.pattern.load(inputs)?;
    let neuron = NeuronParams {
        dt_ms: cfg.force.dt_ms,
        ..NeuronParams::default()
    };
    let steps = cfg
        .pattern
        .steps_per_state(cfg.force.dt_ms)
        .map_err(anyhow::Error::msg)?;
    let teacher = Teacher::new(&pattern, &neuron, steps);
    let mut model = Force::new(&cfg.force, teacher.clone(), seed)?;
    let protocol = Protocol {
        train: &cfg.train,
        replay: &cfg.replay,
        disruption: None,
        sample_every_steps: 1,
    };
    let result = protocol.run(&mut model, &teacher, neuron.e_leak_mv, on_cycle)?;
    Ok(JobResult {
        pattern,
        method: "force".into(),
        branch: String::new(),
        n_neurons: cfg.force.n,
        n_latent: 0,
        scaffold: None,
        n_plastic: model.n_plastic(),
        protocol: result,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}
