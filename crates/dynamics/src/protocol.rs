//! Training, validation and replay protocols (docs/model.md (g)) and their scores (docs/model.md (h)).
//!
//! Training runs cycles c = -1, 0, ..., TC-1 with the teacher on (lambda = 1), except cycles with
//! c mod PF == 0, which run free (lambda = 0) and are scored without time alignment. Replay
//! follows directly: the first `nudged_cycles` cycles nudged, the rest free; every free replay
//! cycle that has a following cycle is scored with the best window shift. Plasticity stays on
//! throughout, and the state is never reset. Rates are sampled every 2nd step.

use elise_core::{CycleScore, Model, ReplayScorer, Teacher};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::Path;

/// Steps between two recorded samples of an ELiSe network (every 0.2 ms at dt = 0.1 ms).
pub const SAMPLE_EVERY_STEPS: usize = 2;

/// The `[train]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Training cycles TC (plus one nudged warm-up cycle, c = -1).
    pub cycles: usize,
    /// PF: every PF-th cycle runs free and is scored.
    pub validate_every: usize,
    /// Training cycles per learning-rate epoch (0 = no schedule): after every `epoch_cycles`
    /// cycles (counted from cycle 0) the learning rates are multiplied by `lr_decay`
    /// ([`RateSchedule`]). The rates of a cycle apply to every weight update made in it.
    #[serde(default)]
    pub epoch_cycles: usize,
    /// Factor on the learning rates after each epoch (1 = constant rates).
    #[serde(default = "one")]
    pub lr_decay: f64,
    /// Whether plasticity stays on in the free validation cycles (true, as in the CUDA code) or
    /// is switched off there (the lab fork's v3 protocol).
    #[serde(default = "yes")]
    pub validation_plasticity: bool,
    /// Lock-in (0 = off): once the free validation corr_sum per visible neuron, averaged over
    /// the last `lock_in_window` validation cycles, reaches this and their mean MSE is at most
    /// `lock_in_mse`, both learning rates are multiplied by `lock_in_decay` from the next cycle
    /// on, for the rest of training and replay (on top of the epoch schedule).
    #[serde(default)]
    pub lock_in_corr: f64,
    /// Lock-in: the largest mean validation MSE over the window.
    #[serde(default = "lock_in_mse")]
    pub lock_in_mse: f64,
    /// Lock-in: validation cycles averaged.
    #[serde(default = "lock_in_window")]
    pub lock_in_window: usize,
    /// Lock-in: factor on both learning rates once locked in.
    #[serde(default = "lock_in_decay")]
    pub lock_in_decay: f64,
    /// Lock-in: end training at the validation cycle that locks in (early stopping); replay
    /// follows with the rates of that cycle's epoch times `lock_in_decay`.
    #[serde(default)]
    pub lock_in_stop: bool,
}

fn one() -> f64 {
    1.0
}

const fn lock_in_mse() -> f64 {
    0.01
}

const fn lock_in_window() -> usize {
    5
}

const fn lock_in_decay() -> f64 {
    0.1
}

fn yes() -> bool {
    true
}

impl TrainConfig {
    /// The paper's protocol (MODEL.md (g)): `cycles` training cycles, every `validate_every`-th
    /// free and scored with plasticity on, constant learning rates.
    pub const fn paper(cycles: usize, validate_every: usize) -> Self {
        Self {
            cycles,
            validate_every,
            epoch_cycles: 0,
            lr_decay: 1.0,
            validation_plasticity: true,
            lock_in_corr: 0.0,
            lock_in_mse: lock_in_mse(),
            lock_in_window: lock_in_window(),
            lock_in_decay: lock_in_decay(),
            lock_in_stop: false,
        }
    }

    /// Whether training cycle `c` is a free validation cycle (c >= 0, c mod PF = 0).
    pub fn is_validation(&self, c: i64) -> bool {
        c >= 0 && self.validate_every > 0 && c % self.validate_every as i64 == 0
    }

    /// Whether the learning rates change during training (an epoch length and a decay other
    /// than 1).
    pub fn has_rate_schedule(&self) -> bool {
        self.epoch_cycles > 0 && self.lr_decay != 1.0
    }

    /// Epochs completed before training cycle `c` (the warm-up cycle -1 belongs to epoch 0);
    /// `c = cycles` gives the epochs completed by the end of training (the rates of replay).
    pub fn epoch_of(&self, c: i64) -> u64 {
        if self.epoch_cycles == 0 || c <= 0 {
            0
        } else {
            c as u64 / self.epoch_cycles as u64
        }
    }

    /// Whether a lock-in can change the run: a threshold, and a factor on the rates other than
    /// 1 or the stop at the lock-in.
    pub fn has_lock_in(&self) -> bool {
        self.lock_in_corr > 0.0 && (self.lock_in_decay != 1.0 || self.lock_in_stop)
    }

    /// The validation cycle after which the network locks in: the first validation point whose
    /// window (it and the `lock_in_window - 1` before it) has a mean corr_sum per visible
    /// neuron >= `lock_in_corr` and a mean MSE <= `lock_in_mse`. None without lock-in or when
    /// no window qualifies (a silent network's NaN scores never do).
    pub fn lock_in_cycle(&self, validation: &[CurvePoint], n_visible: usize) -> Option<i64> {
        let w = self.lock_in_window.max(1);
        if !self.has_lock_in() || validation.len() < w || n_visible == 0 {
            return None;
        }
        validation.windows(w).find_map(|win| {
            let corr = win.iter().map(|p| p.corr_sum).sum::<f64>() / (w * n_visible) as f64;
            let mse = win.iter().map(|p| p.mse).sum::<f64>() / w as f64;
            (corr >= self.lock_in_corr && mse <= self.lock_in_mse).then(|| win[w - 1].cycle)
        })
    }

    /// The factor on the learning rates in epoch `epoch`: `lr_decay` multiplied `epoch` times
    /// (the same bits however the epoch was reached, e.g. after a checkpoint).
    pub fn rate_factor(&self, epoch: u64) -> f64 {
        let mut f = 1.0;
        for _ in 0..epoch {
            f *= self.lr_decay;
        }
        f
    }
}

/// Applies the learning-rate schedule and the validation plasticity of a [`TrainConfig`] to an
/// ELiSe network, cycle by cycle: call [`RateSchedule::before_cycle`] before every training
/// cycle (e.g. from the hook of [`Protocol::train_from`]) and [`RateSchedule::finish`] after
/// training. With the defaults (no schedule, plasticity on in validation) it never touches
/// the network, so results are bit-identical to a run without it. Rates are set absolutely
/// (base rates x [`TrainConfig::rate_factor`]), so a run resumed from a checkpoint (whose
/// network is rebuilt with the base rates) continues bit for bit.
#[derive(Clone, Debug)]
pub struct RateSchedule {
    train: TrainConfig,
    base: elise_plasticity::LearningRates,
    /// The (epoch, locked in) whose rates the network has (None = not set yet: the base rates).
    state: Option<(u64, bool)>,
    /// The validation cycle after which the network locked in ([`TrainConfig::lock_in_cycle`]).
    locked_at: Option<i64>,
    /// Validation points examined by [`RateSchedule::observe`].
    seen: usize,
}

impl RateSchedule {
    /// The schedule of `train` for a network built with the learning rates `base`.
    pub fn new(train: &TrainConfig, base: &elise_plasticity::LearningRates) -> Self {
        Self {
            train: train.clone(),
            base: base.clone(),
            state: None,
            locked_at: None,
            seen: 0,
        }
    }

    /// The schedule of a run that continues after the validation scores `validation` (a
    /// resumed checkpoint, a held network trained in pieces; empty for a fresh run): it has
    /// looked for the lock-in in them ([`RateSchedule::observe`]).
    pub fn resumed(
        train: &TrainConfig,
        base: &elise_plasticity::LearningRates,
        validation: &[CurvePoint],
        n_visible: usize,
    ) -> Self {
        let mut s = Self::new(train, base);
        s.observe(validation, n_visible);
        s
    }

    /// Looks for the lock-in in the validation scores so far (call it after every training
    /// cycle, and before the first one with the scores a resumed run starts from): the same
    /// scores give the same lock-in, however the run was split.
    pub fn observe(&mut self, validation: &[CurvePoint], n_visible: usize) {
        if self.locked_at.is_some() || validation.len() <= self.seen {
            return;
        }
        // Only the windows ending at a point not seen before: the others were checked.
        let from = self
            .seen
            .saturating_sub(self.train.lock_in_window.max(1) - 1);
        self.locked_at = self.train.lock_in_cycle(&validation[from..], n_visible);
        self.seen = validation.len();
    }

    /// The validation cycle after which the network locked in, if it has.
    pub fn locked_at(&self) -> Option<i64> {
        self.locked_at
    }

    /// Whether training is over before the scheduled end: the network locked in and
    /// `lock_in_stop` is set. Training ended after the lock-in cycle, so the run's training
    /// cycles are [`RateSchedule::cycles_run`].
    pub fn stops(&self) -> bool {
        self.train.lock_in_stop && self.locked_at.is_some()
    }

    /// [`RateSchedule::stops`] as the verdict of a `train_from` `after_cycle` hook.
    pub fn flow(&self) -> ControlFlow<()> {
        if self.stops() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// Training cycles run (from cycle 0) when training ends: after the lock-in cycle when the
    /// schedule stops there, else `scheduled`.
    pub fn cycles_run(&self, scheduled: usize) -> usize {
        match self.locked_at {
            Some(at) if self.train.lock_in_stop => ((at + 1).max(0) as usize).min(scheduled),
            _ => scheduled,
        }
    }

    /// The learning rates of epoch `epoch`.
    pub fn rates(&self, epoch: u64) -> elise_plasticity::LearningRates {
        let f = self.train.rate_factor(epoch);
        self.scaled(f)
    }

    fn scaled(&self, f: f64) -> elise_plasticity::LearningRates {
        elise_plasticity::LearningRates {
            eta_vv: self.base.eta_vv * f,
            eta_other: self.base.eta_other * f,
            error_dead_zone: self.base.error_dead_zone,
        }
    }

    /// Before training cycle `c`: switches plasticity off for a validation cycle (and on again
    /// after it) when `validation_plasticity` is false, and gives the network the rates of
    /// the cycle's epoch when they changed.
    pub fn before_cycle(&mut self, net: &mut crate::Network, c: i64) {
        if !self.train.validation_plasticity {
            net.set_learning(!self.train.is_validation(c));
        }
        let locked = self.locked_at.is_some_and(|l| l < c);
        self.set_rates(net, self.train.epoch_of(c), locked);
    }

    /// After training (`cycles` = the training cycles run): plasticity on (replay learns, as
    /// in the paper) and the rates of the epochs completed (decayed after the last full epoch).
    pub fn finish(&mut self, net: &mut crate::Network, cycles: usize) {
        if !self.train.validation_plasticity {
            net.set_learning(true);
        }
        let locked = self.locked_at.is_some();
        self.set_rates(net, self.train.epoch_of(cycles as i64), locked);
    }

    /// Gives the network the rates of `epoch` (x `lock_in_decay` once locked in) when they
    /// differ from those it has.
    fn set_rates(&mut self, net: &mut crate::Network, epoch: u64, locked: bool) {
        let changes = self.train.has_rate_schedule()
            || (self.train.has_lock_in() && self.train.lock_in_decay != 1.0);
        if !changes || self.state == Some((epoch, locked)) {
            return;
        }
        self.state = Some((epoch, locked));
        let lock = if locked {
            self.train.lock_in_decay
        } else {
            1.0
        };
        let rates = self.scaled(self.train.rate_factor(epoch) * lock);
        net.set_learning_rates(&rates);
    }
}

/// The `[replay]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayConfig {
    /// Replay cycles RC.
    pub cycles: usize,
    /// Leading replay cycles that are still nudged.
    pub nudged_cycles: usize,
    /// Disruption file (docs/model.md (j)); "" for none.
    pub disruption_file: String,
    /// Replay cycle in which the disruption is applied.
    pub disruption_cycle: usize,
}

/// Which part of a run a cycle belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Validation,
    Replay,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Validation => "validation",
            Phase::Replay => "replay",
        }
    }
}

/// The score of one cycle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub phase: Phase,
    pub cycle: i64,
    pub mse: f64,
    pub corr_sum: f64,
}

/// One line of a disruption file: visible neurons `[nrn_start, nrn_end)` are held during
/// in-cycle steps `[t_start, t_end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisruptionLine {
    pub t_start: usize,
    pub t_end: usize,
    pub nrn_start: usize,
    pub nrn_end: usize,
}

/// A disruption: up to 5 lines; held somas sit at E_L + `offset_mv` (the offset of the last line
/// read applies to all lines, as in the CUDA code).
#[derive(Clone, Debug, PartialEq)]
pub struct Disruption {
    pub lines: Vec<DisruptionLine>,
    pub offset_mv: f64,
}

/// Largest disruption file read (1 MiB; a disruption has up to 5 short lines).
pub const MAX_DISRUPTION_FILE_BYTES: u64 = 1 << 20;

/// A rejected disruption file.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{source_name}:{line}: {problem}")]
pub struct DisruptionError {
    pub source_name: String,
    pub line: usize,
    pub problem: String,
}

impl Disruption {
    /// Reads and parses a disruption file (for tools and tests: experiments get their files from
    /// the harness and use [`Disruption::from_bytes`]).
    pub fn load(path: &Path) -> Result<Self, DisruptionError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| DisruptionError {
            source_name: name.clone(),
            line: 0,
            problem: format!("cannot read disruption file: {e}"),
        })?;
        Self::from_bytes(&bytes, &name)
    }

    /// Parses the bytes of a disruption file (at most [`MAX_DISRUPTION_FILE_BYTES`], UTF-8);
    /// `source_name` names the input in errors.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Self, DisruptionError> {
        let whole = |problem: String| DisruptionError {
            source_name: source_name.to_owned(),
            line: 0,
            problem,
        };
        if bytes.len() as u64 > MAX_DISRUPTION_FILE_BYTES {
            return Err(whole(format!(
                "larger than {} MiB: not a disruption file (up to 5 short lines)",
                MAX_DISRUPTION_FILE_BYTES >> 20
            )));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| whole("not UTF-8 text".to_owned()))?;
        Self::parse(text, source_name)
    }

    /// Parses lines `t_start: A t_end: B nrn_start: C nrn_end: D offset_el: E`.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, DisruptionError> {
        let err = |line, problem: String| DisruptionError {
            source_name: source_name.to_owned(),
            line,
            problem,
        };
        let mut lines = Vec::new();
        let mut offset_mv = 0.0;
        for (k, raw) in text.lines().enumerate() {
            let line_no = k + 1;
            if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                continue;
            }
            let toks: Vec<&str> = raw.split_whitespace().collect();
            const KEYS: [&str; 5] = ["t_start:", "t_end:", "nrn_start:", "nrn_end:", "offset_el:"];
            if toks.len() != 10 || toks.iter().step_by(2).zip(KEYS).any(|(a, b)| *a != b) {
                return Err(err(
                    line_no,
                    "expected `t_start: A t_end: B nrn_start: C nrn_end: D offset_el: E`".into(),
                ));
            }
            let int = |idx: usize| -> Result<usize, DisruptionError> {
                toks[idx].parse().map_err(|_| {
                    err(
                        line_no,
                        format!(
                            "{} {:?} is not a non-negative whole number",
                            toks[idx - 1],
                            toks[idx]
                        ),
                    )
                })
            };
            let l = DisruptionLine {
                t_start: int(1)?,
                t_end: int(3)?,
                nrn_start: int(5)?,
                nrn_end: int(7)?,
            };
            if l.t_start >= l.t_end || l.nrn_start >= l.nrn_end {
                return Err(err(
                    line_no,
                    "empty range: need t_start < t_end and nrn_start < nrn_end".into(),
                ));
            }
            offset_mv = toks[9]
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| {
                    err(
                        line_no,
                        format!("offset_el: {:?} is not a finite number (mV)", toks[9]),
                    )
                })?;
            lines.push(l);
            if lines.len() > 5 {
                return Err(err(line_no, "more than 5 disruption lines".into()));
            }
        }
        if lines.is_empty() {
            return Err(err(0, "no disruption lines".into()));
        }
        Ok(Self { lines, offset_mv })
    }

    /// Checks the ranges against the pattern: steps within the cycle, neurons visible.
    pub fn check_fits(&self, cycle_len_steps: usize, n_visible: usize) -> Result<(), String> {
        for (k, l) in self.lines.iter().enumerate() {
            if l.t_end > cycle_len_steps {
                return Err(format!(
                    "line {}: t_end = {} is beyond the cycle length {cycle_len_steps} steps",
                    k + 1,
                    l.t_end
                ));
            }
            if l.nrn_end > n_visible {
                return Err(format!(
                    "line {}: nrn_end = {} is beyond the {n_visible} visible neurons",
                    k + 1,
                    l.nrn_end
                ));
            }
        }
        Ok(())
    }
}

/// Why a protocol run stopped.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProtocolError {
    #[error("the model diverged (non-finite state) in {} cycle {cycle}", phase.as_str())]
    Diverged { phase: Phase, cycle: i64 },
    #[error(
        "this model cannot be disrupted (it has no soma to clamp); remove replay.disruption_file"
    )]
    ClampUnsupported,
    /// A caller's check after a cycle failed (see [`Protocol::train_from`]).
    #[error("stopped after {} cycle {cycle}: {problem}", match phase { Phase::Validation => "training", Phase::Replay => "replay" })]
    Stopped {
        phase: Phase,
        cycle: i64,
        problem: String,
    },
}

/// Scores and recordings of one run.
#[derive(Clone, Debug)]
pub struct ProtocolResult {
    pub validation: Vec<CurvePoint>,
    pub replay: Vec<CurvePoint>,
    /// Recorded samples per cycle (S).
    pub samples_per_cycle: usize,
    /// Model steps between two samples.
    pub sample_every_steps: usize,
    /// Target rates, neuron-major `[i * S + k]`.
    pub target: Vec<f64>,
    /// The last free validation cycle's outputs, neuron-major, and its cycle number.
    pub last_validation: Option<(i64, Vec<f64>)>,
    /// Outputs over all replay cycles, neuron-major `[i * (RC * S) + k]`.
    pub replay_rates: Vec<f64>,
    /// Model steps simulated.
    pub n_steps: u64,
}

impl ProtocolResult {
    /// The last validation point.
    pub fn final_validation(&self) -> Option<CurvePoint> {
        self.validation.last().copied()
    }
}

/// Records the outputs every `sample_every_steps` steps into a time-major buffer.
struct Recorder {
    n_visible: usize,
    samples: Vec<f64>,
}

impl Recorder {
    fn record(&mut self, model: &impl Model) {
        self.samples.extend_from_slice(model.output());
    }
    /// Neuron-major copy of the recorded samples.
    fn neuron_major(&self) -> Vec<f64> {
        let len = self.samples.len() / self.n_visible;
        let mut out = vec![0.0; self.samples.len()];
        for (k, row) in self.samples.chunks_exact(self.n_visible).enumerate() {
            for (i, &r) in row.iter().enumerate() {
                out[i * len + k] = r;
            }
        }
        out
    }
}

/// A training and replay protocol (docs/model.md (g)) for any [`Model`].
#[derive(Clone, Copy, Debug)]
pub struct Protocol<'a> {
    pub train: &'a TrainConfig,
    pub replay: &'a ReplayConfig,
    /// Applied in replay cycle `replay.disruption_cycle`.
    pub disruption: Option<&'a Disruption>,
    /// Model steps between two recorded samples ([`SAMPLE_EVERY_STEPS`] for ELiSe).
    pub sample_every_steps: usize,
}

impl Protocol<'_> {
    /// Runs one cycle with teacher presence `lambda`; records outputs if `rec` is given.
    fn cycle<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        lambda: f64,
        mut rec: Option<&mut Recorder>,
        disruption: Option<&Disruption>,
    ) {
        for t in 0..teacher.cycle_len_steps() {
            if let Some(d) = disruption {
                model.clear_clamp();
                for l in d.lines.iter().filter(|l| (l.t_start..l.t_end).contains(&t)) {
                    model.clamp_outputs(l.nrn_start..l.nrn_end, e_leak_mv + d.offset_mv);
                }
            }
            model.step(t, lambda);
            if t % self.sample_every_steps == 0
                && let Some(r) = rec.as_deref_mut()
            {
                r.record(model);
            }
        }
        if disruption.is_some() {
            model.clear_clamp();
        }
    }

    /// Target rates at the sampling points (neuron-major) and their scorer.
    fn scorer(&self, teacher: &Teacher) -> (Vec<f64>, ReplayScorer, usize) {
        let n_vis = teacher.n_visible();
        let s_len = teacher.cycle_len_steps().div_ceil(self.sample_every_steps);
        let mut target = vec![0.0; n_vis * s_len];
        for k in 0..s_len {
            for (i, &r) in teacher
                .target_rate(k * self.sample_every_steps)
                .iter()
                .enumerate()
            {
                target[i * s_len + k] = r;
            }
        }
        let scorer = ReplayScorer::new(&target, n_vis, s_len);
        (target, scorer, s_len)
    }

    fn check<M: Model>(model: &M, phase: Phase, cycle: i64) -> Result<(), ProtocolError> {
        if model.is_finite() {
            Ok(())
        } else {
            Err(ProtocolError::Diverged { phase, cycle })
        }
    }

    /// Trains `model` and replays. `teacher` is the model's teacher: its target rates are the
    /// scoring target; disruption clamps hold somas at `e_leak_mv + offset`. `on_cycle` is called
    /// after every simulated cycle.
    pub fn run<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        on_cycle: &mut dyn FnMut(),
    ) -> Result<ProtocolResult, ProtocolError> {
        let trained = self.train(model, teacher, e_leak_mv, on_cycle)?;
        self.replay(model, teacher, e_leak_mv, trained, on_cycle)
    }

    /// The training phase only (cycles -1 .. TC-1 with free validation cycles). The result has
    /// no replay yet; pass it to [`Protocol::replay`], possibly several times from clones of the
    /// trained model (branching, e.g. one replay per disruption).
    pub fn train<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        on_cycle: &mut dyn FnMut(),
    ) -> Result<ProtocolResult, ProtocolError> {
        self.train_with(model, teacher, e_leak_mv, &mut |_, _| {}, on_cycle)
    }

    /// [`Protocol::train`] with `before_cycle(model, c)` called before every training cycle c
    /// (-1 .. TC-1), e.g. to give the model a fresh noisy tutor. `teacher` stays the scoring
    /// target.
    pub fn train_with<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        before_cycle: &mut dyn FnMut(&mut M, i64),
        on_cycle: &mut dyn FnMut(),
    ) -> Result<ProtocolResult, ProtocolError> {
        // One loop for every entry point: train_from from the start.
        self.train_from(
            model,
            teacher,
            e_leak_mv,
            TrainProgress::start(),
            before_cycle,
            &mut |_, _| Ok(ControlFlow::Continue(())),
            on_cycle,
        )
    }

    /// The replay phase after [`Protocol::train`]: `replay.nudged_cycles` nudged cycles, then
    /// free cycles, the disruption (if any) in `replay.disruption_cycle`; scores every free cycle
    /// that has a following cycle with the best shift.
    pub fn replay<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        trained: ProtocolResult,
        on_cycle: &mut dyn FnMut(),
    ) -> Result<ProtocolResult, ProtocolError> {
        let replay = self.replay;
        if self.disruption.is_some() && !model.supports_clamp() {
            return Err(ProtocolError::ClampUnsupported);
        }
        let n_vis = model.n_outputs();
        let cycle_len = teacher.cycle_len_steps();
        let (_, scorer, s_len) = self.scorer(teacher);
        let mut rec = Recorder {
            n_visible: n_vis,
            samples: Vec::with_capacity(n_vis * s_len * replay.cycles),
        };
        let mut n_steps = trained.n_steps;
        for c in 0..replay.cycles {
            let lambda = if c < replay.nudged_cycles { 1.0 } else { 0.0 };
            let d = self.disruption.filter(|_| c == replay.disruption_cycle);
            self.cycle(model, teacher, e_leak_mv, lambda, Some(&mut rec), d);
            n_steps += cycle_len as u64;
            Self::check(model, Phase::Replay, c as i64)?;
            on_cycle();
        }
        let replay_rates = rec.neuron_major();
        let replay_curve = best_shift_curve(
            &scorer,
            &replay_rates,
            replay.cycles,
            replay.nudged_cycles..replay.cycles.saturating_sub(1),
        );
        Ok(ProtocolResult {
            replay: replay_curve,
            replay_rates,
            n_steps,
            ..trained
        })
    }
}

/// Best-shift replay scores of `cycles` (each with its following cycle) of `rates`
/// (neuron-major, `n_cycles` recorded cycles of the scorer's S samples).
pub fn best_shift_curve(
    scorer: &ReplayScorer,
    rates: &[f64],
    n_cycles: usize,
    cycles: std::ops::Range<usize>,
) -> Vec<CurvePoint> {
    let (n_vis, s_len) = (scorer.n_neurons(), scorer.n_samples());
    let total = n_cycles * s_len;
    let mut window = vec![0.0; n_vis * 2 * s_len];
    let mut curve = Vec::new();
    for c in cycles {
        for i in 0..n_vis {
            let src = &rates[i * total + c * s_len..i * total + (c + 2) * s_len];
            window[i * 2 * s_len..(i + 1) * 2 * s_len].copy_from_slice(src);
        }
        let CycleScore { mse, corr_sum } = scorer.score_best_shift(&window, 2 * s_len);
        curve.push(CurvePoint {
            phase: Phase::Replay,
            cycle: c as i64,
            mse,
            corr_sum,
        });
    }
    curve
}

/// What the somas outside the cue do in the cue cycle of a cued recall
/// ([`Protocol::cued_recall_with`]): config value `"free"` or `"self"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Uncued {
    /// Not nudged at all (teacher conductances 0): exactly free.
    #[default]
    #[serde(rename = "free")]
    Free,
    /// Nudged towards their own current potential (the lab fork).
    #[serde(rename = "self")]
    SelfNudged,
}

/// What a cued recall recorded: the cue cycle and the free cycles after it.
#[derive(Clone, Debug)]
pub struct CuedRecall {
    /// Recorded samples per cycle (S).
    pub samples_per_cycle: usize,
    /// Outputs over the cue cycle and the free cycles, neuron-major `[i * (C * S) + k]`.
    pub rates: Vec<f64>,
    /// Best-shift scores of the free cycles that have a following cycle (cycle 1 = the first
    /// free cycle after the cue cycle 0).
    pub free: Vec<CurvePoint>,
}

impl Protocol<'_> {
    /// Cued recall (pattern completion): resets `net` to rest ([`crate::Network::reset_to_rest`]),
    /// runs one nudged cycle with the teacher `cue` (a [`Teacher::cue_only`] copy of the clean
    /// teacher: it nudges only the cued neurons and steps; the others run free), restores the
    /// network's own teacher and runs `free_cycles` free cycles. Plasticity stays as it is (on,
    /// as everywhere). `clean` is the scoring target.
    pub fn cued_recall(
        &self,
        net: &mut crate::Network,
        clean: &Teacher,
        cue: Teacher,
        free_cycles: usize,
    ) -> Result<CuedRecall, ProtocolError> {
        self.cued_recall_inner(net, clean, cue, free_cycles, None)
    }

    /// [`Protocol::cued_recall`] with a choice for the somas that the cue leaves out
    /// (`cued(t, i)` false, the predicate the cue teacher was made with): [`Uncued::Free`]
    /// as `cued_recall`, or [`Uncued::SelfNudged`] (the lab fork's v3 completion): in every
    /// step of the cue cycle their teacher target is their own potential U before the step,
    /// so they are nudged (lambda = 1) towards where they are. In the step of MODEL.md (a) the
    /// nudging term is then `G (Um - U) = 0` up to rounding: no bias, the soma runs free.
    pub fn cued_recall_with(
        &self,
        net: &mut crate::Network,
        clean: &Teacher,
        cue: Teacher,
        cued: &dyn Fn(usize, usize) -> bool,
        uncued: Uncued,
        free_cycles: usize,
    ) -> Result<CuedRecall, ProtocolError> {
        let hook = match uncued {
            Uncued::Free => None,
            Uncued::SelfNudged => Some(cued),
        };
        self.cued_recall_inner(net, clean, cue, free_cycles, hook)
    }

    fn cued_recall_inner(
        &self,
        net: &mut crate::Network,
        clean: &Teacher,
        cue: Teacher,
        free_cycles: usize,
        uncued: Option<&dyn Fn(usize, usize) -> bool>,
    ) -> Result<CuedRecall, ProtocolError> {
        let n_vis = net.n_visible();
        let (_, scorer, s_len) = self.scorer(clean);
        let e_leak_mv = net.params().e_leak_mv;
        let mut rec = Recorder {
            n_visible: n_vis,
            samples: Vec::with_capacity(n_vis * s_len * (free_cycles + 1)),
        };
        net.reset_to_rest();
        let own = net
            .set_teacher(cue)
            .expect("the cue is a copy of the network's teacher");
        match uncued {
            None => self.cycle(net, clean, e_leak_mv, 1.0, Some(&mut rec), None),
            Some(cued) => {
                // Self-nudging: before each step, the uncued somas' target is their own U.
                for t in 0..clean.cycle_len_steps() {
                    for i in 0..n_vis {
                        if !cued(t, i) {
                            let u = net.u()[i];
                            net.set_teacher_target(t, i, u);
                        }
                    }
                    net.step(t, 1.0);
                    if t % self.sample_every_steps == 0 {
                        rec.record(net);
                    }
                }
            }
        }
        net.set_teacher(own).expect("own teacher");
        Self::check(net, Phase::Replay, 0)?;
        for c in 1..=free_cycles {
            self.cycle(net, clean, e_leak_mv, 0.0, Some(&mut rec), None);
            Self::check(net, Phase::Replay, c as i64)?;
        }
        let rates = rec.neuron_major();
        let free = best_shift_curve(&scorer, &rates, free_cycles + 1, 1..free_cycles);
        Ok(CuedRecall {
            samples_per_cycle: s_len,
            rates,
            free,
        })
    }
}

/// How far a training run got: what [`Protocol::train_from`] needs to continue it exactly (with
/// the model's state), e.g. from a checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainProgress {
    /// The next training cycle to run (-1 = the warm-up cycle, `train.cycles` = done).
    pub next_cycle: i64,
    /// Validation points so far.
    pub validation: Vec<CurvePoint>,
    /// The last free validation cycle's outputs (neuron-major) and its cycle number.
    pub last_validation: Option<(i64, Vec<f64>)>,
    /// Model steps simulated so far.
    pub n_steps: u64,
}

impl TrainProgress {
    /// Before the warm-up cycle.
    pub fn start() -> Self {
        Self {
            next_cycle: -1,
            validation: Vec::new(),
            last_validation: None,
            n_steps: 0,
        }
    }

    /// Cycles run so far, the warm-up cycle included.
    pub fn cycles_done(&self) -> u64 {
        (self.next_cycle + 1).max(0) as u64
    }
}

/// The `after_cycle` hook of [`Protocol::train_from`]: `Err` stops the run with an error,
/// `Ok(ControlFlow::Break(()))` ends training after this cycle.
pub type AfterCycle<'a, M> = dyn FnMut(&M, &TrainProgress) -> Result<ControlFlow<()>, String> + 'a;

impl Protocol<'_> {
    /// [`Protocol::train`] continued from `progress` (which must come with the model state it
    /// was taken with; [`TrainProgress::start`] for a fresh model), with hooks: `before_cycle(model,
    /// c)` before every cycle c, and `after_cycle(model, progress)` after it (after the
    /// finiteness check and `on_cycle`), where `progress.next_cycle` is already c + 1. An `Err`
    /// from `after_cycle` (e.g. a runaway check, or a checkpoint that cannot be written) stops
    /// the run with [`ProtocolError::Stopped`] naming the cycle; `Ok(ControlFlow::Break(()))`
    /// ends training there (early stopping, e.g. at a lock-in). Continuing from the progress
    /// and state of cycle c gives bit for bit the result of the uninterrupted run.
    #[allow(clippy::too_many_arguments)]
    pub fn train_from<M: Model>(
        &self,
        model: &mut M,
        teacher: &Teacher,
        e_leak_mv: f64,
        mut progress: TrainProgress,
        before_cycle: &mut dyn FnMut(&mut M, i64),
        after_cycle: &mut AfterCycle<'_, M>,
        on_cycle: &mut dyn FnMut(),
    ) -> Result<ProtocolResult, ProtocolError> {
        let train = self.train;
        assert!(
            train.validate_every > 0 && self.sample_every_steps > 0,
            "validate_every and sample_every_steps must be positive"
        );
        let n_vis = model.n_outputs();
        assert_eq!(n_vis, teacher.n_visible(), "model outputs vs teacher units");
        let cycle_len = teacher.cycle_len_steps();
        let (target, scorer, s_len) = self.scorer(teacher);
        let mut rec = Recorder {
            n_visible: n_vis,
            samples: Vec::with_capacity(n_vis * s_len),
        };
        for c in progress.next_cycle.max(-1)..train.cycles as i64 {
            before_cycle(model, c);
            if c >= 0 && c % train.validate_every as i64 == 0 {
                rec.samples.clear();
                self.cycle(model, teacher, e_leak_mv, 0.0, Some(&mut rec), None);
                let rates = rec.neuron_major();
                let CycleScore { mse, corr_sum } = scorer.score_aligned(&rates);
                progress.validation.push(CurvePoint {
                    phase: Phase::Validation,
                    cycle: c,
                    mse,
                    corr_sum,
                });
                progress.last_validation = Some((c, rates));
            } else {
                self.cycle(model, teacher, e_leak_mv, 1.0, None, None);
            }
            progress.n_steps += cycle_len as u64;
            progress.next_cycle = c + 1;
            Self::check(model, Phase::Validation, c)?;
            on_cycle();
            let flow = after_cycle(model, &progress).map_err(|problem| ProtocolError::Stopped {
                phase: Phase::Validation,
                cycle: c,
                problem,
            })?;
            if flow.is_break() {
                break;
            }
        }
        Ok(ProtocolResult {
            validation: progress.validation,
            replay: Vec::new(),
            samples_per_cycle: s_len,
            sample_every_steps: self.sample_every_steps,
            target,
            last_validation: progress.last_validation,
            replay_rates: Vec::new(),
            n_steps: progress.n_steps,
        })
    }
}

/// Trains and replays an ELiSe network with the default sampling (every 2nd step).
pub fn train_and_replay(
    net: &mut crate::Network,
    train: &TrainConfig,
    replay: &ReplayConfig,
    disruption: Option<&Disruption>,
    on_cycle: &mut dyn FnMut(),
) -> Result<ProtocolResult, ProtocolError> {
    let teacher = net.teacher().clone();
    let e_leak_mv = net.params().e_leak_mv;
    Protocol {
        train,
        replay,
        disruption,
        sample_every_steps: SAMPLE_EVERY_STEPS,
    }
    .run(net, &teacher, e_leak_mv, on_cycle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disruption_bytes_are_bounded_and_utf8() {
        let d = Disruption::from_bytes(
            b"t_start: 0 t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: 3\n",
            "d.txt",
        )
        .unwrap();
        assert_eq!(d.lines.len(), 1);
        let e = Disruption::from_bytes(&[0xff], "d.txt").unwrap_err();
        assert_eq!(e.to_string(), "d.txt:0: not UTF-8 text");
        let big = vec![b'#'; MAX_DISRUPTION_FILE_BYTES as usize + 1];
        let e = Disruption::from_bytes(&big, "d.txt").unwrap_err();
        assert!(e.problem.contains("larger than 1 MiB"), "{e}");
    }

    #[test]
    fn disruption_files_of_the_spec_parse() {
        let d = Disruption::parse(
            "t_start: 900 t_end: 1500 nrn_start: 0 nrn_end: 13 offset_el: 15\n",
            "small_offset",
        )
        .unwrap();
        assert_eq!(
            d.lines,
            vec![DisruptionLine {
                t_start: 900,
                t_end: 1500,
                nrn_start: 0,
                nrn_end: 13
            }]
        );
        assert_eq!(d.offset_mv, 15.0);
        assert!(d.check_fits(2500, 13).is_ok());
        assert!(d.check_fits(1000, 13).unwrap_err().contains("t_end = 1500"));
        assert!(d.check_fits(2500, 7).unwrap_err().contains("nrn_end = 13"));
        let two = Disruption::parse("t_start: 0 t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: 3\nt_start: 5 t_end: 9 nrn_start: 1 nrn_end: 2 offset_el: -4\n", "x").unwrap();
        assert_eq!(two.offset_mv, -4.0);
        for (bad, needle) in [
            (
                "t_start: 5 t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: 0",
                "empty range",
            ),
            (
                "t_start: a t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: 0",
                "t_start: \"a\"",
            ),
            (
                "t_begin: 0 t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: 0",
                "expected",
            ),
            (
                "t_start: 0 t_end: 5 nrn_start: 0 nrn_end: 2 offset_el: nan",
                "finite",
            ),
            ("", "no disruption lines"),
        ] {
            let e = Disruption::parse(bad, "f.txt").unwrap_err();
            assert!(e.to_string().contains(needle), "{e}");
        }
    }
}
