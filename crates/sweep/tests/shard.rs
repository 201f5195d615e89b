//! Sharding, `collect` and `slurm --dry-run`, in-process with the toy experiment.

use std::path::{Path, PathBuf};

use elise_sweep::testing::Toy;
use elise_sweep::{
    ConfigError, Outcome, RunDir, RunSummary, Shard, read_parquet, read_parquet_metadata, run_cli,
};

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("sweep-shard-{tag}"))
}

fn toy(out: &Path, args: &[&str]) -> anyhow::Result<RunSummary> {
    let mut a: Vec<String> = vec!["--out".into(), out.display().to_string()];
    a.extend(args.iter().map(|s| s.to_string()));
    run_cli(&Toy, &a).and_then(Outcome::into_run)
}

/// What `collect` reported.
#[derive(Debug)]
struct Collected {
    n_jobs: usize,
    n_ok: usize,
    n_missing: usize,
    report: Option<String>,
    success: bool,
}

impl Collected {
    fn success(&self) -> bool {
        self.success
    }
}

fn collect(out: &Path, extra: &[&str]) -> Collected {
    let mut a: Vec<String> = vec!["collect".into(), "--out".into(), out.display().to_string()];
    a.extend(extra.iter().map(|s| s.to_string()));
    let outcome = run_cli(&Toy, &a).unwrap();
    let success = outcome.success();
    match outcome {
        Outcome::Collected {
            n_jobs,
            n_complete,
            n_missing,
            report,
            ..
        } => Collected {
            n_jobs,
            n_ok: n_complete,
            n_missing,
            report: Some(report),
            success,
        },
        other => panic!("collect returned {other:?}"),
    }
}

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

fn manifest(path: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const SWEEP: [&str; 4] = ["--seeds", "5", "--axis", "toy.steps=3,7"];

#[test]
fn shards_together_write_exactly_the_rows_of_one_run() {
    let whole = temp_dir("whole");
    assert!(toy(&whole, &SWEEP).unwrap().success());

    let dir = temp_dir("sharded");
    let mut seen = Vec::new();
    for k in [2, 0, 1] {
        let s = toy(
            &dir,
            &[&SWEEP[..], &["--shard", &format!("{k}/3")]].concat(),
        )
        .unwrap();
        assert!(s.success());
        assert_eq!(s.shard, Some(Shard { index: k, count: 3 }));
        assert_eq!(s.n_jobs_total, 10);
        let m = manifest(&dir.join(format!("manifest-shard-{k}-of-3.toml")));
        assert_eq!(m["shard"].as_str(), Some(format!("{k}/3").as_str()));
        assert_eq!(m["n_jobs_total"].as_integer(), Some(10));
        assert_eq!(m["n_jobs"].as_integer(), Some(s.n_jobs as i64));
        seen.push(s.n_jobs);
        // A shard draws no figures: it sees only its own jobs.
        assert!(!dir.join("finish.txt").exists());
        assert!(!dir.join("manifest.toml").exists());
    }
    assert_eq!(seen, vec![3, 4, 3], "jobs with index % 3 == k");
    for table in ["samples", "summary"] {
        assert_eq!(
            RunDir::new(&dir).read_table(table).unwrap(),
            RunDir::new(&whole).read_table(table).unwrap(),
            "table {table}"
        );
    }
    // Parts carry the same run id in every shard (the directory name, as for a local run).
    let kv = read_parquet_metadata(&dir.join("samples/job-000004.parquet")).unwrap();
    let id = dir.file_name().unwrap().to_str().unwrap();
    assert!(kv.contains(&("elise.run_id".into(), id.into())), "{kv:?}");

    // collect: complete, merged in job order with the run metadata, figures drawn.
    let c = collect(&dir, &[]);
    assert!(c.success(), "{:?}", c.report);
    assert_eq!((c.n_jobs, c.n_ok, c.n_missing), (10, 10, 0));
    assert_eq!(
        std::fs::read_to_string(dir.join("finish.txt")).unwrap(),
        "10"
    );
    let merged = read_parquet(&dir.join("samples.parquet")).unwrap();
    let want = RunDir::new(&whole).read_table("samples").unwrap();
    let cat = |bs: &[elise_sweep::arrow_array::RecordBatch]| -> usize {
        bs.iter().map(|b| b.num_rows()).sum()
    };
    assert_eq!(cat(&merged), cat(&want));
    assert_eq!(cat(&merged), 5 * 3 + 5 * 7);
    let kv = read_parquet_metadata(&dir.join("samples.parquet")).unwrap();
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    assert_eq!(get("elise.experiment").as_deref(), Some("toy"));
    assert_eq!(get("elise.run_id").as_deref(), Some(id));
    assert_eq!(
        get("elise.config"),
        Some(std::fs::read_to_string(dir.join("config.toml")).unwrap())
    );
    let jobs = get("elise.jobs").unwrap();
    assert_eq!(jobs.lines().count(), 10);
    assert!(jobs.contains("7 1002 toy.steps=7\n"), "{jobs}");
    let record = manifest(&dir.join("collect.toml"));
    assert_eq!(record["status"].as_str(), Some("complete"));
    assert!(files_below(&dir).iter().all(|f| !f.ends_with(".tmp")));
    std::fs::remove_dir_all(&whole).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_shard_restarts_and_resumes_only_its_own_jobs() {
    let dir = temp_dir("restart");
    for k in 0..2 {
        assert!(
            toy(&dir, &["--seeds", "6", "--shard", &format!("{k}/2")])
                .unwrap()
                .success()
        );
    }
    let other: Vec<_> = (0..6)
        .filter(|i| i % 2 == 1)
        .map(|i| {
            let p = dir.join(format!("summary/job-{i:06}.parquet"));
            (
                p.clone(),
                std::fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect();
    // Shard 1's leftover temporary file must survive shard 0's resume and restart.
    let foreign_tmp = dir.join("samples/job-000003.parquet.tmp");
    std::fs::write(&foreign_tmp, b"being written by shard 1").unwrap();
    std::fs::remove_file(dir.join("_done/job-000002.toml")).unwrap();
    let s = toy(&dir, &["--seeds", "6", "--shard", "0/2"]).unwrap();
    assert_eq!((s.n_jobs, s.n_resumed, s.n_ok), (3, 2, 3));
    let s = toy(&dir, &["--seeds", "6", "--shard", "0/2", "--restart"]).unwrap();
    assert_eq!((s.n_jobs, s.n_resumed, s.n_ok), (3, 0, 3));
    assert!(foreign_tmp.exists(), "another shard's file was removed");
    for (p, t) in &other {
        assert_eq!(
            std::fs::metadata(p).unwrap().modified().unwrap(),
            *t,
            "{}",
            p.display()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn collect_names_missing_and_failed_jobs_and_the_commands_that_rerun_them() {
    let dir = temp_dir("missing");
    let sweep = ["--seeds", "6", "--set", "toy.fail_seed=1004"];
    let s = toy(&dir, &[&sweep[..], &["--shard", "0/3"]].concat()).unwrap();
    assert!(s.success(), "shard 0: jobs 0 and 3");
    let s = toy(&dir, &[&sweep[..], &["--shard", "1/3"]].concat()).unwrap();
    assert_eq!((s.n_ok, s.n_failed), (1, 1), "job 4 (seed 1004) fails");
    // Shard 2 never ran.
    let c = collect(&dir, &[]);
    assert!(!c.success());
    assert_eq!((c.n_jobs, c.n_ok, c.n_missing), (6, 3, 3));
    let report = c.report.unwrap();
    assert!(report.contains("3 of 6 jobs complete"), "{report}");
    assert!(report.contains("job 2 (seed 1002): not run"), "{report}");
    assert!(report.contains("job 5 (seed 1005): not run"), "{report}");
    assert!(
        report.contains("job 4 (seed 1004): toy.fail_seed: job with seed 1004 fails (manifest-shard-1-of-3.toml)"),
        "{report}"
    );
    let abs = dir.canonicalize().unwrap().display().to_string();
    assert!(
        report.contains(&format!("--config {abs}/config.toml --out {abs} --run-id ")),
        "{report}"
    );
    assert!(
        !dir.join("summary.parquet").exists(),
        "incomplete runs are not merged"
    );
    assert_eq!(
        manifest(&dir.join("collect.toml"))["status"].as_str(),
        Some("incomplete")
    );
    let c = collect(&dir, &["--allow-missing"]);
    assert_eq!(c.n_missing, 3);
    let kv = read_parquet_metadata(&dir.join("summary.parquet")).unwrap();
    assert!(
        kv.contains(&("elise.missing_jobs".into(), "2 4 5".into())),
        "{kv:?}"
    );
    assert_eq!(
        manifest(&dir.join("collect.toml"))["status"].as_str(),
        Some("partial")
    );

    // The printed local command (the run's own config) completes the run, except the job that
    // fails by design.
    let s = run_cli(
        &Toy,
        &[
            "--config".into(),
            format!("{abs}/config.toml"),
            "--out".into(),
            abs.clone(),
        ],
    )
    .and_then(Outcome::into_run)
    .unwrap();
    assert_eq!((s.n_resumed, s.n_ok, s.n_failed), (3, 5, 1));
    let c = collect(&dir, &[]);
    assert_eq!(c.n_missing, 1);

    let err = run_cli(&Toy, &["collect".into()]).unwrap_err();
    assert!(err.downcast_ref::<ConfigError>().is_some(), "{err}");
    let err = run_cli(
        &Toy,
        &["collect".into(), "--out".into(), "/nonexistent/x".into()],
    )
    .unwrap_err();
    assert!(err.to_string().contains("has no config.toml"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn slurm_dry_run_writes_the_array_script_binary_and_config() {
    let dir = temp_dir("dry");
    let s = run_cli(
        &Toy,
        &[
            "slurm".into(),
            "--out".into(),
            dir.display().to_string(),
            "--seeds".into(),
            "7".into(),
            "--tasks".into(),
            "3".into(),
            "--cpus-per-task".into(),
            "2".into(),
            "--time".into(),
            "1:00:00".into(),
            "--mem".into(),
            "2G".into(),
            "--partition".into(),
            "short".into(),
            "--account".into(),
            "lab".into(),
            "--max-running".into(),
            "2".into(),
            "--collect".into(),
            "--dry-run".into(),
        ],
    )
    .unwrap();
    let report = s.report().unwrap().to_owned();
    assert!(report.contains("dry run, nothing submitted"), "{report}");
    assert!(report.contains("--dependency=afterok:<array job id> --kill-on-invalid-dep=yes"));
    let abs = dir.canonicalize().unwrap();
    let script = std::fs::read_to_string(abs.join("slurm/array.sh")).unwrap();
    for line in [
        "#SBATCH --array=0-2%2",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --time=1:00:00",
        "#SBATCH --mem=2G",
        "#SBATCH --partition=short",
        "#SBATCH --account=lab",
        "--shard slurm/3 --array-base 0",
    ] {
        assert!(script.contains(line), "missing '{line}' in\n{script}");
    }
    assert!(script.contains(&format!(
        "#SBATCH --output={}/slurm/logs/task-%A_%a.out",
        abs.display()
    )));
    // The binary is a copy of the running executable; the config is the resolved one.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(std::fs::read(abs.join("slurm/exp-toy")).unwrap(), exe);
    let cfg = std::fs::read_to_string(abs.join("config.toml")).unwrap();
    assert!(cfg.contains("seeds = 7"), "{cfg}");
    let collect = std::fs::read_to_string(abs.join("slurm/collect.sh")).unwrap();
    assert!(
        collect.contains("collect --out \"$run_dir\" --run-id"),
        "{collect}"
    );

    // What a task runs: the script's command with the task's environment gives its shard
    // (here run in-process with the same arguments; SLURM_* come from --array-base/--shard).
    let s = run_cli(
        &Toy,
        &[
            "--config".into(),
            abs.join("config.toml").display().to_string(),
            "--out".into(),
            abs.display().to_string(),
            "--shard".into(),
            "1/3".into(),
        ],
    )
    .unwrap();
    assert!(s.success());
    assert_eq!(s.n_jobs(), 2, "jobs 1 and 4");

    // Usage errors.
    for bad in [
        vec!["slurm", "--tasks", "0", "--dry-run"],
        vec!["slurm", "--shard", "0/2", "--dry-run"],
        vec!["--array-base", "1"],
        vec!["--run-id", "../x", "--list"],
    ] {
        let mut a: Vec<String> = bad.iter().map(|s| s.to_string()).collect();
        a.extend(["--out".to_owned(), dir.display().to_string()]);
        let err = run_cli(&Toy, &a).unwrap_err();
        assert!(
            err.downcast_ref::<ConfigError>().is_some(),
            "{bad:?}: {err}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn run_id_names_the_default_directory_and_depends_on_the_config() {
    let list = |extra: &[&str]| {
        let mut a = vec!["--list".to_owned()];
        a.extend(extra.iter().map(|s| s.to_string()));
        run_cli(&Toy, &a).unwrap().run_dir().to_path_buf()
    };
    assert_eq!(
        list(&["--run-id", "fig2-v1"]),
        Path::new("results/toy/fig2-v1")
    );
    let a = list(&[]);
    assert_eq!(a, list(&[]));
    assert_ne!(a, list(&["--seeds", "3"]));
    assert!(a.file_name().unwrap().to_str().unwrap().starts_with("run-"));
}
