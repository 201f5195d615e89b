//! The `--from-checkpoint` example of docs/guide.md works as written (on a small config): a run that
//! saves its networks, then a disrupted replay of one of them loaded with the first run's own
//! `config.toml` (which carries `run.save_trained = true`).

use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_exp-birdsong");

#[test]
fn from_checkpoint_example_replays_a_saved_network() {
    let base = std::env::temp_dir().join(format!("elise-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let (saved, disrupted) = (base.join("saved"), base.join("disrupted"));
    let run = |args: &[&str]| {
        let o = Command::new(BIN)
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(&[
        "--set",
        "run.save_trained=true",
        "--seeds",
        "1",
        "--set",
        "train.cycles=40",
        "--set",
        "train.validate_every=20",
        "--set",
        "replay.cycles=6",
        "--out",
        saved.to_str().unwrap(),
    ]);
    let config = saved.join("config.toml");
    let ckpt = saved.join("networks/job-000000.ckpt");
    run(&[
        "--config",
        config.to_str().unwrap(),
        "--from-checkpoint",
        ckpt.to_str().unwrap(),
        "--set",
        "replay.disruption_file=\"../../data/disruptions/full.txt\"",
        "--out",
        disrupted.to_str().unwrap(),
    ]);
    assert!(disrupted.join("_done/job-000000.toml").is_file());
    assert!(disrupted.join("birdsong.png").is_file());
    std::fs::remove_dir_all(&base).unwrap();
}
