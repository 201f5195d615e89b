//! The command line shared by every experiment, and the runner behind it: run directory,
//! `config.toml`, `manifest.toml`, the rayon pool, per-job Parquet parts and failure handling.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail};
use clap::{CommandFactory as _, FromArgMatches as _};
use rayon::prelude::*;

use crate::config::{self, ConfigError};
use crate::parquet_io::{write_file_atomic, write_parquet_batches_atomic};
use crate::progress::Shared;
use crate::util::{fnv1a_64, git_commit, human_duration, rfc3339_utc, shell_join};
use crate::{Experiment, Job, JobOutput, RunDir, init_tracing, interrupt, resume, shard};

/// Runs an experiment's jobs in parallel and writes one Parquet part per job and table.
#[derive(Debug, clap::Parser)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(flatten)]
    run: RunArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Write a Slurm job-array script for this sweep (config flags as for a run) into
    /// <run dir>/slurm/, copy the binary and config there, and submit it with sbatch.
    Slurm(Box<crate::slurm::SlurmArgs>),
    /// Check that every job of a run directory has its intact parts, print the command that
    /// re-runs the missing ones, merge the parts into one Parquet file per table and run the
    /// experiment's figures.
    Collect(crate::collect::CollectArgs),
}

/// The flags of a run (also those of `slurm`).
#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// TOML file deep-merged over the embedded default config (every key must exist there).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one config value: dotted key = TOML value (strings may be unquoted).
    /// Repeatable; applied last, in order.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Add a grid axis (experiments with an [axes] table): dotted config key = comma-separated
    /// values, e.g. --axis network.n_latent=10,20,50 (same as --set axes.KEY=[V1,V2,...]).
    /// Repeatable; applied together with --set, in command-line order.
    #[arg(long = "axis", value_name = "KEY=V1,V2,...")]
    axis: Vec<String>,
    /// Pattern file (sets pattern.file).
    #[arg(long, value_name = "FILE")]
    pattern: Option<String>,
    /// Number of seeds (sets run.seeds).
    #[arg(long, value_name = "N")]
    seeds: Option<u64>,
    /// Worker threads, one job per thread at a time [default: SLURM_CPUS_PER_TASK, else all
    /// cores]. Results do not depend on it.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Run directory [default: results/<experiment>/<run id>].
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
    /// Run id, recorded in the manifest and every part [default: the run directory's name;
    /// without --out, run-<hash of the resolved config and the code version>].
    #[arg(long, value_name = "ID")]
    pub(crate) run_id: Option<String>,
    /// Run only shard K of N: the jobs with index % N == K (0-based). `slurm/N` takes K from a
    /// Slurm array task: SLURM_ARRAY_TASK_ID - base (base: --array-base, else
    /// SLURM_ARRAY_TASK_MIN). Shards share one run directory; each writes
    /// manifest-shard-K-of-N.toml; figures are drawn by `collect`.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<String>,
    /// First array index of the job array, for --shard slurm/N (written into generated
    /// scripts so that a re-submitted single task still computes its shard).
    #[arg(long, value_name = "B")]
    pub(crate) array_base: Option<usize>,
    /// Apply the experiment's quick overrides (a short smoke run).
    #[arg(long)]
    quick: bool,
    /// Print the resolved config and the job list, then exit without running.
    #[arg(long)]
    list: bool,
    /// Redraw the figures and summaries of an existing run directory (--out DIR) from its
    /// Parquet tables and its config.toml, without simulating anything.
    #[arg(long)]
    pub(crate) redraw: bool,
    /// Discard the finished jobs of an existing run directory and run every job again
    /// [default: resume — jobs whose parts exist and are intact are skipped].
    #[arg(long)]
    pub(crate) restart: bool,
    /// Save each job's training state every N cycles (sets run.checkpoint_every; experiments
    /// with checkpoints only); a killed job resumes from its last checkpoint.
    #[arg(long, value_name = "N")]
    checkpoint_every: Option<u64>,
    /// Start from a saved network instead of training one (sets run.from_checkpoint;
    /// experiments with checkpoints only).
    #[arg(long, value_name = "FILE")]
    from_checkpoint: Option<String>,
}

/// A job that failed: returned `Err`, panicked, or its output could not be written.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FailedJob {
    /// The job's index.
    pub index: usize,
    /// The job's replicate number.
    pub replicate: usize,
    /// The job's seed.
    pub seed: u64,
    /// The job's params.
    pub params: Vec<(String, String)>,
    /// The full error chain (`{:#}`), or the panic message.
    pub error: String,
}

/// The outcome of [`run_cli`].
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// The run directory (with `--list`: the directory a run would use; nothing is created).
    pub run_dir: PathBuf,
    /// Number of jobs.
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
    /// With `--list`: the text to print (resolved config as TOML, then the jobs as comments);
    /// no job ran.
    pub listing: Option<String>,
    /// The shard this process ran (`--shard`); `n_jobs` etc. count this shard's jobs only.
    pub shard: Option<crate::Shard>,
    /// Jobs of the whole sweep (all shards).
    pub n_jobs_total: usize,
    /// `collect`: jobs without intact parts (the merge is then skipped unless
    /// `--allow-missing`).
    pub n_missing: usize,
    /// `slurm` and `collect`: what to print on stdout (paths, job ids, re-run commands).
    pub report: Option<String>,
}

impl RunSummary {
    /// All jobs and `finish` succeeded (for `collect`: and no job is missing).
    pub fn success(&self) -> bool {
        self.n_failed == 0 && self.finish_error.is_none() && self.n_missing == 0
    }
}

/// The entry point of every experiment binary:
/// `fn main() -> std::process::ExitCode { elise_sweep::main::<MyExperiment>() }`.
///
/// Initializes tracing, runs [`run_cli`] on the process arguments and prints `results: <dir>`
/// (or the `--list` text, or the report of `slurm` and `collect`) to stdout. Exit code: 0 if
/// every job succeeded, 1 if a job or `finish` failed, `collect` found jobs missing (or the run
/// could not proceed), 2 for usage and config errors (printed once to stderr), 128 + signal
/// (130, 143) when SIGINT or SIGTERM stopped the sweep (see the crate docs).
pub fn main<E: Experiment>() -> ExitCode {
    init_tracing();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match run_cli::<E>(&args) {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            if let Some(listing) = &summary.listing {
                let _ = out.write_all(listing.as_bytes());
                return ExitCode::SUCCESS;
            }
            if let Some(report) = &summary.report {
                let _ = out.write_all(report.as_bytes());
            }
            if summary.report.is_none() && summary.n_jobs > 0 {
                let n_here = summary.n_ok - summary.n_resumed - summary.n_by_others;
                let _ = writeln!(
                    out,
                    "jobs: {} of {} ok ({n_here} run now, {} already done, {} run by another process), {} failed",
                    summary.n_ok,
                    summary.n_jobs,
                    summary.n_resumed,
                    summary.n_by_others,
                    summary.n_failed
                );
            }
            let _ = writeln!(out, "results: {}", summary.run_dir.display());
            for f in &summary.failed {
                let first = f.error.lines().next().unwrap_or("");
                eprintln!("error: job {} (seed {}) failed: {first}", f.index, f.seed);
            }
            if let Some(e) = &summary.finish_error {
                eprintln!("error: drawing the figures failed: {e}");
            }
            if summary.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            if let Some(clap_err) = e.downcast_ref::<clap::Error>() {
                let _ = clap_err.print();
                return ExitCode::from(u8::try_from(clap_err.exit_code()).unwrap_or(2));
            }
            if e.downcast_ref::<ConfigError>().is_some() {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Parses `args` (the arguments after the program name) and runs experiment `E`, returning the
/// outcome instead of exiting. Failed jobs are reported in the summary, not as `Err`; `Err` is a
/// usage error (a [`clap::Error`], including `--help`), a [`ConfigError`] or an I/O error that
/// prevented the run.
pub fn run_cli<E: Experiment>(args: &[String]) -> anyhow::Result<RunSummary> {
    let bin = format!("exp-{}", E::NAME);
    let matches = Cli::command()
        .bin_name(bin.clone())
        .about(format!(
            "Experiment '{}': runs its jobs in parallel and writes one Parquet part per job and table.",
            E::NAME
        ))
        .try_get_matches_from(std::iter::once(bin.clone()).chain(args.iter().cloned()))?;
    let parsed = Cli::from_arg_matches(&matches)?;
    let (cli, matches, slurm_args) = match &parsed.command {
        Some(Command::Collect(c)) => return crate::collect::collect::<E>(c),
        Some(Command::Slurm(s)) => (
            &s.run,
            matches
                .subcommand_matches("slurm")
                .context("no matches of the slurm subcommand")?,
            Some(s),
        ),
        None => (&parsed.run, &matches, None),
    };

    let mut extra = Vec::new();
    if let Some(pattern) = &cli.pattern {
        extra.push((
            "pattern.file".to_owned(),
            toml::Value::String(pattern.clone()).to_string(),
        ));
    }
    if let Some(seeds) = cli.seeds {
        extra.push(("run.seeds".to_owned(), seeds.to_string()));
    }
    if let Some(every) = cli.checkpoint_every {
        extra.push(("run.checkpoint_every".to_owned(), every.to_string()));
    }
    if let Some(file) = &cli.from_checkpoint {
        extra.push((
            "run.from_checkpoint".to_owned(),
            toml::Value::String(file.clone()).to_string(),
        ));
    }
    let overrides = command_line_overrides(matches, cli);
    let (cfg, table, inputs) = crate::inputs::resolve::<E>(
        cli.config.as_deref(),
        &overrides,
        cli.quick,
        &extra,
        cli.out.as_deref(),
    )?;
    let config_text = config::config_text(&table)?;
    let code_version = git_commit();
    if let Some(id) = &cli.run_id {
        check_run_id(id)?;
    }
    let default_id = default_run_id(&config_text, &code_version);
    let run_dir = cli.out.clone().unwrap_or_else(|| {
        Path::new("results")
            .join(E::NAME)
            .join(cli.run_id.as_deref().unwrap_or(&default_id))
    });

    // Every grid point's config is built and validated here, before anything runs.
    let (jobs, job_cfgs): (Vec<Job>, Vec<E::Config>) =
        crate::expand_jobs::<E>(&cfg, &table, &inputs)?
            .into_iter()
            .unzip();
    let mut seen = BTreeSet::new();
    for job in &jobs {
        if !seen.insert(job.index) {
            bail!(
                "experiment '{}' returned two jobs with index {} (indices must be unique)",
                E::NAME,
                job.index
            );
        }
    }
    for (job, cfg) in jobs.iter().zip(&job_cfgs) {
        E::check_job(cfg, job, &inputs).map_err(|source| match job.params.is_empty() {
            true => source,
            false => ConfigError::Point {
                point: job.params_text(),
                source: Box::new(source),
            },
        })?;
    }
    let units: Vec<u64> = jobs
        .iter()
        .zip(&job_cfgs)
        .map(|(j, c)| E::work_units(c, j))
        .collect();
    let total_units = units.iter().fold(0_u64, |a, &u| a.saturating_add(u));

    if cli.redraw {
        let stored = run_dir.join("config.toml");
        if !stored.is_file() {
            return Err(ConfigError::Usage(format!(
                "--redraw: {} has no config.toml (not a run directory of exp-{})",
                run_dir.display(),
                E::NAME
            ))
            .into());
        }
        let _lock = crate::lock::run_shared(&run_dir, "--redraw")?;
        let stored_text = crate::store::read_small_text(&stored)?;
        let (stored_cfg, stored_table, stored_inputs) =
            crate::resolve_config_inputs::<E>(Some(&stored), &[], false, &[])?;
        let stored_jobs = crate::expand_jobs::<E>(&stored_cfg, &stored_table, &stored_inputs)?
            .into_iter()
            .map(|(j, _)| j)
            .collect();
        let run = RunDir::planned(&run_dir, resume::config_hash(&stored_text), stored_jobs)
            .with_inputs(stored_inputs);
        let finish_error = match catch_unwind(AssertUnwindSafe(|| E::finish(&stored_cfg, &run))) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(_) => Some("finish panicked".to_owned()),
        };
        return Ok(RunSummary {
            run_dir,
            finish_error,
            ..RunSummary::default()
        });
    }

    if cli.list {
        return Ok(RunSummary {
            listing: Some(listing(
                &bin,
                &config_text,
                &crate::axes_of(&table),
                &jobs,
                total_units,
                &run_dir,
            )),
            run_dir,
            n_jobs: jobs.len(),
            n_jobs_total: jobs.len(),
            ..RunSummary::default()
        });
    }

    if let Some(slurm) = slurm_args {
        if cli.shard.is_some() || cli.array_base.is_some() || cli.restart {
            return Err(ConfigError::Usage(
                "slurm: --shard, --array-base and --restart are not options of `slurm` (the \
                 script gives each array task its shard; remove the run directory to start over)"
                    .to_owned(),
            )
            .into());
        }
        // The same id a local run into this directory would record.
        let run_id = match (&cli.run_id, &cli.out) {
            (Some(id), _) => id.clone(),
            (None, Some(out)) => out
                .file_name()
                .map_or_else(|| default_id.clone(), |n| n.to_string_lossy().into_owned()),
            (None, None) => default_id,
        };
        return crate::slurm::submit::<E>(
            slurm,
            &crate::slurm::Plan {
                config_text: &config_text,
                run_dir: &run_dir,
                run_id: &run_id,
                n_jobs: jobs.len(),
                command_line: &format!("{bin} {}", shell_join(args)),
                inputs: &inputs,
            },
        );
    }

    let env = |k: &str| std::env::var(k).ok();
    let shard = match &cli.shard {
        Some(spec) => Some(shard::parse_shard(spec, cli.array_base, env)?),
        None if cli.array_base.is_some() => {
            return Err(ConfigError::Usage(
                "--array-base applies only to --shard slurm/N".to_owned(),
            )
            .into());
        }
        None => None,
    };
    let threads = shard::resolve_threads(cli.threads, env)?;

    // The jobs that may run at once must fit in memory: checked before anything is written.
    if let Some(limit) = crate::limits::memory_limit() {
        let needs: Vec<crate::limits::MemoryNeed> = jobs
            .iter()
            .zip(&job_cfgs)
            .filter(|(j, _)| shard.is_none_or(|s| s.contains(j.index)))
            .filter_map(|(j, c)| E::memory_need(c, j, &inputs))
            .collect();
        crate::limits::check_memory(&needs, threads, &limit)?;
    }
    let restart_all = cli.restart && shard.is_none();
    create_run_dir(&run_dir)?;
    // A whole-sweep --restart deletes every part: it needs the directory alone. Everything else
    // shares it and locks each job it touches (crate::lock).
    let _run_lock = if restart_all {
        crate::lock::run_exclusive(&run_dir, "--restart")?
    } else {
        crate::lock::run_shared(&run_dir, &bin)?
    };
    let config_hash = resume::config_hash(&config_text);
    // Records made for the stored config.toml, when an older version wrote it and it resolves
    // to this config today, are taken over (re-bound to this config's hash).
    let older = check_run_config::<E>(&run_dir, &config_text)?;
    crate::inputs::store(&run_dir, &inputs)?;
    write_config_file(&run_dir, &config_text)?;
    crate::store::clear_dead_temporaries(&run_dir)?;
    let run_id = match &cli.run_id {
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
        if cli.restart && shard.is_some() {
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
    if cli.restart && shard.is_some() {
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
        experiment: E::NAME.to_owned(),
        run_id: run_id.clone(),
        status: "running".to_owned(),
        git_commit: code_version,
        command_line: format!("{bin} {}", shell_join(args)).trim_end().to_owned(),
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
    let _interrupt = interrupt::on_interrupt(move |signal| hook_state.interrupt(signal));

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
    let progress = Shared::new(
        todo_units,
        n_selected - n_resumed,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let git = state.manifest_git_commit();
    let ctx = JobContext {
        run_dir: &run_dir,
        experiment: E::NAME,
        run_id: &run_id,
        config_hash: &config_hash,
        git_commit: &git,
        n_jobs: n_selected - n_resumed,
        progress: &progress,
        inputs: &inputs,
    };
    // One job under its lock: skipped if another process holds it (`wait`: wait for it), taken
    // over if another process finished it meanwhile, else cleared and run.
    let attempt = |k: usize, wait: bool| {
        let job = &jobs[selected[k]];
        if state.stop.load(Ordering::SeqCst) {
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
        match run_one::<E>(&job_cfgs[p], job, units[p], &ctx) {
            Ok(()) => set(JobStatus::Ok),
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
            .with_inputs(Arc::clone(&inputs));
        match catch_unwind(AssertUnwindSafe(|| E::finish(&cfg, &run))) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
        }
    };
    if let Some(e) = &finish_error {
        tracing::error!("{bin}: finish failed: {e}");
    }

    state.write_manifest(|m| {
        m.status = "finished".to_owned();
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
        listing: None,
        shard,
        n_jobs_total: jobs.len(),
        n_missing: 0,
        report: None,
    })
}

/// `run-<16 hex digits>`: FNV-1a of the resolved config text and the code version (the git
/// commit), so that a rebuilt binary of other code never resumes into an older run.
pub(crate) fn default_run_id(config_text: &str, code_version: &str) -> String {
    let mut bytes = config_text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n# code version: ");
    bytes.extend_from_slice(code_version.as_bytes());
    format!("run-{:016x}", fnv1a_64(&bytes))
}

/// A run id names a directory: letters, digits, `_`, `-`, `.`; not starting with `.`.
pub(crate) fn check_run_id(id: &str) -> Result<(), ConfigError> {
    let ok = !id.is_empty()
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Usage(format!(
            "--run-id {id}: use letters, digits, '_', '-' and '.' (not starting with '.')"
        )))
    }
}

fn remove_if_exists(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Creates (or checks) the run directory of a sweep, copies its inputs and writes its
/// `config.toml` (`slurm`: before the array tasks start).
pub(crate) fn prepare_run_dir_for<E: Experiment>(
    run_dir: &Path,
    config_text: &str,
    inputs: &crate::Inputs,
) -> anyhow::Result<()> {
    create_run_dir(run_dir)?;
    let _lock = crate::lock::run_shared(run_dir, "slurm")?;
    check_run_config::<E>(run_dir, config_text)?;
    crate::inputs::store(run_dir, inputs)?;
    write_config_file(run_dir, config_text)
}

/// Writes `config.toml` unless it already holds `config_text` (shards of one sweep start at the
/// same time; each writes through its own temporary file).
fn write_config_file(run_dir: &Path, config_text: &str) -> anyhow::Result<()> {
    let path = run_dir.join("config.toml");
    if std::fs::read_to_string(&path).is_ok_and(|old| old == config_text) {
        return Ok(());
    }
    crate::parquet_io::write_file_atomic(&path, config_text.as_bytes())
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
        m.status = "interrupted".to_owned();
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

/// `--set` and `--axis` arguments in command-line order.
fn command_line_overrides<'a>(
    matches: &clap::ArgMatches,
    cli: &'a RunArgs,
) -> Vec<config::CmdOverride<'a>> {
    let positions = |id: &str, n: usize| -> Vec<usize> {
        matches
            .indices_of(id)
            .map_or_else(|| (0..n).collect(), Iterator::collect)
    };
    let mut all: Vec<(usize, config::CmdOverride<'a>)> = Vec::new();
    for (pos, arg) in positions("set", cli.set.len()).into_iter().zip(&cli.set) {
        all.push((pos, config::CmdOverride::Set(arg)));
    }
    for (pos, arg) in positions("axis", cli.axis.len()).into_iter().zip(&cli.axis) {
        all.push((pos, config::CmdOverride::Axis(arg)));
    }
    all.sort_by_key(|(pos, _)| *pos);
    all.into_iter().map(|(_, o)| o).collect()
}

/// The `--list` text: the resolved config (valid TOML, usable as `--config`), then the axes and
/// the jobs as comment lines.
fn listing(
    bin: &str,
    config_text: &str,
    axes: &[(String, Vec<toml::Value>)],
    jobs: &[Job],
    total_units: u64,
    run_dir: &Path,
) -> String {
    let mut s = String::new();
    s.push_str(&format!("# {bin}: resolved config\n"));
    s.push_str(config_text);
    if !config_text.ends_with('\n') {
        s.push('\n');
    }
    if !axes.is_empty() {
        let n_points: usize = axes.iter().map(|(_, v)| v.len()).product();
        s.push_str(&format!(
            "\n# {} axes, {n_points} grid points (first axis slowest):\n",
            axes.len()
        ));
        for (key, values) in axes {
            s.push_str(&format!(
                "# axis {key} = {}\n",
                toml::Value::Array(values.clone())
            ));
        }
    }
    s.push_str(&format!(
        "\n# {} jobs, {total_units} work units; run directory {}\n",
        jobs.len(),
        run_dir.display()
    ));
    s.push_str("# index replicate seed params\n");
    for job in jobs {
        s.push_str(
            format!(
                "# {} {} {} {}",
                job.index,
                job.replicate,
                job.seed,
                job.params_text()
            )
            .trim_end(),
        );
        s.push('\n');
    }
    s
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
fn check_run_config<E: Experiment>(
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
    let resolved = config::resolve_with::<E>(Some(&path), &[], false, &[])
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
    cfg: &E::Config,
    job: &Job,
    units: u64,
    ctx: &JobContext<'_>,
) -> Result<(), String> {
    let checkpoint = resume::checkpoint_path(ctx.run_dir, job.index);
    let saved = E::max_checkpoint_bytes(cfg)
        .and_then(|max| crate::inputs::read_job_checkpoint(&checkpoint, max, job.index));
    let handle = ctx
        .progress
        .job_handle()
        .with_checkpoint_file(checkpoint.clone())
        .with_saved_checkpoint(saved);
    let t0 = Instant::now();
    tracing::debug!("job {} (seed {}) started", job.index, job.seed);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> anyhow::Result<()> {
        let output = E::run_job(cfg, job, ctx.inputs, &handle)?;
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

/// `manifest.toml`, or `manifest-shard-K-of-N.toml` for a shard (its jobs only).
#[derive(serde::Serialize)]
struct Manifest {
    experiment: String,
    run_id: String,
    /// "running" while jobs run, "finished" at the end, "interrupted" after SIGINT/SIGTERM.
    status: String,
    git_commit: String,
    command_line: String,
    threads: usize,
    /// `K/N` for a shard.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<String>,
    /// The signal that interrupted the sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    signal: Option<String>,
    started_utc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_s: Option<f64>,
    /// This process's jobs (a shard's, or all).
    n_jobs: usize,
    /// Jobs of the whole sweep.
    n_jobs_total: usize,
    n_ok: usize,
    n_failed: usize,
    /// Jobs found finished in the run directory and skipped (resume).
    n_resumed: usize,
    /// Jobs another process on the same run directory ran while this one waited for them.
    n_by_others: usize,
    total_work_units: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_error: Option<String>,
    /// Interrupted: indices of the jobs that had not started.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_run: Vec<usize>,
    /// Interrupted: indices of the jobs abandoned while running (resume redoes them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    abandoned: Vec<usize>,
    failed: Vec<ManifestFailure>,
}

impl Manifest {
    fn write_to(&self, path: &Path) -> anyhow::Result<()> {
        let text = toml::to_string(self).map_err(|e| anyhow!("cannot serialize manifest: {e}"))?;
        write_file_atomic(path, text.as_bytes())
    }
}

/// One `[[failed]]` entry of the manifest.
#[derive(serde::Serialize)]
struct ManifestFailure {
    index: usize,
    replicate: usize,
    /// An integer when it fits TOML's i64, else a string.
    seed: toml::Value,
    #[serde(skip_serializing_if = "toml::Table::is_empty")]
    params: toml::Table,
    error: String,
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
