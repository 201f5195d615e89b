//! The v3 protocol keys: the defaults are the paper's protocol, the preset names existing keys
//! and validates, and bad schedules are refused naming the key.

use elise_core::Inputs;
use elise_study::{Config, V3_PRESET, default_config_with, merge_config_texts, validate};

fn parse(text: &str) -> Config {
    let mut table: toml::Table = text.parse().unwrap();
    table.remove("axes");
    table.try_into().unwrap()
}

#[test]
fn defaults_are_the_papers_protocol() {
    let cfg = parse(elise_study::BASE_CONFIG);
    assert_eq!(cfg.train.epoch_cycles, 0);
    assert_eq!(cfg.train.lr_decay, 1.0);
    assert!(cfg.train.validation_plasticity);
    assert!(!cfg.train.has_rate_schedule());
    assert_eq!(cfg.neuron.nudging, 0.6);
    assert_eq!(
        (cfg.network.delay_min_ms, cfg.network.delay_max_ms),
        (5.0, 15.0)
    );
}

#[test]
fn v3_preset_uses_existing_keys_and_validates() {
    // default_config_with panics on a key the base config lacks.
    let cfg = parse(&default_config_with(V3_PRESET));
    validate(&cfg, &Inputs::new()).unwrap();
    assert!(cfg.train.has_rate_schedule());
    assert_eq!(cfg.train.lr_decay, 0.98);
    assert_eq!(cfg.train.epoch_cycles, 100);
    assert!(!cfg.train.validation_plasticity);
    assert_eq!(cfg.neuron.nudging, 0.7);
    assert_eq!(cfg.network.delay_max_ms, 25.0);
    // The paper's length and rates are kept: the rates end at 0.98^100 of the paper's.
    assert_eq!(cfg.train.cycles, 10_000);
    let end = cfg
        .train
        .rate_factor(cfg.train.epoch_of(cfg.train.cycles as i64));
    assert!((end - 0.98f64.powi(100)).abs() < 1e-12, "{end}");
}

#[test]
fn merged_configs_override_key_by_key() {
    let merged = merge_config_texts(V3_PRESET, "[train]\ncycles = 20\n[run]\nseeds = 1\n");
    let cfg = parse(&default_config_with(&merged));
    assert_eq!(cfg.train.cycles, 20);
    assert_eq!(cfg.train.lr_decay, 0.98);
    assert_eq!(cfg.run.seeds, 1);
}

#[test]
fn bad_schedules_are_refused_naming_the_key() {
    for (train, key) in [
        ("lr_decay = 0.0\nepoch_cycles = 5", "train.lr_decay"),
        ("lr_decay = 1.5\nepoch_cycles = 5", "train.lr_decay"),
        ("lr_decay = nan\nepoch_cycles = 5", "train.lr_decay"),
        // A decay without epochs would silently do nothing.
        ("lr_decay = 0.9", "train.lr_decay"),
        ("epoch_cycles = 100000000", "train.epoch_cycles"),
    ] {
        let cfg = parse(&default_config_with(&format!("[train]\n{train}\n")));
        let e = validate(&cfg, &Inputs::new()).unwrap_err();
        assert!(e.to_string().contains(key), "{train}: {e}");
    }
    // Epochs without decay are allowed (and change nothing).
    let cfg = parse(&default_config_with("[train]\nepoch_cycles = 5\n"));
    validate(&cfg, &Inputs::new()).unwrap();
}
