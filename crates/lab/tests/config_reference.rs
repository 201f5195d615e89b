//! Every config key of every experiment is documented (a comment with unit and meaning in the
//! embedded default config), and `docs/config.md` is the reference generated from them.
//! `ELISE_UPDATE_DOCS=1 cargo test -p elise-lab --test config_reference` rewrites the file.

use elise_lab::config_reference::{config_reference, default_configs, undocumented};
use std::path::Path;

#[test]
fn every_config_key_has_a_description() {
    let mut missing = Vec::new();
    for (name, text) in default_configs() {
        for key in undocumented(text) {
            missing.push(format!("exp-{name}: {key}"));
        }
    }
    assert!(
        missing.is_empty(),
        "config keys without a comment (add `# unit and meaning` after the value in the \
         embedded default config):\n{}",
        missing.join("\n")
    );
}

#[test]
fn docs_config_md_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.md");
    let generated = config_reference();
    if std::env::var_os("ELISE_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/config.md is out of date; regenerate it with \
         `ELISE_UPDATE_DOCS=1 cargo test -p elise-lab --test config_reference`"
    );
}

#[test]
fn list_prints_each_keys_comment() {
    for name in ["birdsong", "compare"] {
        let entry = elise_lab::experiment(name).unwrap();
        let summary = entry.run_cli(&["--list".to_owned()]).unwrap();
        let listing = summary.listing().unwrap().to_owned();
        let line = listing
            .lines()
            .find(|l| l.starts_with("n_latent = "))
            .unwrap_or_else(|| panic!("{name}: no n_latent line in\n{listing}"));
        assert!(
            line.contains("# number of latent neurons"),
            "{name}: {line}"
        );
        // The listing stays a valid config.
        let _: elise_sweep::toml::Table = listing.parse().unwrap();
    }
    let compare = elise_lab::experiment("compare").unwrap();
    let listing = compare
        .run_cli(&["--list".to_owned()])
        .unwrap()
        .listing()
        .unwrap()
        .to_owned();
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("spectral_radius = 0.9") && l.contains("# spectral radius")),
        "{listing}"
    );
}
