//! Input files as a user meets them, through the real binary:
//! - a FIFO, /dev/zero, a directory, a symlink to /dev/zero and an oversized file at every key
//!   that names an input file fail fast (never hang) with one error naming the key, the file
//!   and what it is;
//! - a pattern file changed between two shards, or before a resume, is refused with a message
//!   naming the input and both hashes (never a mixed run);
//! - `collect`, `--redraw` and a Slurm-style array task (`--config <run dir>/config.toml`) work
//!   from another working directory with a relative pattern path (even after the original file
//!   is gone): they read the run's copy;
//! - a corrupt (or special) own checkpoint `_checkpoints/job-000000.ckpt` is ignored with a
//!   warning and the job recomputes the rows of a clean run.

use elise_sweep::arrow_array::RecordBatch;
use elise_sweep::{RunDir, run_cli};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_exp-birdsong");

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elise-inputs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(x: &str) -> String {
    x.to_owned()
}

/// A tiny run: 10 latent neurons, 2 training cycles, 5 replay cycles, no traces.
fn tiny() -> Vec<String> {
    [
        "--set",
        "network.n_latent=10",
        "--set",
        "train.cycles=2",
        "--set",
        "replay.cycles=5",
        "--set",
        "output.traces=false",
        "--seeds",
        "2",
        "--threads",
        "1",
    ]
    .map(s)
    .to_vec()
}

/// Runs the binary in `cwd`, killing it (and failing) after `secs` seconds.
fn run_bin(cwd: &Path, args: &[String], secs: u64) -> Output {
    let child = Command::new(EXE)
        .args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("exp-birdsong {args:?} did not finish within {secs} s (blocked on an input?)");
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// All batches of a table without the wall-clock columns.
fn table(dir: &Path, name: &str) -> Vec<RecordBatch> {
    RunDir::new(dir)
        .read_table(name)
        .unwrap()
        .into_iter()
        .map(|b| {
            let keep: Vec<usize> = (0..b.num_columns())
                .filter(|&k| {
                    !matches!(
                        b.schema().field(k).name().as_str(),
                        "wall_seconds" | "steps_per_second"
                    )
                })
                .collect();
            b.project(&keep).unwrap()
        })
        .collect()
}

/// Für Elise with the first note of neuron 0 moved (same shape, other content).
fn changed_pattern() -> String {
    let text = elise_core::pattern::FUER_ELISE_TEXT;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    let flipped: Vec<&str> = row
        .iter()
        .enumerate()
        .map(|(k, v)| match (k, *v) {
            (0, "0") => "1",
            (0, _) => "0",
            (_, v) => v,
        })
        .collect();
    lines[1] = flipped.join(" ");
    lines.join("\n") + "\n"
}

#[test]
fn special_files_fail_fast_at_every_input_key() {
    let dir = temp_dir("special");
    let fifo = dir.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let link = dir.join("zero-link");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let huge = dir.join("huge.bin");
    // Sparse: 1 TiB of nothing, larger than any input's bound.
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let specials: [(PathBuf, &str); 5] = [
        (fifo, "not a regular file (a FIFO)"),
        (
            PathBuf::from("/dev/zero"),
            "not a regular file (a character device)",
        ),
        (dir.join("a-directory"), "not a regular file (a directory)"),
        (link, "not a regular file (a symlink to a character device)"),
        (huge, "larger than "),
    ];
    std::fs::create_dir_all(dir.join("a-directory")).unwrap();
    let keys = [
        "pattern.file",
        "pattern.second_file",
        "pattern.annotation_file",
        "replay.disruption_file",
        "run.from_checkpoint",
    ];
    let mut n = 0;
    for key in keys {
        for (path, kind) in &specials {
            let out = dir.join("run");
            let p = path.display().to_string();
            let mut args = match key {
                "run.from_checkpoint" => vec![s("--from-checkpoint"), p.clone()],
                _ => vec![s("--set"), format!("{key}={p:?}")],
            };
            args.extend([s("--out"), out.display().to_string()]);
            let t0 = Instant::now();
            let output = run_bin(&dir, &args, 30);
            let err = stderr(&output);
            let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
            assert_eq!(output.status.code(), Some(2), "{key} = {p}: {err}");
            assert_eq!(errors.len(), 1, "{key} = {p}: {err}");
            assert!(
                errors[0].starts_with(&format!("error: {key} = '{p}': ")) && err.contains(kind),
                "{key} = {p}: {err}"
            );
            assert!(err.contains("expected "), "{err}");
            assert!(!out.exists(), "{key} = {p}: run directory created");
            assert!(t0.elapsed() < Duration::from_secs(20), "{key} = {p}: slow");
            n += 1;
        }
    }
    assert_eq!(n, 25);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_pattern_is_refused_between_shards_and_before_a_resume() {
    let dir = temp_dir("changed");
    let pattern = dir.join("p.txt");
    std::fs::write(&pattern, elise_core::pattern::FUER_ELISE_TEXT).unwrap();
    let out = dir.join("run");
    let with = |extra: &[&str]| {
        let mut a = tiny();
        a.extend([
            s("--pattern"),
            pattern.display().to_string(),
            s("--out"),
            out.display().to_string(),
        ]);
        a.extend(extra.iter().map(|x| s(x)));
        a
    };
    assert!(
        run_cli(&exp_birdsong::experiment(), &with(&["--shard", "0/2"]))
            .unwrap()
            .success()
    );
    let old = elise_sweep::fnv1a_64(elise_core::pattern::FUER_ELISE_TEXT.as_bytes());
    let changed = changed_pattern();
    std::fs::write(&pattern, &changed).unwrap();
    let new = elise_sweep::fnv1a_64(changed.as_bytes());
    for extra in [&["--shard", "1/2"][..], &[]] {
        let e = run_cli(&exp_birdsong::experiment(), &with(extra))
            .unwrap_err()
            .to_string();
        for needle in [
            "holds a run with a different config".to_owned(),
            format!("input '{}' (pattern.file) changed", pattern.display()),
            format!("fnv1a64 {old:016x}"),
            format!("{new:016x}"),
        ] {
            assert!(e.contains(&needle), "{needle}: {e}");
        }
    }
    // Never a mixed run: job 1 (shard 1) did not run.
    assert_eq!(table(&out, "runs").len(), 1);
    assert!(!out.join("_done").join("job-000001.toml").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn collect_redraw_and_array_tasks_work_from_another_directory() {
    let dir = temp_dir("elsewhere");
    let work = dir.join("work");
    let other = dir.join("other");
    std::fs::create_dir_all(work.join("patterns")).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    let changed = changed_pattern();
    std::fs::write(work.join("patterns").join("p.txt"), &changed).unwrap();
    // Shard 0 from the working directory, with a relative pattern path and run directory.
    let mut a = tiny();
    a.extend(
        [
            "--pattern",
            "patterns/p.txt",
            "--out",
            "run",
            "--shard",
            "0/2",
        ]
        .map(s),
    );
    let out = run_bin(&work, &a, 300);
    assert!(out.status.success(), "{}", stderr(&out));
    let run = work.join("run");
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    let hash = format!("{:016x}", elise_sweep::fnv1a_64(changed.as_bytes()));
    assert!(
        config.contains("[inputs.\"patterns/p.txt\"]")
            && config.contains(&format!("fnv1a64 = \"{hash}\""))
            && config.contains("file = \"patterns/p.txt\""),
        "{config}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("inputs").join(&hash)).unwrap(),
        changed
    );
    // The pattern file goes away; everything else runs from another directory.
    std::fs::remove_dir_all(work.join("patterns")).unwrap();
    let abs = run.canonicalize().unwrap().display().to_string();
    // A Slurm array task: the run's config.toml and --out, from elsewhere.
    let task = [
        "--config",
        &format!("{abs}/config.toml"),
        "--out",
        &abs,
        "--shard",
        "1/2",
    ]
    .map(s);
    let out = run_bin(&other, &task, 300);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run_bin(&other, &["collect", "--out", &abs].map(s), 300);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run.join("birdsong.png").exists() && run.join("runs.parquet").exists());
    std::fs::remove_file(run.join("birdsong.png")).unwrap();
    let out = run_bin(&other, &["--redraw", "--out", &abs].map(s), 300);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(run.join("birdsong.png").exists());
    // Both shards' jobs are there.
    assert_eq!(table(&run, "runs").len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_corrupt_own_checkpoint_is_ignored_and_the_job_recomputes() {
    let dir = temp_dir("corrupt-ckpt");
    let args = |out: &Path| {
        let mut a = [
            "--set",
            "network.n_latent=6",
            "--set",
            "train.cycles=60",
            "--set",
            "train.validate_every=20",
            "--set",
            "replay.cycles=6",
            "--seeds",
            "1",
            "--checkpoint-every",
            "25",
            "--threads",
            "1",
        ]
        .map(s)
        .to_vec();
        a.extend([s("--out"), out.display().to_string()]);
        a
    };
    let clean = dir.join("clean");
    assert!(run_bin(&dir, &args(&clean), 300).status.success());
    let run = dir.join("run");
    assert!(run_bin(&dir, &args(&run), 300).status.success());
    let ckpt = run.join("_checkpoints").join("job-000000.ckpt");
    let garbage: Vec<u8> = (0..5000u32).map(|k| (k * 7919 % 251) as u8).collect();
    let mut damaged = elise_dynamics::checkpoint::MAGIC.to_vec();
    damaged.extend_from_slice(&garbage);
    for (what, needle) in [
        ("garbage", "not an elise-lab checkpoint"),
        ("damaged", "ignoring the job's checkpoint"),
        ("fifo", "not a regular file (a FIFO)"),
    ] {
        // As if the job had been killed: no completion record, a checkpoint left behind.
        std::fs::remove_file(run.join("_done").join("job-000000.toml")).unwrap();
        std::fs::create_dir_all(ckpt.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&ckpt);
        match what {
            "garbage" => std::fs::write(&ckpt, &garbage).unwrap(),
            "damaged" => std::fs::write(&ckpt, &damaged).unwrap(),
            _ => assert!(
                Command::new("mkfifo")
                    .arg(&ckpt)
                    .status()
                    .unwrap()
                    .success()
            ),
        }
        let out = run_bin(&dir, &args(&run), 300);
        let err = stderr(&out);
        assert!(out.status.success(), "{what}: {err}");
        assert!(
            err.contains("WARN") && err.contains(needle) && err.contains("from the beginning"),
            "{what}: {err}"
        );
        for name in ["runs", "curves", "traces"] {
            assert_eq!(
                table(&clean, name),
                table(&run, name),
                "{what}: table {name} differs from the clean run"
            );
        }
        assert!(!ckpt.exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
