//! Config resolution: the embedded default config is both the starting point and the schema.
//!
//! Layers, later ones win: embedded default ← `--config FILE` (deep-merged) ← `--quick` overrides
//! ← `--pattern` / `--seeds` ← each `--set key=value` in order. Every key of a layer must exist
//! in the default tree and have the default's type (an integer is accepted, and converted, where
//! the default is a float). The merged table is then deserialized into the experiment's config
//! type and validated by the experiment.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml::{Table, Value};

pub use crate::schema::*;
use crate::{Experiment, axes};
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
    exp: &E,
    config_file: Option<&Path>,
    overrides: &[CmdOverride<'_>],
    quick: bool,
    extra: &[(String, String)],
) -> Result<(Table, Option<Value>), ConfigError> {
    let schema: Table = toml::from_str(exp.default_config()).map_err(|e| ConfigError::Default {
        experiment: exp.name().to_owned(),
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
        let text = read_config_file(path).map_err(|source| ConfigError::Read {
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
        for (key, value) in exp.quick_overrides() {
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
/// Largest `--config` file (a config is a few KiB; a run's `config.toml` with a long grid a few
/// hundred).
pub(crate) const MAX_CONFIG_BYTES: u64 = 16 << 20;

/// A `--config` file's text, through the bounded reader (a FIFO, a device or an endless file is
/// refused at once, never read without bound).
fn read_config_file(path: &Path) -> std::io::Result<String> {
    let bytes = crate::bounded::read_bounded(path, MAX_CONFIG_BYTES).map_err(|e| match e {
        crate::bounded::ReadError::Io(e) => e,
        other => std::io::Error::other(other.to_string()),
    })?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Bound;

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
