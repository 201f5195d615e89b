//! One ELiSe network held by a front end (the Python package's `el.Network`): built exactly as
//! a job builds it ([`crate::train_job`]: pattern, teacher, `NetworkSpec::generate` from the
//! seed, `Network::new`), trained in pieces with the job's protocol (training continued from
//! where it stopped gives the bits of one uninterrupted training), run for whole cycles with
//! or without the teacher while recording any quantity of every neuron, and saved or loaded
//! in the project's checkpoint format.

use anyhow::{Context as _, bail};
use elise_core::{Inputs, Pattern, Seed, Teacher};
use elise_dynamics::checkpoint::Checkpoint;
use elise_dynamics::protocol::{CurvePoint, Protocol, SAMPLE_EVERY_STEPS, TrainProgress};
use elise_dynamics::{Network, NetworkSpec, TrainConfig};

use crate::record::{Quantity, Recording};
use crate::{Config, checkpointing};

/// A network with its config, seed, pattern and training progress (see the module docs).
pub struct HeldNetwork {
    cfg: Config,
    seed: Seed,
    pattern: Pattern,
    teacher: Teacher,
    spec: NetworkSpec,
    net: Network,
    progress: TrainProgress,
}

/// What [`HeldNetwork`] cannot hold: a noisy tutor or a `run.from_checkpoint` config.
fn check_supported(cfg: &Config) -> anyhow::Result<()> {
    if cfg.pattern.noisy_tutor() {
        bail!(
            "pattern.tutor_noise_sigma_mv > 0 (the noisy tutor) is run by the experiments only (el.run), not by a held network"
        );
    }
    if !cfg.run.from_checkpoint.is_empty() {
        bail!("run.from_checkpoint: load a saved network with Network.load(path) instead");
    }
    Ok(())
}

impl HeldNetwork {
    /// The network a job of `cfg` builds for `seed` (before its warm-up cycle).
    pub fn build(cfg: &Config, inputs: &Inputs, seed: Seed) -> anyhow::Result<Self> {
        check_supported(cfg)?;
        let (pattern, teacher, spec) = crate::job_parts(cfg, inputs, seed)?;
        let net = Network::new(&spec, &cfg.neuron, &cfg.plasticity, teacher.clone())?;
        Ok(Self {
            cfg: cfg.clone(),
            seed,
            pattern,
            teacher,
            spec,
            net,
            progress: TrainProgress::start(),
        })
    }

    /// The network saved in `ckpt` (written by [`HeldNetwork::checkpoint`], a job's
    /// `run.checkpoint_every` or `run.save_trained`), for `cfg` = its recorded config (resolved
    /// by the caller, with its input files) and its recorded seed.
    pub fn from_checkpoint(
        cfg: &Config,
        inputs: &Inputs,
        ckpt: &Checkpoint,
    ) -> anyhow::Result<Self> {
        check_supported(cfg)?;
        let seed = checkpointing::seed_of(ckpt).context("the checkpoint records no seed")?;
        let (pattern, teacher, spec) = crate::job_parts(cfg, inputs, Seed(seed))?;
        let (mut net, progress) = checkpointing::restore(ckpt, &spec, cfg, &teacher, None)?;
        // The restored network has the base rates: give it those its schedule had reached.
        elise_dynamics::RateSchedule::resumed(
            &cfg.train,
            &cfg.plasticity,
            &progress.validation,
            net.n_visible(),
        )
        .finish(&mut net, progress.next_cycle.max(0) as usize);
        Ok(Self {
            cfg: cfg.clone(),
            seed: Seed(seed),
            pattern,
            teacher,
            spec,
            net,
            progress,
        })
    }

    /// The recorded config of a checkpoint (TOML text), to be resolved by the caller.
    pub fn checkpoint_config(ckpt: &Checkpoint) -> anyhow::Result<&str> {
        ckpt.meta("config")
            .context("the checkpoint records no config; was it written by elise-lab?")
    }

    /// This network as a checkpoint (config, seed, state and training progress).
    pub fn checkpoint(&self) -> anyhow::Result<Vec<u8>> {
        Ok(checkpointing::make(&self.cfg, self.seed, &self.net, &self.progress)?.to_bytes())
    }

    /// Trains `cycles` more cycles with the job's protocol (nudged cycles, a free validation
    /// cycle every `train.validate_every`; the first call starts with the job's warm-up cycle,
    /// so `train(n)` from a fresh network is a job's training with `train.cycles = n`).
    /// Returns the validation points of these cycles. Continuing in pieces gives the same bits.
    /// With `train.lock_in_stop`, training ends at the lock-in cycle, as a job's does; later
    /// calls train nothing and return no points.
    pub fn train(&mut self, cycles: usize) -> anyhow::Result<Vec<CurvePoint>> {
        let start = self.progress.next_cycle.max(-1);
        let end = if start < 0 {
            cycles as i64
        } else {
            start + cycles as i64
        };
        let train = TrainConfig {
            cycles: end.max(0) as usize,
            ..self.cfg.train.clone()
        };
        let protocol = Protocol {
            train: &train,
            replay: &self.cfg.replay,
            disruption: None,
            sample_every_steps: SAMPLE_EVERY_STEPS,
        };
        let before = self.progress.validation.len();
        // The job's learning-rate schedule (epochs, lock-in, validation plasticity): it sets
        // absolute rates from the cycle and the validation scores, so pieces give the same bits.
        let n_visible = self.net.n_visible();
        let schedule = std::cell::RefCell::new(elise_dynamics::RateSchedule::resumed(
            &train,
            &self.cfg.plasticity,
            &self.progress.validation,
            n_visible,
        ));
        // Stopped at its lock-in (train.lock_in_stop): a job trains no further, nor does this.
        if schedule.borrow().stops() {
            return Ok(Vec::new());
        }
        let result = protocol
            .train_from(
                &mut self.net,
                &self.teacher,
                self.cfg.neuron.e_leak_mv,
                self.progress.clone(),
                &mut |net, c| schedule.borrow_mut().before_cycle(net, c),
                &mut |net, p| {
                    let mut schedule = schedule.borrow_mut();
                    schedule.observe(&p.validation, n_visible);
                    net.health(checkpointing::RUNAWAY_MV)
                        .map_err(|e| format!("numerical blow-up: {e}"))?;
                    Ok(schedule.flow())
                },
                &mut || {},
            )
            .with_context(|| format!("seed {}", self.seed.0))?;
        // After training, as after a job's: plasticity on, the rates the schedule reached.
        let mut schedule = schedule.into_inner();
        let end = schedule.cycles_run(end.max(0) as usize) as i64;
        schedule.finish(&mut self.net, end as usize);
        self.progress = TrainProgress {
            next_cycle: end,
            validation: result.validation,
            last_validation: result.last_validation,
            n_steps: result.n_steps,
        };
        Ok(self.progress.validation[before..].to_vec())
    }

    /// Runs `cycles` whole pattern cycles with teacher presence `lambda` (1 = nudged, 0 = free;
    /// plasticity stays on) and appends the state after every `every`-th step to `rec`
    /// (cycle numbers count from this call's first cycle).
    pub fn run(&mut self, cycles: usize, lambda: f64, every: usize, rec: &mut Recording) {
        let len = self.teacher.cycle_len_steps();
        let every = every.max(1);
        for c in 0..cycles {
            for t in 0..len {
                self.net.step(t, lambda);
                if t % every == 0 && !rec.quantities.is_empty() {
                    rec.push(&self.net, c as u64, t as u64);
                }
            }
        }
    }

    /// Whether the state is finite and below the runaway bound; the problem otherwise.
    pub fn health(&self) -> Result<(), String> {
        self.net.health(checkpointing::RUNAWAY_MV)
    }

    /// An empty recording of `quantities` for this network.
    pub fn recording(&self, quantities: &[Quantity]) -> Recording {
        Recording::new(quantities, self.net.n_neurons())
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }
    pub fn seed(&self) -> Seed {
        self.seed
    }
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }
    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }
    pub fn network(&self) -> &Network {
        &self.net
    }
    /// The network, mutably (e.g. to read its weights, which applies the pending update).
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }
    /// Steps per pattern cycle.
    pub fn cycle_len_steps(&self) -> usize {
        self.teacher.cycle_len_steps()
    }
    /// Training cycles run so far, the warm-up cycle included.
    pub fn cycles_trained(&self) -> u64 {
        self.progress.cycles_done()
    }
    /// All validation points so far.
    pub fn validation(&self) -> &[CurvePoint] {
        &self.progress.validation
    }
}
