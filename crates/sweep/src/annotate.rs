//! Key comments of a commented config text, and a resolved config annotated with them.
//!
//! An experiment's embedded default config documents each key with a trailing comment
//! (`n_latent = 50   # latent neurons`), continued on indented comment lines below it. The
//! resolved config a run prints with `--list` is re-serialized TOML without comments;
//! [`annotate`] puts each key's comment back, looked up by `section.key` in the default text.
//! [`key_comments`] is also what the config reference (`docs/config.md`) is generated from.

use std::collections::BTreeMap;

/// The byte offset of a line's `#` comment, outside strings; `None` without a comment.
pub fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == '#' => return Some(i),
            None => {}
        }
    }
    None
}

/// `Some(name)` if `line` is a table header `[name]` (possibly followed by a comment).
pub fn header(line: &str) -> Option<&str> {
    let code = line[..comment_start(line).unwrap_or(line.len())].trim();
    let inner = code.strip_prefix('[')?.strip_suffix(']')?;
    (!inner.starts_with('[')).then(|| inner.trim())
}

/// The key of a `key = value` line (bare or quoted, without the quotes), if it is one.
fn key_of(line: &str) -> Option<String> {
    let code = &line[..comment_start(line).unwrap_or(line.len())];
    let (key, _) = code.split_once('=')?;
    let key = key.trim();
    let unquoted = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(key);
    (!unquoted.is_empty()).then(|| unquoted.to_owned())
}

/// Every key of a commented TOML text in file order, as `section.key` with its comment (the
/// trailing comment of the key's line, joined with the indented comment lines that directly
/// follow it); `None` for a key without a trailing comment.
pub fn documented_keys(text: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut section = String::new();
    let mut continues = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(name) = header(line) {
            section = name.to_owned();
            continues = false;
        } else if trimmed.starts_with('#') {
            // A continuation: indented, directly below a commented key.
            let more = trimmed.trim_start_matches('#').trim();
            match out.last_mut() {
                Some((_, Some(comment))) if continues && line.starts_with(char::is_whitespace) => {
                    comment.push(' ');
                    comment.push_str(more);
                }
                _ => continues = false,
            }
        } else if let Some(key) = key_of(line) {
            let full = if section.is_empty() {
                key
            } else {
                format!("{section}.{key}")
            };
            let comment = comment_start(line)
                .map(|i| line[i..].trim_start_matches('#').trim().to_owned())
                .filter(|c| !c.is_empty());
            continues = comment.is_some();
            out.push((full, comment));
        } else {
            continues = false;
        }
    }
    out
}

/// The documented keys of a commented TOML text: `section.key` → its comment (see
/// [`documented_keys`]). Keys without a trailing comment are absent.
pub fn key_comments(text: &str) -> BTreeMap<String, String> {
    documented_keys(text)
        .into_iter()
        .filter_map(|(k, c)| c.map(|c| (k, c)))
        .collect()
}

/// `config_text` (TOML without comments, e.g. a resolved config) with each key's comment from
/// `doc` (a commented config text, see [`key_comments`]) after its value. Lines that already
/// have a comment, and keys `doc` does not document, stay as they are.
pub fn annotate(config_text: &str, doc: &str) -> String {
    let comments = key_comments(doc);
    let mut out = String::with_capacity(config_text.len() * 2);
    let mut section = String::new();
    for line in config_text.lines() {
        if let Some(name) = header(line) {
            section = name.to_owned();
        }
        let comment = (comment_start(line).is_none())
            .then(|| key_of(line))
            .flatten()
            .and_then(|key| comments.get(&format!("{section}.{key}")));
        match comment {
            Some(c) => out.push_str(&format!("{line:<30} # {c}")),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r##"# A header comment, not a key's.
[run]
seeds = 10              # networks; seed of replicate r = base_seed + r
base_seed = 12345
label = "a # b"         # a string with a hash
second = ""             # first line
                        # second line
# a group comment
other = 1

[axes]
"network.n_latent" = [1, 2]   # grid
"##;

    #[test]
    fn trailing_and_continued_comments_by_section_and_key() {
        let c = key_comments(DOC);
        assert_eq!(
            c["run.seeds"],
            "networks; seed of replicate r = base_seed + r"
        );
        assert_eq!(c["run.label"], "a string with a hash");
        assert_eq!(c["run.second"], "first line second line");
        assert_eq!(c["axes.network.n_latent"], "grid");
        assert!(!c.contains_key("run.base_seed"));
        assert!(
            !c.contains_key("run.other"),
            "a group comment is not a key's"
        );
    }

    #[test]
    fn annotate_adds_comments_and_keeps_the_toml() {
        let resolved = "[run]\nbase_seed = 7\nseeds = 3\n\n[extra]\nseeds = 1\n";
        let a = annotate(resolved, DOC);
        assert!(a.contains("seeds = 3"), "{a}");
        assert!(
            a.lines().any(|l| l.starts_with("seeds = 3")
                && l.ends_with("# networks; seed of replicate r = base_seed + r")),
            "{a}"
        );
        assert!(
            a.contains("base_seed = 7\n"),
            "undocumented keys stay bare: {a}"
        );
        assert!(
            a.contains("[extra]\nseeds = 1\n"),
            "other sections are not confused: {a}"
        );
        let back: toml::Table = a.parse().unwrap();
        assert_eq!(back, resolved.parse::<toml::Table>().unwrap());
    }
}
