//! Resume: which jobs of a run directory are finished and can be skipped.
//!
//! A job is finished when its completion record `_done/job-<index:06>.toml` exists, names this
//! job (index, seed, params) and this config ([`config_hash`] of the resolved `config.toml`),
//! lists at least one part, and every part it lists is present with the recorded size and
//! FNV-1a hash ([`check_job`], [`JobState`]). The record is written (atomically) only after all
//! the job's parts were renamed into place, so a job killed at any moment either has a valid
//! record or is redone: its leftover parts are removed first. A part truncated or altered after
//! the fact, or a record made with other config values (an edited `config.toml`), fails the
//! check and its job is redone. Only the process holding a job's lock ([`crate::lock`]) checks,
//! clears or writes that job's files.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};

use crate::Job;
use crate::parquet_io::write_file_atomic;
use crate::util::fnv1a_64;

/// Directory of the completion records inside a run directory (not a table: table names may
/// not start with `_`).
pub const DONE_DIR: &str = "_done";

/// Directory of the jobs' checkpoints inside a run directory.
pub const CHECKPOINT_DIR: &str = "_checkpoints";

/// `<run dir>/_checkpoints/job-<index:06>.ckpt`: where job `index` may keep its checkpoint.
pub fn checkpoint_path(run_dir: &Path, index: usize) -> PathBuf {
    run_dir
        .join(CHECKPOINT_DIR)
        .join(format!("job-{index:06}.ckpt"))
}

/// One Parquet part of a finished job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PartRecord {
    /// Table name (the part is `<run dir>/<table>/<file>`).
    pub table: String,
    /// File name of the part.
    pub file: String,
    /// Size in bytes.
    pub bytes: u64,
    /// FNV-1a 64 of the file's bytes, 16 hex digits.
    pub fnv1a64: String,
    /// Rows in the part.
    pub rows: u64,
}

/// `_done/job-<index>.toml`: what a finished job wrote, and for which config.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoneRecord {
    /// The job's index.
    pub index: usize,
    /// The job's seed (a string: TOML integers stop at i64).
    pub seed: String,
    /// The job's params as `key=value` text.
    pub params: String,
    /// [`config_hash`] of the resolved config (the run's `config.toml`, with its `[axes]` and
    /// input hashes) the job ran with: a record is trusted only for that config.
    pub config_fnv1a64: String,
    /// Its parts (at least one).
    pub parts: Vec<PartRecord>,
    /// Its other output files (`JobOutput::push_file`, e.g. `networks/job-<index>.ckpt`; `table`
    /// is their directory, `rows` 0), checked like the parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<PartRecord>,
}

/// What a run directory holds of one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobState {
    /// A valid completion record whose parts are intact.
    Done(DoneRecord),
    /// No completion record.
    NotRun,
    /// A record that cannot be trusted, and why (the job is redone or reported missing).
    Invalid(String),
}

impl JobState {
    /// Whether the job is finished and its parts are intact.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done(_))
    }
}

/// The identity of a resolved config: FNV-1a 64 of its text, 16 hex digits. Completion records
/// carry it, so a record made for other values is never trusted.
pub fn config_hash(config_text: &str) -> String {
    format!("{:016x}", fnv1a_64(config_text.as_bytes()))
}

/// File name of job `index`'s parts, `job-<index:06>.parquet`.
pub fn part_file_name(index: usize) -> String {
    format!("job-{index:06}.parquet")
}

fn record_path(run_dir: &Path, index: usize) -> PathBuf {
    run_dir.join(DONE_DIR).join(format!("job-{index:06}.toml"))
}

/// Describes a part just written (size, hash, rows) for the completion record.
pub fn describe_part(path: &Path, table: &str, rows: u64) -> anyhow::Result<PartRecord> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read back {}", path.display()))?;
    Ok(PartRecord {
        table: table.to_owned(),
        file: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| anyhow!("part path {} has no file name", path.display()))?,
        bytes: bytes.len() as u64,
        fnv1a64: format!("{:016x}", fnv1a_64(&bytes)),
        rows,
    })
}

/// Writes job `job`'s completion record for the config of hash `config` (atomically, after
/// its parts).
pub fn write_record(
    run_dir: &Path,
    job: &Job,
    config: &str,
    parts: Vec<PartRecord>,
    files: Vec<PartRecord>,
) -> anyhow::Result<()> {
    write_done(
        run_dir,
        &DoneRecord {
            index: job.index,
            seed: job.seed.to_string(),
            params: job.params_text(),
            config_fnv1a64: config.to_owned(),
            parts,
            files,
        },
    )
}

/// Writes `record` as its job's completion record (atomically).
pub fn write_done(run_dir: &Path, record: &DoneRecord) -> anyhow::Result<()> {
    let dir = run_dir.join(DONE_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string(record).map_err(|e| anyhow!("cannot serialize record: {e}"))?;
    write_file_atomic(&record_path(run_dir, record.index), text.as_bytes())
}

/// Largest completion record read (a record lists a few parts; anything bigger is not one).
const MAX_RECORD_BYTES: u64 = 1 << 20;

/// Job `job`'s state in `run_dir` for the config of hash `config`: [`JobState::Done`] only if
/// its record names this job and this config, lists at least one part, and every part has the
/// recorded size and hash.
pub fn check_job(run_dir: &Path, job: &Job, config: &str) -> JobState {
    let path = record_path(run_dir, job.index);
    let record = match read_record_file(&path) {
        Ok(Some(r)) => r,
        Ok(None) => return JobState::NotRun,
        Err(e) => return JobState::Invalid(e),
    };
    if record.index != job.index
        || record.seed != job.seed.to_string()
        || record.params != job.params_text()
    {
        return JobState::Invalid(format!(
            "{}: recorded job (seed {}, {}) differs from this job (seed {}, {})",
            path.display(),
            record.seed,
            record.params,
            job.seed,
            job.params_text()
        ));
    }
    if record.config_fnv1a64 != config {
        return JobState::Invalid(format!(
            "{}: made with another config (hash {}; this run's config.toml has {config}), so \
             its rows do not describe this config",
            path.display(),
            record.config_fnv1a64
        ));
    }
    match check_parts(run_dir, &record) {
        Ok(()) => JobState::Done(record),
        Err(why) => JobState::Invalid(why),
    }
}

/// Checks that `record` lists at least one part and that each is present with the recorded
/// size and FNV-1a hash.
pub fn check_parts(run_dir: &Path, record: &DoneRecord) -> Result<(), String> {
    if record.parts.is_empty() {
        return Err(format!(
            "{}: the record lists no parts",
            record_path(run_dir, record.index).display()
        ));
    }
    for part in record.parts.iter().chain(&record.files) {
        if !valid_component(&part.table) || !valid_component(&part.file) {
            return Err(format!(
                "{}: part {}/{} is not a part name this harness writes",
                record_path(run_dir, record.index).display(),
                part.table,
                part.file
            ));
        }
        let part_path = run_dir.join(&part.table).join(&part.file);
        let bytes = match std::fs::symlink_metadata(&part_path) {
            Ok(m) if m.file_type().is_file() => std::fs::read(&part_path),
            Ok(_) => {
                return Err(format!(
                    "part {} is not a regular file",
                    part_path.display()
                ));
            }
            Err(e) => return Err(format!("part {}: {e}", part_path.display())),
        };
        match bytes {
            Err(e) => return Err(format!("part {}: {e}", part_path.display())),
            Ok(bytes) => {
                if bytes.len() as u64 != part.bytes {
                    return Err(format!(
                        "part {} has {} bytes, {} were written",
                        part_path.display(),
                        bytes.len(),
                        part.bytes
                    ));
                }
                if format!("{:016x}", fnv1a_64(&bytes)) != part.fnv1a64 {
                    return Err(format!(
                        "part {} is corrupt (hash differs from the one recorded)",
                        part_path.display()
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A file or directory name without a path separator that does not climb out (`..`).
fn valid_component(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// Reads a completion record: `Ok(None)` if there is none, `Err(why)` if it cannot be trusted
/// as a record (unreadable, not a regular file, too large, not a record).
fn read_record_file(path: &Path) -> Result<Option<DoneRecord>, String> {
    use std::io::Read as _;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        Ok(m) if !m.file_type().is_file() => {
            return Err(format!("{} is not a regular file", path.display()));
        }
        Ok(_) => {}
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(format!(
            "{}: too large for a completion record",
            path.display()
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("{}: unreadable record (not UTF-8)", path.display()))?;
    toml::from_str(&text).map(Some).map_err(|e| {
        format!(
            "{}: unreadable record (written by another version?): {e}",
            path.display()
        )
    })
}

/// Removes everything job `index` may have left: its record and its parts (and temporary
/// files) in every table directory.
pub fn clear_job(run_dir: &Path, index: usize) -> anyhow::Result<()> {
    let record = record_path(run_dir, index);
    match std::fs::remove_file(&record) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot remove {}", record.display())),
    }
    clear_job_temporaries(run_dir, index)?;
    let prefix = format!("job-{index:06}.parquet");
    for_each_table_file(run_dir, |path, name| {
        if name.starts_with(&prefix) {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove old part {}", path.display()))?;
        }
        Ok(())
    })
}

/// Removes job `index`'s temporary files (left by a writer killed before its rename). Only this
/// job's: other shards may be writing theirs into the same run directory.
pub fn clear_job_temporaries(run_dir: &Path, index: usize) -> anyhow::Result<()> {
    let prefix = format!("job-{index:06}.");
    for_each_table_file(run_dir, |path, name| {
        if name.starts_with(&prefix) && name.ends_with(".tmp") {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
        Ok(())
    })?;
    let record_prefix = format!("job-{index:06}.toml.");
    crate::util::remove_files_where(&run_dir.join(DONE_DIR), |name| {
        name.starts_with(&record_prefix) && name.ends_with(".tmp")
    })
}

/// Removes every part, temporary part and completion record of a run directory (`--restart`).
pub fn clear_all(run_dir: &Path) -> anyhow::Result<()> {
    for dir in [DONE_DIR, CHECKPOINT_DIR] {
        let dir = run_dir.join(dir);
        if dir.is_dir() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
    }
    for_each_table_file(run_dir, |path, name| {
        if name.starts_with("job-") && (name.ends_with(".parquet") || name.contains(".parquet.")) {
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove old part {}", path.display()))?;
        }
        Ok(())
    })
}

fn for_each_table_file(
    run_dir: &Path,
    mut f: impl FnMut(&Path, &str) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(run_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", run_dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        if !entry.file_type()?.is_dir()
            || entry.file_name() == DONE_DIR
            || entry.file_name() == CHECKPOINT_DIR
        {
            continue;
        }
        for file in std::fs::read_dir(entry.path())? {
            let file = file?;
            let name = file.file_name();
            f(&file.path(), &name.to_string_lossy())?;
        }
    }
    Ok(())
}

/// The completion record of job `index`, as written (not checked; see [`check_job`]).
pub fn read_record(run_dir: &Path, index: usize) -> anyhow::Result<DoneRecord> {
    let path = record_path(run_dir, index);
    read_record_file(&path)
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("{} does not exist", path.display()))
}
