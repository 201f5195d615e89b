//! Resume: which jobs of a run directory are finished and can be skipped.
//!
//! A job is finished when its completion record `_done/job-<index:06>.toml` exists and every
//! part it lists is present with the recorded size and FNV-1a hash. The record is written
//! (atomically) only after all the job's parts were renamed into place, so a job killed at any
//! moment either has a valid record or is redone: its leftover parts are removed first. A part
//! truncated or altered after the fact fails the hash check and its job is redone.

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

/// `_done/job-<index>.toml`: what a finished job wrote.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DoneRecord {
    /// The job's index.
    pub index: usize,
    /// The job's seed (a string: TOML integers stop at i64).
    pub seed: String,
    /// The job's params as `key=value` text.
    pub params: String,
    /// Its parts.
    pub parts: Vec<PartRecord>,
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

/// Writes job `job`'s completion record (atomically, after its parts).
pub fn write_record(run_dir: &Path, job: &Job, parts: Vec<PartRecord>) -> anyhow::Result<()> {
    let record = DoneRecord {
        index: job.index,
        seed: job.seed.to_string(),
        params: job.params_text(),
        parts,
    };
    let dir = run_dir.join(DONE_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let text = toml::to_string(&record).map_err(|e| anyhow!("cannot serialize record: {e}"))?;
    write_file_atomic(&record_path(run_dir, job.index), text.as_bytes())
}

/// Why a job is not finished (for the log), or `None` if it is finished and its parts are
/// intact.
pub fn check_job(run_dir: &Path, job: &Job) -> Option<String> {
    let path = record_path(run_dir, job.index);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some("not run".to_owned()),
        Err(e) => return Some(format!("cannot read {}: {e}", path.display())),
    };
    let record: DoneRecord = match toml::from_str(&text) {
        Ok(r) => r,
        Err(e) => return Some(format!("{}: unreadable record: {e}", path.display())),
    };
    if record.index != job.index
        || record.seed != job.seed.to_string()
        || record.params != job.params_text()
    {
        return Some(format!(
            "{}: recorded job (seed {}, {}) differs from this job (seed {}, {})",
            path.display(),
            record.seed,
            record.params,
            job.seed,
            job.params_text()
        ));
    }
    for part in &record.parts {
        let part_path = run_dir.join(&part.table).join(&part.file);
        match std::fs::read(&part_path) {
            Err(e) => return Some(format!("part {}: {e}", part_path.display())),
            Ok(bytes) => {
                if bytes.len() as u64 != part.bytes {
                    return Some(format!(
                        "part {} has {} bytes, {} were written",
                        part_path.display(),
                        bytes.len(),
                        part.bytes
                    ));
                }
                if format!("{:016x}", fnv1a_64(&bytes)) != part.fnv1a64 {
                    return Some(format!(
                        "part {} is corrupt (hash differs from the one recorded)",
                        part_path.display()
                    ));
                }
            }
        }
    }
    None
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
    let record_tmp = run_dir
        .join(DONE_DIR)
        .join(format!("job-{index:06}.toml.tmp"));
    match std::fs::remove_file(&record_tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", record_tmp.display()))
        }
        _ => Ok(()),
    }
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

/// The completion record of job `index` (for `collect`: the parts to merge).
pub fn read_record(run_dir: &Path, index: usize) -> anyhow::Result<DoneRecord> {
    let path = record_path(run_dir, index);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: unreadable record", path.display()))
}
