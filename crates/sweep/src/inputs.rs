//! Input files, read once, at the edge: the bounded reader, the run's `[inputs]` table and the
//! copies in `<run dir>/inputs/`.
//!
//! An experiment declares which config values name input files ([`Experiment::input_files`],
//! e.g. `pattern.file`). When a run is planned the harness asks it for every grid point's
//! config, reads each distinct file once with [`read_bounded`] (regular files only, at most the
//! declared size), and records its identity in the resolved config as
//!
//! ```toml
//! [inputs."data/patterns/x.txt"]   # the path as written in the config
//! fnv1a64 = "0123456789abcdef"     # FNV-1a 64 of the content
//! bytes = 1234
//! keys = ["pattern.file"]          # the config keys that name it
//! ```
//!
//! so that the content is part of the run id and of `config.toml`. Validation and the jobs get
//! the bytes ([`Inputs`]), never the path. The run directory keeps a copy of every input,
//! `<run dir>/inputs/<fnv1a64>`. A config that already carries `[inputs]` (a run's stored
//! `config.toml`, used by `collect`, `--redraw`, Slurm array tasks or a resume from another
//! directory) takes each recorded input from such a copy, checked against the recorded hash,
//! and never from the path; the copy is looked for in the run directory (`--out`), the config
//! file's directory and that directory's parent (for `<run dir>/slurm/config.toml`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml::{Table, Value};

pub use crate::bounded::{ReadError, read_bounded};
use crate::config::{self, CmdOverride, ConfigError};
use crate::util::fnv1a_64;
use crate::{Experiment, Inputs};

/// The top-level table of a resolved config that records its inputs (and the run directory's
/// sub-directory holding their copies).
pub(crate) use crate::config::INPUTS;

/// One input file named by a config value (see [`Experiment::input_files`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The dotted config key that names the file, e.g. `"pattern.file"`.
    pub key: String,
    /// The path as written in the config (relative paths are relative to the working
    /// directory of the invocation that first reads it).
    pub path: String,
    /// Largest size accepted, in bytes.
    pub max_bytes: u64,
    /// What the file should be, for error messages, e.g. `"a pattern file"`.
    pub what: String,
}

impl InputFile {
    /// An input file named by `key` (value `path`), at most `max_bytes` long, described as
    /// `what` in errors.
    pub fn new(
        key: impl Into<String>,
        path: impl Into<String>,
        max_bytes: u64,
        what: impl Into<String>,
    ) -> Self {
        Self {
            key: key.into(),
            path: path.into(),
            max_bytes,
            what: what.into(),
        }
    }

    /// Reads the file with [`read_bounded`]; an error names the key, the path and what was
    /// expected, e.g. `pattern.file = 'x': cannot read: not a regular file (a FIFO); expected a
    /// pattern file`.
    pub fn read(&self) -> Result<Vec<u8>, ConfigError> {
        read_bounded(Path::new(&self.path), self.max_bytes).map_err(|e| {
            input_error(
                &self.key,
                &self.path,
                format!("{e}; expected {}", self.what),
            )
        })
    }
}

fn input_error(key: &str, path: &str, message: String) -> ConfigError {
    ConfigError::Input {
        key: key.to_owned(),
        path: path.to_owned(),
        message,
    }
}

/// One entry of an `[inputs]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) hash: u64,
    pub(crate) bytes: u64,
    pub(crate) keys: Vec<String>,
}

impl Recorded {
    fn of(bytes: &[u8], keys: Vec<String>) -> Self {
        Self {
            hash: fnv1a_64(bytes),
            bytes: bytes.len() as u64,
            keys,
        }
    }

    fn copy_name(&self) -> String {
        format!("{:016x}", self.hash)
    }
}

/// The entries of an `[inputs]` table (`origin` names the file in errors).
pub(crate) fn parse_table(
    origin: &str,
    value: &Value,
) -> Result<BTreeMap<String, Recorded>, ConfigError> {
    let bad = |path: &str, what: &str| ConfigError::Parse {
        origin: origin.to_owned(),
        message: format!(
            "[inputs.\"{path}\"]: {what}; expected fnv1a64 = \"<16 hex digits>\", bytes = <size>, keys = [\"<config key>\", ...] (written by the harness)"
        ),
    };
    let Value::Table(t) = value else {
        return Err(bad("", "not a table"));
    };
    let mut out = BTreeMap::new();
    for (path, entry) in t {
        let Value::Table(e) = entry else {
            return Err(bad(path, "not a table"));
        };
        let hash = e
            .get("fnv1a64")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 16)
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| bad(path, "no valid fnv1a64"))?;
        let bytes = e
            .get("bytes")
            .and_then(Value::as_integer)
            .and_then(|b| u64::try_from(b).ok())
            .ok_or_else(|| bad(path, "no valid bytes"))?;
        let keys = match e.get("keys") {
            Some(Value::Array(a)) => a
                .iter()
                .map(|k| k.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(path, "keys are not strings"))?,
            _ => return Err(bad(path, "no keys")),
        };
        if e.len() != 3 {
            return Err(bad(path, "unexpected entries"));
        }
        out.insert(path.clone(), Recorded { hash, bytes, keys });
    }
    Ok(out)
}

fn to_table(entries: &BTreeMap<String, Recorded>) -> Table {
    entries
        .iter()
        .map(|(path, r)| {
            let mut e = Table::new();
            e.insert("fnv1a64".into(), Value::String(r.copy_name()));
            e.insert(
                "bytes".into(),
                Value::Integer(i64::try_from(r.bytes).unwrap_or(i64::MAX)),
            );
            e.insert(
                "keys".into(),
                Value::Array(r.keys.iter().cloned().map(Value::String).collect()),
            );
            (path.clone(), Value::Table(e))
        })
        .collect()
}

/// Resolves a config like [`crate::plan::resolve_with`] and reads its input files: the merged
/// layers, deserialized; every input file of every grid point read once (from the run's copies
/// for the inputs a config file's `[inputs]` table records, see the module docs; `out` is the
/// run directory, if given); the `[inputs]` table added to the returned table; then
/// `E::validate` with the inputs.
pub(crate) fn resolve<E: Experiment>(
    exp: &E,
    config_file: Option<&Path>,
    overrides: &[CmdOverride<'_>],
    quick: bool,
    extra: &[(String, String)],
    out: Option<&Path>,
) -> Result<(E::Config, Table, Arc<Inputs>), ConfigError> {
    let (mut table, stored) = config::merge_layers(exp, config_file, overrides, quick, extra)?;
    let cfg: E::Config = config::deserialize(&table)?;
    let origin = config_file.map_or_else(String::new, |p| p.display().to_string());
    let stored = match &stored {
        Some(v) => parse_table(&origin, v)?,
        None => BTreeMap::new(),
    };
    let search = search_dirs(out, config_file);
    let (inputs, entries) = plan(exp, &table, &stored, &search)?;
    if !entries.is_empty() {
        table.insert(INPUTS.to_owned(), Value::Table(to_table(&entries)));
    }
    exp.validate(&cfg, &inputs)?;
    Ok((cfg, table, Arc::new(inputs)))
}

/// Where copies of recorded inputs are looked for: the run directory, the config file's
/// directory and its parent.
fn search_dirs(out: Option<&Path>, config_file: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = out.map(Path::to_path_buf).into_iter().collect();
    if let Some(file) = config_file {
        let dir = match file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Some(up) = dir.parent() {
            let up = if up.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                up.to_path_buf()
            };
            dirs.push(dir);
            dirs.push(up);
        } else {
            dirs.push(dir);
        }
    }
    let mut seen = BTreeSet::new();
    dirs.retain(|d| seen.insert(d.clone()));
    dirs
}

/// What the grid points' configs name.
struct Wanted {
    keys: BTreeSet<String>,
    max_bytes: u64,
    what: String,
}

/// Reads every input file of the base config and every grid point of `table` once: from a copy
/// for the paths in `stored`, else from the path. Returns the bytes and the new `[inputs]`
/// entries.
fn plan<E: Experiment>(
    exp: &E,
    table: &Table,
    stored: &BTreeMap<String, Recorded>,
    search: &[PathBuf],
) -> Result<(Inputs, BTreeMap<String, Recorded>), ConfigError> {
    let mut wanted: BTreeMap<String, Wanted> = BTreeMap::new();
    // The base config (validated too, and what `finish` gets), then every grid point.
    let mut points = vec![Vec::new()];
    let axes = crate::axes_of(table);
    if !axes.is_empty() {
        // An absurd grid is refused before its points are enumerated.
        crate::axes::check_job_count(&axes, 1, 1)?;
        points.extend(crate::grid_points(table));
    }
    for point in points {
        // A point whose config does not deserialize is reported by `expand_jobs`.
        let Ok(cfg) = config::apply_params::<E::Config>(table, &point) else {
            continue;
        };
        for f in exp.input_files(&cfg) {
            if f.path.is_empty() {
                continue;
            }
            let w = wanted.entry(f.path.clone()).or_insert_with(|| Wanted {
                keys: BTreeSet::new(),
                max_bytes: f.max_bytes,
                what: f.what.clone(),
            });
            w.keys.insert(f.key);
            w.max_bytes = w.max_bytes.min(f.max_bytes);
        }
    }
    let mut inputs = Inputs::new();
    let mut entries = BTreeMap::new();
    for (path, w) in wanted {
        let keys: Vec<String> = w.keys.into_iter().collect();
        let key_text = keys.join(", ");
        let bytes = match stored.get(&path) {
            Some(rec) => read_copy(&key_text, &path, rec, w.max_bytes, search)?,
            None => InputFile::new(&key_text, &path, w.max_bytes, &w.what).read()?,
        };
        entries.insert(path.clone(), Recorded::of(&bytes, keys));
        inputs.insert(path, bytes);
    }
    Ok((inputs, entries))
}

/// The bytes of the recorded input `path` from its copy `inputs/<fnv1a64>` in the first of
/// `search` that has one, checked against the record.
fn read_copy(
    key: &str,
    path: &str,
    rec: &Recorded,
    max_bytes: u64,
    search: &[PathBuf],
) -> Result<Vec<u8>, ConfigError> {
    let name = rec.copy_name();
    let mut looked = Vec::new();
    for dir in search {
        let copy = dir.join(INPUTS).join(&name);
        if std::fs::symlink_metadata(&copy).is_err() {
            looked.push(copy.display().to_string());
            continue;
        }
        let bytes = read_bounded(&copy, max_bytes).map_err(|e| {
            input_error(
                key,
                path,
                format!("the run's copy {} of this input: {e}", copy.display()),
            )
        })?;
        let got = Recorded::of(&bytes, Vec::new());
        if (got.hash, got.bytes) != (rec.hash, rec.bytes) {
            return Err(input_error(
                key,
                path,
                format!(
                    "the run's copy {} differs from the recorded input (fnv1a64 {name}, {} bytes; the copy has {}, {} bytes): the run directory is damaged",
                    copy.display(),
                    rec.bytes,
                    got.copy_name(),
                    got.bytes
                ),
            ));
        }
        return Ok(bytes);
    }
    Err(input_error(
        key,
        path,
        format!(
            "the run's copy of this input (fnv1a64 {name}, {} bytes) is missing (looked for {}); a config with an [inputs] table takes its input files from the run directory, not from '{path}'",
            rec.bytes,
            looked.join(", ")
        ),
    ))
}

/// Copies every input into `<run_dir>/inputs/<fnv1a64>` (atomically; an intact copy is kept).
pub(crate) fn store(run_dir: &Path, inputs: &Inputs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if inputs.is_empty() {
        return Ok(());
    }
    let dir = run_dir.join(INPUTS);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (_, bytes) in inputs.iter() {
        let copy = dir.join(Recorded::of(bytes, Vec::new()).copy_name());
        if read_bounded(&copy, bytes.len() as u64).is_ok_and(|old| old == bytes) {
            continue;
        }
        crate::parquet_io::write_file_atomic(&copy, bytes)?;
    }
    Ok(())
}

/// The inputs of the run in `run_dir` whose resolved config is `table`: its recorded inputs,
/// read from their copies in the run directory and checked.
pub(crate) fn from_run_dir(run_dir: &Path, table: &Table) -> Result<Inputs, ConfigError> {
    let Some(value) = table.get(INPUTS) else {
        return Ok(Inputs::new());
    };
    let origin = run_dir.join("config.toml").display().to_string();
    let mut inputs = Inputs::new();
    for (path, rec) in parse_table(&origin, value)? {
        let key = rec.keys.join(", ");
        let bytes = read_copy(&key, &path, &rec, rec.bytes, &[run_dir.to_path_buf()])?;
        inputs.insert(path, bytes);
    }
    Ok(inputs)
}

/// For the "different config" refusal: the inputs whose content differs between the run's
/// config text `old` and the new one, as ` (input 'x' (pattern.file) changed: ...)`, or "".
pub(crate) fn change_note(old: &str, new: &str) -> String {
    let recorded = |text: &str| {
        toml::from_str::<Table>(text)
            .ok()
            .and_then(|t| t.get(INPUTS).cloned())
            .and_then(|v| parse_table("", &v).ok())
            .unwrap_or_default()
    };
    let (old, new) = (recorded(old), recorded(new));
    let notes: Vec<String> = new
        .iter()
        .filter_map(|(path, b)| {
            let a = old.get(path)?;
            ((a.hash, a.bytes) != (b.hash, b.bytes)).then(|| {
                format!(
                    "input '{path}' ({}) changed: fnv1a64 {} ({} bytes) in the run, {} ({} bytes) now",
                    b.keys.join(", "),
                    a.copy_name(),
                    a.bytes,
                    b.copy_name(),
                    b.bytes
                )
            })
        })
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

/// The job's own checkpoint at `path`, read with [`read_bounded`] before the job starts: `None`
/// when there is none; a file that cannot be used (not a regular file, too large, unreadable)
/// is ignored with a warning, and the job starts from the beginning.
pub(crate) fn read_job_checkpoint(path: &Path, max_bytes: u64, job: usize) -> Option<Arc<[u8]>> {
    match read_bounded(path, max_bytes) {
        Ok(bytes) => Some(bytes.into()),
        Err(ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(
                "job {job}: ignoring its checkpoint {}: {e}; the job starts from the beginning",
                path.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded::size_text;

    #[test]
    fn sizes_in_words() {
        assert_eq!(size_text(64 << 20), "64 MiB");
        assert_eq!(size_text(1 << 10), "1 KiB");
        assert_eq!(size_text(3 << 30), "3 GiB");
        assert_eq!(size_text(100), "100 bytes");
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(size_text((1 << 20) + 1), "1048577 bytes (1.0 MiB)");
    }

    #[test]
    fn inputs_table_round_trips() {
        let mut e = BTreeMap::new();
        e.insert(
            "data/x y.txt".to_owned(),
            Recorded::of(b"abc", vec!["pattern.file".into()]),
        );
        let mut t = Table::new();
        t.insert(INPUTS.into(), Value::Table(to_table(&e)));
        let text = toml::to_string(&t).unwrap();
        assert!(text.contains("[inputs.\"data/x y.txt\"]"), "{text}");
        let back: Table = toml::from_str(&text).unwrap();
        assert_eq!(parse_table("f", &back[INPUTS]).unwrap(), e);
        assert!(crate::config::without_inputs(&back).is_empty());
        let bad: Table = toml::from_str("[inputs.x]\nfnv1a64 = \"xyz\"\n").unwrap();
        let msg = parse_table("f.toml", &bad[INPUTS]).unwrap_err().to_string();
        assert!(msg.contains("f.toml") && msg.contains("fnv1a64"), "{msg}");
    }

    #[test]
    fn change_note_names_changed_inputs() {
        let text = |content: &[u8]| {
            let mut e = BTreeMap::new();
            e.insert(
                "p.txt".to_owned(),
                Recorded::of(content, vec!["pattern.file".into()]),
            );
            let mut t = Table::new();
            t.insert(INPUTS.into(), Value::Table(to_table(&e)));
            toml::to_string(&t).unwrap()
        };
        let (a, b) = (text(b"one"), text(b"two"));
        assert_eq!(change_note(&a, &a), "");
        let note = change_note(&a, &b);
        assert!(
            note.contains("input 'p.txt' (pattern.file) changed")
                && note.contains(&format!("{:016x}", fnv1a_64(b"one")))
                && note.contains(&format!("{:016x}", fnv1a_64(b"two"))),
            "{note}"
        );
        assert_eq!(change_note("x = 1", &b), "");
    }

    #[test]
    fn search_dirs_of_a_stored_config() {
        let d = search_dirs(
            Some(Path::new("out")),
            Some(Path::new("run/slurm/config.toml")),
        );
        assert_eq!(
            d,
            vec![
                PathBuf::from("out"),
                PathBuf::from("run/slurm"),
                PathBuf::from("run")
            ]
        );
        assert_eq!(
            search_dirs(None, Some(Path::new("config.toml"))),
            vec![PathBuf::from(".")]
        );
        assert_eq!(
            search_dirs(None, Some(Path::new("run/config.toml"))),
            vec![PathBuf::from("run"), PathBuf::from(".")]
        );
    }
}
