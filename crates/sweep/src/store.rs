//! The run directory on disk: small files read with a bound (`config.toml`, manifests, plans),
//! creating and checking a run directory against its `config.toml`, the manifest, what
//! `collect` wrote, and temporary files of dead processes. (Completion records: `resume`;
//! locks: `lock`; Parquet: `parquet_io`; input copies: `inputs`.)
//!
//! Layer: `store` → `config` (to resolve an older version's `config.toml`); nothing here runs
//! jobs or parses command lines.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};

use crate::config::{self, ConfigError};
use crate::parquet_io::write_file_atomic;
use crate::util::{remove_files_where, remove_if_exists};
use crate::{Experiment, FailedJob, resume};

/// Largest `config.toml`, manifest or plan read from a run directory.
pub(crate) const MAX_SMALL_FILE_BYTES: u64 = 16 << 20;

/// Reads a regular file of at most [`MAX_SMALL_FILE_BYTES`] as UTF-8 text; a special file
/// (FIFO, device, directory) or a larger file is an error naming it, never a hang.
pub(crate) fn read_small_text(path: &Path) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.file_type().is_file() {
        bail!("{} is not a regular file", path.display());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SMALL_FILE_BYTES + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_SMALL_FILE_BYTES {
        bail!(
            "{} is larger than {} MiB: not a file this harness wrote",
            path.display(),
            MAX_SMALL_FILE_BYTES >> 20
        );
    }
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 text", path.display()))
}

/// `collect.toml`: what the last `collect` merged.
pub(crate) const COLLECT_FILE: &str = "collect.toml";

/// Removes what `collect` wrote (`collect.toml` and the merged `<table>.parquet` files at the
/// top of the run directory), so that no merged table outlives a change of the run's jobs.
pub(crate) fn clear_collected(run_dir: &Path) -> anyhow::Result<()> {
    remove_files_where(run_dir, |name| {
        name.ends_with(".parquet") || name == COLLECT_FILE
    })
}

/// Removes the temporary files (`<name>.<pid>.tmp`, `<name>.<pid>.tmp.png`) that processes
/// killed before their rename left at the top of the run directory: only those of processes
/// that no longer run (where `/proc` tells; elsewhere nothing is removed).
pub(crate) fn clear_dead_temporaries(run_dir: &Path) -> anyhow::Result<()> {
    if !Path::new("/proc/self").exists() {
        return Ok(());
    }
    remove_files_where(run_dir, |name| {
        let Some(stem) = name
            .strip_suffix(".tmp")
            .or_else(|| name.strip_suffix(".tmp.png"))
        else {
            return false;
        };
        stem.rsplit('.')
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .is_some_and(|pid| {
                pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists()
            })
    })
}

/// Creates (or checks) the run directory of a sweep, copies its inputs and writes its
/// `config.toml` (`slurm`: before the array tasks start).
pub(crate) fn prepare_run_dir_for<E: Experiment>(
    exp: &E,
    run_dir: &Path,
    config_text: &str,
    inputs: &crate::Inputs,
) -> anyhow::Result<()> {
    create_run_dir(run_dir)?;
    let _lock = crate::lock::run_shared(run_dir, "slurm")?;
    check_run_config(exp, run_dir, config_text)?;
    crate::inputs::store(run_dir, inputs)?;
    write_config_file(run_dir, config_text)
}

/// Writes `config.toml` unless it already holds `config_text` (shards of one sweep start at the
/// same time; each writes through its own temporary file). A new `config.toml` is created
/// without replacing one that another process created meanwhile: if that one holds another
/// config, this run is refused (two runs of different configs never share a directory). An
/// existing one (an older version's, checked by [`check_run_config`]) is replaced.
pub(crate) fn write_config_file(run_dir: &Path, config_text: &str) -> anyhow::Result<()> {
    let path = run_dir.join("config.toml");
    match read_small_text(&path) {
        Ok(old) if old == config_text => return Ok(()),
        Ok(_) => return write_file_atomic(&path, config_text.as_bytes()),
        Err(_) if path.exists() => return write_file_atomic(&path, config_text.as_bytes()),
        Err(_) => {}
    }
    // Create: write a temporary file, then link it to the name (which fails if it exists).
    let tmp = run_dir.join(format!("config.toml.new.{}.tmp", std::process::id()));
    write_file_atomic(&tmp, config_text.as_bytes())?;
    let linked = std::fs::hard_link(&tmp, &path);
    remove_if_exists(&tmp)?;
    match linked {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            match read_small_text(&path) {
                Ok(other) if other == config_text => Ok(()),
                _ => Err(ConfigError::Usage(format!(
                    "run directory {}: another process has just started a run with a different config there; choose another --out",
                    run_dir.display()
                ))
                .into()),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot create {}", path.display())),
    }
}

/// Creates the run directory if needed. An existing directory must be a run directory: a path
/// that is not a directory, or a directory with other files and no `config.toml`, is refused
/// before anything (not even a lock file) is written into it.
pub(crate) fn create_run_dir(run_dir: &Path) -> anyhow::Result<()> {
    if !run_dir.exists() {
        return std::fs::create_dir_all(run_dir)
            .with_context(|| format!("cannot create run directory {}", run_dir.display()));
    }
    if !run_dir.is_dir() {
        return Err(ConfigError::Usage(format!(
            "--out {}: exists and is not a directory",
            run_dir.display()
        ))
        .into());
    }
    refuse_foreign(run_dir)
}

/// A directory without `config.toml` may hold only what a run writes before it (lock files,
/// manifests, temporary configs, copied inputs): anything else is somebody else's directory.
fn refuse_foreign(run_dir: &Path) -> anyhow::Result<()> {
    if run_dir.join("config.toml").exists() {
        return Ok(());
    }
    let foreign = std::fs::read_dir(run_dir)
        .with_context(|| format!("cannot list {}", run_dir.display()))?
        .filter_map(Result::ok)
        .any(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !(name.starts_with('_')
                || name.starts_with("manifest")
                || name.starts_with("config.toml.")
                || name == "inputs")
        });
    if foreign {
        return Err(ConfigError::Usage(format!(
            "run directory {} exists, is not empty and holds no config.toml; choose another --out",
            run_dir.display()
        ))
        .into());
    }
    Ok(())
}

/// Checks (with the run lock held) that the run directory's `config.toml`, if any, describes
/// the run of `config_text`. `Ok(None)`: the same text, or no config yet. `Ok(Some(hash))`: a
/// config written by an older version that, resolved by this one (keys added since then take
/// their defaults), gives the same text; `hash` is its own [`resume::config_hash`], to which its
/// records are bound. An empty or unreadable `config.toml`, or one with any other value, is
/// refused with a message naming the first key that differs.
pub(crate) fn check_run_config<E: Experiment>(
    exp: &E,
    run_dir: &Path,
    config_text: &str,
) -> anyhow::Result<Option<String>> {
    let path = run_dir.join("config.toml");
    if !path.exists() {
        refuse_foreign(run_dir)?;
        return Ok(None);
    }
    let old = crate::store::read_small_text(&path).map_err(|e| {
        ConfigError::Usage(format!(
            "{e:#}; the run directory's config cannot be read, so its jobs cannot be matched to a config: remove the directory or choose another --out"
        ))
    })?;
    if old == config_text {
        return Ok(None);
    }
    let damaged = |what: &str| {
        anyhow::Error::from(ConfigError::Usage(format!(
            "{} {what}: the run directory's config was lost or damaged, so its finished jobs cannot be matched to a config; remove the directory or choose another --out",
            path.display()
        )))
    };
    if old.trim().is_empty() {
        return Err(damaged("is empty"));
    }
    let Ok(old_table) = toml::from_str::<toml::Table>(&old) else {
        return Err(damaged("is not valid TOML"));
    };
    let resolved = crate::plan::resolve_with(exp, Some(&path), &[], false, &[])
        .ok()
        .and_then(|(_, table)| config::config_text(&table).ok().map(|t| (t, table)));
    if let Some((text, _)) = &resolved
        && text == config_text
    {
        tracing::info!(
            "{}: written by an older version; keys added since then take their defaults, which \
             this run's config has too, so the run resumes (config.toml is rewritten with them)",
            path.display()
        );
        return Ok(Some(resume::config_hash(&old)));
    }
    let new_table: toml::Table = toml::from_str(config_text).unwrap_or_default();
    let old_table = resolved.map_or(old_table, |(_, t)| t);
    // A changed input file says which; otherwise the first key that differs.
    let mut why = crate::inputs::change_note(&old, config_text);
    if why.is_empty() {
        why = first_difference(&old_table, &new_table, "")
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
    }
    Err(ConfigError::Usage(format!(
        "run directory {} holds a run with a different config{why}; choose another --out or remove it",
        run_dir.display()
    ))
    .into())
}

/// The first dotted key whose value differs between a run directory's config (`old`) and this
/// run's (`new`), as text for a message.
fn first_difference(old: &toml::Table, new: &toml::Table, prefix: &str) -> Option<String> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for key in keys {
        let name = config::join_key(prefix, key);
        match (old.get(key), new.get(key)) {
            (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
                if let Some(d) = first_difference(a, b, &name) {
                    return Some(d);
                }
            }
            (Some(a), Some(b)) if a == b => {}
            (Some(a), Some(b)) => {
                return Some(format!(
                    "{name} is {} there, {} here",
                    config::short(a),
                    config::short(b)
                ));
            }
            (Some(_), None) => return Some(format!("{name} is set there, not here")),
            (None, Some(_)) => return Some(format!("{name} is set here, not there")),
            (None, None) => {}
        }
    }
    None
}

/// `manifest.toml`, or `manifest-shard-K-of-N.toml` for a shard (its jobs only).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Manifest {
    pub(crate) experiment: String,
    pub(crate) run_id: String,
    /// "running" while jobs run, "finished" at the end, "interrupted" after SIGINT/SIGTERM.
    pub(crate) status: RunStatus,
    pub(crate) git_commit: String,
    pub(crate) command_line: String,
    pub(crate) threads: usize,
    /// `K/N` for a shard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) shard: Option<String>,
    /// The signal that interrupted the sweep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signal: Option<String>,
    pub(crate) started_utc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ended_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) elapsed_s: Option<f64>,
    /// This process's jobs (a shard's, or all).
    pub(crate) n_jobs: usize,
    /// Jobs of the whole sweep.
    pub(crate) n_jobs_total: usize,
    pub(crate) n_ok: usize,
    pub(crate) n_failed: usize,
    /// Jobs found finished in the run directory and skipped (resume).
    pub(crate) n_resumed: usize,
    /// Jobs another process on the same run directory ran while this one waited for them.
    #[serde(default)]
    pub(crate) n_by_others: usize,
    pub(crate) total_work_units: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) finish_error: Option<String>,
    /// Interrupted: indices of the jobs that had not started.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) not_run: Vec<usize>,
    /// Interrupted: indices of the jobs abandoned while running (resume redoes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) abandoned: Vec<usize>,
    pub(crate) failed: Vec<ManifestFailure>,
}

/// Where a sweep (or shard) stands, as its manifest says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunStatus {
    /// Jobs are running (or the process was killed without a chance to say more).
    Running,
    /// Every job ran (some may have failed: see `failed`).
    Finished,
    /// SIGINT or SIGTERM stopped it (see `not_run` and `abandoned`).
    Interrupted,
}

impl Manifest {
    /// Reads a manifest (`None` if it cannot be read or is not one).
    pub(crate) fn read(path: &Path) -> Option<Self> {
        toml::from_str(&read_small_text(path).ok()?).ok()
    }

    pub(crate) fn write_to(&self, path: &Path) -> anyhow::Result<()> {
        let text = toml::to_string(self).map_err(|e| anyhow!("cannot serialize manifest: {e}"))?;
        write_file_atomic(path, text.as_bytes())
    }
}

/// One `[[failed]]` entry of the manifest.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct ManifestFailure {
    pub(crate) index: usize,
    pub(crate) replicate: usize,
    /// An integer when it fits TOML's i64, else a string.
    pub(crate) seed: toml::Value,
    #[serde(default, skip_serializing_if = "toml::Table::is_empty")]
    pub(crate) params: toml::Table,
    pub(crate) error: String,
}

impl From<&FailedJob> for ManifestFailure {
    fn from(f: &FailedJob) -> Self {
        Self {
            index: f.index,
            replicate: f.replicate,
            seed: i64::try_from(f.seed).map_or_else(
                |_| toml::Value::String(f.seed.to_string()),
                toml::Value::Integer,
            ),
            params: f
                .params
                .iter()
                .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                .collect(),
            error: f.error.clone(),
        }
    }
}
