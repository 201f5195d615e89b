//! Execution: the jobs of a [`Plan`] on a rayon pool, each under its job lock,
//! with resume, progress, a clean stop on SIGINT/SIGTERM, the manifest and the experiment's
//! `finish` — and `--redraw`, which only runs `finish` on a run directory.
//!
//! Layer: `cli` → `exec` → `store`, `plan`; nothing here parses command lines.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context as _, bail};
use rayon::prelude::*;

use crate::config::ConfigError;
use crate::parquet_io::write_parquet_batches_atomic;
use crate::plan::Plan;
use crate::progress::Shared;
use crate::store::{
    Manifest, ManifestFailure, RunStatus, check_run_config, create_run_dir, write_config_file,
};
use crate::util::{human_duration, remove_if_exists, rfc3339_utc};
use crate::{Experiment, FailedJob, Job, JobOutput, RunDir, interrupt, resume};

/// How a plan is executed: this process's threads and shard, `--restart`, and the command
/// line recorded in the manifest.
#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Worker threads (at most one job per thread).
    pub threads: usize,
    /// Run only this shard's jobs.
    pub shard: Option<crate::Shard>,
    /// Discard finished jobs (the shard's, or all) and run them again.
    pub restart: bool,
    /// The command line, for the manifest.
    pub command_line: String,
}

/// Runs `plan`'s jobs (those of `opts.shard`) in its run directory: resumes finished jobs, runs
/// the rest in parallel, writes the manifest and (unless sharded) runs `finish`. Failed jobs are
/// reported in the summary, not as `Err`; `Err` is a usage or I/O error that prevented the run.
pub fn execute<E: Experiment>(
    plan: &Plan<'_, E>,
    opts: &ExecOptions,
) -> anyhow::Result<RunSummary> {
    execute_with(plan, opts, None)
}

/// The error of [`execute_cancellable`] when `cancel` was set.
#[derive(Debug, thiserror::Error)]
#[error("run interrupted: {manifest} says which jobs did not finish (running it again resumes)")]
pub struct Interrupted {
    /// The manifest written with `status = "interrupted"`.
    pub manifest: PathBuf,
}

/// [`execute`] for a front end that handles signals itself (e.g. the Python package, where
/// Ctrl-C must raise `KeyboardInterrupt`, not end the process): no SIGINT/SIGTERM handler is
/// installed; setting `cancel` starts no new job and stops the running ones at their next
/// [`Progress::inc`](crate::Progress::inc) (they are abandoned, as with SIGINT), the manifest
/// says `interrupted` and the result is an [`Interrupted`] error. Finished jobs stay.
pub fn execute_cancellable<E: Experiment>(
    plan: &Plan<'_, E>,
    opts: &ExecOptions,
    cancel: Arc<AtomicBool>,
) -> anyhow::Result<RunSummary> {
    execute_with(plan, opts, Some(cancel))
}

fn execute_with<E: Experiment>(
    plan: &Plan<'_, E>,
    opts: &ExecOptions,
    cancel: Option<Arc<AtomicBool>>,
) -> anyhow::Result<RunSummary> {
    let cancelled = || cancel.as_ref().is_some_and(|c| c.load(Ordering::SeqCst));
    let exp = plan.exp;
    let bin = format!("exp-{}", exp.name());
    let (cfg, inputs, config_text) = (&plan.cfg, &plan.inputs, &plan.config_text);
    let (jobs, job_cfgs, units) = (&plan.jobs, &plan.job_cfgs, &plan.units);
    let total_units = plan.total_units;
    let run_dir = plan.run_dir.clone();
    let default_id = plan.default_id.clone();
    let code_version = plan.code_version.clone();
    let (shard, threads) = (opts.shard, opts.threads);
    // The jobs that may run at once must fit in memory: checked before anything is written.
    if let Some(limit) = crate::limits::memory_limit() {
        let needs: Vec<crate::limits::MemoryNeed> = jobs
            .iter()
            .zip(job_cfgs)
            .filter(|(j, _)| shard.is_none_or(|s| s.contains(j.index)))
            .filter_map(|(j, c)| exp.memory_need(c, j, inputs))
            .collect();
        crate::limits::check_memory(&needs, threads, &limit)?;
    }
    let restart_all = opts.restart && shard.is_none();
    create_run_dir(&run_dir)?;
    // A whole-sweep --restart deletes every part: it needs the directory alone. Everything else
    // shares it and locks each job it touches (crate::lock).
    let _run_lock = if restart_all {
        crate::lock::run_exclusive(&run_dir, "--restart")?
    } else {
        crate::lock::run_shared(&run_dir, &bin)?
    };
    let config_hash = resume::config_hash(config_text);
    // Records made for the stored config.toml, when an older version wrote it and it resolves
    // to this config today, are taken over (re-bound to this config's hash).
    let older = check_run_config(exp, &run_dir, config_text)?;
    crate::inputs::store(&run_dir, inputs)?;
    write_config_file(&run_dir, config_text)?;
    crate::store::clear_dead_temporaries(&run_dir)?;
    let run_id = match &plan.run_id_flag {
        Some(id) => id.clone(),
        None => run_dir
            .canonicalize()
            .unwrap_or_else(|_| run_dir.clone())
            .file_name()
            .map_or_else(|| default_id.clone(), |n| n.to_string_lossy().into_owned()),
    };

    // This process's jobs: all, or those of its shard. Nothing below touches a job's files
    // without holding that job's lock: other shards and other processes on the same --out may
    // be running in this directory at the same time.
    let selected: Vec<usize> = (0..jobs.len())
        .filter(|&p| shard.is_none_or(|s| s.contains(jobs[p].index)))
        .collect();
    if restart_all {
        tracing::warn!("--restart: discarding the parts in {}", run_dir.display());
        crate::store::clear_collected(&run_dir)?;
        resume::clear_all(&run_dir)?;
    }

    // Resume: keep the jobs whose completion record and parts are intact; clear the rest.
    let mut todo = vec![JobStatus::Pending; selected.len()];
    for (&p, todo) in selected.iter().zip(todo.iter_mut()) {
        let job = &jobs[p];
        let crate::lock::Attempt::Held(_job_lock) = crate::lock::try_job(&run_dir, job.index)?
        else {
            *todo = JobStatus::Busy;
            continue;
        };
        if opts.restart && shard.is_some() {
            resume::clear_job(&run_dir, job.index)?;
            remove_if_exists(&resume::checkpoint_path(&run_dir, job.index))?;
            continue;
        }
        if take_finished(&run_dir, job, &config_hash, older.as_deref())? {
            *todo = JobStatus::Resumed;
        }
    }
    let n_selected = selected.len();
    let n_resumed = todo.iter().filter(|&&t| t == JobStatus::Resumed).count();
    let n_busy = todo.iter().filter(|&&t| t == JobStatus::Busy).count();
    if n_busy > 0 {
        tracing::info!(
            "{bin}: {n_busy} jobs are being run by another process in {}; they are left to it",
            run_dir.display()
        );
    }
    if opts.restart && shard.is_some() {
        tracing::warn!(
            "--restart: discarded the parts of shard {} in {}",
            shard.map(|s| s.text()).unwrap_or_default(),
            run_dir.display()
        );
    }
    if n_resumed < n_selected {
        // Jobs will be (re)written: tables merged by an earlier `collect` would go stale.
        crate::store::clear_collected(&run_dir)?;
    }
    let todo_units = selected
        .iter()
        .zip(&todo)
        .filter(|&(_, &t)| t != JobStatus::Resumed)
        .fold(0_u64, |a, (&p, _)| a.saturating_add(units[p]));

    let started = SystemTime::now();
    let t0 = Instant::now();
    let manifest_name = shard.map_or_else(|| "manifest.toml".to_owned(), |s| s.manifest_name());
    let manifest = Manifest {
        experiment: exp.name().to_owned(),
        run_id: run_id.clone(),
        status: RunStatus::Running,
        git_commit: code_version,
        command_line: opts.command_line.trim_end().to_owned(),
        threads,
        shard: shard.map(|s| s.text()),
        signal: None,
        started_utc: rfc3339_utc(started),
        ended_utc: None,
        elapsed_s: None,
        n_jobs: n_selected,
        n_jobs_total: jobs.len(),
        n_ok: 0,
        n_failed: 0,
        n_resumed,
        n_by_others: 0,
        total_work_units: i64::try_from(total_units).unwrap_or(i64::MAX),
        finish_error: None,
        not_run: Vec::new(),
        abandoned: Vec::new(),
        failed: Vec::new(),
    };
    let state = Arc::new(RunState {
        path: run_dir.join(&manifest_name),
        manifest: std::sync::Mutex::new((manifest, false)),
        jobs: selected.iter().map(|&p| jobs[p].clone()).collect(),
        status: todo.iter().map(|&t| AtomicU8::new(t as u8)).collect(),
        errors: std::sync::Mutex::new(vec![None; n_selected]),
        stop: AtomicBool::new(false),
        t0,
    });
    state.write_manifest(|_| {})?;
    // SIGINT/SIGTERM from here on: no new jobs, the manifest says "interrupted", exit 130/143.
    let hook_state = Arc::clone(&state);
    let _interrupt = cancel
        .is_none()
        .then(|| interrupt::on_interrupt(move |signal| hook_state.interrupt(signal)));

    let shard_text = shard.map_or_else(String::new, |s| format!(" (shard {})", s.text()));
    if n_resumed > 0 {
        tracing::info!(
            "{bin}: resuming {}{shard_text}: {n_resumed} of {n_selected} jobs already done (--restart runs them again)",
            run_dir.display(),
        );
    }
    tracing::info!(
        "{bin}: {} jobs{shard_text} ({todo_units} work units) on {threads} threads -> {}",
        n_selected - n_resumed,
        run_dir.display()
    );

    // No more threads than jobs to run (an absurd --threads for a small sweep starts no
    // thousands of idle threads).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.min((n_selected - n_resumed).max(1)))
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .context("cannot start the thread pool")?;
    let progress = Shared::cancellable(
        todo_units,
        n_selected - n_resumed,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
        cancel.clone(),
    );
    let git = state.manifest_git_commit();
    let ctx = JobContext {
        run_dir: &run_dir,
        experiment: exp.name(),
        run_id: &run_id,
        config_hash: &config_hash,
        git_commit: &git,
        n_jobs: n_selected - n_resumed,
        progress: &progress,
        inputs,
    };
    // One job under its lock: skipped if another process holds it (`wait`: wait for it), taken
    // over if another process finished it meanwhile, else cleared and run.
    let attempt = |k: usize, wait: bool| {
        let job = &jobs[selected[k]];
        if state.stop.load(Ordering::SeqCst) || cancelled() {
            return;
        }
        let set = |s: JobStatus| state.status[k].store(s as u8, Ordering::SeqCst);
        let fail = |e: String| {
            state.errors.lock().unwrap_or_else(|e| e.into_inner())[k] = Some(e);
            set(JobStatus::Failed);
        };
        let _job_lock = match lock_job(&run_dir, job.index, wait, &state.stop) {
            Ok(Some(held)) => held,
            Ok(None) => return set(JobStatus::Busy),
            Err(e) => return fail(format!("{e:#}")),
        };
        match take_finished(&run_dir, job, &config_hash, older.as_deref()) {
            Ok(true) => return set(JobStatus::ByOther),
            Ok(false) => {}
            Err(e) => return fail(format!("{e:#}")),
        }
        set(JobStatus::Running);
        let p = selected[k];
        match run_one(exp, &job_cfgs[p], job, units[p], &ctx) {
            Ok(()) => set(JobStatus::Ok),
            // Stopped by a cancelled run: abandoned while running, as with SIGINT.
            Err(_) if cancelled() => {}
            Err(e) => fail(e),
        }
    };
    let status_of = |k: usize| JobStatus::from_u8(state.status[k].load(Ordering::SeqCst));
    pool.install(|| {
        (0..n_selected)
            .into_par_iter()
            .filter(|&k| status_of(k) != JobStatus::Resumed)
            .for_each(|k| attempt(k, false));
    });
    // Jobs another process was running: wait for each, then take its record or run the job.
    let busy: Vec<usize> = (0..n_selected)
        .filter(|&k| status_of(k) == JobStatus::Busy)
        .collect();
    if !busy.is_empty() && !state.stop.load(Ordering::SeqCst) {
        tracing::info!(
            "{bin}: waiting for {} jobs that another process is running in {}",
            busy.len(),
            run_dir.display()
        );
        pool.install(|| busy.par_iter().for_each(|&k| attempt(k, true)));
    }
    progress.finish();
    drop(pool);
    if cancelled() {
        state.interrupt(signal_hook::consts::SIGINT);
        return Err(Interrupted {
            manifest: state.path.clone(),
        }
        .into());
    }

    let errors = state
        .errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let failed: Vec<FailedJob> = (0..n_selected)
        .filter(|&k| status_of(k) == JobStatus::Failed)
        .map(|k| {
            let job = &jobs[selected[k]];
            FailedJob {
                index: job.index,
                replicate: job.replicate,
                seed: job.seed,
                params: job.params.clone(),
                error: errors[k].clone().unwrap_or_default(),
            }
        })
        .collect();
    let n_by_others = (0..n_selected)
        .filter(|&k| status_of(k) == JobStatus::ByOther)
        .count();
    if n_by_others > 0 {
        tracing::info!("{bin}: {n_by_others} jobs were run by another process in this directory");
    }
    let n_failed = failed.len();
    let n_ok = n_selected - n_failed;

    // `finish` gets the base config (without axes); per-job values are in the tables. A shard
    // sees only its own jobs: figures of a sharded sweep are drawn by `collect`.
    let finish_error = if shard.is_some() {
        None
    } else {
        let run = RunDir::planned(run_dir.clone(), config_hash.clone(), jobs.clone())
            .with_inputs(Arc::clone(inputs));
        match catch_unwind(AssertUnwindSafe(|| exp.finish(cfg, &run))) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
        }
    };
    if let Some(e) = &finish_error {
        tracing::error!("{bin}: finish failed: {e}");
    }

    state.write_manifest(|m| {
        m.status = RunStatus::Finished;
        m.ended_utc = Some(rfc3339_utc(SystemTime::now()));
        m.elapsed_s = Some((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
        m.n_ok = n_ok;
        m.n_failed = n_failed;
        m.n_by_others = n_by_others;
        m.finish_error = finish_error.clone();
        m.failed = failed.iter().map(ManifestFailure::from).collect();
    })?;

    let elapsed = human_duration(t0.elapsed().as_secs_f64());
    if n_failed == 0 {
        tracing::info!(
            "{bin}: all {n_selected} jobs{shard_text} ok in {elapsed}; results in {}",
            run_dir.display()
        );
    } else {
        let indices: Vec<String> = failed.iter().map(|f| f.index.to_string()).collect();
        tracing::warn!(
            "{bin}: {n_ok}/{n_selected} jobs{shard_text} ok, {n_failed} failed (indices {}) in {elapsed}; see {}",
            indices.join(", "),
            state.path.display()
        );
    }

    Ok(RunSummary {
        run_dir,
        n_jobs: n_selected,
        n_ok,
        n_failed,
        n_resumed,
        n_by_others,
        failed,
        finish_error,
        shard,
        n_jobs_total: jobs.len(),
    })
}

/// `--redraw`: runs `finish` on the run directory `run_dir` from its `config.toml` and the jobs
/// recorded there, without simulating anything.
pub fn redraw<E: Experiment>(exp: &E, run_dir: &Path) -> anyhow::Result<Outcome> {
    let stored = run_dir.join("config.toml");
    if !stored.is_file() {
        return Err(ConfigError::Usage(format!(
            "--redraw: {} has no config.toml (not a run directory of exp-{})",
            run_dir.display(),
            exp.name()
        ))
        .into());
    }
    let _lock = crate::lock::run_shared(run_dir, "--redraw")?;
    let stored_text = crate::store::read_small_text(&stored)?;
    let (stored_cfg, stored_table, stored_inputs) =
        crate::resolve_config_inputs(exp, Some(&stored), &[], false, &[])?;
    let stored_jobs = crate::expand_jobs(exp, &stored_cfg, &stored_table, &stored_inputs)?
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    let run = RunDir::planned(run_dir, resume::config_hash(&stored_text), stored_jobs)
        .with_inputs(stored_inputs);
    let finish_error = match catch_unwind(AssertUnwindSafe(|| exp.finish(&stored_cfg, &run))) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(_) => Some("finish panicked".to_owned()),
    };
    Ok(Outcome::Redrawn {
        run_dir: run_dir.to_path_buf(),
        finish_error,
    })
}

/// What one command did, one variant per kind of outcome ([`run_cli`](crate::run_cli) returns
/// it; [`execute`] returns the [`RunSummary`] of [`Outcome::Ran`]). Serialized with a tag
/// `outcome` (`listed`, `ran`, `redrawn`, `submitted`, `collected`), both ways.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// `--list`: nothing ran and nothing was created.
    Listed {
        /// The directory a run would use.
        run_dir: PathBuf,
        /// Jobs of the sweep.
        n_jobs: usize,
        /// The resolved config as TOML (usable as `--config`), then the jobs as comments.
        listing: String,
    },
    /// A run (or one shard of it).
    Ran(RunSummary),
    /// `--redraw`: the figures were drawn again from the recorded jobs.
    Redrawn {
        /// The run directory.
        run_dir: PathBuf,
        /// The error of `Experiment::finish`, if it failed.
        finish_error: Option<String>,
    },
    /// `slurm`: the job array's scripts were written (and submitted unless `--dry-run`).
    Submitted {
        /// The run directory.
        run_dir: PathBuf,
        /// Jobs of the sweep.
        n_jobs: usize,
        /// Paths, job ids and commands, for stdout.
        report: String,
    },
    /// `collect`: every job checked, and the parts merged (unless jobs are missing and
    /// `--allow-missing` was not given).
    Collected {
        /// The run directory.
        run_dir: PathBuf,
        /// Jobs of the sweep.
        n_jobs: usize,
        /// Jobs with intact parts and a valid record.
        n_complete: usize,
        /// Jobs without them.
        n_missing: usize,
        /// Missing jobs with the errors their shards' manifests recorded.
        failed: Vec<FailedJob>,
        /// The error of `Experiment::finish`, if it ran and failed.
        finish_error: Option<String>,
        /// What was merged, or which jobs are missing and the commands that re-run them.
        report: String,
    },
}

impl Outcome {
    /// The run directory (with `--list`: the one a run would use).
    pub fn run_dir(&self) -> &Path {
        match self {
            Outcome::Listed { run_dir, .. }
            | Outcome::Redrawn { run_dir, .. }
            | Outcome::Submitted { run_dir, .. }
            | Outcome::Collected { run_dir, .. } => run_dir,
            Outcome::Ran(s) => &s.run_dir,
        }
    }

    /// Everything succeeded: every job and the figures (a run), the figures (`--redraw`), no
    /// job missing and the figures (`collect`).
    pub fn success(&self) -> bool {
        match self {
            Outcome::Listed { .. } | Outcome::Submitted { .. } => true,
            Outcome::Ran(s) => s.success(),
            Outcome::Redrawn { finish_error, .. } => finish_error.is_none(),
            Outcome::Collected {
                n_missing,
                finish_error,
                ..
            } => *n_missing == 0 && finish_error.is_none(),
        }
    }

    /// The summary of a run; an error naming the outcome otherwise.
    pub fn into_run(self) -> anyhow::Result<RunSummary> {
        match self {
            Outcome::Ran(s) => Ok(s),
            other => Err(anyhow::anyhow!("not a run: {}", other.kind())),
        }
    }

    /// Jobs of the sweep (with a shard: of the shard); 0 for `--redraw`.
    pub fn n_jobs(&self) -> usize {
        match self {
            Outcome::Listed { n_jobs, .. }
            | Outcome::Submitted { n_jobs, .. }
            | Outcome::Collected { n_jobs, .. } => *n_jobs,
            Outcome::Ran(s) => s.n_jobs,
            Outcome::Redrawn { .. } => 0,
        }
    }

    /// The `--list` text, if this is `--list`.
    pub fn listing(&self) -> Option<&str> {
        match self {
            Outcome::Listed { listing, .. } => Some(listing),
            _ => None,
        }
    }

    /// The report printed by `slurm` and `collect`.
    pub fn report(&self) -> Option<&str> {
        match self {
            Outcome::Submitted { report, .. } | Outcome::Collected { report, .. } => Some(report),
            _ => None,
        }
    }

    /// The tag: `listed`, `ran`, `redrawn`, `submitted` or `collected`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Listed { .. } => "listed",
            Outcome::Ran(_) => "ran",
            Outcome::Redrawn { .. } => "redrawn",
            Outcome::Submitted { .. } => "submitted",
            Outcome::Collected { .. } => "collected",
        }
    }
}

/// The outcome of a run ([`execute`]): how many jobs ran, were resumed or failed.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct RunSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Number of jobs (of this shard).
    pub n_jobs: usize,
    /// Jobs that succeeded (their parts are written).
    pub n_ok: usize,
    /// Jobs that failed.
    pub n_failed: usize,
    /// Jobs skipped because the run directory already held their intact parts (resume).
    pub n_resumed: usize,
    /// Jobs another process (a second sweep or shard on the same run directory) was running
    /// when this one started and finished while it waited (counted in `n_ok`).
    pub n_by_others: usize,
    /// The failed jobs, by index.
    pub failed: Vec<FailedJob>,
    /// The error of `Experiment::finish`, if it failed.
    pub finish_error: Option<String>,
    /// The shard this process ran (`--shard`); `n_jobs` etc. count this shard's jobs only.
    pub shard: Option<crate::Shard>,
    /// Jobs of the whole sweep (all shards).
    pub n_jobs_total: usize,
}

impl RunSummary {
    /// All jobs and `finish` succeeded.
    pub fn success(&self) -> bool {
        self.n_failed == 0 && self.finish_error.is_none()
    }
}

/// Where one of this process's jobs stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum JobStatus {
    /// Not started.
    Pending,
    /// Running in this process.
    Running,
    /// Run by this process; parts and record written.
    Ok,
    /// Run by this process and failed.
    Failed,
    /// Found finished in the run directory (resume).
    Resumed,
    /// Held by another process (its job lock).
    Busy,
    /// Finished by another process while this one waited.
    ByOther,
}

impl JobStatus {
    fn from_u8(v: u8) -> Self {
        [
            Self::Pending,
            Self::Running,
            Self::Ok,
            Self::Failed,
            Self::Resumed,
            Self::Busy,
            Self::ByOther,
        ]
        .into_iter()
        .find(|s| *s as u8 == v)
        .expect("a JobStatus stored as u8")
    }
}

/// Job `index`'s lock: `None` if another process holds it (`wait`: poll until it is released
/// or the sweep is stopped).
fn lock_job(
    run_dir: &Path,
    index: usize,
    wait: bool,
    stop: &AtomicBool,
) -> anyhow::Result<Option<crate::lock::Held>> {
    loop {
        match crate::lock::try_job(run_dir, index)? {
            crate::lock::Attempt::Held(h) => return Ok(Some(h)),
            crate::lock::Attempt::Busy if !wait || stop.load(Ordering::SeqCst) => return Ok(None),
            crate::lock::Attempt::Busy => std::thread::sleep(std::time::Duration::from_millis(200)),
        }
    }
}

/// With job `job`'s lock held: whether it is finished for the config of hash `config` (records
/// made for `older`, the hash of an older version's equivalent config.toml, are re-bound to
/// `config`). A job that is not finished has its leftovers (record, parts, temporaries)
/// removed, with a warning when a record was there but cannot be trusted.
fn take_finished(
    run_dir: &Path,
    job: &Job,
    config: &str,
    older: Option<&str>,
) -> anyhow::Result<bool> {
    let state = match (resume::check_job(run_dir, job, config), older) {
        (resume::JobState::Invalid(_), Some(old)) => match resume::check_job(run_dir, job, old) {
            resume::JobState::Done(mut r) => {
                r.config_fnv1a64 = config.to_owned();
                resume::write_done(run_dir, &r)?;
                resume::JobState::Done(r)
            }
            other => other,
        },
        (state, _) => state,
    };
    match state {
        resume::JobState::Done(_) => {
            resume::clear_job_temporaries(run_dir, job.index)?;
            Ok(true)
        }
        resume::JobState::NotRun => {
            resume::clear_job(run_dir, job.index)?;
            Ok(false)
        }
        resume::JobState::Invalid(why) => {
            tracing::warn!("job {} will be redone: {why}", job.index);
            resume::clear_job(run_dir, job.index)?;
            Ok(false)
        }
    }
}

/// What the SIGINT/SIGTERM hook needs to know about a running sweep (this process's jobs).
struct RunState {
    /// The manifest file (`manifest.toml` or `manifest-shard-K-of-N.toml`).
    path: PathBuf,
    /// The manifest, and whether the hook has written its final ("interrupted") version.
    manifest: std::sync::Mutex<(Manifest, bool)>,
    jobs: Vec<Job>,
    status: Vec<AtomicU8>,
    errors: std::sync::Mutex<Vec<Option<String>>>,
    /// Set by the hook: jobs not yet started are not started.
    stop: AtomicBool,
    t0: Instant,
}

impl RunState {
    /// Applies `update` and writes the manifest, unless the hook has already written its final
    /// version.
    fn write_manifest(&self, update: impl FnOnce(&mut Manifest)) -> anyhow::Result<()> {
        let mut guard = self.manifest.lock().unwrap_or_else(|e| e.into_inner());
        if guard.1 {
            return Ok(());
        }
        update(&mut guard.0);
        guard.0.write_to(&self.path)
    }

    fn manifest_git_commit(&self) -> String {
        let guard = self.manifest.lock().unwrap_or_else(|e| e.into_inner());
        guard.0.git_commit.clone()
    }

    /// The SIGINT/SIGTERM hook: stop starting jobs and write the "interrupted" manifest.
    fn interrupt(&self, signal: i32) {
        self.stop.store(true, Ordering::SeqCst);
        let name = interrupt::signal_name(signal);
        let mut guard = self.manifest.lock().unwrap_or_else(|e| e.into_inner());
        let errors = self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let (m, written) = &mut *guard;
        m.status = RunStatus::Interrupted;
        m.signal = Some(name.clone());
        m.ended_utc = Some(rfc3339_utc(SystemTime::now()));
        m.elapsed_s = Some((self.t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
        let (mut ok, mut failed) = (0, Vec::new());
        m.not_run.clear();
        m.abandoned.clear();
        for (k, job) in self.jobs.iter().enumerate() {
            match JobStatus::from_u8(self.status[k].load(Ordering::SeqCst)) {
                JobStatus::Ok | JobStatus::Resumed | JobStatus::ByOther => ok += 1,
                JobStatus::Failed => failed.push(FailedJob {
                    index: job.index,
                    replicate: job.replicate,
                    seed: job.seed,
                    params: job.params.clone(),
                    error: errors[k].clone().unwrap_or_default(),
                }),
                JobStatus::Running => m.abandoned.push(job.index),
                JobStatus::Pending | JobStatus::Busy => m.not_run.push(job.index),
            }
        }
        m.n_ok = ok;
        m.n_failed = failed.len();
        m.failed = failed.iter().map(ManifestFailure::from).collect();
        match m.write_to(&self.path) {
            Ok(()) => *written = true,
            Err(e) => eprintln!("error: cannot write {}: {e:#}", self.path.display()),
        }
        eprintln!(
            "{name}: sweep interrupted: {ok} jobs done, {} failed, {} abandoned while running, {} not started; see {} (running the same command again resumes)",
            m.n_failed,
            m.abandoned.len(),
            m.not_run.len(),
            self.path.display()
        );
    }
}

/// What every job of a run shares.
struct JobContext<'a> {
    run_dir: &'a Path,
    experiment: &'a str,
    run_id: &'a str,
    /// The resolved config's hash, bound into every completion record.
    config_hash: &'a str,
    git_commit: &'a str,
    n_jobs: usize,
    progress: &'a Arc<Shared>,
    inputs: &'a crate::Inputs,
}

/// Runs one job (catching panics) and writes its tables. Returns the error text on failure.
fn run_one<E: Experiment>(
    exp: &E,
    cfg: &E::Config,
    job: &Job,
    units: u64,
    ctx: &JobContext<'_>,
) -> Result<(), String> {
    let checkpoint = resume::checkpoint_path(ctx.run_dir, job.index);
    let saved = exp
        .max_checkpoint_bytes(cfg)
        .and_then(|max| crate::inputs::read_job_checkpoint(&checkpoint, max, job.index));
    let handle = ctx
        .progress
        .job_handle()
        .with_checkpoint_file(checkpoint.clone())
        .with_saved_checkpoint(saved);
    let t0 = Instant::now();
    tracing::debug!("job {} (seed {}) started", job.index, job.seed);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> anyhow::Result<()> {
        let output = exp.run_job(cfg, job, ctx.inputs, &handle)?;
        write_output(ctx, job, output)
    }));
    let result = match outcome {
        Ok(Ok(())) => {
            // The parts and the record are in place: the checkpoint is no longer needed.
            if let Err(e) = std::fs::remove_file(&checkpoint)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!("cannot remove {}: {e}", checkpoint.display());
            }
            Ok(())
        }
        Ok(Err(e)) => Err(format!("{e:#}")),
        Err(payload) if payload.is::<crate::progress::Cancelled>() => {
            return Err("cancelled".to_owned());
        }
        Err(payload) => Err(format!("panicked: {}", panic_message(payload.as_ref()))),
    };
    let elapsed = t0.elapsed();
    let n_done = ctx
        .progress
        .job_finished(&handle, units, job.seed, result.is_ok(), elapsed);
    if let Err(e) = &result {
        let params = if job.params.is_empty() {
            String::new()
        } else {
            format!(", {}", job.params_text())
        };
        tracing::error!(
            "job {n_done}/{} FAILED (index {}, seed {}{params}) after {}: {e}",
            ctx.n_jobs,
            job.index,
            job.seed,
            human_duration(elapsed.as_secs_f64())
        );
    }
    result
}

fn valid_table_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && !name.starts_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// Writes each table of `output` as `<run dir>/<table>/job-<index:06>.parquet` and its files
/// (see [`JobOutput::push_file`]); on failure removes the parts and files of this job written
/// so far.
fn write_output(ctx: &JobContext<'_>, job: &Job, output: JobOutput) -> anyhow::Result<()> {
    // Batches of the same table (e.g. one per branch of a job) go into one part, in order.
    let mut tables: Vec<(String, Vec<arrow_array::RecordBatch>)> = Vec::new();
    let JobOutput {
        tables: output_tables,
        files,
    } = output;
    for (name, batch) in output_tables {
        if !valid_table_name(&name) {
            bail!(
                "invalid table name '{name}' (use letters, digits, '_', '-', '.'; not starting with '.' or '_')"
            );
        }
        match tables.iter_mut().find(|(n, _)| *n == name) {
            Some((_, batches)) => batches.push(batch),
            None => tables.push((name, vec![batch])),
        }
    }
    let metadata = vec![
        ("elise.experiment".to_owned(), ctx.experiment.to_owned()),
        ("elise.run_id".to_owned(), ctx.run_id.to_owned()),
        ("elise.git_commit".to_owned(), ctx.git_commit.to_owned()),
        ("elise.job_index".to_owned(), job.index.to_string()),
        ("elise.replicate".to_owned(), job.replicate.to_string()),
        ("elise.seed".to_owned(), job.seed.to_string()),
        ("elise.params".to_owned(), job.params_text()),
    ];
    let mut written: Vec<PathBuf> = Vec::new();
    let result = (|| {
        let mut records = Vec::with_capacity(tables.len());
        for (name, batches) in &tables {
            let dir = ctx.run_dir.join(name);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create table directory {}", dir.display()))?;
            let path = dir.join(resume::part_file_name(job.index));
            write_parquet_batches_atomic(&path, batches, &metadata)
                .with_context(|| format!("table '{name}'"))?;
            written.push(path.clone());
            let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
            records.push(resume::describe_part(&path, name, rows)?);
        }
        let names: Vec<&str> = tables.iter().map(|(n, _)| n.as_str()).collect();
        let mut file_records = Vec::with_capacity(files.len());
        for (path, contents) in &files {
            let target = crate::job_files::write(ctx.run_dir, path, contents, &names)?;
            written.push(target.clone());
            let dir = path.split('/').next().unwrap_or_default();
            file_records.push(resume::describe_part(&target, dir, 0)?);
        }
        // Last: the record that marks the job finished (resume trusts nothing else).
        resume::write_record(ctx.run_dir, job, ctx.config_hash, records, file_records)
    })();
    if result.is_err() {
        for path in &written {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every outcome survives a round trip through TOML, tag and fields included.
    #[test]
    fn outcomes_serialize_both_ways() {
        let failed = FailedJob {
            index: 4,
            replicate: 1,
            seed: 1004,
            params: vec![("model.size".into(), "3".into())],
            error: "boom".into(),
        };
        let outcomes = [
            Outcome::Listed {
                run_dir: "results/x/run-1".into(),
                n_jobs: 3,
                listing: "[run]\nseeds = 3\n".into(),
            },
            Outcome::Ran(RunSummary {
                run_dir: "out".into(),
                n_jobs: 2,
                n_ok: 1,
                n_failed: 1,
                n_resumed: 1,
                n_by_others: 0,
                failed: vec![failed.clone()],
                finish_error: None,
                shard: Some(crate::Shard { index: 1, count: 3 }),
                n_jobs_total: 6,
            }),
            Outcome::Redrawn {
                run_dir: "out".into(),
                finish_error: Some("no rows".into()),
            },
            Outcome::Submitted {
                run_dir: "out".into(),
                n_jobs: 6,
                report: "submitted".into(),
            },
            Outcome::Collected {
                run_dir: "out".into(),
                n_jobs: 6,
                n_complete: 5,
                n_missing: 1,
                failed: vec![failed],
                finish_error: None,
                report: "5 of 6".into(),
            },
        ];
        for o in outcomes {
            let text = toml::to_string(&o).unwrap();
            assert!(
                text.contains(&format!("outcome = \"{}\"", o.kind())),
                "{text}"
            );
            let back: Outcome = toml::from_str(&text).unwrap();
            assert_eq!(format!("{back:?}"), format!("{o:?}"));
            assert_eq!(back.success(), o.success());
        }
    }
}
