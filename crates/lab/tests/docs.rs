//! The documentation points only at things that exist: every relative link and image of the
//! README and `docs/` resolves (file and `#anchor`), every repository path quoted in backticks
//! exists, every experiment has its page `docs/experiments/<name>.md`, and no page names a
//! path of the machine it was written on.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Markdown files users read: top-level pages and everything under `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["README.md", "CHANGELOG.md", "ARCHITECTURE.md"]
        .iter()
        .map(|p| root().join(p))
        .collect();
    let mut dirs = vec![root().join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The text outside fenced code blocks.
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// GitHub's anchor of a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown text (duplicates get `-1`, `-2`, ... as on GitHub).
fn anchors(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in prose(text).lines() {
        let Some(h) = line.strip_prefix('#') else {
            continue;
        };
        let h = h.trim_start_matches('#');
        if !h.starts_with(' ') {
            continue;
        }
        let base = slug(&h.replace('`', ""));
        let mut s = base.clone();
        let mut k = 0;
        while out.contains(&s) {
            k += 1;
            s = format!("{base}-{k}");
        }
        out.push(s);
    }
    out
}

/// The targets of Markdown links and images `[text](target)` in `text` (prose only).
fn link_targets(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        match after.find(')') {
            Some(j) => {
                out.push(
                    after[..j]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_owned(),
                );
                rest = &after[j..];
            }
            None => break,
        }
    }
    out
}

/// Repository paths quoted in inline code: `crates/...`, `experiments/...`, `data/...`,
/// `docs/...`, `scripts/...`, `ci/...` without placeholders or globs.
fn quoted_paths(text: &str) -> Vec<String> {
    let prose = prose(text);
    let mut out = Vec::new();
    for (k, span) in prose.split('`').enumerate() {
        if k % 2 == 0 {
            continue;
        }
        let roots = [
            "crates/",
            "experiments/",
            "data/",
            "docs/",
            "scripts/",
            "ci/",
        ];
        let looks_like_path = roots.iter().any(|r| span.starts_with(r))
            && !span.contains(|c: char| c.is_whitespace() || "<>*{}$".contains(c));
        if looks_like_path {
            // `path:line` and `path (section)` name the file.
            out.push(span.split(':').next().unwrap().to_owned());
        }
    }
    out
}

/// The problems of one page: links, anchors and quoted paths that do not resolve.
fn problems(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let name = page
        .strip_prefix(root())
        .unwrap_or(page)
        .display()
        .to_string();
    let mut out = Vec::new();
    for target in link_targets(&text) {
        if target.starts_with("http://") || target.starts_with("https://") {
            continue;
        }
        let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
        let file_path = if file.is_empty() {
            page.to_path_buf()
        } else {
            dir.join(file)
        };
        if !file_path.exists() {
            out.push(format!("{name}: link to {target}: no such file"));
            continue;
        }
        if !anchor.is_empty() && file_path.extension().is_some_and(|e| e == "md") {
            let target_text = std::fs::read_to_string(&file_path).unwrap();
            if !anchors(&target_text).iter().any(|a| a == anchor) {
                out.push(format!("{name}: link to {target}: no heading #{anchor}"));
            }
        }
    }
    for path in quoted_paths(&text) {
        if !root().join(&path).exists() {
            out.push(format!("{name}: `{path}` does not exist"));
        }
    }
    // A section (heading of level 1 or 2) that appears twice is a pasted copy.
    let mut seen: Vec<&str> = Vec::new();
    for line in prose(&text).lines() {
        let level = line.len() - line.trim_start_matches('#').len();
        if (1..=2).contains(&level) && line[level..].starts_with(' ') {
            let h = line[level..].trim();
            if seen.contains(&h) {
                out.push(format!("{name}: section \"{h}\" appears twice"));
            }
            seen.push(h);
        }
    }
    // Spelled in parts so that this file does not itself name a machine path.
    let (work, home) = (concat!("/", "work/"), concat!("/", "home/"));
    if text.contains(work) || text.contains(home) && !text.contains(concat!("/", "home/me/")) {
        out.push(format!("{name}: names a path of this machine"));
    }
    out
}

#[test]
fn every_link_and_path_in_the_docs_resolves() {
    let all: Vec<String> = pages().iter().flat_map(|p| problems(p)).collect();
    assert!(all.is_empty(), "{}", all.join("\n"));
}

#[test]
fn every_experiment_has_its_page() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("experiments")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let page = root().join("docs/experiments").join(format!("{name}.md"));
            if !page.is_file() {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "experiments without docs/experiments/<name>.md: {missing:?}"
    );
    // The README's experiment index links every page.
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for entry in std::fs::read_dir(root().join("experiments")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            readme.contains(&format!("(docs/experiments/{name}.md)")),
            "README's experiment index lacks {name}"
        );
    }
}

#[test]
fn the_checks_catch_broken_links_and_paths() {
    let dir = std::env::temp_dir().join(format!("elise-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("page.md");
    std::fs::write(
        &page,
        "# Title (one)\n\n[ok](#title-one) [bad](#nope) [gone](missing.md) \
         `crates/no-such-crate/src/lib.rs` `crates/lab/src/lib.rs`\n\n```\n[x](ignored.md)\n```\n\
         ## Part\n### Sub\n## Part\n### Sub\n",
    )
    .unwrap();
    let found = problems(&page);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].contains("#nope") && found[1].contains("missing.md"));
    assert!(found[2].contains("no-such-crate"));
    assert!(found[3].contains("\"Part\" appears twice"), "{found:#?}");
    assert_eq!(
        slug("The step at 13 + 50 neurons"),
        "the-step-at-13--50-neurons"
    );
    assert_eq!(
        slug("(a) Neuron and the discrete step"),
        "a-neuron-and-the-discrete-step"
    );
}
