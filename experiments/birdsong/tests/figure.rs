//! The figure of a run with a grid or with many seeds: one median curve per grid point (never
//! jobs of different grid points joined into one curve by seed), corr_sum per visible neuron
//! when the patterns differ in size, and reference lines only where they hold for every curve.

use elise_study::Config;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_exp-birdsong");

fn out(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("elise-figure-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs a tiny exp-birdsong with `extra` arguments into `dir`; returns the SVG's text elements.
fn svg_texts(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--set",
        "train.cycles=40",
        "--set",
        "train.validate_every=20",
        "--set",
        "replay.cycles=6",
        "--set",
        "network.n_latent=8",
        "--set",
        "output.traces=false",
        "--threads",
        "2",
        "--out",
        dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = Command::new(BIN)
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    elise_study::figure::check_figure_files(&dir.join("birdsong.png"));
    let svg = std::fs::read_to_string(dir.join("birdsong.svg")).unwrap();
    svg.split("<text")
        .skip(1)
        .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim().to_owned()))
        .collect()
}

#[test]
fn a_grid_draws_one_median_curve_per_grid_point() {
    let dir = out("grid");
    let texts = svg_texts(
        &dir,
        &[
            "--seeds",
            "2",
            "--axis",
            "pattern.file=fuer_elise,../../data/patterns/twinkle.txt",
        ],
    );
    let has = |s: &str| texts.iter().any(|t| t == s);
    assert!(
        has("pattern fuer_elise") && has("pattern twinkle.txt"),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t.starts_with("seed ")),
        "per-seed curves: {texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("2 grid points")),
        "{texts:?}"
    );
    // 13 and 6 visible neurons: corr_sum per neuron, one criterion of 12/13; the two patterns
    // rest at different MSEs, so no rest line.
    assert!(
        has("corr_sum / visible neurons") && has("criterion 12/13"),
        "{texts:?}"
    );
    assert!(!has("rest"), "{texts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn many_seeds_draw_a_median_and_percentiles() {
    let dir = out("many");
    let texts = svg_texts(&dir, &["--seeds", "14"]);
    let has = |s: &str| texts.iter().any(|t| t == s);
    assert!(
        has("median of 14 seeds") && has("10th percentile") && has("90th percentile"),
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.starts_with("seed ")), "{texts:?}");
    assert!(has("criterion 12") && has("rest"), "{texts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rest_mse_is_the_silent_networks_error() {
    // Für Elise at the paper's parameters: 0.0784 (README, docs/experiments/birdsong.md).
    let config = |overrides: &str| -> Config {
        let table =
            elise_sweep::toml::from_str(&elise_study::default_config_with(overrides)).unwrap();
        elise_sweep::apply_params(&table, &[]).unwrap()
    };
    let cfg = config("");
    let inputs = elise_core::Inputs::new();
    let rest = elise_study::figure::rest_mse(&cfg, &inputs).unwrap();
    assert!((rest - 0.0784).abs() < 5e-5, "{rest}");
    // Another pattern, another rest MSE (computed, not the Für Elise constant).
    let ode = config("[pattern]\nfile = \"ode_to_joy\"\n");
    let ode_rest = elise_study::figure::rest_mse(&ode, &inputs).unwrap();
    assert!(
        ode_rest.is_finite() && (ode_rest - rest).abs() > 1e-3,
        "{ode_rest}"
    );
}
