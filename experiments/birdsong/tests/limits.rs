//! Patterns no network can learn or hold, and runs that would not fit in memory, are refused
//! before anything runs (exit 2, an error naming the key, no run directory) — not after every
//! job ran or failed. Driven through the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_exp-birdsong");

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "elise-birdsong-limits-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pattern(dir: &Path, name: &str, rows: &[String]) -> String {
    let n_states = rows.first().map_or(0, |r| r.split_whitespace().count());
    let mut text = format!(
        "# name: {name} nNeurons: {} nSteps: {n_states}\n",
        rows.len()
    );
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    let p = dir.join(format!("{name}.txt"));
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn refused(out: &Path, args: &[&str], needles: &[&str]) {
    let o = run(&[args, &["--out", out.to_str().unwrap()]].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{args:?}: expected {n:?} in {err}");
    }
    assert!(
        !out.exists(),
        "{args:?}: a refused run writes no run directory"
    );
}

#[test]
fn degenerate_patterns_are_refused_up_front() {
    let d = dir("patterns");
    let out = d.join("out");
    let one = pattern(&d, "one", &["1".into(), "0".into(), "1".into()]);
    refused(&out, &["--pattern", &one], &["pattern.file", "1 state"]);
    let silent = pattern(&d, "silent", &vec!["0 0 0 0".to_owned(); 3]);
    refused(
        &out,
        &["--pattern", &silent],
        &["pattern.file", "no neuron is ever on"],
    );
    let huge = pattern(&d, "huge", &vec!["1 0".to_owned(); 8200]);
    refused(
        &out,
        &["--pattern", &huge],
        &["pattern.file", "at most 8192 neurons"],
    );
    // 200 visible neurons: the scaffold cannot give every latent neuron <= 5 teachers.
    let wide = pattern(&d, "wide", &vec!["1 0 0 1".to_owned(); 200]);
    refused(
        &out,
        &["--pattern", &wide, "--seeds", "2"],
        &["scaffold.max_in_degree", "seed 12345"],
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn jobs_that_would_not_fit_in_memory_together_are_refused_naming_the_key() {
    let d = dir("memory");
    let out = d.join("out");
    // 4000 latent neurons: about 0.25 GiB per job; under a 0.6 GiB address-space limit two
    // jobs at once do not fit, and the error says how many threads would.
    let script = format!(
        "ulimit -v 600000 && exec {BIN} --seeds 4 --threads 2 --set network.n_latent=4000 --set network.connectivity=\"sparse\" --set network.density=0.05 --out {}",
        out.display()
    );
    let o = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("network.n_latent"), "{err}");
    assert!(err.contains("ulimit -v"), "{err}");
    assert!(err.contains("2 jobs at once"), "{err}");
    assert!(err.contains("--threads 1"), "{err}");
    assert!(!out.exists(), "a refused run writes no run directory");
    std::fs::remove_dir_all(&d).unwrap();
}
