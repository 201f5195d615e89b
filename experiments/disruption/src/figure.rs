//! `disruption.png` and `summary.md` from the tables.

use crate::Config;
use elise_plot::{Figure, Lines, Panel, Series};
use elise_study::figure::{rate_raster, read_trace_window};
use elise_study::sweep_figure::median;
use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray, UInt64Array};
use elise_sweep::{RunDir, column};
use std::collections::BTreeMap;

pub fn finish(cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    // (branch, seed) -> replay cycle -> (corr_sum, mse)
    let mut curves: BTreeMap<(String, u64), BTreeMap<i64, (f64, f64)>> = BTreeMap::new();
    for b in run.read_table("curves")? {
        let (branch, seed, phase) = (
            column::<StringArray>(&b, "branch")?,
            column::<UInt64Array>(&b, "seed")?,
            column::<StringArray>(&b, "phase")?,
        );
        let (cycle, cs, mse) = (
            column::<Int64Array>(&b, "cycle")?,
            column::<Float64Array>(&b, "corr_sum")?,
            column::<Float64Array>(&b, "mse")?,
        );
        for k in 0..b.num_rows() {
            if phase.value(k) == "replay" {
                curves
                    .entry((branch.value(k).to_owned(), seed.value(k)))
                    .or_default()
                    .insert(cycle.value(k), (cs.value(k), mse.value(k)));
            }
        }
    }
    let d = cfg.elise.replay.disruption_cycle as i64;
    let threshold = cfg.disruption.recovered_corr_sum;
    let mut table = format!(
        "| branch | seeds | median corr_sum before (cycle {}) | during (cycle {d}) | after (cycle {}) | median cycles to recover (corr_sum >= {threshold}) | seeds never recovering |\n|---|---|---|---|---|---|---|\n",
        d - 1,
        d + 1
    );
    let mut corr_series = Vec::new();
    let mut mse_series = Vec::new();
    for name in &cfg.disruption.branches {
        let seeds: Vec<&BTreeMap<i64, (f64, f64)>> = curves
            .iter()
            .filter(|((b, _), _)| b == name)
            .map(|(_, c)| c)
            .collect();
        if seeds.is_empty() {
            continue;
        }
        let at = |c: i64| {
            median(
                &seeds
                    .iter()
                    .filter_map(|s| s.get(&c).map(|v| v.0))
                    .collect::<Vec<_>>(),
            )
        };
        let mut recover = Vec::new();
        let mut never = 0;
        for s in &seeds {
            match s.iter().find(|(c, v)| **c > d && v.0 >= threshold) {
                Some((c, _)) => recover.push((c - d) as f64),
                None => never += 1,
            }
        }
        let rec = if recover.is_empty() {
            "never".to_owned()
        } else {
            format!("{:.0}", median(&recover))
        };
        table += &format!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {rec} | {never} |\n",
            seeds.len(),
            at(d - 1),
            at(d),
            at(d + 1)
        );
        let cycles: Vec<i64> = seeds[0].keys().copied().collect();
        let med = |f: &dyn Fn(&(f64, f64)) -> f64| {
            cycles
                .iter()
                .map(|c| {
                    median(
                        &seeds
                            .iter()
                            .filter_map(|s| s.get(c).map(f))
                            .collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<f64>>()
        };
        let xs: Vec<f64> = cycles.iter().map(|&c| c as f64).collect();
        corr_series.push(Series {
            label: branch_label(name),
            xs: xs.clone(),
            ys: med(&|v| v.0),
        });
        mse_series.push(Series {
            label: branch_label(name),
            xs,
            ys: med(&|v| v.1.max(1e-6)),
        });
    }
    tracing::info!("summary:\n{table}");
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), table.as_bytes())?;
    let lines = |title: &str, y: &str, series, log_y, hlines| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: "replay cycle".into(),
            y_label: y.into(),
            series,
            log_x: false,
            log_y,
            y_range: None,
            hlines,
        })
    };
    let fig = Figure {
        title: format!(
            "exp-disruption: replay with a disruption in replay cycle {d} (Fig 5), median over seeds"
        ),
        panels: vec![
            lines(
                "Replay quality",
                "corr_sum (best shift)",
                corr_series,
                false,
                vec![(format!("recovered {threshold}"), threshold)],
            ),
            lines(
                "Replay error",
                "MSE (best shift)",
                mse_series,
                true,
                vec![("0.01".into(), 0.01)],
            ),
        ],
        n_cols: 1,
        panel_size: (1000, 360),
    };
    elise_study::figure::save(run, fig, "disruption.png")?;
    draw_rasters(cfg, run)
}

/// `disruption_raster.png`: the target and each branch's replay around the disruption, for the
/// first job with traces (replicate 0 unless `disruption.raster_replicates = 0`).
fn draw_rasters(cfg: &Config, run: &RunDir) -> anyhow::Result<()> {
    let Some(&job) = first_job_with_traces(run)?.as_ref() else {
        return Ok(());
    };
    let cycles = cfg.raster_cycles();
    let n_cycles = (cycles.end() - cycles.start() + 1) as f64;
    let cycle_ms =
        cfg.elise.pattern.state_ms * cfg.elise.pattern.load(&*run.inputs()?)?.n_states() as f64;
    let x_range = (0.0, cycle_ms * n_cycles);
    let d = cfg.elise.replay.disruption_cycle;
    let mut panels = Vec::new();
    let mut seed_target = None;
    for name in &cfg.disruption.branches {
        let Some(w) = read_trace_window(run, job.0, Some(name), cycles.clone())? else {
            continue;
        };
        if seed_target.is_none() {
            seed_target = Some((w.n_rows, w.target.clone()));
        }
        panels.push(rate_raster(
            format!("{}: free replay, seed {}", branch_label(name), job.1),
            w.n_rows,
            w.rate,
            x_range,
        ));
    }
    let Some((n_rows, target)) = seed_target else {
        return Ok(());
    };
    panels.insert(
        0,
        rate_raster("Target rates".into(), n_rows, target, x_range),
    );
    let fig = Figure {
        title: format!(
            "exp-disruption: replay cycles {}-{} (disruption in cycle {d}, i.e. {:.0}-{:.0} ms)",
            cycles.start(),
            cycles.end(),
            (d as i64 - cycles.start()) as f64 * cycle_ms,
            (d as i64 - cycles.start() + 1) as f64 * cycle_ms,
        ),
        n_cols: 1,
        panel_size: (1000, 190),
        panels,
    };
    elise_study::figure::save(run, fig, "disruption_raster.png")?;
    Ok(())
}

/// (job, seed) of the lowest job index with a `traces` part (parts are sorted by job).
fn first_job_with_traces(run: &RunDir) -> anyhow::Result<Option<(u64, u64)>> {
    for part in run.table_parts("traces")? {
        for b in elise_sweep::read_parquet(&part)? {
            if b.num_rows() > 0 {
                let job = column::<UInt64Array>(&b, "job")?.value(0);
                let seed = column::<UInt64Array>(&b, "seed")?.value(0);
                return Ok(Some((job, seed)));
            }
        }
    }
    Ok(None)
}

/// A branch as a legend or panel title says it: the built-in disruptions in words (what is held
/// where, for how long; docs/experiments/disruption.md), a disruption file by its name.
fn branch_label(name: &str) -> String {
    match name {
        "none" => "control (no disruption)".into(),
        "full" => "whole cycle silenced (-70 mV)".into(),
        "full_offset" => "whole cycle held at -55 mV".into(),
        "small" => "90-150 ms silenced (-70 mV)".into(),
        "small_offset" => "90-150 ms held at -55 mV".into(),
        file => file.rsplit('/').next().unwrap_or(file).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn branch_labels_are_words() {
        assert_eq!(super::branch_label("none"), "control (no disruption)");
        assert_eq!(
            super::branch_label("small_offset"),
            "90-150 ms held at -55 mV"
        );
        assert_eq!(super::branch_label("data/my_cut.txt"), "my_cut.txt");
    }
}
