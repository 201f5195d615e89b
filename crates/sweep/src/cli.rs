//! The command line shared by every experiment: clap types, exit codes, and the dispatch to the
//! commands (`run`, `--list`, `--redraw`, `slurm`, `collect`).
//!
//! Layer: `cli` → `plan` (what to run) and `exec` (running it), `slurm`, `collect`. No clap type
//! goes below this module.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _};

use crate::config::ConfigError;
use crate::exec::Outcome;
use crate::util::shell_join;
use crate::{Experiment, init_tracing, shard};

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
    Slurm(Box<SlurmArgs>),
    /// Check that every job of a run directory has its intact parts, print the command that
    /// re-runs the missing ones, merge the parts into one Parquet file per table and run the
    /// experiment's figures.
    Collect(CollectArgs),
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

/// Options of `slurm` (after the run's own flags: `--config`, `--set`, `--axis`, `--seeds`,
/// `--quick`, `--out`, `--run-id`, ...).
#[derive(Debug, clap::Args)]
pub(crate) struct SlurmArgs {
    #[command(flatten)]
    pub(crate) run: RunArgs,
    /// Array tasks (shards); task i runs the jobs with index % N == i [default: one task per
    /// job, at most 1000].
    #[arg(long, value_name = "N")]
    tasks: Option<usize>,
    /// CPUs per array task (the task runs that many jobs at a time).
    #[arg(long, value_name = "N", default_value_t = 1)]
    cpus_per_task: usize,
    /// Time limit per array task, in Slurm's format (e.g. 2:00:00) [default: the partition's].
    #[arg(long, value_name = "TIME")]
    time: Option<String>,
    /// Memory per array task, in Slurm's format (e.g. 2G) [default: the cluster's].
    #[arg(long, value_name = "MEM")]
    mem: Option<String>,
    /// Slurm partition [default: the cluster's default].
    #[arg(long, value_name = "NAME")]
    partition: Option<String>,
    /// Slurm account to charge.
    #[arg(long, value_name = "NAME")]
    account: Option<String>,
    /// At most N array tasks running at once (the array's %N throttle).
    #[arg(long, value_name = "N")]
    max_running: Option<usize>,
    /// Also submit the collect step, to start when every array task has succeeded.
    #[arg(long)]
    collect: bool,
    /// Write the scripts and copy the binary, but do not submit (prints the sbatch commands).
    #[arg(long)]
    dry_run: bool,
}

impl SlurmArgs {
    /// The options `slurm` needs (no clap type below the CLI).
    fn options(&self) -> crate::slurm::SlurmOptions {
        crate::slurm::SlurmOptions {
            tasks: self.tasks,
            cpus_per_task: self.cpus_per_task,
            time: self.time.clone(),
            mem: self.mem.clone(),
            partition: self.partition.clone(),
            account: self.account.clone(),
            max_running: self.max_running,
            collect: self.collect,
            dry_run: self.dry_run,
        }
    }
}

/// Options of `collect`.
#[derive(Debug, clap::Args)]
pub(crate) struct CollectArgs {
    /// The run directory [default: results/<experiment>/<run id>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The run's id (names the default directory; recorded in the merged files) [default: the
    /// id recorded in the parts].
    #[arg(long, value_name = "ID")]
    run_id: Option<String>,
    /// Merge the jobs that are there even if some are missing (their indices are recorded in
    /// the merged files' metadata); the exit code is still 1.
    #[arg(long)]
    allow_missing: bool,
}

impl CollectArgs {
    /// The options `collect` needs.
    fn options(&self) -> crate::collect::CollectOptions {
        crate::collect::CollectOptions {
            out: self.out.clone(),
            run_id: self.run_id.clone(),
            allow_missing: self.allow_missing,
        }
    }
}

/// The entry point of every experiment binary:
/// `fn main() -> std::process::ExitCode { elise_sweep::main(my_experiment()) }`.
///
/// Initializes tracing, runs [`run_cli`] on the process arguments and prints `results: <dir>`
/// (or the `--list` text, or the report of `slurm` and `collect`) to stdout. Exit code: 0 if
/// every job succeeded, 1 if a job or `finish` failed, `collect` found jobs missing (or the run
/// could not proceed), 2 for usage and config errors (printed once to stderr), 128 + signal
/// (130, 143) when SIGINT or SIGTERM stopped the sweep (see the crate docs).
pub fn main<E: Experiment>(exp: E) -> ExitCode {
    init_tracing();
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    report(run_cli(&exp, &args))
}

/// Prints the outcome of [`run_cli`] as the binaries do (the `--list` text, the report, the
/// jobs line and `results: <dir>` on stdout; errors on stderr) and returns the exit code (see
/// [`main`]).
pub fn report(outcome: anyhow::Result<Outcome>) -> ExitCode {
    match outcome {
        Ok(outcome) => {
            let mut out = std::io::stdout().lock();
            let finish_error = match &outcome {
                Outcome::Listed { listing, .. } => {
                    let _ = out.write_all(listing.as_bytes());
                    return ExitCode::SUCCESS;
                }
                Outcome::Ran(summary) => {
                    if summary.n_jobs > 0 {
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
                    for f in &summary.failed {
                        let first = f.error.lines().next().unwrap_or("");
                        eprintln!("error: job {} (seed {}) failed: {first}", f.index, f.seed);
                    }
                    &summary.finish_error
                }
                Outcome::Redrawn { finish_error, .. } => finish_error,
                Outcome::Submitted { report, .. } => {
                    let _ = out.write_all(report.as_bytes());
                    &None
                }
                Outcome::Collected {
                    report,
                    finish_error,
                    ..
                } => {
                    let _ = out.write_all(report.as_bytes());
                    finish_error
                }
            };
            let _ = writeln!(out, "results: {}", outcome.run_dir().display());
            if let Some(e) = finish_error {
                eprintln!("error: drawing the figures failed: {e}");
            }
            if outcome.success() {
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

/// Parses `args` (the arguments after the program name) and runs experiment `exp`, returning the
/// outcome instead of exiting. Failed jobs are reported in the summary, not as `Err`; `Err` is a
/// usage error (a [`clap::Error`], including `--help`), a [`ConfigError`] or an I/O error that
/// prevented the run.
pub fn run_cli<E: Experiment>(exp: &E, args: &[String]) -> anyhow::Result<Outcome> {
    let bin = format!("exp-{}", exp.name());
    let matches = Cli::command()
        .bin_name(bin.clone())
        .about(format!(
            "Experiment '{}': runs its jobs in parallel and writes one Parquet part per job and table.",
            exp.name()
        ))
        .try_get_matches_from(std::iter::once(bin.clone()).chain(args.iter().cloned()))?;
    let parsed = Cli::from_arg_matches(&matches)?;
    let (cli, matches, slurm_args) = match &parsed.command {
        Some(Command::Collect(c)) => return crate::collect::collect(exp, &c.options()),
        Some(Command::Slurm(s)) => (
            &s.run,
            matches
                .subcommand_matches("slurm")
                .context("no matches of the slurm subcommand")?,
            Some(s),
        ),
        None => (&parsed.run, &matches, None),
    };

    let plan = crate::plan::plan(exp, &request(cli, matches))?;
    if cli.redraw {
        return crate::exec::redraw(exp, &plan.run_dir);
    }
    if cli.list {
        return Ok(Outcome::Listed {
            listing: plan.listing(),
            run_dir: plan.run_dir.clone(),
            n_jobs: plan.jobs.len(),
        });
    }
    let command_line = format!("{bin} {}", shell_join(args));
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
        let run_id = plan.run_id(cli.out.is_some());
        return crate::slurm::submit(
            exp,
            &slurm.options(),
            &crate::slurm::Plan {
                config_text: &plan.config_text,
                run_dir: &plan.run_dir,
                run_id: &run_id,
                n_jobs: plan.jobs.len(),
                command_line: &command_line,
                inputs: &plan.inputs,
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
    crate::exec::execute(
        &plan,
        &crate::exec::ExecOptions {
            threads,
            shard,
            restart: cli.restart,
            command_line,
        },
    )
    .map(Outcome::Ran)
}

/// The plan request of a command line: the config file, the flags that set keys, and `--set`
/// and `--axis` in command-line order.
fn request(cli: &RunArgs, matches: &clap::ArgMatches) -> crate::plan::Request {
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
    crate::plan::Request {
        config: cli.config.clone(),
        overrides: command_line_overrides(matches, cli),
        extra,
        quick: cli.quick,
        out: cli.out.clone(),
        run_id: cli.run_id.clone(),
    }
}

/// `--set` and `--axis` arguments in command-line order.
fn command_line_overrides(matches: &clap::ArgMatches, cli: &RunArgs) -> Vec<crate::plan::Override> {
    let positions = |id: &str, n: usize| -> Vec<usize> {
        matches
            .indices_of(id)
            .map_or_else(|| (0..n).collect(), Iterator::collect)
    };
    let mut all: Vec<(usize, crate::plan::Override)> = Vec::new();
    for (pos, arg) in positions("set", cli.set.len()).into_iter().zip(&cli.set) {
        all.push((pos, crate::plan::Override::Set(arg.clone())));
    }
    for (pos, arg) in positions("axis", cli.axis.len()).into_iter().zip(&cli.axis) {
        all.push((pos, crate::plan::Override::Axis(arg.clone())));
    }
    all.sort_by_key(|(pos, _)| *pos);
    all.into_iter().map(|(_, o)| o).collect()
}
