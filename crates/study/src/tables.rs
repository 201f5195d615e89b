//! The job's Parquet tables: `runs`, `curves`, `traces` (column names are part of the interface;
//! see docs/guide.md, "Outputs").

use crate::JobResult;
use elise_dynamics::protocol::CurvePoint;
use elise_sweep::arrow_array::{
    ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    UInt32Array, UInt64Array,
};
use elise_sweep::{Job, JobOutput};
use serde::Serialize;
use std::sync::Arc;

/// The worst value of a metric over the scored replay cycles; NaN if any cycle is NaN (a silent
/// neuron has no correlation) or there is no cycle.
fn worst(points: &[CurvePoint], f: impl Fn(&CurvePoint) -> f64, pick: fn(f64, f64) -> f64) -> f64 {
    let values: Vec<f64> = points.iter().map(f).collect();
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        f64::NAN
    } else {
        values.into_iter().reduce(pick).unwrap()
    }
}

/// Mean of a metric over the scored replay cycles.
fn mean(points: &[CurvePoint], f: impl Fn(&CurvePoint) -> f64) -> f64 {
    points.iter().map(f).sum::<f64>() / points.len() as f64
}

/// The tables of one job; `params` (the job's config) become columns of `runs`.
pub fn job_output(
    params: &impl Serialize,
    with_traces: bool,
    job: &Job,
    r: &JobResult,
) -> anyhow::Result<JobOutput> {
    let mut out = JobOutput::new()
        .with_table("runs", runs(params, job, r)?)
        .with_table("curves", curves(job, r)?);
    if with_traces {
        out.push("traces", traces(job, r)?);
    }
    if let Some(degrees) = degrees(job, r)? {
        out.push("degrees", degrees);
    }
    Ok(out)
}

/// The scaffold's degree histograms in long format, one row per (kind, population, degree):
/// `neurons` neurons of `population` (`visible`/`latent`) have `degree` scaffold edges of
/// `kind` (`in`: teachers, `out`: students). `None` for models without a scaffold.
pub fn degrees(job: &Job, r: &JobResult) -> anyhow::Result<Option<RecordBatch>> {
    let Some(scaffold) = &r.scaffold else {
        return Ok(None);
    };
    let h = scaffold.degree_histograms();
    let (mut kind, mut population, mut degree, mut neurons) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (k, pop, hist) in [
        ("in", "latent", &h.in_latent),
        ("out", "visible", &h.out_visible),
        ("out", "latent", &h.out_latent),
    ] {
        for (d, &count) in hist.iter().enumerate() {
            kind.push(k);
            population.push(pop);
            degree.push(d as u32);
            neurons.push(count);
        }
    }
    let n = kind.len();
    let batch = RecordBatch::try_from_iter([
        (
            "job",
            Arc::new(UInt64Array::from(vec![job.index as u64; n])) as ArrayRef,
        ),
        ("seed", Arc::new(UInt64Array::from(vec![job.seed; n]))),
        ("kind", Arc::new(StringArray::from(kind))),
        ("population", Arc::new(StringArray::from(population))),
        ("degree", Arc::new(UInt32Array::from(degree))),
        ("neurons", Arc::new(UInt32Array::from(neurons))),
    ])?;
    Ok(Some(crate::columns::describe("degrees", batch, false)?))
}

/// The one-row `runs` table: identity, final scores, cost, and every value of `params` (the
/// job's config) as a column `<table>_<key>`.
pub fn runs(params: &impl Serialize, job: &Job, r: &JobResult) -> anyhow::Result<RecordBatch> {
    let p = &r.protocol;
    let replay = &p.replay;
    let last = p.final_validation();
    let f64col = |v: f64| Arc::new(Float64Array::from(vec![v])) as ArrayRef;
    let u64col = |v: u64| Arc::new(UInt64Array::from(vec![v])) as ArrayRef;
    let strcol = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let optcol =
        |v: Option<usize>| Arc::new(UInt64Array::from(vec![v.map(|x| x as u64)])) as ArrayRef;
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("job".into(), u64col(job.index as u64)),
        ("seed".into(), u64col(job.seed)),
        ("replicate".into(), u64col(job.replicate as u64)),
        ("method".into(), strcol(&r.method)),
        ("branch".into(), branch_col(&r.branch, 1)),
        ("pattern".into(), strcol(r.pattern.name())),
        ("n_visible".into(), u64col(r.pattern.n_neurons() as u64)),
        ("n_latent".into(), u64col(r.n_latent as u64)),
        ("n_neurons".into(), u64col(r.n_neurons as u64)),
        ("replay_mse".into(), f64col(mean(replay, |c| c.mse))),
        (
            "replay_corr_sum".into(),
            f64col(mean(replay, |c| c.corr_sum)),
        ),
        (
            "replay_mse_max".into(),
            f64col(worst(replay, |c| c.mse, f64::max)),
        ),
        (
            "replay_corr_sum_min".into(),
            f64col(worst(replay, |c| c.corr_sum, f64::min)),
        ),
        ("replay_scored_cycles".into(), u64col(replay.len() as u64)),
        (
            "final_val_cycle".into(),
            Arc::new(Int64Array::from(vec![last.map(|c| c.cycle)])) as ArrayRef,
        ),
        (
            "final_val_mse".into(),
            f64col(last.map_or(f64::NAN, |c| c.mse)),
        ),
        (
            "final_val_corr_sum".into(),
            f64col(last.map_or(f64::NAN, |c| c.corr_sum)),
        ),
        (
            "scaffold_edges".into(),
            optcol(r.scaffold.as_ref().map(|s| s.edges().len())),
        ),
        (
            "scaffold_latent_reached".into(),
            optcol(r.scaffold.as_ref().map(|s| s.latent_reached())),
        ),
        ("n_plastic".into(), u64col(r.n_plastic as u64)),
        ("n_steps".into(), u64col(p.n_steps)),
        ("wall_seconds".into(), f64col(r.wall_seconds)),
        (
            "steps_per_second".into(),
            f64col(p.n_steps as f64 / r.wall_seconds),
        ),
    ];
    cols.extend(flattened_params(params)?);
    // Nullability is declared, not inferred from the values, so every job (ELiSe or baseline)
    // writes the same schema.
    let optional = [
        "branch",
        "final_val_cycle",
        "scaffold_edges",
        "scaffold_latent_reached",
    ];
    let batch = RecordBatch::try_from_iter_with_nullable(cols.into_iter().map(|(name, col)| {
        let nullable = optional.contains(&name.as_str());
        (name, col, nullable)
    }))?;
    crate::columns::describe("runs", batch, true)
}

/// The `branch` column of `n` rows: the branch's name, or null for a plain replay (`""`).
fn branch_col(branch: &str, n: usize) -> ArrayRef {
    let value = (!branch.is_empty()).then_some(branch);
    Arc::new(StringArray::from(vec![value; n]))
}

/// Columns as `(name, array)` with nullability declared: only `branch` may hold nulls, so
/// every job writes the same schema whether or not its branch is null.
fn with_nullable_branch(cols: Vec<(&'static str, ArrayRef)>) -> anyhow::Result<RecordBatch> {
    Ok(RecordBatch::try_from_iter_with_nullable(
        cols.into_iter()
            .map(|(name, col)| (name, col, name == "branch")),
    )?)
}

/// Every config value as one column `<table>_<key>` (run.seeds excluded: it is not a property
/// of the job).
fn flattened_params(cfg: &impl Serialize) -> anyhow::Result<Vec<(String, ArrayRef)>> {
    let table = toml::Table::try_from(cfg)?;
    let mut cols = Vec::new();
    for (section, values) in &table {
        let Some(values) = values.as_table() else {
            continue;
        };
        for (key, v) in values {
            // Not properties of the job's results: how many seeds, and checkpoint handling.
            if section == "run"
                && matches!(
                    key.as_str(),
                    "seeds" | "checkpoint_every" | "from_checkpoint" | "save_trained"
                )
            {
                continue;
            }
            // Nor what is looked at (record, export): they change no result.
            if section == "output"
                && matches!(
                    key.as_str(),
                    "record" | "record_cycles" | "record_every" | "export"
                )
            {
                continue;
            }
            let name = format!("{section}_{key}");
            let col: ArrayRef = match v {
                // Seeds are u64 in every table (`seed` too).
                toml::Value::Integer(i) if name == "run_base_seed" => {
                    Arc::new(UInt64Array::from(vec![u64::try_from(*i)?]))
                }
                toml::Value::Integer(i) => Arc::new(Int64Array::from(vec![*i])),
                toml::Value::Float(f) => Arc::new(Float64Array::from(vec![*f])),
                toml::Value::Boolean(b) => Arc::new(BooleanArray::from(vec![*b])),
                toml::Value::String(s) => Arc::new(StringArray::from(vec![s.as_str()])),
                other => Arc::new(StringArray::from(vec![other.to_string()])),
            };
            cols.push((name, col));
        }
    }
    Ok(cols)
}

pub fn curves(job: &Job, r: &JobResult) -> anyhow::Result<RecordBatch> {
    let points: Vec<&CurvePoint> = r
        .protocol
        .validation
        .iter()
        .chain(&r.protocol.replay)
        .collect();
    let n = points.len();
    let batch = with_nullable_branch(vec![
        (
            "job",
            Arc::new(UInt64Array::from(vec![job.index as u64; n])) as ArrayRef,
        ),
        ("seed", Arc::new(UInt64Array::from(vec![job.seed; n]))),
        ("branch", branch_col(&r.branch, n)),
        (
            "phase",
            Arc::new(StringArray::from(
                points.iter().map(|p| p.phase.as_str()).collect::<Vec<_>>(),
            )),
        ),
        (
            "cycle",
            Arc::new(Int64Array::from(
                points.iter().map(|p| p.cycle).collect::<Vec<_>>(),
            )),
        ),
        (
            "mse",
            Arc::new(Float64Array::from(
                points.iter().map(|p| p.mse).collect::<Vec<_>>(),
            )),
        ),
        (
            "corr_sum",
            Arc::new(Float64Array::from(
                points.iter().map(|p| p.corr_sum).collect::<Vec<_>>(),
            )),
        ),
    ])?;
    crate::columns::describe("curves", batch, false)
}

/// Long format: one row per (phase, cycle, step, neuron). Rates as f32 (ample for plotting,
/// half the size); the scores are computed from the f64 values.
pub fn traces(job: &Job, r: &JobResult) -> anyhow::Result<RecordBatch> {
    traces_where(job, r, |_, _| true)
}

/// [`traces`] of the replay cycles in `cycles` only (e.g. a window around a disruption).
pub fn replay_traces(
    job: &Job,
    r: &JobResult,
    cycles: std::ops::RangeInclusive<i64>,
) -> anyhow::Result<RecordBatch> {
    traces_where(job, r, |phase, c| phase == "replay" && cycles.contains(&c))
}

/// The rows of [`traces`] whose (phase, cycle) pass `keep`.
fn traces_where(
    job: &Job,
    r: &JobResult,
    keep: impl Fn(&str, i64) -> bool,
) -> anyhow::Result<RecordBatch> {
    let p = &r.protocol;
    let s_len = p.samples_per_cycle;
    let n_vis = r.pattern.n_neurons();
    let mut phase = Vec::new();
    let mut cycle = Vec::new();
    let mut step = Vec::new();
    let mut neuron = Vec::new();
    let mut rate = Vec::new();
    let mut target = Vec::new();
    let mut push = |ph: &'static str, c: i64, rates: &[f64], len: usize, first: usize| {
        if !keep(ph, c) {
            return;
        }
        for k in 0..s_len {
            for i in 0..n_vis {
                phase.push(ph);
                cycle.push(c);
                step.push((k * p.sample_every_steps) as u32);
                neuron.push(i as u32);
                rate.push(rates[i * len + first + k] as f32);
                target.push(p.target[i * s_len + k] as f32);
            }
        }
    };
    if let Some((c, rates)) = &p.last_validation {
        push("validation", *c, rates, s_len, 0);
    }
    let total = p.replay_rates.len() / n_vis.max(1);
    for c in 0..total / s_len {
        push("replay", c as i64, &p.replay_rates, total, c * s_len);
    }
    let n = phase.len();
    let batch = with_nullable_branch(vec![
        (
            "job",
            Arc::new(UInt64Array::from(vec![job.index as u64; n])) as ArrayRef,
        ),
        ("seed", Arc::new(UInt64Array::from(vec![job.seed; n]))),
        ("branch", branch_col(&r.branch, n)),
        ("phase", Arc::new(StringArray::from(phase))),
        ("cycle", Arc::new(Int64Array::from(cycle))),
        ("step", Arc::new(UInt32Array::from(step))),
        ("neuron", Arc::new(UInt32Array::from(neuron))),
        ("rate", Arc::new(Float32Array::from(rate))),
        ("target", Arc::new(Float32Array::from(target))),
    ])?;
    crate::columns::describe("traces", batch, false)
}
