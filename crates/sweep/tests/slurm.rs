//! The Slurm path for real: `slurm` submits a 4-task job array to a running cluster, `collect`
//! merges it, and the merged rows equal those of the same sweep run locally; then one array
//! task is cancelled mid-run, `collect` names the missing shard and prints the re-submission
//! command, which is run as printed, and nothing is lost or duplicated (the chained collect step
//! of that array is cancelled by Slurm, `--kill-on-invalid-dep=yes`).
//!
//! Needs a cluster: `./ci/test` starts a single-node one with `ci/slurm-local.sh` (root + apt)
//! and runs this test with `ELISE_SLURM_TEST=1`. Without that variable the test only prints why
//! it was skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use elise_sweep::arrow_array::{RecordBatch, UInt64Array};
use elise_sweep::{column, read_parquet};

const TOY: &str = env!("CARGO_BIN_EXE_elise-sweep-toy");
const TIMEOUT: Duration = Duration::from_secs(90);

/// Removes the directories (each array's holds a copy of the binary) also when the test fails.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("slurm-{tag}"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Polls `squeue` until no task of `job` is pending or running (`sbatch --wait` backs off to
/// long sleeps; polling keeps the test short).
fn wait_for(job: &str) {
    let t0 = Instant::now();
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-j", job, "-o", "%i %T"])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return;
        }
        assert!(
            t0.elapsed() < TIMEOUT,
            "job {job} still queued after {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `JobState=...` of every task of `job` (from `scontrol`, which keeps finished jobs for a few
/// minutes; there is no accounting database).
fn states(job: &str) -> Vec<String> {
    let out = run(Command::new("scontrol").args(["-o", "show", "job", job]));
    out.lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find_map(|w| w.strip_prefix("JobState="))
                .map(str::to_owned)
        })
        .collect()
}

fn line_with<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with '{prefix}' in:\n{text}"))
        .trim()
}

fn merged_columns(dir: &Path, table: &str) -> Vec<Vec<elise_sweep::arrow_array::ArrayRef>> {
    read_parquet(&dir.join(format!("{table}.parquet")))
        .unwrap()
        .iter()
        .map(|b| b.columns().to_vec())
        .collect()
}

fn summary_jobs(dir: &Path) -> Vec<u64> {
    read_parquet(&dir.join("summary.parquet"))
        .unwrap()
        .iter()
        .flat_map(|b: &RecordBatch| column::<UInt64Array>(b, "job").unwrap().values().to_vec())
        .collect()
}

/// The same sweep run locally (threads do not change rows), then collected.
fn local_reference(tag: &str, sweep: &[&str]) -> PathBuf {
    let dir = temp_dir(tag);
    run(Command::new(TOY)
        .arg("--out")
        .arg(&dir)
        .args(sweep)
        .args(["--threads", "8"]));
    run(Command::new(TOY).args(["collect", "--out"]).arg(&dir));
    dir
}

fn assert_same_rows(a: &Path, b: &Path, n_jobs: u64) {
    for table in ["samples", "summary"] {
        assert_eq!(
            merged_columns(a, table),
            merged_columns(b, table),
            "table {table}: {} vs {}",
            a.display(),
            b.display()
        );
    }
    assert_eq!(summary_jobs(a), (0..n_jobs).collect::<Vec<_>>());
}

fn manifest(path: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn slurm_job_array_equals_a_local_run_and_survives_a_killed_task() {
    if std::env::var_os("ELISE_SLURM_TEST").is_none() {
        eprintln!(
            "SKIPPED slurm_job_array...: ELISE_SLURM_TEST is not set (./ci/test sets it after \
             ci/slurm-local.sh has started a local cluster)"
        );
        return;
    }
    let t_all = Instant::now();
    let mut cleanup = Cleanup(Vec::new());

    // 1. A 4-task array with the collect step chained (afterok), against a local run.
    let sweep = [
        "--seeds",
        "16",
        "--set",
        "toy.steps=30",
        "--set",
        "toy.sleep_ms=300",
    ];
    let local = local_reference("local-a", &sweep);
    let dir = temp_dir("array-a");
    cleanup.0.extend([local.clone(), dir.clone()]);
    let t0 = Instant::now();
    let out = run(Command::new(TOY)
        .arg("slurm")
        .arg("--out")
        .arg(&dir)
        .args(sweep)
        .args(["--tasks", "4", "--time", "0:05:00", "--collect"]));
    let array = line_with(&out, "submitted job array ").to_owned();
    let collect = line_with(&out, "submitted collect job ")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    wait_for(&array);
    wait_for(&collect);
    let array_states = states(&array);
    assert_eq!(array_states, vec!["COMPLETED"; 4], "array {array}");
    assert_eq!(states(&collect), vec!["COMPLETED"], "collect job {collect}");
    eprintln!(
        "array {array} (4 tasks) + collect {collect}: {:.1} s from submission to merged tables",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(
        manifest(&dir.join("collect.toml"))["status"].as_str(),
        Some("complete")
    );
    for k in 0..4 {
        let m = manifest(&dir.join(format!("manifest-shard-{k}-of-4.toml")));
        assert_eq!(m["status"].as_str(), Some("finished"));
        assert_eq!(m["n_jobs"].as_integer(), Some(4));
        assert_eq!(m["threads"].as_integer(), Some(1), "SLURM_CPUS_PER_TASK");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("finish.txt")).unwrap(),
        "16"
    );
    assert_same_rows(&dir, &local, 16);

    // 2. Cancel array task 2 while it runs, re-submit only that shard, collect.
    let sweep = [
        "--seeds",
        "16",
        "--set",
        "toy.steps=30",
        "--set",
        "toy.sleep_ms=1500",
    ];
    let local = local_reference("local-b", &sweep);
    let dir = temp_dir("array-b");
    cleanup.0.extend([local.clone(), dir.clone()]);
    let out = run(Command::new(TOY)
        .arg("slurm")
        .arg("--out")
        .arg(&dir)
        .args(sweep)
        .args(["--tasks", "4", "--collect"]));
    let array = line_with(&out, "submitted job array ").to_owned();
    let collect = line_with(&out, "submitted collect job ")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    // Shard 2 = jobs 2, 6, 10, 14; cancel it once its first job is done.
    let t0 = Instant::now();
    while !dir.join("_done/job-000002.toml").exists() {
        assert!(t0.elapsed() < TIMEOUT, "job 2 never finished");
        std::thread::sleep(Duration::from_millis(50));
    }
    run(Command::new("scancel").arg(format!("{array}_2")));
    wait_for(&array);
    let mut st = states(&array);
    st.sort();
    assert_eq!(st, ["CANCELLED", "COMPLETED", "COMPLETED", "COMPLETED"]);
    // afterok can no longer be satisfied: --kill-on-invalid-dep=yes cancelled the collect step
    // instead of leaving it pending for ever.
    wait_for(&collect);
    assert_eq!(states(&collect), vec!["CANCELLED"], "collect job {collect}");
    // The task stopped cleanly on SIGTERM and said so.
    let m = manifest(&dir.join("manifest-shard-2-of-4.toml"));
    assert_eq!(m["status"].as_str(), Some("interrupted"), "{m}");
    assert_eq!(m["signal"].as_str(), Some("SIGTERM"));
    let kept = m["n_ok"].as_integer().unwrap();
    assert!((1..4).contains(&kept), "{m}");

    let c = Command::new(TOY)
        .args(["collect", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&c.stdout).into_owned();
    assert_eq!(c.status.code(), Some(1), "{report}");
    assert!(
        report.contains(&format!("{} of 16 jobs complete", 12 + kept)),
        "{report}"
    );
    assert!(!dir.join("summary.parquet").exists(), "nothing merged yet");
    let resubmit = line_with(&report, "sbatch ").to_owned();
    assert!(resubmit.starts_with("--array=2 "), "{report}");
    // Run the printed command exactly as printed.
    let out = run(Command::new("sh")
        .arg("-c")
        .arg(format!("sbatch {resubmit}")));
    let again = out.trim().rsplit(' ').next().unwrap().to_owned();
    wait_for(&again);
    assert_eq!(states(&again), vec!["COMPLETED"]);
    let m = manifest(&dir.join("manifest-shard-2-of-4.toml"));
    assert_eq!(m["status"].as_str(), Some("finished"));
    assert_eq!(
        m["n_resumed"].as_integer(),
        Some(kept),
        "finished jobs are not redone"
    );
    run(Command::new(TOY).args(["collect", "--out"]).arg(&dir));
    assert_same_rows(&dir, &local, 16);

    eprintln!("Slurm test: {:.1} s", t_all.elapsed().as_secs_f64());
}
