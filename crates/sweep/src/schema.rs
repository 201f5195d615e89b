//! The config schema: the embedded default config is the schema (every key, its type), and
//! the errors that name a key, a file or a flag and what was expected; range checks.
//!
//! Layer: the lowest of the config subsystem (`schema` ← `axes` ← `config`); it imports none of
//! them.

use std::fmt::{Display, Write as _};
use std::ops::Bound;

use toml::{Table, Value};

/// Why a config could not be resolved. Every message names where the bad value came from (file
/// or command-line argument), the dotted key and, where it applies, expected vs got.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A `--config` file could not be read.
    #[error("cannot read config file {file}: {source}")]
    Read {
        /// The file as given.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A config layer is not valid TOML.
    #[error("{origin}: invalid TOML: {message}")]
    Parse {
        /// File name or command-line argument.
        origin: String,
        /// The parser's message.
        message: String,
    },
    /// A key that does not exist in the default config.
    #[error("{origin}: unknown key '{key}'; {}", keys_text(table, valid))]
    UnknownKey {
        /// File name or command-line argument.
        origin: String,
        /// The unknown dotted key.
        key: String,
        /// The dotted name of the table that was searched (`""` for the top level).
        table: String,
        /// The keys that table does have.
        valid: Vec<String>,
    },
    /// A value whose type differs from the default's.
    #[error(
        "{}: expected {expected} (default {default}), got {got}",
        location(origin, key)
    )]
    TypeMismatch {
        /// File name or command-line argument.
        origin: String,
        /// The dotted key.
        key: String,
        /// The expected type, e.g. "an integer".
        expected: String,
        /// The default value, as TOML text.
        default: String,
        /// What was given, e.g. `a string ("abc")`.
        got: String,
    },
    /// A dotted key that descends into a value which is not a table.
    #[error("{origin}: '{key}' is not a table (default {default}), it has no sub-keys")]
    NotATable {
        /// File name or command-line argument.
        origin: String,
        /// The dotted key of the non-table value.
        key: String,
        /// Its default value, as TOML text.
        default: String,
    },
    /// A `--set` argument without `=`.
    #[error("--set {arg}: expected key=value (e.g. --set run.seeds=4)")]
    MissingEquals {
        /// The argument as given.
        arg: String,
    },
    /// The merged config does not deserialize into the experiment's config type.
    #[error("resolved config: {}{message}", key.as_deref().map(|k| format!("{k}: ")).unwrap_or_default())]
    Deserialize {
        /// The dotted key the error points at, when it can be located.
        key: Option<String>,
        /// The deserializer's message.
        message: String,
    },
    /// A value outside its allowed range (see [`check_range`]).
    #[error("{key} = {value} is out of range: expected {expected}")]
    OutOfRange {
        /// The dotted key.
        key: String,
        /// The value given.
        value: String,
        /// The allowed range, e.g. "a value in [0, 1]".
        expected: String,
    },
    /// Any other inconsistency, named by dotted key (see [`ConfigError::invalid`]).
    #[error("{key}: {message}")]
    Invalid {
        /// The dotted key (or keys, e.g. "train.a / train.b").
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The experiment's embedded default config is not valid TOML (a bug in the experiment).
    #[error("embedded default config of experiment '{experiment}' is invalid: {message}")]
    Default {
        /// Experiment name.
        experiment: String,
        /// What is wrong.
        message: String,
    },
    /// An `[axes]` entry that cannot be an axis (e.g. `run.seeds`, a table, or a key through a
    /// value), or whose value is not a non-empty array.
    #[error("{origin}: axis '{key}': {message}")]
    Axis {
        /// File name (with ` [axes]`) or command-line argument.
        origin: String,
        /// The axis key (a dotted config key).
        key: String,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A grid point of `[axes]` whose config does not deserialize or fails validation; `point`
    /// is its params as `key=value` pairs, e.g. `network.n_latent=100000`.
    #[error("axes point {point}: {source}")]
    Point {
        /// The grid point, as `key=value` pairs separated by spaces.
        point: String,
        /// Why its config is invalid.
        #[source]
        source: Box<ConfigError>,
    },
    /// A command-line usage error outside the config proper (e.g. `--threads 0`).
    #[error("{0}")]
    Usage(String),
    /// An input file named by a config value that cannot be used (see
    /// [`Experiment::input_files`]): unreadable, not a regular file, too large, or, for a
    /// config with an `[inputs]` table, its copy in the run directory missing or changed.
    #[error("{key} = '{path}': {message}")]
    Input {
        /// The config key(s) naming the file, e.g. `pattern.file`.
        key: String,
        /// The path as written in the config.
        path: String,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl ConfigError {
    /// A consistency error on `key`, e.g.
    /// `ConfigError::invalid("train.batch", "must divide train.cycles")`.
    pub fn invalid(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            key: key.into(),
            message: message.into(),
        }
    }
}

fn keys_text(table: &str, valid: &[String]) -> String {
    let list = if valid.is_empty() {
        "(none)".to_owned()
    } else {
        valid.join(", ")
    };
    if table.is_empty() {
        format!("top-level keys: {list}")
    } else {
        format!("keys in [{table}]: {list}")
    }
}

/// `origin: key`, or just `origin` when the origin (a command-line argument) already names the
/// key.
fn location(origin: &str, key: &str) -> String {
    if origin.contains(key) {
        origin.to_owned()
    } else {
        format!("{origin}: {key}")
    }
}

/// The default config as schema: the whole tree, and the tree without `[axes]` (what axis keys
/// and every non-axes key are checked against).
pub(crate) struct Schema {
    /// The embedded default config.
    pub(crate) full: Table,
    /// `full` without the `[axes]` table.
    pub(crate) base: Table,
    /// Whether the default opts in to axes (has an `[axes]` table).
    pub(crate) has_axes: bool,
}

impl Schema {
    pub(crate) fn new(full: Table) -> Self {
        let base = without_axes(&full);
        let has_axes = base.len() != full.len();
        Self {
            full,
            base,
            has_axes,
        }
    }
}

pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// A value as (possibly shortened) TOML text.
pub(crate) fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.chars().count() > 60 {
        s = s.chars().take(57).collect::<String>() + "...";
    }
    s
}

pub(crate) fn mismatch(origin: &str, key: &str, default: &Value, got: String) -> ConfigError {
    ConfigError::TypeMismatch {
        origin: origin.to_owned(),
        key: key.to_owned(),
        expected: type_name(default).to_owned(),
        default: short(default),
        got,
    }
}

pub(crate) fn describe(v: &Value) -> String {
    format!("{} ({})", type_name(v), short(v))
}

/// `got` converted to the type of `default`, or a type-mismatch error.
pub(crate) fn conform(
    origin: &str,
    key: &str,
    default: &Value,
    got: Value,
) -> Result<Value, ConfigError> {
    match (default, got) {
        (Value::Float(_), Value::Integer(i)) => Ok(Value::Float(i as f64)),
        (Value::Array(d), Value::Array(g)) => {
            // When the default is a non-empty homogeneous array of scalars, check the elements.
            let elem = d.first().filter(|first| {
                !matches!(first, Value::Table(_) | Value::Array(_))
                    && d.iter().all(|x| x.same_type(first))
            });
            match elem {
                Some(elem) => g
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| conform(origin, &format!("{key}[{i}]"), elem, x))
                    .collect::<Result<Vec<_>, _>>()
                    .map(Value::Array),
                None => Ok(Value::Array(g)),
            }
        }
        (d, g) if d.same_type(&g) && !matches!(d, Value::Table(_)) => Ok(g),
        (d, g) => Err(mismatch(origin, key, d, describe(&g))),
    }
}

pub(crate) fn internal(key: &str) -> ConfigError {
    ConfigError::invalid(
        key,
        "internal error: resolved config lost the default's structure",
    )
}

/// Parses the text of a command-line value. Strings may be given unquoted where the default is
/// a string.
/// `raw` as one TOML value, if it is one.
pub(crate) fn parse_toml(raw: &str) -> Option<Value> {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .filter(|t| t.len() == 1)
        .and_then(|mut t| t.remove("v"))
}

pub(crate) fn parse_value(
    origin: &str,
    key: &str,
    default: &Value,
    raw: &str,
) -> Result<Value, ConfigError> {
    let parsed = parse_toml(raw);
    match (default, parsed) {
        (Value::String(_), Some(Value::String(s))) => Ok(Value::String(s)),
        (Value::String(_), _) => Ok(Value::String(raw.to_owned())),
        (_, Some(v)) => Ok(v),
        (default, None) => Err(mismatch(
            origin,
            key,
            default,
            format!("'{raw}', which is not a TOML value"),
        )),
    }
}

/// Checks `lo ≤ value ≤ hi` (closed interval; NaN fails).
pub fn check_range<T: PartialOrd + Display>(
    key: &str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), ConfigError> {
    check_bounds(key, value, Bound::Included(lo), Bound::Included(hi))
}

/// Checks `value ≥ lo` (NaN fails).
pub fn check_at_least<T: PartialOrd + Display>(
    key: &str,
    value: T,
    lo: T,
) -> Result<(), ConfigError> {
    check_bounds(key, value, Bound::Included(lo), Bound::Unbounded)
}

/// Checks `value > 0`, where zero is `T::default()` (NaN fails).
pub fn check_positive<T: PartialOrd + Display + Default>(
    key: &str,
    value: T,
) -> Result<(), ConfigError> {
    check_bounds(key, value, Bound::Excluded(T::default()), Bound::Unbounded)
}

/// Checks `value` against arbitrary bounds, e.g.
/// `check_bounds("train.lr", lr, Bound::Excluded(0.0), Bound::Included(1.0))` for (0, 1]
/// (NaN fails). The error names `key`, the value and the allowed range.
pub fn check_bounds<T: PartialOrd + Display>(
    key: &str,
    value: T,
    lo: Bound<T>,
    hi: Bound<T>,
) -> Result<(), ConfigError> {
    let above = match &lo {
        Bound::Included(l) => *l <= value,
        Bound::Excluded(l) => *l < value,
        Bound::Unbounded => value.partial_cmp(&value).is_some(), // NaN fails without bounds too
    };
    let below = match &hi {
        Bound::Included(h) => value <= *h,
        Bound::Excluded(h) => value < *h,
        Bound::Unbounded => value.partial_cmp(&value).is_some(),
    };
    if above && below {
        return Ok(());
    }
    let mut expected = String::new();
    match (&lo, &hi) {
        (Bound::Unbounded, Bound::Unbounded) => expected.push_str("a number"),
        (lo, Bound::Unbounded) => {
            let _ = match lo {
                Bound::Included(l) => write!(expected, "a value >= {l}"),
                Bound::Excluded(l) => write!(expected, "a value > {l}"),
                Bound::Unbounded => Ok(()),
            };
        }
        (Bound::Unbounded, hi) => {
            let _ = match hi {
                Bound::Included(h) => write!(expected, "a value <= {h}"),
                Bound::Excluded(h) => write!(expected, "a value < {h}"),
                Bound::Unbounded => Ok(()),
            };
        }
        (lo, hi) => {
            expected.push_str("a value in ");
            let _ = match lo {
                Bound::Included(l) => write!(expected, "[{l}, "),
                Bound::Excluded(l) => write!(expected, "({l}, "),
                Bound::Unbounded => Ok(()),
            };
            let _ = match hi {
                Bound::Included(h) => write!(expected, "{h}]"),
                Bound::Excluded(h) => write!(expected, "{h})"),
                Bound::Unbounded => Ok(()),
            };
        }
    }
    Err(ConfigError::OutOfRange {
        key: key.to_owned(),
        value: value.to_string(),
        expected,
    })
}

/// The name of the opt-in table.
pub(crate) const AXES: &str = "axes";

/// `table` without its `[axes]` table (only removed when it is a table).
pub(crate) fn without_axes(table: &Table) -> Table {
    let mut t = table.clone();
    if matches!(t.get(AXES), Some(Value::Table(_))) {
        t.remove(AXES);
    }
    t
}
