//! Progress of a run: a progress bar over all work units when stderr is a terminal, otherwise a
//! log line at most every ~10 s and one per finished job.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::telemetry;
use crate::util::human_duration;

/// Minimum time between two progress log lines when no progress bar is shown.
const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The progress handle a job receives. Call [`Progress::inc`] as work units complete; the units
/// should add up to the job's `Experiment::work_units` (the harness tops up the difference when
/// the job ends). `Sync`, so a job may share it between its own threads.
#[derive(Debug)]
pub struct Progress {
    shared: Option<Arc<Shared>>,
    reported: AtomicU64,
    checkpoint: Option<PathBuf>,
    saved: Option<Arc<[u8]>>,
}

impl Progress {
    /// A handle that reports nowhere, e.g. to call `run_job` directly in a test.
    pub fn noop() -> Self {
        Self {
            shared: None,
            reported: AtomicU64::new(0),
            checkpoint: None,
            saved: None,
        }
    }

    /// This handle with a checkpoint file (see [`Progress::checkpoint_file`]).
    #[must_use]
    pub fn with_checkpoint_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// This handle with the bytes of the job's saved checkpoint (see
    /// [`Progress::saved_checkpoint`]).
    #[must_use]
    pub fn with_saved_checkpoint(mut self, bytes: Option<Arc<[u8]>>) -> Self {
        self.saved = bytes;
        self
    }

    /// Where this job's checkpoint lives: `<run dir>/_checkpoints/job-<index:06>.ckpt` during a
    /// run (`None` when `run_job` is called outside the harness). The file survives a killed
    /// run; the harness deletes it once the job's parts are written, and `--restart` discards
    /// it. Jobs use [`Progress::saved_checkpoint`] and [`Progress::save_checkpoint`] rather than
    /// the path.
    pub fn checkpoint_file(&self) -> Option<&Path> {
        self.checkpoint.as_deref()
    }

    /// The job's checkpoint as a killed run left it, read by the harness before the job started
    /// (bounded by `Experiment::max_checkpoint_bytes`; `None` if there was none, or it could
    /// not be used, with a warning). The job parses it and decides whether to resume from it.
    pub fn saved_checkpoint(&self) -> Option<Arc<[u8]>> {
        self.saved.clone()
    }

    /// Saves the job's checkpoint: the harness writes `bytes` atomically to the job's
    /// checkpoint file. An error outside the harness (no checkpoint file).
    pub fn save_checkpoint(&self, bytes: &[u8]) -> anyhow::Result<()> {
        use anyhow::Context as _;
        let path = self
            .checkpoint
            .as_deref()
            .context("this job has no checkpoint file (run_job called outside the harness)")?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        crate::write_file_atomic(path, bytes)
    }

    /// Reports `units` more units of work done. When the run was cancelled by its front end
    /// ([`execute_cancellable`](crate::exec::execute_cancellable)), the job stops here: it unwinds
    /// (without the panic hook) and is abandoned like a job running when SIGINT arrives.
    pub fn inc(&self, units: u64) {
        self.reported.fetch_add(units, Ordering::Relaxed);
        if let Some(shared) = &self.shared {
            shared.add(units);
            if shared
                .cancel
                .as_ref()
                .is_some_and(|c| c.load(Ordering::SeqCst))
            {
                std::panic::resume_unwind(Box::new(Cancelled));
            }
        }
    }

    /// The units reported through this handle so far.
    pub fn reported(&self) -> u64 {
        self.reported.load(Ordering::Relaxed)
    }
}

/// The unwind payload of a job stopped by a cancelled run (see [`Progress::inc`]).
pub(crate) struct Cancelled;

/// Progress state shared by all jobs of a run.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Set by a front end to stop the run (library use, e.g. Ctrl-C in Python).
    pub(crate) cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    total: u64,
    n_jobs: usize,
    done: AtomicU64,
    jobs_done: AtomicUsize,
    jobs_failed: AtomicUsize,
    start: Instant,
    last_log_ms: AtomicU64,
    bar: Option<(u64, ProgressBar)>,
}

impl Shared {
    /// Progress over `n_jobs` jobs of `total` units; a bar when stderr is a terminal.
    #[cfg(test)]
    pub(crate) fn new(total: u64, n_jobs: usize, bar: bool) -> Arc<Self> {
        Self::cancellable(total, n_jobs, bar, None)
    }

    /// [`Shared::new`] whose jobs stop at their next [`Progress::inc`] once `cancel` is set.
    pub(crate) fn cancellable(
        total: u64,
        n_jobs: usize,
        bar: bool,
        cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> Arc<Self> {
        let bar = bar.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{wide_bar}] {percent:>3}% {msg}, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message(format!("jobs 0/{n_jobs}"));
            bar.enable_steady_tick(Duration::from_millis(200));
            (telemetry::set_active_bar(bar.clone()), bar)
        });
        Arc::new(Self {
            cancel,
            total,
            n_jobs,
            done: AtomicU64::new(0),
            jobs_done: AtomicUsize::new(0),
            jobs_failed: AtomicUsize::new(0),
            start: Instant::now(),
            last_log_ms: AtomicU64::new(0),
            bar,
        })
    }

    /// A fresh handle for one job.
    pub(crate) fn job_handle(self: &Arc<Self>) -> Progress {
        Progress {
            shared: Some(Arc::clone(self)),
            reported: AtomicU64::new(0),
            checkpoint: None,
            saved: None,
        }
    }

    fn add(&self, units: u64) {
        let done = self.done.fetch_add(units, Ordering::Relaxed) + units;
        match &self.bar {
            Some((_, bar)) => bar.inc(units),
            None => self.maybe_log(done),
        }
    }

    fn maybe_log(&self, done: u64) {
        let now_ms = self.start.elapsed().as_millis() as u64;
        let last = self.last_log_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < LOG_INTERVAL.as_millis() as u64 {
            return;
        }
        if self
            .last_log_ms
            .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return; // another thread logs this interval
        }
        let frac = if self.total == 0 {
            0.0
        } else {
            done as f64 / self.total as f64
        };
        let elapsed = self.start.elapsed().as_secs_f64();
        let eta = if frac > 0.0 {
            human_duration(elapsed * (1.0 - frac).max(0.0) / frac)
        } else {
            "?".to_owned()
        };
        tracing::info!(
            "progress {:.1}% ({done}/{} units), {}/{} jobs done, ETA {eta}",
            100.0 * frac,
            self.total,
            self.jobs_done.load(Ordering::Relaxed),
            self.n_jobs,
        );
    }

    /// Records the end of a job whose handle is `handle` and whose expected work is `expected`
    /// units; returns how many jobs are done now (this one included).
    pub(crate) fn job_finished(
        &self,
        handle: &Progress,
        expected: u64,
        seed: u64,
        ok: bool,
        elapsed: Duration,
    ) -> usize {
        let missing = expected.saturating_sub(handle.reported());
        if missing > 0 {
            self.done.fetch_add(missing, Ordering::Relaxed);
            if let Some((_, bar)) = &self.bar {
                bar.inc(missing);
            }
        }
        let n_done = self.jobs_done.fetch_add(1, Ordering::Relaxed) + 1;
        let n_failed = self
            .jobs_failed
            .fetch_add(usize::from(!ok), Ordering::Relaxed)
            + usize::from(!ok);
        match &self.bar {
            Some((_, bar)) => {
                let failed = if n_failed > 0 {
                    format!(", {n_failed} failed")
                } else {
                    String::new()
                };
                bar.set_message(format!("jobs {n_done}/{}{failed}", self.n_jobs));
            }
            None if ok => tracing::info!(
                "job {n_done}/{} done (seed {seed}) in {}",
                self.n_jobs,
                human_duration(elapsed.as_secs_f64())
            ),
            None => {} // failures are logged by the runner with their error
        }
        n_done
    }

    /// Removes the bar (if any) from the terminal.
    pub(crate) fn finish(&self) {
        if let Some((id, bar)) = &self.bar {
            bar.finish_and_clear();
            telemetry::clear_active_bar(*id);
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_counted_and_topped_up() {
        let shared = Shared::new(30, 2, false);
        let a = shared.job_handle();
        a.inc(4);
        a.inc(6);
        assert_eq!(a.reported(), 10);
        assert_eq!(shared.job_finished(&a, 15, 1, true, Duration::ZERO), 1);
        assert_eq!(shared.done.load(Ordering::Relaxed), 15);
        let b = shared.job_handle();
        b.inc(20);
        assert_eq!(shared.job_finished(&b, 15, 2, false, Duration::ZERO), 2);
        assert_eq!(shared.done.load(Ordering::Relaxed), 35);
        assert_eq!(shared.jobs_failed.load(Ordering::Relaxed), 1);
        Progress::noop().inc(5);
    }
}
