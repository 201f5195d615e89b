//! Config resolution: the embedded default config is both the starting point and the schema.
//!
//! Layers, later ones win: embedded default ← `--config FILE` (deep-merged) ← `--quick` overrides
//! ← `--pattern` / `--seeds` ← each `--set key=value` in order. Every key of a layer must exist
//! in the default tree and have the default's type (an integer is accepted, and converted, where
//! the default is a float). The merged table is then deserialized into the experiment's config
//! type and validated by the experiment.

use std::fmt::{Display, Write as _};
use std::ops::Bound;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

use crate::{Experiment, axes};

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

/// The reserved top-level table of a resolved config that records its input files (see
/// [`crate::inputs`]); like `[axes]` it is not part of the experiment's config.
pub(crate) const INPUTS: &str = "inputs";

/// `table` without its `[inputs]` table.
pub(crate) fn without_inputs(table: &Table) -> Table {
    let mut t = table.clone();
    if matches!(t.get(INPUTS), Some(Value::Table(_))) {
        t.remove(INPUTS);
    }
    t
}

/// A command-line override, in command-line order.
#[derive(Clone, Copy, Debug)]
pub(crate) enum CmdOverride<'a> {
    /// `--set KEY=VALUE`.
    Set(&'a str),
    /// `--axis KEY=V1,V2,...`.
    Axis(&'a str),
}

/// The layers of [`resolve_with`](crate::plan::resolve_with) merged over the default (not deserialized, not validated),
/// and the `[inputs]` table of the config file, if it has one (a run's stored config; see
/// [`crate::inputs`]), which is not merged.
pub(crate) fn merge_layers<E: Experiment>(
    config_file: Option<&Path>,
    overrides: &[CmdOverride<'_>],
    quick: bool,
    extra: &[(String, String)],
) -> Result<(Table, Option<Value>), ConfigError> {
    let schema: Table = toml::from_str(E::default_config()).map_err(|e| ConfigError::Default {
        experiment: E::NAME.to_owned(),
        message: e.to_string(),
    })?;
    let schema = Schema::new(schema);
    let mut merged = schema.full.clone();
    let mut stored_inputs = None;
    if let Some(default_axes) = axes::axes_table_mut(&mut merged) {
        // Axes in the default config itself are checked (and normalized) like any other layer.
        let given = std::mem::take(default_axes);
        axes::merge_axes(
            "embedded default config [axes]",
            "",
            &schema.base,
            default_axes,
            given,
        )?;
    }

    if let Some(path) = config_file {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: origin.clone(),
            source,
        })?;
        let mut layer: Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        stored_inputs = layer.remove(INPUTS);
        if schema.has_axes
            && let Some(axes_layer) = layer.remove(axes::AXES)
        {
            let axes_origin = format!("{origin} [axes]");
            axes::merge_axes_value(&axes_origin, &schema, &mut merged, axes_layer)?;
        }
        merge_table(&origin, "", &schema.full, &mut merged, layer)?;
    }
    if quick {
        for (key, value) in E::quick_overrides() {
            let origin = format!("--quick ({key}={value})");
            apply_override(&origin, &schema, &mut merged, key, value)?;
        }
    }
    for (key, value) in extra {
        let flag = match key.as_str() {
            "run.seeds" => "--seeds",
            "pattern.file" => "--pattern",
            _ => "command line",
        };
        let origin = format!("{flag} ({key}={value})");
        apply_override(&origin, &schema, &mut merged, key, value)?;
    }
    for o in overrides {
        match *o {
            CmdOverride::Set(arg) => {
                let (key, value) =
                    arg.split_once('=')
                        .ok_or_else(|| ConfigError::MissingEquals {
                            arg: arg.to_owned(),
                        })?;
                let origin = format!("--set {arg}");
                apply_override(&origin, &schema, &mut merged, key.trim(), value.trim())?;
            }
            CmdOverride::Axis(arg) => {
                axes::axis_flag(arg, &schema, &mut merged)?;
            }
        }
    }

    Ok((merged, stored_inputs))
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
    fn new(full: Table) -> Self {
        let base = axes::without_axes(&full);
        let has_axes = base.len() != full.len();
        Self {
            full,
            base,
            has_axes,
        }
    }
}

/// `--set`-like override of dotted `key`: `axes.*` keys go to the axes (when the default opts
/// in), everything else to [`set_value`].
fn apply_override(
    origin: &str,
    schema: &Schema,
    merged: &mut Table,
    key: &str,
    raw: &str,
) -> Result<(), ConfigError> {
    if schema.has_axes {
        let (first, rest) = key.split_once('.').unwrap_or((key, ""));
        if first.trim() == axes::AXES {
            return axes::set_axis(origin, schema, merged, rest.trim(), raw);
        }
    }
    set_value(origin, &schema.full, merged, key, raw)
}

/// Deserializes a resolved table into a config type, without its `[axes]` and `[inputs]`
/// tables.
pub(crate) fn deserialize<C: DeserializeOwned>(merged: &Table) -> Result<C, ConfigError> {
    let text = config_text(&without_inputs(&axes::without_axes(merged)))?;
    toml::from_str(&text).map_err(|e| ConfigError::Deserialize {
        key: e.span().and_then(|s| key_at(&text, s.start)),
        message: e.message().trim().to_owned(),
    })
}

/// Builds a config from a resolved table (e.g. the run's `config.toml`, or the table returned by
/// [`resolve_config`](crate::resolve_config)) with `params` applied: each (dotted key, TOML value text) replaces that
/// key's value, checked like a `--set` value against the table (the key must exist; strings may
/// be unquoted; integers are accepted for floats). The `[axes]` table is removed before
/// deserializing, exactly as for the run itself. No validation is run (see
/// [`job_config`](crate::job_config) for that).
///
/// Every key of `params` must be a config key: to rebuild the config of a grid job, pass the
/// job's axis params (the first ones), or use [`job_config`](crate::job_config), which picks them.
///
/// ```
/// use elise_sweep::toml;
/// let table: toml::Table = toml::from_str("[axes]\n[model]\nsize = 1\nkind = \"a\"\n").unwrap();
/// let params = vec![("model.size".to_owned(), "7".to_owned())];
/// let cfg: toml::Table = elise_sweep::apply_params(&table, &params).unwrap();
/// assert_eq!(cfg["model"]["size"].as_integer(), Some(7));
/// assert!(cfg.get("axes").is_none());
/// ```
pub fn apply_params<C: DeserializeOwned>(
    table: &Table,
    params: &[(String, String)],
) -> Result<C, ConfigError> {
    let mut merged = axes::without_axes(table);
    for (key, raw) in params {
        let origin = format!("param {key}={raw}");
        let schema = merged.clone();
        set_value(&origin, &schema, &mut merged, key.trim(), raw.trim())?;
    }
    deserialize(&merged)
}

/// The TOML text of a resolved config table (what `config.toml` holds and the run id hashes).
pub(crate) fn config_text(table: &Table) -> Result<String, ConfigError> {
    toml::to_string(table).map_err(|e| ConfigError::Deserialize {
        key: None,
        message: format!("cannot serialize the resolved config: {e}"),
    })
}

/// Best-effort dotted key of the `key = value` line containing byte `offset` of `text` (a TOML
/// document as written by `toml::to_string`: `[table]` headers and `key = value` lines).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[line_start..line_end];
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let header = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_owned());
    Some(match header {
        Some(h) if !h.is_empty() => format!("{h}.{key}"),
        _ => key.to_owned(),
    })
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

/// Deep-merges `layer` into `target` (which mirrors `schema`'s structure), checking every key
/// against `schema`.
fn merge_table(
    origin: &str,
    prefix: &str,
    schema: &Table,
    target: &mut Table,
    layer: Table,
) -> Result<(), ConfigError> {
    for (k, v) in layer {
        let key = join_key(prefix, &k);
        let Some(default) = schema.get(&k) else {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_owned(),
                key,
                table: prefix.to_owned(),
                valid: schema.keys().cloned().collect(),
            });
        };
        match (default, v) {
            (Value::Table(sub_schema), Value::Table(sub_layer)) => {
                let sub_target = target
                    .get_mut(&k)
                    .and_then(Value::as_table_mut)
                    .ok_or_else(|| internal(&key))?;
                merge_table(origin, &key, sub_schema, sub_target, sub_layer)?;
            }
            (default, v) => {
                let v = conform(origin, &key, default, v)?;
                target.insert(k, v);
            }
        }
    }
    Ok(())
}

fn internal(key: &str) -> ConfigError {
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

/// Sets dotted `key` to the TOML value text `raw`, checking key and type against `schema`.
pub(crate) fn set_value(
    origin: &str,
    schema: &Table,
    merged: &mut Table,
    key: &str,
    raw: &str,
) -> Result<(), ConfigError> {
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(ConfigError::Parse {
            origin: origin.to_owned(),
            message: format!("'{key}' is not a dotted key"),
        });
    }
    let mut schema = schema;
    let mut target = merged;
    let mut prefix = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let dotted = join_key(&prefix, seg);
        let Some(default) = schema.get(*seg) else {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_owned(),
                key: key.to_owned(),
                table: prefix,
                valid: schema.keys().cloned().collect(),
            });
        };
        let last = i + 1 == segments.len();
        match default {
            Value::Table(sub_schema) => {
                let sub_target = target
                    .get_mut(*seg)
                    .and_then(Value::as_table_mut)
                    .ok_or_else(|| internal(&dotted))?;
                if last {
                    let value = parse_value(origin, &dotted, default, raw)?;
                    let Value::Table(layer) = value else {
                        return Err(mismatch(origin, &dotted, default, describe(&value)));
                    };
                    return merge_table(origin, &dotted, sub_schema, sub_target, layer);
                }
                schema = sub_schema;
                target = sub_target;
            }
            default if last => {
                let value = parse_value(origin, &dotted, default, raw)?;
                let value = conform(origin, &dotted, default, value)?;
                target.insert((*seg).to_owned(), value);
                return Ok(());
            }
            default => {
                return Err(ConfigError::NotATable {
                    origin: origin.to_owned(),
                    key: dotted,
                    default: short(default),
                });
            }
        }
        prefix = dotted;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_messages() {
        assert!(check_range("a.b", 0.5, 0.0, 1.0).is_ok());
        assert!(check_range("a.b", 1.0, 0.0, 1.0).is_ok());
        let e = check_range("a.b", 1.5, 0.0, 1.0).unwrap_err().to_string();
        assert_eq!(e, "a.b = 1.5 is out of range: expected a value in [0, 1]");
        assert!(check_range("a.b", f64::NAN, 0.0, 1.0).is_err());
        assert!(check_positive("a.n", f64::NAN).is_err());
        let e = check_positive("a.n", 0_i64).unwrap_err().to_string();
        assert_eq!(e, "a.n = 0 is out of range: expected a value > 0");
        assert!(check_at_least("a.n", 3_u32, 3).is_ok());
        let e = check_bounds("x", 0.0, Bound::Excluded(0.0), Bound::Excluded(2.0)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x = 0 is out of range: expected a value in (0, 2)"
        );
        let e = check_bounds("x", 3, Bound::Unbounded, Bound::Included(2)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x = 3 is out of range: expected a value <= 2"
        );
    }

    #[test]
    fn key_location_in_text() {
        let text = "top = 1\n\n[net]\nmode = \"x\"\nn = 3\n\n[net.sub]\ny = 2\n";
        assert_eq!(key_at(text, 2).as_deref(), Some("top"));
        let off = text.find("\"x\"").unwrap();
        assert_eq!(key_at(text, off).as_deref(), Some("net.mode"));
        let off = text.find("y = 2").unwrap() + 4;
        assert_eq!(key_at(text, off).as_deref(), Some("net.sub.y"));
    }
}
