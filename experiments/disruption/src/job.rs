//! exp-disruption's checks and its job: train once, then replay a clone per branch.

use crate::{Config, branch_disruption};
use elise_core::Inputs;
use elise_sweep::{ConfigError, Job, JobOutput, Progress, check_range};

pub(crate) fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
    elise_study::record::refuse_views(&cfg.elise, "disruption")?;
    elise_study::validate(&cfg.elise, inputs)?;
    let d = &cfg.disruption;
    if d.branches.is_empty() {
        return Err(ConfigError::invalid(
            "disruption.branches",
            "at least one branch",
        ));
    }
    check_range(
        "replay.disruption_cycle",
        cfg.elise.replay.disruption_cycle,
        0,
        cfg.elise.replay.cycles.saturating_sub(1),
    )?;
    let pattern = cfg
        .elise
        .pattern
        .load(inputs)
        .map_err(|e| ConfigError::invalid("pattern.file", e.to_string()))?;
    let steps = cfg
        .elise
        .pattern
        .steps_per_state(cfg.elise.neuron.dt_ms)
        .map_err(|m| ConfigError::invalid("pattern.state_ms", m))?;
    for name in &d.branches {
        let disruption = branch_disruption(name, inputs)
            .map_err(|e| ConfigError::invalid("disruption.branches", format!("{name}: {e:#}")))?;
        if let Some(dis) = disruption {
            dis.check_fits(steps * pattern.n_states(), pattern.n_neurons())
                .map_err(|m| ConfigError::invalid("disruption.branches", format!("{name}: {m}")))?;
        }
    }
    if !cfg.elise.replay.disruption_file.is_empty() {
        return Err(ConfigError::invalid(
            "replay.disruption_file",
            "use disruption.branches here",
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
    let branches = cfg
        .disruption
        .branches
        .iter()
        .map(|n| Ok((n.clone(), branch_disruption(n, inputs)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let elise = &cfg.elise;
    let files = elise_study::checkpointing::JobFiles::of(elise, progress);
    let results = elise_study::simulate_branches_with(
        elise,
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
