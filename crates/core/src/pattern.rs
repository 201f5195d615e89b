//! Binary target patterns: one row per visible neuron, one column per pattern state.
//!
//! Text format (MODEL.md (j)): a header line `# name: NAME nNeurons: V nSteps: S`, then V lines
//! of S values `0` or `1` separated by spaces. Blank lines at the end are ignored.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `[pattern]` table of an experiment config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// Pattern file; empty for the built-in Für Elise.
    pub file: String,
    /// Duration of one pattern state in ms.
    pub state_ms: f64,
}

impl PatternConfig {
    /// Loads the configured pattern.
    pub fn load(&self) -> Result<Pattern, PatternError> {
        if self.file.is_empty() {
            Ok(Pattern::fuer_elise())
        } else {
            Pattern::load(Path::new(&self.file))
        }
    }

    /// Integration steps per state, if `state_ms` is a positive whole multiple of `dt_ms`.
    pub fn steps_per_state(&self, dt_ms: f64) -> Result<usize, String> {
        let steps = self.state_ms / dt_ms;
        let rounded = steps.round();
        if !(rounded >= 1.0 && (steps - rounded).abs() < 1e-6 && rounded < 1e7) {
            return Err(format!(
                "{} ms is not a positive whole multiple of dt = {dt_ms} ms",
                self.state_ms
            ));
        }
        Ok(rounded as usize)
    }
}

/// The Für Elise pattern of the paper (13 neurons x 25 states), as shipped in `data/patterns`.
pub const FUER_ELISE_TEXT: &str = include_str!("../../../data/patterns/fuer_elise.txt");

/// A binary pattern, `V x S`, row-major (row = neuron).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    name: String,
    n_neurons: usize,
    n_states: usize,
    states: Vec<u8>,
}

/// Why a pattern file was rejected: which source, which line (1-based; 0 = whole file), what.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}:{line}: {problem}")]
pub struct PatternError {
    pub source_name: String,
    pub line: usize,
    pub problem: String,
}

impl Pattern {
    /// Builds a pattern from rows of 0/1.
    ///
    /// # Panics
    /// If rows are empty, ragged or hold values other than 0 and 1 (use [`Pattern::parse`] for
    /// untrusted input).
    pub fn from_rows(name: &str, rows: &[Vec<u8>]) -> Self {
        assert!(!rows.is_empty() && !rows[0].is_empty(), "empty pattern");
        let n_states = rows[0].len();
        assert!(rows.iter().all(|r| r.len() == n_states), "ragged pattern");
        let states: Vec<u8> = rows.concat();
        assert!(
            states.iter().all(|&x| x <= 1),
            "pattern values must be 0 or 1"
        );
        Self {
            name: name.to_owned(),
            n_neurons: rows.len(),
            n_states,
            states,
        }
    }

    /// The built-in Für Elise pattern.
    pub fn fuer_elise() -> Self {
        Self::parse(FUER_ELISE_TEXT, "data/patterns/fuer_elise.txt")
            .expect("built-in pattern is valid")
    }

    /// Reads and parses a pattern file.
    pub fn load(path: &Path) -> Result<Self, PatternError> {
        let source_name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| PatternError {
            source_name: source_name.clone(),
            line: 0,
            problem: format!("cannot read pattern file: {e}"),
        })?;
        let text = String::from_utf8(bytes).map_err(|e| PatternError {
            source_name: source_name.clone(),
            line: 0,
            problem: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Self::parse(&text, &source_name)
    }

    /// Parses the pattern text format; `source_name` names the input in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PatternError> {
        let err = |line: usize, problem: String| PatternError {
            source_name: source_name.to_owned(),
            line,
            problem,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
        let (_, header) = lines.next().ok_or_else(|| {
            err(
                0,
                "empty file: expected a header line `# name: NAME nNeurons: V nSteps: S`".into(),
            )
        })?;
        let (name, n_neurons, n_states) = parse_header(header).map_err(|p| err(1, p))?;
        let mut states = Vec::with_capacity(n_neurons * n_states);
        let mut n_rows = 0;
        let mut last_line = 1;
        for (line_no, line) in lines {
            last_line = line_no;
            if line.trim().is_empty() {
                continue;
            }
            if n_rows == n_neurons {
                return Err(err(
                    line_no,
                    format!("more rows than nNeurons = {n_neurons} declared in the header"),
                ));
            }
            let before = states.len();
            for (col, tok) in line.split_whitespace().enumerate() {
                match tok {
                    "0" => states.push(0),
                    "1" => states.push(1),
                    _ => {
                        return Err(err(
                            line_no,
                            format!("value {tok:?} in column {} is not 0 or 1", col + 1),
                        ));
                    }
                }
            }
            let got = states.len() - before;
            if got != n_states {
                return Err(err(
                    line_no,
                    format!(
                        "row of neuron {n_rows} has {got} values, expected nSteps = {n_states}"
                    ),
                ));
            }
            n_rows += 1;
        }
        if n_rows != n_neurons {
            return Err(err(
                last_line,
                format!("found {n_rows} rows, expected nNeurons = {n_neurons}"),
            ));
        }
        Ok(Self {
            name,
            n_neurons,
            n_states,
            states,
        })
    }

    /// Writes the pattern in its text format.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "# name: {} nNeurons: {} nSteps: {}\n",
            self.name, self.n_neurons, self.n_states
        );
        for i in 0..self.n_neurons {
            let row: Vec<&str> = self
                .row(i)
                .iter()
                .map(|&x| if x == 1 { "1" } else { "0" })
                .collect();
            s.push_str(&row.join(" "));
            s.push('\n');
        }
        s
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn n_neurons(&self) -> usize {
        self.n_neurons
    }
    pub fn n_states(&self) -> usize {
        self.n_states
    }
    /// States of neuron `i`.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.states[i * self.n_states..(i + 1) * self.n_states]
    }
    /// Value of neuron `i` in state `s`, with `s` wrapping around the cycle.
    pub fn at(&self, i: usize, s: isize) -> u8 {
        let n = self.n_states as isize;
        self.row(i)[s.rem_euclid(n) as usize]
    }
}

fn parse_header(line: &str) -> Result<(String, usize, usize), String> {
    let expected = "expected a header `# name: NAME nNeurons: V nSteps: S`";
    let rest = line
        .strip_prefix('#')
        .ok_or_else(|| format!("{expected}, got {line:?}"))?;
    let toks: Vec<&str> = rest.split_whitespace().collect();
    let mut name = None;
    let mut n_neurons = None;
    let mut n_states = None;
    let mut k = 0;
    while k < toks.len() {
        let key = toks[k];
        let val = toks
            .get(k + 1)
            .ok_or_else(|| format!("header key {key:?} has no value; {expected}"))?;
        let count = |v: &str| -> Result<usize, String> {
            let n: usize = v
                .parse()
                .map_err(|_| format!("header {key} {v:?} is not a whole number"))?;
            if n == 0 {
                return Err(format!(
                    "header {key} is 0: a pattern needs at least one neuron and one state"
                ));
            }
            Ok(n)
        };
        match key {
            "name:" => name = Some((*val).to_owned()),
            "nNeurons:" => n_neurons = Some(count(val)?),
            "nSteps:" => n_states = Some(count(val)?),
            other => return Err(format!("unknown header key {other:?}; {expected}")),
        }
        k += 2;
    }
    match (name, n_neurons, n_states) {
        (Some(a), Some(b), Some(c)) => Ok((a, b, c)),
        _ => Err(format!("header is missing a key; {expected}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuer_elise_matches_spec_table() {
        let p = Pattern::fuer_elise();
        assert_eq!((p.n_neurons(), p.n_states()), (13, 25));
        let active: [&[usize]; 25] = [
            &[6],
            &[0],
            &[1],
            &[0],
            &[1],
            &[0],
            &[4],
            &[2],
            &[3],
            &[5, 11],
            &[5, 10],
            &[5, 8],
            &[7],
            &[6],
            &[5],
            &[4, 12],
            &[4, 10],
            &[4, 9],
            &[6],
            &[3],
            &[4, 11],
            &[5, 10],
            &[5],
            &[5, 8],
            &[6],
        ];
        for (s, rows) in active.iter().enumerate() {
            for i in 0..13 {
                assert_eq!(
                    p.at(i, s as isize) == 1,
                    rows.contains(&i),
                    "neuron {i} state {s}"
                );
            }
        }
        assert_eq!(Pattern::parse(&p.to_text(), "roundtrip").unwrap(), p);
    }

    fn problem(text: &str) -> PatternError {
        Pattern::parse(text, "p.txt").unwrap_err()
    }

    #[test]
    fn malformed_files_name_line_and_problem() {
        let e = problem("");
        assert_eq!(e.line, 0);
        assert!(e.problem.contains("empty"));
        let e = problem("name: x nNeurons: 1 nSteps: 2\n0 1\n");
        assert_eq!(e.line, 1);
        let e = problem("# name: x nNeurons: 0 nSteps: 2\n");
        assert!(e.problem.contains("is 0"), "{e}");
        let e = problem("# name: x nNeurons: 2 nSteps: 0\n");
        assert!(e.problem.contains("is 0"));
        let e = problem("# name: x nNeurons: 2 nSteps: 3\n0 1 0\n1 1\n");
        assert_eq!(e.line, 3);
        assert!(e.problem.contains("2 values, expected nSteps = 3"), "{e}");
        let e = problem("# name: x nNeurons: 1 nSteps: 3\n0 2 0\n");
        assert_eq!(e.line, 2);
        assert!(e.problem.contains("\"2\""));
        let e = problem("# name: x nNeurons: 2 nSteps: 1\n1\n");
        assert!(
            e.problem.contains("found 1 rows, expected nNeurons = 2"),
            "{e}"
        );
        let e = problem("# name: x nNeurons: 1 nSteps: 1\n1\n0\n");
        assert_eq!(e.line, 3);
        let e = problem("# name: x nNeurons: 1 nSteps: 1 extra: 3\n1\n");
        assert!(e.problem.contains("unknown header key"));
        assert!(format!("{e}").starts_with("p.txt:1: "));
    }

    #[test]
    fn non_utf8_file_is_rejected_with_its_name() {
        let path = std::env::temp_dir().join(format!("elise-pattern-{}.bin", std::process::id()));
        std::fs::write(&path, [0xff, 0xfe, 0x00, 0x41]).unwrap();
        let e = Pattern::load(&path).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(e.problem.contains("not UTF-8"));
        assert!(e.source_name.contains("elise-pattern-"));
    }
}
