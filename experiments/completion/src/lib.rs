//! The paper's v3 pattern-completion study: after training the network is reset to rest, cued with part of the pattern, and recalls the rest.
//!
//! One job = one seed: the network is trained once (the demo protocol, `elise_study::train`)
//! and replayed once as usual (branch `replay`, the reference). Then, for every cue, a clone of
//! the trained network is reset to rest (all activity, delay lines and traces; the weights
//! stay), runs one cycle in which only the cue is nudged — `states:k`: the first k states of
//! the cycle, all visible neurons; `neurons:n`: visible neurons 0..n, the whole cycle — and then
//! `completion.free_cycles` free cycles. Uncued somas in the cue cycle run exactly free (their
//! teacher conductances are 0) with `completion.uncued = "free"`; with `"self"` they are nudged
//! towards their own potential, as in the lab fork (which, in this step, is free dynamics up to
//! rounding: the nudging term is G (U - U)).
//!
//! Tables: `runs` and `curves` (one row / curve per branch; a cue branch's replay scores are
//! the best-shift scores of its free cycles) and `recall` (one row per cue): how close the
//! uncued part of the cue cycle comes to the target, as MSE and as
//! `recall = 1 - uncued_mse / uncued_rest_mse` (1 = perfect, 0 = no better than staying at
//! rest), plus the same for the cued part (the cue itself) and the free cycles' scores.
//! `finish` draws `completion.png` and writes `summary.md`.

use elise_core::{Inputs, Seed, Teacher};
use elise_dynamics::{ProtocolResult, Uncued};
use elise_study::sweep_figure::median;
use elise_sweep::arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use elise_sweep::{
    ConfigError, Experiment, InputFile, Job, JobOutput, Progress, RunDir, check_range, column,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The `[completion]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompletionConfig {
    /// Cues of the first k states (all visible neurons).
    pub cue_states: Vec<usize>,
    /// Cues of the first n visible neurons (the whole cycle).
    pub cue_neurons: Vec<usize>,
    /// Free cycles after the cue cycle.
    pub free_cycles: usize,
    /// The uncued somas in the cue cycle: `"free"` (not nudged) or `"self"` (nudged towards
    /// their own potential, the lab fork's v3 protocol; free up to rounding in this step).
    #[serde(default)]
    pub uncued: Uncued,
}

/// The config: the ELiSe tables (`elise_study::Config`, checked key by key against the
/// embedded default by the harness) plus `[completion]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Config {
    #[serde(flatten)]
    pub elise: elise_study::Config,
    pub completion: CompletionConfig,
}

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

/// exp-completion (the binary `exp-completion` and the registry `elise-lab` run it).
pub struct Completion {
    default_config: String,
}

/// exp-completion as a value.
pub fn experiment() -> Completion {
    Completion {
        default_config: elise_study::default_config_with(include_str!("../configs/default.toml")),
    }
}

impl Experiment for Completion {
    type Config = Config;
    fn name(&self) -> &'static str {
        "completion"
    }

    fn summary(&self) -> &'static str {
        "v3: recall the rest of the pattern from a cue."
    }

    fn default_config(&self) -> &str {
        &self.default_config
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[
            ("run.seeds", "2"),
            ("train.cycles", "3000"),
            ("replay.cycles", "10"),
        ]
    }

    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        elise_study::input_files(&cfg.elise)
    }

    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        let e = &cfg.elise;
        elise_study::validate(e, inputs)?;
        let c = &cfg.completion;
        if c.cue_states.is_empty() && c.cue_neurons.is_empty() {
            return Err(ConfigError::invalid(
                "completion.cue_states",
                "at least one cue (in completion.cue_states or completion.cue_neurons)",
            ));
        }
        let pattern = e
            .pattern
            .load(inputs)
            .map_err(|err| ConfigError::invalid("pattern.file", err.to_string()))?;
        for &k in &c.cue_states {
            check_range("completion.cue_states", k, 0, pattern.n_states() - 1)?;
        }
        for &n in &c.cue_neurons {
            check_range("completion.cue_neurons", n, 0, pattern.n_neurons() - 1)?;
        }
        check_range("completion.free_cycles", c.free_cycles, 2, 1_000_000).map_err(|err| {
            ConfigError::invalid(
                "completion.free_cycles",
                format!(
                    "{err}; at least 2 so that one free cycle with a following cycle is scored"
                ),
            )
        })?;
        if !e.replay.disruption_file.is_empty() {
            return Err(ConfigError::invalid(
                "replay.disruption_file",
                "exp-completion does not disrupt; use exp-disruption",
            ));
        }
        Ok(())
    }

    fn jobs(&self, cfg: &Config, _inputs: &Inputs) -> Vec<Job> {
        elise_sweep::replicate_jobs(cfg.elise.run.seeds, cfg.elise.run.base_seed)
    }

    fn work_units(&self, cfg: &Config, _job: &Job) -> u64 {
        elise_study::work_units(&cfg.elise)
            + (cues(&cfg.completion).len() * (cfg.completion.free_cycles + 1)) as u64
    }

    fn max_checkpoint_bytes(&self, cfg: &Config) -> Option<u64> {
        elise_study::checkpointing::checkpoint_limit(&cfg.elise)
    }

    fn run_job(
        &self,
        cfg: &Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        run_job(cfg, job, inputs, progress)
    }

    fn finish(&self, _cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
        finish(run)
    }
}

fn run_job(
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
        Ok(RecordBatch::try_from_iter(cols)?)
    }
}

/// Per (cue kind, cued fraction): the recall rows of every seed.
struct RecallGroups {
    by_kind: BTreeMap<String, BTreeMap<i64, Vec<[f64; 6]>>>,
}

/// Reads the `recall` table: per row [fraction, recall, uncued_mse, free_corr_sum,
/// free_corr_sum_min, cue_ms].
fn read_recall(run: &RunDir) -> anyhow::Result<RecallGroups> {
    let mut by_kind: BTreeMap<String, BTreeMap<i64, Vec<[f64; 6]>>> = BTreeMap::new();
    for b in run.read_table("recall")? {
        let kind = column::<StringArray>(&b, "cue_kind")?;
        let f = |name| column::<Float64Array>(&b, name);
        let (frac, rec, mse, cs, cs_min, ms) = (
            f("cued_fraction")?,
            f("recall")?,
            f("uncued_mse")?,
            f("free_corr_sum")?,
            f("free_corr_sum_min")?,
            f("cue_ms")?,
        );
        for k in 0..b.num_rows() {
            by_kind
                .entry(kind.value(k).to_owned())
                .or_default()
                .entry((frac.value(k) * 1e6).round() as i64)
                .or_default()
                .push([
                    frac.value(k),
                    rec.value(k),
                    mse.value(k),
                    cs.value(k),
                    cs_min.value(k),
                    ms.value(k),
                ]);
        }
    }
    Ok(RecallGroups { by_kind })
}

fn finish(run: &RunDir) -> anyhow::Result<()> {
    use elise_plot::{Figure, Lines, Panel, Series};
    let groups = read_recall(run)?;
    let series = |m: usize| -> Vec<Series> {
        groups
            .by_kind
            .iter()
            .map(|(kind, by_x)| {
                let (xs, ys) = by_x
                    .values()
                    .map(|rows| {
                        let v: Vec<f64> = rows.iter().map(|r| r[m]).collect();
                        (rows[0][0], median(&v))
                    })
                    .unzip();
                Series {
                    label: format!("cue: first {kind}"),
                    xs,
                    ys,
                }
            })
            .collect()
    };
    let panel = |title: &str, y: &str, m: usize, hlines: Vec<(String, f64)>| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: "cued fraction of the cycle (states or visible neurons)".into(),
            y_label: y.into(),
            series: series(m),
            log_x: false,
            log_y: false,
            y_range: None,
            hlines,
        })
    };
    let fig = Figure {
        title: "exp-completion: recall from a cue after a reset to rest (median over seeds)".into(),
        panels: vec![
            panel(
                "Uncued part of the cue cycle",
                "recall = 1 - MSE / MSE at rest",
                1,
                vec![("perfect".into(), 1.0), ("rest".into(), 0.0)],
            ),
            panel("Uncued part of the cue cycle", "MSE", 2, vec![]),
            panel(
                "Free cycles after the cue (best shift)",
                "replay corr_sum",
                3,
                vec![("criterion 12".into(), 12.0)],
            ),
        ],
        n_cols: 3,
        panel_size: (560, 400),
    };
    elise_plot::save(&fig, &run.path().join("completion.png"))?;
    let mut s = String::from(
        "| cue | cued fraction | cue (ms) | seeds | median recall (uncued part) | median uncued MSE | median free corr_sum | seeds with free corr_sum >= 12 in every scored cycle |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (kind, by_x) in &groups.by_kind {
        for rows in by_x.values() {
            let med = |m: usize| median(&rows.iter().map(|r| r[m]).collect::<Vec<_>>());
            let ok = rows.iter().filter(|r| r[4] >= 12.0).count();
            s += &format!(
                "| first {kind} | {:.3} | {} | {} | {:.3} | {:.4} | {:.2} | {ok} |\n",
                rows[0][0],
                if kind == "states" {
                    format!("{}", rows[0][5])
                } else {
                    "whole cycle".to_owned()
                },
                rows.len(),
                med(1),
                med(2),
                med(3),
            );
        }
    }
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), s.as_bytes())?;
    Ok(())
}
