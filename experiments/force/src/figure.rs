//! `force.png` and `summary.md` from the Parquet tables.

use elise_plot::{Figure, Lines, Panel, Series};
use elise_study::sweep_figure::median;
use elise_sweep::arrow_array::{Float64Array, Int64Array, StringArray, UInt64Array};
use elise_sweep::{RunDir, column};
use std::collections::BTreeMap;

fn lines(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: Vec<Series>,
    hlines: Vec<(String, f64)>,
) -> Panel {
    Panel::Lines(Lines {
        title: title.into(),
        x_label: x_label.into(),
        y_label: y_label.into(),
        series,
        log_x: false,
        log_y: false,
        y_range: None,
        hlines,
    })
}

pub fn finish(run: &RunDir) -> anyhow::Result<()> {
    // Four-sine errors.
    let (mut train, mut test, mut wall, mut n): (Vec<f64>, Vec<f64>, Vec<f64>, u64) =
        (vec![], vec![], vec![], 0);
    for b in run.read_table("four_sines")? {
        train.extend(column::<Float64Array>(&b, "train_mae")?.values());
        test.extend(column::<Float64Array>(&b, "test_mae")?.values());
        wall.extend(column::<Float64Array>(&b, "wall_seconds")?.values());
        n = column::<UInt64Array>(&b, "n")?.value(0);
    }
    // Pattern task.
    let mut corr: Vec<f64> = vec![];
    let mut corr_min: Vec<f64> = vec![];
    let mut mse: Vec<f64> = vec![];
    for b in run.read_table("runs")? {
        corr.extend(column::<Float64Array>(&b, "replay_corr_sum")?.values());
        corr_min.extend(column::<Float64Array>(&b, "replay_corr_sum_min")?.values());
        mse.extend(column::<Float64Array>(&b, "replay_mse")?.values());
    }
    let sustained = corr_min.iter().filter(|&&c| c >= 12.0).count();
    let summary = format!(
        "| task | seeds | result (median over seeds) | wall time per run (median) |\n|---|---|---|---|\n\
         | four sines, N = {n} | {} | train MAE {:.4}, test MAE {:.4} (worst seed {:.4}) | {:.1} s |\n\
         | pattern replay | {} | replay corr_sum {:.2}, MSE {:.4}; {sustained} seeds with corr_sum >= 12 in every scored cycle | |\n",
        train.len(),
        median(&train),
        median(&test),
        test.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        median(&wall),
        corr.len(),
        median(&corr),
        median(&mse),
    );
    tracing::info!("summary:\n{summary}");
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), summary.as_bytes())?;

    let mut panels = Vec::new();
    // Test output of the first job against the target.
    if let Some(b) = run.read_table("four_sines_trace")?.first() {
        let t = column::<Float64Array>(b, "t_ms")?.values().to_vec();
        let z = column::<Float64Array>(b, "output")?.values().to_vec();
        let f = column::<Float64Array>(b, "target")?.values().to_vec();
        if !t.is_empty() {
            let seed = column::<UInt64Array>(b, "seed")?.value(0);
            panels.push(lines(
                &format!(
                    "Four sines, free test run (seed {seed}, test MAE median {:.3})",
                    median(&test)
                ),
                "time (ms)",
                "output",
                vec![
                    Series {
                        label: "target".into(),
                        xs: t.clone(),
                        ys: f,
                    },
                    Series {
                        label: "FORCE output".into(),
                        xs: t,
                        ys: z,
                    },
                ],
                vec![],
            ));
        }
    }
    let mut val: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    let mut rep: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for b in run.read_table("curves")? {
        let (seed, phase) = (
            column::<UInt64Array>(&b, "seed")?,
            column::<StringArray>(&b, "phase")?,
        );
        let (cycle, cs) = (
            column::<Int64Array>(&b, "cycle")?,
            column::<Float64Array>(&b, "corr_sum")?,
        );
        for k in 0..b.num_rows() {
            let target = if phase.value(k) == "validation" {
                &mut val
            } else {
                &mut rep
            };
            let e = target.entry(seed.value(k)).or_default();
            e.0.push(cycle.value(k) as f64);
            e.1.push(cs.value(k));
        }
    }
    let to_series = |m: BTreeMap<u64, (Vec<f64>, Vec<f64>)>| {
        m.into_iter()
            .map(|(s, (xs, ys))| Series {
                label: format!("seed {s}"),
                xs,
                ys,
            })
            .collect::<Vec<_>>()
    };
    let crit = vec![("criterion 12".to_owned(), 12.0)];
    panels.push(lines(
        "Pattern: free validation cycles",
        "training cycle",
        "corr_sum",
        to_series(val),
        crit.clone(),
    ));
    panels.push(lines(
        "Pattern: replay without teacher",
        "replay cycle",
        "corr_sum (best shift)",
        to_series(rep),
        crit,
    ));
    let fig = Figure {
        title: "exp-force: FORCE (Sussillo & Abbott 2009)".into(),
        panels,
        n_cols: 1,
        panel_size: (1000, 330),
    };
    elise_study::figure::save(run, fig, "force.png")?;
    Ok(())
}
