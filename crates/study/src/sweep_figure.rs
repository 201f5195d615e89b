//! Figures of parameter sweeps, drawn from the run's Parquet tables: replay quality against one
//! swept quantity, one line per group (median over seeds), and the median validation and replay
//! curves of each group at one value of the swept quantity (where the groups differ most, or
//! each group's largest).

use elise_plot::{Figure, Lines, Panel, Series};
use elise_sweep::arrow_array::{
    Array, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use elise_sweep::{RunDir, column};
use std::collections::BTreeMap;

/// A numeric column of any integer or float type, as f64.
fn numeric(b: &RecordBatch, name: &str) -> anyhow::Result<Vec<f64>> {
    let col = b
        .column_by_name(name)
        .ok_or_else(|| anyhow::anyhow!("runs table has no column {name:?}"))?;
    if let Some(a) = col.as_any().downcast_ref::<UInt64Array>() {
        return Ok(a.values().iter().map(|&v| v as f64).collect());
    }
    if let Some(a) = col.as_any().downcast_ref::<Int64Array>() {
        return Ok(a.values().iter().map(|&v| v as f64).collect());
    }
    Ok(column::<Float64Array>(b, name)?.values().to_vec())
}

/// A column as text: strings as they are, booleans and numbers formatted (for grouping).
fn strings(b: &RecordBatch, name: &str) -> anyhow::Result<Vec<String>> {
    labels(b, name, false)
}

/// A column as `column = value` labels, whatever its type (strings included), for
/// [`readable_group`].
pub(crate) fn axis_values(b: &RecordBatch, name: &str) -> anyhow::Result<Vec<String>> {
    labels(b, name, true)
}

/// A column's values as `column = value` labels; strings bare unless `name_strings`.
fn labels(b: &RecordBatch, name: &str, name_strings: bool) -> anyhow::Result<Vec<String>> {
    let col = b
        .column_by_name(name)
        .ok_or_else(|| anyhow::anyhow!("table has no column {name:?}"))?;
    let named = |v: &dyn std::fmt::Display| format!("{name} = {v}");
    if let Some(a) = col.as_any().downcast_ref::<BooleanArray>() {
        return Ok((0..a.len()).map(|k| named(&a.value(k))).collect());
    }
    if let Some(a) = col.as_any().downcast_ref::<StringArray>() {
        return Ok((0..a.len())
            .map(|k| match name_strings {
                true => named(&a.value(k)),
                false => a.value(k).to_owned(),
            })
            .collect());
    }
    Ok(numeric(b, name)?.iter().map(|v| named(v)).collect())
}

/// A group label of the runs table as a figure shows it: `network_protect_scaffold = true`
/// becomes `protection on`, method names are spelled out (`elise-reservoir` becomes `ELiSe,
/// fixed reservoir`); other `column = value` labels lose the column's prefix (`network_`,
/// `pattern_`) and underscores. Tables keep the raw labels.
pub fn readable_group(label: &str) -> String {
    let method = match label {
        "elise" => Some("ELiSe"),
        "elise-reservoir" => Some("ELiSe, fixed reservoir"),
        "elise-soma-only" => Some("ELiSe, soma only"),
        "esn" => Some("echo state network"),
        "force" => Some("FORCE"),
        _ => None,
    };
    if let Some(m) = method {
        return m.to_owned();
    }
    let Some((col, value)) = label.split_once(" = ") else {
        return label.to_owned();
    };
    let on_off = match value {
        "true" => "on",
        "false" => "off",
        other => other,
    };
    // A file is named by its file name (`data/patterns/twinkle.txt` -> `twinkle.txt`).
    let on_off = on_off.rsplit('/').next().unwrap_or(on_off);
    match col {
        "network_protect_scaffold" => format!("protection {on_off}"),
        "pattern_file" => format!("pattern {on_off}"),
        "network_n_latent" => format!("{on_off} latent neurons"),
        "scaffold_p0" => format!("p0 {on_off}"),
        "network_delay_max_ms" => format!("delays up to {on_off} ms"),
        "network_delay_min_ms" => format!("delays from {on_off} ms"),
        "pattern_state_ms" => format!("{on_off} ms per state"),
        "network_uniform_delays" => match value {
            "true" => "uniform delays".to_owned(),
            "false" => "diverse delays".to_owned(),
            _ => format!("uniform delays {value}"),
        },
        _ => {
            let short = col
                .strip_prefix("network_")
                .or_else(|| col.strip_prefix("pattern_"))
                .unwrap_or(col)
                .replace('_', " ");
            format!("{short} {on_off}")
        }
    }
}

/// Median of the finite values (NaN if none).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// One row per job of the runs table: (job, group, x, replay_corr_sum, replay_mse).
pub struct SweepRow {
    pub job: u64,
    pub group: String,
    pub x: f64,
    pub replay_corr_sum: f64,
    pub replay_mse: f64,
    pub replay_corr_sum_min: f64,
    pub replay_mse_max: f64,
    pub n_visible: usize,
    /// The other grid axes of the job (`column = value`, in the run's axis order): those that
    /// vary among jobs of one (group, x) cell, which the figure and table keep apart.
    pub extra: Vec<String>,
}

impl SweepRow {
    /// The group with the other grid axes, as a sort key: numbers in numeric order
    /// (`n_latent = 8` before `n_latent = 10`), other values as text.
    pub fn key(&self) -> Vec<(String, i64, String)> {
        std::iter::once(&self.group)
            .chain(&self.extra)
            .map(|part| match part.split_once(" = ") {
                Some((col, v)) => match v.parse::<f64>() {
                    Ok(x) => (col.to_owned(), value_key(x), String::new()),
                    Err(_) => (col.to_owned(), 0, v.to_owned()),
                },
                None => (part.clone(), 0, String::new()),
            })
            .collect()
    }

    /// The group and the other grid axes as a legend says it (`protection on, n latent 30`).
    pub fn label(&self) -> String {
        std::iter::once(self.group.as_str())
            .chain(self.extra.iter().map(String::as_str))
            .map(readable_group)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Replay sustained in every scored cycle ([`crate::figure::sustained`]).
    pub fn sustained(&self) -> bool {
        crate::figure::sustained(
            self.replay_corr_sum_min,
            self.replay_mse_max,
            self.n_visible,
        )
    }
}

/// The corr_sum criterion line of a panel: at [`crate::figure::sustain_corr_sum`] when every
/// row has the same number of visible neurons, none otherwise.
pub fn criterion_line(rows: &[SweepRow]) -> Vec<(String, f64)> {
    match rows.first() {
        Some(r) if rows.iter().all(|o| o.n_visible == r.n_visible) => vec![(
            crate::figure::criterion_label(r.n_visible),
            crate::figure::sustain_corr_sum(r.n_visible),
        )],
        _ => Vec::new(),
    }
}

/// The run's grid axes with more than one value, as columns of its tables
/// (`network.n_latent` becomes `network_n_latent`), in the config's order.
pub(crate) fn varying_axes(run: &RunDir) -> anyhow::Result<Vec<String>> {
    Ok(elise_sweep::axes_of(&run.config_table()?)
        .into_iter()
        .filter(|(_, values)| values.len() > 1)
        .map(|(key, _)| key.replace('.', "_"))
        .collect())
}

/// For rows of the runs table `batches` keyed by `cells` (one key per row, in table order),
/// the `column = value` labels of the grid axes that take more than one value within a cell,
/// per row: the axes a figure keyed by the cells alone would merge (an extra `--axis`, such as
/// `scaffold.p0` over exp-scaffold's p x q grid). Axes that the cell determines (exp-size's
/// `network_n_latent` under its x column `n_latent`) are not extra.
fn extra_axes(
    run: &RunDir,
    batches: &[RecordBatch],
    cells: &[String],
) -> anyhow::Result<Vec<Vec<String>>> {
    let mut per_row = vec![Vec::new(); cells.len()];
    for col in varying_axes(run)? {
        let mut values = Vec::with_capacity(cells.len());
        for b in batches {
            values.extend(axis_values(b, &col)?);
        }
        let mut first: BTreeMap<&str, &str> = BTreeMap::new();
        let varies = cells
            .iter()
            .zip(&values)
            .any(|(cell, v)| *first.entry(cell).or_insert(v) != v.as_str());
        if varies {
            for (row, v) in per_row.iter_mut().zip(values) {
                row.push(v);
            }
        }
    }
    Ok(per_row)
}

/// A swept value as a map key (exact to 1e-6).
fn value_key(x: f64) -> i64 {
    (x * 1e6).round() as i64
}

/// Reads the runs table of a sweep; `group_col` is a string column, `x_col` numeric. Jobs
/// that differ in another grid axis as well get it in [`SweepRow::extra`].
pub fn read_sweep(run: &RunDir, x_col: &str, group_col: &str) -> anyhow::Result<Vec<SweepRow>> {
    let mut rows = Vec::new();
    let batches = run.read_table("runs")?;
    for b in &batches {
        let (job, group, x) = (
            numeric(b, "job")?,
            strings(b, group_col)?,
            numeric(b, x_col)?,
        );
        let (cs, mse, cs_min, mse_max, n_vis) = (
            numeric(b, "replay_corr_sum")?,
            numeric(b, "replay_mse")?,
            numeric(b, "replay_corr_sum_min")?,
            numeric(b, "replay_mse_max")?,
            numeric(b, "n_visible")?,
        );
        for k in 0..b.num_rows() {
            rows.push(SweepRow {
                job: job[k] as u64,
                group: group[k].clone(),
                x: x[k],
                replay_corr_sum: cs[k],
                replay_mse: mse[k],
                replay_corr_sum_min: cs_min[k],
                replay_mse_max: mse_max[k],
                n_visible: n_vis[k] as usize,
                extra: Vec::new(),
            });
        }
    }
    let cells: Vec<String> = rows
        .iter()
        .map(|r| format!("{}\u{1f}{}", r.group, value_key(r.x)))
        .collect();
    for (r, extra) in rows.iter_mut().zip(extra_axes(run, &batches, &cells)?) {
        r.extra = extra;
    }
    Ok(rows)
}

/// Median curve over the jobs `jobs` of one phase's metric, by cycle.
fn median_curve(
    curves: &[RecordBatch],
    jobs: &[u64],
    phase: &str,
    metric: &str,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let mut by_cycle: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for b in curves {
        let (job, ph, cycle, m) = (
            numeric(b, "job")?,
            strings(b, "phase")?,
            column::<Int64Array>(b, "cycle")?,
            numeric(b, metric)?,
        );
        for k in 0..b.num_rows() {
            if ph[k] == phase && jobs.contains(&(job[k] as u64)) {
                by_cycle.entry(cycle.value(k)).or_default().push(m[k]);
            }
        }
    }
    Ok(by_cycle
        .into_iter()
        .map(|(c, v)| (c as f64, median(&v)))
        .unzip())
}

/// A swept value as a legend says it: `tutor noise sigma = 4 mV` for the axis label
/// `tutor noise sigma (mV)`, `latent neurons = 50` for `latent neurons`.
fn value_label(x_label: &str, x: f64) -> String {
    match x_label.strip_suffix(')').and_then(|l| l.split_once(" (")) {
        Some((name, unit)) => format!("{name} = {x} {unit}"),
        None => format!("{x_label} = {x}"),
    }
}

/// Rows by group ([`SweepRow::key`]) and swept value ([`value_key`]).
type Groups<'a> = BTreeMap<Vec<(String, i64, String)>, BTreeMap<i64, Vec<&'a SweepRow>>>;

fn group_rows(rows: &[SweepRow]) -> Groups<'_> {
    let mut groups = Groups::new();
    for r in rows {
        groups
            .entry(r.key())
            .or_default()
            .entry(value_key(r.x))
            .or_default()
            .push(r);
    }
    groups
}

/// The swept value (as a [`value_key`]) at which to show the learning curves of several groups
/// that share their swept values (exp-sparsity's protection off and on over the same
/// densities): where the groups differ most in how many seeds sustain replay, then in median
/// replay corr_sum, then the largest value. `None` with one group, or when the groups sweep
/// different values (exp-compare's methods), where each group is shown at its largest.
fn contrast_value(groups: &Groups) -> Option<i64> {
    let mut gs = groups.values();
    let first = gs.next()?;
    if groups.len() < 2 || gs.any(|by_x| !by_x.keys().eq(first.keys())) {
        return None;
    }
    let spread = |v: Vec<f64>| {
        let v: Vec<f64> = v.into_iter().filter(|x| x.is_finite()).collect();
        match v.len() {
            0 | 1 => 0.0,
            _ => {
                v.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b))
                    - v.iter().fold(f64::INFINITY, |a, &b| a.min(b))
            }
        }
    };
    let score = |xk: i64| {
        let rates = groups
            .values()
            .map(|by_x| {
                let rs = &by_x[&xk];
                rs.iter().filter(|r| r.sustained()).count() as f64 / rs.len() as f64
            })
            .collect();
        let medians = groups
            .values()
            .map(|by_x| {
                median(
                    &by_x[&xk]
                        .iter()
                        .map(|r| r.replay_corr_sum)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        (spread(rates), spread(medians))
    };
    // Keys ascend, so on a tie the later (larger) value wins.
    first
        .keys()
        .map(|&xk| (score(xk), xk))
        .max_by(|((r1, m1), _), ((r2, m2), _)| r1.total_cmp(r2).then(m1.total_cmp(m2)))
        .map(|(_, xk)| xk)
}

/// Most curves in one panel when a single group's swept values each get their own.
const MAX_CURVES: usize = 8;

/// Draws the sweep figure; `x_label` names the swept quantity; `perfect` is the best corr_sum.
pub fn draw_sweep(
    run: &RunDir,
    x_col: &str,
    x_label: &str,
    group_col: &str,
    title: &str,
    file_name: &str,
) -> anyhow::Result<()> {
    let rows = read_sweep(run, x_col, group_col)?;
    let groups = group_rows(&rows);
    // A group's legend label, from any of its rows.
    let label = |by_x: &BTreeMap<i64, Vec<&SweepRow>>| {
        by_x.values()
            .next()
            .map_or(String::new(), |rs| rs[0].label())
    };
    let per_x = |f: &dyn Fn(&SweepRow) -> f64| -> Vec<Series> {
        groups
            .values()
            .map(|by_x| {
                let (xs, ys) = by_x
                    .values()
                    .map(|rs| {
                        (
                            rs[0].x,
                            median(&rs.iter().map(|r| f(r)).collect::<Vec<_>>()),
                        )
                    })
                    .unzip();
                Series {
                    label: label(by_x),
                    xs,
                    ys,
                }
            })
            .collect()
    };
    // Sizes spanning decades (exp-compare: 23 to 2000 neurons) on a log axis.
    let (x_lo, x_hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.x), hi.max(r.x))
        });
    let log_x = x_lo > 0.0 && x_hi / x_lo >= 20.0;
    let lines = |title: &str,
                 x_label: &str,
                 y_label: &str,
                 series: Vec<Series>,
                 (log_x, log_y): (bool, bool),
                 hlines: Vec<(String, f64)>| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            log_x,
            log_y,
            y_range: None,
            hlines,
        })
    };
    let crit = || criterion_line(&rows);
    let mut panels = vec![
        lines(
            "Replay without teacher (median over seeds)",
            x_label,
            "replay corr_sum",
            per_x(&|r| r.replay_corr_sum),
            (log_x, false),
            crit(),
        ),
        lines(
            "Replay without teacher (median over seeds)",
            x_label,
            "replay MSE",
            per_x(&|r| r.replay_mse.max(1e-6)),
            (log_x, true),
            vec![("0.01".into(), 0.01)],
        ),
    ];
    // Curves of each group at the swept value where the groups differ most
    // ([`contrast_value`]: exp-sparsity's protection off / on at the density where it matters),
    // or at each group's largest value when the groups sweep different ranges (exp-compare's
    // methods); with a single group, one curve per swept value instead (exp-noisy-tutor,
    // exp-size: how learning changes along the sweep).
    let curves = run.read_table("curves")?;
    let mut val = Vec::new();
    let mut rep = Vec::new();
    // The largest swept value, when every group's largest is the same one (named in titles).
    let largest = |by_x: &BTreeMap<i64, Vec<&SweepRow>>| by_x.keys().next_back().copied();
    let common_largest = groups
        .values()
        .map(largest)
        .reduce(|a, b| if a == b { a } else { None })
        .flatten();
    let along = match groups.values().collect::<Vec<_>>()[..] {
        [by_x] if by_x.len() <= MAX_CURVES => Some(by_x),
        _ => None,
    };
    let contrast = match along {
        Some(_) => None,
        None => contrast_value(&groups),
    };
    let picked: Vec<(String, &Vec<&SweepRow>)> = match (along, contrast) {
        (Some(by_x), _) => by_x
            .values()
            .map(|rs| (value_label(x_label, rs[0].x), rs))
            .collect(),
        (None, Some(xk)) => groups
            .values()
            .map(|by_x| (label(by_x), &by_x[&xk]))
            .collect(),
        (None, None) => groups
            .values()
            .map(|by_x| {
                // The labels are the groups alone, as in the panels above, so the figure
                // shares one legend (a legend per panel, with each group's value, took the
                // space of the curves); the title names the value, or says where to read it.
                let rs = by_x.values().next_back().expect("a group has rows");
                (label(by_x), rs)
            })
            .collect(),
    };
    for (label, rs) in picked {
        let jobs: Vec<u64> = rs.iter().map(|r| r.job).collect();
        let (xs, ys) = median_curve(&curves, &jobs, "validation", "corr_sum")?;
        val.push(Series {
            label: label.clone(),
            xs,
            ys,
        });
        let (xs, ys) = median_curve(&curves, &jobs, "replay", "corr_sum")?;
        rep.push(Series { label, xs, ys });
    }
    let value = |xk: i64| groups.values().next().expect("groups")[&xk][0].x;
    let at = match (along, contrast, common_largest) {
        (Some(_), _, _) => format!("per {}", x_label.split(" (").next().unwrap_or(x_label)),
        (None, Some(xk), _) => format!("{x_label} = {}, largest gap", value(xk)),
        (None, None, Some(xk)) => format!("{x_label} = {}", value(xk)),
        (None, None, None) => "each at the right end of its line above".to_owned(),
    };
    if val.iter().any(|s| !s.xs.is_empty()) {
        panels.push(lines(
            &format!("Free validation cycles ({at})"),
            "training cycle",
            "corr_sum (median)",
            val,
            (false, false),
            crit(),
        ));
    }
    if rep.iter().any(|s| !s.xs.is_empty()) {
        panels.push(lines(
            &format!("Replay cycles ({at})"),
            "replay cycle",
            "corr_sum (median)",
            rep,
            (false, false),
            crit(),
        ));
    }
    let fig = Figure {
        title: title.into(),
        panels,
        n_cols: 2,
        panel_size: (720, 420),
    };
    crate::figure::save(run, fig, file_name)?;
    Ok(())
}

/// The column header of the sustained-replay counts in summaries.
pub const SUSTAIN_HEADER: &str = "seeds sustaining replay (corr_sum >= 12/13 per visible neuron and MSE <= 0.01 in every scored cycle)";

/// A Markdown table: per group and swept value, the median replay scores and how many seeds
/// sustain replay ([`SweepRow::sustained`]).
pub fn markdown_table(
    run: &RunDir,
    x_col: &str,
    x_label: &str,
    group_col: &str,
) -> anyhow::Result<String> {
    let rows = read_sweep(run, x_col, group_col)?;
    let mut groups: BTreeMap<_, Vec<&SweepRow>> = BTreeMap::new();
    for r in &rows {
        groups.entry((r.key(), value_key(r.x))).or_default().push(r);
    }
    // Other grid axes get one column (`network_n_latent = 30; ...`) before the swept value.
    let other = rows.iter().any(|r| !r.extra.is_empty());
    let (other_head, other_rule) = match other {
        true => (" other grid axes |", "---|"),
        false => ("", ""),
    };
    let mut s = format!(
        "| {group_col} |{other_head} {x_label} | seeds | {SUSTAIN_HEADER} | median replay corr_sum | median replay MSE |\n|---|{other_rule}---|---|---|---|---|\n"
    );
    for rs in groups.values() {
        let ok = rs.iter().filter(|r| r.sustained()).count();
        let cs: Vec<f64> = rs.iter().map(|r| r.replay_corr_sum).collect();
        let mse: Vec<f64> = rs.iter().map(|r| r.replay_mse).collect();
        let other = match other {
            true => format!(" {} |", rs[0].extra.join("; ")),
            false => String::new(),
        };
        s += &format!(
            "| {} |{other} {} | {} | {ok} | {:.2} | {:.4} |\n",
            rs[0].group,
            rs[0].x,
            rs.len(),
            median(&cs),
            median(&mse)
        );
    }
    Ok(s)
}

/// Heat maps over two swept config columns (`x_col` across, `y_col` down), one cell per grid
/// point with its value written in: the fraction of seeds that sustain replay
/// ([`crate::figure::sustained`]), median replay corr_sum, median replay MSE and median
/// scaffold edges. Returns the same numbers as a Markdown table, one row per grid point.
pub fn draw_heatmaps(
    run: &RunDir,
    (x_col, x_label): (&str, &str),
    (y_col, y_label): (&str, &str),
    title: &str,
    file_name: &str,
) -> anyhow::Result<String> {
    // (y, x) -> per job.
    struct Cell {
        corr_sum: f64,
        sustained: bool,
        mse: f64,
        edges: f64,
        reached: f64,
    }
    // Rows are (other grid axes, y): a run with another axis (`--axis scaffold.p0=...`) gets
    // one row of cells per (value of it, y) instead of merging its values into one cell.
    type Row = (Vec<String>, i64);
    let mut cells: BTreeMap<(Row, i64), Vec<Cell>> = BTreeMap::new();
    let key = value_key;
    let batches = run.read_table("runs")?;
    let mut xy = Vec::new();
    for b in &batches {
        let (x, y) = (numeric(b, x_col)?, numeric(b, y_col)?);
        xy.extend(x.into_iter().zip(y).map(|(x, y)| (key(x), key(y))));
    }
    let cell_keys: Vec<String> = xy.iter().map(|(x, y)| format!("{x}\u{1f}{y}")).collect();
    let mut extra = extra_axes(run, &batches, &cell_keys)?.into_iter();
    for b in &batches {
        let (x, y) = (numeric(b, x_col)?, numeric(b, y_col)?);
        let (cs, cs_min, mse, mse_max, n_vis) = (
            numeric(b, "replay_corr_sum")?,
            numeric(b, "replay_corr_sum_min")?,
            numeric(b, "replay_mse")?,
            numeric(b, "replay_mse_max")?,
            numeric(b, "n_visible")?,
        );
        let (edges, reached) = (
            numeric(b, "scaffold_edges")?,
            numeric(b, "scaffold_latent_reached")?,
        );
        for k in 0..b.num_rows() {
            let other = extra.next().unwrap_or_default();
            cells
                .entry(((other, key(y[k])), key(x[k])))
                .or_default()
                .push(Cell {
                    corr_sum: cs[k],
                    sustained: crate::figure::sustained(cs_min[k], mse_max[k], n_vis[k] as usize),
                    mse: mse[k],
                    edges: edges[k],
                    reached: reached[k],
                });
        }
    }
    let mut xs: Vec<i64> = cells.keys().map(|k| k.1).collect();
    let mut ys: Vec<Row> = cells.keys().map(|k| k.0.clone()).collect();
    xs.sort_unstable();
    xs.dedup();
    ys.sort();
    ys.dedup();
    let show = |k: i64| format!("{}", k as f64 / 1e6);
    // A row's category: `0.5`, or `0.5, p0 0.3` with another grid axis.
    let show_row = |(other, y): &Row| {
        std::iter::once(show(*y))
            .chain(other.iter().map(|o| readable_group(o)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let other_axes: Vec<String> = ys
        .first()
        .map(|(other, _)| {
            other
                .iter()
                .filter_map(|o| o.split_once(" = ").map(|(col, _)| col.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let y_label = match other_axes.is_empty() {
        true => y_label.to_owned(),
        false => format!(
            "{y_label}, {}",
            other_axes
                .iter()
                .map(|c| readable_group(&format!("{c} = ")).trim_end().to_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let sustained = |v: &[Cell]| v.iter().filter(|c| c.sustained).count();
    let grid = |f: &dyn Fn(&[Cell]) -> f64| -> Vec<f64> {
        let mut out = Vec::with_capacity(xs.len() * ys.len());
        for y in &ys {
            for &x in &xs {
                out.push(cells.get(&(y.clone(), x)).map_or(f64::NAN, |v| f(v)));
            }
        }
        out
    };
    let med = |f: fn(&Cell) -> f64| move |v: &[Cell]| median(&v.iter().map(f).collect::<Vec<_>>());
    let raster = |title: &str,
                  value_label: &str,
                  values: Vec<f64>,
                  vmin: f64,
                  vmax: f64,
                  labels: Vec<String>| {
        Panel::Raster(elise_plot::Raster {
            title: title.into(),
            n_rows: ys.len(),
            n_cols: xs.len(),
            values,
            vmin,
            vmax,
            x_label: x_label.into(),
            x_range: (0.0, (xs.len().max(2) - 1) as f64),
            y_label: y_label.clone(),
            x_categories: xs.iter().map(|&k| show(k)).collect(),
            y_categories: ys.iter().map(show_row).collect(),
            cell_labels: labels,
            value_label: value_label.into(),
        })
    };
    let fmt = |values: &[f64], digits: usize| -> Vec<String> {
        values
            .iter()
            .map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    format!("{v:.digits$}")
                }
            })
            .collect()
    };
    let counts: Vec<String> = ys
        .iter()
        .flat_map(|y| xs.iter().map(move |&x| (y.clone(), x)))
        .map(|k| {
            cells
                .get(&k)
                .map_or(String::new(), |v| format!("{}/{}", sustained(v), v.len()))
        })
        .collect();
    let fraction = grid(&|v| sustained(v) as f64 / v.len() as f64);
    let corr = grid(&med(|c| c.corr_sum));
    let mse = grid(&med(|c| c.mse));
    let edges = grid(&med(|c| c.edges));
    let max_edges = edges
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(1.0, f64::max);
    let panels = vec![
        raster(
            "seeds sustaining replay",
            "fraction of seeds",
            fraction,
            0.0,
            1.0,
            counts,
        ),
        raster(
            "median replay corr_sum (0 .. 13)",
            "corr_sum",
            corr.iter().map(|v| v.max(0.0)).collect(),
            0.0,
            13.0,
            fmt(&corr, 2),
        ),
        raster(
            "median replay MSE (0 .. 0.08)",
            "MSE",
            mse.clone(),
            0.0,
            0.08,
            fmt(&mse, 4),
        ),
        raster(
            &format!("median scaffold edges (0 .. {max_edges:.0})"),
            "edges",
            edges.clone(),
            0.0,
            max_edges,
            fmt(&edges, 0),
        ),
    ];
    let fig = Figure {
        title: title.into(),
        panels,
        n_cols: 2,
        panel_size: (560, 440),
    };
    crate::figure::save(run, fig, file_name)?;

    let (other_head, other_rule) = match other_axes.is_empty() {
        true => (String::new(), ""),
        false => (format!(" {} |", other_axes.join(" | ")), "---|"),
    };
    let mut table = format!(
        "| {x_col} | {y_col} |{other_head} seeds | {SUSTAIN_HEADER} | median replay corr_sum | median replay MSE | median scaffold edges | median latent neurons reached |\n|---|---|{}---|---|---|---|---|---|\n",
        other_rule.repeat(other_axes.len())
    );
    for &x in &xs {
        for y in &ys {
            if let Some(v) = cells.get(&(y.clone(), x)) {
                let other: String = y
                    .0
                    .iter()
                    .map(|o| format!(" {} |", o.split_once(" = ").map_or(o.as_str(), |(_, v)| v)))
                    .collect();
                table += &format!(
                    "| {} | {} |{other} {} | {} | {:.2} | {:.4} | {:.0} | {:.0} |\n",
                    show(x),
                    show(y.1),
                    v.len(),
                    sustained(v),
                    med(|c| c.corr_sum)(v),
                    med(|c| c.mse)(v),
                    med(|c| c.edges)(v),
                    med(|c| c.reached)(v),
                );
            }
        }
    }
    Ok(table)
}

/// The usual end of a one-dimensional sweep: `summary.md` from [`markdown_table`] (also logged)
/// and the figure of [`draw_sweep`].
pub fn finish_sweep(
    run: &RunDir,
    x_col: &str,
    x_label: &str,
    group_col: &str,
    title: &str,
    file_name: &str,
) -> anyhow::Result<()> {
    let table = markdown_table(run, x_col, x_label, group_col)?;
    tracing::info!("summary:\n{table}");
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
    draw_sweep(run, x_col, x_label, group_col, title, file_name)
}

#[cfg(test)]
mod tests {
    use super::readable_group;

    /// A row of group `g` at `x` with replay corr_sum `cs` that sustains replay or not.
    fn row(g: &str, x: f64, cs: f64, ok: bool) -> super::SweepRow {
        super::SweepRow {
            job: 0,
            group: g.into(),
            x,
            replay_corr_sum: cs,
            replay_mse: 0.005,
            replay_corr_sum_min: if ok { 12.5 } else { 5.0 },
            replay_mse_max: 0.005,
            n_visible: 13,
            extra: Vec::new(),
        }
    }

    #[test]
    fn curves_where_the_groups_differ_most() {
        let pick = |rows: &[super::SweepRow]| {
            super::contrast_value(&super::group_rows(rows)).map(|k| k as f64 / 1e6)
        };
        // Sustain rates 0/0, 1/0, 1/1 (one seed each): the middle value.
        let mut rows = vec![
            row("a", 0.1, 1.0, false),
            row("b", 0.1, 1.0, false),
            row("a", 0.5, 12.4, true),
            row("b", 0.5, 9.0, false),
            row("a", 1.0, 12.6, true),
            row("b", 1.0, 12.6, true),
        ];
        assert_eq!(pick(&rows), Some(0.5));
        // Equal rates everywhere: the largest gap in median corr_sum (0.1: 1 vs 6, against
        // 12.4 vs 9 at 0.5).
        rows[1].replay_corr_sum = 6.0;
        rows[3].replay_corr_sum_min = 12.5;
        assert_eq!(pick(&rows), Some(0.1));
        // No difference at all: the largest value.
        rows[1].replay_corr_sum = 1.0;
        rows[3].replay_corr_sum = 12.4;
        assert_eq!(pick(&rows), Some(1.0));
        // One group, or groups over different values: none (each at its own largest).
        assert_eq!(pick(&rows[..1]), None);
        rows.push(row("b", 2.0, 12.0, true));
        assert_eq!(pick(&rows), None);
    }

    #[test]
    fn value_labels() {
        assert_eq!(
            super::value_label("tutor noise sigma (mV)", 4.0),
            "tutor noise sigma = 4 mV"
        );
        assert_eq!(
            super::value_label("latent neurons", 50.0),
            "latent neurons = 50"
        );
    }

    #[test]
    fn readable_groups() {
        assert_eq!(
            readable_group("network_protect_scaffold = false"),
            "protection off"
        );
        assert_eq!(
            readable_group("network_protect_scaffold = true"),
            "protection on"
        );
        assert_eq!(
            readable_group("network_uniform_delays = true"),
            "uniform delays"
        );
        assert_eq!(readable_group("elise-reservoir"), "ELiSe, fixed reservoir");
        assert_eq!(readable_group("esn"), "echo state network");
        assert_eq!(readable_group("network_foo_bar = 0.5"), "foo bar 0.5");
        assert_eq!(readable_group("network_n_latent = 30"), "30 latent neurons");
        assert_eq!(readable_group("scaffold_p0 = 0.3"), "p0 0.3");
        assert_eq!(
            readable_group("network_delay_max_ms = 100"),
            "delays up to 100 ms"
        );
        assert_eq!(readable_group("pattern_state_ms = 2.5"), "2.5 ms per state");
        assert_eq!(readable_group("something else"), "something else");
        assert_eq!(
            readable_group("pattern_file = data/patterns/twinkle.txt"),
            "pattern twinkle.txt"
        );
        assert_eq!(
            readable_group("pattern_annotation_file = data/annotations/song.csv"),
            "annotation file song.csv"
        );
    }
}
