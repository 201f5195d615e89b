//! The smoke run trains each seed once and recalls from three cues: one runs row per branch
//! (reference replay + cues), one recall row per cue, the figure, and the behaviour of the cue:
//! the cued part follows the target far better than a network at rest would, while with no
//! cue at all (k = 0) the freshly reset, barely trained network stays near rest.

use elise_sweep::arrow_array::{Float64Array, StringArray};
use elise_sweep::column;
use elise_sweep::testing::run_in_temp_dir;
use std::collections::BTreeMap;

#[test]
fn smoke_run_recall_table_and_cue_behaviour() {
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let (summary, tmp) = run_in_temp_dir(
        &exp_completion::experiment(),
        "completion-smoke",
        &["--config", cfg],
    );
    assert!(summary.success(), "{summary:?}");
    let runs = tmp.dir().read_table("runs").unwrap();
    assert_eq!(runs.iter().map(|b| b.num_rows()).sum::<usize>(), 4);
    let mut branches: Vec<String> = Vec::new();
    for b in &runs {
        let br = column::<StringArray>(b, "branch").unwrap();
        branches.extend((0..b.num_rows()).map(|k| br.value(k).to_owned()));
    }
    branches.sort();
    assert_eq!(branches, ["neurons:6", "replay", "states:0", "states:5"]);
    // cue -> (cued_fraction, uncued_mse, uncued_rest_mse, cued_mse, cued_rest_mse, recall)
    let mut m = BTreeMap::new();
    for b in tmp.dir().read_table("recall").unwrap() {
        let cue = column::<StringArray>(&b, "cue").unwrap();
        let f = |n| column::<Float64Array>(&b, n).unwrap();
        let cols = [
            f("cued_fraction"),
            f("uncued_mse"),
            f("uncued_rest_mse"),
            f("cued_mse"),
            f("cued_rest_mse"),
            f("recall"),
        ];
        for k in 0..b.num_rows() {
            m.insert(
                cue.value(k).to_owned(),
                cols.iter().map(|c| c.value(k)).collect::<Vec<f64>>(),
            );
        }
    }
    assert_eq!(m.len(), 3);
    assert_eq!(m["states:5"][0], 0.2);
    assert_eq!(m["neurons:6"][0], 6.0 / 13.0);
    // No cue: nothing is cued; the network stays near rest (recall near 0, not near 1).
    assert!(m["states:0"][3].is_nan());
    assert!(m["states:0"][5].abs() < 0.3, "{:?}", m["states:0"]);
    // A cue is followed: the cued part is much closer to the target than rest is.
    for cue in ["states:5", "neurons:6"] {
        let v = &m[cue];
        assert!(
            v[3] < 0.5 * v[4],
            "{cue}: cued MSE {} vs rest {}",
            v[3],
            v[4]
        );
        assert!(v[1].is_finite() && v[2] > 0.0);
    }
    assert!(tmp.path().join("completion.png").exists() && tmp.path().join("summary.md").exists());
    elise_study::figure::check_figure_files(&tmp.path().join("completion.png"));
}

/// The completion preset is the shared v3 preset plus `completion.uncued = "self"`.
#[test]
fn v3_preset_is_the_shared_one_with_self_nudging() {
    let own: toml::Table = include_str!("../configs/v3.toml").parse().unwrap();
    let shared: toml::Table = elise_study::V3_PRESET.parse().unwrap();
    for (table, values) in &shared {
        for (key, value) in values.as_table().unwrap() {
            assert_eq!(own[table].get(key), Some(value), "{table}.{key}");
        }
    }
    assert_eq!(own.len(), shared.len() + 1);
    assert_eq!(own["completion"]["uncued"].as_str(), Some("self"));
}

/// The smoke config runs under the v3 preset, and self-nudging the uncued somas recalls (within
/// rounding) what free uncued somas recall: the nudging term G (U - U) vanishes.
#[test]
fn smoke_run_under_the_v3_preset() {
    let preset = include_str!("../configs/v3.toml");
    let smoke = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/smoke.toml");
    let tmp = elise_study::check_smoke_with_preset(
        &exp_completion::experiment(),
        "completion-smoke-v3",
        preset,
        smoke,
        1,
    );
    let recall = |run: &elise_sweep::RunDir| {
        let mut m = BTreeMap::new();
        for b in run.read_table("recall").unwrap() {
            let cue = column::<StringArray>(&b, "cue").unwrap();
            let r = column::<Float64Array>(&b, "uncued_mse").unwrap();
            for k in 0..b.num_rows() {
                m.insert(cue.value(k).to_owned(), r.value(k));
            }
        }
        m
    };
    let selfn = recall(&tmp.dir());
    let (summary, free_run) = elise_study::run_smoke_with_preset(
        &exp_completion::experiment(),
        "completion-smoke-v3-free",
        preset,
        smoke,
        "[train]\nepoch_cycles = 5\n[completion]\nuncued = \"free\"\n",
    );
    assert!(summary.success());
    let free = recall(&free_run.dir());
    assert_eq!(selfn.len(), 3);
    for (cue, mse) in &free {
        if mse.is_nan() {
            assert!(selfn[cue].is_nan(), "{cue}");
        } else {
            assert!(
                (selfn[cue] - mse).abs() < 1e-9,
                "{cue}: {} vs {mse}",
                selfn[cue]
            );
        }
    }
}
