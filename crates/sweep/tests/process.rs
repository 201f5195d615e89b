//! Process-level crash safety of the harness, with the real binary `elise-sweep-toy` (the
//! harness around a tiny experiment): a sweep killed with SIGKILL at random moments and resumed
//! each time ends with exactly the rows of an uninterrupted sweep; SIGTERM and SIGINT stop a
//! sweep cleanly (manifest "interrupted", exit code 143 / 130) and the sweep resumes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use elise_sweep::arrow_array::{RecordBatch, UInt64Array};
use elise_sweep::{RunDir, column, read_parquet, read_parquet_metadata};

const TOY: &str = env!("CARGO_BIN_EXE_elise-sweep-toy");

fn temp_dir(tag: &str) -> PathBuf {
    elise_sweep::testing::fresh_temp_path(&format!("sweep-proc-{tag}"))
}

fn toy(out: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(TOY);
    cmd.arg("--out").arg(out).args(args);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

fn collect(out: &Path) -> std::process::Output {
    Command::new(TOY)
        .args(["collect", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

fn done_records(out: &Path) -> usize {
    std::fs::read_dir(out.join("_done"))
        .map(|d| {
            d.filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".toml"))
            })
            .count()
        })
        .unwrap_or(0)
}

/// SplitMix64: the test's seeded random delays.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("process did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn merged(out: &Path, table: &str) -> Vec<RecordBatch> {
    read_parquet(&out.join(format!("{table}.parquet"))).unwrap()
}

fn jobs_of(batches: &[RecordBatch]) -> Vec<u64> {
    batches
        .iter()
        .flat_map(|b| column::<UInt64Array>(b, "job").unwrap().values().to_vec())
        .collect()
}

#[test]
fn sigkill_at_random_moments_then_resume_gives_exactly_the_uninterrupted_rows() {
    let sweep = [
        "--seeds",
        "24",
        "--set",
        "toy.steps=40",
        "--set",
        "toy.sleep_ms=60",
        "--threads",
        "2",
    ];
    let reference = temp_dir("kill-ref");
    assert!(toy(&reference, &sweep).status().unwrap().success());
    assert!(collect(&reference).status.success());

    let out = temp_dir("kill");
    let mut rng = 0x5eed_2026_u64;
    let mut progress = Vec::new();
    for _ in 0..6 {
        let mut child = toy(&out, &sweep).spawn().unwrap();
        let delay = 60 + splitmix(&mut rng) % 400;
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL (no effect if the run had already ended)
        let status = wait_with_timeout(&mut child, Duration::from_secs(30));
        progress.push((delay, done_records(&out), status.code()));
        // Whatever the kill left, `collect` trusts only jobs with an intact record and parts:
        // it either merges all 24 jobs or reports the rest as missing, never a partial part.
        let c = collect(&out);
        let text = String::from_utf8_lossy(&c.stdout);
        assert!(
            text.contains(&format!("{} of 24 jobs complete", done_records(&out))),
            "{text}"
        );
    }
    eprintln!("kills (delay ms, finished jobs, exit code): {progress:?}");
    let mid_run = progress
        .iter()
        .filter(|&&(_, n, code)| n < 24 && code.is_none())
        .count();
    assert!(
        mid_run >= 2,
        "fewer than two kills landed in the middle of the sweep: {progress:?}"
    );
    let status = toy(&out, &sweep).status().unwrap();
    assert!(status.success(), "final resume failed: {status}");
    let c = collect(&out);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stdout));

    for table in ["samples", "summary"] {
        let want = merged(&reference, table);
        let got = merged(&out, table);
        // Row for row: same columns, same values, same order (both merged files are read in
        // batches of the same size, so the batches line up).
        let cols = |bs: &[RecordBatch]| bs.iter().map(|b| b.columns().to_vec()).collect::<Vec<_>>();
        assert_eq!(cols(&got), cols(&want), "table {table}");
        assert_eq!(got[0].schema().fields(), want[0].schema().fields());
        assert_eq!(
            RunDir::new(&out).read_table(table).unwrap(),
            RunDir::new(&reference).read_table(table).unwrap(),
            "table {table}: parts differ"
        );
    }
    // No loss, no duplicates: every job exactly once.
    assert_eq!(
        jobs_of(&merged(&out, "summary")),
        (0..24).collect::<Vec<u64>>()
    );
    let files = walk(&out);
    assert!(
        !files.iter().any(|f| f.ends_with(".tmp")),
        "temporary files left: {files:?}"
    );
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::remove_dir_all(&reference).unwrap();
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

fn manifest(path: &Path) -> toml::Table {
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn interrupt_and_resume(signal: &str, code: i32) {
    let out = temp_dir(&format!("sig{signal}"));
    let sweep = [
        "--seeds",
        "10",
        "--set",
        "toy.sleep_ms=300",
        "--threads",
        "2",
    ];
    let mut child = toy(&out, &sweep).spawn().unwrap();
    let t0 = Instant::now();
    while done_records(&out) < 2 {
        assert!(t0.elapsed() < Duration::from_secs(30), "no job finished");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(code), "exit status {status}");
    // The sweep stopped at once: it did not wait for the abandoned jobs to finish.
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t0.elapsed()
    );

    let m = manifest(&out.join("manifest.toml"));
    assert_eq!(m["status"].as_str(), Some("interrupted"));
    assert_eq!(m["signal"].as_str(), Some(signal_name(signal)));
    let n_ok = m["n_ok"].as_integer().unwrap() as usize;
    let not_run = m["not_run"].as_array().map_or(0, Vec::len);
    let abandoned = m["abandoned"].as_array().map_or(0, Vec::len);
    assert!(n_ok >= 2 && not_run > 0, "{m}");
    assert_eq!(n_ok + not_run + abandoned, 10, "{m}");
    // The finished jobs are intact and kept; the rest is redone by the next run.
    assert!(done_records(&out) >= n_ok);
    let status = toy(&out, &sweep).status().unwrap();
    assert!(status.success());
    let m = manifest(&out.join("manifest.toml"));
    assert_eq!(m["status"].as_str(), Some("finished"));
    assert!(m["n_resumed"].as_integer().unwrap() as usize >= n_ok);
    assert_eq!(m["n_ok"].as_integer(), Some(10));
    let parts = RunDir::new(&out).table_parts("summary").unwrap();
    assert_eq!(parts.len(), 10);
    let kv = read_parquet_metadata(&parts[0]).unwrap();
    assert!(kv.iter().any(|(k, _)| k == "elise.run_id"));
    std::fs::remove_dir_all(&out).unwrap();
}

fn signal_name(signal: &str) -> &'static str {
    match signal {
        "TERM" => "SIGTERM",
        _ => "SIGINT",
    }
}

#[test]
fn sigterm_stops_cleanly_with_exit_code_143_and_the_sweep_resumes() {
    interrupt_and_resume("TERM", 143);
}

#[test]
fn sigint_stops_cleanly_with_exit_code_130_and_the_sweep_resumes() {
    interrupt_and_resume("INT", 130);
}

#[test]
fn the_sbatch_templates_run_their_shards_and_collect() {
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/slurm");
    let dir = temp_dir("template");
    std::fs::create_dir_all(&dir).unwrap();
    let listing = Command::new(TOY)
        .args(["--seeds", "8", "--list"])
        .output()
        .unwrap();
    assert!(listing.status.success());
    let config = dir.join("config.toml");
    std::fs::write(&config, &listing.stdout).unwrap();
    let out = dir.join("run");
    let task = |id: usize| {
        // As if submitted with --array=4-7 and each task re-submitted on its own
        // (SLURM_ARRAY_TASK_MIN = its own id): the base written in the script decides.
        let status = Command::new("bash")
            .arg(templates.join("sweep-array.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", id.to_string())
            .env("SLURM_ARRAY_TASK_MIN", id.to_string())
            .env("SLURM_CPUS_PER_TASK", "1")
            .env("SHARDS", "4")
            .env("ARRAY_BASE", "4")
            .env("BIN", TOY)
            .env("CONFIG", &config)
            .env("OUT", &out)
            .env("RUN_ID", "template-test")
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "task {id}: {status}");
    };
    let collect_template = || {
        Command::new("bash")
            .arg(templates.join("collect.sbatch"))
            .env("BIN", TOY)
            .env("OUT", &out)
            .env("RUN_ID", "template-test")
            .output()
            .unwrap()
    };
    task(5);
    task(6);
    for k in [1, 2] {
        let m = manifest(&out.join(format!("manifest-shard-{k}-of-4.toml")));
        assert_eq!(m["n_jobs"].as_integer(), Some(2), "{m}");
        assert_eq!(m["threads"].as_integer(), Some(1), "{m}");
        assert_eq!(m["run_id"].as_str(), Some("template-test"));
    }
    let c = collect_template();
    let report = String::from_utf8_lossy(&c.stdout);
    assert_eq!(c.status.code(), Some(1), "{report}");
    assert!(report.contains("4 of 8 jobs complete"), "{report}");
    task(4);
    task(7);
    let c = collect_template();
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stdout));
    assert_eq!(
        jobs_of(&merged(&out, "summary")),
        (0..8).collect::<Vec<u64>>()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
