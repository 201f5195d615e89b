//! Looking inside a network: per-step recordings of chosen neuron quantities (rates, somatic
//! potential U, dendritic potential V, ...) for every neuron, visible and latent, and the
//! MatrixMarket export of a trained network's weights and scaffold.
//!
//! Used by the CLI through `[output]` (`record`, `record_cycles`, `record_every`: the table
//! `record`; `export`: `networks/job-<index>-weights.mtx` and `-scaffold.mtx`), and by the
//! Python package (`Network.run(record=...)`, see [`crate::network`]). Recording only reads the
//! state after each step: a recorded run has the same bits as one that is not.

use std::sync::Arc;

use elise_core::{Inputs, Model, Seed};
use elise_dynamics::Network;
use elise_sweep::arrow_array::{
    ArrayRef, RecordBatch, StringArray, UInt64Array, builder::Float64Builder,
};
use elise_sweep::{ConfigError, Job, JobOutput, Progress};

use crate::{Config, checkpointing};

/// A per-neuron quantity that can be recorded after each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantity {
    /// Somatic rate phi(U).
    Rate,
    /// Somatic potential U (mV).
    U,
    /// Dendritic potential V (mV).
    V,
    /// Dendritic prediction V* (mV).
    VStar,
    /// Predicted rate phi(V*).
    RateStar,
    /// Presynaptic trace.
    Trace,
}

impl Quantity {
    /// Every quantity, in the order of the `record` table's columns.
    pub const ALL: [Quantity; 6] = [
        Self::Rate,
        Self::U,
        Self::V,
        Self::VStar,
        Self::RateStar,
        Self::Trace,
    ];

    /// The name in configs, tables and Python: `rate`, `u`, `v`, `v_star`, `rate_star`, `trace`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rate => "rate",
            Self::U => "u",
            Self::V => "v",
            Self::VStar => "v_star",
            Self::RateStar => "rate_star",
            Self::Trace => "trace",
        }
    }

    /// The quantity called `name`; the problem (listing the names) otherwise.
    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|q| q.name() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|q| q.name()).collect();
                format!(
                    "unknown quantity {name:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }

    /// Its current values, one per neuron.
    pub fn of(self, net: &Network) -> &[f64] {
        match self {
            Self::Rate => net.rate(),
            Self::U => net.u(),
            Self::V => net.v(),
            Self::VStar => net.v_star(),
            Self::RateStar => net.rate_star(),
            Self::Trace => net.trace(),
        }
    }
}

/// Recorded values: per quantity, `rows` rows of `n` neurons (row-major: step, neuron).
#[derive(Clone, Debug, Default)]
pub struct Recording {
    pub quantities: Vec<Quantity>,
    pub n: usize,
    /// Per quantity, the values (row-major).
    pub values: Vec<Vec<f64>>,
    /// Per recorded row: (cycle, step within the cycle).
    pub at: Vec<(u64, u64)>,
}

impl Recording {
    /// An empty recording of `quantities` for a network of `n` neurons.
    pub fn new(quantities: &[Quantity], n: usize) -> Self {
        Self {
            quantities: quantities.to_vec(),
            n,
            values: vec![Vec::new(); quantities.len()],
            at: Vec::new(),
        }
    }

    /// Appends the current state of `net` as row (cycle, step).
    pub fn push(&mut self, net: &Network, cycle: u64, step: u64) {
        for (q, vals) in self.quantities.iter().zip(&mut self.values) {
            vals.extend_from_slice(q.of(net));
        }
        self.at.push((cycle, step));
    }

    /// Rows recorded.
    pub fn rows(&self) -> usize {
        self.at.len()
    }

    /// The `record` table: one row per (cycle, step, neuron) with columns `job`, `seed`,
    /// `cycle`, `step`, `neuron`, `population` (`visible`/`latent`) and one
    /// column per recorded quantity.
    pub fn table(&self, job: &Job, n_visible: usize) -> anyhow::Result<RecordBatch> {
        let rows = self.rows() * self.n;
        let mut cycle = Vec::with_capacity(rows);
        let mut step = Vec::with_capacity(rows);
        let mut neuron = Vec::with_capacity(rows);
        let mut population = Vec::with_capacity(rows);
        for &(c, s) in &self.at {
            for i in 0..self.n {
                cycle.push(c);
                step.push(s);
                neuron.push(i as u64);
                population.push(if i < n_visible { "visible" } else { "latent" });
            }
        }
        let mut cols: Vec<(String, ArrayRef)> = vec![
            (
                "job".into(),
                Arc::new(UInt64Array::from(vec![job.index as u64; rows])),
            ),
            (
                "seed".into(),
                Arc::new(UInt64Array::from(vec![job.seed; rows])),
            ),
            ("cycle".into(), Arc::new(UInt64Array::from(cycle))),
            ("step".into(), Arc::new(UInt64Array::from(step))),
            ("neuron".into(), Arc::new(UInt64Array::from(neuron))),
            ("population".into(), Arc::new(StringArray::from(population))),
        ];
        for (q, vals) in self.quantities.iter().zip(&self.values) {
            let mut b = Float64Builder::with_capacity(vals.len());
            b.append_slice(vals);
            cols.push((q.name().into(), Arc::new(b.finish()) as ArrayRef));
        }
        Ok(RecordBatch::try_from_iter(cols)?)
    }
}

/// What `[output]` asks to record in the replay (`record` non-empty).
#[derive(Clone, Debug)]
pub struct RecordPlan {
    pub quantities: Vec<Quantity>,
    /// Replay cycles to record (sorted).
    pub cycles: Vec<u64>,
    /// Record every this many steps (step 0 of each recorded cycle included).
    pub every: u64,
}

impl RecordPlan {
    /// The plan of `cfg`'s `[output]`, `None` when nothing is recorded.
    pub fn of(cfg: &Config) -> Option<Self> {
        let o = &cfg.output;
        if o.record.is_empty() {
            return None;
        }
        let mut cycles = o.record_cycles.clone();
        cycles.sort_unstable();
        cycles.dedup();
        Some(Self {
            quantities: o
                .record
                .iter()
                .filter_map(|q| Quantity::parse(q).ok())
                .collect(),
            cycles,
            every: o.record_every.max(1),
        })
    }
}

/// Checks of `output.record*` and `output.export`; errors name the key.
pub fn validate(cfg: &Config) -> Result<(), ConfigError> {
    let o = &cfg.output;
    let mut seen = Vec::new();
    for q in &o.record {
        let q = Quantity::parse(q).map_err(|m| ConfigError::invalid("output.record", m))?;
        if seen.contains(&q) {
            return Err(ConfigError::invalid(
                "output.record",
                format!("{:?} is listed twice", q.name()),
            ));
        }
        seen.push(q);
    }
    elise_sweep::check_range("output.record_every", o.record_every, 1, 1 << 30)?;
    if !o.record.is_empty() && o.record_cycles.is_empty() {
        return Err(ConfigError::invalid(
            "output.record_cycles",
            "output.record names quantities but no replay cycle is chosen; e.g. record_cycles = [0, 5]",
        ));
    }
    if let Some(&c) = o
        .record_cycles
        .iter()
        .find(|&&c| c >= cfg.replay.cycles as u64)
    {
        return Err(ConfigError::invalid(
            "output.record_cycles",
            format!(
                "replay cycle {c} does not exist (replay.cycles = {}; cycles count from 0)",
                cfg.replay.cycles
            ),
        ));
    }
    Ok(())
}

/// A model that is `net` and records `plan` after each step of the chosen cycles (counted from
/// the first step it takes). Every `Model` method is `Network`'s own.
pub(crate) struct Recorded<'a> {
    net: &'a mut Network,
    plan: &'a RecordPlan,
    cycle_len: u64,
    steps: u64,
    rec: Recording,
}

impl<'a> Recorded<'a> {
    /// `net` recording `plan`, with the cycle length of `teacher`.
    pub(crate) fn new(
        net: &'a mut Network,
        plan: &'a RecordPlan,
        teacher: &elise_core::Teacher,
    ) -> Self {
        let n = net.n_neurons();
        Self {
            cycle_len: teacher.cycle_len_steps() as u64,
            net,
            plan,
            steps: 0,
            rec: Recording::new(&plan.quantities, n),
        }
    }

    /// The values recorded so far.
    pub(crate) fn into_recording(self) -> Recording {
        self.rec
    }
}

impl Model for Recorded<'_> {
    fn n_outputs(&self) -> usize {
        Model::n_outputs(&*self.net)
    }
    fn step(&mut self, t: usize, lambda: f64) {
        Model::step(&mut *self.net, t, lambda);
        let (cycle, step) = (self.steps / self.cycle_len, self.steps % self.cycle_len);
        self.steps += 1;
        if step % self.plan.every == 0 && self.plan.cycles.binary_search(&cycle).is_ok() {
            self.rec.push(self.net, cycle, step);
        }
    }
    fn output(&self) -> &[f64] {
        Model::output(&*self.net)
    }
    fn is_finite(&self) -> bool {
        Model::is_finite(&*self.net)
    }
    fn supports_clamp(&self) -> bool {
        Model::supports_clamp(&*self.net)
    }
    fn clamp_outputs(&mut self, range: std::ops::Range<usize>, u_mv: f64) {
        Model::clamp_outputs(&mut *self.net, range, u_mv);
    }
    fn clear_clamp(&mut self) {
        Model::clear_clamp(&mut *self.net);
    }
    fn n_plastic(&self) -> usize {
        Model::n_plastic(&*self.net)
    }
}

/// For experiments whose jobs are not the standard ELiSe job (they branch, cue or mix models):
/// `output.record` and `output.export` are refused, naming the key and the experiment, rather
/// than silently ignored.
pub fn refuse_views(cfg: &Config, experiment: &str) -> Result<(), elise_sweep::ConfigError> {
    let unsupported = |key: &str| {
        elise_sweep::ConfigError::invalid(
            key,
            format!(
                "exp-{experiment} does not record or export (its jobs are not the standard ELiSe \
                 job); use it with exp-birdsong, exp-size, exp-reservoir, exp-scaffold, \
                 exp-sparsity, exp-timescales or exp-noisy-tutor"
            ),
        )
    };
    if !cfg.output.record.is_empty() {
        return Err(unsupported("output.record"));
    }
    if cfg.output.export {
        return Err(unsupported("output.export"));
    }
    Ok(())
}

/// Whether `cfg` asks for a look inside (a `record` table or an export).
pub fn wanted(cfg: &Config) -> bool {
    !cfg.output.record.is_empty() || cfg.output.export
}

/// An ELiSe job with `[output]` views: [`crate::simulate_with`] (one branch, the config's
/// disruption) whose replay also records `output.record`, plus the trained network's weights
/// and scaffold as MatrixMarket files with `output.export`. The tables of the plain job are
/// unchanged (same bits); `record` is an extra table.
pub fn run_job(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
) -> anyhow::Result<JobOutput> {
    let files = checkpointing::JobFiles::of(cfg, progress);
    let seed = Seed(job.seed);
    let on_cycle = &mut || progress.inc(1);
    let disruption = crate::load_disruption(cfg, inputs)?;
    let label = if disruption.is_some() {
        cfg.replay.disruption_file.clone()
    } else {
        String::new()
    };
    let trained = crate::train_job(cfg, inputs, seed, &files, on_cycle)?;
    let mut extra = Vec::new();
    if cfg.output.export {
        // From a copy: reading the weights applies the pending update.
        let mut copy = trained.net.clone();
        let mut w = Vec::new();
        elise_dynamics::export::write_weights_mtx(&mut copy, &mut w)?;
        let mut s = Vec::new();
        elise_dynamics::export::write_scaffold_mtx(&copy, &mut s)?;
        extra.push((format!("networks/job-{:06}-weights.mtx", job.index), w));
        extra.push((format!("networks/job-{:06}-scaffold.mtx", job.index), s));
    }
    let plan = RecordPlan::of(cfg);
    let (r, recording) = crate::replay_branch(
        cfg,
        &trained,
        seed,
        &label,
        disruption.as_ref(),
        plan.as_ref(),
        on_cycle,
    )?;
    let mut out = crate::tables::job_output(cfg, cfg.output.traces, job, &r)?;
    if let Some(rec) = recording {
        out.push("record", rec.table(job, r.pattern.n_neurons())?);
    }
    for (path, bytes) in extra {
        out.push_file(path, bytes);
    }
    files.add_saved_network(job, &mut out);
    Ok(out)
}
