//! Curve panels.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::font::FAMILY;
use crate::palette::{self, SeriesStyle};
use crate::style::{self, Sizes};
use crate::{Area, Lines, de, label_width, ticks, titled};

/// Series with at most this many points get a marker on every point.
const MARKER_MAX_POINTS: usize = 60;

/// Checks a lines panel; the error text explains what is wrong.
pub(crate) fn validate(l: &Lines) -> Result<(), String> {
    if l.series.is_empty() {
        return Err("no series".into());
    }
    let mut finite = 0usize;
    for (k, s) in l.series.iter().enumerate() {
        let name = format!("series {k} \"{}\"", s.label);
        if s.xs.len() != s.ys.len() {
            return Err(format!(
                "{name}: xs has {} points but ys has {}",
                s.xs.len(),
                s.ys.len()
            ));
        }
        if s.xs.is_empty() {
            return Err(format!("{name} is empty"));
        }
        for (i, (x, y)) in s.xs.iter().zip(&s.ys).enumerate() {
            if l.log_x && x.is_finite() && *x <= 0.0 {
                return Err(format!(
                    "{name}: x = {x} at index {i} is not positive, but log_x is set"
                ));
            }
            if l.log_y && y.is_finite() && *y <= 0.0 {
                return Err(format!(
                    "{name}: y = {y} at index {i} is not positive, but log_y is set"
                ));
            }
            if x.is_finite() && y.is_finite() {
                finite += 1;
            }
        }
    }
    if finite == 0 {
        return Err("no finite data point (all NaN or infinite)".into());
    }
    if let Some((lo, hi)) = l.y_range {
        if !lo.is_finite() || !hi.is_finite() || lo >= hi {
            return Err(format!(
                "y_range ({lo}, {hi}) must be finite and increasing"
            ));
        }
        if l.log_y && lo <= 0.0 {
            return Err(format!(
                "y_range ({lo}, {hi}) must be positive, as log_y is set"
            ));
        }
    }
    for (label, v) in &l.hlines {
        if !v.is_finite() || (l.log_y && *v <= 0.0) {
            return Err(format!(
                "reference line \"{label}\" at {v} must be finite{}",
                if l.log_y {
                    " and positive, as log_y is set"
                } else {
                    ""
                }
            ));
        }
    }
    Ok(())
}

/// An axis-aligned box in plot coordinates (y already log10 when the axis is logarithmic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bounds {
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

pub(crate) type Pt = (f64, f64);

/// The part of segment `p`-`q` inside `b` (Liang-Barsky), ends kept exact when inside.
fn clip_segment(p: Pt, q: Pt, b: Bounds) -> Option<(Pt, Pt)> {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (pk, qk) in [
        (-dx, p.0 - b.x0),
        (dx, b.x1 - p.0),
        (-dy, p.1 - b.y0),
        (dy, b.y1 - p.1),
    ] {
        if pk == 0.0 {
            if qk < 0.0 {
                return None;
            }
        } else {
            let r = qk / pk;
            if pk < 0.0 {
                if r > t1 {
                    return None;
                }
                t0 = t0.max(r);
            } else {
                if r < t0 {
                    return None;
                }
                t1 = t1.min(r);
            }
        }
    }
    let a = if t0 == 0.0 {
        p
    } else {
        (p.0 + t0 * dx, p.1 + t0 * dy)
    };
    let c = if t1 == 1.0 {
        q
    } else {
        (p.0 + t1 * dx, p.1 + t1 * dy)
    };
    Some((a, c))
}

/// Splits a run of consecutive valid points into the polylines visible inside `b`.
fn clip_run(run: &[Pt], b: Bounds, out: &mut Vec<Vec<Pt>>) {
    let mut cur: Vec<Pt> = Vec::new();
    let mut flush = |cur: &mut Vec<Pt>| {
        if cur.len() >= 2 {
            out.push(std::mem::take(cur));
        } else {
            cur.clear();
        }
    };
    for w in run.windows(2) {
        match clip_segment(w[0], w[1], b) {
            None => flush(&mut cur),
            Some((a, c)) => {
                if cur.last() != Some(&a) {
                    flush(&mut cur);
                    cur.push(a);
                }
                cur.push(c);
                if c != w[1] {
                    flush(&mut cur);
                }
            }
        }
    }
    flush(&mut cur);
}

fn inside(p: Pt, b: Bounds) -> bool {
    p.0 >= b.x0 && p.0 <= b.x1 && p.1 >= b.y0 && p.1 <= b.y1
}

/// `(lo, hi)` widened by `frac` of its span on each side; a zero span gets `zero_pad`.
fn padded(lo: f64, hi: f64, frac: f64, zero_pad: f64) -> (f64, f64) {
    if hi > lo {
        let pad = (hi - lo) * frac;
        (lo - pad, hi + pad)
    } else {
        (lo - zero_pad, hi + zero_pad)
    }
}

/// Where a panel's legend goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corner {
    UpperRight,
    UpperLeft,
    LowerRight,
    LowerLeft,
}

/// What a legend must not cover, in plot coordinates normalised to `[0, 1]` (x right, y up).
#[derive(Default)]
pub(crate) struct Obstacles {
    /// Curves and reference lines.
    pub polylines: Vec<Vec<Pt>>,
    /// Markers, with their radius as a fraction of the plot's width and height.
    pub points: Vec<Pt>,
    pub point_radius: (f64, f64),
    /// Boxes such as reference-line labels.
    pub boxes: Vec<Bounds>,
}

impl Obstacles {
    /// Whether anything lies in `b`.
    fn hit(&self, b: Bounds) -> bool {
        let (rx, ry) = self.point_radius;
        let grown = Bounds {
            x0: b.x0 - rx,
            x1: b.x1 + rx,
            y0: b.y0 - ry,
            y1: b.y1 + ry,
        };
        self.points.iter().any(|p| inside(*p, grown))
            || self
                .boxes
                .iter()
                .any(|o| o.x0 <= b.x1 && o.x1 >= b.x0 && o.y0 <= b.y1 && o.y1 >= b.y0)
            || self.polylines.iter().any(|pl| {
                if pl.len() == 1 {
                    return inside(pl[0], b);
                }
                pl.windows(2).any(|w| clip_segment(w[0], w[1], b).is_some())
            })
    }
}

/// The box of a legend `w` x `h` (fractions of the plot) in `corner`, `inset` from the edges.
pub(crate) fn corner_box(corner: Corner, w: f64, h: f64, inset: (f64, f64)) -> Bounds {
    let (right, upper) = match corner {
        Corner::UpperRight => (true, true),
        Corner::UpperLeft => (false, true),
        Corner::LowerRight => (true, false),
        Corner::LowerLeft => (false, false),
    };
    let (x0, x1) = if right {
        (1.0 - inset.0 - w, 1.0 - inset.0)
    } else {
        (inset.0, inset.0 + w)
    };
    let (y0, y1) = if upper {
        (1.0 - inset.1 - h, 1.0 - inset.1)
    } else {
        (inset.1, inset.1 + h)
    };
    Bounds { x0, x1, y0, y1 }
}

/// The first corner (upper right, upper left, lower right, lower left) where a legend box of
/// `w` x `h` (fractions of the plot), grown by `clear` on every side, touches no obstacle;
/// `None` when every corner is taken or the box is too large for the plot.
pub(crate) fn free_corner(
    obstacles: &Obstacles,
    w: f64,
    h: f64,
    inset: (f64, f64),
    clear: (f64, f64),
) -> Option<Corner> {
    if w > 0.55 || h > 0.7 {
        return None;
    }
    [
        Corner::UpperRight,
        Corner::UpperLeft,
        Corner::LowerRight,
        Corner::LowerLeft,
    ]
    .into_iter()
    .find(|&c| {
        let b = corner_box(c, w, h, inset);
        !obstacles.hit(Bounds {
            x0: b.x0 - clear.0,
            x1: b.x1 + clear.0,
            y0: b.y0 - clear.1,
            y1: b.y1 + clear.1,
        })
    })
}

/// Pixel geometry of a legend's entries.
struct LegendGeom {
    /// Widest label.
    text_w: i32,
    /// Line sample length, gap to the text, row height, padding.
    sample: i32,
    gap: i32,
    row: i32,
    pad: i32,
    /// Space between columns of an outside legend.
    col_gap: i32,
}

impl LegendGeom {
    fn new<DB: DrawingBackend>(
        area: &Area<DB>,
        labels: impl Iterator<Item = String>,
        sz: &Sizes,
    ) -> Result<Self, String> {
        let f = f64::from(sz.legend);
        let text_w = label_width(area, labels, sz.legend)? as i32;
        Ok(Self {
            text_w,
            sample: (2.4 * f) as i32,
            gap: (0.4 * f) as i32,
            row: (1.15 * f) as i32,
            pad: (0.4 * f) as i32,
            col_gap: (1.0 * f) as i32,
        })
    }

    /// Size of an inside legend box with `n` entries.
    fn box_size(&self, n: usize) -> (i32, i32) {
        (
            2 * self.pad + self.sample + self.gap + self.text_w,
            2 * self.pad + n as i32 * self.row,
        )
    }

    /// Width of one column of an outside legend.
    fn entry_w(&self) -> i32 {
        self.sample + self.gap + self.text_w + self.col_gap
    }
}

/// Draws one legend entry with its left end at `(x, y_mid)`.
fn draw_entry<DB: DrawingBackend>(
    area: &Area<DB>,
    g: &LegendGeom,
    (x, y): (i32, i32),
    label: &str,
    look: SeriesStyle,
    marked: bool,
    sz: &Sizes,
) -> Result<(), String> {
    let lw = f64::from(sz.line);
    let pattern: Vec<f64> = look.dash.iter().map(|v| v * lw).collect();
    let sample = [
        (f64::from(x), f64::from(y)),
        (f64::from(x + g.sample), f64::from(y)),
    ];
    for dash in palette::dash_polyline(&sample, &pattern, 1.0, 1.0) {
        let pts: Vec<(i32, i32)> = dash
            .iter()
            .map(|p| (p.0.round() as i32, p.1.round() as i32))
            .collect();
        area.draw(&PathElement::new(pts, look.color.stroke_width(sz.line)))
            .map_err(de)?;
    }
    if marked {
        draw_marker(area, (x + g.sample / 2, y), look, sz)?;
    }
    area.draw(&Text::new(
        label.to_owned(),
        (x + g.sample + g.gap, y),
        (FAMILY, sz.legend)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))
    .map_err(de)
}

/// Draws a marker of the series' shape centred at pixel `at` of `area`.
fn draw_marker<DB: DrawingBackend>(
    area: &Area<DB>,
    at: (i32, i32),
    look: SeriesStyle,
    sz: &Sizes,
) -> Result<(), String> {
    match palette::marker_polygon(look.marker, sz.marker) {
        None => area
            .draw(&Circle::new(at, sz.marker as u32, look.color.filled()))
            .map_err(de),
        Some(v) => area
            .draw(&Polygon::new(
                v.into_iter()
                    .map(|p| (at.0 + p.0, at.1 + p.1))
                    .collect::<Vec<_>>(),
                look.color.filled(),
            ))
            .map_err(de),
    }
}

/// Whether series `k` of `l` is drawn with markers (few points).
pub(crate) fn has_markers(l: &Lines, k: usize) -> bool {
    let s = &l.series[k];
    let n =
        s.xs.iter()
            .zip(&s.ys)
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .count();
    n > 0 && n <= MARKER_MAX_POINTS
}

/// The labels of the legend shared by line panels of a figure: the series labels (more than
/// one) that at least two line panels have in common, exactly; those panels draw no legend of
/// their own and the figure draws this one below its grid. Other panels keep their own legend
/// (panels with a single series have none either way). With several candidate lists the one
/// shared by the most panels wins, then the first.
pub(crate) fn shared_legend(panels: &[crate::Panel]) -> Option<Vec<String>> {
    let lists: Vec<Vec<String>> = panels
        .iter()
        .filter_map(|p| match p {
            crate::Panel::Lines(l) if l.series.len() > 1 => Some(labels_of(l)),
            _ => None,
        })
        .collect();
    let mut best: Option<(usize, &Vec<String>)> = None;
    for list in &lists {
        let count = lists.iter().filter(|o| *o == list).count();
        if count >= 2 && best.is_none_or(|(c, _)| count > c) {
            best = Some((count, list));
        }
    }
    best.map(|(_, list)| list.clone())
}

/// The series labels of a lines panel, in order.
pub(crate) fn labels_of(l: &Lines) -> Vec<String> {
    l.series.iter().map(|s| s.label.clone()).collect()
}

/// Height in pixels of the figure legend for `labels` across a figure `width` wide.
pub(crate) fn figure_legend_height<DB: DrawingBackend>(
    area: &Area<DB>,
    labels: &[String],
    sz: &Sizes,
) -> Result<u32, String> {
    let geom = LegendGeom::new(area, labels.iter().cloned(), sz)?;
    let n = labels.len() as i32;
    let cols =
        ((area.dim_in_pixel().0 as i32 - 2 * geom.pad + geom.col_gap) / geom.entry_w()).clamp(1, n);
    Ok((((n + cols - 1) / cols) * geom.row + 2 * geom.pad) as u32)
}

/// Draws the figure legend for `labels` centred in `area`, row by row; series `k` is marked
/// when it is in any panel.
pub(crate) fn draw_figure_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    labels: &[String],
    panels: &[crate::Panel],
    sz: &Sizes,
) -> Result<(), String> {
    let geom = LegendGeom::new(area, labels.iter().cloned(), sz)?;
    let n = labels.len() as i32;
    let (aw, _) = area.dim_in_pixel();
    let cols = ((aw as i32 - 2 * geom.pad + geom.col_gap) / geom.entry_w()).clamp(1, n);
    let used = cols * geom.entry_w() - geom.col_gap;
    let x0 = ((aw as i32 - used) / 2).max(geom.pad);
    for (k, label) in labels.iter().enumerate() {
        let (col, row) = (k as i32 % cols, k as i32 / cols);
        let marked = panels.iter().any(|p| match p {
            crate::Panel::Lines(l) => labels_of(l) == labels && has_markers(l, k),
            crate::Panel::Raster(_) => false,
        });
        let at = (
            x0 + col * geom.entry_w(),
            geom.pad + row * geom.row + geom.row / 2,
        );
        draw_entry(area, &geom, at, label, palette::series_style(k), marked, sz)?;
    }
    Ok(())
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<ticks::Axis, ticks::Axis>>;

/// The layout of a lines panel's axes, shared by the chart built before and after a legend
/// is moved out of the plot.
struct AxesLayout {
    b: Bounds,
    x_ticks: Vec<f64>,
    y_ticks: Vec<f64>,
    /// Tick steps of linear axes (for the labels' decimals).
    x_step: f64,
    y_step: f64,
    log_x: bool,
    log_y: bool,
    x_area: u32,
    y_area: u32,
    tick_mark: u32,
}

impl AxesLayout {
    /// Ticks and label areas for a chart of `(w, h)` pixels with plot bounds `b`.
    fn new<DB: DrawingBackend>(
        l: &Lines,
        b: Bounds,
        (w, h): (u32, u32),
        area: &Area<DB>,
        sz: &Sizes,
    ) -> Result<Self, String> {
        let tick = f64::from(sz.tick);
        let x_target = ((f64::from(w) - 6.0 * tick) / (5.0 * tick)).clamp(2.0, 10.0) as usize;
        let (x_ticks, x_step) = if l.log_x {
            (ticks::log10(b.x0, b.x1, x_target), 0.0)
        } else {
            ticks::linear(b.x0, b.x1, x_target)
        };
        let x_area_guess = 4.0 * tick;
        let y_target = ((f64::from(h) - x_area_guess) / (1.8 * tick)).clamp(2.0, 10.0) as usize;
        let (y_ticks, y_step) = if l.log_y {
            (ticks::log10(b.y0, b.y1, y_target), 0.0)
        } else {
            ticks::linear(b.y0, b.y1, y_target)
        };
        let tick_mark = sz.px(2.5);
        let desc = f64::from(sz.axis_desc);
        let mut layout = Self {
            b,
            x_ticks,
            y_ticks,
            x_step,
            y_step,
            log_x: l.log_x,
            log_y: l.log_y,
            x_area: tick_mark + sz.tick + (1.35 * desc) as u32 + sz.px(1.0),
            y_area: 0,
            tick_mark,
        };
        layout.y_area = label_width(
            area,
            layout.y_ticks.iter().map(|v| layout.y_label(*v)),
            sz.tick,
        )? + tick_mark
            + sz.px(2.0)
            + (1.4 * desc) as u32;
        Ok(layout)
    }

    fn x_label(&self, v: f64) -> String {
        if self.log_x {
            ticks::fmt_sig(10f64.powf(v))
        } else {
            ticks::fmt_linear(v, self.x_step)
        }
    }

    fn y_label(&self, v: f64) -> String {
        if self.log_y {
            ticks::fmt_sig(10f64.powf(v))
        } else {
            ticks::fmt_linear(v, self.y_step)
        }
    }
}

fn build_chart<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    a: &AxesLayout,
    sz: &Sizes,
) -> Result<Chart<'a, DB>, String> {
    ChartBuilder::on(area)
        .margin_top(sz.px(2.0))
        .margin_bottom(sz.px(1.0))
        .margin_left(sz.px(1.0))
        .margin_right(sz.px(5.0))
        .x_label_area_size(a.x_area)
        .y_label_area_size(a.y_area)
        .build_cartesian_2d(
            ticks::Axis::new(a.b.x0, a.b.x1, a.x_ticks.clone()),
            ticks::Axis::new(a.b.y0, a.b.y1, a.y_ticks.clone()),
        )
        .map_err(de)
}

/// Draws a validated lines panel into `area`.
///
/// With `own_legend` false the panel draws no legend (the figure draws one for all panels).
pub(crate) fn draw<DB: DrawingBackend>(
    l: &Lines,
    area: &Area<DB>,
    sz: &Sizes,
    own_legend: bool,
) -> Result<(), String> {
    let inner = titled(area, &l.title, sz.panel_title, sz)?;
    let (w, h) = inner.dim_in_pixel();
    let ty = |y: f64| if l.log_y { y.log10() } else { y };
    let tx = |x: f64| if l.log_x { x.log10() } else { x };

    // Runs of consecutive valid points per series, y in plot coordinates.
    let runs: Vec<Vec<Vec<Pt>>> = l
        .series
        .iter()
        .map(|s| {
            let mut runs = vec![Vec::new()];
            for (&x, &y) in s.xs.iter().zip(&s.ys) {
                if x.is_finite() && y.is_finite() {
                    runs.last_mut().expect("never empty").push((tx(x), ty(y)));
                } else if !runs.last().expect("never empty").is_empty() {
                    runs.push(Vec::new());
                }
            }
            runs.retain(|r| !r.is_empty());
            runs
        })
        .collect();
    let all = || runs.iter().flatten().flatten();

    let (mut xmin, mut xmax) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut ymin, mut ymax) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in all() {
        xmin = xmin.min(x);
        xmax = xmax.max(x);
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
    let x_zero_pad = if l.log_x {
        0.5
    } else {
        (xmin.abs() * 0.05).max(0.5)
    };
    let (xa, xb) = padded(xmin, xmax, 0.02, x_zero_pad);
    let (ya, yb) = match l.y_range {
        Some((lo, hi)) => (ty(lo), ty(hi)),
        None => {
            for (_, v) in &l.hlines {
                ymin = ymin.min(ty(*v));
                ymax = ymax.max(ty(*v));
            }
            let zero_pad = if l.log_y {
                0.5
            } else {
                (ymin.abs() * 0.1).max(0.5)
            };
            padded(ymin, ymax, 0.06, zero_pad)
        }
    };
    let b = Bounds {
        x0: xa,
        x1: xb,
        y0: ya,
        y1: yb,
    };

    let layout = AxesLayout::new(l, b, (w, h), &inner, sz)?;

    // Polylines of every series inside the plot, in plot coordinates.
    let polylines: Vec<Vec<Vec<Pt>>> = runs
        .iter()
        .map(|series_runs| {
            let mut out = Vec::new();
            for run in series_runs {
                clip_run(run, b, &mut out);
            }
            out
        })
        .collect();
    let markers: Vec<Vec<Pt>> = runs
        .iter()
        .map(|series_runs| {
            let n_points: usize = series_runs.iter().map(Vec::len).sum();
            series_runs
                .iter()
                .filter(|run| n_points <= MARKER_MAX_POINTS || run.len() == 1)
                .flatten()
                .copied()
                .filter(|p| inside(*p, b))
                .collect()
        })
        .collect();

    let legend = own_legend && l.series.len() > 1;
    let geom = LegendGeom::new(&inner, l.series.iter().map(|s| s.label.clone()), sz)?;
    let ref_font = f64::from(sz.legend);
    let ref_label_ws = l
        .hlines
        .iter()
        .map(|(label, _)| label_width(&inner, std::iter::once(label.clone()), sz.legend))
        .collect::<Result<Vec<u32>, String>>()?;

    // First try: the whole panel for the chart, the legend in a free corner.
    let chart0 = build_chart(&inner, &layout, sz)?;
    let (pw, ph) = chart0.plotting_area().dim_in_pixel();
    let (pw, ph) = (f64::from(pw.max(1)), f64::from(ph.max(1)));
    let norm = |p: Pt| ((p.0 - xa) / (xb - xa), (p.1 - ya) / (yb - ya));
    let mut obstacles = Obstacles {
        point_radius: (f64::from(sz.marker) / pw, f64::from(sz.marker) / ph),
        ..Obstacles::default()
    };
    for pls in &polylines {
        for pl in pls {
            obstacles
                .polylines
                .push(pl.iter().map(|p| norm(*p)).collect());
        }
    }
    for ms in &markers {
        obstacles.points.extend(ms.iter().map(|p| norm(*p)));
    }
    // Each reference line's label goes above the line's left end (below it near the top of
    // the plot); when that covers a curve, the first of: the right end, then the other side of
    // the line at the left and the right end, that keeps it off the curves.
    let mut ref_place = Vec::with_capacity(l.hlines.len());
    let mut label_boxes = Vec::new();
    for ((_, v), lw) in l.hlines.iter().zip(&ref_label_ws) {
        let y = (ty(*v) - ya) / (yb - ya);
        let box_w = (f64::from(*lw) + f64::from(sz.px(5.0))) / pw;
        let at = |(below, right): (bool, bool)| {
            let (lo, hi) = ref_label_span(below, ref_font);
            Bounds {
                x0: if right { 1.0 - box_w } else { 0.0 },
                x1: if right { 1.0 } else { box_w },
                y0: y + lo / ph,
                y1: y + hi / ph,
            }
        };
        let place = place_ref_label(&obstacles, y > 0.9, at);
        ref_place.push(place);
        if (0.0..=1.0).contains(&y) {
            label_boxes.push((y, at(place)));
        }
    }
    for (y, b) in label_boxes {
        obstacles.polylines.push(vec![(0.0, y), (1.0, y)]);
        obstacles.boxes.push(b);
    }
    let mut corner = None;
    if legend {
        let (bw, bh) = geom.box_size(l.series.len());
        let inset = f64::from(sz.px(2.0));
        let clear = f64::from(sz.px(1.5));
        corner = free_corner(
            &obstacles,
            f64::from(bw) / pw,
            f64::from(bh) / ph,
            (inset / pw, inset / ph),
            (clear / pw, clear / ph),
        );
    }

    // No free corner: the legend goes below or right of the plot, whichever leaves the plot
    // the larger area, in as many columns as fit.
    let outside = legend && corner.is_none();
    drop(chart0);
    let (chart_area, legend_area, n_cols, layout) = if outside {
        let n = l.series.len() as i32;
        let (wi, hi) = (w as i32, h as i32);
        // Below: columns across the panel's width.
        let below_cols = ((wi - 2 * geom.pad + geom.col_gap) / geom.entry_w()).clamp(1, n);
        let below_h = ((n + below_cols - 1) / below_cols) * geom.row + 2 * geom.pad;
        // Right: columns of rows down the plot's height.
        let rows_fit = ((hi - layout.x_area as i32 - 2 * geom.pad) / geom.row).max(1);
        let right_cols = (n + rows_fit - 1) / rows_fit;
        let right_w = right_cols * geom.entry_w() - geom.col_gap + 2 * geom.pad;
        let (pw0, ph0) = (pw as i64, ph as i64);
        let area_below = pw0 * (ph0 - i64::from(below_h)).max(0);
        let area_right = (pw0 - i64::from(right_w)).max(0) * ph0;
        let right = area_right > area_below && i64::from(right_w) * 2 < pw0;
        if right {
            let (left, side) = inner.split_horizontally(w.saturating_sub(right_w as u32));
            let (cw, ch) = left.dim_in_pixel();
            let layout = AxesLayout::new(l, b, (cw, ch), &inner, sz)?;
            (left, Some((side, true)), right_cols, layout)
        } else {
            let (top, bottom) = inner.split_vertically(h.saturating_sub(below_h as u32));
            let (cw, ch) = top.dim_in_pixel();
            let layout = AxesLayout::new(l, b, (cw, ch), &inner, sz)?;
            (top, Some((bottom, false)), below_cols, layout)
        }
    } else {
        (inner.clone(), None, 1, layout)
    };
    let x_fmt = |v: &f64| layout.x_label(*v);
    let y_fmt = |v: &f64| layout.y_label(*v);
    let tick_mark = layout.tick_mark;
    let mut chart = build_chart(&chart_area, &layout, sz)?;
    chart
        .configure_mesh()
        .bold_line_style(style::GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .x_desc(l.x_label.as_str())
        .y_desc(l.y_label.as_str())
        .axis_desc_style((FAMILY, sz.axis_desc))
        .label_style((FAMILY, sz.tick))
        .axis_style(style::AXIS.stroke_width(sz.px(0.4)))
        .set_all_tick_mark_size(tick_mark)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(de)?;
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let (pwf, phf) = (f64::from(pw.max(1)), f64::from(ph.max(1)));

    // Reference lines under the curves; their labels (left end) go on top of the curves.
    let ref_w = (sz.line * 2 / 3).max(1);
    for (_, v) in &l.hlines {
        let y = ty(*v);
        if !(ya..=yb).contains(&y) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(xa, y), (xb, y)],
                sz.px(3.0),
                sz.px(2.0),
                style::REFERENCE.stroke_width(ref_w),
            ))
            .map_err(de)?;
    }

    // Series in order, so a later (dashed) one is drawn over an earlier one.
    let (sx, sy) = (pwf / (xb - xa), phf / (yb - ya));
    let lw = f64::from(sz.line);
    for (k, (pls, ms)) in polylines.iter().zip(&markers).enumerate() {
        let look = palette::series_style(k);
        let pattern: Vec<f64> = look.dash.iter().map(|v| v * lw).collect();
        let color = look.color;
        let dashes = pls
            .iter()
            .flat_map(|pl| palette::dash_polyline(pl, &pattern, sx, sy));
        chart
            .draw_series(dashes.map(|pl| PathElement::new(pl, color.stroke_width(sz.line))))
            .map_err(de)?;
        let r = sz.marker;
        match palette::marker_polygon(look.marker, r) {
            None => {
                chart
                    .draw_series(ms.iter().map(|p| {
                        EmptyElement::at(*p) + Circle::new((0, 0), r as u32, color.filled())
                    }))
                    .map_err(de)?
            }
            Some(v) => chart
                .draw_series(
                    ms.iter()
                        .map(|p| EmptyElement::at(*p) + Polygon::new(v.clone(), color.filled())),
                )
                .map_err(de)?,
        };
    }

    for (((label, v), lw), &(below, right)) in l.hlines.iter().zip(&ref_label_ws).zip(&ref_place) {
        let y = ty(*v);
        if (ya..=yb).contains(&y) {
            let at = (if right { xb } else { xa }, y);
            draw_ref_label(&mut chart, label.clone(), at, (below, right), *lw, sz)?;
        }
    }

    if !legend {
        return Ok(());
    }
    let marked = |k: usize| has_markers(l, k);
    if let Some(c) = corner {
        let plot = chart.plotting_area().strip_coord_spec();
        let (bw, bh) = geom.box_size(l.series.len());
        let inset = f64::from(sz.px(2.0));
        let cb = corner_box(
            c,
            f64::from(bw) / pwf,
            f64::from(bh) / phf,
            (inset / pwf, inset / phf),
        );
        let x0 = (cb.x0 * pwf).round() as i32;
        let y0 = ((1.0 - cb.y1) * phf).round() as i32;
        plot.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + bh)],
            WHITE.mix(0.9).filled(),
        ))
        .map_err(de)?;
        plot.draw(&Rectangle::new(
            [(x0, y0), (x0 + bw, y0 + bh)],
            RGBColor(190, 190, 190).stroke_width(1),
        ))
        .map_err(de)?;
        for (k, s) in l.series.iter().enumerate() {
            let y = y0 + geom.pad + k as i32 * geom.row + geom.row / 2;
            let look = palette::series_style(k);
            draw_entry(
                &plot,
                &geom,
                (x0 + geom.pad, y),
                &s.label,
                look,
                marked(k),
                sz,
            )?;
        }
    } else if let Some((area, right)) = legend_area {
        let (aw, _) = area.dim_in_pixel();
        let n = l.series.len() as i32;
        let rows = (n + n_cols - 1) / n_cols;
        let used = n_cols * geom.entry_w() - geom.col_gap;
        // Below: centred under the panel; right: level with the top of the plot.
        let (x0, y0) = if right {
            (geom.pad, sz.px(2.0) as i32)
        } else {
            (((aw as i32 - used) / 2).max(geom.pad), geom.pad)
        };
        for (k, s) in l.series.iter().enumerate() {
            // Below: row by row; right: column by column.
            let (col, row) = if right {
                (k as i32 / rows, k as i32 % rows)
            } else {
                (k as i32 % n_cols, k as i32 / n_cols)
            };
            let x = x0 + col * geom.entry_w();
            let y = y0 + row * geom.row + geom.row / 2;
            let look = palette::series_style(k);
            draw_entry(&area, &geom, (x, y), &s.label, look, marked(k), sz)?;
        }
    }
    Ok(())
}

/// Vertical extent in pixels (up positive, relative to the line) of a reference line's label
/// box: just above the line, or below it near the top of the plot.
/// Where a reference line's label goes, as (below the line, at its right end): the usual side
/// (`below_usually`) at the left end, else at the right end, else the other side at the left
/// and then the right end (only where the box stays inside the plot), whichever first keeps
/// the box `at(place)` clear of `obstacles`; the usual left place when none does.
fn place_ref_label(
    obstacles: &Obstacles,
    below_usually: bool,
    at: impl Fn((bool, bool)) -> Bounds,
) -> (bool, bool) {
    let usual = below_usually;
    let inside = |b: Bounds| b.y0 >= 0.0 && b.y1 <= 1.0;
    [
        (usual, false),
        (usual, true),
        (!usual, false),
        (!usual, true),
    ]
    .into_iter()
    .enumerate()
    .find(|&(k, p)| (k < 2 || inside(at(p))) && !obstacles.hit(at(p)))
    .map_or((usual, false), |(_, p)| p)
}

fn ref_label_span(below: bool, font: f64) -> (f64, f64) {
    let gap = 0.25 * font;
    let height = 0.95 * font;
    if below {
        (-(gap + height), -gap + 0.1 * font)
    } else {
        (gap - 0.1 * font, gap + height)
    }
}

/// Draws a reference line's label on a light box just above (or, when `below`, below) the
/// line's left end `at` (or its right end, when `right`).
fn draw_ref_label<DB: DrawingBackend>(
    chart: &mut Chart<DB>,
    label: String,
    at: Pt,
    (below, right): (bool, bool),
    label_w: u32,
    sz: &Sizes,
) -> Result<(), String> {
    let font = f64::from(sz.legend);
    // Text set top-anchored at `anchor_y` covers about 0.05 to 0.95 of its size below it.
    let (lo, hi) = ref_label_span(below, font);
    let anchor_y = -(hi as i32) + (0.05 * font) as i32;
    let box_w = sz.px(4.5) as i32 + label_w as i32;
    let x0 = if right {
        -box_w - sz.px(1.5) as i32
    } else {
        sz.px(1.5) as i32
    };
    let x1 = x0 + box_w;
    let (y0, y1) = (-(hi as i32), -(lo as i32));
    let text_style = (FAMILY, sz.legend)
        .into_font()
        .color(&style::REFERENCE)
        .pos(Pos::new(HPos::Left, VPos::Top));
    chart
        .draw_series(std::iter::once(
            EmptyElement::at(at)
                + Rectangle::new([(x0, y0), (x1, y1)], WHITE.mix(0.85).filled())
                + Text::new(label, (x0 + sz.px(1.5) as i32, anchor_y), text_style),
        ))
        .map_err(de)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_labels_avoid_curves() {
        // A label box 0.2 wide, 0.1 high, above (or below) a line at y = 0.5.
        let at = |(below, right): (bool, bool)| Bounds {
            x0: if right { 0.8 } else { 0.0 },
            x1: if right { 1.0 } else { 0.2 },
            y0: if below { 0.4 } else { 0.5 },
            y1: if below { 0.5 } else { 0.6 },
        };
        let curve = |pts: Vec<Pt>| Obstacles {
            polylines: vec![pts],
            ..Obstacles::default()
        };
        // Nothing in the way: the usual place.
        assert_eq!(
            place_ref_label(&Obstacles::default(), false, at),
            (false, false)
        );
        // A curve above the line on the left: the right end.
        let left_above = curve(vec![(0.0, 0.55), (0.3, 0.55)]);
        assert_eq!(place_ref_label(&left_above, false, at), (false, true));
        // Curves just above the line across the plot: below it, at the left end.
        let above = curve(vec![(0.0, 0.55), (1.0, 0.55)]);
        assert_eq!(place_ref_label(&above, false, at), (true, false));
        // Above the line everywhere and below it on the left: below, at the right end.
        let mut both = above;
        both.polylines.push(vec![(0.0, 0.45), (0.3, 0.45)]);
        assert_eq!(place_ref_label(&both, false, at), (true, true));
        // Covered everywhere: the usual place.
        both.polylines.push(vec![(0.0, 0.45), (1.0, 0.45)]);
        assert_eq!(place_ref_label(&both, false, at), (false, false));
        // The other side is only taken inside the plot.
        let high = |(below, right): (bool, bool)| Bounds {
            y0: if below { 0.85 } else { 0.95 },
            y1: if below { 0.95 } else { 1.05 },
            ..at((below, right))
        };
        let below_curve = curve(vec![(0.0, 0.9), (1.0, 0.9)]);
        assert_eq!(place_ref_label(&below_curve, true, high), (true, false));
    }

    const UNIT: Bounds = Bounds {
        x0: 0.0,
        x1: 1.0,
        y0: 0.0,
        y1: 1.0,
    };

    #[test]
    fn clipping() {
        assert_eq!(
            clip_segment((0.2, 0.2), (0.8, 0.8), UNIT),
            Some(((0.2, 0.2), (0.8, 0.8)))
        );
        assert_eq!(
            clip_segment((0.5, 0.5), (0.5, 2.0), UNIT),
            Some(((0.5, 0.5), (0.5, 1.0)))
        );
        assert_eq!(clip_segment((2.0, 2.0), (3.0, 3.0), UNIT), None);
        let mut out = Vec::new();
        clip_run(
            &[(0.1, 0.5), (0.3, 2.0), (0.5, 0.5), (0.7, 0.6)],
            UNIT,
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].last(), Some(&(0.7, 0.6)));
    }

    #[test]
    fn legend_shared_by_the_panels_with_the_same_series() {
        let panel = |labels: &[&str]| {
            crate::Panel::Lines(Lines {
                title: String::new(),
                x_label: String::new(),
                y_label: String::new(),
                series: labels
                    .iter()
                    .map(|l| crate::Series {
                        label: (*l).into(),
                        xs: vec![0.0, 1.0],
                        ys: vec![0.0, 1.0],
                    })
                    .collect(),
                log_x: false,
                log_y: false,
                y_range: None,
                hlines: Vec::new(),
            })
        };
        let seeds = ["seed 1", "seed 2"];
        // exp-force: a target/output panel, then two panels of the same seeds.
        let force = [panel(&["target", "output"]), panel(&seeds), panel(&seeds)];
        assert_eq!(
            shared_legend(&force),
            Some(vec!["seed 1".to_string(), "seed 2".to_string()])
        );
        // Single-series panels do not prevent sharing; a list in one panel only is not shared.
        assert!(shared_legend(&[panel(&["elise"]), panel(&seeds), panel(&seeds)]).is_some());
        assert_eq!(shared_legend(&[panel(&["a", "b"]), panel(&seeds)]), None);
        assert_eq!(shared_legend(&[panel(&["a"]), panel(&["a"])]), None);
    }

    #[test]
    fn legend_avoids_data() {
        // A rising line fills the upper right and lower left; the upper left is free.
        let line = Obstacles {
            polylines: vec![vec![(0.0, 0.0), (1.0, 1.0)]],
            ..Obstacles::default()
        };
        let c = free_corner(&line, 0.3, 0.2, (0.01, 0.01), (0.01, 0.01));
        assert_eq!(c, Some(Corner::UpperLeft));
        // The chosen box does not touch the line.
        let b = corner_box(Corner::UpperLeft, 0.3, 0.2, (0.01, 0.01));
        assert!(clip_segment((0.0, 0.0), (1.0, 1.0), b).is_none());
    }

    #[test]
    fn legend_moves_out_when_no_corner_is_free() {
        // Curves through all four corners (an X and a horizontal line through the middle):
        // no corner is free, the legend must go outside the plot.
        let busy = Obstacles {
            polylines: vec![
                vec![(0.0, 0.0), (1.0, 1.0)],
                vec![(0.0, 1.0), (1.0, 0.0)],
                vec![(0.0, 0.5), (1.0, 0.5)],
            ],
            ..Obstacles::default()
        };
        assert_eq!(free_corner(&busy, 0.3, 0.2, (0.01, 0.01), (0.0, 0.0)), None);
        // A segment crossing a corner box without a vertex inside it still counts.
        let crossing = Obstacles {
            polylines: vec![vec![(0.5, 1.2), (1.2, 0.5)]],
            ..Obstacles::default()
        };
        assert_ne!(
            free_corner(&crossing, 0.4, 0.4, (0.0, 0.0), (0.0, 0.0)),
            Some(Corner::UpperRight)
        );
        // Markers and label boxes count too; a box too large for the plot never fits.
        let marks = Obstacles {
            points: vec![(0.95, 0.95), (0.05, 0.95), (0.95, 0.05)],
            point_radius: (0.01, 0.01),
            boxes: vec![Bounds {
                x0: 0.0,
                x1: 0.3,
                y0: 0.0,
                y1: 0.1,
            }],
            ..Obstacles::default()
        };
        assert_eq!(free_corner(&marks, 0.2, 0.2, (0.0, 0.0), (0.0, 0.0)), None);
        assert_eq!(
            free_corner(&Obstacles::default(), 0.9, 0.2, (0.0, 0.0), (0.0, 0.0)),
            None
        );
        assert_eq!(
            free_corner(&Obstacles::default(), 0.3, 0.2, (0.0, 0.0), (0.0, 0.0)),
            Some(Corner::UpperRight)
        );
    }
}
