//! Checkpoints of an ELiSe job (`run.checkpoint_every`, `run.save_trained`,
//! `run.from_checkpoint`), in the format of [`elise_dynamics::checkpoint`].
//!
//! - `run.checkpoint_every = K > 0`: every K training cycles (the warm-up cycle counts) and at
//!   the end of training the job writes its network and training progress to the harness's
//!   per-job checkpoint file (`<run dir>/_checkpoints/job-<index>.ckpt`, atomically). A job
//!   that finds its checkpoint (a killed run started again with the same command) continues
//!   from it and writes exactly the rows of an uninterrupted run. The file holds the job's
//!   config and seed; a checkpoint of another config or seed is an error.
//! - `run.save_trained = true`: after training, each job writes its trained network to
//!   `<run dir>/networks/job-<index>.ckpt` (kept; the harness does not delete it).
//! - `run.from_checkpoint = FILE`: the run has one job that loads the network of FILE (seed
//!   from the file) and only replays it — with `replay.disruption_file`, disrupted. The config
//!   must equal the saving run's in `[pattern]`, `[network]`, `[scaffold]`, `[plasticity]`,
//!   `[neuron]` and `[train]` (checked before anything runs; the error names the first key that
//!   differs), so that every `runs` column stays true; `[replay]` and `[output]` may differ.
//!
//! With a noisy tutor the OU noise process is not stored: on resume it is regenerated from its
//! seed stream and advanced by the cycles already run (the same draws, so the same bits).

use crate::{Config, TutorNoise};
use elise_core::{Seed, Teacher};
use elise_dynamics::checkpoint::Checkpoint;
use elise_dynamics::protocol::TrainProgress;
use elise_dynamics::{Network, NetworkSpec};
use elise_sweep::Progress;
use std::path::{Path, PathBuf};

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

/// Where one job keeps its checkpoints.
#[derive(Clone, Debug, Default)]
pub struct JobFiles {
    /// The training checkpoint, written every `every` cycles and resumed from.
    pub checkpoint: Option<PathBuf>,
    pub every: u64,
    /// Where the trained network is saved (`run.save_trained`).
    pub save_trained: Option<PathBuf>,
}

impl JobFiles {
    /// The files of job `index` of a harness run (none outside the harness).
    pub fn of(cfg: &Config, index: usize, progress: &Progress) -> Self {
        let ckpt = progress.checkpoint_file();
        Self {
            checkpoint: ckpt
                .filter(|_| cfg.run.checkpoint_every > 0)
                .map(Path::to_path_buf),
            every: cfg.run.checkpoint_every,
            // <run dir>/_checkpoints/job-N.ckpt -> <run dir>/networks/job-N.ckpt
            save_trained: ckpt
                .filter(|_| cfg.run.save_trained)
                .and_then(Path::parent)
                .and_then(Path::parent)
                .map(|run| run.join("networks").join(format!("job-{index:06}.ckpt"))),
        }
    }
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

/// Writes `ckpt` to `path` atomically (creating the directory).
pub fn write(path: &Path, ckpt: &Checkpoint) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    elise_sweep::write_file_atomic(path, &ckpt.to_bytes())
}

/// The job's own checkpoint at `path`, if there is one; an error if it is unreadable or belongs
/// to another config or seed.
pub fn load_own(path: &Path, cfg: &Config, seed: Seed) -> anyhow::Result<Option<Checkpoint>> {
    if !path.exists() {
        return Ok(None);
    }
    let ckpt = Checkpoint::load(path)?;
    if ckpt.meta("seed") != Some(&seed.0.to_string())
        || ckpt.meta("config") != Some(config_text(cfg)?.as_str())
    {
        anyhow::bail!(
            "checkpoint {} belongs to another job (seed {} or another config); remove it or run with --restart",
            path.display(),
            ckpt.meta("seed").unwrap_or("?")
        );
    }
    Ok(Some(ckpt))
}

/// The seed a checkpoint was saved with.
pub fn seed_of(ckpt: &Checkpoint) -> Option<u64> {
    ckpt.meta("seed")?.parse().ok()
}

/// Loads `run.from_checkpoint` and checks that it fits `cfg` (same model-defining sections);
/// the problem otherwise, naming the file and the first key that differs.
pub fn load_foreign(cfg: &Config) -> Result<Checkpoint, String> {
    let path = &cfg.run.from_checkpoint;
    let ckpt = Checkpoint::load(Path::new(path)).map_err(|e| e.to_string())?;
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
pub fn validate(cfg: &Config) -> Result<(), elise_sweep::ConfigError> {
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
    if cfg.run.save_trained {
        return Err(ConfigError::invalid(
            "run.save_trained",
            "a network loaded with run.from_checkpoint is not trained; it is already saved",
        ));
    }
    load_foreign(cfg).map_err(|m| ConfigError::invalid("run.from_checkpoint", m))?;
    Ok(())
}
