//! Hostile inputs through the real binary: every bad config, pattern, disruption and checkpoint
//! gives one clear error (naming the key, file or line and what was expected), a non-zero exit
//! code, no panic, and no run directory. `cargo test -p exp-birdsong --test bad_inputs --
//! --nocapture` prints the table of docs/guide.md ("Errors").

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    what: &'static str,
    args: Vec<String>,
    /// Every needle must appear in stderr.
    needles: Vec<String>,
}

fn s(x: &str) -> String {
    x.to_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.display().to_string()
}

fn set(kv: &str) -> Vec<String> {
    vec![s("--set"), s(kv)]
}

/// A real trained checkpoint (tiny run) to corrupt.
fn checkpoint(dir: &Path) -> PathBuf {
    let out = dir.join("trained");
    let args: Vec<String> = [
        "--seeds",
        "1",
        "--set",
        "network.n_latent=4",
        "--set",
        "train.cycles=2",
        "--set",
        "replay.cycles=5",
        "--set",
        "run.save_trained=true",
        "--set",
        "output.traces=false",
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|x| s(x))
    .collect();
    let summary = elise_sweep::run_cli(&exp_birdsong::experiment(), &args).unwrap();
    assert!(summary.success());
    out.join("networks").join("job-000000.ckpt")
}

fn cases(dir: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let mut add = |what: &'static str, args: Vec<String>, needles: &[&str]| {
        v.push(Case {
            what,
            args,
            needles: needles.iter().map(|x| s(x)).collect(),
        });
    };
    // Config keys and types.
    add(
        "unknown key (--set)",
        set("network.n_latnt=5"),
        &["n_latnt"],
    );
    let f = write(dir, "unknown.toml", b"[network]\nlatent = 3\n");
    add(
        "unknown key in a config file",
        vec![s("--config"), f.clone()],
        &["network.latent", "unknown.toml"],
    );
    let f = write(dir, "section.toml", b"[netwrk]\nn_latent = 3\n");
    add(
        "unknown section in a config file",
        vec![s("--config"), f],
        &["netwrk"],
    );
    add(
        "string for an integer",
        set("network.n_latent=\"ten\""),
        &["network.n_latent", "integer"],
    );
    let f = write(dir, "type.toml", b"[train]\ncycles = \"many\"\n");
    add(
        "wrong type in a config file",
        vec![s("--config"), f],
        &["train.cycles", "type.toml"],
    );
    add(
        "integer for a boolean",
        set("output.traces=3"),
        &["output.traces", "boolean"],
    );
    add(
        "float for an integer",
        set("run.seeds=2.5"),
        &["run.seeds", "integer"],
    );
    add("NaN", set("scaffold.p=nan"), &["scaffold.p", "NaN"]);
    add("+inf", set("neuron.dt_ms=inf"), &["neuron.dt_ms", "inf"]);
    add(
        "-inf",
        set("network.weight_init_std=-inf"),
        &["network.weight_init_std", "-inf"],
    );
    add(
        "negative size",
        set("network.n_latent=-5"),
        &["network.n_latent", "-5"],
    );
    add("zero seeds", vec![s("--seeds"), s("0")], &["run.seeds"]);
    add(
        "zero validation period",
        set("train.validate_every=0"),
        &["train.validate_every"],
    );
    add(
        "negative replay cycles",
        set("replay.cycles=-1"),
        &["replay.cycles"],
    );
    add(
        "negative learning rate",
        set("plasticity.eta_vv=-1e-4"),
        &["plasticity.eta_vv"],
    );
    add(
        "absurd network size",
        set("network.n_latent=1000000"),
        &["network.n_latent", "out of range"],
    );
    add(
        "memory above MemAvailable (replay recording)",
        set("replay.cycles=9000000"),
        &["replay.cycles", "GiB", "MemAvailable"],
    );
    add(
        "memory above MemAvailable (cycle length)",
        set("pattern.state_ms=999999"),
        &["pattern.state_ms", "GiB", "MemAvailable"],
    );
    add("p = 1", set("scaffold.p=1.0"), &["scaffold.p", "[0, 1)"]);
    add("p < 0", set("scaffold.p=-0.1"), &["scaffold.p", "[0, 1)"]);
    add("q = 0", set("scaffold.q=0"), &["scaffold.q"]);
    add("q > 1", set("scaffold.q=1.5"), &["scaffold.q"]);
    add("nudging = 1", set("neuron.nudging=1"), &["neuron.nudging"]);
    add(
        "error dead zone = 1 (every error ignored)",
        set("plasticity.error_dead_zone=1.0"),
        &["plasticity.error_dead_zone", "[0, 1)"],
    );
    add(
        "lock-in threshold above 1 (corr_sum per visible neuron)",
        set("train.lock_in_corr=1.5"),
        &["train.lock_in_corr", "[0, 1]"],
    );
    add(
        "lock-in window 0",
        set("train.lock_in_window=0"),
        &["train.lock_in_window", "[1, 1000]"],
    );
    add(
        "stop at the lock-in without a lock-in",
        set("train.lock_in_stop=true"),
        &["train.lock_in_stop", "train.lock_in_corr"],
    );
    add(
        "unknown weight-init distribution",
        set("network.weight_init=\"gaussian\""),
        &["network.weight_init", "gaussian", "normal", "uniform"],
    );
    add(
        "state duration not a multiple of dt",
        set("pattern.state_ms=0.25"),
        &["pattern.state_ms", "multiple"],
    );
    add(
        "delay below 2 steps",
        set("network.delay_min_ms=0.1"),
        &["network.delay_min_ms"],
    );
    let f = write(dir, "syntax.toml", b"[network\nn_latent = \n");
    add(
        "config file is not TOML",
        vec![s("--config"), f],
        &["syntax.toml"],
    );
    add(
        "config file missing",
        vec![s("--config"), dir.join("nope.toml").display().to_string()],
        &["nope.toml"],
    );
    add(
        "--set without a value",
        set("network.n_latent"),
        &["network.n_latent", "="],
    );
    add(
        "negative --checkpoint-every",
        vec![s("--checkpoint-every"), s("-1")],
        &["unexpected argument '-1'"],
    );
    // Disruptions.
    let d = write(
        dir,
        "neurons.txt",
        b"t_start: 0 t_end: 10 nrn_start: 10 nrn_end: 20 offset_el: 0\n",
    );
    add(
        "disruption neurons outside the pattern",
        set(&format!("replay.disruption_file={d:?}")),
        &["replay.disruption_file", "nrn_end = 20", "13 visible"],
    );
    let d = write(
        dir,
        "steps.txt",
        b"t_start: 0 t_end: 99999 nrn_start: 0 nrn_end: 2 offset_el: 0\n",
    );
    add(
        "disruption steps beyond the cycle",
        set(&format!("replay.disruption_file={d:?}")),
        &["replay.disruption_file", "t_end = 99999", "2500 steps"],
    );
    let d = write(dir, "garbage.txt", b"hold neurons 1-3 please\n");
    add(
        "disruption file garbage",
        set(&format!("replay.disruption_file={d:?}")),
        &["garbage.txt:1", "expected `t_start:"],
    );
    let d = write(dir, "binary.txt", &[0xff, 0x00, 0xfe, 0x9c]);
    add(
        "disruption file not UTF-8",
        set(&format!("replay.disruption_file={d:?}")),
        &["binary.txt", "UTF-8"],
    );
    add(
        "disruption file missing",
        set("replay.disruption_file=\"/nonexistent/d.txt\""),
        &["replay.disruption_file", "/nonexistent/d.txt"],
    );
    let ok = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/disruptions/small.txt"
    );
    let mut a = set(&format!("replay.disruption_file={ok:?}"));
    a.extend(set("replay.disruption_cycle=500"));
    add(
        "disruption cycle after the replay",
        a,
        &["replay.disruption_cycle", "500"],
    );
    // Pattern files.
    let pat = |name: &str, bytes: &[u8]| vec![s("--pattern"), write(dir, name, bytes)];
    add(
        "empty pattern",
        pat("empty.txt", b""),
        &["empty.txt", "empty"],
    );
    add(
        "ragged pattern",
        pat(
            "ragged.txt",
            b"# name: r nNeurons: 2 nSteps: 3\n0 1 0\n1 1\n",
        ),
        &["ragged.txt:3", "2 values, expected nSteps = 3"],
    );
    add(
        "pattern value not 0/1",
        pat("value.txt", b"# name: v nNeurons: 1 nSteps: 3\n0 2 0\n"),
        &["value.txt:2", "\"2\"", "column 2"],
    );
    add(
        "pattern without header",
        pat("noheader.txt", b"0 1 0\n1 0 1\n"),
        &["noheader.txt:1", "header"],
    );
    add(
        "pattern header announcing 10^18 values",
        pat(
            "bighead.txt",
            b"# name: b nNeurons: 1000000000 nSteps: 1000000000\n0 1\n",
        ),
        &["bighead.txt:1", "announces"],
    );
    let huge = "0 ".repeat(33 << 20);
    add(
        "huge pattern file (66 MiB)",
        pat("huge.txt", huge.as_bytes()),
        &["huge.txt", "larger than 64 MiB"],
    );
    let garbage: Vec<u8> = (0..4096u32)
        .map(|k| (k.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    add(
        "binary garbage as pattern",
        pat("garbage.bin", &garbage),
        &["garbage.bin", "UTF-8"],
    );
    add(
        "pattern not UTF-8 (Latin-1 name)",
        pat("latin1.txt", b"# name: F\xfcr nNeurons: 1 nSteps: 1\n1\n"),
        &["latin1.txt", "not UTF-8", "offset 9"],
    );
    add(
        "pattern file missing",
        vec![s("--pattern"), s("/nonexistent/p.txt")],
        &["/nonexistent/p.txt", "cannot read"],
    );
    add(
        "pattern path is a directory",
        vec![s("--pattern"), dir.display().to_string()],
        &["cannot read"],
    );
    // Checkpoints (--from-checkpoint).
    let good = checkpoint(dir);
    let bytes = std::fs::read(&good).unwrap();
    let from = |name: &str, b: &[u8]| vec![s("--from-checkpoint"), write(dir, name, b)];
    add(
        "checkpoint missing",
        vec![s("--from-checkpoint"), s("/nonexistent/x.ckpt")],
        &["run.from_checkpoint", "/nonexistent/x.ckpt", "cannot read"],
    );
    add(
        "truncated checkpoint",
        from("trunc.ckpt", &bytes[..bytes.len() / 2]),
        &["trunc.ckpt", "truncated"],
    );
    let mut flipped = bytes.clone();
    flipped[bytes.len() / 3] ^= 0x10;
    add(
        "corrupted checkpoint (one bit)",
        from("flip.ckpt", &flipped),
        &["flip.ckpt", "checksum mismatch", "corrupt"],
    );
    let mut newer = bytes.clone();
    newer[8] = 9;
    add(
        "checkpoint from a newer format version",
        from("newer.ckpt", &newer),
        &["newer.ckpt", "format version 9", "newer"],
    );
    add(
        "not a checkpoint",
        from("pattern.ckpt", b"# name: x nNeurons: 1 nSteps: 1\n1\n"),
        &["pattern.ckpt", "not an elise-lab checkpoint"],
    );
    add(
        "checkpoint of another config (default n_latent 50)",
        vec![s("--from-checkpoint"), good.display().to_string()],
        &[
            "run.from_checkpoint",
            "network.n_latent = 4",
            "this config has 50",
        ],
    );
    let mut a = vec![s("--from-checkpoint"), good.display().to_string()];
    a.extend(["--checkpoint-every", "10"].map(s));
    add(
        "--from-checkpoint with --checkpoint-every",
        a,
        &["run.checkpoint_every"],
    );
    let mut a = set("pattern.mute_at=20");
    a.extend(set("pattern.mute_states=10"));
    add(
        "muted states beyond the pattern",
        a,
        &["pattern.mute_at", "25 states"],
    );
    let mut a = set("pattern.amplitude_min=0.8");
    a.extend(set("pattern.amplitude_max=0.5"));
    add(
        "amplitude_max below amplitude_min",
        a,
        &["pattern.amplitude_max", "0.8"],
    );
    v
}

#[test]
fn every_bad_input_gives_one_clear_error_and_no_output() {
    let exe = env!("CARGO_BIN_EXE_exp-birdsong");
    let dir = std::env::temp_dir().join(format!("elise-bad-inputs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cases = cases(&dir);
    let mut failures = Vec::new();
    let mut table = Vec::new();
    for (k, case) in cases.iter().enumerate() {
        let out = dir.join(format!("run-{k}"));
        let output = Command::new(exe)
            .args(&case.args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("error:") || l.contains("ERROR"))
            .collect();
        let mut problems = Vec::new();
        if output.status.success() {
            problems.push("exit code 0".to_owned());
        }
        if stderr.contains("panicked") {
            problems.push("panicked".to_owned());
        }
        if errors.len() != 1 {
            problems.push(format!("{} error lines", errors.len()));
        }
        for needle in &case.needles {
            if !stderr.contains(needle.as_str()) {
                problems.push(format!("missing {needle:?}"));
            }
        }
        if out.exists() {
            problems.push("run directory created".to_owned());
        }
        if !output.stdout.is_empty() {
            problems.push("stdout not empty".to_owned());
        }
        let shown = errors
            .first()
            .copied()
            .unwrap_or("")
            .replace(&dir.display().to_string(), "DIR");
        table.push(format!(
            "| {} | {} | `{}` |",
            k + 1,
            case.what,
            shown.replace('|', "\\|")
        ));
        if !problems.is_empty() {
            failures.push(format!("{}: {problems:?}\n  stderr: {stderr}", case.what));
        }
    }
    eprintln!("bad inputs tried: {}", cases.len());
    for row in &table {
        eprintln!("{row}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases.len() >= 45, "{}", cases.len());
}
