//! Experiment harness: one CLI, TOML configs, seeds per job, rayon pool, atomic Parquet parts, manifest, progress.
//!
//! An experiment is a value implementing [`Experiment`] (a config type, an embedded default
//! config, its input files, the list of jobs and a pure `run_job`), and its binary's `main` is
//! one line:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode { elise_sweep::main(my_experiment()) }
//! ```
//!
//! The harness then provides, identically for every experiment:
//!
//! * the command line `exp-<name> [--config FILE] [--set key=value]... [--axis key=v1,v2,...]...
//!   [--pattern FILE] [--seeds N] [--threads N] [--out DIR] [--run-id ID] [--shard K/N]
//!   [--quick] [--list] [--restart] [--redraw]`, and the subcommands `slurm` and `collect`
//!   ([`run_cli`]);
//! * config resolution against the embedded default, with unknown keys and type mismatches
//!   reported by dotted key ([`resolve_config`], [`ConfigError`], [`check_range`] and friends);
//! * input files read once, when the run is planned, recorded by content in `config.toml` and
//!   copied into the run directory; jobs get bytes, not paths (below);
//! * jobs with explicit seeds ([`Job`], [`replicate_jobs`], [`grid_jobs`]) run in parallel on a
//!   rayon pool of `--threads` threads; a job's output depends only on (config, job), never on
//!   the thread count;
//! * one Parquet part per job and table, written atomically
//!   (`<run dir>/<table>/job-<index:06>.parquet`, see [`write_parquet_atomic`], [`RunDir`]), and
//!   a job's extra files ([`JobOutput::push_file`]);
//! * a checkpoint file per job that survives a kill, read before the job and written for it
//!   ([`Progress::saved_checkpoint`], [`Progress::save_checkpoint`]);
//! * `config.toml` and `manifest.toml` (git commit, times, failures) in the run directory;
//! * progress reporting ([`Progress`]) as a progress bar on a terminal, log lines otherwise;
//! * parameter grids over any config values (`[axes]`, below);
//! * resume, sharding, Slurm job arrays, `collect`, and a clean stop on SIGINT/SIGTERM (below).
//!
//! The crate knows nothing about what the experiments compute.
//!
//! # Input files: read once, at the edge
//!
//! [`Experiment::input_files`] names the config values that are input files (key, path as
//! written, size bound, what it should be); built-in names and `""` are not files. When a run
//! is planned the harness calls it for the base config and every grid point's config and reads
//! each distinct file once with [`read_bounded`]: the file is opened with `O_NONBLOCK` and must be a regular file
//! (a FIFO, a device such as `/dev/zero`, a directory or a socket, also behind a symlink, is
//! refused at once), and at most its bound is read. Errors are [`ConfigError::Input`] naming
//! the key, the path, the problem and what was expected (`pattern.file = 'x': cannot read: not
//! a regular file (a FIFO); expected a pattern file`). The bytes go to `validate`, `jobs` and
//! `run_job` as [`Inputs`] (path as written → bytes) and to `finish` through
//! [`RunDir::inputs`]; experiments never open them.
//!
//! Each input's identity becomes part of the resolved config, so of `config.toml` and the run
//! id:
//!
//! ```toml
//! [inputs."data/patterns/x.txt"]
//! fnv1a64 = "0123456789abcdef"
//! bytes = 1234
//! keys = ["pattern.file"]
//! ```
//!
//! (`[inputs]` is removed before deserializing the experiment's config, like `[axes]`; config
//! values are unchanged.) The run directory keeps a copy of each, `inputs/<fnv1a64>`, written
//! before `config.toml`. Consequences:
//!
//! * A file changed between two shards or before a resume changes the config text: the run
//!   directory refuses it ("holds a run with a different config (input 'x' (pattern.file)
//!   changed: fnv1a64 A (N bytes) in the run, B (M bytes) now)"); runs are never mixed.
//! * A config that already carries `[inputs]` — a run's `config.toml`, used by `collect`,
//!   `--redraw`, the Slurm array tasks (`--config <run dir>/config.toml`) or by hand — takes the
//!   recorded inputs from the copies (looked for in `--out`, the config file's directory and its
//!   parent), checked against the hash (a missing or different copy is an error), never from the
//!   paths, so it works from any working directory and after the user's file is gone. A key
//!   overridden to another file is read from that file.
//! * Without input files there is no `[inputs]` table: config text and run ids are as before.
//!
//! # Resume, shards, Slurm and `collect`
//!
//! * **Resume** ([`resume`]): running the same sweep into the same directory skips the jobs whose
//!   completion record `_done/job-<index:06>.toml` matches their parts (size and FNV-1a hash);
//!   missing, truncated or corrupt parts are redone; `--restart` discards. A job that is redone
//!   gets the checkpoint it left (`_checkpoints/job-<index:06>.ckpt`, read with the bound
//!   [`Experiment::max_checkpoint_bytes`]; a non-regular or oversized file is ignored with a
//!   warning).
//! * **Run id:** `run-<FNV-1a of the resolved config and the code version (git commit)>` unless
//!   `--run-id ID`; the default run directory is `results/<experiment>/<run id>`; with `--out`
//!   and no `--run-id` the id is the directory's name. It is in every part (`elise.run_id`) and
//!   manifest.
//! * **Shards** ([`Shard`]): `--shard K/N` runs the jobs with `index % N == K`. Shards share one
//!   run directory and never touch each other's files (resume and `--restart` act on the
//!   shard's own jobs); each writes `manifest-shard-K-of-N.toml`; figures (`finish`) are drawn
//!   by `collect`, not by a shard. `--shard slurm/N` takes `K = SLURM_ARRAY_TASK_ID - base`
//!   (`--array-base`, else `SLURM_ARRAY_TASK_MIN`). Threads: `--threads`, else
//!   `SLURM_CPUS_PER_TASK`, else all cores. Seeds and rows depend on neither.
//! * **`exp-<name> slurm [run flags] [--tasks N] [--cpus-per-task C] [--time T] [--mem M]
//!   [--partition P] [--account A] [--max-running M] [--collect] [--dry-run]`** writes
//!   `<run dir>/slurm/array.sh` (task `i` = shard `i`, array base 0 written in the script),
//!   `collect.sh`, a copy of the binary and `plan.toml` (and the run's `config.toml` with the
//!   copies of its input files), then submits with `sbatch --parsable`
//!   (and with `--collect` the collect step with `--dependency=afterok:<id>
//!   --kill-on-invalid-dep=yes`). Default: one task per job, at most 1000.
//! * **`exp-<name> collect --out DIR [--run-id ID] [--allow-missing]`** checks every job of the
//!   run's `config.toml` with [`resume::check_job`], lists the missing ones (with the errors the
//!   manifests recorded) and prints the commands that re-run them (`sbatch --array=<shards>
//!   .../array.sh` and a local one; exit code 1), else merges each table's parts in job order
//!   into `DIR/<table>.parquet` (streamed; metadata `elise.experiment`, `elise.run_id`,
//!   `elise.git_commit`, `elise.config`, `elise.jobs`, `elise.missing_jobs`), runs `finish` and
//!   writes `collect.toml`.
//!
//! # A run directory cannot lie
//!
//! * Every completion record carries the FNV-1a hash of the resolved config its job ran with;
//!   a record made for other values (an edited `config.toml`), for another job, without parts,
//!   or naming a part outside the directory is never trusted: the job is redone. An empty or
//!   unreadable `config.toml` is refused; a different config is refused naming the first key
//!   (or input file) that differs.
//! * Figures, summaries, `--redraw` and `collect` read the parts of recorded jobs only
//!   ([`RunDir::read_table`]); `collect` and any run that rewrites jobs first remove earlier
//!   merged tables and `collect.toml`.
//! * Advisory locks ([`lock`]): sweeps and shards share `_lock`, `collect` and a whole-sweep
//!   `--restart` take it alone (or fail with a message); a job's lock is held from its resume
//!   check to its record, so any number of processes on one `--out` run every job once, never
//!   delete each other's parts, and wait for the jobs another process is running.
//! * Limits ([`limits`], at most 100,000 jobs, `--threads` at most 4096) and each
//!   job's own check ([`Experiment::check_job`]) are applied before anything is written.
//!
//! The library-level entry point is [`plan()`] then [`execute()`] (the CLI is one front end);
//! ARCHITECTURE.md shows the layers.
//!
//! # Crash safety
//!
//! Every file the harness writes (parts, completion records, `config.toml`, input copies, job
//! checkpoints and extra files, manifests, `collect.toml`, merged tables, Slurm scripts, the
//! copied binary) is written to a temporary name in the same directory and renamed; figures (elise-plot) and `summary.md`
//! ([`write_file_atomic`]) likewise. A process killed with SIGKILL at any moment leaves at most
//! `*.tmp` files and parts without a completion record, which resume and `collect` never
//! trust. SIGINT and SIGTERM stop a sweep cleanly: no new job starts, jobs still running are
//! abandoned (not waited for: a job can outlast Slurm's grace period before SIGKILL), the
//! manifest gets `status = "interrupted"`, `signal`, `not_run` and `abandoned`, and the process
//! exits with 128 + signal (130, 143). Running the same command again resumes.
//!
//! # Parameter grids: `[axes]`
//!
//! An experiment opts in by putting an (usually empty) `[axes]` table in its embedded default
//! config. Users then add axes — a config key and the values it takes — in a `--config` file,
//! with `--set`, or with `--axis`:
//!
//! ```toml
//! # grid.toml, used as `exp-birdsong --config grid.toml`
//! [axes]
//! "network.n_latent" = [10, 20, 50]      # quoted dotted key = non-empty array
//! "network.mode" = ["elise", "reservoir"]
//! ```
//!
//! ```text
//! exp-birdsong --set 'axes.network.n_latent=[10, 20, 50]' --axis network.mode=elise,reservoir
//! ```
//!
//! (`--set axes.KEY=[...]`: everything after `axes.` is the axis key; `--axis KEY=V1,V2,...`:
//! comma-separated values. In both, elements are checked like `--set` values against the
//! default — integers are accepted for floats, strings may be unquoted.)
//!
//! Rules:
//!
//! * An axis key names an existing non-table value of the default config outside `[axes]`;
//!   `run.seeds` and `run.base_seed` cannot be axes. The value is a non-empty array. Errors
//!   ([`ConfigError::Axis`], [`ConfigError::UnknownKey`], [`ConfigError::TypeMismatch`], ...)
//!   name the file or flag and the axis key. An axis given twice (e.g. in the file and by
//!   `--axis`) takes the later value, in the usual layer order. Without an `[axes]` table in
//!   the default, `axes.*` keys are unknown keys.
//! * The grid points are the Cartesian product of the axes, in sorted key order (first key
//!   slowest), values in the order given ([`grid_points`]). The jobs are the experiment's own
//!   jobs (`Experiment::jobs` of the base config, usually the replicates) repeated for every
//!   point: point `p`, base job `j` → index `p * n_base + j.index`, same replicate and seed as
//!   `j` (so every point sees the same seeds: paired comparisons), params = the point's
//!   `(key, value as TOML text)` pairs followed by `j.params` ([`expand_jobs`]). Without axes
//!   the jobs are exactly `Experiment::jobs`.
//! * Each point's config is the resolved config with the point's values applied
//!   ([`apply_params`]), deserialized and validated; all points are checked before any job runs,
//!   and a bad one is a usage error (exit code 2) naming it ([`ConfigError::Point`], e.g.
//!   `axes point network.n_latent=100000: network.n_latent = 100000 is out of range: ...`).
//!   `work_units` and `run_job` receive the job's own config; `finish` the base config. An axis
//!   may vary a file key (`pattern.file`): every point's file is an input of the run.
//! * `config.toml` keeps the `[axes]` table (the run id hashes it); `Experiment::Config` never
//!   sees it: `[axes]` is removed before deserializing, so configs need no `axes` field (one
//!   declared anyway must be `#[serde(default)]`; it is always empty). The params are in each
//!   Parquet part's `elise.params` metadata and in the `--list` output; [`job_config`] rebuilds
//!   a job's config from the run's table.

pub mod annotate;
mod axes;
mod bounded;
mod cli;
mod collect;
mod config;
pub mod exec;
mod inputs;
mod interrupt;
mod job_files;
pub mod limits;
pub mod lock;
mod parquet_io;
pub mod plan;
mod progress;
pub mod resume;
mod schema;
mod shard;
mod slurm;
mod store;
mod telemetry;
pub mod testing;
mod util;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};

use arrow_array::RecordBatch;

pub use axes::{axes_of, grid_points};
pub use cli::{main, report, run_cli};
pub use config::{
    ConfigError, apply_params, check_at_least, check_bounds, check_positive, check_range,
};
/// Input files by path as written in the config → bytes (read by the harness; see
/// [`Experiment::input_files`]).
pub use elise_core::Inputs;
pub use exec::{ExecOptions, Interrupted, Outcome, RunSummary, execute, execute_cancellable};
pub use inputs::{InputFile, ReadError, read_bounded};
pub use parquet_io::{
    column, read_parquet, read_parquet_metadata, write_file_atomic, write_parquet_atomic,
    write_parquet_batches_atomic,
};
pub use plan::{
    Override, Plan, Request, expand_jobs, job_config, plan, resolve_config, resolve_config_inputs,
};
pub use progress::Progress;
pub use shard::Shard;
pub use telemetry::init_tracing;
pub use util::{fnv1a_64, rfc3339_utc};

/// Re-exported so experiments can name Arrow types without spelling out the dependency version.
pub use arrow_array;
/// Re-exported so experiments can name Arrow schema types (`DataType`, `Field`, ...).
pub use arrow_schema;
/// Re-exported so experiments can name the resolved config table (`toml::Table`) without
/// spelling out the dependency version.
pub use toml;

/// One experiment, as a value: its name, its config, its input files, its jobs and how to run
/// one job.
///
/// An experiment is a value with `&self` methods (a plain struct, or a configured
/// `elise_study::Study`), so one type can serve many experiments and a registry can hold them
/// all ([`Entry`]). `run_job` must be a pure function of `(cfg, job, inputs)`; the harness runs
/// jobs in parallel in an unspecified order. `axes` and `inputs` are reserved top-level names of
/// a config.
pub trait Experiment: Send + Sync {
    /// Parsed config; deserialized from the merged TOML without its `[axes]` and `[inputs]`
    /// tables (no `axes` or `inputs` field is needed). Unknown keys never reach it: every key
    /// is checked against [`Experiment::default_config`] first.
    type Config: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync;

    /// Short name, e.g. `"birdsong"`; the binary is `exp-<name>` and the default run directory
    /// is `results/<name>/run-<hash of the resolved config>`.
    fn name(&self) -> &'static str;

    /// One line: what the experiment shows (listed by `elise list`). Default: empty.
    fn summary(&self) -> &'static str {
        ""
    }

    /// The embedded default config (TOML text). Every valid key appears in it (optional strings
    /// as `""`); keys absent here are rejected in `--config` files and `--set`.
    fn default_config(&self) -> &str;

    /// Overrides applied by `--quick`, as (dotted key, TOML value text), e.g.
    /// `("train.cycles", "1000")`. Default: none.
    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[]
    }

    /// The input files `cfg` names (config key, path, size bound, what it should be), e.g. a
    /// pattern file; built-in names and empty values are not files. Default: none.
    ///
    /// The harness calls this for the base config and every grid point's config when the run is
    /// planned, reads each distinct file once ([`read_bounded`]: regular files only, at most
    /// `max_bytes`), records its content hash in the resolved config's `[inputs]` table (so the
    /// content is part of the run id and `config.toml`), keeps a copy in `<run dir>/inputs/` and
    /// passes the bytes to `validate`, `jobs` and `run_job` ([`Inputs`], by path as written) and
    /// to `finish` ([`RunDir::inputs`]). Experiments never open these files themselves.
    fn input_files(&self, _cfg: &Self::Config) -> Vec<InputFile> {
        Vec::new()
    }

    /// Range and consistency checks; return e.g. [`ConfigError::OutOfRange`] naming the dotted
    /// key (see [`check_range`] and friends). `inputs` holds the files of
    /// [`Experiment::input_files`].
    fn validate(&self, cfg: &Self::Config, inputs: &Inputs) -> Result<(), ConfigError>;

    /// The jobs of this run (indices must be unique). See [`replicate_jobs`] for the common case.
    /// Called with the base config; with `[axes]` these jobs are repeated for every grid point
    /// (see [`expand_jobs`]).
    fn jobs(&self, cfg: &Self::Config, inputs: &Inputs) -> Vec<Job>;

    /// Units of work of one job for the progress bar (e.g. simulated cycles). `cfg` is the job's
    /// own config (its grid point applied).
    fn work_units(&self, cfg: &Self::Config, job: &Job) -> u64;

    /// Checks one job (its own config and seed) before anything runs, e.g. that what it builds
    /// from its seed is possible; an error is a usage error naming the key. Default: nothing.
    fn check_job(
        &self,
        _cfg: &Self::Config,
        _job: &Job,
        _inputs: &Inputs,
    ) -> Result<(), ConfigError> {
        Ok(())
    }

    /// One job's peak memory, about, and the key that dominates it. Before anything runs the
    /// harness checks that the jobs that may run at once fit in what the process may use
    /// ([`limits`]). Default: no estimate (no check).
    fn memory_need(
        &self,
        _cfg: &Self::Config,
        _job: &Job,
        _inputs: &Inputs,
    ) -> Option<limits::MemoryNeed> {
        None
    }

    /// The largest checkpoint a job of `cfg` can write, if its jobs keep checkpoints. Then the
    /// harness reads the job's checkpoint (left by a killed run) with that bound before the job
    /// starts and hands over the bytes ([`Progress::saved_checkpoint`]); the job saves through
    /// [`Progress::save_checkpoint`]. Default: `None` (no checkpoints are read).
    fn max_checkpoint_bytes(&self, _cfg: &Self::Config) -> Option<u64> {
        None
    }

    /// Run one job. Must be a pure function of `(cfg, job, inputs)` (and of the saved checkpoint
    /// it resumes from); `cfg` is the job's own config (the base config with the job's grid
    /// point applied, see [`expand_jobs`]). Report progress via [`Progress::inc`]. An `Err` or a
    /// panic marks the job as failed; the sweep continues.
    fn run_job(
        &self,
        cfg: &Self::Config,
        job: &Job,
        inputs: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput>;

    /// Called once after all jobs (also when some failed), e.g. to draw the figure from the
    /// tables in the run directory. `cfg` is the *base* config (no grid point applied): read
    /// per-job values from the tables or the parts' `elise.params`, or rebuild a job's config
    /// with [`job_config`] from the run's `config.toml`; the input files are
    /// [`RunDir::inputs`]. Default: nothing.
    fn finish(&self, _cfg: &Self::Config, _run: &RunDir) -> anyhow::Result<()> {
        Ok(())
    }
}

/// One unit of a sweep: a replicate with its own seed and optional named parameters.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Job {
    /// Position in the job list; names the output parts (`job-<index:06>.parquet`). Unique.
    pub index: usize,
    /// Replicate number (0-based) among the jobs that share the same `params`.
    pub replicate: usize,
    /// The seed from which the job derives all of its randomness.
    pub seed: u64,
    /// Named parameters of a grid point, as (name, value text); empty for plain replicates.
    pub params: Vec<(String, String)>,
}

impl Job {
    /// The value text of parameter `name`, if the job has it.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` pairs separated by spaces (empty string when there are no params).
    pub fn params_text(&self) -> String {
        self.params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `n_seeds` plain replicates: job `i` has index `i`, replicate `i`, seed `base_seed + i`
/// (wrapping) and no params.
pub fn replicate_jobs(n_seeds: usize, base_seed: u64) -> Vec<Job> {
    (0..n_seeds)
        .map(|i| Job {
            index: i,
            replicate: i,
            seed: base_seed.wrapping_add(i as u64),
            params: Vec::new(),
        })
        .collect()
}

/// The cross product of parameter points and replicates: for point `p` and replicate `r` the job
/// has index `p * n_seeds + r`, replicate `r`, seed `base_seed + r` (wrapping) and the point's
/// params. Every point uses the same seeds (paired comparison across points).
pub fn grid_jobs(points: &[Vec<(String, String)>], n_seeds: usize, base_seed: u64) -> Vec<Job> {
    let mut jobs = Vec::with_capacity(points.len() * n_seeds);
    for point in points {
        for r in 0..n_seeds {
            jobs.push(Job {
                index: jobs.len(),
                replicate: r,
                seed: base_seed.wrapping_add(r as u64),
                params: point.clone(),
            });
        }
    }
    jobs
}

/// A job that failed: returned `Err`, panicked, or its output could not be written.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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

/// What one job produced: named tables (table name → rows) and extra files. Each table becomes
/// the part `<run dir>/<table>/job-<index:06>.parquet`. Table names use `[A-Za-z0-9_.-]`, must
/// not start with `.` or `_`; batches of one name go into one part, in order. Each file
/// (`<dir>/<name>`, e.g. `networks/job-000003.ckpt`) is written atomically to
/// `<run dir>/<dir>/<name>` before the job's completion record (see [`JobOutput::push_file`]).
#[derive(Clone, Debug, Default)]
pub struct JobOutput {
    /// (table name, rows) pairs.
    pub tables: Vec<(String, RecordBatch)>,
    /// (relative path `<dir>/<name>`, contents) pairs.
    pub files: Vec<(String, Vec<u8>)>,
}

impl JobOutput {
    /// An output without tables.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder form of [`JobOutput::push`].
    pub fn with_table(mut self, name: impl Into<String>, batch: RecordBatch) -> Self {
        self.push(name, batch);
        self
    }

    /// Adds table `name` with rows `batch`.
    pub fn push(&mut self, name: impl Into<String>, batch: RecordBatch) {
        self.tables.push((name.into(), batch));
    }

    /// Adds the file `path` = `<dir>/<name>` (two parts of `[A-Za-z0-9_.-]`, not starting with
    /// `.` or `_`; `dir` not a table of this output nor `inputs` or `slurm`; `name` not ending
    /// in `.parquet`), written to `<run dir>/<dir>/<name>`. Kept after the run (the harness
    /// never deletes it); resume does not check it.
    pub fn push_file(&mut self, path: impl Into<String>, contents: Vec<u8>) {
        self.files.push((path.into(), contents));
    }
}

/// A run directory: `config.toml`, `manifest.toml`, one sub-directory of Parquet parts per
/// table, the completion records `_done/` and the copies of the run's input files (`inputs/`).
///
/// Tables are read from *recorded* jobs only: the parts named by completion records that match
/// the run's config and whose parts are intact ([`resume::check_job`]). A part on disk without
/// such a record (a job killed while writing, a stray file, a record made with other config
/// values) is never read, so figures and summaries describe exactly the jobs the config says.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
    /// The config hash and jobs the records must match; `None`: the hash of `config.toml` and
    /// whatever jobs have records.
    expect: Option<Arc<(String, Vec<Job>)>>,
    /// The verified records, in job order (computed once).
    recorded: Arc<OnceLock<Result<Vec<resume::DoneRecord>, String>>>,
    /// The run's input files, once known.
    inputs: Arc<Mutex<Option<Arc<Inputs>>>>,
}

impl RunDir {
    /// Wraps an existing (or future) run directory, e.g. to read the tables of a finished run.
    /// Its records are checked against its own `config.toml`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            expect: None,
            recorded: Arc::default(),
            inputs: Arc::default(),
        }
    }

    /// A run directory whose records must match the resolved config of hash `config_hash` and
    /// the jobs `jobs` (the harness's view of a run it planned).
    pub(crate) fn planned(path: impl Into<PathBuf>, config_hash: String, jobs: Vec<Job>) -> Self {
        Self {
            path: path.into(),
            expect: Some(Arc::new((config_hash, jobs))),
            recorded: Arc::default(),
            inputs: Arc::default(),
        }
    }

    /// This run directory with its input files already read.
    #[must_use]
    pub fn with_inputs(self, inputs: Arc<Inputs>) -> Self {
        *self.inputs.lock().unwrap_or_else(|e| e.into_inner()) = Some(inputs);
        self
    }

    /// The run's input files (see [`Experiment::input_files`]): those recorded in the
    /// `[inputs]` table of its `config.toml`, read from their copies in `inputs/` (checked
    /// against the recorded hashes), never from the paths the config names. Read once.
    pub fn inputs(&self) -> anyhow::Result<Arc<Inputs>> {
        let mut slot = self.inputs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(inputs) = &*slot {
            return Ok(Arc::clone(inputs));
        }
        let inputs = Arc::new(inputs::from_run_dir(&self.path, &self.config_table()?)?);
        *slot = Some(Arc::clone(&inputs));
        Ok(inputs)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The completion records of the jobs whose parts may be read, in job order.
    pub fn recorded_jobs(&self) -> anyhow::Result<&[resume::DoneRecord]> {
        self.recorded
            .get_or_init(|| self.verify_records())
            .as_deref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    fn verify_records(&self) -> Result<Vec<resume::DoneRecord>, String> {
        if let Some(expect) = &self.expect {
            let (hash, jobs) = &**expect;
            let mut jobs: Vec<&Job> = jobs.iter().collect();
            jobs.sort_by_key(|j| j.index);
            return Ok(jobs
                .into_iter()
                .filter_map(|job| match resume::check_job(&self.path, job, hash) {
                    resume::JobState::Done(r) => Some(r),
                    _ => None,
                })
                .collect());
        }
        let config =
            store::read_small_text(&self.path.join("config.toml")).map_err(|e| format!("{e:#}"))?;
        let hash = resume::config_hash(&config);
        let dir = self.path.join(resume::DONE_DIR);
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(format!("cannot list {}: {e}", dir.display())),
        };
        let mut indices: Vec<usize> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let digits = name.strip_prefix("job-")?.strip_suffix(".toml")?;
                digits.parse().ok()
            })
            .collect();
        indices.sort_unstable();
        Ok(indices
            .into_iter()
            .filter_map(|i| resume::read_record(&self.path, i).ok())
            .filter(|r| r.config_fnv1a64 == hash && resume::check_parts(&self.path, r).is_ok())
            .collect())
    }

    /// (recorded jobs, planned jobs) of a run the harness planned (a run, `--redraw`,
    /// `collect`); `None` for a directory opened with [`RunDir::new`]. Figures of a run with
    /// fewer recorded than planned jobs (failed jobs, `--redraw` mid-run) say so.
    pub fn job_counts(&self) -> anyhow::Result<Option<(usize, usize)>> {
        match &self.expect {
            Some(expect) => Ok(Some((self.recorded_jobs()?.len(), expect.1.len()))),
            None => Ok(None),
        }
    }

    /// The parts of `table` of the recorded jobs, in job order.
    pub fn table_parts(&self, table: &str) -> anyhow::Result<Vec<PathBuf>> {
        Ok(self
            .recorded_jobs()?
            .iter()
            .flat_map(|r| r.parts.iter())
            .filter(|p| p.table == table)
            .map(|p| self.path.join(&p.table).join(&p.file))
            .collect())
    }

    /// The part of `table` of job `index`, if that job is recorded and wrote the table.
    pub fn part(&self, table: &str, index: usize) -> anyhow::Result<Option<PathBuf>> {
        Ok(self
            .recorded_jobs()?
            .iter()
            .filter(|r| r.index == index)
            .flat_map(|r| r.parts.iter())
            .find(|p| p.table == table)
            .map(|p| self.path.join(&p.table).join(&p.file)))
    }

    /// The run's resolved config table, read from its `config.toml` (with `[axes]`; see
    /// [`job_config`]).
    pub fn config_table(&self) -> anyhow::Result<toml::Table> {
        use anyhow::Context as _;
        let file = self.path.join("config.toml");
        let text = store::read_small_text(&file)?;
        toml::from_str(&text).with_context(|| format!("{} is not valid TOML", file.display()))
    }

    /// All rows of `table` of the recorded jobs, in job order.
    pub fn read_table(&self, table: &str) -> anyhow::Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        for part in self.table_parts(table)? {
            batches.extend(read_parquet(&part)?);
        }
        Ok(batches)
    }
}

/// An experiment with its config type erased, so that a registry can hold every experiment
/// (`elise-lab`) and front ends (the `elise` command, the Python package) can run one by name.
pub struct Entry(Box<dyn Erased>);

/// What [`Entry`] needs of an experiment, without its config type.
trait Erased: Send + Sync {
    fn name(&self) -> &'static str;
    fn summary(&self) -> &'static str;
    fn default_config(&self) -> &str;
    fn run_cli(&self, args: &[String]) -> anyhow::Result<Outcome>;
    fn run(
        &self,
        request: &Request,
        opts: &ExecOptions,
        cancel: Option<Arc<AtomicBool>>,
    ) -> anyhow::Result<Finished>;
}

/// What [`Entry::run`] returns: the run's summary and its resolved config table (its
/// `config.toml`, with `[axes]` and `[inputs]`).
#[derive(Clone, Debug)]
pub struct Finished {
    /// How the jobs went.
    pub summary: RunSummary,
    /// The resolved config.
    pub config: toml::Table,
}

impl<E: Experiment + 'static> Erased for E {
    fn name(&self) -> &'static str {
        Experiment::name(self)
    }
    fn summary(&self) -> &'static str {
        Experiment::summary(self)
    }
    fn default_config(&self) -> &str {
        Experiment::default_config(self)
    }
    fn run_cli(&self, args: &[String]) -> anyhow::Result<Outcome> {
        run_cli(self, args)
    }
    fn run(
        &self,
        request: &Request,
        opts: &ExecOptions,
        cancel: Option<Arc<AtomicBool>>,
    ) -> anyhow::Result<Finished> {
        let plan = plan(self, request)?;
        let summary = match cancel {
            None => execute(&plan, opts)?,
            Some(cancel) => execute_cancellable(&plan, opts, cancel)?,
        };
        Ok(Finished {
            summary,
            config: plan.table,
        })
    }
}

impl Entry {
    /// The entry of experiment `exp`.
    pub fn new<E: Experiment + 'static>(exp: E) -> Self {
        Self(Box::new(exp))
    }

    /// The experiment's name, e.g. `"birdsong"`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// One line: what the experiment shows.
    pub fn summary(&self) -> &'static str {
        self.0.summary()
    }

    /// The embedded default config (TOML text with the keys' comments).
    pub fn default_config(&self) -> &str {
        self.0.default_config()
    }

    /// Runs the experiment's command line (`args` after the program name), as
    /// [`run_cli`] does.
    pub fn run_cli(&self, args: &[String]) -> anyhow::Result<Outcome> {
        self.0.run_cli(args)
    }

    /// Plans and executes a run ([`plan()`] then [`execute()`]): the library entry point. With
    /// `cancel`, no signal handler is installed and setting the flag stops the run
    /// ([`execute_cancellable`]).
    pub fn run(
        &self,
        request: &Request,
        opts: &ExecOptions,
        cancel: Option<Arc<AtomicBool>>,
    ) -> anyhow::Result<Finished> {
        self.0.run(request, opts, cancel)
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.name())
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}
