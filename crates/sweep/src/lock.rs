//! Advisory file locks that keep processes sharing one run directory out of each other's way.
//!
//! Two kinds, both `flock`-style locks on small files inside the run directory (released by the
//! kernel when the process ends, however it ends, so a killed process never leaves a stale
//! lock):
//!
//! * **The run lock** `<run dir>/_lock`. Every process that runs jobs (a whole sweep or a shard)
//!   holds it *shared*; whatever must see the directory at rest holds it *exclusive*: `collect`
//!   (merging and deciding what is missing) and `--restart` of a whole sweep (it deletes every
//!   part). An exclusive request fails with a message (after 3 s of retries) instead of waiting, and a run
//!   that finds an exclusive holder fails the same way.
//! * **Job locks** `<run dir>/_locks/job-<index:06>.lock`, held exclusive by the process that
//!   checks, clears or runs that job, from its resume check to its completion record. A job
//!   another process holds is never touched: a sweep skips it, and later waits for it and
//!   takes the other process's record (or runs the job itself if that process failed or was
//!   killed). So any number of processes on one `--out`, sharded or not, run every job exactly
//!   once and never delete each other's parts.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// Directory of the job locks inside a run directory.
pub const LOCK_DIR: &str = "_locks";

/// File of the run lock inside a run directory.
pub const RUN_LOCK_FILE: &str = "_lock";

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

/// Whether a lock could be taken at once.
#[derive(Debug)]
pub enum Attempt {
    /// Taken.
    Held(Held),
    /// Another process holds a conflicting lock.
    Busy,
}

fn open(path: &Path) -> anyhow::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))
}

/// How long a run lock is retried before giving up: a lock is also held for a moment by a
/// child process that another thread forks (its copy of the descriptor lives until its exec).
const RUN_LOCK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(3);

/// [`attempt`], retried for [`RUN_LOCK_PATIENCE`] while busy.
fn attempt_patiently(path: &Path, shared: bool) -> anyhow::Result<Attempt> {
    let t0 = std::time::Instant::now();
    loop {
        match attempt(path, shared)? {
            Attempt::Busy if t0.elapsed() < RUN_LOCK_PATIENCE => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return Ok(other),
        }
    }
}

fn attempt(path: &Path, shared: bool) -> anyhow::Result<Attempt> {
    let file = open(path)?;
    let result = if shared {
        file.try_lock_shared()
    } else {
        file.try_lock()
    };
    match result {
        Ok(()) => Ok(Attempt::Held(Held { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(Attempt::Busy),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// `<run dir>/_lock`.
pub fn run_lock_path(run_dir: &Path) -> PathBuf {
    run_dir.join(RUN_LOCK_FILE)
}

/// `<run dir>/_locks/job-<index:06>.lock`.
pub fn job_lock_path(run_dir: &Path, index: usize) -> PathBuf {
    run_dir.join(LOCK_DIR).join(format!("job-{index:06}.lock"))
}

/// The run lock, shared (a process that runs jobs). Fails with a message naming `what` when a
/// process holds it exclusive (a `collect` or a whole-sweep `--restart`).
pub fn run_shared(run_dir: &Path, what: &str) -> anyhow::Result<Held> {
    match attempt_patiently(&run_lock_path(run_dir), true)? {
        Attempt::Held(h) => Ok(h),
        Attempt::Busy => Err(crate::ConfigError::Usage(format!(
            "{what}: run directory {} is in use by another process that needs it alone (a \
             `collect` or a `--restart` of the whole sweep); run again when it has finished",
            run_dir.display()
        ))
        .into()),
    }
}

/// The run lock, exclusive. Fails with a message naming `what` when any other process works in
/// the run directory (a sweep, a shard, a `collect`).
pub fn run_exclusive(run_dir: &Path, what: &str) -> anyhow::Result<Held> {
    match attempt_patiently(&run_lock_path(run_dir), false)? {
        Attempt::Held(h) => Ok(h),
        Attempt::Busy => Err(crate::ConfigError::Usage(format!(
            "{what}: run directory {} is in use by another process (a running sweep, shard or \
             collect); run again when it has finished",
            run_dir.display()
        ))
        .into()),
    }
}

/// Job `index`'s lock, if no other process holds it.
pub fn try_job(run_dir: &Path, index: usize) -> anyhow::Result<Attempt> {
    attempt(&job_lock_path(run_dir, index), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_locks_exclude_each_other_and_are_released_on_drop() {
        let dir = crate::testing::TempRun::new("lock-job");
        let first = try_job(dir.path(), 3).unwrap();
        assert!(matches!(first, Attempt::Held(_)));
        assert!(matches!(try_job(dir.path(), 3).unwrap(), Attempt::Busy));
        assert!(matches!(try_job(dir.path(), 4).unwrap(), Attempt::Held(_)));
        drop(first);
        assert!(matches!(try_job(dir.path(), 3).unwrap(), Attempt::Held(_)));
    }

    #[test]
    fn run_lock_shared_with_runs_exclusive_for_collect() {
        let dir = crate::testing::TempRun::new("lock-run");
        let a = run_shared(dir.path(), "run").unwrap();
        let b = run_shared(dir.path(), "run").unwrap();
        let e = run_exclusive(dir.path(), "collect").unwrap_err();
        assert!(format!("{e}").contains("in use by another process"), "{e}");
        drop((a, b));
        let x = run_exclusive(dir.path(), "collect").unwrap();
        let e = run_shared(dir.path(), "run").unwrap_err();
        assert!(format!("{e}").contains("needs it alone"), "{e}");
        drop(x);
        run_shared(dir.path(), "run").unwrap();
    }
}
