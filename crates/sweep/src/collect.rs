//! `exp-<name> collect --out DIR [--run-id ID]`: check a run directory, merge its parts and draw
//! the figures.
//!
//! Every job of the run's `config.toml` must have an intact completion record
//! ([`crate::resume::check_job`]). Missing jobs are listed with the error of a failed job (from
//! the manifests of the shards) and the exact commands that re-run them; then nothing is merged
//! (unless `--allow-missing`) and the exit code is 1. Otherwise the parts of each table are
//! merged, in job order, into `<run dir>/<table>.parquet` (written atomically, part by part, so
//! memory stays flat), with the run's metadata (`elise.experiment`, `elise.run_id`,
//! `elise.git_commit`, `elise.config`, `elise.jobs`, `elise.missing_jobs`), the experiment's
//! `finish` draws its figures, and `collect.toml` records the outcome.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context as _, anyhow};

use crate::config::{self, ConfigError};
use crate::parquet_io::{merge_parquet_atomic, read_parquet_metadata, write_file_atomic};
use crate::slurm::{PLAN_FILE, SlurmPlan, quote};
use crate::store::{Manifest, RunStatus};
use crate::util::rfc3339_utc;
use crate::{Experiment, FailedJob, Job, Outcome, RunDir, resume};

/// Options of `collect` (the command line's in `cli`).
#[derive(Clone, Debug, Default)]
pub(crate) struct CollectOptions {
    /// The run directory [default: results/<experiment>/<run id>].
    pub(crate) out: Option<PathBuf>,
    /// The run's id [default: the id recorded in the parts].
    pub(crate) run_id: Option<String>,
    /// Merge the jobs that are there even if some are missing.
    pub(crate) allow_missing: bool,
}

/// `collect.toml`.
#[derive(serde::Serialize)]
struct CollectRecord {
    experiment: String,
    run_id: String,
    /// The hash of the run's `config.toml` the merged jobs ran with (their records' binding).
    config_fnv1a64: String,
    /// "complete", "incomplete" (nothing merged) or "partial" (merged with --allow-missing).
    status: String,
    collected_utc: String,
    n_jobs: usize,
    n_complete: usize,
    missing: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_error: Option<String>,
    tables: Vec<MergedTable>,
}

#[derive(serde::Serialize)]
struct MergedTable {
    table: String,
    file: String,
    parts: usize,
    rows: u64,
}

/// Errors of failed jobs recorded in the manifests (`manifest*.toml`): index → (manifest, error).
fn failures_in_manifests(run_dir: &Path) -> BTreeMap<usize, (String, String)> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(run_dir) else {
        return out;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("manifest") && n.ends_with(".toml"))
        .collect();
    names.sort();
    for name in names {
        let Some(m) = Manifest::read(&run_dir.join(&name)) else {
            continue;
        };
        for f in &m.failed {
            out.insert(f.index, (name.clone(), f.error.clone()));
        }
        if m.status == RunStatus::Interrupted {
            let abandoned = m
                .abandoned
                .iter()
                .map(|&i| (i, "abandoned while running when the sweep was interrupted"));
            let not_run = m
                .not_run
                .iter()
                .map(|&i| (i, "not started: the sweep was interrupted"));
            for (i, why) in abandoned.chain(not_run) {
                out.entry(i)
                    .or_insert_with(|| (name.clone(), why.to_owned()));
            }
        }
    }
    out
}

/// `exp-<name> collect`.
pub(crate) fn collect<E: Experiment>(exp: &E, args: &CollectOptions) -> anyhow::Result<Outcome> {
    if let Some(id) = &args.run_id {
        crate::plan::check_run_id(id)?;
    }
    let run_dir = match (&args.out, &args.run_id) {
        (Some(out), _) => out.clone(),
        (None, Some(id)) => Path::new("results").join(exp.name()).join(id),
        (None, None) => {
            return Err(ConfigError::Usage(
                "collect: give the run directory with --out DIR (or its id with --run-id ID)"
                    .to_owned(),
            )
            .into());
        }
    };
    let stored = run_dir.join("config.toml");
    if !stored.is_file() {
        return Err(ConfigError::Usage(format!(
            "collect: {} has no config.toml (not a run directory of exp-{})",
            run_dir.display(),
            exp.name()
        ))
        .into());
    }
    // Alone in the directory: no shard or sweep is running (whose jobs would look missing and
    // whose re-submission this would suggest), and nothing changes while tables are merged.
    let _lock = crate::lock::run_exclusive(&run_dir, "collect")?;
    let stored_text = crate::store::read_small_text(&stored)?;
    let (cfg, table, inputs) = crate::resolve_config_inputs(exp, Some(&stored), &[], false, &[])?;
    let config_text = config::config_text(&table)?;
    // Records are bound to the stored file's text (what the jobs ran with).
    let config_hash = resume::config_hash(&stored_text);
    let jobs: Vec<Job> = crate::expand_jobs(exp, &cfg, &table, &inputs)?
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    // What an earlier collect merged goes first: an incomplete or interrupted collect leaves no
    // merged table that could be taken for the run's.
    crate::store::clear_collected(&run_dir)?;

    let mut complete: Vec<&Job> = Vec::new();
    let mut missing: Vec<(&Job, String)> = Vec::new();
    for job in &jobs {
        match resume::check_job(&run_dir, job, &config_hash) {
            resume::JobState::Done(_) => complete.push(job),
            resume::JobState::NotRun => missing.push((job, "not run".to_owned())),
            resume::JobState::Invalid(why) => missing.push((job, why)),
        }
    }
    let failures = failures_in_manifests(&run_dir);
    let run_id = match &args.run_id {
        Some(id) => id.clone(),
        None => complete
            .first()
            .and_then(|j| first_part_meta(&run_dir, j.index, "elise.run_id"))
            .unwrap_or_else(|| {
                run_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
    };

    let mut report = format!(
        "collect {}: {} of {} jobs complete\n",
        run_dir.display(),
        complete.len(),
        jobs.len()
    );
    let mut failed = Vec::new();
    if !missing.is_empty() {
        report.push_str(&format!("{} jobs missing:\n", missing.len()));
        for (job, why) in &missing {
            let params = if job.params.is_empty() {
                String::new()
            } else {
                format!(" {}", job.params_text())
            };
            let why = match failures.get(&job.index) {
                Some((manifest, error)) if why == "not run" => format!("{error} ({manifest})"),
                _ => why.clone(),
            };
            report.push_str(&format!(
                "  job {} (seed {}{params}): {why}\n",
                job.index, job.seed
            ));
            failed.push(FailedJob {
                index: job.index,
                replicate: job.replicate,
                seed: job.seed,
                params: job.params.clone(),
                error: why,
            });
        }
        report.push_str(&rerun_commands(exp, &run_dir, &run_id, &missing));
    }

    let missing_idx: Vec<usize> = missing.iter().map(|(j, _)| j.index).collect();
    let mut record = CollectRecord {
        experiment: exp.name().to_owned(),
        run_id: run_id.clone(),
        config_fnv1a64: config_hash.clone(),
        status: "incomplete".to_owned(),
        collected_utc: rfc3339_utc(SystemTime::now()),
        n_jobs: jobs.len(),
        n_complete: complete.len(),
        missing: missing_idx.clone(),
        finish_error: None,
        tables: Vec::new(),
    };
    let mut finish_error = None;
    if missing.is_empty() || args.allow_missing {
        record.tables = merge_tables(&run_dir, &complete, &run_id, &config_text, &missing_idx)?;
        for t in &record.tables {
            report.push_str(&format!(
                "merged {} ({} parts, {} rows) -> {}\n",
                t.table, t.parts, t.rows, t.file
            ));
        }
        let run = RunDir::planned(&run_dir, config_hash.clone(), jobs.clone())
            .with_inputs(inputs.clone());
        finish_error =
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exp.finish(&cfg, &run)))
            {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(_) => Some("finish panicked".to_owned()),
            };
        if let Some(e) = &finish_error {
            report.push_str(&format!("finish (figures) failed: {e}\n"));
        }
        record.status = if missing.is_empty() {
            "complete"
        } else {
            "partial"
        }
        .to_owned();
        record.finish_error = finish_error.clone();
    } else {
        report.push_str("nothing merged (--allow-missing merges the jobs that are there)\n");
    }
    let text =
        toml::to_string(&record).map_err(|e| anyhow!("cannot serialize collect.toml: {e}"))?;
    write_file_atomic(&run_dir.join(crate::store::COLLECT_FILE), text.as_bytes())?;

    Ok(Outcome::Collected {
        run_dir,
        n_jobs: jobs.len(),
        n_complete: complete.len(),
        n_missing: missing.len(),
        failed,
        finish_error,
        report,
    })
}

fn first_part_meta(run_dir: &Path, index: usize, key: &str) -> Option<String> {
    let record = resume::read_record(run_dir, index).ok()?;
    let part = record.parts.first()?;
    let kv = read_parquet_metadata(&run_dir.join(&part.table).join(&part.file)).ok()?;
    kv.into_iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// The commands that re-run the missing jobs: the Slurm shards to re-submit (when the run was
/// submitted by `slurm`) and a local run (resume skips the finished jobs).
fn rerun_commands<E: Experiment>(
    exp: &E,
    run_dir: &Path,
    run_id: &str,
    missing: &[(&Job, String)],
) -> String {
    let abs = run_dir
        .canonicalize()
        .unwrap_or_else(|_| run_dir.to_path_buf());
    let dir = abs.display().to_string();
    let mut s = String::new();
    if let Ok(text) = std::fs::read_to_string(abs.join(PLAN_FILE))
        && let Ok(plan) = toml::from_str::<SlurmPlan>(&text)
        && plan.tasks > 0
    {
        let shards: BTreeSet<usize> = missing.iter().map(|(j, _)| j.index % plan.tasks).collect();
        let list: Vec<String> = shards.iter().map(usize::to_string).collect();
        s.push_str(&format!(
            "re-run them on Slurm (array tasks = shards of {}):\n  sbatch --array={} {}\n",
            plan.tasks,
            list.join(","),
            quote(&plan.array_script)
        ));
    }
    let copied = abs.join("slurm").join(format!("exp-{}", exp.name()));
    let bin = if copied.is_file() {
        copied.display().to_string()
    } else {
        std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| format!("exp-{}", exp.name()))
    };
    s.push_str(&format!(
        "re-run them here (finished jobs are skipped):\n  {} --config {} --out {} --run-id {}\n",
        quote(&bin),
        quote(&format!("{dir}/config.toml")),
        quote(&dir),
        quote(run_id)
    ));
    s
}

/// A config value of the run (its parsed `config.toml`) as a column of `rows` rows, for the
/// parts of a table written before the column existed: experiments record each config value
/// `section.key` as a column `section_key`, and a run resumes across builds only when a key
/// added since then is at its default, so parts that lack such a column ran with the value
/// `config.toml` holds now.
/// `None` if `field` is no such column (or names two keys), or the value has another type.
fn config_column(
    config: &toml::Table,
    field: &arrow_schema::Field,
    rows: usize,
) -> Option<arrow_array::ArrayRef> {
    use arrow_array::{BooleanArray, Float64Array, Int64Array, StringArray, UInt64Array};
    use arrow_schema::DataType;
    use std::sync::Arc;
    let mut found = config
        .iter()
        .filter(|(section, _)| !matches!(section.as_str(), "axes" | "inputs"))
        .filter_map(|(section, values)| Some((section, values.as_table()?)))
        .flat_map(|(section, values)| {
            values
                .iter()
                .filter(move |(key, _)| format!("{section}_{key}") == *field.name())
        })
        .map(|(_, v)| v);
    let value = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(match (field.data_type(), value) {
        (DataType::Int64, toml::Value::Integer(i)) => Arc::new(Int64Array::from(vec![*i; rows])),
        (DataType::UInt64, toml::Value::Integer(i)) => {
            Arc::new(UInt64Array::from(vec![u64::try_from(*i).ok()?; rows]))
        }
        (DataType::Float64, toml::Value::Float(x)) => Arc::new(Float64Array::from(vec![*x; rows])),
        (DataType::Boolean, toml::Value::Boolean(b)) => {
            Arc::new(BooleanArray::from(vec![*b; rows]))
        }
        (DataType::Utf8, toml::Value::String(t)) => {
            Arc::new(StringArray::from(vec![t.as_str(); rows]))
        }
        _ => return None,
    })
}

/// Merges the parts of every table into `<run dir>/<table>.parquet`.
fn merge_tables(
    run_dir: &Path,
    complete: &[&Job],
    run_id: &str,
    config_text: &str,
    missing: &[usize],
) -> anyhow::Result<Vec<MergedTable>> {
    // Table → parts in job order; the tables in order of first appearance.
    let mut order: Vec<String> = Vec::new();
    let mut parts: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut jobs_text = String::new();
    let mut experiment = String::new();
    for job in complete {
        let record = resume::read_record(run_dir, job.index)?;
        for part in &record.parts {
            let path = run_dir.join(&part.table).join(&part.file);
            if !parts.contains_key(&part.table) {
                order.push(part.table.clone());
                let kv = read_parquet_metadata(&path)?;
                for (k, v) in kv {
                    if k == "elise.experiment" {
                        experiment = v;
                    }
                }
            }
            parts.entry(part.table.clone()).or_default().push(path);
        }
        jobs_text.push_str(format!("{} {} {}", job.index, job.seed, job.params_text()).trim_end());
        jobs_text.push('\n');
    }
    let missing_text: Vec<String> = missing.iter().map(usize::to_string).collect();
    let metadata = vec![
        ("elise.experiment".to_owned(), experiment),
        ("elise.run_id".to_owned(), run_id.to_owned()),
        ("elise.config".to_owned(), config_text.to_owned()),
        (
            "elise.config_fnv1a64".to_owned(),
            resume::config_hash(config_text),
        ),
        ("elise.jobs".to_owned(), jobs_text),
        ("elise.missing_jobs".to_owned(), missing_text.join(" ")),
    ];
    let config: Option<toml::Table> = toml::from_str(config_text).ok();
    let mut merged = Vec::new();
    for table in order {
        let list = &parts[&table];
        let file = run_dir.join(format!("{table}.parquet"));
        // elise.git_commit: the code versions that wrote the parts (one, unless the run was
        // resumed by other code).
        let rows = merge_parquet_atomic(&file, list, &metadata, "elise.git_commit", &|f, n| {
            config_column(config.as_ref()?, f, n)
        })
        .with_context(|| format!("cannot merge table '{table}'"))?;
        merged.push(MergedTable {
            file: file.display().to_string(),
            table,
            parts: list.len(),
            rows,
        });
    }
    Ok(merged)
}
