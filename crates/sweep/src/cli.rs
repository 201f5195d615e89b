//! The command line shared by every experiment, and the runner behind it: run directory,
//! `config.toml`, `manifest.toml`, the rayon pool, per-job Parquet parts and failure handling.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail};
use clap::{CommandFactory as _, FromArgMatches as _};
use rayon::prelude::*;

use crate::config::{self, ConfigError};
use crate::parquet_io::{write_file_atomic, write_parquet_batches_atomic};
use crate::progress::Shared;
use crate::util::{fnv1a_64, git_commit, human_duration, rfc3339_utc, shell_join};
use crate::{Experiment, Job, JobOutput, RunDir, init_tracing, resume};

/// Runs an experiment's jobs in parallel and writes one Parquet part per job and table.
#[derive(Debug, clap::Parser)]
struct Cli {
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
    /// Worker threads, one job per thread at a time [default: all cores].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Run directory [default: results/<experiment>/run-<hash of the resolved config>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Apply the experiment's quick overrides (a short smoke run).
    #[arg(long)]
    quick: bool,
    /// Print the resolved config and the job list, then exit without running.
    #[arg(long)]
    list: bool,
    /// Redraw the figures and summaries of an existing run directory (--out DIR) from its
    /// Parquet tables and its config.toml, without simulating anything.
    #[arg(long)]
    redraw: bool,
    /// Discard the finished jobs of an existing run directory and run every job again
    /// [default: resume — jobs whose parts exist and are intact are skipped].
    #[arg(long)]
    restart: bool,
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
#[derive(Clone, Debug)]
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
    /// The failed jobs, by index.
    pub failed: Vec<FailedJob>,
    /// The error of `Experiment::finish`, if it failed.
    pub finish_error: Option<String>,
    /// With `--list`: the text to print (resolved config as TOML, then the jobs as comments);
    /// no job ran.
    pub listing: Option<String>,
}

impl RunSummary {
    /// All jobs and `finish` succeeded.
    pub fn success(&self) -> bool {
        self.n_failed == 0 && self.finish_error.is_none()
    }
}

/// The entry point of every experiment binary:
/// `fn main() -> std::process::ExitCode { elise_sweep::main::<MyExperiment>() }`.
///
/// Initializes tracing, runs [`run_cli`] on the process arguments and prints `results: <dir>`
/// (or the `--list` text) to stdout. Exit code: 0 if every job succeeded, 1 if a job or
/// `finish` failed (or the run could not proceed), 2 for usage and config errors (printed once
/// to stderr).
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
            let _ = writeln!(out, "results: {}", summary.run_dir.display());
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
    let cli = Cli::from_arg_matches(&matches)?;

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
    let overrides = command_line_overrides(&matches, &cli);
    let (cfg, table) =
        config::resolve_with::<E>(cli.config.as_deref(), &overrides, cli.quick, &extra)?;
    let config_text = config::config_text(&table)?;
    let hash_id = format!("run-{:016x}", fnv1a_64(config_text.as_bytes()));
    let run_dir = cli
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(E::NAME).join(&hash_id));

    // Every grid point's config is built and validated here, before anything runs.
    let (jobs, job_cfgs): (Vec<Job>, Vec<E::Config>) =
        crate::expand_jobs::<E>(&cfg, &table)?.into_iter().unzip();
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
        let (stored_cfg, _) = crate::resolve_config::<E>(Some(&stored), &[], false, &[])?;
        let run = RunDir::new(&run_dir);
        let finish_error = match catch_unwind(AssertUnwindSafe(|| E::finish(&stored_cfg, &run))) {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(format!("{e:#}")),
            Err(_) => Some("finish panicked".to_owned()),
        };
        return Ok(RunSummary {
            run_dir,
            n_jobs: 0,
            n_ok: 0,
            n_failed: 0,
            n_resumed: 0,
            failed: Vec::new(),
            finish_error,
            listing: None,
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
            n_ok: 0,
            n_failed: 0,
            n_resumed: 0,
            failed: Vec::new(),
            finish_error: None,
        });
    }

    let threads = match cli.threads {
        Some(0) => {
            return Err(
                ConfigError::Usage("--threads 0: need at least 1 thread".to_owned()).into(),
            );
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };

    prepare_run_dir(&run_dir, &config_text, cli.restart)?;
    write_file_atomic(&run_dir.join("config.toml"), config_text.as_bytes())?;
    let run_id = run_dir
        .canonicalize()
        .unwrap_or_else(|_| run_dir.clone())
        .file_name()
        .map_or_else(|| hash_id.clone(), |n| n.to_string_lossy().into_owned());

    // Resume: keep the jobs whose completion record and parts are intact; clear the rest.
    let mut todo = vec![true; jobs.len()];
    for (job, todo) in jobs.iter().zip(todo.iter_mut()) {
        match resume::check_job(&run_dir, job) {
            None => {
                *todo = false;
                resume::clear_job_temporaries(&run_dir, job.index)?;
            }
            Some(why) => {
                if why != "not run" {
                    tracing::warn!("job {} will be redone: {why}", job.index);
                }
                resume::clear_job(&run_dir, job.index)?;
            }
        }
    }
    let n_resumed = todo.iter().filter(|&&t| !t).count();
    let todo_units = units
        .iter()
        .zip(&todo)
        .filter(|&(_, &t)| t)
        .fold(0_u64, |a, (&u, _)| a.saturating_add(u));

    let started = SystemTime::now();
    let t0 = Instant::now();
    let mut manifest = Manifest {
        experiment: E::NAME.to_owned(),
        run_id: run_id.clone(),
        status: "running".to_owned(),
        git_commit: git_commit(),
        command_line: format!("{bin} {}", shell_join(args)).trim_end().to_owned(),
        threads,
        started_utc: rfc3339_utc(started),
        ended_utc: None,
        elapsed_s: None,
        n_jobs: jobs.len(),
        n_ok: 0,
        n_failed: 0,
        n_resumed,
        total_work_units: i64::try_from(total_units).unwrap_or(i64::MAX),
        finish_error: None,
        failed: Vec::new(),
    };
    manifest.write(&run_dir)?;

    if n_resumed > 0 {
        tracing::info!(
            "{bin}: resuming {}: {n_resumed} of {} jobs already done (--restart runs them again)",
            run_dir.display(),
            jobs.len()
        );
    }
    tracing::info!(
        "{bin}: {} jobs ({todo_units} work units) on {threads} threads -> {}",
        jobs.len() - n_resumed,
        run_dir.display()
    );

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .context("cannot start the thread pool")?;
    let progress = Shared::new(
        todo_units,
        jobs.len() - n_resumed,
        std::io::IsTerminal::is_terminal(&std::io::stderr()),
    );
    let ctx = JobContext {
        run_dir: &run_dir,
        experiment: E::NAME,
        run_id: &run_id,
        git_commit: &manifest.git_commit,
        n_jobs: jobs.len() - n_resumed,
        progress: &progress,
    };
    let results: Vec<Result<(), String>> = pool.install(|| {
        jobs.par_iter()
            .zip(job_cfgs.par_iter())
            .zip(units.par_iter())
            .zip(todo.par_iter())
            .map(|(((job, job_cfg), &units), &todo)| {
                if todo {
                    run_one::<E>(job_cfg, job, units, &ctx)
                } else {
                    Ok(())
                }
            })
            .collect()
    });
    progress.finish();
    drop(pool);

    let failed: Vec<FailedJob> = jobs
        .iter()
        .zip(&results)
        .filter_map(|(job, r)| {
            r.as_ref().err().map(|error| FailedJob {
                index: job.index,
                replicate: job.replicate,
                seed: job.seed,
                params: job.params.clone(),
                error: error.clone(),
            })
        })
        .collect();
    let n_failed = failed.len();
    let n_ok = jobs.len() - n_failed;

    // `finish` gets the base config (without axes); per-job values are in the tables.
    let run = RunDir::new(run_dir.clone());
    let finish_error = match catch_unwind(AssertUnwindSafe(|| E::finish(&cfg, &run))) {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
    };
    if let Some(e) = &finish_error {
        tracing::error!("{bin}: finish failed: {e}");
    }

    let ended = SystemTime::now();
    manifest.status = "finished".to_owned();
    manifest.ended_utc = Some(rfc3339_utc(ended));
    manifest.elapsed_s = Some((t0.elapsed().as_secs_f64() * 1000.0).round() / 1000.0);
    manifest.n_ok = n_ok;
    manifest.n_failed = n_failed;
    manifest.finish_error = finish_error.clone();
    manifest.failed = failed.iter().map(ManifestFailure::from).collect();
    manifest.write(&run_dir)?;

    let elapsed = human_duration(t0.elapsed().as_secs_f64());
    if n_failed == 0 {
        tracing::info!(
            "{bin}: all {} jobs ok in {elapsed}; results in {}",
            jobs.len(),
            run_dir.display()
        );
    } else {
        let indices: Vec<String> = failed.iter().map(|f| f.index.to_string()).collect();
        tracing::warn!(
            "{bin}: {n_ok}/{} jobs ok, {n_failed} failed (indices {}) in {elapsed}; see {}",
            jobs.len(),
            indices.join(", "),
            run_dir.join("manifest.toml").display()
        );
    }

    Ok(RunSummary {
        run_dir,
        n_jobs: jobs.len(),
        n_ok,
        n_failed,
        n_resumed,
        failed,
        finish_error,
        listing: None,
    })
}

/// `--set` and `--axis` arguments in command-line order.
fn command_line_overrides<'a>(
    matches: &clap::ArgMatches,
    cli: &'a Cli,
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

/// Creates the run directory, or checks that an existing one holds a run of the same config.
/// An existing run is resumed (its finished jobs are kept), or with `restart` emptied of parts.
fn prepare_run_dir(run_dir: &Path, config_text: &str, restart: bool) -> anyhow::Result<()> {
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
    let old_config = run_dir.join("config.toml");
    match std::fs::read_to_string(&old_config) {
        Ok(old) if old == config_text => {}
        Ok(_) => {
            return Err(ConfigError::Usage(format!(
                "run directory {} holds a run with a different config; choose another --out or remove it",
                run_dir.display()
            ))
            .into());
        }
        Err(_) => {
            let non_empty = std::fs::read_dir(run_dir)
                .with_context(|| format!("cannot list {}", run_dir.display()))?
                .next()
                .is_some();
            if non_empty {
                return Err(ConfigError::Usage(format!(
                    "run directory {} exists, is not empty and holds no config.toml; choose another --out",
                    run_dir.display()
                ))
                .into());
            }
            return Ok(());
        }
    }
    if restart {
        tracing::warn!("--restart: discarding the parts in {}", run_dir.display());
        resume::clear_all(run_dir)?;
    }
    Ok(())
}

/// What every job of a run shares.
struct JobContext<'a> {
    run_dir: &'a Path,
    experiment: &'a str,
    run_id: &'a str,
    git_commit: &'a str,
    n_jobs: usize,
    progress: &'a Arc<Shared>,
}

/// Runs one job (catching panics) and writes its tables. Returns the error text on failure.
fn run_one<E: Experiment>(
    cfg: &E::Config,
    job: &Job,
    units: u64,
    ctx: &JobContext<'_>,
) -> Result<(), String> {
    let checkpoint = resume::checkpoint_path(ctx.run_dir, job.index);
    let handle = ctx
        .progress
        .job_handle()
        .with_checkpoint_file(checkpoint.clone());
    let t0 = Instant::now();
    tracing::debug!("job {} (seed {}) started", job.index, job.seed);
    let outcome = catch_unwind(AssertUnwindSafe(|| -> anyhow::Result<()> {
        let output = E::run_job(cfg, job, &handle)?;
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

/// Writes each table of `output` as `<run dir>/<table>/job-<index:06>.parquet`; on failure
/// removes the parts of this job written so far.
fn write_output(ctx: &JobContext<'_>, job: &Job, output: JobOutput) -> anyhow::Result<()> {
    // Batches of the same table (e.g. one per branch of a job) go into one part, in order.
    let mut tables: Vec<(String, Vec<arrow_array::RecordBatch>)> = Vec::new();
    for (name, batch) in output.tables {
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
        // Last: the record that marks the job finished (resume trusts nothing else).
        resume::write_record(ctx.run_dir, job, records)
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

/// `manifest.toml`.
#[derive(serde::Serialize)]
struct Manifest {
    experiment: String,
    run_id: String,
    /// "running" while jobs run, "finished" at the end.
    status: String,
    git_commit: String,
    command_line: String,
    threads: usize,
    started_utc: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_utc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    elapsed_s: Option<f64>,
    n_jobs: usize,
    n_ok: usize,
    n_failed: usize,
    /// Jobs found finished in the run directory and skipped (resume).
    n_resumed: usize,
    total_work_units: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_error: Option<String>,
    failed: Vec<ManifestFailure>,
}

impl Manifest {
    fn write(&self, run_dir: &Path) -> anyhow::Result<()> {
        let text = toml::to_string(self).map_err(|e| anyhow!("cannot serialize manifest: {e}"))?;
        write_file_atomic(&run_dir.join("manifest.toml"), text.as_bytes())
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
