//! The standard figure of an ELiSe run (e.g. `birdsong.png` and `birdsong.svg`), drawn from the run's Parquet tables (so it can be redrawn without
//! re-simulating): target raster vs free replay raster of the median seed, and the validation
//! and replay curves of every seed.

use crate::Config;
use elise_plot::{Figure, Lines, Panel, Raster, Series};
use elise_sweep::RunDir;
use elise_sweep::arrow_array::{
    Array, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array,
    UInt64Array,
};
use elise_sweep::column;
use std::collections::BTreeMap;

/// One table's rows of (seed, phase, cycle, mse, corr_sum).
struct CurveRows {
    seed: Vec<u64>,
    phase: Vec<String>,
    cycle: Vec<i64>,
    mse: Vec<f64>,
    corr_sum: Vec<f64>,
}

fn read_curves(batches: &[RecordBatch]) -> anyhow::Result<CurveRows> {
    let mut rows = CurveRows {
        seed: vec![],
        phase: vec![],
        cycle: vec![],
        mse: vec![],
        corr_sum: vec![],
    };
    for b in batches {
        rows.seed.extend(column::<UInt64Array>(b, "seed")?.values());
        let ph = column::<StringArray>(b, "phase")?;
        rows.phase
            .extend((0..ph.len()).map(|k| ph.value(k).to_owned()));
        rows.cycle
            .extend(column::<Int64Array>(b, "cycle")?.values());
        rows.mse.extend(column::<Float64Array>(b, "mse")?.values());
        rows.corr_sum
            .extend(column::<Float64Array>(b, "corr_sum")?.values());
    }
    Ok(rows)
}

fn series_per_seed(rows: &CurveRows, phase: &str, metric: &[f64]) -> Vec<Series> {
    let mut by_seed: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (k, &value) in metric.iter().enumerate() {
        if rows.phase[k] == phase {
            let e = by_seed.entry(rows.seed[k]).or_default();
            e.0.push(rows.cycle[k] as f64);
            e.1.push(value);
        }
    }
    by_seed
        .into_iter()
        .map(|(seed, (xs, ys))| Series {
            label: format!("seed {seed}"),
            xs,
            ys,
        })
        .collect()
}

/// Picks the seed with the median replay score, and its job index.
fn median_seed(run: &RunDir) -> anyhow::Result<Option<(u64, u64, f64)>> {
    let mut runs = Vec::new();
    for b in run.read_table("runs")? {
        let seed = column::<UInt64Array>(&b, "seed")?;
        let rep = column::<UInt64Array>(&b, "job")?;
        let cs = column::<Float64Array>(&b, "replay_corr_sum")?;
        for k in 0..b.num_rows() {
            runs.push((cs.value(k), seed.value(k), rep.value(k)));
        }
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(runs
        .get(runs.len().saturating_sub(1) / 2)
        .map(|&(cs, seed, rep)| (seed, rep, cs)))
}

/// Rates and target rates of one job's replay traces over a window of replay cycles, as
/// neuron-major rasters (`n_rows` neurons x `n_cols` samples).
pub struct TraceWindow {
    pub n_rows: usize,
    pub n_cols: usize,
    pub rate: Vec<f64>,
    pub target: Vec<f64>,
}

/// The replay traces of job `job` (and `branch`, if given) in replay cycles `cycles`; `None`
/// when the run has no traces for it.
pub fn read_trace_window(
    run: &RunDir,
    job: u64,
    branch: Option<&str>,
    cycles: std::ops::RangeInclusive<i64>,
) -> anyhow::Result<Option<TraceWindow>> {
    let Some(path) = run.part("traces", usize::try_from(job)?)? else {
        return Ok(None);
    };
    let batches = elise_sweep::read_parquet(&path)?;
    let mut n_rows = 0usize;
    let mut cells: Vec<(i64, u32, u32, f32, f32)> = Vec::new();
    for b in &batches {
        let ph = column::<StringArray>(b, "phase")?;
        let br = column::<StringArray>(b, "branch")?;
        let cy = column::<Int64Array>(b, "cycle")?;
        let st = column::<UInt32Array>(b, "step")?;
        let ne = column::<UInt32Array>(b, "neuron")?;
        let ra = column::<Float32Array>(b, "rate")?;
        let ta = column::<Float32Array>(b, "target")?;
        for k in 0..b.num_rows() {
            if ph.value(k) == "replay"
                && cycles.contains(&cy.value(k))
                && branch.is_none_or(|want| br.value(k) == want)
            {
                n_rows = n_rows.max(ne.value(k) as usize + 1);
                cells.push((
                    cy.value(k),
                    st.value(k),
                    ne.value(k),
                    ra.value(k),
                    ta.value(k),
                ));
            }
        }
    }
    if cells.is_empty() {
        return Ok(None);
    }
    cells.sort_by_key(|c| (c.2, c.0, c.1));
    Ok(Some(TraceWindow {
        n_rows,
        n_cols: cells.len() / n_rows,
        rate: cells.iter().map(|c| f64::from(c.3)).collect(),
        target: cells.iter().map(|c| f64::from(c.4)).collect(),
    }))
}

/// A raster panel of rates in [0, 1] over `x_range` ms.
pub fn rate_raster(title: String, n_rows: usize, values: Vec<f64>, x_range: (f64, f64)) -> Panel {
    Panel::Raster(Raster {
        title,
        n_rows,
        n_cols: values.len() / n_rows.max(1),
        values,
        vmin: 0.0,
        vmax: 1.0,
        x_label: "time (ms)".into(),
        x_range,
        y_label: "visible neuron".into(),
        x_categories: Vec::new(),
        y_categories: Vec::new(),
        cell_labels: Vec::new(),
        value_label: "rate".into(),
    })
}

/// Target and replay rasters over the last two replay cycles of one job's traces.
fn rasters(
    cfg: &Config,
    run: &RunDir,
    seed: u64,
    job: u64,
    corr: f64,
) -> anyhow::Result<Vec<Panel>> {
    let last = cfg.replay.cycles as i64 - 1;
    let first = (last - 1).max(cfg.replay.nudged_cycles as i64);
    let Some(w) = read_trace_window(run, job, None, first..=last)? else {
        return Ok(vec![]);
    };
    let cycle_ms = cfg.pattern.state_ms * cfg.pattern.load(&*run.inputs()?)?.n_states() as f64;
    let x_range = (0.0, cycle_ms * (last - first + 1) as f64);
    Ok(vec![
        rate_raster(
            format!("Target rates (teacher), {} cycles", last - first + 1),
            w.n_rows,
            w.target,
            x_range,
        ),
        rate_raster(
            format!("Free replay, seed {seed}, cycles {first}-{last} (corr_sum {corr:.2})"),
            w.n_rows,
            w.rate,
            x_range,
        ),
    ])
}

/// The corr_sum a replay cycle must reach to count as sustained: 12 of 13 for Für Elise (the
/// paper-demo criterion), i.e. a mean Pearson correlation of 12/13 per visible neuron.
pub fn sustain_corr_sum(n_visible: usize) -> f64 {
    12.0 * n_visible as f64 / 13.0
}

/// Whether a replay is sustained: corr_sum >= [`sustain_corr_sum`] and MSE <= 0.01 in every
/// scored replay cycle (`corr_sum_min`, `mse_max`: the worst cycle's, as in the `runs` table).
pub fn sustained(corr_sum_min: f64, mse_max: f64, n_visible: usize) -> bool {
    corr_sum_min >= sustain_corr_sum(n_visible) && mse_max <= 0.01
}

/// The legend label of the [`sustain_corr_sum`] line: `criterion 12`, `criterion 4.62`.
pub fn criterion_label(n_visible: usize) -> String {
    let c = format!("{:.2}", sustain_corr_sum(n_visible));
    format!("criterion {}", c.trim_end_matches(".00"))
}

/// Logs one line per seed and the number of seeds that replay at `corr_sum >=`
/// [`sustain_corr_sum`] and `mse <= 0.01` in every scored replay cycle.
pub fn summarize(run: &RunDir) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for b in run.read_table("runs")? {
        let f = |name| column::<Float64Array>(&b, name).map(|a| a.values().to_vec());
        let seed = column::<UInt64Array>(&b, "seed")?.values().to_vec();
        let n_vis = column::<UInt64Array>(&b, "n_visible")?.values().to_vec();
        let (cs, mse, cs_min, mse_max, vcs, vmse, secs) = (
            f("replay_corr_sum")?,
            f("replay_mse")?,
            f("replay_corr_sum_min")?,
            f("replay_mse_max")?,
            f("final_val_corr_sum")?,
            f("final_val_mse")?,
            f("wall_seconds")?,
        );
        for k in 0..b.num_rows() {
            rows.push((
                seed[k],
                n_vis[k] as usize,
                (cs[k], mse[k], cs_min[k], mse_max[k]),
                (vcs[k], vmse[k], secs[k]),
            ));
        }
    }
    rows.sort_by_key(|r| r.0);
    let mut n_ok = 0;
    let mut criteria = Vec::new();
    for &(seed, n_vis, (cs, mse, cs_min, mse_max), (vcs, vmse, secs)) in &rows {
        let ok = sustained(cs_min, mse_max, n_vis);
        let criterion = sustain_corr_sum(n_vis);
        if !criteria.contains(&criterion) {
            criteria.push(criterion);
        }
        n_ok += usize::from(ok);
        tracing::info!(
            "seed {seed}: replay corr_sum {cs:.3} (min {cs_min:.3}), mse {mse:.5} (max {mse_max:.5}); final validation corr_sum {vcs:.3}, mse {vmse:.5}; {secs:.1} s{}",
            if ok { "; replays" } else { "" }
        );
    }
    let criteria: Vec<String> = criteria.iter().map(|c| format!("{c:.4}")).collect();
    tracing::info!(
        "{n_ok} of {} seeds replay with corr_sum >= {} (12/13 per visible neuron) and mse <= 0.01 in every scored replay cycle",
        rows.len(),
        criteria.join(" / ").replace(".0000", "")
    );
    Ok(())
}

/// Draws the figure into the run directory.
pub fn draw(cfg: &Config, run: &RunDir, file_name: &str) -> anyhow::Result<()> {
    let mut panels = Vec::new();
    if let Some((seed, rep, corr)) = median_seed(run)? {
        panels.extend(rasters(cfg, run, seed, rep, corr)?);
    }
    let rows = read_curves(&run.read_table("curves")?)?;
    let n_vis = cfg.pattern.load(&*run.inputs()?)?.n_neurons() as f64;
    let lines = |title: &str,
                 x_label: &str,
                 y_label: &str,
                 series: Vec<Series>,
                 log_y: bool,
                 hlines: Vec<(String, f64)>| {
        Panel::Lines(Lines {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            series,
            log_x: false,
            log_y,
            y_range: None,
            hlines,
        })
    };
    let criterion = sustain_corr_sum(n_vis as usize);
    let corr_lines = vec![(
        format!(
            "criterion {}",
            format!("{criterion:.2}").trim_end_matches(".00")
        ),
        criterion,
    )];
    panels.push(lines(
        "Learning: free validation cycles",
        "training cycle",
        "corr_sum (sum of Pearson r)",
        series_per_seed(&rows, "validation", &rows.corr_sum),
        false,
        corr_lines.clone(),
    ));
    panels.push(lines(
        "Replay without teacher",
        "replay cycle",
        "corr_sum (best shift)",
        series_per_seed(&rows, "replay", &rows.corr_sum),
        false,
        corr_lines,
    ));
    panels.push(lines(
        "Learning: free validation cycles",
        "training cycle",
        "MSE",
        series_per_seed(&rows, "validation", &rows.mse),
        true,
        vec![("rest".into(), 0.0784)],
    ));
    panels.push(lines(
        "Replay without teacher",
        "replay cycle",
        "MSE (best shift)",
        series_per_seed(&rows, "replay", &rows.mse),
        true,
        vec![("0.01".into(), 0.01)],
    ));
    let fig = Figure {
        title: format!(
            "exp-birdsong: {} visible + {} latent, mode {}",
            n_vis,
            cfg.network.n_latent,
            crate::elise_method(cfg.network.mode)
        ),
        panels,
        n_cols: 2,
        panel_size: (720, 420),
    };
    elise_plot::save(&fig, &run.path().join(file_name))?;
    Ok(())
}

/// Test helper: `png` is a PNG and the figure's SVG (same name, extension `svg`) was written
/// next to it: an `<svg>` root ending in `</svg>`, balanced text elements, non-empty.
///
/// # Panics
/// On any failed check (it is a test helper).
pub fn check_figure_files(png: &std::path::Path) {
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        png.display()
    );
    let svg_path = png.with_extension("svg");
    let svg = std::fs::read_to_string(&svg_path)
        .unwrap_or_else(|e| panic!("{}: {e}", svg_path.display()));
    assert!(svg.len() > 1000, "{} is too short", svg_path.display());
    assert!(svg.contains("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("<text") && svg.contains("font-family=\"sans-serif\""));
    assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
}
