//! Parameter grids (`[axes]`) end to end, with a tiny dummy experiment whose jobs record the
//! config values they saw: axis parsing and checks, grid order, seeds, per-job configs, early
//! validation of every grid point, thread-count independence.

use elise_sweep::testing::{Loose, args};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use elise_sweep::arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use elise_sweep::arrow_array::{UInt64Array, cast::AsArray as _};
use elise_sweep::{
    ConfigError, Experiment, Inputs, Job, JobOutput, Progress, RunDir, apply_params, axes_of,
    check_positive, check_range, column, expand_jobs, grid_points, job_config,
    read_parquet_metadata, replicate_jobs, resolve_config, run_cli,
};
use serde::{Deserialize, Serialize};

const DEFAULT: &str = r#"
[run]
seeds = 2
base_seed = 7

[axes]

[model]
size = 3
gain = 0.5
kind = "plain"
weights = [1.0, 2.0]
"#;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cfg {
    run: RunCfg,
    model: ModelCfg,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCfg {
    seeds: usize,
    base_seed: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Plain,
    Boost,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelCfg {
    size: i64,
    gain: f64,
    kind: Kind,
    weights: Vec<f64>,
}

/// Jobs run with `model.gain == MARKED_GAIN` (only used by the early-validation test).
static MARKED_RUNS: AtomicUsize = AtomicUsize::new(0);
const MARKED_GAIN: f64 = 0.125;

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Grid;

impl Experiment for Grid {
    type Config = Cfg;
    fn name(&self) -> &'static str {
        "grid"
    }

    fn default_config(&self) -> &str {
        DEFAULT
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[("run.seeds", "1")]
    }

    fn validate(&self, cfg: &Cfg, _: &Inputs) -> Result<(), ConfigError> {
        check_range("model.size", cfg.model.size, 1, 1000)?;
        check_positive("model.gain", cfg.model.gain)?;
        check_range("run.seeds", cfg.run.seeds, 1, 100)
    }

    fn jobs(&self, cfg: &Cfg, _: &Inputs) -> Vec<Job> {
        replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }

    fn work_units(&self, cfg: &Cfg, _job: &Job) -> u64 {
        cfg.model.size as u64
    }

    /// One row per step: the seed, the config values the job saw and a value depending on all.
    fn run_job(
        &self,
        cfg: &Cfg,
        job: &Job,
        _: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        if cfg.model.gain == MARKED_GAIN {
            MARKED_RUNS.fetch_add(1, Ordering::SeqCst);
        }
        let n = cfg.model.size as usize;
        let w: f64 = cfg.model.weights.iter().sum();
        let boost = match cfg.model.kind {
            Kind::Plain => 1.0,
            Kind::Boost => 10.0,
        };
        let value: Vec<f64> = (0..n as u64)
            .map(|i| {
                progress.inc(1);
                let u = (mix(job.seed ^ mix(i)) >> 11) as f64 / (1u64 << 53) as f64;
                u * cfg.model.gain * w * boost
            })
            .collect();
        let kind = format!("{:?}", cfg.model.kind).to_lowercase();
        let rows = RecordBatch::try_from_iter([
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed; n])) as ArrayRef,
            ),
            (
                "size",
                Arc::new(Int64Array::from(vec![cfg.model.size; n])) as ArrayRef,
            ),
            (
                "gain",
                Arc::new(Float64Array::from(vec![cfg.model.gain; n])) as ArrayRef,
            ),
            (
                "kind",
                Arc::new(StringArray::from(vec![kind; n])) as ArrayRef,
            ),
            ("value", Arc::new(Float64Array::from(value)) as ArrayRef),
        ])?;
        Ok(JobOutput::new().with_table("rows", rows))
    }

    fn finish(&self, cfg: &Cfg, run: &RunDir) -> anyhow::Result<()> {
        // `finish` sees the base config, and can rebuild every job's own config.
        let table = run.config_table()?;
        let mut lines = vec![format!("base size {}", cfg.model.size)];
        for (job, _) in expand_jobs(&Grid, cfg, &table, &Inputs::new())? {
            let c = job_config(&Grid, &table, &job, &Inputs::new())?;
            lines.push(format!("{} size {}", job.index, c.model.size));
        }
        std::fs::write(run.path().join("finish.txt"), lines.join("\n"))?;
        Ok(())
    }
}

/// The same experiment without the `[axes]` opt-in.
struct NoAxes;

impl Experiment for NoAxes {
    type Config = Cfg;
    fn name(&self) -> &'static str {
        "noaxes"
    }
    fn default_config(&self) -> &str {
        "[run]\nseeds = 1\nbase_seed = 0\n[model]\nsize = 3\ngain = 0.5\nkind = \"plain\"\n\
         weights = [1.0]\n"
    }
    fn validate(&self, cfg: &Cfg, _: &Inputs) -> Result<(), ConfigError> {
        Grid.validate(cfg, &Inputs::new())
    }
    fn jobs(&self, cfg: &Cfg, _: &Inputs) -> Vec<Job> {
        Grid.jobs(cfg, &Inputs::new())
    }
    fn work_units(&self, cfg: &Cfg, job: &Job) -> u64 {
        Grid.work_units(cfg, job)
    }
    fn run_job(
        &self,
        cfg: &Cfg,
        job: &Job,
        _: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        Grid.run_job(cfg, job, &Inputs::new(), progress)
    }
}

/// A config type that declares `axes` anyway (with `#[serde(default)]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CfgWithAxes {
    run: RunCfg,
    model: ModelCfg,
    #[serde(default)]
    axes: toml::Table,
}

struct DeclaresAxes;

impl Experiment for DeclaresAxes {
    type Config = CfgWithAxes;
    fn name(&self) -> &'static str {
        "declaresaxes"
    }
    fn default_config(&self) -> &str {
        DEFAULT
    }
    fn validate(&self, _: &CfgWithAxes, _: &Inputs) -> Result<(), ConfigError> {
        Ok(())
    }
    fn jobs(&self, cfg: &CfgWithAxes, _: &Inputs) -> Vec<Job> {
        replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }
    fn work_units(&self, _: &CfgWithAxes, _: &Job) -> u64 {
        1
    }
    fn run_job(
        &self,
        _: &CfgWithAxes,
        _: &Job,
        _: &Inputs,
        _: &Progress,
    ) -> anyhow::Result<JobOutput> {
        Ok(JobOutput::new())
    }
}

/// `DEFAULT` with an untyped config: every well-typed grid point deserializes.
const LOOSE: Loose = Loose {
    name: "loose",
    default_config: DEFAULT,
};

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("sweep-axes-{tag}"))
}

fn write_config(tag: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("grid.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// The resolved table of `Grid` with these `--set`s.
fn table_of(sets: &[&str]) -> Result<toml::Table, ConfigError> {
    resolve_config(&Grid, None, &args(sets), false, &[]).map(|(_, t)| t)
}

/// (index, replicate, seed, params text) of every job of a resolved run of `Grid`.
fn job_rows(cfg: &Cfg, table: &toml::Table) -> Vec<(usize, usize, u64, String)> {
    expand_jobs(&Grid, cfg, table, &Inputs::new())
        .unwrap()
        .into_iter()
        .map(|(j, _)| (j.index, j.replicate, j.seed, j.params_text()))
        .collect()
}

/// The error of a `Grid` run with these arguments (plus `--list`).
fn cli_error(list: &[&str]) -> anyhow::Error {
    let mut a = args(list);
    a.push("--list".to_owned());
    match run_cli(&Grid, &a) {
        Ok(_) => panic!("{list:?} was accepted"),
        Err(e) => e,
    }
}

fn config_error(list: &[&str]) -> String {
    let e = cli_error(list);
    assert!(e.downcast_ref::<ConfigError>().is_some(), "{e:#}");
    e.to_string()
}

#[test]
fn without_axes_jobs_are_the_experiments_jobs() {
    let (cfg, table) = resolve_config(&Grid, None, &[], false, &[]).unwrap();
    assert!(axes_of(&table).is_empty());
    assert_eq!(grid_points(&table), vec![Vec::new()]);
    let jobs: Vec<Job> = expand_jobs(&Grid, &cfg, &table, &Inputs::new())
        .unwrap()
        .into_iter()
        .map(|(j, c)| {
            assert_eq!(c, cfg);
            j
        })
        .collect();
    assert_eq!(jobs, Grid.jobs(&cfg, &Inputs::new()));
    // The resolved table keeps the (empty) [axes] table; the config does not need it.
    assert!(table["axes"].as_table().unwrap().is_empty());
}

#[test]
fn grid_order_indices_and_seeds() {
    let (dir, file) = write_config("order", "[axes]\n\"model.kind\" = [\"plain\", \"boost\"]\n");
    let (cfg, table) = resolve_config(
        &Grid,
        Some(&file),
        &args(&["axes.model.size=[5, 1, 3]"]),
        false,
        &[],
    )
    .unwrap();
    // Sorted key order: model.kind (slowest), then model.size; values in the order given.
    let rows = job_rows(&cfg, &table);
    let mut want = Vec::new();
    let mut index = 0;
    for kind in ["\"plain\"", "\"boost\""] {
        for size in [5, 1, 3] {
            for r in 0..2 {
                want.push((
                    index,
                    r,
                    7 + r as u64,
                    format!("model.kind={kind} model.size={size}"),
                ));
                index += 1;
            }
        }
    }
    assert_eq!(rows, want);

    // Every point sees the same seeds, paired by replicate.
    let jobs = expand_jobs(&Grid, &cfg, &table, &Inputs::new()).unwrap();
    for (job, job_cfg) in &jobs {
        assert_eq!(job.seed, 7 + job.replicate as u64);
        let p = job.index / 2;
        assert_eq!(job.index, p * 2 + job.replicate);
        // The job's config is the base config with its point applied.
        assert_eq!(
            job_cfg.model.size.to_string(),
            job.param("model.size").unwrap()
        );
        let kind = if p < 3 { Kind::Plain } else { Kind::Boost };
        assert_eq!(job_cfg.model.kind, kind);
        assert_eq!(job_cfg.model.gain, cfg.model.gain);
        assert_eq!(job_cfg.run, cfg.run);
        // job_config and apply_params rebuild the same config.
        assert_eq!(
            &job_config(&Grid, &table, job, &Inputs::new()).unwrap(),
            job_cfg
        );
        let rebuilt: Cfg = apply_params(&table, &job.params).unwrap();
        assert_eq!(&rebuilt, job_cfg);
    }
    // The base config keeps the defaults of the axis keys.
    assert_eq!((cfg.model.size, cfg.model.kind), (3, Kind::Plain));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn base_job_params_follow_the_point_params() {
    struct WithParams;
    impl Experiment for WithParams {
        type Config = Cfg;
        fn name(&self) -> &'static str {
            "withparams"
        }
        fn default_config(&self) -> &str {
            DEFAULT
        }
        fn validate(&self, cfg: &Cfg, _: &Inputs) -> Result<(), ConfigError> {
            Grid.validate(cfg, &Inputs::new())
        }
        fn jobs(&self, cfg: &Cfg, _: &Inputs) -> Vec<Job> {
            let points = vec![
                vec![("lr".to_owned(), "0.1".to_owned())],
                vec![("lr".to_owned(), "0.2".to_owned())],
            ];
            elise_sweep::grid_jobs(&points, cfg.run.seeds, cfg.run.base_seed)
        }
        fn work_units(&self, _: &Cfg, _: &Job) -> u64 {
            1
        }
        fn run_job(&self, _: &Cfg, _: &Job, _: &Inputs, _: &Progress) -> anyhow::Result<JobOutput> {
            Ok(JobOutput::new())
        }
    }
    let (cfg, table) = resolve_config(
        &WithParams,
        None,
        &args(&["axes.model.gain=[1, 2]"]),
        false,
        &[],
    )
    .unwrap();
    let jobs = expand_jobs(&WithParams, &cfg, &table, &Inputs::new()).unwrap();
    let got: Vec<(usize, usize, u64, String)> = jobs
        .iter()
        .map(|(j, _)| (j.index, j.replicate, j.seed, j.params_text()))
        .collect();
    assert_eq!(got.len(), 8);
    assert_eq!(got[0], (0, 0, 7, "model.gain=1.0 lr=0.1".to_owned()));
    assert_eq!(got[3], (3, 1, 8, "model.gain=1.0 lr=0.2".to_owned()));
    assert_eq!(got[6], (6, 0, 7, "model.gain=2.0 lr=0.2".to_owned()));
    // job_config ignores the experiment's own params.
    let c = job_config(&WithParams, &table, &jobs[6].0, &Inputs::new()).unwrap();
    assert_eq!(c.model.gain, 2.0);
    // apply_params insists on config keys.
    let err = apply_params::<Cfg>(&table, &jobs[6].0.params).unwrap_err();
    assert!(err.to_string().contains("unknown key 'lr'"), "{err}");
}

#[test]
fn axis_flag_parses_lists_with_unquoted_strings() {
    let s = run_cli(
        &Grid,
        &args(&[
            "--axis",
            "model.kind=boost,plain",
            "--axis",
            "model.gain=[1, 0.25]",
            "--list",
        ]),
    )
    .unwrap();
    assert_eq!(s.n_jobs(), 8);
    let listing = s.listing().unwrap().to_owned();
    assert!(
        listing.contains("# axis model.gain = [1.0, 0.25]\n"),
        "{listing}"
    );
    assert!(
        listing.contains("# axis model.kind = [\"boost\", \"plain\"]\n"),
        "{listing}"
    );
    assert!(listing.contains("# 2 axes, 4 grid points"), "{listing}");
    assert!(
        listing.contains("# 5 1 8 model.gain=0.25 model.kind=\"boost\"\n"),
        "{listing}"
    );
    // The listing is a valid config (with [axes]) that resolves to the same table.
    let table: toml::Table = toml::from_str(&listing).unwrap();
    assert_eq!(
        table["axes"]["model.kind"],
        toml::Value::Array(vec!["boost".into(), "plain".into()])
    );

    let t = |a: &[&str]| -> toml::Table {
        let mut v = args(a);
        v.push("--list".to_owned());
        let listing = run_cli(&LOOSE, &v).unwrap().listing().unwrap().to_owned();
        toml::from_str(&listing).unwrap()
    };
    // Quoted strings may contain commas; spaces around values are trimmed.
    let got = t(&["--axis", "model.kind=\"a,b\", plain"]);
    assert_eq!(
        got["axes"]["model.kind"],
        toml::Value::Array(vec!["a,b".into(), "plain".into()])
    );
    // One value is a one-point axis; an array-valued key takes bracketed elements.
    let got = t(&[
        "--axis",
        "model.size=9",
        "--axis",
        "model.weights=[1, 2],[3]",
    ]);
    assert_eq!(
        got["axes"]["model.size"],
        toml::Value::Array(vec![9.into()])
    );
    assert_eq!(
        got["axes"]["model.weights"].to_string(),
        "[[1.0, 2.0], [3.0]]"
    );
    // --set axes.KEY takes unquoted strings too, and quoted dotted keys.
    let got = t(&["--set", "axes.model.kind=[boost, plain]"]);
    assert_eq!(
        got["axes"]["model.kind"],
        toml::Value::Array(vec!["boost".into(), "plain".into()])
    );
    let got = t(&["--set", "axes.\"model.size\"=[1,2]"]);
    assert_eq!(
        got["axes"]["model.size"],
        toml::Value::Array(vec![1.into(), 2.into()])
    );
    let got = t(&["--set", "axes={ \"model.size\" = [4] }"]);
    assert_eq!(
        got["axes"]["model.size"],
        toml::Value::Array(vec![4.into()])
    );
}

#[test]
fn later_axis_layers_win() {
    let (dir, file) = write_config(
        "layers",
        "[axes]\n\"model.size\" = [1, 2]\n\"model.gain\" = [1.5]\n[axes.model]\nkind = [\"boost\"]\n",
    );
    let f = file.to_str().unwrap();
    let table = |extra: &[&str]| -> toml::Table {
        let mut a = args(&["--config", f, "--list"]);
        a.extend(args(extra));
        toml::from_str(run_cli(&Grid, &a).unwrap().listing().unwrap()).unwrap()
    };
    let sizes = |t: &toml::Table| t["axes"]["model.size"].to_string();
    let t = table(&[]);
    assert_eq!(sizes(&t), "[1, 2]");
    // Nested [axes.model] tables are flattened to dotted keys.
    assert_eq!(t["axes"]["model.kind"].to_string(), "[\"boost\"]");
    assert_eq!(sizes(&table(&["--axis", "model.size=7"])), "[7]");
    assert_eq!(sizes(&table(&["--set", "axes.model.size=[8]"])), "[8]");
    // --set and --axis apply in command-line order.
    assert_eq!(
        sizes(&table(&[
            "--axis",
            "model.size=7",
            "--set",
            "axes.model.size=[8]"
        ])),
        "[8]"
    );
    assert_eq!(
        sizes(&table(&[
            "--set",
            "axes.model.size=[8]",
            "--axis",
            "model.size=7"
        ])),
        "[7]"
    );
    // Other axes of the file stay.
    assert_eq!(
        table(&["--axis", "model.size=7"])["axes"]["model.gain"].to_string(),
        "[1.5]"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_axes_are_errors_naming_origin_and_key() {
    // Unknown key (flag, --set, file).
    let msg = config_error(&["--axis", "model.sise=1,2"]);
    assert!(msg.starts_with("--axis model.sise=1,2: "), "{msg}");
    assert!(msg.contains("unknown key 'model.sise'"), "{msg}");
    assert!(
        msg.contains("keys in [model]: gain, kind, size, weights"),
        "{msg}"
    );
    let msg = config_error(&["--set", "axes.modle.size=[1]"]);
    assert!(msg.contains("unknown key 'modle.size'"), "{msg}");
    assert!(msg.contains("top-level keys: model, run"), "{msg}");
    let (dir, file) = write_config("bad", "[axes]\n\"model.sise\" = [1, 2]\n");
    let err = resolve_config(&Grid, Some(&file), &[], false, &[]).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("grid.toml [axes]: unknown key 'model.sise'"),
        "{msg}"
    );

    // An axis on a table.
    std::fs::write(&file, "[axes]\nmodel = [1, 2]\n").unwrap();
    let err = resolve_config(&Grid, Some(&file), &[], false, &[]).unwrap_err();
    assert!(matches!(err, ConfigError::Axis { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("grid.toml [axes]: axis 'model': [model] is a table, not a value"),
        "{msg}"
    );
    let msg = config_error(&["--axis", "model=1,2"]);
    assert!(msg.contains("axis 'model': [model] is a table"), "{msg}");
    // Below a value.
    let msg = config_error(&["--axis", "model.size.x=1"]);
    assert!(msg.contains("'model.size' is not a table"), "{msg}");

    // Empty arrays.
    std::fs::write(&file, "[axes]\n\"model.size\" = []\n").unwrap();
    let msg = resolve_config(&Grid, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(
            "grid.toml [axes]: axis 'model.size': expected a non-empty array of integers \
             (default 3)"
        ),
        "{msg}"
    );
    assert!(msg.contains("got an empty array"), "{msg}");
    let msg = config_error(&["--set", "axes.model.size=[]"]);
    assert!(
        msg.contains("axis 'model.size': expected a non-empty array"),
        "{msg}"
    );
    let msg = config_error(&["--axis", "model.size="]);
    assert!(
        msg.contains("axis 'model.size': expected a non-empty array"),
        "{msg}"
    );
    // Not an array.
    let msg = config_error(&["--set", "axes.model.size=4"]);
    assert!(msg.contains("got an integer (4)"), "{msg}");
    std::fs::write(&file, "[axes]\n\"model.kind\" = \"boost\"\n").unwrap();
    let msg = resolve_config(&Grid, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("axis 'model.kind': expected a non-empty array of strings"),
        "{msg}"
    );
    let msg = config_error(&["--axis", "model.size=1,,2"]);
    assert!(msg.contains("value 1 of the list is empty"), "{msg}");

    // Wrong element types, checked like --set values.
    let msg = config_error(&["--axis", "model.size=1,x"]);
    assert!(
        msg.contains("model.size[1]: expected an integer (default 3), got 'x'"),
        "{msg}"
    );
    let msg = config_error(&["--axis", "model.size=1,2.5"]);
    assert!(
        msg.contains("model.size[1]: expected an integer (default 3), got a float (2.5)"),
        "{msg}"
    );
    let msg = config_error(&["--set", "axes.model.gain=[0.5, true]"]);
    assert!(msg.contains("model.gain[1]: expected a float"), "{msg}");
    std::fs::write(&file, "[axes]\n\"model.kind\" = [\"boost\", 3]\n").unwrap();
    let msg = resolve_config(&Grid, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("grid.toml [axes]: model.kind[1]: expected a string (default \"plain\")"),
        "{msg}"
    );

    // The seeds are not axes.
    for key in ["run.seeds", "run.base_seed"] {
        let msg = config_error(&["--axis", &format!("{key}=1,2")]);
        assert!(
            msg.contains(&format!("axis '{key}': cannot be an axis")),
            "{msg}"
        );
    }
    std::fs::write(&file, "[axes]\n\"run.seeds\" = [1, 2]\n").unwrap();
    let msg = resolve_config(&Grid, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("grid.toml [axes]: axis 'run.seeds': cannot be an axis"),
        "{msg}"
    );
    // Not an axis: [axes] itself, and a missing '='.
    let msg = config_error(&["--axis", "axes.x=1"]);
    assert!(msg.contains("unknown key 'axes.x'"), "{msg}");
    let msg = config_error(&["--axis", "model.size"]);
    assert!(
        msg.contains("--axis model.size: expected KEY=V1,V2"),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn experiments_without_axes_table_reject_axes() {
    let err = run_cli(
        &NoAxes,
        &args(&["--set", "axes.model.size=[1,2]", "--list"]),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{msg}");
    assert!(msg.contains("unknown key 'axes.model.size'"), "{msg}");
    let err = run_cli(&NoAxes, &args(&["--axis", "model.size=1,2", "--list"])).unwrap_err();
    let msg = err.to_string();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{msg}");
    assert!(msg.contains("has no [axes] table"), "{msg}");
    let (dir, file) = write_config("noaxes", "[axes]\n\"model.size\" = [1, 2]\n");
    let msg = resolve_config(&NoAxes, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("unknown key 'axes'"), "{msg}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_config_type_declaring_axes_still_works() {
    let (cfg, table) = resolve_config(
        &DeclaresAxes,
        None,
        &args(&["axes.model.size=[1, 2]"]),
        false,
        &[],
    )
    .unwrap();
    assert!(
        cfg.axes.is_empty(),
        "[axes] is stripped before deserializing"
    );
    let jobs = expand_jobs(&DeclaresAxes, &cfg, &table, &Inputs::new()).unwrap();
    assert_eq!(jobs.len(), 4);
    assert_eq!(jobs[3].1.model.size, 2);
}

#[test]
fn an_invalid_grid_point_fails_before_any_job_runs() {
    let out = temp_dir("badpoint");
    let err = run_cli(
        &Grid,
        &args(&[
            "--out",
            out.to_str().unwrap(),
            "--threads",
            "2",
            "--axis",
            "model.gain=0.125",
            "--axis",
            "model.size=5,100000",
        ]),
    )
    .unwrap_err();
    let cfg_err = err
        .downcast_ref::<ConfigError>()
        .expect("a config error (exit code 2)");
    assert!(matches!(cfg_err, ConfigError::Point { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "axes point model.gain=0.125 model.size=100000: model.size = 100000 is out of range: \
         expected a value in [1, 1000]"
    );
    assert!(!out.exists(), "nothing was written");
    assert_eq!(
        MARKED_RUNS.load(Ordering::SeqCst),
        0,
        "the valid point's jobs did not run either"
    );
    // A point that does not deserialize is named as well.
    let msg = config_error(&["--axis", "model.kind=plain,median"]);
    assert!(
        msg.starts_with("axes point model.kind=\"median\": "),
        "{msg}"
    );
    assert!(msg.contains("model.kind"), "{msg}");
    assert!(msg.contains("median"), "{msg}");
}

fn run(out: &Path, extra: &[&str]) -> elise_sweep::RunSummary {
    let mut a = args(&["--out", out.to_str().unwrap()]);
    a.extend(args(extra));
    run_cli(&Grid, &a)
        .and_then(elise_sweep::Outcome::into_run)
        .unwrap()
}

fn all_rows(out: &Path) -> Vec<RecordBatch> {
    RunDir::new(out).read_table("rows").unwrap()
}

#[test]
fn each_job_runs_with_its_own_config() {
    let out = temp_dir("perjob");
    let s = run(
        &out,
        &[
            "--threads",
            "3",
            "--axis",
            "model.size=2,4",
            "--axis",
            "model.kind=plain,boost",
        ],
    );
    assert!(s.success(), "{:?}", s.failed);
    assert_eq!(s.n_jobs, 8);

    // config.toml keeps [axes] and re-resolves to the same table.
    let text = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(text.contains("[axes]"), "{text}");
    let (_, again) =
        resolve_config(&Grid, Some(&out.join("config.toml")), &[], false, &[]).unwrap();
    assert_eq!(again, RunDir::new(&out).config_table().unwrap());

    let batches = all_rows(&out);
    assert_eq!(batches.len(), 8);
    let (cfg, table) = resolve_config(
        &Grid,
        None,
        &args(&["axes.model.size=[2, 4]", "axes.model.kind=[plain, boost]"]),
        false,
        &[],
    )
    .unwrap();
    let jobs = expand_jobs(&Grid, &cfg, &table, &Inputs::new()).unwrap();
    for ((job, job_cfg), batch) in jobs.iter().zip(&batches) {
        // Rows record the config the job saw, which is its grid point.
        let sizes = column::<Int64Array>(batch, "size").unwrap();
        let kinds = batch.column_by_name("kind").unwrap().as_string::<i32>();
        let seeds = column::<UInt64Array>(batch, "seed").unwrap();
        let size: i64 = job.param("model.size").unwrap().parse().unwrap();
        assert_eq!(batch.num_rows(), size as usize, "job {}", job.index);
        assert!(sizes.values().iter().all(|&v| v == size));
        let kind = job.param("model.kind").unwrap().trim_matches('"');
        assert!(kinds.iter().all(|k| k == Some(kind)), "job {}", job.index);
        assert!(
            seeds
                .values()
                .iter()
                .all(|&s| s == 7 + job.replicate as u64)
        );
        assert_eq!(job_cfg.model.size, size);
        // ... and equals what run_job returns for (job config, job).
        let direct = Grid
            .run_job(job_cfg, job, &Inputs::new(), &Progress::noop())
            .unwrap();
        assert_eq!(batch.columns(), direct.tables[0].1.columns());

        // The part's metadata carries the params.
        let part = out.join(format!("rows/job-{:06}.parquet", job.index));
        let kv = read_parquet_metadata(&part).unwrap();
        let params = kv
            .iter()
            .find(|(k, _)| k == "elise.params")
            .map(|(_, v)| v.clone());
        assert_eq!(params, Some(job.params_text()));
    }
    assert_eq!(jobs[3].0.params_text(), "model.kind=\"plain\" model.size=4");
    // Same seed, other point: different values (the configs really differ).
    let v = |i: usize| {
        column::<Float64Array>(&batches[i], "value")
            .unwrap()
            .value(0)
    };
    assert_eq!(jobs[0].0.seed, jobs[4].0.seed);
    assert_eq!(jobs[4].0.params_text(), "model.kind=\"boost\" model.size=2");
    assert_ne!(v(0), v(4)); // plain vs boost

    // finish saw the base config and rebuilt every job's config.
    let finish = std::fs::read_to_string(out.join("finish.txt")).unwrap();
    let mut want = vec!["base size 3".to_owned()];
    for (job, c) in &jobs {
        want.push(format!("{} size {}", job.index, c.model.size));
    }
    assert_eq!(finish, want.join("\n"));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn results_with_axes_do_not_depend_on_thread_count() {
    let a = temp_dir("ax-t1");
    let b = temp_dir("ax-t4");
    let grid = [
        "--seeds",
        "3",
        "--axis",
        "model.gain=0.5,2",
        "--axis",
        "model.size=3,6",
    ];
    let mut args_a = vec!["--threads", "1"];
    args_a.extend(grid);
    let mut args_b = vec!["--threads", "4"];
    args_b.extend(grid);
    assert!(run(&a, &args_a).success());
    assert!(run(&b, &args_b).success());
    let ta = all_rows(&a);
    assert_eq!(ta.len(), 12);
    assert_eq!(ta, all_rows(&b));
    assert_eq!(
        std::fs::read(a.join("config.toml")).unwrap(),
        std::fs::read(b.join("config.toml")).unwrap()
    );
    // Not vacuous: the gain axis changes the values of the same seed.
    let v = |i: usize| column::<Float64Array>(&ta[i], "value").unwrap().value(0);
    assert_ne!(v(0), v(6));
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn axes_change_the_run_id() {
    let a = run_cli(&Grid, &args(&["--list"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    let b = run_cli(&Grid, &args(&["--list", "--axis", "model.size=1,2"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    let c = run_cli(&Grid, &args(&["--list", "--set", "axes.model.size=[1, 2]"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    assert_ne!(a, b);
    assert_eq!(b, c);
    assert_eq!(
        table_of(&["axes.model.size=[1, 2]"]).unwrap()["axes"]["model.size"].to_string(),
        "[1, 2]"
    );
}
