//! Cues, recall scores and the job: train once, replay, then reset, cue and recall per cue.

use crate::{CompletionConfig, Config};
use elise_core::{Inputs, Seed, Teacher};
use elise_dynamics::ProtocolResult;
use elise_sweep::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use elise_sweep::{Job, JobOutput, Progress};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// One cue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cue {
    /// The first k states, all visible neurons.
    States(usize),
    /// Visible neurons 0..n, the whole cycle.
    Neurons(usize),
}

impl Cue {
    pub fn kind(self) -> &'static str {
        match self {
            Cue::States(_) => "states",
            Cue::Neurons(_) => "neurons",
        }
    }
    pub fn size(self) -> usize {
        match self {
            Cue::States(k) | Cue::Neurons(k) => k,
        }
    }
    pub fn label(self) -> String {
        format!("{}:{}", self.kind(), self.size())
    }
    /// Whether visible neuron `i` is cued at in-cycle step `t`.
    pub fn cued(self, t: usize, i: usize, steps_per_state: usize) -> bool {
        match self {
            Cue::States(k) => t < k * steps_per_state,
            Cue::Neurons(n) => i < n,
        }
    }
    /// Cued fraction of the cycle's (neuron, time) entries.
    pub fn fraction(self, n_states: usize, n_visible: usize) -> f64 {
        match self {
            Cue::States(k) => k as f64 / n_states as f64,
            Cue::Neurons(n) => n as f64 / n_visible as f64,
        }
    }
}

/// The cues of a config, states first.
pub fn cues(c: &CompletionConfig) -> Vec<Cue> {
    c.cue_states
        .iter()
        .map(|&k| Cue::States(k))
        .chain(c.cue_neurons.iter().map(|&n| Cue::Neurons(n)))
        .collect()
}

/// Scores of one cued recall.
#[derive(Clone, Debug, PartialEq)]
pub struct RecallScore {
    pub uncued_mse: f64,
    pub uncued_rest_mse: f64,
    pub cued_mse: f64,
    pub cued_rest_mse: f64,
}

impl RecallScore {
    /// 1 - uncued MSE / MSE of a network at rest on the same entries.
    pub fn recall(&self) -> f64 {
        1.0 - self.uncued_mse / self.uncued_rest_mse
    }
}

/// Scores the cue cycle (the first S samples of each neuron in `rates`, neuron-major, the
/// same number of samples per neuron) against `target` (neuron-major, S per neuron), split
/// into cued and uncued entries; `rest_rate` is the output of a network at rest.
pub fn score_cue_cycle(
    cue: Cue,
    rates: &[f64],
    target: &[f64],
    s_len: usize,
    sample_every_steps: usize,
    steps_per_state: usize,
    rest_rate: f64,
) -> RecallScore {
    let n_vis = target.len() / s_len;
    let total = rates.len() / n_vis;
    // [cued, uncued] x (squared error, squared error at rest, count)
    let mut acc = [[0.0f64; 3]; 2];
    for i in 0..n_vis {
        for k in 0..s_len {
            let y = target[i * s_len + k];
            let part = usize::from(!cue.cued(k * sample_every_steps, i, steps_per_state));
            let a = &mut acc[part];
            a[0] += (rates[i * total + k] - y).powi(2);
            a[1] += (rest_rate - y).powi(2);
            a[2] += 1.0;
        }
    }
    let mean = |a: [f64; 3], m: usize| {
        if a[2] > 0.0 { a[m] / a[2] } else { f64::NAN }
    };
    RecallScore {
        uncued_mse: mean(acc[1], 0),
        uncued_rest_mse: mean(acc[1], 1),
        cued_mse: mean(acc[0], 0),
        cued_rest_mse: mean(acc[0], 1),
    }
}

pub(crate) fn run_job(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
) -> anyhow::Result<JobOutput> {
    let e = &cfg.elise;
    let seed = Seed(job.seed);
    let files = elise_study::checkpointing::JobFiles::of(e, progress);
    let trained = elise_study::train_job(e, inputs, seed, &files, &mut || progress.inc(1))?;
    let protocol = trained.protocol(e);
    let e_leak_mv = e.neuron.e_leak_mv;

    // The reference: the usual replay.
    let start = Instant::now();
    let mut net = trained.net.clone();
    let replay = protocol.replay(
        &mut net,
        &trained.teacher,
        e_leak_mv,
        trained.result.clone(),
        &mut || progress.inc(1),
    )?;
    let reference = trained.job_result("replay", replay, start);
    let mut out = elise_study::tables::job_output(cfg, e.output.traces, job, &reference)?;

    let teacher: &Teacher = &trained.teacher;
    let steps_per_state = teacher.steps_per_state();
    let n_states = trained.pattern.n_states();
    let n_vis = teacher.n_visible();
    let rest_rate = e.neuron.phi(e_leak_mv);
    let mut rows = RecallRows::default();
    for cue in cues(&cfg.completion) {
        let start = Instant::now();
        let mut net = trained.net.clone();
        let cued = |t, i| cue.cued(t, i, steps_per_state);
        let recall = protocol.cued_recall_with(
            &mut net,
            teacher,
            teacher.cue_only(cued),
            &cued,
            cfg.completion.uncued,
            cfg.completion.free_cycles,
        )?;
        progress.inc((cfg.completion.free_cycles + 1) as u64);
        let s_len = recall.samples_per_cycle;
        let score = score_cue_cycle(
            cue,
            &recall.rates,
            &trained.result.target,
            s_len,
            protocol.sample_every_steps,
            steps_per_state,
            rest_rate,
        );
        let cycle_len = teacher.cycle_len_steps() as u64;
        let result = ProtocolResult {
            replay: recall.free,
            replay_rates: Vec::new(),
            n_steps: trained.result.n_steps + (cfg.completion.free_cycles as u64 + 1) * cycle_len,
            ..trained.result.clone()
        };
        let r = trained.job_result(&cue.label(), result, start);
        out.push("runs", elise_study::tables::runs(cfg, job, &r)?);
        out.push("curves", elise_study::tables::curves(job, &r)?);
        let free = &r.protocol.replay;
        let free_mean = |f: fn(&elise_dynamics::CurvePoint) -> f64| {
            free.iter().map(f).sum::<f64>() / free.len() as f64
        };
        rows.push(
            cue,
            cue.fraction(n_states, n_vis),
            cue.size() as f64 * e.pattern.state_ms,
            &score,
            [
                free_mean(|c| c.mse),
                free_mean(|c| c.corr_sum),
                free.iter()
                    .map(|c| c.corr_sum)
                    .fold(f64::INFINITY, f64::min),
            ],
        );
    }
    out.push("recall", rows.batch(job, trained.n_latent, &reference)?);
    files.add_saved_network(job, &mut out);
    Ok(out)
}

/// Columns of the `recall` table.
#[derive(Default)]
struct RecallRows {
    cue: Vec<String>,
    kind: Vec<&'static str>,
    size: Vec<u64>,
    f64s: BTreeMap<&'static str, Vec<f64>>,
}

const F64_COLUMNS: [&str; 11] = [
    "cued_fraction",
    "cue_ms",
    "uncued_mse",
    "uncued_rest_mse",
    "recall",
    "cued_mse",
    "cued_rest_mse",
    "free_mse",
    "free_corr_sum",
    "free_corr_sum_min",
    "reference_replay_corr_sum",
];

impl RecallRows {
    fn push(&mut self, cue: Cue, fraction: f64, cue_ms: f64, s: &RecallScore, free: [f64; 3]) {
        self.cue.push(cue.label());
        self.kind.push(cue.kind());
        self.size.push(cue.size() as u64);
        let values = [
            fraction,
            cue_ms,
            s.uncued_mse,
            s.uncued_rest_mse,
            s.recall(),
            s.cued_mse,
            s.cued_rest_mse,
            free[0],
            free[1],
            free[2],
        ];
        for (name, v) in F64_COLUMNS.iter().zip(values) {
            self.f64s.entry(name).or_default().push(v);
        }
    }

    fn batch(
        mut self,
        job: &Job,
        n_latent: usize,
        reference: &elise_study::JobResult,
    ) -> anyhow::Result<RecordBatch> {
        let n = self.cue.len();
        let replay = &reference.protocol.replay;
        let reference_cs = replay.iter().map(|c| c.corr_sum).sum::<f64>() / replay.len() as f64;
        self.f64s
            .insert("reference_replay_corr_sum", vec![reference_cs; n]);
        let mut cols: Vec<(&str, ArrayRef)> = vec![
            (
                "job",
                Arc::new(UInt64Array::from(vec![job.index as u64; n])),
            ),
            ("seed", Arc::new(UInt64Array::from(vec![job.seed; n]))),
            (
                "replicate",
                Arc::new(UInt64Array::from(vec![job.replicate as u64; n])),
            ),
            (
                "n_latent",
                Arc::new(UInt64Array::from(vec![n_latent as u64; n])),
            ),
            ("cue", Arc::new(StringArray::from(self.cue))),
            ("cue_kind", Arc::new(StringArray::from(self.kind))),
            ("cue_size", Arc::new(UInt64Array::from(self.size))),
        ];
        for name in F64_COLUMNS {
            let v = self.f64s.remove(name).unwrap_or_default();
            cols.push((name, Arc::new(Float64Array::from(v))));
        }
        elise_study::columns::describe("recall", RecordBatch::try_from_iter(cols)?, false)
    }
}
