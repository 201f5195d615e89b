//! Parameter grids: the `[axes]` table of a config, its checks, and the expansion of a run's
//! jobs over the grid points (see the crate docs for the user-facing description).
//!
//! In a resolved table, `[axes]` maps canonical dotted config keys (`"network.n_latent"`) to
//! non-empty arrays whose elements have the type of that key's default value.

use toml::{Table, Value};

pub(crate) use crate::schema::{AXES, without_axes};
use crate::schema::{
    ConfigError, Schema, conform, describe, join_key, mismatch, parse_toml, parse_value, short,
};

/// Keys that cannot be axes: every grid point runs the same seeds (paired comparisons).
const NOT_AXES: [&str; 2] = ["run.seeds", "run.base_seed"];

/// The `[axes]` table of `table`, if it has one.
pub(crate) fn axes_table_mut(table: &mut Table) -> Option<&mut Table> {
    table.get_mut(AXES).and_then(Value::as_table_mut)
}

fn axis_error(origin: &str, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Axis {
        origin: origin.to_owned(),
        key: key.to_owned(),
        message: message.into(),
    }
}

/// Canonical form of an axis key: segments trimmed and joined with `.`; one surrounding pair of
/// double quotes (`"network.n_latent"`) is removed.
fn canonical_key(origin: &str, key: &str) -> Result<String, ConfigError> {
    let key = key.trim();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(key);
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Err(ConfigError::Parse {
            origin: origin.to_owned(),
            message: format!("axis key '{key}' is not a dotted config key (e.g. network.n_latent)"),
        });
    }
    Ok(segments.join("."))
}

/// The default value of the (canonical) axis key `key`, or why it cannot be an axis: unknown,
/// a table, below a non-table value, or one of [`NOT_AXES`].
fn axis_default<'a>(origin: &str, base: &'a Table, key: &str) -> Result<&'a Value, ConfigError> {
    if NOT_AXES.contains(&key) {
        return Err(axis_error(
            origin,
            key,
            "cannot be an axis: every grid point runs the same seeds (set their number with \
             --seeds or run.seeds)",
        ));
    }
    let segments: Vec<&str> = key.split('.').collect();
    let mut table = base;
    let mut prefix = String::new();
    for (i, seg) in segments.iter().enumerate() {
        let dotted = join_key(&prefix, seg);
        let Some(value) = table.get(*seg) else {
            return Err(ConfigError::UnknownKey {
                origin: origin.to_owned(),
                key: key.to_owned(),
                table: prefix,
                valid: table.keys().cloned().collect(),
            });
        };
        let last = i + 1 == segments.len();
        match value {
            Value::Table(sub) if last => {
                let keys: Vec<&str> = sub.keys().map(String::as_str).collect();
                return Err(axis_error(
                    origin,
                    key,
                    format!(
                        "[{dotted}] is a table, not a value; an axis varies one value (keys in \
                         [{dotted}]: {})",
                        if keys.is_empty() {
                            "(none)".to_owned()
                        } else {
                            keys.join(", ")
                        }
                    ),
                ));
            }
            Value::Table(sub) => table = sub,
            value if last => return Ok(value),
            value => {
                return Err(ConfigError::NotATable {
                    origin: origin.to_owned(),
                    key: dotted,
                    default: short(value),
                });
            }
        }
        prefix = dotted;
    }
    Err(axis_error(origin, key, "empty axis key"))
}

fn plural(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "strings",
        Value::Integer(_) => "integers",
        Value::Float(_) => "floats (or integers)",
        Value::Boolean(_) => "booleans",
        Value::Datetime(_) => "datetimes",
        Value::Array(_) => "arrays",
        Value::Table(_) => "tables",
    }
}

fn not_an_array(origin: &str, key: &str, default: &Value, got: &str) -> ConfigError {
    axis_error(
        origin,
        key,
        format!(
            "expected a non-empty array of {} (default {}), e.g. [{}, ...]; got {got}",
            plural(default),
            short(default),
            short(default)
        ),
    )
}

/// Checks the elements of an axis exactly like `--set` values (integers become floats where the
/// default is a float); the array must not be empty.
fn conform_items(
    origin: &str,
    key: &str,
    default: &Value,
    items: Vec<Value>,
) -> Result<Vec<Value>, ConfigError> {
    if items.is_empty() {
        return Err(not_an_array(origin, key, default, "an empty array"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, x)| conform(origin, &format!("{key}[{i}]"), default, x))
        .collect()
}

/// Splits `text` at commas outside quotes and brackets; items are trimmed. Empty text gives no
/// items. A quote only opens a string at the start of an item or inside brackets, so unquoted
/// words with apostrophes stay intact.
fn split_list(text: &str) -> Vec<&str> {
    let text = text.trim();
    if text.is_empty() {
        return Vec::new();
    }
    let mut items = Vec::new();
    let mut depth = 0_i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' if depth > 0 || text[start..i].trim().is_empty() => quote = Some(c),
            '[' | '{' => depth += 1,
            ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(text[start..].trim());
    items
}

/// Parses a comma-separated list of command-line values for axis `key` (each like a `--set`
/// value: strings may be unquoted where the default is a string).
fn parse_items(
    origin: &str,
    key: &str,
    default: &Value,
    text: &str,
) -> Result<Vec<Value>, ConfigError> {
    let mut values = Vec::new();
    for (i, item) in split_list(text).into_iter().enumerate() {
        let item_key = format!("{key}[{i}]");
        if item.is_empty() {
            return Err(axis_error(
                origin,
                key,
                format!("value {i} of the list is empty"),
            ));
        }
        let v = parse_value(origin, &item_key, default, item)?;
        values.push(conform(origin, &item_key, default, v)?);
    }
    conform_items(origin, key, default, values)
}

/// Deep-merges the axes `layer` (keys relative to `prefix`) into the axes table `target`,
/// checking every axis against `base` (the default config without `[axes]`). Nested tables
/// (`[axes.network]` with `n_latent = [...]`) are flattened to dotted keys.
pub(crate) fn merge_axes(
    origin: &str,
    prefix: &str,
    base: &Table,
    target: &mut Table,
    layer: Table,
) -> Result<(), ConfigError> {
    for (k, v) in layer {
        let key = join_key(prefix, &k);
        match v {
            Value::Table(sub) => merge_axes(origin, &key, base, target, sub)?,
            v => {
                let key = canonical_key(origin, &key)?;
                let default = axis_default(origin, base, &key)?;
                let items = match v {
                    Value::Array(items) => conform_items(origin, &key, default, items)?,
                    other => return Err(not_an_array(origin, &key, default, &describe(&other))),
                };
                target.insert(key, Value::Array(items));
            }
        }
    }
    Ok(())
}

/// Merges an `[axes]` layer (a file's `[axes]` table or `--set axes={...}`) into `merged`.
pub(crate) fn merge_axes_value(
    origin: &str,
    schema: &Schema,
    merged: &mut Table,
    value: Value,
) -> Result<(), ConfigError> {
    let Value::Table(layer) = value else {
        return Err(mismatch(
            origin,
            AXES,
            &Value::Table(Table::new()),
            describe(&value),
        ));
    };
    let target = axes_table_mut(merged).ok_or_else(|| {
        ConfigError::invalid(
            AXES,
            "internal error: resolved config lost its [axes] table",
        )
    })?;
    merge_axes(origin, "", &schema.base, target, layer)
}

/// `--set axes.KEY=[V1, V2]` (`rest` is `KEY`; empty for `--set axes={...}`). Elements may be
/// unquoted strings where the default is a string (`[elise, reservoir]`).
pub(crate) fn set_axis(
    origin: &str,
    schema: &Schema,
    merged: &mut Table,
    rest: &str,
    raw: &str,
) -> Result<(), ConfigError> {
    if rest.is_empty() {
        let value = parse_value(origin, AXES, &Value::Table(Table::new()), raw)?;
        return merge_axes_value(origin, schema, merged, value);
    }
    let key = canonical_key(origin, rest)?;
    let default = axis_default(origin, &schema.base, &key)?;
    let items = match parse_toml(raw) {
        Some(Value::Array(items)) => conform_items(origin, &key, default, items)?,
        Some(other) => return Err(not_an_array(origin, &key, default, &describe(&other))),
        None => {
            let raw = raw.trim();
            match raw.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
                Some(inner) => parse_items(origin, &key, default, inner)?,
                None => return Err(not_an_array(origin, &key, default, &format!("'{raw}'"))),
            }
        }
    };
    insert_axis(schema, merged, key, items)
}

/// `--axis KEY=V1,V2,...`: comma-separated values, each parsed like a `--set` value. Brackets
/// around the list are optional unless the key's default is itself an array.
pub(crate) fn axis_flag(arg: &str, schema: &Schema, merged: &mut Table) -> Result<(), ConfigError> {
    let origin = format!("--axis {arg}");
    let Some((key, values)) = arg.split_once('=') else {
        return Err(ConfigError::Usage(format!(
            "--axis {arg}: expected KEY=V1,V2,... (e.g. --axis network.n_latent=10,20,50)"
        )));
    };
    let key = canonical_key(&origin, key)?;
    if !schema.has_axes {
        return Err(axis_error(
            &origin,
            &key,
            "this experiment does not support parameter grids (its default config has no \
             [axes] table)",
        ));
    }
    let default = axis_default(&origin, &schema.base, &key)?;
    let mut text = values.trim();
    if !matches!(default, Value::Array(_))
        && let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']'))
    {
        text = inner;
    }
    let items = parse_items(&origin, &key, default, text)?;
    insert_axis(schema, merged, key, items)
}

fn insert_axis(
    schema: &Schema,
    merged: &mut Table,
    key: String,
    items: Vec<Value>,
) -> Result<(), ConfigError> {
    debug_assert!(schema.has_axes);
    let target = axes_table_mut(merged).ok_or_else(|| {
        ConfigError::invalid(
            AXES,
            "internal error: resolved config lost its [axes] table",
        )
    })?;
    target.insert(key, Value::Array(items));
    Ok(())
}

/// The axes of a resolved table in sorted key order: (dotted key, values). Empty without
/// `[axes]`. A non-array entry counts as a one-value axis.
pub fn axes_of(table: &Table) -> Vec<(String, Vec<Value>)> {
    let Some(Value::Table(axes)) = table.get(AXES) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<Value>)> = axes
        .iter()
        .map(|(k, v)| {
            let values = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            (k.clone(), values)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The grid points of a resolved table: the Cartesian product of its axes (see [`axes_of`]),
/// first key slowest, values in the order given; each point is its params as (dotted key, value
/// as TOML text, e.g. `"elise"` with quotes for a string). Without axes: one empty point.
pub fn grid_points(table: &Table) -> Vec<Vec<(String, String)>> {
    let axes = axes_of(table);
    let n: usize = axes.iter().map(|(_, v)| v.len()).product();
    (0..n)
        .map(|p| {
            let mut rest = p;
            let mut point = vec![(String::new(), String::new()); axes.len()];
            for (slot, (key, values)) in point.iter_mut().zip(&axes).rev() {
                let i = rest % values.len();
                rest /= values.len();
                *slot = (key.clone(), values[i].to_string());
            }
            point
        })
        .collect()
}

pub(crate) fn params_text(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Most jobs one run directory holds (part files are named `job-<index:06>`, and every job's
/// config is kept in memory while the run is planned). Larger sweeps are split into several
/// runs.
pub const MAX_JOBS: usize = 100_000;

/// Refuses a grid whose jobs (points x base jobs) or job indices (points x `stride`) exceed
/// [`MAX_JOBS`], computed without overflow; the error names the axes and their sizes.
pub(crate) fn check_job_count(
    axes: &[(String, Vec<Value>)],
    n_base: usize,
    stride: usize,
) -> Result<(), ConfigError> {
    let points = axes
        .iter()
        .try_fold(1_u128, |acc, (_, v)| acc.checked_mul(v.len() as u128));
    let too_many = |n: u128| n > MAX_JOBS as u128;
    let (jobs, last_index) = match points {
        Some(p) => (p.checked_mul(n_base as u128), p.checked_mul(stride as u128)),
        None => (None, None),
    };
    if jobs.is_none_or(too_many) || last_index.is_none_or(too_many) {
        let sizes: Vec<String> = axes
            .iter()
            .map(|(k, v)| format!("{k} ({} values)", v.len()))
            .collect();
        let grid = if sizes.is_empty() {
            String::new()
        } else {
            format!("the grid {} times ", sizes.join(" x "))
        };
        let key = axes
            .first()
            .map_or_else(|| "run.seeds".to_owned(), |(k, _)| format!("axes.{k}"));
        return Err(ConfigError::invalid(
            key,
            format!(
                "{grid}{n_base} jobs per point is more than the {MAX_JOBS} jobs one run directory holds; split the sweep into several runs (e.g. one per value of an axis)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_at_top_level_commas() {
        assert_eq!(split_list(" 1, 2 ,3"), vec!["1", "2", "3"]);
        assert_eq!(split_list(""), Vec::<&str>::new());
        assert_eq!(split_list("\"a,b\", c"), vec!["\"a,b\"", "c"]);
        assert_eq!(split_list("[1, 2], [3]"), vec!["[1, 2]", "[3]"]);
        assert_eq!(split_list("don't, x"), vec!["don't", "x"]);
        assert_eq!(split_list("1,"), vec!["1", ""]);
        assert_eq!(split_list("'a\\', b"), vec!["'a\\'", "b"]);
    }

    #[test]
    fn grid_points_first_key_slowest() {
        let t: Table =
            toml::from_str("[axes]\n\"b.x\" = [1, 2]\n\"a.y\" = [\"u\", \"v\", \"w\"]\n").unwrap();
        let pts: Vec<String> = grid_points(&t).iter().map(|p| params_text(p)).collect();
        assert_eq!(
            pts,
            vec![
                "a.y=\"u\" b.x=1",
                "a.y=\"u\" b.x=2",
                "a.y=\"v\" b.x=1",
                "a.y=\"v\" b.x=2",
                "a.y=\"w\" b.x=1",
                "a.y=\"w\" b.x=2",
            ]
        );
        let none: Table = toml::from_str("[axes]\n[x]\ny = 1\n").unwrap();
        assert_eq!(grid_points(&none), vec![Vec::new()]);
    }
}
