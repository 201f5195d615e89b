//! Limits instead of hangs: absurd grids and thread counts are refused before anything runs,
//! with an error naming the key, and never panic or hang (the real binary `elise-sweep-toy`).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOY: &str = env!("CARGO_BIN_EXE_elise-sweep-toy");

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elise-sweep-limits-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs the toy binary and fails the test if it takes longer than 60 s (a hang).
fn toy(args: &[&str]) -> Output {
    let mut child = Command::new(TOY)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{args:?} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused(args: &[&str], needle: &str) {
    let o = toy(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn absurd_grids_are_refused_naming_the_axes() {
    let out = out_dir("grid");
    let o = out.to_str().unwrap();
    let values: Vec<String> = (1..=1000).map(|v| v.to_string()).collect();
    let axis = format!("toy.steps={}", values.join(","));
    // 1000 x 1000 x 8 jobs: more than one run directory holds.
    refused(
        &[
            "--out",
            o,
            "--axis",
            &axis,
            "--axis",
            &axis.replace("steps", "sleep_ms"),
        ],
        "jobs one run directory holds",
    );
    // Three axes of 1000 values: a billion points.
    refused(
        &[
            "--out",
            o,
            "--axis",
            &axis,
            "--axis",
            &axis.replace("steps", "sleep_ms"),
            "--axis",
            &axis.replace("steps", "fail_seed"),
        ],
        "toy.fail_seed (1000 values) x toy.sleep_ms (1000 values) x toy.steps (1000 values)",
    );
    assert!(!out.exists(), "nothing is written for a refused run");
}

#[test]
fn absurd_thread_counts_are_refused() {
    let out = out_dir("threads");
    let o = out.to_str().unwrap();
    refused(&["--out", o, "--threads", "0"], "--threads 0");
    refused(&["--out", o, "--threads", "1000000"], "at most 4096");
    refused(
        &["--out", o, "--threads", "99999999999999999999999"],
        "--threads",
    );
    // Many threads for few jobs: no thousands of idle threads, the run just works.
    let ok = toy(&["--out", o, "--threads", "4096", "--seeds", "2"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn nothing_from_a_flag_becomes_a_command_of_the_slurm_script() {
    let out = out_dir("slurm");
    let o = out.to_str().unwrap();
    for (flag, value) in [
        ("--time", "1:00\ntouch injected"),
        ("--mem", "4G; touch injected"),
        ("--partition", "gpu$(touch injected)"),
        ("--account", "lab`touch injected`"),
        ("--time", ""),
    ] {
        refused(&["slurm", "--out", o, "--dry-run", flag, value], flag);
    }
    refused(
        &[
            "slurm",
            "--out",
            o,
            "--dry-run",
            "--run-id",
            "x;touch injected",
        ],
        "--run-id",
    );
    assert!(!out.exists());
    // Well-formed values are accepted and written as they are.
    let ok = toy(&[
        "slurm",
        "--out",
        o,
        "--dry-run",
        "--time",
        "1-02:00:00",
        "--mem",
        "8G",
        "--partition",
        "short,long",
        "--account",
        "lab_1",
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let script = std::fs::read_to_string(out.join("slurm/array.sh")).unwrap();
    assert!(script.contains("#SBATCH --time=1-02:00:00\n"), "{script}");
    assert!(
        script.contains("#SBATCH --partition=short,long\n"),
        "{script}"
    );
    std::fs::remove_dir_all(&out).unwrap();
}
