//! The config reference (`docs/config.md`): every key of every experiment's embedded default
//! config with its default and the comment that documents it (unit and meaning). Generated,
//! so that it cannot drift from the configs; `tests/config_reference.rs` fails when a key has
//! no comment or the file is out of date.

use elise_sweep::annotate::documented_keys;
use elise_sweep::toml;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Every experiment's name and embedded default config text, in the registry's order.
pub fn default_configs() -> Vec<(&'static str, &'static str)> {
    crate::experiments()
        .iter()
        .map(|e| (e.name(), e.default_config()))
        .collect()
}

/// The value of `section.key` in a parsed config (keys of `[axes]` contain dots themselves).
fn value_of(table: &toml::Table, key: &str) -> Option<String> {
    let (section, rest) = key.split_once('.')?;
    let v = table.get(section)?.as_table()?.get(rest)?;
    Some(v.to_string())
}

/// Keys of a default config text (outside `[axes]`) that have no comment, and keys of its
/// parsed table that the text scan did not find (a multi-line value, say).
pub fn undocumented(text: &str) -> Vec<String> {
    let keys = documented_keys(text);
    let mut missing: Vec<String> = keys
        .iter()
        .filter(|(k, c)| !k.starts_with("axes.") && c.is_none())
        .map(|(k, _)| k.clone())
        .collect();
    let table: toml::Table = text.parse().expect("default config is valid TOML");
    for (section, values) in &table {
        let Some(values) = values.as_table() else {
            continue;
        };
        for key in values.keys() {
            let full = format!("{section}.{key}");
            if section != "axes" && !keys.iter().any(|(k, _)| *k == full) {
                missing.push(full);
            }
        }
    }
    missing
}

/// One key of the reference: its default (in the first experiment that has it), its comment,
/// and the experiments whose default differs.
struct Row {
    default: String,
    comment: String,
    used_by: Vec<&'static str>,
    differs: Vec<(&'static str, String)>,
}

/// `docs/config.md`.
pub fn config_reference() -> String {
    let configs = default_configs();
    let n_experiments = configs.len();
    let mut sections: Vec<String> = Vec::new();
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut grids: Vec<(&str, String, String)> = Vec::new();
    for (name, text) in &configs {
        let table: toml::Table = text.parse().expect("default config is valid TOML");
        for (key, comment) in documented_keys(text) {
            let value = value_of(&table, &key).unwrap_or_default();
            if let Some(axis) = key.strip_prefix("axes.") {
                grids.push((name, axis.to_owned(), value));
                continue;
            }
            let section = key.split_once('.').map_or("", |(s, _)| s).to_owned();
            if !sections.contains(&section) {
                sections.push(section);
            }
            let comment = comment.unwrap_or_default();
            match rows.get_mut(&key) {
                Some(row) => {
                    row.used_by.push(name);
                    if row.default != value {
                        row.differs.push((name, value));
                    }
                    if row.comment.is_empty() {
                        row.comment = comment;
                    }
                }
                None => {
                    order.push(key.clone());
                    rows.insert(
                        key,
                        Row {
                            default: value,
                            comment,
                            used_by: vec![name],
                            differs: Vec::new(),
                        },
                    );
                }
            }
        }
    }

    let mut s = String::new();
    s.push_str("# Config reference\n\n");
    s.push_str(
        "Every key of every experiment's embedded default config: its default, and its unit and\n\
         meaning. Generated from the configs' comments (`crates/study/configs/base.toml`,\n\
         `experiments/<name>/configs/`, `crates/baselines/configs/`) by\n\
         `crates/lab/src/config_reference.rs`; do not edit by hand: change a comment there and\n\
         run `ELISE_UPDATE_DOCS=1 cargo test -p elise-lab --test config_reference`.\n\
         `exp-<name> --list` prints the same comments next to a run's resolved values. How\n\
         configs, `--set` and `[axes]` combine: [guide.md](guide.md#configs-and-axes).\n\n",
    );
    s.push_str("Contents: ");
    let links: Vec<String> = sections
        .iter()
        .map(|sec| format!("[{sec}](#{sec})"))
        .chain(std::iter::once(
            "[per experiment](#per-experiment)".to_owned(),
        ))
        .collect();
    s.push_str(&links.join(" · "));
    s.push('\n');
    for section in &sections {
        let keys: Vec<&String> = order
            .iter()
            .filter(|k| k.split_once('.').is_some_and(|(sec, _)| sec == section))
            .collect();
        let used_by = &rows[keys[0]].used_by;
        let _ = writeln!(s, "\n## {section}\n");
        if used_by.len() < n_experiments {
            let _ = writeln!(
                s,
                "Used by: {}.\n",
                used_by
                    .iter()
                    .map(|n| format!("exp-{n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        s.push_str("| key | default | meaning |\n|---|---|---|\n");
        for key in keys {
            let row = &rows[key];
            let _ = writeln!(
                s,
                "| `{key}` | `{}` | {} |",
                row.default.replace('|', "\\|"),
                row.comment.replace('|', "\\|")
            );
        }
    }
    s.push_str("\n## Per experiment\n\n");
    s.push_str(
        "Where an experiment's default differs from the first default above, and its grid\n\
         (`[axes]`: every grid point runs with the same seeds).\n\n",
    );
    s.push_str("| experiment | key | default |\n|---|---|---|\n");
    for (name, _) in &configs {
        for key in &order {
            let row = &rows[key];
            for (n, v) in &row.differs {
                if n == name {
                    let _ = writeln!(s, "| exp-{name} | `{key}` | `{}` |", v.replace('|', "\\|"));
                }
            }
        }
        for (n, axis, v) in &grids {
            if n == name {
                let _ = writeln!(s, "| exp-{name} | axis `{axis}` | `{v}` |");
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undocumented_names_keys_without_a_comment() {
        let text = "[a]\nx = 1   # documented\ny = 2\n\n[axes]\n\"a.x\" = [1, 2]\n";
        assert_eq!(undocumented(text), vec!["a.y".to_owned()]);
    }
}
