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

/// One table's rows of (job, seed, phase, cycle, mse, corr_sum).
struct CurveRows {
    job: Vec<u64>,
    seed: Vec<u64>,
    phase: Vec<String>,
    cycle: Vec<i64>,
    mse: Vec<f64>,
    corr_sum: Vec<f64>,
}

fn read_curves(batches: &[RecordBatch]) -> anyhow::Result<CurveRows> {
    let mut rows = CurveRows {
        job: vec![],
        seed: vec![],
        phase: vec![],
        cycle: vec![],
        mse: vec![],
        corr_sum: vec![],
    };
    for b in batches {
        rows.job.extend(column::<UInt64Array>(b, "job")?.values());
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

/// Most seeds drawn one curve each; with more, a panel shows their median and the 10th and
/// 90th percentiles per cycle (the palette has 13 colour-blind-safe colours).
const MAX_SEED_CURVES: usize = 13;

/// The values of one phase's metric by cycle, over the jobs `keep` accepts.
fn by_cycle(
    rows: &CurveRows,
    phase: &str,
    metric: &[f64],
    keep: impl Fn(u64) -> bool,
) -> BTreeMap<i64, Vec<f64>> {
    let mut out: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for (k, &value) in metric.iter().enumerate() {
        if rows.phase[k] == phase && keep(rows.job[k]) {
            out.entry(rows.cycle[k]).or_default().push(value);
        }
    }
    out
}

/// The `q`-quantile (0..1, linear between order statistics) of the finite values; NaN if none.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// One curve of a quantile over cycles.
fn quantile_series(label: String, cycles: &BTreeMap<i64, Vec<f64>>, q: f64) -> Series {
    let (xs, ys) = cycles
        .iter()
        .map(|(&c, v)| (c as f64, quantile(v, q)))
        .unzip();
    Series { label, xs, ys }
}

/// The jobs of one grid point: its label (empty for a run without a grid), its jobs and the
/// config they ran with.
struct GridGroup {
    label: String,
    jobs: Vec<u64>,
    cfg: Config,
}

/// The jobs of a run by grid point, in grid order. Labels name every axis with more than one
/// value in words (`pattern twinkle.txt, latent neurons 30`); a run without such an axis is
/// one group with the run's config.
fn grid_groups(cfg: &Config, run: &RunDir) -> anyhow::Result<Vec<GridGroup>> {
    let table = run.config_table()?;
    let points = elise_sweep::grid_points(&table);
    let axes = crate::sweep_figure::varying_axes(run)?;
    let mut groups: Vec<GridGroup> = Vec::new();
    for b in run.read_table("runs")? {
        let jobs = column::<UInt64Array>(&b, "job")?;
        let mut labels = vec![Vec::new(); b.num_rows()];
        for col in &axes {
            for (k, text) in crate::sweep_figure::axis_values(&b, col)?
                .into_iter()
                .enumerate()
            {
                labels[k].push(crate::sweep_figure::readable_group(&text));
            }
        }
        for (k, parts) in labels.into_iter().enumerate() {
            let label = parts.join(", ");
            let job = jobs.value(k);
            match groups.iter_mut().find(|g| g.label == label) {
                Some(g) => g.jobs.push(job),
                None => {
                    // Jobs are numbered point by point: job = point * seeds + replicate.
                    let point = usize::try_from(job)? / cfg.run.seeds.max(1);
                    let cfg = match &points[..] {
                        [_] => cfg.clone(),
                        _ => elise_sweep::apply_params(
                            &table,
                            points.get(point).ok_or_else(|| {
                                anyhow::anyhow!("job {job} is beyond the run's grid")
                            })?,
                        )?,
                    };
                    groups.push(GridGroup {
                        label,
                        jobs: vec![job],
                        cfg,
                    });
                }
            }
        }
    }
    groups.sort_by_key(|g| g.jobs.iter().min().copied());
    Ok(groups)
}

/// The MSE of a silent network (every visible neuron at its resting rate) against the
/// teacher's target rates over one cycle: the "rest" reference of the MSE panels (0.0784 for
/// Für Elise at the paper's parameters).
pub fn rest_mse(cfg: &Config, inputs: &elise_sweep::Inputs) -> anyhow::Result<f64> {
    let (_, teacher) = crate::pattern_and_teacher(cfg, inputs)?;
    let rest = cfg.neuron.phi(cfg.neuron.e_leak_mv);
    let (mut sum, mut n) = (0.0, 0usize);
    for t in 0..teacher.cycle_len_steps() {
        for &y in teacher.target_rate(t) {
            sum += (y - rest).powi(2);
            n += 1;
        }
    }
    Ok(sum / n.max(1) as f64)
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

/// Target and replay rasters over the last two replay cycles of one job's traces; `cfg` is
/// the config the job ran with, `point` its grid point's label (empty without a grid).
fn rasters(
    cfg: &Config,
    run: &RunDir,
    (seed, job, corr): (u64, u64, f64),
    point: &str,
) -> anyhow::Result<Vec<Panel>> {
    let last = cfg.replay.cycles as i64 - 1;
    let first = (last - 1).max(cfg.replay.nudged_cycles as i64);
    let Some(w) = read_trace_window(run, job, None, first..=last)? else {
        return Ok(vec![]);
    };
    let cycle_ms = cfg.pattern.state_ms * cfg.pattern.load(&*run.inputs()?)?.n_states() as f64;
    let x_range = (0.0, cycle_ms * (last - first + 1) as f64);
    let point = if point.is_empty() {
        String::new()
    } else {
        format!(", {point}")
    };
    Ok(vec![
        rate_raster(
            format!("Target rates (teacher){point}, {} cycles", last - first + 1),
            w.n_rows,
            w.target,
            x_range,
        ),
        rate_raster(
            format!("Free replay, seed {seed}{point}, cycles {first}-{last} (corr_sum {corr:.2})"),
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
    criterion_label_of(sustain_corr_sum(n_visible))
}

fn criterion_label_of(criterion: f64) -> String {
    let c = format!("{criterion:.2}");
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

/// The curves of one phase's metric: one per seed for a single config with up to
/// [`MAX_SEED_CURVES`] seeds; the median with the 10th and 90th percentiles per cycle for more
/// seeds; the median over seeds of each grid point for a grid.
fn phase_series(
    groups: &[GridGroup],
    rows: &CurveRows,
    phase: &str,
    metric: &[f64],
) -> Vec<Series> {
    match groups {
        [one] if one.jobs.len() <= MAX_SEED_CURVES => series_per_seed(rows, phase, metric),
        [one] => {
            let cycles = by_cycle(rows, phase, metric, |_| true);
            vec![
                quantile_series(format!("median of {} seeds", one.jobs.len()), &cycles, 0.5),
                quantile_series("10th percentile".into(), &cycles, 0.1),
                quantile_series("90th percentile".into(), &cycles, 0.9),
            ]
        }
        _ => groups
            .iter()
            .map(|g| {
                let cycles = by_cycle(rows, phase, metric, |job| g.jobs.contains(&job));
                quantile_series(g.label.clone(), &cycles, 0.5)
            })
            .collect(),
    }
}

/// A reference line drawn when every grid point has the same value (one criterion for one
/// number of visible neurons, one rest MSE for one pattern), none otherwise.
fn shared_line(label: impl Fn(f64) -> String, values: &[f64]) -> Vec<(String, f64)> {
    match values.first() {
        Some(&v)
            if values
                .iter()
                .all(|&o| (o - v).abs() <= 1e-12 * v.abs().max(1.0)) =>
        {
            vec![(label(v), v)]
        }
        _ => Vec::new(),
    }
}

/// Draws the figure into the run directory: the median job's target and replay rasters, and
/// the validation and replay curves (see [`phase_series`]).
pub fn draw(cfg: &Config, run: &RunDir, file_name: &str) -> anyhow::Result<()> {
    let groups = grid_groups(cfg, run)?;
    let inputs = run.inputs()?;
    let mut panels = Vec::new();
    if let Some((seed, job, corr)) = median_seed(run)? {
        let group = groups.iter().find(|g| g.jobs.contains(&job));
        let (job_cfg, point) = group.map_or((cfg, ""), |g| (&g.cfg, g.label.as_str()));
        panels.extend(rasters(job_cfg, run, (seed, job, corr), point)?);
    }
    let rows = read_curves(&run.read_table("curves")?)?;
    let mut n_vis = Vec::new();
    let mut rest = Vec::new();
    for g in &groups {
        n_vis.push(g.cfg.pattern.load(&inputs)?.n_neurons() as f64);
        rest.push(rest_mse(&g.cfg, &inputs)?);
    }
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
    // Patterns with different numbers of visible neurons are compared per neuron: corr_sum
    // divided by the visible neurons (the mean Pearson r), criterion 12/13.
    let per_neuron = n_vis.iter().any(|&n| n != n_vis[0]);
    let (corr, corr_lines, corr_label) = if per_neuron {
        let n_of_job: BTreeMap<u64, f64> = groups
            .iter()
            .zip(&n_vis)
            .flat_map(|(g, &n)| g.jobs.iter().map(move |&j| (j, n)))
            .collect();
        let corr: Vec<f64> = (0..rows.corr_sum.len())
            .map(|k| rows.corr_sum[k] / n_of_job.get(&rows.job[k]).copied().unwrap_or(f64::NAN))
            .collect();
        let line = vec![("criterion 12/13".to_owned(), 12.0 / 13.0)];
        (corr, line, "corr_sum / visible neurons")
    } else {
        let criterion: Vec<f64> = n_vis
            .iter()
            .map(|&n| sustain_corr_sum(n as usize))
            .collect();
        let line = shared_line(criterion_label_of, &criterion);
        (rows.corr_sum.clone(), line, "corr_sum (sum of Pearson r)")
    };
    let rest_line = shared_line(|_| "rest".into(), &rest);
    let grid = groups.len() > 1;
    let many = groups.iter().map(|g| g.jobs.len()).sum::<usize>() > MAX_SEED_CURVES;
    let (val_title, rep_title) = if grid || many {
        (
            "Learning: free validation, median",
            "Replay without teacher, median",
        )
    } else {
        ("Learning: free validation cycles", "Replay without teacher")
    };
    panels.push(lines(
        val_title,
        "training cycle",
        corr_label,
        phase_series(&groups, &rows, "validation", &corr),
        false,
        corr_lines.clone(),
    ));
    panels.push(lines(
        rep_title,
        "replay cycle",
        if per_neuron {
            corr_label
        } else {
            "corr_sum (best shift)"
        },
        phase_series(&groups, &rows, "replay", &corr),
        false,
        corr_lines,
    ));
    panels.push(lines(
        val_title,
        "training cycle",
        "MSE",
        phase_series(&groups, &rows, "validation", &rows.mse),
        true,
        rest_line,
    ));
    panels.push(lines(
        rep_title,
        "replay cycle",
        "MSE (best shift)",
        phase_series(&groups, &rows, "replay", &rows.mse),
        true,
        vec![("0.01".into(), 0.01)],
    ));
    let title = if grid {
        let axes: Vec<String> = elise_sweep::axes_of(&run.config_table()?)
            .into_iter()
            .filter(|(_, v)| v.len() > 1)
            .map(|(k, _)| k)
            .collect();
        format!(
            "exp-birdsong: {} grid points ({}), {} seeds each",
            groups.len(),
            axes.join(" x "),
            cfg.run.seeds
        )
    } else {
        format!(
            "exp-birdsong: {} visible + {} latent, mode {}",
            n_vis[0],
            cfg.network.n_latent,
            crate::elise_method(cfg.network.mode)
        )
    };
    let fig = Figure {
        title,
        panels,
        n_cols: 2,
        panel_size: (720, 420),
    };
    save(run, fig, file_name)
}

/// Saves `fig` as `<run dir>/<file_name>` with its SVG twin ([`elise_plot::save`]). A figure of
/// a run whose recorded jobs are fewer than planned (failed jobs, `--redraw` while the run goes
/// on) says so in its title, `[partial: 98 of 140 jobs]`, and the log warns.
pub fn save(run: &RunDir, mut fig: Figure, file_name: &str) -> anyhow::Result<()> {
    if let Some((done, planned)) = run.job_counts()?
        && done < planned
    {
        fig.title = format!("{} [partial: {done} of {planned} jobs]", fig.title);
        tracing::warn!(
            "{file_name}: drawn from {done} of the run's {planned} jobs (the others are not recorded)"
        );
    }
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
