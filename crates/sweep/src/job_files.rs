//! The extra files of a job's output ([`JobOutput::push_file`](crate::JobOutput::push_file)),
//! e.g. a saved network `networks/job-000003.ckpt`: checked names, atomic writes.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

/// Directories of the run that a job's file must not go into.
const RESERVED_DIRS: [&str; 2] = [crate::inputs::INPUTS, "slurm"];

fn valid_part(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && !s.starts_with('_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// `<run dir>/<dir>/<name>` for the file `path` = `<dir>/<name>` of a job whose output has the
/// tables `tables`, or why the name is not allowed.
pub(crate) fn target(run_dir: &Path, path: &str, tables: &[&str]) -> anyhow::Result<PathBuf> {
    let parts: Vec<&str> = path.split('/').collect();
    let ok = matches!(parts.as_slice(), [dir, name]
        if valid_part(dir) && valid_part(name)
            && !RESERVED_DIRS.contains(dir)
            && !tables.contains(dir)
            && !name.ends_with(".parquet"));
    if !ok {
        bail!(
            "invalid output file '{path}' (use <dir>/<name> with letters, digits, '_', '-', '.', \
             not starting with '.' or '_'; <dir> not a table of the job, 'inputs' or 'slurm'; \
             <name> not ending in .parquet)"
        );
    }
    Ok(run_dir.join(parts[0]).join(parts[1]))
}

/// Writes the file `path` of a job's output atomically under `run_dir` (creating its
/// directory); returns where.
pub(crate) fn write(
    run_dir: &Path,
    path: &str,
    contents: &[u8],
    tables: &[&str],
) -> anyhow::Result<PathBuf> {
    let target = target(run_dir, path, tables)?;
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::parquet_io::write_file_atomic(&target, contents)
        .with_context(|| format!("output file '{path}'"))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_checked() {
        let run = Path::new("run");
        assert_eq!(
            target(run, "networks/job-000001.ckpt", &["runs"]).unwrap(),
            run.join("networks").join("job-000001.ckpt")
        );
        for bad in [
            "job.ckpt",
            "a/b/c",
            "../x/y",
            "networks/../y",
            "_done/x",
            ".hidden/x",
            "inputs/x",
            "slurm/x",
            "runs/x",
            "networks/job-000001.parquet",
            "networks/",
            "/abs/x",
        ] {
            assert!(target(run, bad, &["runs"]).is_err(), "{bad}");
        }
    }
}
