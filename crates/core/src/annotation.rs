//! Songs from syllable annotation tables: a CSV of syllables (onset, offset, label) becomes a
//! [`Pattern`] with one visible neuron per label.
//!
//! Format: a header line naming the columns `onset`, `offset` and `label` (in any order, each
//! exactly once, nothing else), then one syllable per line. Onsets and offsets are in
//! **seconds** from the start of the recording; labels are free text without commas. Blank
//! lines and lines starting with `#` are skipped. Syllables must be in time order and must not
//! overlap, and every syllable must last longer than 0 s.
//!
//! Conversion with time step `step_ms` (the song time one pattern state stands for): the song
//! starts at the first onset and ends at the last offset; state s covers song time
//! `[t0 + s step, t0 + (s + 1) step)` and neuron `label` is on in state s when the state's
//! midpoint lies inside one of that label's syllables. Rows are the labels in sorted order.
//! Gaps between syllables become silent states; the pattern wraps from the last syllable
//! straight to the first (insert silence with `pattern.silence_states` for a pause). A
//! syllable too short to contain any state's midpoint is an error naming its line.

use crate::{Pattern, PatternError};
use std::collections::BTreeSet;
use std::path::Path;

/// One annotated syllable (times in seconds) and the line it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Syllable {
    pub onset_s: f64,
    pub offset_s: f64,
    pub label: String,
    pub line: usize,
}

/// Largest annotation table read (64 MiB, like a pattern file).
pub const MAX_ANNOTATION_FILE_BYTES: u64 = 64 << 20;

/// Converts the bytes of a syllable annotation CSV with `step_ms` ms per pattern state;
/// `source` (the file as the config names it) names the input in errors, and its file stem
/// names the pattern.
pub fn song_from_bytes(bytes: &[u8], source: &str, step_ms: f64) -> Result<Pattern, PatternError> {
    if bytes.len() as u64 > MAX_ANNOTATION_FILE_BYTES {
        return Err(PatternError::whole(
            source,
            &format!(
                "larger than {} MiB: not an annotation table",
                MAX_ANNOTATION_FILE_BYTES >> 20
            ),
        ));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| PatternError::whole(source, "not UTF-8 text"))?;
    let name = Path::new(source)
        .file_stem()
        .map_or_else(|| "song".to_owned(), |s| s.to_string_lossy().into_owned());
    let syllables = parse_annotation(text, source)?;
    song_pattern(&name, &syllables, step_ms, source)
}

/// Parses the annotation CSV; `source` names the input in errors.
pub fn parse_annotation(text: &str, source: &str) -> Result<Vec<Syllable>, PatternError> {
    let err = |line: usize, problem: String| PatternError {
        source_name: source.to_owned(),
        line,
        problem,
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(k, l)| (k + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let (header_line, header) = lines.next().ok_or_else(|| {
        err(
            0,
            "no header: expected a first line naming the columns onset,offset,label".into(),
        )
    })?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    let mut idx = [None; 3];
    for (k, c) in cols.iter().enumerate() {
        let slot = match *c {
            "onset" => 0,
            "offset" => 1,
            "label" => 2,
            other => {
                return Err(err(
                    header_line,
                    format!("unknown column {other:?}; expected exactly onset, offset, label"),
                ));
            }
        };
        if idx[slot].replace(k).is_some() {
            return Err(err(header_line, format!("column {c:?} appears twice")));
        }
    }
    let [Some(i_on), Some(i_off), Some(i_lab)] = idx else {
        return Err(err(
            header_line,
            "the header must name the three columns onset, offset, label".into(),
        ));
    };
    let mut out: Vec<Syllable> = Vec::new();
    for (line, text) in lines {
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        if fields.len() != cols.len() {
            return Err(err(
                line,
                format!(
                    "{} fields, expected {} (onset, offset, label)",
                    fields.len(),
                    cols.len()
                ),
            ));
        }
        let time = |k: usize, what: &str| -> Result<f64, PatternError> {
            match fields[k].parse::<f64>() {
                Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
                Ok(t) if t.is_finite() => Err(err(line, format!("{what} {t} s is negative"))),
                _ => Err(err(
                    line,
                    format!("{what} {:?} is not a number of seconds", fields[k]),
                )),
            }
        };
        let (onset_s, offset_s) = (time(i_on, "onset")?, time(i_off, "offset")?);
        let label = fields[i_lab];
        if label.is_empty() {
            return Err(err(line, "empty label".into()));
        }
        if offset_s <= onset_s {
            return Err(err(
                line,
                format!(
                    "offset {offset_s} s is not after onset {onset_s} s (duration {:.6} s)",
                    offset_s - onset_s
                ),
            ));
        }
        if let Some(prev) = out.last() {
            if onset_s < prev.onset_s {
                return Err(err(
                    line,
                    format!(
                        "onset {onset_s} s is before the previous syllable's onset {} s (line {}): rows must be in time order",
                        prev.onset_s, prev.line
                    ),
                ));
            }
            if onset_s < prev.offset_s {
                return Err(err(
                    line,
                    format!(
                        "syllable {label:?} ({onset_s}-{offset_s} s) overlaps {:?} on line {} ({}-{} s)",
                        prev.label, prev.line, prev.onset_s, prev.offset_s
                    ),
                ));
            }
        }
        out.push(Syllable {
            onset_s,
            offset_s,
            label: label.to_owned(),
            line,
        });
    }
    if out.is_empty() {
        return Err(err(0, "no syllables after the header".into()));
    }
    Ok(out)
}

/// Converts parsed syllables into a pattern with `step_ms` ms of song per state (see the module
/// documentation).
pub fn song_pattern(
    name: &str,
    syllables: &[Syllable],
    step_ms: f64,
    source: &str,
) -> Result<Pattern, PatternError> {
    if !(step_ms.is_finite() && step_ms > 0.0) {
        return Err(PatternError::whole(
            "pattern.annotation_step_ms",
            &format!("{step_ms} ms must be a positive number of ms"),
        ));
    }
    assert!(!syllables.is_empty(), "parse_annotation returns syllables");
    let step_s = step_ms / 1000.0;
    let t0 = syllables[0].onset_s;
    let t_end = syllables.iter().map(|s| s.offset_s).fold(t0, f64::max);
    let n_states = ((t_end - t0) / step_s).round().max(1.0) as usize;
    if n_states > 100_000 {
        return Err(PatternError::whole(
            "pattern.annotation_step_ms",
            &format!("{step_ms} ms gives {n_states} states (more than 100000): use a larger step"),
        ));
    }
    let labels: Vec<&str> = syllables
        .iter()
        .map(|s| s.label.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rows = vec![vec![0u8; n_states]; labels.len()];
    for syl in syllables {
        let row = labels.binary_search(&syl.label.as_str()).expect("label");
        let mut covered = 0;
        for (s, x) in rows[row].iter_mut().enumerate() {
            let mid = t0 + (s as f64 + 0.5) * step_s;
            if mid >= syl.onset_s && mid < syl.offset_s {
                *x = 1;
                covered += 1;
            }
        }
        if covered == 0 {
            return Err(PatternError {
                source_name: source.to_owned(),
                line: syl.line,
                problem: format!(
                    "syllable {:?} ({} ms) covers no pattern state at a step of {step_ms} ms: use a smaller pattern.annotation_step_ms",
                    syl.label,
                    (syl.offset_s - syl.onset_s) * 1000.0
                ),
            });
        }
    }
    Ok(Pattern::from_rows(name, &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../data/annotations/example_song.csv");

    #[test]
    fn example_annotation_converts_to_a_song_pattern() {
        let syl = parse_annotation(EXAMPLE, "example_song.csv").unwrap();
        assert!(syl.len() >= 8);
        let p = song_pattern("example_song", &syl, 10.0, "x").unwrap();
        // One row per label, sorted; every label sings at least once.
        let labels: BTreeSet<&str> = syl.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(p.n_neurons(), labels.len());
        for i in 0..p.n_neurons() {
            assert!(p.row(i).contains(&1), "label row {i} is silent");
        }
        // Song length / step states, no two labels at once (syllables do not overlap).
        let t = syl.last().unwrap().offset_s - syl[0].onset_s;
        assert_eq!(p.n_states(), (t / 0.01).round() as usize);
        for s in 0..p.n_states() {
            assert!((0..p.n_neurons()).map(|i| p.row(i)[s]).sum::<u8>() <= 1);
        }
        // The first state belongs to the first syllable.
        let first = labels.iter().position(|l| *l == syl[0].label).unwrap();
        assert_eq!(p.row(first)[0], 1);
        // A coarser step gives proportionally fewer states.
        let coarse = song_pattern("x", &syl, 20.0, "x").unwrap();
        assert_eq!(coarse.n_states(), (t / 0.02).round() as usize);
    }

    fn problem(text: &str) -> PatternError {
        parse_annotation(text, "bad.csv").unwrap_err()
    }

    #[test]
    fn malformed_rows_are_rejected_naming_the_line() {
        let e = problem("onset,offset,label,pitch\n0,0.1,a,3\n");
        assert_eq!(e.line, 1);
        assert!(e.problem.contains("unknown column \"pitch\""), "{e}");
        let e = problem("onset,offset\n0,0.1\n");
        assert!(e.problem.contains("three columns"), "{e}");
        let e = problem("onset,offset,label\n0,0.1,a\n0.2,0.15,b\n");
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("not after onset"), "{e}");
        let e = problem("onset,offset,label\n0,0.1,a\n0.05,0.2,b\n");
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("overlaps \"a\" on line 2"), "{e}");
        let e = problem("# comment\n\nlabel,onset,offset\na,0.3,0.4\nb,0.1,0.2\n");
        assert_eq!(e.line, 5);
        assert!(e.problem.contains("time order"), "{e}");
        let e = problem("onset,offset,label\n-0.1,0.1,a\n");
        assert!(e.problem.contains("negative"), "{e}");
        let e = problem("onset,offset,label\n0,x,a\n");
        assert!(e.problem.contains("\"x\""), "{e}");
        let e = problem("onset,offset,label\n0,0.1\n");
        assert!(e.problem.contains("2 fields, expected 3"), "{e}");
        let e = problem("onset,offset,label\n0,0.1,\n");
        assert!(e.problem.contains("empty label"), "{e}");
        assert_eq!(problem("onset,offset,label\n").line, 0);
        assert!(format!("{}", problem("onset,offset,label\n0,0.1\n")).starts_with("bad.csv:2: "));
        // Too short for the step.
        let syl = parse_annotation("onset,offset,label\n0,0.1,a\n0.1,0.102,b\n", "s.csv").unwrap();
        let e = song_pattern("s", &syl, 10.0, "s.csv").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("covers no pattern state"), "{e}");
    }

    #[test]
    fn reordered_columns_parse() {
        let syl = parse_annotation("label,offset,onset\nb,0.05,0\na,0.1,0.05\n", "x").unwrap();
        let p = song_pattern("x", &syl, 10.0, "x").unwrap();
        assert_eq!(p.row(0), &[0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
        assert_eq!(p.row(1), &[1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    }
}
