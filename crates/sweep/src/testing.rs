//! Helpers for experiments' integration tests: run the CLI into a fresh temporary directory
//! that is removed when the handle is dropped (also when the test panics); and [`Toy`], a tiny
//! experiment without simulation (binary `elise-sweep-toy`) for the harness's own tests.

use crate::{Experiment, RunDir, RunSummary, run_cli};
use std::path::{Path, PathBuf};

/// A run directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempRun {
    path: PathBuf,
}

impl TempRun {
    /// A fresh, not yet existing directory named after `tag` and the process id.
    pub fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!("elise-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        Self { path }
    }
    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn dir(&self) -> RunDir {
        RunDir::new(&self.path)
    }
}

/// A fresh path under the system's temporary directory, unique in this process: `elise-<tag>-<pid>-<n>`
/// (a stale one of an earlier process with the same id is removed); nothing exists there yet.
pub fn fresh_temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "elise-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&path);
    path
}

/// Command-line arguments as owned strings.
pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// An experiment whose config is its default config's TOML table as it is (every key checked
/// by the harness, nothing validated), with one job that writes nothing: for tests of config
/// handling.
#[derive(Clone, Copy, Debug)]
pub struct Loose {
    /// The experiment's name.
    pub name: &'static str,
    /// Its default config.
    pub default_config: &'static str,
}

impl Experiment for Loose {
    type Config = toml::Table;
    fn name(&self) -> &'static str {
        self.name
    }
    fn default_config(&self) -> &str {
        self.default_config
    }
    fn validate(&self, _: &toml::Table, _: &crate::Inputs) -> Result<(), crate::ConfigError> {
        Ok(())
    }
    fn jobs(&self, _: &toml::Table, _: &crate::Inputs) -> Vec<crate::Job> {
        crate::replicate_jobs(1, 0)
    }
    fn work_units(&self, _: &toml::Table, _: &crate::Job) -> u64 {
        1
    }
    fn run_job(
        &self,
        _: &toml::Table,
        _: &crate::Job,
        _: &crate::Inputs,
        _: &crate::Progress,
    ) -> anyhow::Result<crate::JobOutput> {
        Ok(crate::JobOutput::new())
    }
}

impl Drop for TempRun {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs `exp-<name> ARGS --out <temp dir>` in-process and returns the run's summary and the
/// directory.
///
/// # Panics
/// If the command line is rejected or is not a run (`--list`, `slurm`, ...): a test bug.
pub fn run_in_temp_dir<E: Experiment>(exp: &E, tag: &str, args: &[&str]) -> (RunSummary, TempRun) {
    let run = TempRun::new(tag);
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    argv.extend(["--out".to_owned(), run.path().display().to_string()]);
    let summary = run_cli(exp, &argv)
        .and_then(crate::Outcome::into_run)
        .unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    (summary, run)
}

/// The embedded default config of [`Toy`].
const TOY_DEFAULT: &str = r#"# exp-toy: a tiny experiment without simulation, for harness tests and demos.
[run]
seeds = 8               # jobs (replicates); seed of replicate r = base_seed + r
base_seed = 1000

[toy]
steps = 10              # rows per job in table `samples`
sleep_ms = 0            # wall time each job spends (spread over its steps)
fail_seed = -1          # the job with this seed returns an error (-1: none)

[axes]
"#;

/// Config of [`Toy`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyConfig {
    /// `[run]`.
    pub run: ToyRun,
    /// `[toy]`.
    pub toy: ToyParams,
}

/// `[run]` of [`ToyConfig`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyRun {
    /// Number of replicates.
    pub seeds: usize,
    /// Seed of replicate 0.
    pub base_seed: u64,
}

/// `[toy]` of [`ToyConfig`].
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToyParams {
    /// Rows per job in table `samples`.
    pub steps: u64,
    /// Wall time per job in milliseconds.
    pub sleep_ms: u64,
    /// Seed whose job fails (-1: none).
    pub fail_seed: i64,
}

/// `exp-toy`: a tiny experiment without simulation (binary `elise-sweep-toy`), used by the
/// harness's process-level tests (SIGKILL/SIGTERM, Slurm) and to measure the harness's own
/// costs. Job `j` writes `toy.steps` rows to table `samples` (`job`, `seed`, `step`, `value`, a
/// pseudo-random function of seed and step) and one row to `summary` (`job`, `seed`, `total`).
/// `finish` writes `finish.txt` with the number of `summary` rows.
#[derive(Debug)]
pub struct Toy;

/// SplitMix64 finalizer: a deterministic pseudo-random function of its input.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl crate::Experiment for Toy {
    type Config = ToyConfig;
    fn name(&self) -> &'static str {
        "toy"
    }

    fn default_config(&self) -> &str {
        TOY_DEFAULT
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[("run.seeds", "2"), ("toy.steps", "3")]
    }

    fn validate(&self, cfg: &ToyConfig, _inputs: &crate::Inputs) -> Result<(), crate::ConfigError> {
        crate::check_range("run.seeds", cfg.run.seeds, 1, 1_000_000)?;
        crate::check_range("toy.steps", cfg.toy.steps, 1, 1_000_000)?;
        crate::check_range("toy.sleep_ms", cfg.toy.sleep_ms, 0, 3_600_000)
    }

    fn jobs(&self, cfg: &ToyConfig, _inputs: &crate::Inputs) -> Vec<crate::Job> {
        crate::replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }

    fn work_units(&self, cfg: &ToyConfig, _job: &crate::Job) -> u64 {
        cfg.toy.steps
    }

    fn run_job(
        &self,
        cfg: &ToyConfig,
        job: &crate::Job,
        _inputs: &crate::Inputs,
        progress: &crate::Progress,
    ) -> anyhow::Result<crate::JobOutput> {
        use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
        use std::sync::Arc;
        if i64::try_from(job.seed).ok() == Some(cfg.toy.fail_seed) {
            anyhow::bail!("toy.fail_seed: job with seed {} fails", job.seed);
        }
        let n = cfg.toy.steps;
        let pause = std::time::Duration::from_micros(cfg.toy.sleep_ms * 1000 / n);
        let mut values = Vec::with_capacity(n as usize);
        for step in 0..n {
            if !pause.is_zero() {
                std::thread::sleep(pause);
            }
            let u = (splitmix(job.seed ^ splitmix(step)) >> 11) as f64 / (1u64 << 53) as f64;
            values.push(u);
            progress.inc(1);
        }
        let total: f64 = values.iter().sum();
        let idx = job.index as u64;
        let samples = RecordBatch::try_from_iter([
            (
                "job",
                Arc::new(UInt64Array::from(vec![idx; n as usize])) as ArrayRef,
            ),
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed; n as usize])) as ArrayRef,
            ),
            (
                "step",
                Arc::new(UInt64Array::from_iter_values(0..n)) as ArrayRef,
            ),
            ("value", Arc::new(Float64Array::from(values)) as ArrayRef),
        ])?;
        let summary = RecordBatch::try_from_iter([
            ("job", Arc::new(UInt64Array::from(vec![idx])) as ArrayRef),
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed])) as ArrayRef,
            ),
            (
                "total",
                Arc::new(Float64Array::from(vec![total])) as ArrayRef,
            ),
        ])?;
        Ok(crate::JobOutput::new()
            .with_table("samples", samples)
            .with_table("summary", summary))
    }

    fn finish(&self, _cfg: &ToyConfig, run: &RunDir) -> anyhow::Result<()> {
        let rows: usize = run
            .read_table("summary")?
            .iter()
            .map(arrow_array::RecordBatch::num_rows)
            .sum();
        crate::write_file_atomic(&run.path().join("finish.txt"), rows.to_string().as_bytes())
    }
}
