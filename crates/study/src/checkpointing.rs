//! Checkpoints of an ELiSe job (`run.checkpoint_every`, `run.save_trained`,
//! `run.from_checkpoint`), in the format of [`elise_dynamics::checkpoint`].
//!
//! - `run.checkpoint_every = K > 0`: every K training cycles (the warm-up cycle counts) and at
//!   the end of training the job saves its network and training progress through the harness
//!   ([`elise_sweep::Progress::save_checkpoint`], written atomically to
//!   `<run dir>/_checkpoints/job-<index>.ckpt`). A job whose checkpoint the harness found (a
//!   killed run started again with the same command; read before the job starts, at most
//!   [`max_checkpoint_bytes`]) continues from it and writes exactly the rows of an
//!   uninterrupted run. The file holds the job's config and seed; a checkpoint of another
//!   config or seed is an error; one that does not parse (corrupt) is ignored with a warning
//!   and the job trains from the beginning.
//! - `run.save_trained = true`: after training, each job returns its trained network as the
//!   output file `networks/job-<index>.ckpt` ([`JobFiles::add_saved_network`]), which the
//!   harness writes into the run directory (kept; the harness does not delete it).
//! - `run.from_checkpoint = FILE`: an input file of the run (read by the harness when the run
//!   is planned, at most [`max_checkpoint_bytes`]); the run has one job that loads the network
//!   of FILE (seed from the file) and only replays it — with `replay.disruption_file`,
//!   disrupted. The config
//!   must equal the saving run's in `[pattern]`, `[network]`, `[scaffold]`, `[plasticity]`,
//!   `[neuron]` and `[train]` (checked before anything runs; the error names the first key that
//!   differs), so that every `runs` column stays true; `[replay]` and `[output]` may differ.
//!
//! With a noisy tutor the OU noise process is not stored: on resume it is regenerated from its
//! seed stream and advanced by the cycles already run (the same draws, so the same bits).

use crate::{Config, MAX_LATENT, TutorNoise};
use elise_core::{Inputs, Seed, Teacher};
use elise_dynamics::checkpoint::{Checkpoint, MAX_DELAY_STEPS};
use elise_dynamics::protocol::TrainProgress;
use elise_dynamics::{Network, NetworkSpec};
use elise_sweep::{Job, JobOutput, Progress};
use std::sync::{Arc, Mutex};

/// Potentials beyond +-this many mV stop a job as a numerical blow-up (physiological values
/// stay within about -80..+20 mV; a learning rule that diverges passes 1e4 within a few steps).
pub const RUNAWAY_MV: f64 = 1e4;

/// Config sections that define the trained network (compared for `run.from_checkpoint`).
const MODEL_SECTIONS: [&str; 6] = [
    "pattern",
    "network",
    "scaffold",
    "plasticity",
    "neuron",
    "train",
];

/// Where a job's training checkpoints live: the harness's per-job slot (a
/// [`Progress`]), or anything else that can hand back the bytes saved before the job started and
/// save new ones (e.g. [`MemoryStore`] in tests).
pub trait CheckpointStore: Sync {
    /// The checkpoint saved before the job started, if any.
    fn saved(&self) -> Option<Arc<[u8]>>;
    /// Saves a checkpoint (replacing the previous one; atomically).
    fn save(&self, bytes: &[u8]) -> anyhow::Result<()>;
    /// Names the checkpoint in messages (its file).
    fn name(&self) -> String;
}

/// The harness's slot: `<run dir>/_checkpoints/job-<index>.ckpt`, read by the harness before
/// the job and written through it.
impl CheckpointStore for Progress {
    fn saved(&self) -> Option<Arc<[u8]>> {
        self.saved_checkpoint()
    }
    fn save(&self, bytes: &[u8]) -> anyhow::Result<()> {
        self.save_checkpoint(bytes)
    }
    fn name(&self) -> String {
        self.checkpoint_file()
            .map_or_else(|| "(no file)".to_owned(), |p| p.display().to_string())
    }
}

/// A checkpoint slot in memory (tests and tools without a run directory).
#[derive(Debug, Default)]
pub struct MemoryStore {
    bytes: Mutex<Option<Arc<[u8]>>>,
}

impl MemoryStore {
    /// The checkpoint saved last, if any.
    pub fn get(&self) -> Option<Arc<[u8]>> {
        self.bytes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl CheckpointStore for MemoryStore {
    fn saved(&self) -> Option<Arc<[u8]>> {
        self.get()
    }
    fn save(&self, bytes: &[u8]) -> anyhow::Result<()> {
        *self.bytes.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes.into());
        Ok(())
    }
    fn name(&self) -> String {
        "(in memory)".to_owned()
    }
}

/// How one job checkpoints: where (`store`, none = never), how often (`every` training
/// cycles) and whether it returns its trained network (`run.save_trained`, taken out with
/// [`JobFiles::add_saved_network`]).
#[derive(Default)]
pub struct JobFiles<'a> {
    store: Option<&'a dyn CheckpointStore>,
    every: u64,
    save_trained: bool,
    trained: Mutex<Option<Vec<u8>>>,
}

impl<'a> JobFiles<'a> {
    /// Checkpoints in `store` every `every` cycles (and at the end of training); the trained
    /// network kept if `save_trained`.
    pub fn new(store: Option<&'a dyn CheckpointStore>, every: u64, save_trained: bool) -> Self {
        Self {
            store,
            every,
            save_trained,
            trained: Mutex::new(None),
        }
    }

    /// The files of a harness job of `cfg`: checkpoints in the job's slot of `progress` when
    /// `run.checkpoint_every > 0` (and the job runs in the harness), the trained network kept
    /// when `run.save_trained`.
    pub fn of(cfg: &Config, progress: &'a Progress) -> Self {
        let store = (cfg.run.checkpoint_every > 0 && progress.checkpoint_file().is_some())
            .then_some(progress as &dyn CheckpointStore);
        Self::new(store, cfg.run.checkpoint_every, cfg.run.save_trained)
    }

    /// The trained network's checkpoint, once training kept it (`run.save_trained`).
    pub fn take_trained(&self) -> Option<Vec<u8>> {
        self.trained
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Adds the trained network, if kept, to `out` as the file `networks/job-<index>.ckpt`.
    pub fn add_saved_network(&self, job: &Job, out: &mut JobOutput) {
        if let Some(bytes) = self.take_trained() {
            out.push_file(format!("networks/job-{:06}.ckpt", job.index), bytes);
        }
    }

    /// Where checkpoints go, if anywhere.
    pub fn store(&self) -> Option<&'a dyn CheckpointStore> {
        self.store
    }

    /// Training cycles between checkpoints.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// Whether the trained network is kept.
    pub fn save_trained(&self) -> bool {
        self.save_trained
    }

    pub(crate) fn keep_trained(&self, bytes: Vec<u8>) {
        *self.trained.lock().unwrap_or_else(|e| e.into_inner()) = Some(bytes);
    }
}

/// Largest visible population [`max_checkpoint_bytes`] allows for (as many as latent neurons
/// may be).
const MAX_VISIBLE: usize = MAX_LATENT;

/// The largest checkpoint a network of `cfg` can have: the largest network it allows
/// (`network.n_latent` latent neurons and up to 8192 visible ones): its weights (n x n f64),
/// per-neuron state and the delay history of its longest delay, plus 256 MiB for the scaffold,
/// metadata and training progress. Checkpoints are read with this bound (`run.from_checkpoint`
/// and the job's own).
pub fn max_checkpoint_bytes(cfg: &Config) -> u64 {
    let n = (cfg.network.n_latent.min(MAX_LATENT) + MAX_VISIBLE) as f64;
    let delay_ms = cfg.network.delay_max_ms.max(0.0) + cfg.network.inh_extra_delay_ms.max(0.0);
    let history = (delay_ms / cfg.neuron.dt_ms)
        .ceil()
        .clamp(2.0, MAX_DELAY_STEPS as f64)
        + 1.0;
    let scaffold = cfg.scaffold.max_in_degree as f64 + 1.0;
    let bytes = 8.0 * n * n + 8.0 * n * (16.0 + history + scaffold) + f64::from(256u32 << 20);
    if bytes.is_finite() && bytes < u64::MAX as f64 {
        bytes as u64
    } else {
        u64::MAX
    }
}

/// The bound of a job's own checkpoint, if `cfg` keeps checkpoints (`run.checkpoint_every`;
/// for `Experiment::max_checkpoint_bytes`).
pub fn checkpoint_limit(cfg: &Config) -> Option<u64> {
    (cfg.run.checkpoint_every > 0).then(|| max_checkpoint_bytes(cfg))
}

fn config_text(cfg: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string(cfg)?)
}

/// The checkpoint of `net` after `progress`, with the job's seed and config.
pub fn make(
    cfg: &Config,
    seed: Seed,
    net: &Network,
    progress: &TrainProgress,
) -> anyhow::Result<Checkpoint> {
    Ok(Checkpoint {
        meta: vec![
            (
                "writer".into(),
                format!("elise-lab {}", env!("CARGO_PKG_VERSION")),
            ),
            ("seed".into(), seed.0.to_string()),
            ("config".into(), config_text(cfg)?),
        ],
        network: net.state(),
        train: Some(progress.clone()),
    })
}

/// The job's own checkpoint `bytes` (saved in `store` before the job started): `None` if they
/// do not parse (a corrupt file is ignored with a warning: the job trains from the beginning);
/// an error if it belongs to another config or seed.
pub fn load_own(
    bytes: &[u8],
    store: &dyn CheckpointStore,
    cfg: &Config,
    seed: Seed,
) -> anyhow::Result<Option<Checkpoint>> {
    let ckpt = match Checkpoint::from_bytes(bytes, &store.name()) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(
                "seed {}: ignoring the job's checkpoint: {e}; training starts from the beginning",
                seed.0
            );
            return Ok(None);
        }
    };
    if ckpt.meta("seed") != Some(&seed.0.to_string())
        || ckpt.meta("config") != Some(config_text(cfg)?.as_str())
    {
        anyhow::bail!(
            "checkpoint {} belongs to another job (seed {} or another config); remove it or run with --restart",
            store.name(),
            ckpt.meta("seed").unwrap_or("?")
        );
    }
    Ok(Some(ckpt))
}

/// The seed a checkpoint was saved with.
pub fn seed_of(ckpt: &Checkpoint) -> Option<u64> {
    ckpt.meta("seed")?.parse().ok()
}

/// Parses `run.from_checkpoint` (from `inputs`) and checks that it fits `cfg` (same
/// model-defining sections); the problem otherwise, naming the file and the first key that
/// differs.
pub fn load_foreign(cfg: &Config, inputs: &Inputs) -> Result<Checkpoint, String> {
    let path = &cfg.run.from_checkpoint;
    let bytes = inputs.require(path).map_err(|p| format!("{path}: {p}"))?;
    let ckpt = Checkpoint::from_bytes(bytes, path).map_err(|e| e.to_string())?;
    let saved: toml::Table = ckpt
        .meta("config")
        .ok_or("no config recorded")
        .and_then(|t| toml::from_str(t).map_err(|_| "its recorded config is not TOML"))
        .map_err(|m| format!("checkpoint {path}: {m}; was it written by exp-birdsong?"))?;
    if seed_of(&ckpt).is_none() {
        return Err(format!("checkpoint {path}: no seed recorded"));
    }
    if ckpt.train.is_none() || ckpt.train.as_ref().is_some_and(|t| t.next_cycle < 0) {
        return Err(format!("checkpoint {path}: holds no trained network"));
    }
    let ours = toml::Table::try_from(cfg).map_err(|e| e.to_string())?;
    for section in MODEL_SECTIONS {
        let get = |t: &toml::Table| t.get(section).and_then(|v| v.as_table()).cloned();
        let (a, b) = (
            get(&saved).unwrap_or_default(),
            get(&ours).unwrap_or_default(),
        );
        let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let show = |t: &toml::Table| {
                t.get(key)
                    .map_or_else(|| "(absent)".to_owned(), ToString::to_string)
            };
            if a.get(key) != b.get(key) {
                return Err(format!(
                    "checkpoint {path} was saved by a run with {section}.{key} = {}, this config has {}; use that run's config (--config <its run dir>/config.toml) and change only [replay] or [output]",
                    show(&a),
                    show(&b)
                ));
            }
        }
    }
    Ok(ckpt)
}

/// Rebuilds the network of `ckpt` for `cfg` and `seed`: its spec from the config, the teacher
/// it ran with (the clean one, or with a noisy tutor the noisy teacher of its last cycle, the
/// noise process advanced past the cycles run).
pub(crate) fn restore(
    ckpt: &Checkpoint,
    spec: &NetworkSpec,
    cfg: &Config,
    clean: &Teacher,
    noise: Option<&mut TutorNoise>,
) -> anyhow::Result<(Network, TrainProgress)> {
    let progress = ckpt
        .train
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the checkpoint holds no training progress"))?;
    let finished = progress.next_cycle >= cfg.train.cycles as i64;
    let teacher = match noise {
        Some(n) => {
            for _ in 0..progress.cycles_done() {
                n.ou.fill(&mut n.noise);
            }
            if finished {
                clean.clone()
            } else {
                let mut t = clean.clone();
                t.set_noisy_from(clean, &n.noise, &n.params);
                t
            }
        }
        None => clean.clone(),
    };
    let net = Network::from_state(spec, &cfg.plasticity, &ckpt.network, teacher)?;
    Ok((net, progress))
}

/// Checks of the `run.*` checkpoint keys; errors name the key.
pub fn validate(cfg: &Config, inputs: &Inputs) -> Result<(), elise_sweep::ConfigError> {
    use elise_sweep::ConfigError;
    elise_sweep::check_range("run.checkpoint_every", cfg.run.checkpoint_every, 0, 1 << 40)?;
    if cfg.run.from_checkpoint.is_empty() {
        return Ok(());
    }
    if cfg.run.checkpoint_every > 0 {
        return Err(ConfigError::invalid(
            "run.checkpoint_every",
            "a network loaded with run.from_checkpoint is not trained, so there is nothing to checkpoint; set only one of them",
        ));
    }
    // `run.save_trained` (e.g. inherited from the saving run's config.toml) has nothing to do
    // for a loaded network: it is already saved, and `train_job` saves only trained ones.
    load_foreign(cfg, inputs).map_err(|m| ConfigError::invalid("run.from_checkpoint", m))?;
    Ok(())
}
