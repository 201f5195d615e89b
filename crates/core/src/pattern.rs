//! Target patterns: one row per visible neuron, one column per pattern state.
//!
//! Text format (docs/model.md (j)): a header line `# name: NAME nNeurons: V nSteps: S`, then V lines
//! of S values `0` or `1` separated by spaces. Blank lines at the end are ignored. A value
//! between 0 and 1 written with a decimal point (`0.5`) is a graded note: on, with that
//! amplitude (the teacher's target rises `amplitude x 20 mV` above rest instead of 20 mV).
//!
//! Variants a config can switch on ([`PatternConfig`]): silent states inserted into the pattern,
//! graded note amplitudes, a song from a syllable annotation table (`crate::annotation`), and a
//! second pattern stacked below the first as a second visible population.

use crate::Inputs;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Whether a pattern key's value names a file: not empty and not a built-in name.
fn is_file_name(name_or_path: &str) -> bool {
    !name_or_path.is_empty() && !BUILT_IN.iter().any(|(n, _)| *n == name_or_path)
}

/// The `[pattern]` table of an experiment config. Every key after `state_ms` is optional in
/// files (its default leaves the pattern as it is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternConfig {
    /// Pattern file, or the name of a built-in pattern (`fuer_elise`, `ode_to_joy`); empty
    /// for the built-in Für Elise.
    pub file: String,
    /// Duration of one pattern state in ms.
    pub state_ms: f64,
    /// Syllable annotation CSV (`onset,offset,label`, seconds) to use instead of `file`; "" = none.
    #[serde(default)]
    pub annotation_file: String,
    /// Song time per pattern state when converting `annotation_file`, in ms.
    #[serde(default = "default_annotation_step_ms")]
    pub annotation_step_ms: f64,
    /// A second pattern file stacked below the first (a second visible population with its own
    /// pattern, same number of states); "" = none.
    #[serde(default)]
    pub second_file: String,
    /// Number of silent states (all neurons off) inserted before state `silence_at`; 0 = none.
    #[serde(default)]
    pub silence_states: usize,
    /// Where the silent states go (0 = before the first state, S = after the last).
    #[serde(default)]
    pub silence_at: usize,
    /// Number of states, from state `mute_at` on, whose notes are all switched off in place
    /// (the pattern keeps its length; the lab fork's "silence" variant mutes the middle third,
    /// `mute_at = 8`, `mute_states = 9`); 0 = none. Applied after `silence_states`.
    #[serde(default)]
    pub mute_states: usize,
    /// First muted state (0-based, in the pattern after inserted silence).
    #[serde(default)]
    pub mute_at: usize,
    /// Graded notes: each note (a run of on-states of one neuron) gets one of four amplitudes
    /// evenly spaced in `[amplitude_min, amplitude_max]`, cycling in order of onset; both 1 =
    /// binary pattern.
    #[serde(default = "default_amplitude")]
    pub amplitude_min: f64,
    /// Largest graded amplitude, at most [`MAX_AMPLITUDE`] (above 1 a note's target rises above
    /// the full 20 mV, as in the lab fork's "color" variant with amplitudes in [0.3, 1.2]).
    #[serde(default = "default_amplitude")]
    pub amplitude_max: f64,
    /// Ornstein-Uhlenbeck noise on the teacher's target potential during training: standard
    /// deviation in mV (0 = clean teacher) and correlation time in ms.
    #[serde(default)]
    pub tutor_noise_sigma_mv: f64,
    #[serde(default = "default_tutor_noise_tau_ms")]
    pub tutor_noise_tau_ms: f64,
}

fn default_annotation_step_ms() -> f64 {
    10.0
}
fn default_amplitude() -> f64 {
    1.0
}
fn default_tutor_noise_tau_ms() -> f64 {
    10.0
}

impl PatternConfig {
    /// Loads the configured pattern with its variants applied, in this order: the base pattern
    /// (`annotation_file`, else `file`, else Für Elise), the stacked `second_file`, inserted
    /// silence, muted states, graded amplitudes. Files are taken from `inputs` (read by the
    /// harness; see [`PatternConfig::input_files`]); built-in names need none. Errors name the
    /// key or file.
    pub fn load(&self, inputs: &Inputs) -> Result<Pattern, PatternError> {
        let mut p = if !self.annotation_file.is_empty() {
            if !self.file.is_empty() {
                return Err(PatternError::whole(
                    "pattern.annotation_file",
                    "set either pattern.file or pattern.annotation_file, not both",
                ));
            }
            let bytes = inputs
                .require(&self.annotation_file)
                .map_err(|p| PatternError::whole(&self.annotation_file, &p))?;
            crate::annotation::song_from_bytes(
                bytes,
                &self.annotation_file,
                self.annotation_step_ms,
            )?
        } else if self.file.is_empty() {
            Pattern::fuer_elise()
        } else {
            Pattern::load_named(&self.file, inputs)?
        };
        if !self.second_file.is_empty() {
            let second = Pattern::load_named(&self.second_file, inputs)?;
            p = p
                .stacked(&second)
                .map_err(|m| PatternError::whole("pattern.second_file", &m))?;
        }
        if self.silence_states > 0 {
            p = p
                .with_silence(self.silence_at, self.silence_states)
                .map_err(|m| PatternError::whole("pattern.silence_at", &m))?;
        }
        if self.mute_states > 0 {
            p = p
                .muted(self.mute_at, self.mute_states)
                .map_err(|m| PatternError::whole("pattern.mute_at", &m))?;
        }
        if self.amplitude_min != 1.0 || self.amplitude_max != 1.0 {
            p = p
                .graded(self.amplitude_min, self.amplitude_max)
                .map_err(|m| PatternError::whole("pattern.amplitude_min", &m))?;
        }
        Ok(p)
    }

    /// The files this config reads, as (config key, path as written, largest size accepted):
    /// `annotation_file` (or else `file`) and `second_file`, unless empty or the name of a
    /// built-in pattern ([`BUILT_IN`]).
    pub fn input_files(&self) -> Vec<(&'static str, &str, u64)> {
        let mut files = Vec::new();
        if !self.annotation_file.is_empty() {
            files.push((
                "pattern.annotation_file",
                self.annotation_file.as_str(),
                crate::annotation::MAX_ANNOTATION_FILE_BYTES,
            ));
        } else if is_file_name(&self.file) {
            files.push(("pattern.file", self.file.as_str(), MAX_PATTERN_FILE_BYTES));
        }
        if is_file_name(&self.second_file) {
            files.push((
                "pattern.second_file",
                self.second_file.as_str(),
                MAX_PATTERN_FILE_BYTES,
            ));
        }
        files
    }

    /// Whether the tutor is noisy (`tutor_noise_sigma_mv > 0`).
    pub fn noisy_tutor(&self) -> bool {
        self.tutor_noise_sigma_mv > 0.0
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

/// Largest note amplitude a pattern may hold (file values and `amplitude_max`).
pub const MAX_AMPLITUDE: f64 = 2.0;

/// Largest pattern file [`Pattern::load`] reads (64 MiB).
pub const MAX_PATTERN_FILE_BYTES: u64 = 64 << 20;

/// The Für Elise pattern of the paper (13 neurons x 25 states), as shipped in `data/patterns`.
pub const FUER_ELISE_TEXT: &str = include_str!("../../../data/patterns/fuer_elise.txt");

/// Patterns built into the binaries (`data/patterns/<name>.txt`), usable by name in configs.
pub const BUILT_IN: [(&str, &str); 2] = [
    ("fuer_elise", FUER_ELISE_TEXT),
    (
        "ode_to_joy",
        include_str!("../../../data/patterns/ode_to_joy.txt"),
    ),
];

/// A pattern, `V x S`, row-major (row = neuron): on/off states and, for graded patterns, the
/// amplitude of every on-state (1 for binary patterns).
#[derive(Clone, Debug)]
pub struct Pattern {
    name: String,
    n_neurons: usize,
    n_states: usize,
    states: Vec<u8>,
    /// Amplitude per entry (`V x S`, row-major; 0 where off); `None` for a binary pattern.
    amplitude: Option<Vec<f64>>,
}

/// Equal names, shapes, states and amplitudes (amplitudes compared bit for bit).
impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        let amp_bits = |p: &Self| {
            p.amplitude
                .as_ref()
                .map(|a| a.iter().map(|x| x.to_bits()).collect::<Vec<u64>>())
        };
        self.name == other.name
            && self.n_neurons == other.n_neurons
            && self.n_states == other.n_states
            && self.states == other.states
            && amp_bits(self) == amp_bits(other)
    }
}
impl Eq for Pattern {}

/// Why a pattern file was rejected: which source, which line (1-based; 0 = whole file), what.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{source_name}:{line}: {problem}")]
pub struct PatternError {
    pub source_name: String,
    pub line: usize,
    pub problem: String,
}

impl PatternError {
    /// An error about a whole input (line 0), e.g. a config key.
    pub fn whole(source_name: &str, problem: &str) -> Self {
        Self {
            source_name: source_name.to_owned(),
            line: 0,
            problem: problem.to_owned(),
        }
    }
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
            amplitude: None,
        }
    }

    /// The built-in Für Elise pattern.
    pub fn fuer_elise() -> Self {
        Self::parse(FUER_ELISE_TEXT, "data/patterns/fuer_elise.txt")
            .expect("built-in pattern is valid")
    }

    /// A built-in pattern by name ([`BUILT_IN`], e.g. `ode_to_joy`) or else a pattern file,
    /// taken from `inputs` (its path is the source name in errors).
    pub fn load_named(name_or_path: &str, inputs: &Inputs) -> Result<Self, PatternError> {
        match BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            Some((n, text)) => Self::parse(text, &format!("data/patterns/{n}.txt")),
            None => {
                let bytes = inputs
                    .require(name_or_path)
                    .map_err(|p| PatternError::whole(name_or_path, &p))?;
                Self::from_bytes(bytes, name_or_path)
            }
        }
    }

    /// Reads and parses a pattern file (at most [`MAX_PATTERN_FILE_BYTES`]; reading stops
    /// there, so a huge file cannot exhaust memory). For tools and tests: experiments get their
    /// files from the harness ([`PatternConfig::load`]), which also refuses devices and FIFOs.
    pub fn load(path: &Path) -> Result<Self, PatternError> {
        use std::io::Read as _;
        let source_name = path.display().to_string();
        let read_err = |e: std::io::Error| PatternError {
            source_name: source_name.clone(),
            line: 0,
            problem: format!("cannot read pattern file: {e}"),
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PATTERN_FILE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(read_err)?;
        Self::from_bytes(&bytes, &source_name)
    }

    /// Parses the bytes of a pattern file: at most [`MAX_PATTERN_FILE_BYTES`], UTF-8, then
    /// [`Pattern::parse`]; `source_name` names the input in errors.
    pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<Self, PatternError> {
        if bytes.len() as u64 > MAX_PATTERN_FILE_BYTES {
            return Err(PatternError {
                source_name: source_name.to_owned(),
                line: 0,
                problem: format!(
                    "larger than {} MiB: not a pattern file (a pattern has one short line per neuron)",
                    MAX_PATTERN_FILE_BYTES >> 20
                ),
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| PatternError {
            source_name: source_name.to_owned(),
            line: 0,
            problem: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        })?;
        Self::parse(text, source_name)
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
        let (name, n_neurons, n_states) = match parse_header(header) {
            Ok(h) => h,
            Err(p) => match index_form_line(text) {
                Some((line_no, line)) => return Self::parse_index_form(line, line_no, source_name),
                None => return Err(err(1, p)),
            },
        };
        // Every value takes at least one byte: a header announcing more values than the text
        // has bytes is wrong (and must not reserve memory for them).
        let n_values = n_neurons
            .checked_mul(n_states)
            .filter(|&v| v <= text.len())
            .ok_or_else(|| {
                err(
                    1,
                    format!(
                        "the header announces nNeurons x nSteps = {n_neurons} x {n_states} values, more than the text's {} bytes can hold",
                        text.len()
                    ),
                )
            })?;
        let mut states = Vec::with_capacity(n_values);
        let mut amplitude = Vec::with_capacity(n_values);
        let mut graded = false;
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
                let a = match tok {
                    "0" => 0.0,
                    "1" => 1.0,
                    _ => match tok.parse::<f64>() {
                        Ok(a) if tok.contains('.') && a > 0.0 && a <= MAX_AMPLITUDE => {
                            graded = true;
                            a
                        }
                        Ok(a) if tok.contains('.') && a == 0.0 => 0.0,
                        _ => {
                            return Err(err(
                                line_no,
                                format!(
                                    "value {tok:?} in column {} is not 0, 1 or a graded amplitude in (0, {MAX_AMPLITUDE}] like 0.5",
                                    col + 1
                                ),
                            ));
                        }
                    },
                };
                states.push(u8::from(a > 0.0));
                amplitude.push(a);
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
            amplitude: graded.then_some(amplitude),
        })
    }

    /// The lab's index form: `# free text` line(s), then one comma-separated line giving, per
    /// state, which neuron is on (0-based; neurons = largest index + 1; one neuron on per
    /// state). The name is the file name of `source_name` without its extension.
    fn parse_index_form(
        line: &str,
        line_no: usize,
        source_name: &str,
    ) -> Result<Self, PatternError> {
        let err = |problem: String| PatternError {
            source_name: source_name.to_owned(),
            line: line_no,
            problem,
        };
        let mut on = Vec::new();
        for (col, tok) in line.split(',').enumerate() {
            let tok = tok.trim();
            match tok.parse::<usize>() {
                Ok(i) if i < MAX_INDEX_FORM_NEURONS => on.push(i),
                _ => {
                    return Err(err(format!(
                        "index form: entry {} is {tok:?}, expected the index of the neuron on in that state (a whole number below {MAX_INDEX_FORM_NEURONS})",
                        col + 1
                    )));
                }
            }
        }
        let n_neurons = on.iter().max().map_or(0, |&m| m + 1);
        let n_states = on.len();
        let mut states = vec![0u8; n_neurons * n_states];
        for (s, &i) in on.iter().enumerate() {
            states[i * n_states + s] = 1;
        }
        let name = std::path::Path::new(source_name).file_stem().map_or_else(
            || "pattern".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Self {
            name,
            n_neurons,
            n_states,
            states,
            amplitude: None,
        })
    }

    /// Writes the pattern in its text format.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "# name: {} nNeurons: {} nSteps: {}\n",
            self.name, self.n_neurons, self.n_states
        );
        for i in 0..self.n_neurons {
            let row: Vec<String> = (0..self.n_states)
                .map(|s| match (self.row(i)[s], self.amplitude_at(i, s)) {
                    (0, _) => "0".to_owned(),
                    (_, 1.0) => "1".to_owned(),
                    (_, a) => format!("{a:?}"),
                })
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

    /// Whether some note has an amplitude other than 1.
    pub fn is_graded(&self) -> bool {
        self.amplitude.is_some()
    }

    /// Amplitude of neuron `i` in state `s` (wrapping): 0 when off, 1 for a binary pattern.
    pub fn amplitude(&self, i: usize, s: isize) -> f64 {
        let s = s.rem_euclid(self.n_states as isize) as usize;
        self.amplitude_at(i, s)
    }

    fn amplitude_at(&self, i: usize, s: usize) -> f64 {
        let k = i * self.n_states + s;
        match &self.amplitude {
            Some(a) => a[k],
            None => f64::from(self.states[k]),
        }
    }

    fn amplitudes(&self) -> Vec<f64> {
        (0..self.n_neurons)
            .flat_map(|i| (0..self.n_states).map(move |s| (i, s)))
            .map(|(i, s)| self.amplitude_at(i, s))
            .collect()
    }

    /// A pattern from amplitudes (`V x S`, row-major, 0 = off); binary if all are 0 or 1.
    fn from_amplitudes(name: String, n_neurons: usize, n_states: usize, amp: Vec<f64>) -> Self {
        let states = amp.iter().map(|&a| u8::from(a > 0.0)).collect();
        let graded = amp.iter().any(|&a| a != 0.0 && a != 1.0);
        Self {
            name,
            n_neurons,
            n_states,
            states,
            amplitude: graded.then_some(amp),
        }
    }

    /// `other`'s rows appended below this pattern's (two visible populations on one cycle).
    pub fn stacked(&self, other: &Pattern) -> Result<Pattern, String> {
        if other.n_states != self.n_states {
            return Err(format!(
                "{} has {} states but {} has {}: stacked patterns share one cycle",
                other.name, other.n_states, self.name, self.n_states
            ));
        }
        let mut amp = self.amplitudes();
        amp.extend(other.amplitudes());
        Ok(Self::from_amplitudes(
            format!("{}+{}", self.name, other.name),
            self.n_neurons + other.n_neurons,
            self.n_states,
            amp,
        ))
    }

    /// This pattern with `n` silent states (every neuron off) inserted before state `at`.
    pub fn with_silence(&self, at: usize, n: usize) -> Result<Pattern, String> {
        if at > self.n_states {
            return Err(format!(
                "silence_at = {at} is beyond the pattern's {} states (at most {0})",
                self.n_states
            ));
        }
        let s_new = self.n_states + n;
        let mut amp = Vec::with_capacity(self.n_neurons * s_new);
        for i in 0..self.n_neurons {
            let row: Vec<f64> = (0..self.n_states)
                .map(|s| self.amplitude_at(i, s))
                .collect();
            amp.extend_from_slice(&row[..at]);
            amp.extend(std::iter::repeat_n(0.0, n));
            amp.extend_from_slice(&row[at..]);
        }
        Ok(Self::from_amplitudes(
            format!("{}-silence{n}at{at}", self.name),
            self.n_neurons,
            s_new,
            amp,
        ))
    }

    /// This pattern with every note in states `at .. at + n` switched off (same length).
    pub fn muted(&self, at: usize, n: usize) -> Result<Pattern, String> {
        if at.checked_add(n).is_none_or(|end| end > self.n_states) {
            return Err(format!(
                "mute_at = {at} with mute_states = {n} reaches beyond the pattern's {} states",
                self.n_states
            ));
        }
        let mut amp = self.amplitudes();
        for i in 0..self.n_neurons {
            let row = i * self.n_states;
            amp[row + at..row + at + n].fill(0.0);
        }
        Ok(Self::from_amplitudes(
            format!("{}-mute{n}at{at}", self.name),
            self.n_neurons,
            self.n_states,
            amp,
        ))
    }

    /// Graded notes: a note is a maximal run of on-states of one neuron (across the wrap); notes
    /// are numbered in order of onset state (then neuron), and note k gets amplitude
    /// `min + (max - min) * (k mod 4) / 3`. Replaces any amplitudes the pattern had.
    pub fn graded(&self, min: f64, max: f64) -> Result<Pattern, String> {
        if !(min > 0.0 && min <= max && max <= MAX_AMPLITUDE) {
            return Err(format!(
                "amplitudes [{min}, {max}] must satisfy 0 < amplitude_min <= amplitude_max <= {MAX_AMPLITUDE}"
            ));
        }
        let s_len = self.n_states;
        // Onsets: on-states whose predecessor (wrapping) is off.
        let mut onsets: Vec<(usize, usize)> = Vec::new();
        for s in 0..s_len {
            for i in 0..self.n_neurons {
                if self.at(i, s as isize) == 1 && self.at(i, s as isize - 1) == 0 {
                    onsets.push((s, i));
                }
            }
        }
        let mut amp = vec![0.0; self.n_neurons * s_len];
        for (k, &(s0, i)) in onsets.iter().enumerate() {
            let a = min + (max - min) * (k % 4) as f64 / 3.0;
            let mut s = s0;
            while self.row(i)[s] == 1 {
                amp[i * s_len + s] = a;
                s = (s + 1) % s_len;
                if s == s0 {
                    break;
                }
            }
        }
        // A neuron on in every state has no onset: the largest amplitude.
        for i in 0..self.n_neurons {
            if self.row(i).iter().all(|&x| x == 1) {
                amp[i * s_len..(i + 1) * s_len].fill(max);
            }
        }
        let name = if max == 1.0 {
            format!("{}-graded{min}", self.name)
        } else {
            format!("{}-graded{min}-{max}", self.name)
        };
        Ok(Self::from_amplitudes(name, self.n_neurons, s_len, amp))
    }
}

/// Largest neuron index + 1 of the index form.
const MAX_INDEX_FORM_NEURONS: usize = 8192;

/// The data line of the index form (see [`Pattern::parse_index_form`]) and its number: the
/// text starts with a `#` line, and its only other non-blank, non-`#` line holds a comma.
fn index_form_line(text: &str) -> Option<(usize, &str)> {
    if !text.starts_with('#') {
        return None;
    }
    let mut data = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let first = data.next()?;
    (data.next().is_none() && first.1.contains(',')).then_some(first)
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
    fn index_form_loads_as_written() {
        let text = "# Fuer Elise, first bar: which of 7 neurons is on in each of 12 states\n4,3,4,3,4,1,3,2,0,0,6,5\n";
        let p = Pattern::parse(text, "data/excerpt.txt").unwrap();
        assert_eq!((p.name(), p.n_neurons(), p.n_states()), ("excerpt", 7, 12));
        assert_eq!(p.row(4), &[1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(p.row(6), &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
        for s in 0..12 {
            assert_eq!((0..7).map(|i| p.row(i)[s] as usize).sum::<usize>(), 1);
        }
        let e = Pattern::parse("# x\n1,2,a\n", "x.txt").unwrap_err();
        assert!(e.to_string().contains("entry 3") && e.line == 2, "{e}");
        // Not the index form: the header error stays.
        let e = Pattern::parse("# nme: x\n0 1\n", "x.txt").unwrap_err();
        assert!(e.to_string().contains("header"), "{e}");
    }

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
    fn variants_silence_graded_stacked() {
        let p = Pattern::fuer_elise();
        let s = p.with_silence(25, 5).unwrap();
        assert_eq!((s.n_neurons(), s.n_states()), (13, 30));
        assert!((25..30).all(|k| (0..13).all(|i| s.row(i)[k] == 0)));
        assert_eq!(&s.row(6)[..25], p.row(6));
        let mid = p.with_silence(10, 2).unwrap();
        assert_eq!(mid.row(5)[9], 1);
        assert_eq!((mid.row(5)[10], mid.row(5)[11], mid.row(5)[12]), (0, 0, 1));
        assert!(p.with_silence(26, 1).unwrap_err().contains("beyond"));

        let g = p.graded(0.4, 1.0).unwrap();
        assert!(g.is_graded());
        // Same on/off states; one amplitude per note; four levels from 0.4 to 1.
        for i in 0..13 {
            assert_eq!(g.row(i), p.row(i));
        }
        let mut levels: Vec<u64> = (0..13)
            .flat_map(|i| (0..25).map(move |s| (i, s)))
            .map(|(i, s)| g.amplitude(i, s))
            .filter(|&a| a > 0.0)
            .map(|a| (a * 1000.0).round() as u64)
            .collect();
        levels.sort_unstable();
        levels.dedup();
        assert_eq!(levels, vec![400, 600, 800, 1000]);
        // Neuron 5's held note (states 9-11) has one amplitude; neuron 6's run across the wrap
        // (states 24 and 0) too.
        assert_eq!(g.amplitude(5, 9), g.amplitude(5, 11));
        assert_eq!(g.amplitude(6, 24), g.amplitude(6, 0));
        assert!(p.graded(0.0, 1.0).is_err());
        assert!(p.graded(0.5, 0.4).is_err());
        assert!(p.graded(0.5, MAX_AMPLITUDE + 0.1).is_err());
        assert!(!p.graded(1.0, 1.0).unwrap().is_graded());
        // Above full amplitude (the fork's "color" variant): levels 0.3, 0.6, 0.9, 1.2; the
        // text format keeps them.
        let color = p.graded(0.3, 1.2).unwrap();
        let top = (0..13)
            .flat_map(|i| (0..25).map(move |s| (i, s)))
            .map(|(i, s)| color.amplitude(i, s))
            .fold(0.0, f64::max);
        assert!((top - 1.2).abs() < 1e-12, "{top}");
        assert_eq!(Pattern::parse(&color.to_text(), "c").unwrap(), color);

        // Muting the middle third keeps the length, silences states 8..17 and nothing else.
        let m = p.muted(8, 9).unwrap();
        assert_eq!((m.n_neurons(), m.n_states()), (13, 25));
        for i in 0..13 {
            for s in 0..25 {
                let want = if (8..17).contains(&s) { 0 } else { p.row(i)[s] };
                assert_eq!(m.row(i)[s], want, "neuron {i} state {s}");
            }
        }
        assert!(p.muted(20, 6).unwrap_err().contains("beyond"));
        assert!(p.muted(usize::MAX, 2).is_err());
        // Graded patterns round-trip through the text format.
        assert_eq!(
            Pattern::parse(&g.to_text(), "g").unwrap().amplitude(5, 9),
            g.amplitude(5, 9)
        );

        let two = Pattern::load_named("ode_to_joy", &Inputs::new()).unwrap();
        let st = p.stacked(&two).unwrap();
        assert_eq!((st.n_neurons(), st.n_states()), (18, 25));
        assert_eq!(st.row(13), two.row(0));
        assert!(p.stacked(&s).unwrap_err().contains("share one cycle"));
        // Every row of the second melody sings (no silent row: its correlation would be NaN).
        assert!((0..two.n_neurons()).all(|i| two.row(i).contains(&1)));
    }

    #[test]
    fn config_applies_variants_and_names_keys() {
        let cfg = |f: &dyn Fn(&mut PatternConfig)| {
            let mut c: PatternConfig =
                serde_json::from_str(r#"{"file": "", "state_ms": 10.0}"#).unwrap();
            f(&mut c);
            c
        };
        assert_eq!(
            cfg(&|_| {}).load(&Inputs::new()).unwrap(),
            Pattern::fuer_elise()
        );
        let c = cfg(&|c| {
            c.silence_states = 5;
            c.silence_at = 25;
            c.amplitude_min = 0.5;
        });
        let p = c.load(&Inputs::new()).unwrap();
        assert_eq!(p.n_states(), 30);
        assert!(p.is_graded());
        let e = cfg(&|c| {
            c.silence_states = 1;
            c.silence_at = 99;
        })
        .load(&Inputs::new())
        .unwrap_err();
        assert!(e.to_string().starts_with("pattern.silence_at:0: "), "{e}");
        let e = cfg(&|c| {
            c.file = "x.txt".into();
            c.annotation_file = "y.csv".into();
        })
        .load(&Inputs::new())
        .unwrap_err();
        assert!(e.to_string().contains("not both"), "{e}");
        let e = cfg(&|c| c.amplitude_min = 1.5)
            .load(&Inputs::new())
            .unwrap_err();
        assert!(e.to_string().contains("pattern.amplitude_min"), "{e}");
        // amplitude_max alone grades the notes; mute keys apply after inserted silence.
        let c = cfg(&|c| {
            c.amplitude_min = 0.3;
            c.amplitude_max = 1.2;
            c.silence_states = 5;
            c.silence_at = 0;
            c.mute_at = 0;
            c.mute_states = 5;
        });
        let p = c.load(&Inputs::new()).unwrap();
        assert_eq!(p.n_states(), 30);
        assert!(
            p.is_graded() && p.name().contains("graded0.3-1.2"),
            "{}",
            p.name()
        );
        let e = cfg(&|c| c.mute_states = 26)
            .load(&Inputs::new())
            .unwrap_err();
        assert!(e.to_string().starts_with("pattern.mute_at:0: "), "{e}");
    }

    #[test]
    fn files_come_from_the_inputs_by_path_as_written() {
        let mut c: PatternConfig =
            serde_json::from_str(r#"{"file": "p.txt", "state_ms": 10.0}"#).unwrap();
        let csv = "onset,offset,label\n0.0,0.05,a\n0.06,0.1,b\n";
        let inputs = Inputs::new()
            .with("p.txt", FUER_ELISE_TEXT.as_bytes().to_vec())
            .with("songs/s.csv", csv.as_bytes().to_vec());
        assert_eq!(
            c.input_files(),
            vec![("pattern.file", "p.txt", MAX_PATTERN_FILE_BYTES)]
        );
        assert_eq!(c.load(&inputs).unwrap(), Pattern::fuer_elise());
        c.second_file = "ode_to_joy".into();
        assert_eq!(c.input_files().len(), 1, "built-in names are not files");
        c.second_file = "p.txt".into();
        assert_eq!(c.input_files().len(), 2);
        assert_eq!(c.load(&inputs).unwrap().n_neurons(), 26);
        c.file = String::new();
        c.second_file = String::new();
        c.annotation_file = "songs/s.csv".into();
        let song = c.load(&inputs).unwrap();
        assert_eq!((song.name(), song.n_neurons()), ("s", 2));
        assert_eq!(c.input_files()[0].0, "pattern.annotation_file");
        // A file the harness did not read is an error naming it, never a read.
        let e = c.load(&Inputs::new()).unwrap_err();
        assert_eq!(e.source_name, "songs/s.csv");
        assert!(e.problem.contains("not among the run's input files"), "{e}");
        let e = Pattern::from_bytes(&[0x41, 0xff], "x.txt").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.txt:0: not UTF-8 text (invalid byte at offset 1)"
        );
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
