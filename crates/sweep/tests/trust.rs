//! A run directory cannot lie: whatever a user, an edited file or a second process does to it,
//! it never reports rows its config does not describe. Driven as a user would, with the real
//! binary `elise-sweep-toy` (the harness around a tiny experiment).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use elise_sweep::arrow_array::UInt64Array;
use elise_sweep::{RunDir, column, read_parquet};

const TOY: &str = env!("CARGO_BIN_EXE_elise-sweep-toy");

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("sweep-trust-{tag}"))
}

fn toy(out: &Path, args: &[&str]) -> Output {
    Command::new(TOY)
        .arg("--out")
        .arg(out)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// `elise-sweep-toy collect --out <out>`.
fn collect(out: &Path) -> Output {
    Command::new(TOY)
        .args(["collect", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `(run now, already done, run by another process)` from the `jobs:` line.
fn counts(o: &Output) -> (usize, usize, usize) {
    let out = String::from_utf8_lossy(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("jobs: "))
        .unwrap_or_else(|| panic!("no jobs line: {}", text(o)));
    let num = |tag: &str| -> usize {
        let end = line.find(tag).unwrap_or_else(|| panic!("{tag} in {line}"));
        line[..end]
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|w| !w.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        num(" run now"),
        num(" already done"),
        num(" run by another process"),
    )
}

fn rows(run: &RunDir, table: &str) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for b in run.read_table(table).unwrap() {
        let job = column::<UInt64Array>(&b, "job").unwrap();
        let seed = column::<UInt64Array>(&b, "seed").unwrap();
        out.extend((0..b.num_rows()).map(|k| (job.value(k), seed.value(k))));
    }
    out
}

#[test]
fn an_edited_config_toml_reruns_every_job_with_its_values() {
    let out = temp_dir("edited");
    let o = toy(&out, &["--seeds", "4", "--set", "toy.steps=5"]);
    assert!(o.status.success(), "{}", text(&o));
    let cfg = out.join("config.toml");
    let edited = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("steps = 5", "steps = 7");
    std::fs::write(&cfg, edited).unwrap();

    // The user runs again on the edited file: no job made with steps = 5 may be kept.
    let o = toy(&out, &["--config", cfg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(counts(&o), (4, 0, 0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("made with another config"),
        "{}",
        text(&o)
    );
    let samples = rows(&RunDir::new(&out), "samples");
    assert_eq!(samples.len(), 4 * 7);
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "4"
    );

    // And running the same command again now resumes everything.
    let o = toy(&out, &["--config", cfg.to_str().unwrap()]);
    assert_eq!(counts(&o), (0, 4, 0), "{}", text(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn an_empty_or_damaged_config_toml_is_refused() {
    for damage in ["", "\n  \n", "[run\nseeds = ", "\u{0}\u{1}binary"] {
        let out = temp_dir("damaged");
        let o = toy(&out, &["--seeds", "2"]);
        assert!(o.status.success(), "{}", text(&o));
        std::fs::write(out.join("config.toml"), damage).unwrap();
        for args in [
            vec!["--seeds", "2"],
            vec!["--config", out.join("config.toml").to_str().unwrap()],
        ] {
            let o = toy(&out, &args);
            assert_eq!(
                o.status.code(),
                Some(2),
                "{damage:?} {args:?}: {}",
                text(&o)
            );
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(err.contains("config.toml"), "{damage:?}: {err}");
            // The parts of the earlier run were not touched.
            assert_eq!(std::fs::read_dir(out.join("summary")).unwrap().count(), 2);
        }
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn a_different_config_is_refused_naming_the_key() {
    let out = temp_dir("differs");
    assert!(toy(&out, &["--seeds", "2"]).status.success());
    let o = toy(&out, &["--seeds", "2", "--set", "toy.steps=3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("toy.steps is 10 there, 3 here"), "{err}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_record_without_parts_or_for_another_job_is_not_trusted() {
    let out = temp_dir("records");
    assert!(toy(&out, &["--seeds", "3"]).status.success());
    let rec = out.join("_done/job-000001.toml");
    let text1 = std::fs::read_to_string(&rec).unwrap();
    let start = text1.find("[[parts]]").unwrap();
    std::fs::write(&rec, format!("{}parts = []\n", &text1[..start])).unwrap();
    // Job 2's record claims to be job 2 but names job 0's seed.
    let rec2 = out.join("_done/job-000002.toml");
    let text2 = std::fs::read_to_string(&rec2).unwrap();
    std::fs::write(&rec2, text2.replace("seed = \"1002\"", "seed = \"1000\"")).unwrap();
    // A record that points outside its run directory.
    let rec0 = out.join("_done/job-000000.toml");
    let text0 = std::fs::read_to_string(&rec0).unwrap();
    std::fs::write(
        &rec0,
        text0.replacen("table = \"samples\"", "table = \"../..\"", 1),
    )
    .unwrap();

    let o = toy(&out, &["--seeds", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(counts(&o), (3, 0, 0), "{}", text(&o));
    let summary = rows(&RunDir::new(&out), "summary");
    assert_eq!(summary, vec![(0, 1000), (1, 1001), (2, 1002)]);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn figures_and_collect_read_recorded_jobs_only() {
    let out = temp_dir("recorded");
    assert!(toy(&out, &["--seeds", "3"]).status.success());
    // A stray part without a record, and a job whose record is gone.
    std::fs::copy(
        out.join("summary/job-000000.parquet"),
        out.join("summary/job-000007.parquet"),
    )
    .unwrap();
    std::fs::remove_file(out.join("_done/job-000002.toml")).unwrap();

    let o = toy(&out, &["--redraw"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("finish.txt")).unwrap(),
        "2"
    );
    assert_eq!(
        rows(&RunDir::new(&out), "summary"),
        vec![(0, 1000), (1, 1001)]
    );

    let o = collect(&out);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!out.join("summary.parquet").exists());
    let record = std::fs::read_to_string(out.join("collect.toml")).unwrap();
    assert!(record.contains("status = \"incomplete\""), "{record}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn merged_tables_do_not_outlive_a_change_of_the_jobs() {
    let out = temp_dir("stale");
    assert!(toy(&out, &["--seeds", "3"]).status.success());
    let o = collect(&out);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        read_parquet(&out.join("summary.parquet")).unwrap()[0].num_rows(),
        3
    );

    // A job is lost and the sweep runs it again: the merged tables are no longer the run's.
    std::fs::remove_file(out.join("_done/job-000001.toml")).unwrap();
    let o = toy(&out, &["--seeds", "3"]);
    assert_eq!(counts(&o), (1, 2, 0), "{}", text(&o));
    assert!(!out.join("summary.parquet").exists());
    assert!(!out.join("collect.toml").exists());

    assert!(collect(&out).status.success());
    let o = toy(&out, &["--seeds", "3", "--restart"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!out.join("summary.parquet").exists());
    assert!(!out.join("collect.toml").exists());
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn three_processes_on_one_run_directory_run_every_job_exactly_once() {
    let out = temp_dir("three");
    let n = 12;
    let args = [
        "--seeds",
        "12",
        "--threads",
        "1",
        "--set",
        "toy.sleep_ms=150",
    ];
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(TOY)
                .arg("--out")
                .arg(&out)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let mut ran = 0;
    for o in &outputs {
        assert!(o.status.success(), "{}", text(o));
        let (now, done, others) = counts(o);
        assert_eq!(now + done + others, n, "{}", text(o));
        ran += now;
    }
    assert_eq!(ran, n, "every job exactly once");
    // Nothing was deleted: every job is recorded and intact, and collect merges all of them.
    let summary = rows(&RunDir::new(&out), "summary");
    let expected: Vec<(u64, u64)> = (0..n as u64).map(|j| (j, 1000 + j)).collect();
    assert_eq!(summary, expected);
    let o = collect(&out);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn collect_refuses_while_a_sweep_is_running_and_suggests_no_resubmission() {
    let out = temp_dir("busy");
    let mut sweep = Command::new(TOY)
        .arg("--out")
        .arg(&out)
        .args([
            "--seeds",
            "4",
            "--threads",
            "1",
            "--set",
            // Longer than collect's patience for the lock (3 s).
            "toy.sleep_ms=2500",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !out.join("manifest.toml").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the sweep never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = collect(&out);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("in use by another process"));
    assert!(!String::from_utf8_lossy(&o.stdout).contains("re-run"));
    assert!(sweep.wait().unwrap().success());
    let o = collect(&out);
    assert!(o.status.success(), "{}", text(&o));
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn two_runs_of_different_configs_never_share_a_fresh_directory() {
    for round in 0..5 {
        let out = temp_dir(&format!("race-{round}"));
        let spawn = |steps: &str| {
            Command::new(TOY)
                .arg("--out")
                .arg(&out)
                .args(["--seeds", "2", "--set", &format!("toy.steps={steps}")])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn("3"), spawn("4"));
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let ok: Vec<&Output> = [&a, &b]
            .into_iter()
            .filter(|o| o.status.success())
            .collect();
        assert_eq!(
            ok.len(),
            1,
            "exactly one run owns the directory:\n{}\n{}",
            text(&a),
            text(&b)
        );
        let refused = if a.status.success() { &b } else { &a };
        assert_eq!(refused.status.code(), Some(2), "{}", text(refused));
        // The directory's rows are those of its config.toml.
        let steps = if std::fs::read_to_string(out.join("config.toml"))
            .unwrap()
            .contains("steps = 3")
        {
            3
        } else {
            4
        };
        assert_eq!(rows(&RunDir::new(&out), "samples").len(), 2 * steps);
        std::fs::remove_dir_all(&out).unwrap();
    }
}
