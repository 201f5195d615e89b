//! Small files of a run directory read with a bound: `config.toml`, manifests, plans.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, bail};

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
    let entries = match std::fs::read_dir(run_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", run_dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", run_dir.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let merged = name.ends_with(".parquet") && entry.file_type().is_ok_and(|t| t.is_file());
        if merged || name == COLLECT_FILE {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Removes the temporary files (`<name>.<pid>.tmp`, `<name>.<pid>.tmp.png`) that processes
/// killed before their rename left at the top of the run directory: only those of processes
/// that no longer run (where `/proc` tells; elsewhere nothing is removed).
pub(crate) fn clear_dead_temporaries(run_dir: &Path) -> anyhow::Result<()> {
    let proc_fs = Path::new("/proc/self");
    if !proc_fs.exists() {
        return Ok(());
    }
    let entries = match std::fs::read_dir(run_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot list {}", run_dir.display())),
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_suffix(".tmp")
            .or_else(|| name.strip_suffix(".tmp.png"))
        else {
            continue;
        };
        let Some(pid) = stem.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
