//! An experiment's default config as commented text: the base config with the experiment's
//! overrides merged in line by line, so that every key keeps the comment (unit and meaning)
//! that `--list` and the config reference show.

use elise_sweep::annotate::{comment_start, header};

/// The key of a `key = value` line, quotes removed.
fn key_of(line: &str) -> Option<&str> {
    let code = &line[..comment_start(line).unwrap_or(line.len())];
    let key = code.split_once('=')?.0.trim();
    Some(
        key.strip_prefix('"')
            .and_then(|k| k.strip_suffix('"'))
            .unwrap_or(key),
    )
}

/// A config text split into its preamble (lines before the first header) and its tables, each
/// with its lines (the header line first).
fn sections(text: &str) -> (Vec<&str>, Vec<(String, Vec<&str>)>) {
    let mut preamble = Vec::new();
    let mut tables: Vec<(String, Vec<&str>)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = header(line) {
            tables.push((name.to_owned(), vec![line]));
        } else if let Some((_, lines)) = tables.last_mut() {
            lines.push(line);
        } else {
            preamble.push(line);
        }
    }
    (preamble, tables)
}

/// `line` (a `key = value  # comment` line) with its value replaced by `value`, keeping the
/// comment in its column when it fits.
fn replace_value(line: &str, key_text: &str, value: &toml::Value) -> String {
    let code = format!("{key_text} = {value}");
    match comment_start(line) {
        Some(i) => {
            let column = i.max(code.len() + 1);
            format!("{code:<column$}{}", &line[i..])
        }
        None => code,
    }
}

/// `base` with `overrides` merged: a key of a base table gets the override's value on its own
/// line (keeping the base comment); entries of `[axes]` and whole tables the base lacks are
/// added as written in `overrides` (with their comments). The preamble of `overrides` comes
/// first.
///
/// # Panics
/// If either text is not valid TOML, or `overrides` names a key a base table lacks.
pub fn merge(base: &str, overrides: &str) -> String {
    let extra: toml::Table = overrides.parse().expect("experiment config is valid TOML");
    let (base_pre, base_tables) = sections(base);
    let mut base_tables: Vec<(String, Vec<String>)> = base_tables
        .into_iter()
        .map(|(n, lines)| (n, lines.into_iter().map(str::to_owned).collect()))
        .collect();
    let (extra_pre, extra_tables) = sections(overrides);
    let mut appended: Vec<Vec<&str>> = Vec::new();
    for (name, extra_lines) in extra_tables {
        let values = extra
            .get(&name)
            .and_then(toml::Value::as_table)
            .unwrap_or_else(|| panic!("[{name}] is not a table"));
        match base_tables.iter_mut().find(|(n, _)| *n == name) {
            Some((_, lines)) if name != "axes" => {
                for (key, value) in values {
                    let at = lines
                        .iter()
                        .position(|l| header(l).is_none() && key_of(l) == Some(key))
                        .unwrap_or_else(|| panic!("unknown key {name}.{key}"));
                    let key_text = lines[at].split('=').next().unwrap_or(key).trim();
                    lines[at] = replace_value(&lines[at], key_text, value);
                }
            }
            Some((_, lines)) => {
                // [axes]: the override's entries after the base's (comments included).
                while lines.last().is_some_and(|l| l.trim().is_empty()) {
                    lines.pop();
                }
                lines.extend(extra_lines.iter().skip(1).map(|l| (*l).to_owned()));
            }
            None => appended.push(extra_lines),
        }
    }
    let mut out: Vec<&str> = extra_pre;
    if !out.is_empty() && !base_pre.is_empty() {
        out.push("#");
    }
    out.extend(base_pre);
    for (_, lines) in &base_tables {
        out.extend(lines.iter().map(String::as_str));
    }
    for lines in &appended {
        if out.last().is_some_and(|l| !l.trim().is_empty()) {
            out.push("");
        }
        out.extend(lines.iter().copied());
    }
    let mut text = out.join("\n");
    text.push('\n');
    let merged: toml::Table = text.parse().expect("merged config is valid TOML");
    // Compared as TOML text: a NaN value (e.g. an override `nan` that validation must refuse)
    // is equal to itself there, not as an f64.
    let expected = merge_tables(base, overrides);
    assert_eq!(
        toml::to_string(&merged).expect("serializes"),
        toml::to_string(&expected).expect("serializes"),
        "the commented merge differs from the table merge"
    );
    text
}

/// The same merge on parsed tables (the reference the text merge is checked against).
fn merge_tables(base: &str, overrides: &str) -> toml::Table {
    let mut base: toml::Table = base.parse().expect("base config is valid TOML");
    let extra: toml::Table = overrides.parse().expect("experiment config is valid TOML");
    for (section, values) in extra {
        let values = values
            .as_table()
            .unwrap_or_else(|| panic!("[{section}] is not a table"))
            .clone();
        match base.get_mut(&section).and_then(toml::Value::as_table_mut) {
            Some(target) => {
                for (key, value) in values {
                    assert!(
                        section == "axes" || target.contains_key(&key),
                        "unknown key {section}.{key}"
                    );
                    target.insert(key, value);
                }
            }
            None => {
                base.insert(section, toml::Value::Table(values));
            }
        }
    }
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "# base\n[run]\nseeds = 10  # networks\nbase_seed = 1\n\n[net]\nn = 5       # neurons\nmode = \"a\" # a | b\n\n[axes]\n# grid\n";

    #[test]
    fn overrides_keep_comments_and_equal_a_table_merge() {
        let over = "# exp\n[run]\nseeds = 3\n\n[net]\nmode = \"b\"\n\n[axes]\n\"net.n\" = [1, 2]  # sizes\n\n[new]\nx = 1.5   # a new key\n";
        let text = merge(BASE, over);
        assert!(text.contains("seeds = 3   # networks"), "{text}");
        assert!(text.contains("mode = \"b\" # a | b"), "{text}");
        assert!(text.contains("\"net.n\" = [1, 2]  # sizes"), "{text}");
        assert!(text.contains("[new]\nx = 1.5   # a new key"), "{text}");
        assert!(text.starts_with("# exp\n"), "{text}");
        let got: toml::Table = text.parse().unwrap();
        let want: toml::Table = "[run]\nseeds = 3\nbase_seed = 1\n[net]\nn = 5\nmode = \"b\"\n[axes]\n\"net.n\" = [1, 2]\n[new]\nx = 1.5\n"
            .parse()
            .unwrap();
        assert_eq!(got, want);
    }

    #[test]
    #[should_panic(expected = "unknown key net.typo")]
    fn an_unknown_key_is_a_bug() {
        merge(BASE, "[net]\ntypo = 1\n");
    }
}
