//! The commented default tables (`configs/esn.toml`, `configs/force.toml`) hold exactly the
//! values of `EsnParams::default()` and `ForceParams::default()`, and document every key.

use elise_baselines::{ESN_DEFAULTS_TOML, EsnParams, FORCE_DEFAULTS_TOML, ForceParams};
use serde::Deserialize;

#[derive(Deserialize)]
struct Esn {
    esn: EsnParams,
}

#[derive(Deserialize)]
struct Force {
    force: ForceParams,
}

/// Keys of `text`'s single table whose line has no trailing comment.
fn undocumented(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with('['))
        .filter(|l| l.contains('='))
        .filter(|l| l.split_once('#').is_none_or(|(_, c)| c.trim().is_empty()))
        .map(|l| l.split('=').next().unwrap().trim().to_owned())
        .collect()
}

#[test]
fn commented_defaults_equal_the_rust_defaults() {
    let esn: Esn = toml::from_str(ESN_DEFAULTS_TOML).unwrap();
    assert_eq!(esn.esn, EsnParams::default());
    let force: Force = toml::from_str(FORCE_DEFAULTS_TOML).unwrap();
    assert_eq!(force.force, ForceParams::default());
}

#[test]
fn every_default_key_has_a_comment() {
    assert_eq!(undocumented(ESN_DEFAULTS_TOML), Vec::<String>::new());
    assert_eq!(undocumented(FORCE_DEFAULTS_TOML), Vec::<String>::new());
    assert_eq!(
        undocumented("[x]\na = 1\nb = 2 # b\n"),
        vec!["a".to_owned()]
    );
}
