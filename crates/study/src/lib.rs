//! Shared pieces of ELiSe experiments: the standard config, one job (build, train, replay), its Parquet tables and figures.
//!
//! One job = one network (one seed): the demo protocol of docs/model.md (g) — training with a free
//! validation cycle every PF cycles, then replay with the first cycles nudged — scored as in
//! docs/model.md (h). Tables per job: `runs` (one row: parameters and final scores), `curves` (one
//! row per validation and scored replay cycle) and `traces` (visible and target rates of the
//! last validation cycle and of every replay cycle, every 2nd step). Experiments
//! (`exp-birdsong`, `exp-reservoir`, ...) are thin: a name, a default config (the keys of
//! [`Config`]) and a figure.

pub mod checkpointing;
pub mod columns;
mod config_text;
pub mod figure;
pub mod limits;
pub mod network;
pub mod record;
pub mod sweep_figure;
pub mod tables;

use anyhow::Context;
use elise_core::{Inputs, NeuronParams, Pattern, PatternConfig, Seed, Teacher};
use elise_dynamics::protocol::{
    self, Disruption, MAX_DISRUPTION_FILE_BYTES, Protocol, SAMPLE_EVERY_STEPS, TrainProgress,
};
use elise_dynamics::{
    ConnectivityKind, Mode, Network, NetworkConfig, NetworkSpec, ReplayConfig, TrainConfig,
};
pub use elise_plasticity::LearningRates;
pub use elise_scaffold::ScaffoldParams;
use elise_sweep::{
    ConfigError, InputFile, Job, JobOutput, Progress, check_at_least, check_bounds, check_positive,
    check_range,
};
use serde::{Deserialize, Serialize};
use std::ops::Bound::{Excluded, Included};
use std::time::Instant;

/// The `[run]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub seeds: usize,
    pub base_seed: u64,
    /// Save each job's training state every this many training cycles (0 = never); a killed
    /// job resumes from it ([`checkpointing`]).
    #[serde(default)]
    pub checkpoint_every: u64,
    /// A checkpoint file to load a trained network from and replay, instead of training ("" =
    /// train); an input file of the run.
    #[serde(default)]
    pub from_checkpoint: String,
    /// Save every trained network to `<run dir>/networks/job-<index>.ckpt` (an output file of
    /// the job, written by the harness).
    #[serde(default)]
    pub save_trained: bool,
}

/// The `[output]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputConfig {
    pub traces: bool,
    /// Quantities recorded for every neuron in the chosen replay cycles (table `record`;
    /// [`record`]); empty = off.
    #[serde(default)]
    pub record: Vec<String>,
    /// Replay cycles recorded (0-based).
    #[serde(default)]
    pub record_cycles: Vec<u64>,
    /// Record every this many steps.
    #[serde(default = "one")]
    pub record_every: u64,
    /// Write each trained network's weights and scaffold as MatrixMarket files
    /// (`networks/job-<index>-weights.mtx`, `-scaffold.mtx`).
    #[serde(default)]
    pub export: bool,
}

fn one() -> u64 {
    1
}

/// The config of an ELiSe experiment (see `experiments/birdsong/configs/default.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub run: RunConfig,
    pub pattern: PatternConfig,
    pub network: NetworkConfig,
    pub scaffold: ScaffoldParams,
    pub plasticity: LearningRates,
    pub neuron: NeuronParams,
    pub train: TrainConfig,
    pub replay: ReplayConfig,
    pub output: OutputConfig,
}

/// Largest network the step's dense matrices (two N x N f64, 1 GiB at this size) may reach:
/// latent neurons, and visible plus latent neurons.
const MAX_LATENT: usize = 8192;
const MAX_NEURONS: usize = 8192;

/// Everything one job computed.
pub struct JobResult {
    pub pattern: Pattern,
    /// `elise`, `elise-reservoir`, `elise-soma-only`, `esn` or `force`.
    pub method: String,
    /// Which replay branch of a trained network (a disruption's name; "" for a plain replay).
    pub branch: String,
    /// Neurons in the model (visible + latent for ELiSe, reservoir size for the baselines).
    pub n_neurons: usize,
    /// ELiSe latent neurons (0 for the baselines).
    pub n_latent: usize,
    /// The scaffold (ELiSe only): edges, latent neurons reached, degree histograms.
    pub scaffold: Option<elise_scaffold::Scaffold>,
    pub n_plastic: usize,
    pub protocol: protocol::ProtocolResult,
    pub wall_seconds: f64,
}

/// The method name of an ELiSe mode.
pub fn elise_method(mode: Mode) -> &'static str {
    match mode {
        Mode::Elise => "elise",
        Mode::Reservoir => "elise-reservoir",
        Mode::SomaOnly => "elise-soma-only",
    }
}

/// Builds the network of `seed`, trains it and replays (the pure core of a job), with the
/// config's disruption file if any. Input files (pattern, disruption, `run.from_checkpoint`)
/// come from `inputs` ([`input_files`]).
pub fn simulate(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<JobResult> {
    simulate_with(
        cfg,
        inputs,
        seed,
        &checkpointing::JobFiles::default(),
        on_cycle,
    )
}

/// [`simulate`] with the job's checkpoints ([`train_job`]).
pub fn simulate_with(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    files: &checkpointing::JobFiles,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<JobResult> {
    let disruption = load_disruption(cfg, inputs)?;
    let label = if disruption.is_some() {
        cfg.replay.disruption_file.clone()
    } else {
        String::new()
    };
    let mut results =
        simulate_branches_with(cfg, inputs, seed, &[(label, disruption)], files, on_cycle)?;
    Ok(results.remove(0))
}

/// Builds the network of `seed` and trains it once, then replays a clone of the trained network
/// for each branch `(label, disruption)` (applied in replay cycle `replay.disruption_cycle`).
/// The training curve is shared by all branches; wall time and steps count each branch's own
/// replay plus the shared training.
pub fn simulate_branches(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    branches: &[(String, Option<Disruption>)],
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<Vec<JobResult>> {
    simulate_branches_with(
        cfg,
        inputs,
        seed,
        branches,
        &checkpointing::JobFiles::default(),
        on_cycle,
    )
}

/// [`simulate_branches`] with the job's checkpoints ([`train_job`]); each replay's final state
/// is checked for a numerical blow-up.
pub fn simulate_branches_with(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    branches: &[(String, Option<Disruption>)],
    files: &checkpointing::JobFiles,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<Vec<JobResult>> {
    let trained = train_job(cfg, inputs, seed, files, on_cycle)?;
    let mut results = Vec::with_capacity(branches.len());
    for (label, disruption) in branches {
        let (result, _) = replay_branch(
            cfg,
            &trained,
            seed,
            label,
            disruption.as_ref(),
            None,
            on_cycle,
        )?;
        results.push(result);
    }
    Ok(results)
}

/// Replays a clone of `trained` as the branch `label` (with `disruption` applied in replay cycle
/// `replay.disruption_cycle`), recording `plan`'s quantities if given (recording only reads the
/// state: the same bits as without), and checks the final state for a numerical blow-up.
pub fn replay_branch(
    cfg: &Config,
    trained: &Trained,
    seed: Seed,
    label: &str,
    disruption: Option<&Disruption>,
    plan: Option<&record::RecordPlan>,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<(JobResult, Option<record::Recording>)> {
    let branch_start = Instant::now();
    let mut branch = trained.net.clone();
    let protocol = Protocol {
        disruption,
        ..trained.protocol(cfg)
    };
    let (e_leak, start) = (cfg.neuron.e_leak_mv, trained.result.clone());
    let (result, recording) = match plan {
        Some(plan) => {
            let mut model = record::Recorded::new(&mut branch, plan, &trained.teacher);
            let r = protocol.replay(&mut model, &trained.teacher, e_leak, start, on_cycle);
            (r, Some(model.into_recording()))
        }
        None => (
            protocol.replay(&mut branch, &trained.teacher, e_leak, start, on_cycle),
            None,
        ),
    };
    let result = result.with_context(|| format!("seed {}, branch {label:?}", seed.0))?;
    branch
        .health(checkpointing::RUNAWAY_MV)
        .map_err(|e| {
            anyhow::anyhow!(
                "numerical blow-up at the end of replay cycle {}: {e}",
                cfg.replay.cycles.saturating_sub(1)
            )
        })
        .with_context(|| format!("seed {}, branch {label:?}; {}", seed.0, param_summary(cfg)))?;
    Ok((trained.job_result(label, result, branch_start), recording))
}

/// A network trained by [`train`], ready to be replayed (possibly several times from clones).
pub struct Trained {
    /// `elise`, `elise-reservoir` or `elise-soma-only`.
    pub method: &'static str,
    pub pattern: Pattern,
    /// The clean teacher: the scoring target and the network's teacher after training.
    pub teacher: Teacher,
    pub net: Network,
    pub n_latent: usize,
    pub scaffold: elise_scaffold::Scaffold,
    pub n_plastic: usize,
    /// The training part of the protocol result (no replay yet).
    pub result: protocol::ProtocolResult,
    pub train_seconds: f64,
}

impl Trained {
    /// The protocol of `cfg` without a disruption.
    pub fn protocol<'a>(&self, cfg: &'a Config) -> Protocol<'a> {
        Protocol {
            train: &cfg.train,
            replay: &cfg.replay,
            disruption: None,
            sample_every_steps: SAMPLE_EVERY_STEPS,
        }
    }

    /// The job result of one replay branch that started at `branch_start`.
    pub fn job_result(
        &self,
        label: &str,
        result: protocol::ProtocolResult,
        branch_start: Instant,
    ) -> JobResult {
        JobResult {
            pattern: self.pattern.clone(),
            method: self.method.to_owned(),
            branch: label.to_owned(),
            n_neurons: self.net.n_neurons(),
            n_latent: self.n_latent,
            scaffold: Some(self.scaffold.clone()),
            n_plastic: self.n_plastic,
            protocol: result,
            wall_seconds: self.train_seconds + branch_start.elapsed().as_secs_f64(),
        }
    }
}

/// The noisy tutor (`pattern.tutor_noise_sigma_mv > 0`): before every training cycle the
/// network gets the clean teacher plus the next cycle of one continuous Ornstein-Uhlenbeck
/// process per visible neuron (stream "tutor-noise"), so every cycle sees a new realisation.
struct TutorNoise {
    ou: elise_core::OuProcess,
    noise: Vec<f64>,
    spare: Option<Teacher>,
    params: NeuronParams,
}

impl TutorNoise {
    fn new(cfg: &Config, teacher: &Teacher, seed: Seed) -> Option<Self> {
        let p = &cfg.pattern;
        p.noisy_tutor().then(|| Self {
            ou: elise_core::OuProcess::new(
                teacher.n_visible(),
                p.tutor_noise_sigma_mv,
                p.tutor_noise_tau_ms,
                cfg.neuron.dt_ms,
                seed.stream("tutor-noise"),
            ),
            noise: vec![0.0; teacher.n_visible() * teacher.cycle_len_steps()],
            spare: Some(teacher.clone()),
            params: cfg.neuron.clone(),
        })
    }

    /// Gives `net` the next cycle's noisy teacher (no allocation after the first cycle).
    fn next_cycle(&mut self, net: &mut Network, clean: &Teacher) {
        self.ou.fill(&mut self.noise);
        let mut t = self.spare.take().expect("spare teacher");
        t.set_noisy_from(clean, &self.noise, &self.params);
        self.spare = Some(net.set_teacher(t).expect("same shape"));
    }
}

/// Builds the network of `seed` and trains it (the training part of the protocol, with the
/// noisy tutor if configured); the trained network has the clean teacher.
pub fn train(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<Trained> {
    train_job(
        cfg,
        inputs,
        seed,
        &checkpointing::JobFiles::default(),
        on_cycle,
    )
}

/// The main config values of a job, for error messages.
fn param_summary(cfg: &Config) -> String {
    format!(
        "network.n_latent={} network.mode={} network.weight_init_std={} plasticity.eta_vv={} plasticity.eta_other={} scaffold.p={} scaffold.q={} neuron.dt_ms={}",
        cfg.network.n_latent,
        elise_method(cfg.network.mode),
        cfg.network.weight_init_std,
        cfg.plasticity.eta_vv,
        cfg.plasticity.eta_other,
        cfg.scaffold.p,
        cfg.scaffold.q,
        cfg.neuron.dt_ms
    )
}

/// The pattern of a config and its (clean) teacher.
pub(crate) fn pattern_and_teacher(
    cfg: &Config,
    inputs: &Inputs,
) -> anyhow::Result<(Pattern, Teacher)> {
    let pattern = cfg.pattern.load(inputs)?;
    let steps_per_state = cfg
        .pattern
        .steps_per_state(cfg.neuron.dt_ms)
        .map_err(anyhow::Error::msg)?;
    let teacher = Teacher::new(&pattern, &cfg.neuron, steps_per_state);
    Ok((pattern, teacher))
}

/// What a job builds before simulating: the pattern, its teacher and the network's spec (the
/// scaffold and every random draw of `seed`), from the config and the input files.
pub(crate) fn job_parts(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
) -> anyhow::Result<(Pattern, Teacher, NetworkSpec)> {
    let (pattern, teacher) = pattern_and_teacher(cfg, inputs)?;
    let spec = NetworkSpec::generate(
        pattern.n_neurons(),
        &cfg.network,
        &cfg.scaffold,
        &cfg.neuron,
        seed,
    )?;
    Ok((pattern, teacher, spec))
}

/// [`train`] with checkpoints ([`checkpointing`]): resumes from the job's saved checkpoint or
/// `run.from_checkpoint` if present, saves every `files.every` cycles, keeps the trained
/// network (`run.save_trained`) in `files`, and stops with an error naming the cycle and the
/// parameters when the network blows up (checked once per cycle).
pub fn train_job(
    cfg: &Config,
    inputs: &Inputs,
    seed: Seed,
    files: &checkpointing::JobFiles,
    on_cycle: &mut dyn FnMut(),
) -> anyhow::Result<Trained> {
    let start = Instant::now();
    let (pattern, teacher, spec) = job_parts(cfg, inputs, seed)?;
    let mut noise = TutorNoise::new(cfg, &teacher, seed);
    let own = match files.store() {
        Some(store) => match store.saved() {
            Some(bytes) => checkpointing::load_own(&bytes, store, cfg, seed)?,
            None => None,
        },
        None => None,
    };
    let foreign = !cfg.run.from_checkpoint.is_empty();
    let ckpt = match own {
        Some(c) => Some(c),
        None if foreign => {
            Some(checkpointing::load_foreign(cfg, inputs).map_err(anyhow::Error::msg)?)
        }
        None => None,
    };
    let (mut net, progress) = match &ckpt {
        Some(c) => checkpointing::restore(c, &spec, cfg, &teacher, noise.as_mut())?,
        None => (
            Network::new(&spec, &cfg.neuron, &cfg.plasticity, teacher.clone())?,
            TrainProgress::start(),
        ),
    };
    if ckpt.is_some() {
        tracing::info!(
            "seed {}: resuming from a checkpoint after training cycle {} of {}",
            seed.0,
            progress.next_cycle - 1,
            cfg.train.cycles
        );
    }
    drop(ckpt);
    let n_plastic = net.n_plastic();
    for _ in 0..progress.cycles_done() {
        on_cycle();
    }
    // A loaded network is only replayed: its training ends where it was saved.
    let train_cfg = if foreign {
        TrainConfig {
            cycles: progress.next_cycle.max(0) as usize,
            ..cfg.train.clone()
        }
    } else {
        cfg.train.clone()
    };
    let protocol = Protocol {
        train: &train_cfg,
        replay: &cfg.replay,
        disruption: None,
        sample_every_steps: SAMPLE_EVERY_STEPS,
    };
    let total = train_cfg.cycles as i64;
    // The schedule sees every cycle's validation scores (for its lock-in) and sets the rates
    // before the next cycle; a resumed run starts from the scores it was saved with.
    let n_visible = net.n_visible();
    let schedule = std::cell::RefCell::new(elise_dynamics::RateSchedule::resumed(
        &train_cfg,
        &cfg.plasticity,
        &progress.validation,
        n_visible,
    ));
    // A run resumed after its lock-in stop (train.lock_in_stop) trains no further.
    let stopped_before = schedule.borrow().stops();
    let result = protocol
        .train_from(
            &mut net,
            &teacher,
            cfg.neuron.e_leak_mv,
            if stopped_before {
                TrainProgress {
                    next_cycle: total,
                    ..progress
                }
            } else {
                progress
            },
            &mut |net, c| {
                schedule.borrow_mut().before_cycle(net, c);
                if let Some(n) = noise.as_mut() {
                    n.next_cycle(net, &teacher);
                }
            },
            &mut |net, p| {
                schedule.borrow_mut().observe(&p.validation, n_visible);
                net.health(checkpointing::RUNAWAY_MV)
                    .map_err(|e| format!("numerical blow-up: {e}"))?;
                if let Some(store) = files.store()
                    && files.every() > 0
                    && p.cycles_done() % files.every() == 0
                    && p.next_cycle < total
                {
                    checkpointing::make(cfg, seed, net, p)
                        .and_then(|c| store.save(&c.to_bytes()))
                        .map_err(|e| format!("cannot write the checkpoint: {e:#}"))?;
                }
                Ok(schedule.borrow().flow())
            },
            on_cycle,
        )
        .with_context(|| format!("seed {}; {}", seed.0, param_summary(cfg)))?;
    // Training ends early at a lock-in stop: the skipped cycles still count as done work.
    let mut schedule = schedule.into_inner();
    let ran = schedule.cycles_run(train_cfg.cycles);
    for _ in ran..train_cfg.cycles {
        on_cycle();
    }
    // Replay learns (plasticity on) with the rates the schedule reached.
    schedule.finish(&mut net, ran);
    if noise.is_some() {
        net.set_teacher(teacher.clone())?;
    }
    if !foreign && (files.store().is_some() || files.save_trained()) {
        let done = TrainProgress {
            next_cycle: ran as i64,
            validation: result.validation.clone(),
            last_validation: result.last_validation.clone(),
            n_steps: result.n_steps,
        };
        let bytes = checkpointing::make(cfg, seed, &net, &done)?.to_bytes();
        if let Some(store) = files.store() {
            store.save(&bytes)?;
        }
        if files.save_trained() {
            files.keep_trained(bytes);
        }
    }
    Ok(Trained {
        method: elise_method(cfg.network.mode),
        pattern,
        teacher,
        net,
        n_latent: spec.n_latent,
        scaffold: spec.scaffold,
        n_plastic,
        result,
        train_seconds: start.elapsed().as_secs_f64(),
    })
}

/// The jobs of an ELiSe run: one per seed, or with `run.from_checkpoint` one job, the saved
/// network, with the seed it was built from (an unusable file is reported by `validate`).
pub fn jobs(cfg: &Config, inputs: &Inputs) -> Vec<Job> {
    let path = &cfg.run.from_checkpoint;
    if path.is_empty() {
        return elise_sweep::replicate_jobs(cfg.run.seeds, cfg.run.base_seed);
    }
    let seed = inputs
        .get(path)
        .and_then(|b| elise_dynamics::checkpoint::Checkpoint::from_bytes(b, path).ok())
        .and_then(|c| checkpointing::seed_of(&c))
        .unwrap_or(cfg.run.base_seed);
    elise_sweep::replicate_jobs(1, seed)
}

/// Work units (simulated cycles) of one job, for the progress bar.
pub fn work_units(cfg: &Config) -> u64 {
    (cfg.train.cycles + 1 + cfg.replay.cycles) as u64
}

/// One ELiSe job: simulate and tabulate (and the trained network as an output file with
/// `run.save_trained`).
pub fn run_job(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
) -> anyhow::Result<JobOutput> {
    if record::wanted(cfg) {
        return record::run_job(cfg, job, inputs, progress);
    }
    run_job_with_branches(cfg, job, inputs, progress, |_, _, _| Ok(Vec::new()))
}

/// [`run_job`] with extra branches scored from the job's result ([`BranchesFn`]): the result
/// (as `branches` left it) gives every table, each extra branch its `runs` and `curves` rows.
pub fn run_job_with_branches(
    cfg: &Config,
    job: &Job,
    inputs: &Inputs,
    progress: &Progress,
    branches: BranchesFn,
) -> anyhow::Result<JobOutput> {
    let files = checkpointing::JobFiles::of(cfg, progress);
    let mut result = simulate_with(cfg, inputs, Seed(job.seed), &files, &mut || progress.inc(1))?;
    let extra = branches(cfg, inputs, &mut result)?;
    let mut out = tables::job_output(cfg, cfg.output.traces, job, &result)?;
    for r in &extra {
        out.push("runs", tables::runs(cfg, job, r)?);
        out.push("curves", tables::curves(job, r)?);
    }
    files.add_saved_network(job, &mut out);
    Ok(out)
}

/// The disruption of `replay.disruption_file`, from `inputs` (`None` without one).
pub fn load_disruption(cfg: &Config, inputs: &Inputs) -> anyhow::Result<Option<Disruption>> {
    let path = &cfg.replay.disruption_file;
    if path.is_empty() {
        return Ok(None);
    }
    let bytes = inputs.require(path).map_err(anyhow::Error::msg)?;
    Ok(Some(Disruption::from_bytes(bytes, path)?))
}

/// The input files of the pattern keys (`pattern.file`, `pattern.annotation_file`,
/// `pattern.second_file`; built-in pattern names are not files).
pub fn pattern_input_files(p: &PatternConfig) -> Vec<InputFile> {
    p.input_files()
        .into_iter()
        .map(|(key, path, max)| {
            let what = if key == "pattern.annotation_file" {
                "a syllable annotation table (CSV with the columns onset,offset,label)"
            } else {
                "a pattern file (a header line `# name: NAME nNeurons: V nSteps: S`, then V rows of S values 0 or 1)"
            };
            InputFile::new(key, path, max, what)
        })
        .collect()
}

/// The input files `cfg` names: the pattern files, `replay.disruption_file` and
/// `run.from_checkpoint` (read by the harness when the run is planned; see
/// `elise_sweep::Experiment::input_files`).
pub fn input_files(cfg: &Config) -> Vec<InputFile> {
    let mut files = pattern_input_files(&cfg.pattern);
    if !cfg.replay.disruption_file.is_empty() {
        files.push(InputFile::new(
            "replay.disruption_file",
            &cfg.replay.disruption_file,
            MAX_DISRUPTION_FILE_BYTES,
            "a disruption file (lines `t_start: A t_end: B nrn_start: C nrn_end: D offset_el: E`)",
        ));
    }
    if !cfg.run.from_checkpoint.is_empty() {
        files.push(InputFile::new(
            "run.from_checkpoint",
            &cfg.run.from_checkpoint,
            checkpointing::max_checkpoint_bytes(cfg),
            "an elise-lab checkpoint of a network of this config (saved with run.save_trained)",
        ));
    }
    files
}

/// Range and consistency checks of a [`Config`] with its input files; errors name the dotted
/// key.
pub fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
    check_range("run.seeds", cfg.run.seeds, 1, 100_000)?;
    record::validate(cfg)?;
    // dt first: the pattern's steps per state divide by it.
    check_bounds(
        "neuron.dt_ms",
        cfg.neuron.dt_ms,
        Excluded(0.0),
        Included(1.0),
    )?;
    let pc = &cfg.pattern;
    check_bounds(
        "pattern.annotation_step_ms",
        pc.annotation_step_ms,
        Excluded(0.0),
        Included(1e5),
    )?;
    check_range("pattern.silence_states", pc.silence_states, 0, 100_000)?;
    check_bounds(
        "pattern.amplitude_min",
        pc.amplitude_min,
        Excluded(0.0),
        Included(elise_core::pattern::MAX_AMPLITUDE),
    )?;
    check_bounds(
        "pattern.amplitude_max",
        pc.amplitude_max,
        Included(pc.amplitude_min),
        Included(elise_core::pattern::MAX_AMPLITUDE),
    )?;
    check_range("pattern.mute_states", pc.mute_states, 0, 100_000)?;
    check_range(
        "pattern.tutor_noise_sigma_mv",
        pc.tutor_noise_sigma_mv,
        0.0,
        100.0,
    )?;
    check_bounds(
        "pattern.tutor_noise_tau_ms",
        pc.tutor_noise_tau_ms,
        Excluded(0.0),
        Included(1e6),
    )?;
    let pattern = cfg.pattern.load(inputs).map_err(|e| {
        // Variant errors name their key (source `pattern.silence_at`, no line): show the key
        // once; file errors keep `file:line: problem` under the key that named the file.
        let variant = [
            "pattern.annotation_file",
            "pattern.second_file",
            "pattern.silence_at",
            "pattern.mute_at",
            "pattern.amplitude_min",
            "pattern.annotation_step_ms",
        ]
        .into_iter()
        .find(|k| e.source_name == *k && e.line == 0);
        match variant {
            Some(key) => ConfigError::invalid(key, e.problem),
            None if pc.annotation_file.is_empty() => {
                ConfigError::invalid("pattern.file", e.to_string())
            }
            None => ConfigError::invalid("pattern.annotation_file", e.to_string()),
        }
    })?;
    check_positive("pattern.state_ms", cfg.pattern.state_ms)?;
    let steps_per_state = cfg
        .pattern
        .steps_per_state(cfg.neuron.dt_ms)
        .map_err(|m| ConfigError::invalid("pattern.state_ms", m))?;

    let net = &cfg.network;
    check_range("network.n_latent", net.n_latent, 0, MAX_LATENT)?;
    check_pattern_learnable(cfg, &pattern)?;
    check_range("network.density", net.density, 0.0, 1.0)?;
    check_range("network.innervation_ratio", net.innervation_ratio, 0.0, 1.0)?;
    check_range("network.weight_init_mean", net.weight_init_mean, -1e3, 1e3)?;
    check_range("network.weight_init_std", net.weight_init_std, 0.0, 1e3)?;
    check_at_least(
        "network.delay_min_ms",
        net.delay_min_ms,
        2.0 * cfg.neuron.dt_ms,
    )?;
    check_range(
        "network.delay_max_ms",
        net.delay_max_ms,
        net.delay_min_ms,
        1000.0,
    )?;
    check_range(
        "network.inh_extra_delay_ms",
        net.inh_extra_delay_ms,
        0.0,
        1000.0,
    )?;
    if net.connectivity != ConnectivityKind::Sparse && (net.density != 1.0 || net.protect_scaffold)
    {
        return Err(ConfigError::invalid(
            "network.density",
            "density and protect_scaffold apply only with network.connectivity = \"sparse\"",
        ));
    }
    if net.connectivity != ConnectivityKind::Innervation && net.innervation_ratio != 1.0 {
        return Err(ConfigError::invalid(
            "network.innervation_ratio",
            "applies only with network.connectivity = \"innervation\"",
        ));
    }
    if net.mode == Mode::SomaOnly && net.connectivity != ConnectivityKind::AllToAll {
        return Err(ConfigError::invalid(
            "network.connectivity",
            "soma-only networks use all-to-all connectivity onto visible neurons",
        ));
    }

    let sc = &cfg.scaffold;
    check_bounds("scaffold.p", sc.p, Included(0.0), Excluded(1.0))?;
    check_bounds("scaffold.q", sc.q, Excluded(0.0), Included(1.0))?;
    check_range("scaffold.p0", sc.p0, 0.0, 1.0)?;
    check_range("scaffold.max_in_degree", sc.max_in_degree, 1, 1000)?;

    check_range("plasticity.eta_vv", cfg.plasticity.eta_vv, 0.0, 1.0)?;
    check_range("plasticity.eta_other", cfg.plasticity.eta_other, 0.0, 1.0)?;
    check_bounds(
        "plasticity.error_dead_zone",
        cfg.plasticity.error_dead_zone,
        Included(0.0),
        Excluded(1.0),
    )?;

    let n = &cfg.neuron;
    check_bounds("neuron.dt_ms", n.dt_ms, Excluded(0.0), Included(1.0))?;
    for (key, v) in [
        ("neuron.e_leak_mv", n.e_leak_mv),
        ("neuron.e_inh_mv", n.e_inh_mv),
        ("neuron.phi_mid_mv", n.phi_mid_mv),
    ] {
        check_range(key, v, -200.0, 200.0)?;
    }
    for (key, v) in [
        ("neuron.g_leak", n.g_leak),
        ("neuron.g_den", n.g_den),
        ("neuron.phi_slope_per_mv", n.phi_slope_per_mv),
    ] {
        check_bounds(key, v, Excluded(0.0), Included(1e3))?;
    }
    check_range("neuron.g_exc0", n.g_exc0, 0.0, 1e3)?;
    check_range("neuron.g_inh0", n.g_inh0, 0.0, 1e3)?;
    check_bounds("neuron.nudging", n.nudging, Included(0.0), Excluded(1.0))?;
    if n.e_inh_mv >= 0.0 {
        return Err(ConfigError::invalid(
            "neuron.e_inh_mv",
            "the teacher needs an inhibitory reversal below 0 mV",
        ));
    }

    check_range("train.cycles", cfg.train.cycles, 0, 10_000_000)?;
    check_range(
        "train.validate_every",
        cfg.train.validate_every,
        1,
        10_000_000,
    )?;
    check_range("train.epoch_cycles", cfg.train.epoch_cycles, 0, 10_000_000)?;
    check_bounds(
        "train.lr_decay",
        cfg.train.lr_decay,
        Excluded(0.0),
        Included(1.0),
    )?;
    if cfg.train.lr_decay != 1.0 && cfg.train.epoch_cycles == 0 {
        return Err(ConfigError::invalid(
            "train.lr_decay",
            "a decay needs epochs: set train.epoch_cycles (training cycles per epoch) above 0",
        ));
    }
    let t = &cfg.train;
    check_range("train.lock_in_corr", t.lock_in_corr, 0.0, 1.0)?;
    check_bounds(
        "train.lock_in_mse",
        t.lock_in_mse,
        Excluded(0.0),
        Included(1.0),
    )?;
    check_range("train.lock_in_window", t.lock_in_window, 1, 1000)?;
    check_bounds(
        "train.lock_in_decay",
        t.lock_in_decay,
        Excluded(0.0),
        Included(1.0),
    )?;
    if t.lock_in_stop && t.lock_in_corr == 0.0 {
        return Err(ConfigError::invalid(
            "train.lock_in_stop",
            "a stop at the lock-in needs a lock-in: set train.lock_in_corr above 0",
        ));
    }
    let r = &cfg.replay;
    check_range("replay.cycles", r.cycles, r.nudged_cycles + 2, 10_000_000)
        .map_err(|e| ConfigError::invalid("replay.cycles", format!("{e}; at least nudged_cycles + 2 = {} so that one free cycle with a following cycle is scored", r.nudged_cycles + 2)))?;
    if let Some(d) = load_disruption(cfg, inputs)
        .map_err(|e| ConfigError::invalid("replay.disruption_file", format!("{e:#}")))?
    {
        check_range(
            "replay.disruption_cycle",
            r.disruption_cycle,
            0,
            r.cycles - 1,
        )?;
        d.check_fits(steps_per_state * pattern.n_states(), pattern.n_neurons())
            .map_err(|m| {
                ConfigError::invalid(
                    "replay.disruption_file",
                    format!("{}: {m}", r.disruption_file),
                )
            })?;
    }
    checkpointing::validate(cfg, inputs)?;
    Ok(())
}

/// The config key that named the pattern (for errors about its content).
fn pattern_key(cfg: &Config) -> &'static str {
    if cfg.pattern.annotation_file.is_empty() {
        "pattern.file"
    } else {
        "pattern.annotation_file"
    }
}

/// Refuses patterns no network can learn or hold, before anything runs: a single state (no
/// sequence), no note at all (nothing to learn), more neurons than a network may have.
fn check_pattern_learnable(cfg: &Config, pattern: &Pattern) -> Result<(), ConfigError> {
    let key = pattern_key(cfg);
    if pattern.n_states() < 2 {
        return Err(ConfigError::invalid(
            key,
            format!(
                "the pattern has {} state: a sequence needs at least 2 states",
                pattern.n_states()
            ),
        ));
    }
    if (0..pattern.n_neurons()).all(|i| pattern.row(i).iter().all(|&v| v == 0)) {
        return Err(ConfigError::invalid(
            key,
            "no neuron is ever on (every entry is 0): the pattern has nothing to learn",
        ));
    }
    if pattern.n_neurons() + cfg.network.n_latent > MAX_NEURONS {
        return Err(ConfigError::invalid(
            key,
            format!(
                "{} visible + {} latent neurons: a network has at most {MAX_NEURONS} neurons",
                pattern.n_neurons(),
                cfg.network.n_latent
            ),
        ));
    }
    Ok(())
}

/// Checks one job before anything runs: its scaffold (grown from the job's seed, as the job
/// will) must respect `scaffold.max_in_degree`, so that a pattern too large for the scaffold
/// is refused up front instead of failing every job.
pub fn check_job(cfg: &Config, job: &Job, inputs: &Inputs) -> Result<(), ConfigError> {
    if !cfg.run.from_checkpoint.is_empty() {
        return Ok(());
    }
    let Ok(pattern) = cfg.pattern.load(inputs) else {
        return Ok(()); // `validate` reported it
    };
    elise_scaffold::grow(
        pattern.n_neurons(),
        cfg.network.n_latent,
        &cfg.scaffold,
        &mut Seed(job.seed).stream("scaffold"),
    )
    .map(drop)
    .map_err(|e| ConfigError::invalid("scaffold.max_in_degree", format!("seed {}: {e}", job.seed)))
}

/// One job's peak memory, about (for the harness's check of the jobs that run at once); `None`
/// when the pattern cannot be loaded (`validate` reports that).
pub fn memory_need(cfg: &Config, inputs: &Inputs) -> Option<elise_sweep::limits::MemoryNeed> {
    let pattern = cfg.pattern.load(inputs).ok()?;
    let steps_per_state = cfg.pattern.steps_per_state(cfg.neuron.dt_ms).ok()?;
    Some(limits::memory_need(cfg, &pattern, steps_per_state))
}

/// The base config text (every key of [`Config`], the paper's demo run).
pub const BASE_CONFIG: &str = include_str!("../configs/base.toml");

/// An experiment's default config: [`BASE_CONFIG`] with the tables of `overrides` merged in key
/// by key (a key in `overrides` replaces the base value; `[axes]` entries and whole new tables,
/// for experiment-specific settings, are added). The text keeps every key's comment (see
/// `config_text`), so `--list` can show it.
///
/// # Panics
/// If either text is not valid TOML or `overrides` names a key that a base table lacks (a bug in
/// the experiment's embedded config, caught by its tests).
pub fn default_config_with(overrides: &str) -> String {
    config_text::merge(BASE_CONFIG, overrides)
}

/// The lab fork's v3 protocol as a config preset (`configs/v3.toml`; exp-completion has its own
/// copy with `completion.uncued = "self"`).
pub const V3_PRESET: &str = include_str!("../configs/v3.toml");

/// `base` with the tables of `over` merged in key by key (a key of `over` replaces the one of
/// `base`; new keys and tables are added): how `--config` layers over a default config, for
/// stacking config files (e.g. a smoke config over a preset).
///
/// # Panics
/// If either text is not valid TOML or a top-level value is not a table.
pub fn merge_config_texts(base: &str, over: &str) -> String {
    let mut base: toml::Table = base.parse().expect("base config is valid TOML");
    let over: toml::Table = over.parse().expect("config is valid TOML");
    for (section, values) in over {
        let values = values
            .as_table()
            .unwrap_or_else(|| panic!("[{section}] is not a table"))
            .clone();
        let target = base
            .entry(section.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            .as_table_mut()
            .unwrap_or_else(|| panic!("[{section}] is not a table"));
        target.extend(values);
    }
    toml::to_string(&base).expect("config serializes")
}

/// Runs `exp` in a temporary directory with the config `preset`, then `smoke` (a file), then
/// `extra` merged over it ([`merge_config_texts`]); a test helper for "the smoke config under
/// a preset". The merged file is written next to the run and removed with it.
///
/// # Panics
/// If a config cannot be read or written, or the run cannot start (it is a test helper).
#[doc(hidden)]
pub fn run_smoke_with_preset<E: elise_sweep::Experiment>(
    exp: &E,
    tag: &str,
    preset: &str,
    smoke: &str,
    extra: &str,
) -> (elise_sweep::RunSummary, elise_sweep::testing::TempRun) {
    let smoke_text = std::fs::read_to_string(smoke).expect("smoke config");
    let merged = merge_config_texts(&merge_config_texts(preset, &smoke_text), extra);
    let file = std::env::temp_dir().join(format!("elise-{tag}-{}.toml", std::process::id()));
    std::fs::write(&file, merged).expect("write the merged config");
    let path = file.display().to_string();
    let out = elise_sweep::testing::run_in_temp_dir(exp, tag, &["--config", &path]);
    let _ = std::fs::remove_file(&file);
    out
}

/// The smoke config `smoke` under the preset `preset` with epochs of 5 cycles (so that the
/// short smoke training decays its rates) runs `n_jobs` jobs, and its `runs` rows carry the
/// preset's protocol (lambda, delays, decay, plasticity off in validation). A test helper.
///
/// # Panics
/// On any failed check.
#[doc(hidden)]
pub fn check_smoke_with_preset<E: elise_sweep::Experiment>(
    exp: &E,
    tag: &str,
    preset: &str,
    smoke: &str,
    n_jobs: usize,
) -> elise_sweep::testing::TempRun {
    use elise_sweep::arrow_array::{BooleanArray, Float64Array};
    let (summary, tmp) =
        run_smoke_with_preset(exp, tag, preset, smoke, "[train]\nepoch_cycles = 5\n");
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, n_jobs);
    let mut rows = 0;
    for b in tmp.dir().read_table("runs").unwrap() {
        let f = |name| elise_sweep::column::<Float64Array>(&b, name).unwrap();
        let plastic =
            elise_sweep::column::<BooleanArray>(&b, "train_validation_plasticity").unwrap();
        for k in 0..b.num_rows() {
            assert_eq!(f("train_lr_decay").value(k), 0.98);
            assert_eq!(f("neuron_nudging").value(k), 0.7);
            assert_eq!(f("network_delay_max_ms").value(k), 25.0);
            assert!(!plastic.value(k));
            rows += 1;
        }
    }
    assert!(rows >= n_jobs, "{rows} runs rows for {n_jobs} jobs");
    tmp
}

/// Extra validation of a [`Study`] (after the shared checks of [`validate`]).
pub type CheckFn = fn(&Config, &Inputs) -> Result<(), ConfigError>;
/// Extra branches of a [`Study`]: called with each job's trained-and-replayed result (which it
/// may relabel), returns further results scored from it; each adds `runs` and `curves` rows.
pub type BranchesFn = fn(&Config, &Inputs, &mut JobResult) -> anyhow::Result<Vec<JobResult>>;
/// Figures and summaries of a [`Study`], drawn from a run's tables.
pub type FiguresFn = fn(&Config, &elise_sweep::RunDir) -> anyhow::Result<()>;

/// An ELiSe experiment whose jobs are the standard ELiSe job (one network per seed and grid
/// point; [`run_job`]), as a value: a name, overrides of [`BASE_CONFIG`], `--quick` overrides,
/// and optional hooks (an extra check, extra scored branches, figures). Each
/// `experiments/<name>/src/lib.rs` builds one:
///
/// ```ignore
/// Study::new("size", include_str!("../configs/paper.toml"))
///     .summary("Fig 2: replay quality against the number of latent neurons.")
///     .figures(|_cfg, run| elise_study::sweep_figure::finish_sweep(run, /* ... */))
/// ```
pub struct Study {
    name: &'static str,
    summary: &'static str,
    default_config: String,
    quick: Vec<(&'static str, &'static str)>,
    check: Option<CheckFn>,
    branches: Option<BranchesFn>,
    figures: Option<FiguresFn>,
}

impl Study {
    /// Experiment `name` (the binary is `exp-<name>`) with `overrides` of [`BASE_CONFIG`]
    /// (usually `include_str!("../configs/default.toml")`), merged by [`default_config_with`];
    /// `--quick` runs 2 seeds, 1000 training and 10 replay cycles.
    ///
    /// # Panics
    /// If `overrides` is not valid TOML or names a key the base config lacks (a bug in the
    /// experiment's embedded config, caught by its tests).
    pub fn new(name: &'static str, overrides: &str) -> Self {
        Self {
            name,
            summary: "",
            default_config: default_config_with(overrides),
            quick: vec![
                ("run.seeds", "2"),
                ("train.cycles", "1000"),
                ("replay.cycles", "10"),
            ],
            check: None,
            branches: None,
            figures: None,
        }
    }

    /// One line: what the experiment shows.
    #[must_use]
    pub fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// The `--quick` overrides (dotted key, TOML value text).
    #[must_use]
    pub fn quick(mut self, overrides: &[(&'static str, &'static str)]) -> Self {
        self.quick = overrides.to_vec();
        self
    }

    /// A check run after the shared [`validate`].
    #[must_use]
    pub fn check(mut self, check: CheckFn) -> Self {
        self.check = Some(check);
        self
    }

    /// Extra branches scored from each job's result ([`BranchesFn`]).
    #[must_use]
    pub fn branches(mut self, branches: BranchesFn) -> Self {
        self.branches = Some(branches);
        self
    }

    /// The figures and summaries drawn after the jobs (and by `collect` and `--redraw`).
    #[must_use]
    pub fn figures(mut self, figures: FiguresFn) -> Self {
        self.figures = Some(figures);
        self
    }
}

impl elise_sweep::Experiment for Study {
    type Config = Config;

    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn default_config(&self) -> &str {
        &self.default_config
    }
    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &self.quick
    }
    fn input_files(&self, cfg: &Config) -> Vec<InputFile> {
        input_files(cfg)
    }
    fn validate(&self, cfg: &Config, inputs: &Inputs) -> Result<(), ConfigError> {
        validate(cfg, inputs)?;
        self.check.map_or(Ok(()), |check| check(cfg, inputs))
    }
    fn jobs(&self, cfg: &Config, inputs: &Inputs) -> Vec<Job> {
        jobs(cfg, inputs)
    }
    fn work_units(&self, cfg: &Config, _job: &Job) -> u64 {
        work_units(cfg)
    }
    fn memory_need(
        &self,
        cfg: &Config,
        _job: &Job,
        inputs: &Inputs,
    ) -> Option<elise_sweep::limits::MemoryNeed> {
        memory_need(cfg, inputs)
    }
    fn check_job(&self, cfg: &Config, job: &Job, inputs: &Inputs) -> Result<(), ConfigError> {
        check_job(cfg, job, inputs)
    }
    fn max_checkpoint_bytes(&self, cfg: &Config) -> Option<u64> {
        checkpointing::checkpoint_limit(cfg)
    }
    fn run_job(
        &self,
        cfg: &Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        match self.branches {
            None => run_job(cfg, job, inputs, progress),
            Some(branches) => run_job_with_branches(cfg, job, inputs, progress, branches),
        }
    }
    fn finish(&self, cfg: &Config, run: &elise_sweep::RunDir) -> anyhow::Result<()> {
        self.figures.map_or(Ok(()), |figures| figures(cfg, run))
    }
}

/// Checks shared by the smoke tests of grid experiments: the run succeeds with `n_jobs` jobs,
/// one `runs` row per job, `swept_col` takes `n_values` distinct values, curves have validation
/// and replay rows, and `figure` (PNG, with its SVG) and `summary.md` are written. Returns
/// `summary.md`.
///
/// # Panics
/// On any failed check (it is a test helper).
pub fn check_smoke_grid<E: elise_sweep::Experiment>(
    exp: &E,
    tag: &str,
    config: &str,
    n_jobs: usize,
    swept_col: &str,
    n_values: usize,
    figure: &str,
) -> String {
    use elise_sweep::arrow_array::Array;
    let (summary, tmp) = elise_sweep::testing::run_in_temp_dir(exp, tag, &["--config", config]);
    assert!(summary.success(), "{summary:?}");
    assert_eq!(summary.n_ok, n_jobs);
    let runs = tmp.dir().read_table("runs").unwrap();
    assert_eq!(runs.iter().map(|b| b.num_rows()).sum::<usize>(), n_jobs);
    let mut values: Vec<String> = runs
        .iter()
        .map(|b| {
            format!(
                "{:?}",
                b.column_by_name(swept_col)
                    .expect("swept column")
                    .slice(0, 1)
            )
        })
        .collect();
    values.sort();
    values.dedup();
    assert_eq!(
        values.len(),
        n_values,
        "distinct values of {swept_col}: {values:?}"
    );
    let mut phases = Vec::new();
    for b in tmp.dir().read_table("curves").unwrap() {
        let p = elise_sweep::column::<elise_sweep::arrow_array::StringArray>(&b, "phase").unwrap();
        phases.extend((0..p.len()).map(|k| p.value(k).to_owned()));
    }
    assert!(phases.iter().any(|p| p == "validation") && phases.iter().any(|p| p == "replay"));
    assert!(tmp.path().join(figure).exists() && tmp.path().join("summary.md").exists());
    figure::check_figure_files(&tmp.path().join(figure));
    check_degrees_match_runs(&tmp.dir());
    std::fs::read_to_string(tmp.path().join("summary.md")).unwrap()
}

/// The `degrees` table agrees with `runs`: per job, sum(degree x neurons) over the in-degrees
/// and over the out-degrees both equal `scaffold_edges`, and the in-degree rows count every
/// latent neuron once.
#[doc(hidden)]
pub fn check_degrees_match_runs(run: &elise_sweep::RunDir) {
    use elise_sweep::arrow_array::{Array, StringArray, UInt32Array, UInt64Array};
    use std::collections::BTreeMap;
    let mut sums: BTreeMap<(u64, &str), (u64, u64)> = BTreeMap::new();
    let degrees = run.read_table("degrees").unwrap();
    let mut owned = Vec::new();
    for b in &degrees {
        let job = elise_sweep::column::<UInt64Array>(b, "job").unwrap();
        let kind = elise_sweep::column::<StringArray>(b, "kind").unwrap();
        let pop = elise_sweep::column::<StringArray>(b, "population").unwrap();
        let degree = elise_sweep::column::<UInt32Array>(b, "degree").unwrap();
        let neurons = elise_sweep::column::<UInt32Array>(b, "neurons").unwrap();
        for k in 0..b.num_rows() {
            owned.push((
                job.value(k),
                kind.value(k).to_owned(),
                pop.value(k).to_owned(),
                u64::from(degree.value(k)),
                u64::from(neurons.value(k)),
            ));
        }
    }
    let mut latent_counted: BTreeMap<u64, u64> = BTreeMap::new();
    for (job, kind, pop, degree, neurons) in &owned {
        let e = sums.entry((*job, kind.as_str())).or_default();
        e.0 += degree * neurons;
        if kind == "in" && pop == "latent" {
            *latent_counted.entry(*job).or_default() += neurons;
        }
    }
    let mut n_checked = 0;
    for b in run.read_table("runs").unwrap() {
        let job = elise_sweep::column::<UInt64Array>(&b, "job").unwrap();
        let edges = elise_sweep::column::<UInt64Array>(&b, "scaffold_edges").unwrap();
        let latent = elise_sweep::column::<UInt64Array>(&b, "n_latent").unwrap();
        for k in 0..b.num_rows() {
            if edges.is_null(k) {
                continue;
            }
            let j = job.value(k);
            // Without latent neurons there are no in-degree rows at all.
            let sum = |kind| sums.get(&(j, kind)).map_or(0, |s| s.0);
            assert_eq!(sum("in"), edges.value(k), "job {j}: in-degrees vs edges");
            assert_eq!(sum("out"), edges.value(k), "job {j}: out-degrees vs edges");
            assert!(sums.contains_key(&(j, "out")), "job {j}: no degrees rows");
            assert_eq!(
                latent_counted.get(&j).copied().unwrap_or(0),
                latent.value(k),
                "job {j}: latent neurons"
            );
            n_checked += 1;
        }
    }
    assert!(n_checked > 0, "no ELiSe job in the run");
}
