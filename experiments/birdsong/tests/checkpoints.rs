//! Checkpoints through the real command line at a small size:
//! - a run killed (SIGKILL) in the middle of training and started again resumes its jobs from
//!   their checkpoints and writes exactly the rows of an uninterrupted run;
//! - `run.save_trained` + `--from-checkpoint` replays a saved network without training: the same
//!   rows as the original run, or disrupted;
//! - a network that blows up numerically fails its job with an error naming the cycle and the
//!   parameters, and the other jobs of the sweep finish.

use elise_sweep::arrow_array::RecordBatch;
use elise_sweep::{RunDir, run_cli};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn out_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("elise-ckpt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// All batches of a table without the wall-clock columns.
fn table(dir: &Path, name: &str) -> Vec<RecordBatch> {
    let batches = RunDir::new(dir).read_table(name).unwrap();
    assert!(!batches.is_empty(), "{name} is empty");
    batches
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

fn same_tables(a: &Path, b: &Path) {
    for name in ["runs", "curves", "traces"] {
        assert_eq!(table(a, name), table(b, name), "table {name} differs");
    }
}

const SMALL: [&str; 10] = [
    "--set",
    "network.n_latent=10",
    "--set",
    "train.cycles=400",
    "--set",
    "train.validate_every=20",
    "--set",
    "replay.cycles=6",
    "--threads",
    "1",
];

#[test]
fn killed_run_resumes_from_checkpoints_with_identical_rows() {
    let exe = env!("CARGO_BIN_EXE_exp-birdsong");
    let mut common = args(&SMALL);
    common.extend(args(&["--seeds", "2", "--checkpoint-every", "25"]));

    let reference = out_dir("uninterrupted");
    let mut a = common.clone();
    a.extend(args(&["--out", reference.to_str().unwrap()]));
    let summary = run_cli(&exp_birdsong::experiment(), &a).unwrap();
    assert!(summary.success(), "{summary:?}");
    // Checkpoints are gone once the parts are written.
    let ckpts = reference.join("_checkpoints");
    assert!(!ckpts.exists() || std::fs::read_dir(&ckpts).unwrap().next().is_none());

    let killed = out_dir("killed");
    let mut b = common.clone();
    b.extend(args(&["--out", killed.to_str().unwrap()]));
    // Kill twice in the middle of training, each time once a newer checkpoint is on disk.
    let ckpt = killed.join("_checkpoints").join("job-000000.ckpt");
    let mut last_cycle = -1;
    for round in 0..2 {
        let mut child = Command::new(exe)
            .args(&b)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        loop {
            let cycle = elise_dynamics::checkpoint::Checkpoint::load(&ckpt)
                .ok()
                .and_then(|c| c.train)
                .map_or(-1, |t| t.next_cycle);
            if cycle > last_cycle && cycle < 400 {
                last_cycle = cycle;
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the run ended before a new checkpoint was seen"
            );
            assert!(t0.elapsed() < Duration::from_secs(120), "no checkpoint");
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(ckpt.exists());
        assert!(
            !killed.join("_done").join("job-000000.toml").exists(),
            "job 0 finished before the kill"
        );
    }
    // The rerun resumes job 0 from its checkpoint (in-process: the same code as the binary).
    let resumed = run_cli(&exp_birdsong::experiment(), &b).unwrap();
    assert!(resumed.success(), "{resumed:?}");
    assert!(
        !ckpt.exists(),
        "the checkpoint is removed once the job's parts are written"
    );
    same_tables(&reference, &killed);
    let _ = std::fs::remove_dir_all(&reference);
    let _ = std::fs::remove_dir_all(&killed);
}

#[test]
fn saved_network_replays_without_training_and_can_be_disrupted() {
    let original = out_dir("save");
    let mut a = args(&SMALL);
    a.extend(args(&[
        "--seeds",
        "2",
        "--set",
        "run.save_trained=true",
        "--out",
        original.to_str().unwrap(),
    ]));
    assert!(run_cli(&exp_birdsong::experiment(), &a).unwrap().success());
    let saved = original.join("networks").join("job-000001.ckpt");
    assert!(saved.exists());
    let kib = std::fs::metadata(&saved).unwrap().len() / 1024;
    assert!((10..10_000).contains(&kib), "{kib} KiB");

    // Replay only: one job, seed of the file, the rows of job 1 of the original run.
    let replayed = out_dir("replayed");
    let mut b = args(&SMALL);
    b.extend(args(&[
        "--from-checkpoint",
        saved.to_str().unwrap(),
        "--out",
        replayed.to_str().unwrap(),
    ]));
    let t0 = Instant::now();
    let summary = run_cli(&exp_birdsong::experiment(), &b).unwrap();
    assert!(summary.success() && summary.n_jobs() == 1, "{summary:?}");
    let replay_seconds = t0.elapsed().as_secs_f64();
    let job1 = |dir: &Path, name: &str| -> Vec<RecordBatch> {
        use elise_sweep::arrow_array::UInt64Array;
        table(dir, name)
            .into_iter()
            .filter(|t| {
                let seed = elise_sweep::column::<UInt64Array>(t, "seed").unwrap();
                !seed.is_empty() && seed.value(0) == 12346
            })
            .map(|t| {
                // Job index and replicate differ (1 there, 0 here).
                let keep: Vec<usize> = (0..t.num_columns())
                    .filter(|&k| {
                        !matches!(t.schema().field(k).name().as_str(), "job" | "replicate")
                    })
                    .collect();
                t.project(&keep).unwrap()
            })
            .collect()
    };
    for name in ["runs", "curves", "traces"] {
        assert_eq!(
            job1(&original, name),
            job1(&replayed, name),
            "{name}: replay of the saved network differs from the original run"
        );
    }

    // Disrupted replay of the same network (somas of states 9-14 held at -55 mV in replay
    // cycle 4): cycle 4 differs, the validation curve does not.
    let disrupted = out_dir("disrupted");
    let small = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/disruptions/small_offset.txt"
    );
    let mut c = args(&SMALL);
    c.extend(args(&[
        "--from-checkpoint",
        saved.to_str().unwrap(),
        "--set",
        &format!("replay.disruption_file={small:?}"),
        "--out",
        disrupted.to_str().unwrap(),
    ]));
    assert!(run_cli(&exp_birdsong::experiment(), &c).unwrap().success());
    let curves = |dir: &Path| {
        use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray};
        let mut out = Vec::new();
        for b in table(dir, "curves") {
            let phase = elise_sweep::column::<StringArray>(&b, "phase").unwrap();
            let cycle = elise_sweep::column::<Int64Array>(&b, "cycle").unwrap();
            let mse = elise_sweep::column::<Float64Array>(&b, "mse").unwrap();
            for k in 0..b.num_rows() {
                out.push((phase.value(k).to_owned(), cycle.value(k), mse.value(k)));
            }
        }
        out
    };
    let (plain, hit) = (curves(&replayed), curves(&disrupted));
    let val = |c: &[(String, i64, f64)]| -> Vec<(String, i64, f64)> {
        c.iter().filter(|p| p.0 == "validation").cloned().collect()
    };
    assert_eq!(val(&plain), val(&hit));
    let at =
        |c: &[(String, i64, f64)], k| c.iter().find(|p| p.0 == "replay" && p.1 == k).unwrap().2;
    // Scored replay cycle 3 spans cycles 3-4 (best shift into the next cycle): it sees the
    // disruption too; cycle 2 is nudged and not scored.
    assert_ne!(at(&hit, 4), at(&plain, 4));

    // A config that differs from the saving run's is refused before anything runs.
    let refused = out_dir("refused");
    let mut d = args(&SMALL);
    d.extend(args(&[
        "--from-checkpoint",
        saved.to_str().unwrap(),
        "--set",
        "network.n_latent=11",
        "--out",
        refused.to_str().unwrap(),
    ]));
    let e = run_cli(&exp_birdsong::experiment(), &d)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("run.from_checkpoint")
            && e.contains("network.n_latent = 10")
            && e.contains("this config has 11"),
        "{e}"
    );
    assert!(!refused.exists());
    eprintln!("replay from checkpoint: {replay_seconds:.2} s, checkpoint {kib} KiB");
    for d in [original, replayed, disrupted] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn a_blow_up_fails_its_job_with_cycle_and_parameters_and_the_sweep_goes_on() {
    let dir = out_dir("blowup");
    let mut a = args(&SMALL);
    a.extend(args(&[
        "--seeds",
        "1",
        "--set",
        "plasticity.eta_other=1.0",
        "--set",
        "plasticity.eta_vv=1.0",
        "--axis",
        "network.weight_init_std=0.5,1000",
        "--out",
        dir.to_str().unwrap(),
    ]));
    let summary = run_cli(&exp_birdsong::experiment(), &a)
        .and_then(elise_sweep::Outcome::into_run)
        .unwrap();
    assert_eq!((summary.n_ok, summary.n_failed), (1, 1), "{summary:?}");
    let failed = &summary.failed[0];
    assert_eq!(failed.index, 1);
    for needle in [
        "numerical blow-up",
        "stopped after training cycle ",
        "network.weight_init_std=1000",
        "plasticity.eta_other=1",
        "seed 12345",
    ] {
        assert!(failed.error.contains(needle), "{needle}: {}", failed.error);
    }
    let manifest = std::fs::read_to_string(dir.join("manifest.toml")).unwrap();
    assert!(manifest.contains("numerical blow-up"), "{manifest}");
    assert_eq!(table(&dir, "runs").len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
