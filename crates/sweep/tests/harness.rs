//! End-to-end tests of the harness with a tiny dummy experiment (no simulation involved): config
//! resolution, job seeds, run directory contents, thread-count independence, failure handling.

use elise_sweep::testing::{Loose, args};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use elise_sweep::arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt64Array};
use elise_sweep::{
    ConfigError, Experiment, Inputs, Job, JobOutput, Progress, RunDir, check_positive, check_range,
    column, grid_jobs, read_parquet, read_parquet_metadata, replicate_jobs, resolve_config,
    run_cli,
};
use serde::{Deserialize, Serialize};

const DEFAULT: &str = r#"
[run]
seeds = 4
base_seed = 100

[pattern]
file = ""

[model]
steps = 20
scale = 1.5
mode = "sum"
weights = [1.0, 2.0]

[faults]
fail_odd = false
panic_seed = -1
"#;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cfg {
    run: RunCfg,
    pattern: PatternCfg,
    model: ModelCfg,
    faults: FaultCfg,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunCfg {
    seeds: usize,
    base_seed: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternCfg {
    file: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    Sum,
    Max,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelCfg {
    steps: u64,
    scale: f64,
    mode: Mode,
    weights: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultCfg {
    fail_odd: bool,
    panic_seed: i64,
}

/// SplitMix64: a deterministic pseudo-random function of its input.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

struct Dummy;

impl Experiment for Dummy {
    type Config = Cfg;
    fn name(&self) -> &'static str {
        "dummy"
    }

    fn default_config(&self) -> &str {
        DEFAULT
    }

    fn quick_overrides(&self) -> &[(&'static str, &'static str)] {
        &[("model.steps", "3"), ("run.seeds", "2")]
    }

    fn validate(&self, cfg: &Cfg, _: &Inputs) -> Result<(), ConfigError> {
        check_range("model.steps", cfg.model.steps, 1, 100_000)?;
        check_positive("model.scale", cfg.model.scale)?;
        check_range("run.seeds", cfg.run.seeds, 1, 1000)
    }

    fn jobs(&self, cfg: &Cfg, _: &Inputs) -> Vec<Job> {
        replicate_jobs(cfg.run.seeds, cfg.run.base_seed)
    }

    fn work_units(&self, cfg: &Cfg, _job: &Job) -> u64 {
        cfg.model.steps
    }

    fn run_job(
        &self,
        cfg: &Cfg,
        job: &Job,
        _: &Inputs,
        progress: &Progress,
    ) -> anyhow::Result<JobOutput> {
        if let Some(ckpt) = progress.checkpoint_file() {
            std::fs::create_dir_all(ckpt.parent().unwrap())?;
            elise_sweep::write_file_atomic(ckpt, job.seed.to_string().as_bytes())?;
        }
        if cfg.faults.fail_odd && job.seed % 2 == 1 {
            anyhow::bail!("odd seed {}", job.seed);
        }
        if i64::try_from(job.seed).ok() == Some(cfg.faults.panic_seed) {
            panic!("boom at seed {}", job.seed);
        }
        let w: f64 = cfg.model.weights.iter().sum();
        let mut step = Vec::new();
        let mut value = Vec::new();
        for i in 0..cfg.model.steps {
            step.push(i);
            let u = (mix(job.seed ^ mix(i)) >> 11) as f64 / (1u64 << 53) as f64;
            value.push(u * cfg.model.scale * w);
            progress.inc(1);
        }
        let total = match cfg.model.mode {
            Mode::Sum => value.iter().sum(),
            Mode::Max => value.iter().copied().fold(f64::MIN, f64::max),
        };
        let n = step.len();
        let samples = RecordBatch::try_from_iter([
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed; n])) as ArrayRef,
            ),
            ("step", Arc::new(UInt64Array::from(step)) as ArrayRef),
            ("value", Arc::new(Float64Array::from(value)) as ArrayRef),
        ])?;
        let summary = RecordBatch::try_from_iter([
            (
                "seed",
                Arc::new(UInt64Array::from(vec![job.seed])) as ArrayRef,
            ),
            (
                "total",
                Arc::new(Float64Array::from(vec![total])) as ArrayRef,
            ),
        ])?;
        Ok(JobOutput::new()
            .with_table("samples", samples)
            .with_table("summary", summary))
    }

    fn finish(&self, _cfg: &Cfg, run: &RunDir) -> anyhow::Result<()> {
        let rows: usize = run
            .read_table("summary")?
            .iter()
            .map(RecordBatch::num_rows)
            .sum();
        std::fs::write(run.path().join("finish.txt"), rows.to_string())?;
        Ok(())
    }
}

/// An experiment without the `pattern.file` convention.
const NO_PATTERN: Loose = Loose {
    name: "nopattern",
    default_config: "[run]\nseeds = 1\nbase_seed = 0\n",
};

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("sweep-test-{tag}"))
}

fn sets(list: &[&str]) -> Vec<String> {
    args(list)
}

fn resolve(sets_: &[&str]) -> Result<Cfg, ConfigError> {
    resolve_config(&Dummy, None, &sets(sets_), false, &[]).map(|(c, _)| c)
}

fn write_config(tag: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(tag);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("my-config.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

#[test]
fn default_config_resolves() {
    let cfg = resolve(&[]).unwrap();
    assert_eq!(cfg.run.seeds, 4);
    assert_eq!(cfg.run.base_seed, 100);
    assert_eq!(cfg.model.steps, 20);
    assert_eq!(cfg.model.mode, Mode::Sum);
    assert_eq!(cfg.pattern.file, "");
}

#[test]
fn unknown_key_in_file_names_file_key_and_valid_keys() {
    let (dir, file) = write_config("unknown", "[model]\nstepz = 3\n");
    let err = resolve_config(&Dummy, Some(&file), &[], false, &[]).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, ConfigError::UnknownKey { .. }), "{msg}");
    assert!(msg.contains("my-config.toml"), "{msg}");
    assert!(msg.contains("unknown key 'model.stepz'"), "{msg}");
    assert!(
        msg.contains("keys in [model]: mode, scale, steps, weights"),
        "{msg}"
    );

    std::fs::write(&file, "[modle]\nsteps = 3\n").unwrap();
    let msg = resolve_config(&Dummy, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("unknown key 'modle'"), "{msg}");
    assert!(
        msg.contains("top-level keys: faults, model, pattern, run"),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_key_in_set() {
    let msg = resolve(&["model.stepz=3"]).unwrap_err().to_string();
    assert!(msg.starts_with("--set model.stepz=3: "), "{msg}");
    assert!(msg.contains("unknown key 'model.stepz'"), "{msg}");
    assert!(msg.contains("keys in [model]: mode, scale, steps"), "{msg}");
    let msg = resolve(&["model.steps.x=3"]).unwrap_err().to_string();
    assert!(msg.contains("'model.steps' is not a table"), "{msg}");
    let msg = resolve(&["nope=3"]).unwrap_err().to_string();
    assert!(msg.contains("unknown key 'nope'; top-level keys"), "{msg}");
}

#[test]
fn set_without_equals_is_an_error() {
    let err = resolve(&["model.steps"]).unwrap_err();
    assert!(matches!(err, ConfigError::MissingEquals { .. }));
    assert!(
        err.to_string()
            .contains("--set model.steps: expected key=value")
    );
}

#[test]
fn type_mismatches_name_key_expected_and_got() {
    let msg = resolve(&["model.steps=abc"]).unwrap_err().to_string();
    assert!(
        msg.starts_with("--set model.steps=abc: expected an integer (default 20), got 'abc'"),
        "{msg}"
    );
    let msg = resolve(&["model.steps=2.5"]).unwrap_err().to_string();
    assert!(
        msg.contains("expected an integer (default 20), got a float (2.5)"),
        "{msg}"
    );
    let msg = resolve(&["faults.fail_odd=1"]).unwrap_err().to_string();
    assert!(msg.contains("expected a boolean (default false)"), "{msg}");
    let msg = resolve(&["model.weights=[1, \"a\"]"])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("model.weights[1]: expected a float"), "{msg}");
    let msg = resolve(&["model=3"]).unwrap_err().to_string();
    assert!(msg.contains("expected a table"), "{msg}");

    let (dir, file) = write_config("mismatch", "[model]\nsteps = \"many\"\n");
    let msg = resolve_config(&Dummy, Some(&file), &[], false, &[])
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains(
            "my-config.toml: model.steps: expected an integer (default 20), got a string (\"many\")"
        ),
        "{msg}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn integers_are_accepted_as_floats_and_strings_unquoted() {
    let cfg = resolve(&["model.scale=2", "model.weights=[1, 2, 3]", "model.mode=max"]).unwrap();
    assert_eq!(cfg.model.scale, 2.0);
    assert_eq!(cfg.model.weights, vec![1.0, 2.0, 3.0]);
    assert_eq!(cfg.model.mode, Mode::Max);
    let cfg = resolve(&["model.mode=\"max\"", "pattern.file=data/a b.toml"]).unwrap();
    assert_eq!(cfg.model.mode, Mode::Max);
    assert_eq!(cfg.pattern.file, "data/a b.toml");
    // Inline tables are merged key by key.
    let cfg = resolve(&["model={ scale = 3, steps = 7 }"]).unwrap();
    assert_eq!((cfg.model.scale, cfg.model.steps), (3.0, 7));

    let (dir, file) = write_config("intfloat", "[model]\nscale = 4\n");
    let (cfg, _) = resolve_config(&Dummy, Some(&file), &[], false, &[]).unwrap();
    assert_eq!(cfg.model.scale, 4.0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn deserialize_and_validate_errors_name_the_key() {
    let msg = resolve(&["model.mode=median"]).unwrap_err().to_string();
    assert!(msg.contains("model.mode"), "{msg}");
    assert!(msg.contains("median"), "{msg}");
    let err = resolve(&["model.steps=0"]).unwrap_err();
    assert!(matches!(err, ConfigError::OutOfRange { .. }));
    assert_eq!(
        err.to_string(),
        "model.steps = 0 is out of range: expected a value in [1, 100000]"
    );
    let msg = resolve(&["model.scale=-1"]).unwrap_err().to_string();
    assert_eq!(
        msg,
        "model.scale = -1 is out of range: expected a value > 0"
    );
}

#[test]
fn layers_apply_in_order() {
    let (dir, file) = write_config("layers", "[model]\nsteps = 5\nscale = 9.0\n");
    // file < quick
    let (cfg, _) = resolve_config(&Dummy, Some(&file), &[], true, &[]).unwrap();
    assert_eq!(
        (cfg.model.steps, cfg.model.scale, cfg.run.seeds),
        (3, 9.0, 2)
    );
    // quick < extra (--seeds) < --set, and later --set wins
    let extra = vec![("run.seeds".to_owned(), "7".to_owned())];
    let (cfg, _) = resolve_config(
        &Dummy,
        Some(&file),
        &sets(&["model.steps=8", "model.steps=11"]),
        true,
        &extra,
    )
    .unwrap();
    assert_eq!((cfg.model.steps, cfg.run.seeds), (11, 7));
    let (cfg, _) =
        resolve_config(&Dummy, Some(&file), &sets(&["run.seeds=9"]), true, &extra).unwrap();
    assert_eq!(cfg.run.seeds, 9);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn seeds_and_pattern_flags_map_to_config_keys() {
    let s = run_cli(
        &Dummy,
        &args(&["--seeds", "3", "--pattern", "pat/x y.toml", "--list"]),
    )
    .unwrap();
    let listing = s.listing().expect("--list returns a listing").to_owned();
    assert_eq!(s.n_jobs(), 3);
    let cfg: Cfg = toml::from_str(&listing).expect("listing is a valid config");
    assert_eq!(cfg.run.seeds, 3);
    assert_eq!(cfg.pattern.file, "pat/x y.toml");
    assert!(listing.contains("# 2 2 102\n"), "{listing}");
    assert!(!s.run_dir().exists() || s.run_dir().join("config.toml").exists());

    let err = run_cli(&NO_PATTERN, &args(&["--pattern", "x.toml", "--list"])).unwrap_err();
    let msg = err.to_string();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{msg}");
    assert!(msg.starts_with("--pattern"), "{msg}");
    assert!(msg.contains("unknown key 'pattern.file'"), "{msg}");
}

#[test]
fn default_run_dir_is_named_by_config_hash() {
    let a = run_cli(&Dummy, &args(&["--list"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    let b = run_cli(&Dummy, &args(&["--list"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    let c = run_cli(&Dummy, &args(&["--list", "--set", "model.steps=21"]))
        .unwrap()
        .run_dir()
        .to_path_buf();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.parent().unwrap(), Path::new("results/dummy"));
    let name = a.file_name().unwrap().to_str().unwrap();
    let hex = name.strip_prefix("run-").unwrap();
    assert_eq!(hex.len(), 16);
    assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{name}");
}

#[test]
fn usage_errors() {
    let err = run_cli(&Dummy, &args(&["--bogus"])).unwrap_err();
    assert!(err.downcast_ref::<clap::Error>().is_some());
    let err = run_cli(&Dummy, &args(&["--help"])).unwrap_err();
    let clap_err = err.downcast_ref::<clap::Error>().unwrap();
    assert_eq!(clap_err.kind(), clap::error::ErrorKind::DisplayHelp);
    assert!(clap_err.to_string().contains("exp-dummy"), "{clap_err}");
    let out = temp_dir("threads0");
    let err = run_cli(
        &Dummy,
        &args(&["--threads", "0", "--out", out.to_str().unwrap()]),
    )
    .unwrap_err();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{err}");
    assert!(!out.exists());
}

#[test]
fn job_lists_have_the_documented_seeds() {
    let jobs = replicate_jobs(3, 10);
    let seeds: Vec<_> = jobs
        .iter()
        .map(|j| (j.index, j.replicate, j.seed))
        .collect();
    assert_eq!(seeds, vec![(0, 0, 10), (1, 1, 11), (2, 2, 12)]);
    assert!(jobs.iter().all(|j| j.params.is_empty()));

    let points = vec![
        vec![("lr".to_owned(), "0.1".to_owned())],
        vec![("lr".to_owned(), "0.2".to_owned())],
    ];
    let jobs = grid_jobs(&points, 2, 5);
    let got: Vec<_> = jobs
        .iter()
        .map(|j| (j.index, j.replicate, j.seed, j.param("lr").unwrap()))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, 0, 5, "0.1"),
            (1, 1, 6, "0.1"),
            (2, 0, 5, "0.2"),
            (3, 1, 6, "0.2")
        ]
    );
    assert_eq!(jobs[3].params_text(), "lr=0.2");
}

/// All files below `dir`, relative, sorted.
fn files_below(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn run(out: &Path, extra: &[&str]) -> elise_sweep::RunSummary {
    let mut a = args(&["--out", out.to_str().unwrap()]);
    a.extend(args(extra));
    run_cli(&Dummy, &a)
        .and_then(elise_sweep::Outcome::into_run)
        .unwrap()
}

#[test]
fn end_to_end_run_writes_parts_manifest_and_config() {
    let out = temp_dir("e2e");
    let s = run(&out, &["--threads", "2", "--set", "model.steps=6"]);
    assert!(s.success());
    assert_eq!((s.n_jobs, s.n_ok, s.n_failed), (4, 4, 0));
    assert_eq!(s.run_dir, out);

    let files = files_below(&out);
    let mut expected = vec![
        "config.toml".to_owned(),
        "finish.txt".to_owned(),
        "manifest.toml".to_owned(),
    ];
    for table in ["samples", "summary"] {
        for i in 0..4 {
            expected.push(format!("{table}/job-{i:06}.parquet"));
        }
    }
    for i in 0..4 {
        expected.push(format!("_done/job-{i:06}.toml"));
        expected.push(format!("_locks/job-{i:06}.lock"));
    }
    expected.push("_lock".to_owned());
    expected.sort();
    assert_eq!(files, expected, "no .tmp or stray files");
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "4"
    );

    // config.toml is the resolved config and re-resolves to the same config.
    let (cfg_again, _) =
        resolve_config(&Dummy, Some(&out.join("config.toml")), &[], false, &[]).unwrap();
    assert_eq!(cfg_again.model.steps, 6);
    assert_eq!(cfg_again, resolve(&["model.steps=6"]).unwrap());

    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("manifest.toml")).unwrap()).unwrap();
    assert_eq!(manifest["experiment"].as_str(), Some("dummy"));
    assert_eq!(
        manifest["run_id"].as_str(),
        out.file_name().unwrap().to_str()
    );
    assert_eq!(manifest["status"].as_str(), Some("finished"));
    assert_eq!(manifest["threads"].as_integer(), Some(2));
    assert_eq!(manifest["n_jobs"].as_integer(), Some(4));
    assert_eq!(manifest["n_ok"].as_integer(), Some(4));
    assert_eq!(manifest["n_failed"].as_integer(), Some(0));
    assert!(!manifest["git_commit"].as_str().unwrap().is_empty());
    let started = manifest["started_utc"].as_str().unwrap();
    let ended = manifest["ended_utc"].as_str().unwrap();
    assert_eq!(started.len(), "2025-01-01T00:00:00.000Z".len());
    assert!(
        started.ends_with('Z') && started <= ended,
        "{started} {ended}"
    );
    assert!(
        manifest["command_line"]
            .as_str()
            .unwrap()
            .starts_with("exp-dummy --out ")
    );
    assert!(manifest["failed"].as_array().unwrap().is_empty());

    // Parts carry their metadata and the rows of their job.
    let part = out.join("samples/job-000002.parquet");
    let kv = read_parquet_metadata(&part).unwrap();
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(get("elise.experiment"), Some("dummy"));
    assert_eq!(get("elise.run_id"), out.file_name().unwrap().to_str());
    assert_eq!(get("elise.job_index"), Some("2"));
    assert_eq!(get("elise.seed"), Some("102"));
    assert_eq!(get("elise.git_commit"), manifest["git_commit"].as_str());
    let batches = read_parquet(&part).unwrap();
    let seeds = column::<UInt64Array>(&batches[0], "seed").unwrap();
    assert_eq!(seeds.values().to_vec(), vec![102; 6]);

    // The part equals what run_job returns for the job.
    let cfg = resolve(&["model.steps=6"]).unwrap();
    let job = &Dummy.jobs(&cfg, &Inputs::new())[2];
    let direct = Dummy
        .run_job(&cfg, job, &Inputs::new(), &Progress::noop())
        .unwrap();
    assert_eq!(direct.tables[0].0, "samples");
    assert_eq!(batches[0].columns(), direct.tables[0].1.columns());
    assert_eq!(
        batches[0].schema().fields(),
        direct.tables[0].1.schema().fields()
    );

    // read_table concatenates the parts in job order.
    let rd = RunDir::new(&out);
    let all = rd.read_table("samples").unwrap();
    let seeds: Vec<u64> = all
        .iter()
        .flat_map(|b| column::<UInt64Array>(b, "seed").unwrap().values().to_vec())
        .collect();
    let mut want = Vec::new();
    for s in 100..104 {
        want.extend([s; 6]);
    }
    assert_eq!(seeds, want);

    // A re-run with the same config resumes (nothing left to do), --restart runs every job
    // again; another config is refused.
    let s = run(&out, &["--threads", "1", "--set", "model.steps=6"]);
    assert!(s.success());
    assert_eq!((s.n_resumed, s.n_ok), (4, 4));
    assert_eq!(files_below(&out), expected);
    let s = run(&out, &["--restart", "--set", "model.steps=6"]);
    assert!(s.success());
    assert_eq!((s.n_resumed, s.n_ok), (0, 4));
    assert_eq!(files_below(&out), expected);
    let err = run_cli(&Dummy, &args(&["--out", out.to_str().unwrap()])).unwrap_err();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{err}");
    assert!(err.to_string().contains("different config"), "{err}");

    // A config.toml written by an older version, which did not have the key model.mode yet:
    // resolved by this version the key takes its default, so the run is the same and resumes;
    // config.toml is rewritten in full.
    let config_path = out.join("config.toml");
    let full = std::fs::read_to_string(&config_path).unwrap();
    assert!(full.contains("mode = \"sum\"\n"), "{full}");
    std::fs::write(&config_path, full.replace("mode = \"sum\"\n", "")).unwrap();
    let s = run(&out, &["--set", "model.steps=6"]);
    assert!(s.success());
    assert_eq!((s.n_resumed, s.n_ok), (4, 4));
    assert_eq!(std::fs::read_to_string(&config_path).unwrap(), full);
    // A missing key whose default differs, or an unknown key (written by a newer version): a
    // different run.
    for stored in [
        full.replace("steps = 6\n", ""),
        format!("{full}\n[newer]\nkey = 1\n"),
    ] {
        std::fs::write(&config_path, stored).unwrap();
        let a = args(&["--out", out.to_str().unwrap(), "--set", "model.steps=6"]);
        let err = run_cli(&Dummy, &a).unwrap_err();
        assert!(err.to_string().contains("different config"), "{err}");
    }

    std::fs::remove_dir_all(&out).unwrap();
}

fn table_values(out: &Path, table: &str) -> Vec<RecordBatch> {
    RunDir::new(out).read_table(table).unwrap()
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let a = temp_dir("t1");
    let b = temp_dir("t3");
    let extra = ["--seeds", "6", "--set", "model.steps=50"];
    let mut args_a = vec!["--threads", "1"];
    args_a.extend(extra);
    let mut args_b = vec!["--threads", "3"];
    args_b.extend(extra);
    assert!(run(&a, &args_a).success());
    assert!(run(&b, &args_b).success());
    for table in ["samples", "summary"] {
        let ta = table_values(&a, table);
        let tb = table_values(&b, table);
        assert_eq!(ta.len(), 6);
        assert_eq!(ta, tb, "table {table}");
    }
    assert_eq!(
        std::fs::read(a.join("config.toml")).unwrap(),
        std::fs::read(b.join("config.toml")).unwrap()
    );
    // Different seeds give different values (the comparison above is not vacuous).
    let s = table_values(&a, "summary");
    let t0 = column::<Float64Array>(&s[0], "total").unwrap().value(0);
    let t1 = column::<Float64Array>(&s[1], "total").unwrap().value(0);
    assert_ne!(t0, t1);
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn failing_and_panicking_jobs_are_recorded_and_the_rest_written() {
    let out = temp_dir("fail");
    let s = run(
        &out,
        &[
            "--seeds",
            "5",
            "--set",
            "faults.fail_odd=true",
            "--set",
            "faults.panic_seed=102",
            "--threads",
            "2",
        ],
    );
    assert!(!s.success());
    assert_eq!((s.n_jobs, s.n_ok, s.n_failed), (5, 2, 3));
    let failed: Vec<_> = s.failed.iter().map(|f| (f.index, f.seed)).collect();
    assert_eq!(failed, vec![(1, 101), (2, 102), (3, 103)]);
    assert!(s.failed[0].error.contains("odd seed 101"), "{:?}", s.failed);
    assert!(
        s.failed[1].error.contains("panicked: boom at seed 102"),
        "{:?}",
        s.failed
    );

    let files = files_below(&out);
    assert!(files.iter().all(|f| !f.ends_with(".tmp")), "{files:?}");
    for i in [0, 4] {
        assert!(
            files.contains(&format!("samples/job-{i:06}.parquet")),
            "{files:?}"
        );
    }
    for i in [1, 2, 3] {
        assert!(
            !files.contains(&format!("samples/job-{i:06}.parquet")),
            "{files:?}"
        );
        // A failed job keeps its checkpoint (a resumed run continues from it) ...
        assert!(
            files.contains(&format!("_checkpoints/job-{i:06}.ckpt")),
            "{files:?}"
        );
    }
    // ... a finished job's checkpoint is removed.
    for i in [0, 4] {
        assert!(
            !files.contains(&format!("_checkpoints/job-{i:06}.ckpt")),
            "{files:?}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "2"
    );

    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("manifest.toml")).unwrap()).unwrap();
    assert_eq!(manifest["n_ok"].as_integer(), Some(2));
    assert_eq!(manifest["n_failed"].as_integer(), Some(3));
    let entries = manifest["failed"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let first = entries[0].as_table().unwrap();
    assert_eq!(first["index"].as_integer(), Some(1));
    assert_eq!(first["seed"].as_integer(), Some(101));
    assert_eq!(first["error"].as_str(), Some("odd seed 101"));
    assert!(
        first.get("params").is_none(),
        "no params for plain replicates"
    );
    assert!(
        entries[1]["error"]
            .as_str()
            .unwrap()
            .contains("boom at seed 102")
    );
    std::fs::remove_dir_all(&out).unwrap();
}

/// Every table of a run directory, as its batches in job order.
fn all_tables(out: &Path) -> Vec<Vec<RecordBatch>> {
    ["samples", "summary"]
        .iter()
        .map(|t| table_values(out, t))
        .collect()
}

#[test]
fn resume_skips_intact_jobs_and_redoes_missing_or_corrupt_ones() {
    let reference = temp_dir("resume-ref");
    let extra = ["--seeds", "6", "--set", "model.steps=40"];
    assert!(run(&reference, &extra).success());
    let want = all_tables(&reference);

    let out = temp_dir("resume");
    assert!(run(&out, &extra).success());
    // Job 1: a part truncated after the fact. Job 2: a part deleted. Job 3: killed after its
    // parts were written but before its completion record. Job 4: a stray temporary file.
    let part = out.join("samples/job-000001.parquet");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::remove_file(out.join("summary/job-000002.parquet")).unwrap();
    std::fs::remove_file(out.join("_done/job-000003.toml")).unwrap();
    std::fs::write(out.join("samples/job-000004.parquet.tmp"), b"partial").unwrap();
    // Job 5: a part with the right size but altered bytes.
    let part5 = out.join("summary/job-000005.parquet");
    let mut bytes5 = std::fs::read(&part5).unwrap();
    let mid = bytes5.len() / 2;
    bytes5[mid] ^= 0x55;
    std::fs::write(&part5, &bytes5).unwrap();

    let s = run(&out, &extra);
    assert!(s.success());
    // Jobs 0 and 4 were intact; 1, 2, 3 and 5 were redone.
    assert_eq!((s.n_jobs, s.n_resumed, s.n_ok), (6, 2, 6));
    assert_eq!(
        all_tables(&out),
        want,
        "resumed run equals an uninterrupted one"
    );
    assert!(
        !files_below(&out).iter().any(|f| f.ends_with(".tmp")),
        "stray temporary files are removed: {:?}",
        files_below(&out)
    );
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(out.join("manifest.toml")).unwrap()).unwrap();
    assert_eq!(manifest["n_resumed"].as_integer(), Some(2));
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_dir_all(&reference).unwrap();
}
