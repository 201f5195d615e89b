//! `completion.png` and `summary.md` from the `recall`, `runs` and `curves` tables.

use elise_study::sweep_figure::median;
use elise_sweep::arrow_array::{Float64Array, StringArray};
use elise_sweep::{RunDir, column};
use std::collections::BTreeMap;

/// Per (cue kind, cued fraction): the recall rows of every seed.
struct RecallGroups {
    by_kind: BTreeMap<String, BTreeMap<i64, Vec<[f64; 6]>>>,
}

/// Reads the `recall` table: per row [fraction, recall, uncued_mse, free_corr_sum,
/// free_corr_sum_min, cue_ms].
fn read_recall(run: &RunDir) -> anyhow::Result<RecallGroups> {
    let mut by_kind: BTreeMap<String, BTreeMap<i64, Vec<[f64; 6]>>> = BTreeMap::new();
    for b in run.read_table("recall")? {
        let kind = column::<StringArray>(&b, "cue_kind")?;
        let f = |name| column::<Float64Array>(&b, name);
        let (frac, rec, mse, cs, cs_min, ms) = (
            f("cued_fraction")?,
            f("recall")?,
            f("uncued_mse")?,
            f("free_corr_sum")?,
            f("free_corr_sum_min")?,
            f("cue_ms")?,
        );
        for k in 0..b.num_rows() {
            by_kind
                .entry(kind.value(k).to_owned())
                .or_default()
                .entry((frac.value(k) * 1e6).round() as i64)
                .or_default()
                .push([
                    frac.value(k),
                    rec.value(k),
                    mse.value(k),
                    cs.value(k),
                    cs_min.value(k),
                    ms.value(k),
                ]);
        }
    }
    Ok(RecallGroups { by_kind })
}

pub(crate) fn finish(run: &RunDir) -> anyhow::Result<()> {
    use elise_plot::{Figure, Lines, Panel, Series};
    let groups = read_recall(run)?;
    let series = |m: usize| -> Vec<Series> {
        groups
            .by_kind
            .iter()
            .map(|(kind, by_x)| {
                let (xs, ys) = by_x
                    .values()
                    .map(|rows| {
                        let v: Vec<f64> = rows.iter().map(|r| r[m]).collect();
                        (rows[0][0], median(&v))
                    })
                    .unzip();
                Series {
                    label: format!("cue: first {kind}"),
                    xs,
                    ys,
                }
            })
            .collect()
    };
    let panel = |title: &str, y: &str, m: usize, hlines: Vec<(String, f64)>| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: "cued fraction of the cycle (of its states, or of its visible neurons)".into(),
            y_label: y.into(),
            series: series(m),
            log_x: false,
            log_y: false,
            y_range: None,
            hlines,
        })
    };
    let fig = Figure {
        title: "exp-completion: recall from a cue after a reset to rest (median over seeds)".into(),
        panels: vec![
            panel(
                "Recall: uncued part of the cue cycle",
                "recall (1 - MSE / MSE at rest)",
                1,
                vec![("perfect".into(), 1.0), ("rest".into(), 0.0)],
            ),
            panel("Error: uncued part of the cue cycle", "MSE", 2, vec![]),
            panel(
                "Free cycles after the cue (best shift)",
                "replay corr_sum",
                3,
                vec![("criterion 12".into(), 12.0)],
            ),
        ],
        n_cols: 1,
        panel_size: (1000, 300),
    };
    elise_study::figure::save(run, fig, "completion.png")?;
    let mut s = String::from(
        "| cue | cued fraction | cue (ms) | seeds | median recall (uncued part) | median uncued MSE | median free corr_sum | seeds with free corr_sum >= 12 in every scored cycle |\n|---|---|---|---|---|---|---|---|\n",
    );
    for (kind, by_x) in &groups.by_kind {
        for rows in by_x.values() {
            let med = |m: usize| median(&rows.iter().map(|r| r[m]).collect::<Vec<_>>());
            let ok = rows.iter().filter(|r| r[4] >= 12.0).count();
            s += &format!(
                "| first {kind} | {:.3} | {} | {} | {:.3} | {:.4} | {:.2} | {ok} |\n",
                rows[0][0],
                if kind == "states" {
                    format!("{}", rows[0][5])
                } else {
                    "whole cycle".to_owned()
                },
                rows.len(),
                med(1),
                med(2),
                med(3),
            );
        }
    }
    elise_sweep::write_file_atomic(&run.path().join("summary.md"), s.as_bytes())?;
    Ok(())
}
