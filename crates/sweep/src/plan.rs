//! Plan: a request (config file, overrides, flags) resolved into everything a run needs before
//! anything is written: the resolved config and its text, the input files, every job with its
//! own config (grid points validated, each job checked), work units, run id and run directory.
//!
//! Layer: `plan` → `config`, `job`; it reads only input files (through the bounded reader) and
//! writes nothing. [`plan`] then [`execute`](crate::exec::execute) is the library-level entry
//! point that the CLI and other front ends (e.g. the Python package) call.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use std::sync::Arc;
use toml::Table;

use anyhow::bail;

use crate::axes::{axes_of, check_job_count, grid_points, params_text};
use crate::config::apply_params;
use crate::config::{self, CmdOverride, ConfigError};
use crate::util::{fnv1a_64, git_commit};
use crate::{Experiment, Inputs, Job};

/// One `--set KEY=VALUE` or `--axis KEY=V1,V2,...`, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Override {
    /// `KEY=VALUE` (a TOML value; strings may be unquoted).
    Set(String),
    /// `KEY=V1,V2,...` (a grid axis).
    Axis(String),
}

/// What to run: the layers of the config and where the run goes.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// A TOML file merged over the embedded default config.
    pub config: Option<PathBuf>,
    /// Overrides, applied last, in order.
    pub overrides: Vec<Override>,
    /// Values set by flags (dotted key, TOML value text), e.g. `("run.seeds", "3")`; applied
    /// before the overrides.
    pub extra: Vec<(String, String)>,
    /// Apply the experiment's quick overrides.
    pub quick: bool,
    /// The run directory (default: `results/<experiment>/<run id>`).
    pub out: Option<PathBuf>,
    /// The run id (default: the run directory's name, or a hash of the config and the code).
    pub run_id: Option<String>,
}

/// A resolved run (see the module docs).
pub struct Plan<'a, E: Experiment> {
    /// The experiment.
    pub exp: &'a E,
    /// The base config (no grid point applied).
    pub cfg: E::Config,
    /// The resolved table (with `[axes]` and `[inputs]`): the run's `config.toml`.
    pub table: toml::Table,
    /// Its text.
    pub config_text: String,
    /// The input files the configs name.
    pub inputs: Arc<Inputs>,
    /// Every job, in order, and its own config.
    pub jobs: Vec<Job>,
    pub job_cfgs: Vec<E::Config>,
    /// Work units per job and in all.
    pub units: Vec<u64>,
    pub total_units: u64,
    /// The run directory.
    pub run_dir: PathBuf,
    /// The run id given (`--run-id`), if any.
    pub run_id_flag: Option<String>,
    /// `run-<hash of config and code version>`.
    pub default_id: String,
    /// The code version (git commit).
    pub code_version: String,
}

/// Resolves `req` for experiment `E`; every grid point and every job is checked before this
/// returns (usage and config errors are [`ConfigError`]s).
pub fn plan<'a, E: Experiment>(exp: &'a E, req: &Request) -> anyhow::Result<Plan<'a, E>> {
    let overrides: Vec<config::CmdOverride<'_>> = req
        .overrides
        .iter()
        .map(|o| match o {
            Override::Set(s) => config::CmdOverride::Set(s),
            Override::Axis(s) => config::CmdOverride::Axis(s),
        })
        .collect();
    let (cfg, table, inputs) = crate::inputs::resolve(
        exp,
        req.config.as_deref(),
        &overrides,
        req.quick,
        &req.extra,
        req.out.as_deref(),
    )?;
    let config_text = config::config_text(&table)?;
    let code_version = git_commit();
    if let Some(id) = &req.run_id {
        check_run_id(id)?;
    }
    let default_id = default_run_id(&config_text, &code_version);
    let run_dir = req.out.clone().unwrap_or_else(|| {
        Path::new("results")
            .join(exp.name())
            .join(req.run_id.as_deref().unwrap_or(&default_id))
    });

    // Every grid point's config is built and validated here, before anything runs.
    let (jobs, job_cfgs): (Vec<Job>, Vec<E::Config>) =
        crate::expand_jobs(exp, &cfg, &table, &inputs)?
            .into_iter()
            .unzip();
    let mut seen = BTreeSet::new();
    for job in &jobs {
        if !seen.insert(job.index) {
            bail!(
                "experiment '{}' returned two jobs with index {} (indices must be unique)",
                exp.name(),
                job.index
            );
        }
    }
    for (job, cfg) in jobs.iter().zip(&job_cfgs) {
        exp.check_job(cfg, job, &inputs)
            .map_err(|source| match job.params.is_empty() {
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
        .map(|(j, c)| exp.work_units(c, j))
        .collect();
    let total_units = units.iter().fold(0_u64, |a, &u| a.saturating_add(u));
    Ok(Plan {
        exp,
        cfg,
        table,
        config_text,
        inputs,
        jobs,
        job_cfgs,
        units,
        total_units,
        run_dir,
        run_id_flag: req.run_id.clone(),
        default_id,
        code_version,
    })
}

impl<E: Experiment> Plan<'_, E> {
    /// The id a run into this plan's directory records without `--run-id`: the directory's
    /// name when `--out` was given, else the default id.
    pub fn run_id(&self, out_given: bool) -> String {
        match (&self.run_id_flag, out_given) {
            (Some(id), _) => id.clone(),
            (None, true) => self.run_dir.file_name().map_or_else(
                || self.default_id.clone(),
                |n| n.to_string_lossy().into_owned(),
            ),
            (None, false) => self.default_id.clone(),
        }
    }

    /// The `--list` text: the resolved config (valid TOML, usable as `--config`), then the axes
    /// and the jobs as comment lines.
    pub fn listing(&self) -> String {
        listing(
            &format!("exp-{}", self.exp.name()),
            &crate::annotate::annotate(&self.config_text, self.exp.default_config()),
            &crate::axes_of(&self.table),
            &self.jobs,
            self.total_units,
            &self.run_dir,
        )
    }
}

/// `run-<16 hex digits>`: FNV-1a of the resolved config text and the code version (the git
/// commit), so that a rebuilt binary of other code never resumes into an older run.
pub fn default_run_id(config_text: &str, code_version: &str) -> String {
    let mut bytes = config_text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n# code version: ");
    bytes.extend_from_slice(code_version.as_bytes());
    format!("run-{:016x}", fnv1a_64(&bytes))
}

/// A run id names a directory: letters, digits, `_`, `-`, `.`; not starting with `.`.
pub fn check_run_id(id: &str) -> Result<(), ConfigError> {
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

/// Resolves the config of experiment `E`: embedded default ← `config_file` ← quick overrides (if
/// `quick`) ← `extra` (dotted key, TOML value text; the harness passes `--pattern` as
/// `pattern.file` and `--seeds` as `run.seeds`) ← `sets` (`key=value`, in order). Then
/// deserializes into `E::Config`, reads the input files every grid point's config names
/// ([`Experiment::input_files`]; for a config file with an `[inputs]` table, from the run's
/// copies next to it, see the crate docs), adds their `[inputs]` table and runs
/// `E::validate` with them. [`resolve_config_inputs`] also returns the inputs.
///
/// When the default config has an `[axes]` table (see the crate docs), `[axes]` entries of the
/// file and `--set axes.KEY=[V1, V2]` are checked as axes, the merged table keeps `[axes]`, and
/// `[axes]` is removed before deserializing (the returned config is the *base* config, without
/// any grid point applied; see [`expand_jobs`](crate::expand_jobs) for the per-job configs).
///
/// Returns the config and the merged table (whose TOML text is the run's `config.toml`, with
/// `[axes]` and `[inputs]`).
pub fn resolve_config<E: Experiment>(
    exp: &E,
    config_file: Option<&Path>,
    sets: &[String],
    quick: bool,
    extra: &[(String, String)],
) -> Result<(E::Config, Table), ConfigError> {
    let overrides: Vec<CmdOverride<'_>> = sets.iter().map(|s| CmdOverride::Set(s)).collect();
    resolve_with(exp, config_file, &overrides, quick, extra)
}

/// [`resolve_config`] that also returns the inputs read (for [`expand_jobs`](crate::expand_jobs),
/// [`job_config`](crate::job_config) and `run_job`).
pub fn resolve_config_inputs<E: Experiment>(
    exp: &E,
    config_file: Option<&Path>,
    sets: &[String],
    quick: bool,
    extra: &[(String, String)],
) -> Result<(E::Config, Table, std::sync::Arc<crate::Inputs>), ConfigError> {
    let overrides: Vec<CmdOverride<'_>> = sets.iter().map(|s| CmdOverride::Set(s)).collect();
    crate::inputs::resolve(exp, config_file, &overrides, quick, extra, None)
}

/// [`resolve_config`] with `--set` and `--axis` overrides interleaved in command-line order.
pub(crate) fn resolve_with<E: Experiment>(
    exp: &E,
    config_file: Option<&Path>,
    overrides: &[CmdOverride<'_>],
    quick: bool,
    extra: &[(String, String)],
) -> Result<(E::Config, Table), ConfigError> {
    crate::inputs::resolve(exp, config_file, overrides, quick, extra, None).map(|(c, t, _)| (c, t))
}

/// The jobs of a resolved run, each with its own config: the base jobs `exp.jobs(cfg)` repeated
/// for every grid point of `table`'s `[axes]` (see [`grid_points`]).
///
/// For point `p` (0-based) and base job `j` the job is `Job { index: p * stride + j.index,
/// replicate: j.replicate, seed: j.seed, params: <point params> ++ j.params }`, where `stride`
/// is the largest base index + 1 (= the number of base jobs when, as with
/// [`replicate_jobs`](crate::replicate_jobs), the base indices are `0..n`). Every point thus
/// runs the same seeds. Each point's config is `table` with the point applied
/// ([`apply_params`]), deserialized and validated with `E::validate` — for all points before
/// this returns; the first bad point is a [`ConfigError::Point`] naming it.
///
/// Without axes the jobs are exactly `exp.jobs(cfg, inputs)`, each with a clone of `cfg`.
/// `cfg` must be the base config resolved from `table` and `inputs` its input files (as
/// returned by [`resolve_config_inputs`](crate::resolve_config_inputs); `Inputs::new()` for an
/// experiment without input files).
pub fn expand_jobs<E: Experiment>(
    exp: &E,
    cfg: &E::Config,
    table: &Table,
    inputs: &Inputs,
) -> Result<Vec<(Job, E::Config)>, ConfigError> {
    let base = exp.jobs(cfg, inputs);
    let stride = base.iter().map(|j| j.index + 1).max().unwrap_or(0);
    check_job_count(&axes_of(table), base.len(), stride)?;
    if axes_of(table).is_empty() {
        return Ok(base.into_iter().map(|j| (j, cfg.clone())).collect());
    }
    let points = grid_points(table);
    let mut jobs = Vec::with_capacity(points.len() * base.len());
    for (p, point) in points.iter().enumerate() {
        let point_cfg = apply_params::<E::Config>(table, point)
            .and_then(|c| exp.validate(&c, inputs).map(|()| c))
            .map_err(|source| ConfigError::Point {
                point: params_text(point),
                source: Box::new(source),
            })?;
        for j in &base {
            let mut params = point.clone();
            params.extend(j.params.iter().cloned());
            let job = Job {
                index: p * stride + j.index,
                replicate: j.replicate,
                seed: j.seed,
                params,
            };
            jobs.push((job, point_cfg.clone()));
        }
    }
    Ok(jobs)
}

/// The config of one job of a run: `table` (the run's resolved table, e.g. its `config.toml`)
/// with those params of `job` whose keys are axes of `table` applied, deserialized and
/// validated with the run's `inputs` ([`RunDir::inputs`](crate::RunDir::inputs)). Without axes,
/// the base config. Useful in `Experiment::finish`, which receives the base config only.
pub fn job_config<E: Experiment>(
    exp: &E,
    table: &Table,
    job: &Job,
    inputs: &Inputs,
) -> Result<E::Config, ConfigError> {
    let keys: Vec<String> = axes_of(table).into_iter().map(|(k, _)| k).collect();
    let params: Vec<(String, String)> = job
        .params
        .iter()
        .filter(|(k, _)| keys.contains(k))
        .cloned()
        .collect();
    let cfg = apply_params::<E::Config>(table, &params)?;
    exp.validate(&cfg, inputs)?;
    Ok(cfg)
}
