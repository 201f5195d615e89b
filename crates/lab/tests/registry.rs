//! The registry is complete: every experiment crate under `experiments/` is registered under its
//! name, `scripts/reproduce_all` runs only registered experiments, and `elise <name>` runs the
//! experiment exactly as its own binary does.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .parent()
        .unwrap()
}

#[test]
fn every_experiment_crate_is_registered() {
    let dirs: BTreeSet<String> = std::fs::read_dir(root().join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let names: BTreeSet<String> = elise_lab::experiments()
        .iter()
        .map(|e| e.name().to_owned())
        .collect();
    assert_eq!(dirs, names);
    assert!(
        elise_lab::experiments()
            .iter()
            .all(|e| !e.summary().is_empty())
    );
    let script = std::fs::read_to_string(root().join("scripts/reproduce_all")).unwrap();
    let all = script
        .lines()
        .find_map(|l| l.strip_prefix("ALL=\""))
        .unwrap()
        .trim_end_matches('"');
    for name in all.split_whitespace() {
        assert!(
            names.contains(name),
            "reproduce_all runs unregistered {name}"
        );
    }
}

#[test]
fn elise_runs_an_experiment_by_name_like_its_binary() {
    let out = std::env::temp_dir().join(format!("elise-lab-registry-{}", std::process::id()));
    let o = Command::new(env!("CARGO_BIN_EXE_elise"))
        .args(["size", "--list", "--seeds", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listing = String::from_utf8_lossy(&o.stdout);
    assert!(listing.contains("# exp-size: resolved config"), "{listing}");
    assert!(listing.contains("network.n_latent"), "{listing}");
    assert!(!out.exists(), "--list writes nothing");
    let o = Command::new(env!("CARGO_BIN_EXE_elise"))
        .arg("no-such-experiment")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no experiment named"));
    let o = Command::new(env!("CARGO_BIN_EXE_elise"))
        .args(["list", "--names"])
        .output()
        .unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(names.len(), elise_lab::experiments().len());
}

/// `output.record` and `output.export` act in the experiments whose jobs are the standard ELiSe
/// job; the others refuse them by name instead of silently writing nothing.
#[test]
fn experiments_that_cannot_record_refuse_the_view_keys() {
    for name in ["completion", "disruption", "compare", "two-songs"] {
        let entry = elise_lab::experiment(name).unwrap();
        for (set, key) in [
            ("output.record=[\"rate\"]", "output.record"),
            ("output.export=true", "output.export"),
        ] {
            let args: Vec<String> = ["--set", set, "--set", "output.record_cycles=[0]", "--list"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            let err = entry.run_cli(&args).unwrap_err().to_string();
            assert!(
                err.contains(key) && err.contains(&format!("exp-{name} does not record")),
                "{name} {set}: {err}"
            );
        }
    }
    // The standard job accepts them (the listing is made, nothing runs).
    let args: Vec<String> = ["--set", "output.export=true", "--list"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let listing = elise_lab::experiment("size")
        .unwrap()
        .run_cli(&args)
        .unwrap();
    assert!(listing.listing().unwrap().contains("export = true"));
}
