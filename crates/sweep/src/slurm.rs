//! `exp-<name> slurm`: run a sweep as a Slurm job array.
//!
//! The subcommand resolves and validates the config like a run, creates the run directory with
//! its `config.toml` and the copies of its input files (`inputs/`, which the array tasks read
//! instead of the user's paths), copies the running binary to `<run dir>/slurm/exp-<name>` (so a later
//! rebuild cannot change a running sweep), writes `<run dir>/slurm/array.sh` (array task `i`
//! runs shard `i`: `--shard slurm/N --array-base 0`) and `<run dir>/slurm/collect.sh`, and
//! submits the array with `sbatch --parsable` (unless `--dry-run`); with `--collect` it also
//! submits `collect.sh` with `--dependency=afterok:<array id> --kill-on-invalid-dep=yes`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, anyhow, bail};

use crate::config::ConfigError;
use crate::parquet_io::write_file_atomic;
use crate::store::prepare_run_dir_for;
use crate::util::{rfc3339_utc, shell_join};
use crate::{Experiment, Outcome};

/// Largest default array (Slurm's default `MaxArraySize` is 1001).
pub(crate) const MAX_DEFAULT_TASKS: usize = 1000;

/// Options of `slurm` (the command line's `--tasks`, `--cpus-per-task`, ... in `cli`).
#[derive(Clone, Debug, Default)]
pub(crate) struct SlurmOptions {
    /// Array tasks (shards) [default: one task per job, at most 1000].
    pub(crate) tasks: Option<usize>,
    /// CPUs per array task.
    pub(crate) cpus_per_task: usize,
    /// Time limit per array task, in Slurm's format.
    pub(crate) time: Option<String>,
    /// Memory per array task, in Slurm's format.
    pub(crate) mem: Option<String>,
    /// Slurm partition.
    pub(crate) partition: Option<String>,
    /// Slurm account.
    pub(crate) account: Option<String>,
    /// At most N array tasks running at once.
    pub(crate) max_running: Option<usize>,
    /// Also submit the collect step.
    pub(crate) collect: bool,
    /// Write the scripts, do not submit.
    pub(crate) dry_run: bool,
}

/// The resolved sweep that `slurm` submits.
pub(crate) struct Plan<'a> {
    pub(crate) config_text: &'a str,
    pub(crate) run_dir: &'a Path,
    pub(crate) run_id: &'a str,
    pub(crate) n_jobs: usize,
    pub(crate) command_line: &'a str,
    /// The sweep's input files (copied into the run directory).
    pub(crate) inputs: &'a crate::Inputs,
}

/// `<run dir>/slurm/plan.toml`: what `collect` needs to print re-submission commands.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct SlurmPlan {
    pub(crate) tasks: usize,
    pub(crate) n_jobs: usize,
    pub(crate) array_script: String,
    pub(crate) collect_script: String,
    #[serde(default)]
    pub(crate) submissions: Vec<Submission>,
}

/// One `sbatch` of the array (and its collect step).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Submission {
    pub(crate) submitted_utc: String,
    pub(crate) array_job_id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) collect_job_id: String,
}

pub(crate) const PLAN_FILE: &str = "slurm/plan.toml";

/// A word for a POSIX shell, quoted when needed.
pub(crate) fn quote(s: &str) -> String {
    shell_join(&[s.to_owned()])
}

fn sbatch_path(what: &str, path: &Path) -> anyhow::Result<String> {
    let s = path.to_str().ok_or_else(|| {
        ConfigError::Usage(format!("{what} {} is not valid UTF-8", path.display()))
    })?;
    if s.chars()
        .any(|c| c.is_whitespace() || c == '"' || c == '\'')
    {
        return Err(ConfigError::Usage(format!(
            "{what} '{s}' contains spaces or quotes, which #SBATCH lines cannot carry; choose another --out or working directory"
        ))
        .into());
    }
    Ok(s.to_owned())
}

/// Refuses Slurm option values that are not in Slurm's own format: they are written into
/// `#SBATCH` lines, where a newline or a shell word would become a command of the script.
fn check_directive_values(args: &SlurmOptions) -> Result<(), ConfigError> {
    let check =
        |flag: &str, value: &Option<String>, ok: fn(char) -> bool, expected: &str| match value {
            Some(v) if v.is_empty() || !v.chars().all(ok) => Err(ConfigError::Usage(format!(
                "slurm {flag} {v:?}: expected {expected}"
            ))),
            _ => Ok(()),
        };
    check(
        "--time",
        &args.time,
        |c| c.is_ascii_digit() || c == ':' || c == '-',
        "a Slurm time such as 90, 2:00:00 or 1-12:00:00",
    )?;
    check(
        "--mem",
        &args.mem,
        |c| c.is_ascii_alphanumeric(),
        "a Slurm memory size such as 4000, 8G or 512M",
    )?;
    let name = |c: char| c.is_ascii_alphanumeric() || "_.,-".contains(c);
    check(
        "--partition",
        &args.partition,
        name,
        "partition names (letters, digits, '_', '.', '-', ',')",
    )?;
    check(
        "--account",
        &args.account,
        name,
        "an account name (letters, digits, '_', '.', '-')",
    )
}

/// `#SBATCH` lines shared by the array and the collect step.
fn common_directives(args: &SlurmOptions, workdir: &str) -> String {
    let mut s = String::new();
    if let Some(t) = &args.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(m) = &args.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    if let Some(p) = &args.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(a) = &args.account {
        s.push_str(&format!("#SBATCH --account={a}\n"));
    }
    s.push_str(&format!("#SBATCH --chdir={workdir}\n"));
    s
}

/// The job-array script.
fn array_script(
    name: &str,
    args: &SlurmOptions,
    plan: &Plan<'_>,
    tasks: usize,
    run_dir: &str,
    workdir: &str,
) -> String {
    let throttle = args
        .max_running
        .map_or_else(String::new, |m| format!("%{m}"));
    format!(
        r#"#!/bin/bash
# Slurm job array of exp-{name}, run {run_id}: {n_jobs} jobs in {tasks} shards; array task i runs
# shard i (the jobs with index % {tasks} == i) with the binary and config copied into the run
# directory. Generated by: {command_line}
#
# Re-run shards (finished jobs are skipped, so only the missing ones run):
#   sbatch --array=2,5 {run_dir}/slurm/array.sh
# The shard comes from SLURM_ARRAY_TASK_ID minus the base written below (0), not from
# SLURM_ARRAY_TASK_MIN, so a task re-submitted on its own still runs its own shard.
#SBATCH --job-name=exp-{name}
#SBATCH --array=0-{last}{throttle}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task={cpus}
{common}#SBATCH --output={run_dir}/slurm/logs/task-%A_%a.out
set -euo pipefail
run_dir={run_dir_q}
exec "$run_dir/slurm/exp-{name}" --config "$run_dir/config.toml" --out "$run_dir" \
    --run-id {run_id_q} --shard slurm/{tasks} --array-base 0
"#,
        run_id = plan.run_id,
        n_jobs = plan.n_jobs,
        command_line = plan.command_line.replace(|c: char| c.is_control(), " "),
        last = tasks - 1,
        cpus = args.cpus_per_task,
        common = common_directives(args, workdir),
        run_dir_q = quote(run_dir),
        run_id_q = quote(plan.run_id),
    )
}

/// The collect step's script.
fn collect_script(
    name: &str,
    args: &SlurmOptions,
    plan: &Plan<'_>,
    run_dir: &str,
    workdir: &str,
) -> String {
    format!(
        r#"#!/bin/bash
# Collect step of exp-{name}, run {run_id}: checks every job's parts, merges them into one
# Parquet file per table and draws the figures. Submitted after the array with
# --dependency=afterok:<array job id> --kill-on-invalid-dep=yes, or by hand: sbatch {run_dir}/slurm/collect.sh
#SBATCH --job-name=exp-{name}-collect
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
{common}#SBATCH --output={run_dir}/slurm/logs/collect-%j.out
set -euo pipefail
run_dir={run_dir_q}
exec "$run_dir/slurm/exp-{name}" collect --out "$run_dir" --run-id {run_id_q}
"#,
        run_id = plan.run_id,
        common = common_directives(args, workdir),
        run_dir_q = quote(run_dir),
        run_id_q = quote(plan.run_id),
    )
}

/// Copies the running binary to `dest` unless an identical copy is there (atomically: running
/// tasks keep executing the file they opened).
fn copy_binary(dest: &Path) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot locate the running binary")?;
    let new = std::fs::read(&exe).with_context(|| format!("cannot read {}", exe.display()))?;
    if std::fs::read(dest).is_ok_and(|old| old == new) {
        return Ok(());
    }
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::copy(&exe, &tmp)
        .with_context(|| format!("cannot copy {} to {}", exe.display(), tmp.display()))?;
    std::fs::rename(&tmp, dest).with_context(|| format!("cannot rename to {}", dest.display()))
}

/// Runs `sbatch --parsable ARGS` and returns the job id.
fn sbatch(args: &[String]) -> anyhow::Result<String> {
    let out = Command::new("sbatch")
        .arg("--parsable")
        .args(args)
        .output()
        .context(
            "cannot run sbatch (is Slurm installed? use --dry-run to only write the scripts)",
        )?;
    if !out.status.success() {
        bail!(
            "sbatch --parsable {} failed ({}): {}",
            shell_join(args),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // --parsable prints "<job id>" or "<job id>;<cluster>".
    let id = text.trim().split(';').next().unwrap_or("").to_owned();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
        return Err(anyhow!("sbatch printed no job id: '{}'", text.trim()));
    }
    Ok(id)
}

/// `exp-<name> slurm ...`.
pub(crate) fn submit<E: Experiment>(
    exp: &E,
    args: &SlurmOptions,
    plan: &Plan<'_>,
) -> anyhow::Result<Outcome> {
    if plan.n_jobs == 0 {
        return Err(ConfigError::Usage("slurm: the sweep has no jobs".to_owned()).into());
    }
    let tasks = match args.tasks {
        Some(0) => return Err(ConfigError::Usage("--tasks 0: need at least 1".to_owned()).into()),
        Some(n) if n > plan.n_jobs => {
            tracing::warn!(
                "--tasks {n}: only {} jobs; using {} tasks",
                plan.n_jobs,
                plan.n_jobs
            );
            plan.n_jobs
        }
        Some(n) => n,
        None => plan.n_jobs.min(MAX_DEFAULT_TASKS),
    };
    if args.cpus_per_task == 0 || args.max_running == Some(0) {
        return Err(ConfigError::Usage(
            "--cpus-per-task and --max-running must be at least 1".to_owned(),
        )
        .into());
    }
    check_directive_values(args)?;
    let name = exp.name();
    prepare_run_dir_for(exp, plan.run_dir, plan.config_text, plan.inputs)?;
    let run_dir = plan
        .run_dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", plan.run_dir.display()))?;
    let run_dir_s = sbatch_path("run directory", &run_dir)?;
    let workdir = std::env::current_dir().context("no current directory")?;
    let workdir_s = sbatch_path("working directory", &workdir)?;
    let slurm_dir = run_dir.join("slurm");
    std::fs::create_dir_all(slurm_dir.join("logs"))
        .with_context(|| format!("cannot create {}", slurm_dir.display()))?;
    copy_binary(&slurm_dir.join(format!("exp-{name}")))?;
    let array = slurm_dir.join("array.sh");
    let collect = slurm_dir.join("collect.sh");
    write_file_atomic(
        &array,
        array_script(name, args, plan, tasks, &run_dir_s, &workdir_s).as_bytes(),
    )?;
    write_file_atomic(
        &collect,
        collect_script(name, args, plan, &run_dir_s, &workdir_s).as_bytes(),
    )?;
    let plan_path = run_dir.join(PLAN_FILE);
    let mut record = SlurmPlan {
        tasks,
        n_jobs: plan.n_jobs,
        array_script: array.display().to_string(),
        collect_script: collect.display().to_string(),
        submissions: Vec::new(),
    };
    if let Ok(text) = std::fs::read_to_string(&plan_path)
        && let Ok(old) = toml::from_str::<SlurmPlan>(&text)
    {
        if old.tasks == tasks {
            record.submissions = old.submissions;
        } else if !old.submissions.is_empty() {
            tracing::warn!(
                "{}: earlier submissions used {} tasks; their shards differ from the new {tasks} (finished jobs are still skipped)",
                plan_path.display(),
                old.tasks
            );
        }
    }

    let array_cmd = vec![array.display().to_string()];
    let mut report = format!(
        "slurm: {} jobs in {tasks} array tasks ({} CPU(s) each)\n  script:  {}\n  collect: {}\n  binary:  {}\n",
        plan.n_jobs,
        args.cpus_per_task,
        array.display(),
        collect.display(),
        slurm_dir.join(format!("exp-{name}")).display()
    );
    if args.dry_run {
        report.push_str(&format!(
            "dry run, nothing submitted; submit with:\n  sbatch --parsable {}\n",
            shell_join(&array_cmd)
        ));
        if args.collect {
            report.push_str(&format!(
                "  sbatch --parsable --dependency=afterok:<array job id> --kill-on-invalid-dep=yes {}\n",
                quote(&collect.display().to_string())
            ));
        }
    } else {
        let array_id = sbatch(&array_cmd)?;
        report.push_str(&format!("submitted job array {array_id}\n"));
        let mut collect_id = String::new();
        if args.collect {
            collect_id = sbatch(&[
                format!("--dependency=afterok:{array_id}"),
                "--kill-on-invalid-dep=yes".to_owned(),
                collect.display().to_string(),
            ])?;
            report.push_str(&format!(
                "submitted collect job {collect_id} (runs when every array task succeeded)\n"
            ));
        }
        record.submissions.push(Submission {
            submitted_utc: rfc3339_utc(std::time::SystemTime::now()),
            array_job_id: array_id,
            collect_job_id: collect_id,
        });
    }
    let text = toml::to_string(&record).map_err(|e| anyhow!("cannot serialize plan: {e}"))?;
    write_file_atomic(&plan_path, text.as_bytes())?;
    Ok(Outcome::Submitted {
        run_dir,
        n_jobs: plan.n_jobs,
        report,
    })
}
