//! The comparison's figure and Markdown table, from the Parquet tables.

use crate::Config;
use elise_study::sweep_figure::{self, median};
use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray, UInt64Array};
use elise_sweep::{RunDir, column};
use std::collections::BTreeMap;

/// Per job: (method, neurons, sustains replay, replay corr_sum, plastic params, wall seconds,
/// first validation cycle reaching the criterion).
struct JobRow {
    method: String,
    n_neurons: u64,
    sustains: bool,
    corr: f64,
    plastic: u64,
    wall: f64,
    cycles_to_criterion: Option<i64>,
}

fn rows(run: &RunDir, criterion: f64) -> anyhow::Result<Vec<JobRow>> {
    // First validation cycle at or above the criterion, per job.
    let mut first: BTreeMap<u64, i64> = BTreeMap::new();
    for b in run.read_table("curves")? {
        let (job, phase) = (
            column::<UInt64Array>(&b, "job")?,
            column::<StringArray>(&b, "phase")?,
        );
        let (cycle, corr) = (
            column::<Int64Array>(&b, "cycle")?,
            column::<Float64Array>(&b, "corr_sum")?,
        );
        for k in 0..b.num_rows() {
            if phase.value(k) == "validation" && corr.value(k) >= criterion {
                let e = first.entry(job.value(k)).or_insert(i64::MAX);
                *e = (*e).min(cycle.value(k));
            }
        }
    }
    let mut out = Vec::new();
    for b in run.read_table("runs")? {
        let job = column::<UInt64Array>(&b, "job")?;
        let method = column::<StringArray>(&b, "method")?;
        let n = column::<UInt64Array>(&b, "n_neurons")?;
        let corr = column::<Float64Array>(&b, "replay_corr_sum")?;
        let corr_min = column::<Float64Array>(&b, "replay_corr_sum_min")?;
        let plastic = column::<UInt64Array>(&b, "n_plastic")?;
        let wall = column::<Float64Array>(&b, "wall_seconds")?;
        for k in 0..b.num_rows() {
            out.push(JobRow {
                method: method.value(k).to_owned(),
                n_neurons: n.value(k),
                sustains: corr_min.value(k) >= criterion,
                corr: corr.value(k),
                plastic: plastic.value(k),
                wall: wall.value(k),
                cycles_to_criterion: first.get(&job.value(k)).copied(),
            });
        }
    }
    Ok(out)
}

/// The headline table: per method, the smallest size at which most seeds sustain replay.
pub fn headline(run: &RunDir, criterion: f64) -> anyhow::Result<String> {
    let rows = rows(run, criterion)?;
    let mut by: BTreeMap<(&str, u64), Vec<&JobRow>> = BTreeMap::new();
    for r in &rows {
        by.entry((&r.method, r.n_neurons)).or_default().push(r);
    }
    let mut s = format!(
        "| method | neurons | seeds sustaining replay (corr_sum >= {criterion} in every scored cycle) | median replay corr_sum | plastic parameters | median training cycles to criterion | median wall time (s) |\n|---|---|---|---|---|---|---|\n"
    );
    let mut smallest: BTreeMap<&str, Option<u64>> = BTreeMap::new();
    for ((m, n), rs) in &by {
        let ok = rs.iter().filter(|r| r.sustains).count();
        let cycles: Vec<f64> = rs
            .iter()
            .filter_map(|r| r.cycles_to_criterion.map(|c| c as f64))
            .collect();
        let cyc = if cycles.is_empty() {
            "never".to_owned()
        } else {
            format!("{:.0}", median(&cycles))
        };
        let wall: Vec<f64> = rs.iter().map(|r| r.wall).collect();
        let corr: Vec<f64> = rs.iter().map(|r| r.corr).collect();
        s += &format!(
            "| {m} | {n} | {ok} of {} | {:.2} | {} | {cyc} | {:.1} |\n",
            rs.len(),
            median(&corr),
            rs[0].plastic,
            median(&wall)
        );
        let e = smallest.entry(m).or_insert(None);
        if e.is_none() && 2 * ok > rs.len() {
            *e = Some(*n);
        }
    }
    s += "\nSmallest network at which a majority of seeds sustains free replay:\n\n";
    for (m, n) in smallest {
        s += &format!(
            "- {m}: {}\n",
            n.map_or("none of the sizes tried".to_owned(), |n| format!(
                "{n} neurons"
            ))
        );
    }
    Ok(s)
}

pub fn finish(cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    let table = headline(run, cfg.compare.criterion_corr_sum)?;
    tracing::info!("summary:\n{table}");
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
    sweep_figure::draw_sweep(
        run,
        "n_neurons",
        "neurons",
        "method",
        "exp-compare: replay quality vs network size",
        "compare.png",
    )
}
