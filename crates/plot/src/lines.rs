//! Curve panels.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::font::FAMILY;
use crate::{Area, Lines, de, label_width, style, ticks, titled};

/// Series colours, cycled (a Tableau-like qualitative palette; grey is kept for references).
const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Height of the x tick labels plus the x axis description.
const X_AREA: u32 = 52;
/// Room for the rotated y axis description left of the tick labels.
const DESC_ROOM: u32 = 30;
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
#[derive(Clone, Copy)]
struct Bounds {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

type Pt = (f64, f64);

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

/// Draws a validated lines panel into `area`.
pub(crate) fn draw(l: &Lines, area: &Area) -> Result<(), String> {
    let inner = titled(area, &l.title, style::PANEL_TITLE)?;
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

    let x_target = (w.saturating_sub(110) / 95).clamp(2, 10) as usize;
    let (x_ticks, x_step) = if l.log_x {
        (ticks::log10(xa, xb, x_target), 0.0)
    } else {
        ticks::linear(xa, xb, x_target)
    };
    let y_target = (h.saturating_sub(X_AREA + 40) / 45).clamp(2, 10) as usize;
    let (y_ticks, y_step) = if l.log_y {
        (ticks::log10(ya, yb, y_target), 0.0)
    } else {
        ticks::linear(ya, yb, y_target)
    };
    let log_y = l.log_y;
    let log_x = l.log_x;
    let x_fmt = move |v: &f64| {
        if log_x {
            ticks::fmt_sig(10f64.powf(*v))
        } else {
            ticks::fmt_linear(*v, x_step)
        }
    };
    let y_fmt = move |v: &f64| {
        if log_y {
            ticks::fmt_sig(10f64.powf(*v))
        } else {
            ticks::fmt_linear(*v, y_step)
        }
    };
    let y_area = label_width(&inner, y_ticks.iter().map(&y_fmt), style::TICK)? + 12 + DESC_ROOM;

    let mut chart = ChartBuilder::on(&inner)
        .margin_top(6)
        .margin_bottom(6)
        .margin_left(4)
        .margin_right(16)
        .x_label_area_size(X_AREA)
        .y_label_area_size(y_area)
        .build_cartesian_2d(
            ticks::Axis::new(xa, xb, x_ticks),
            ticks::Axis::new(ya, yb, y_ticks),
        )
        .map_err(de)?;
    chart
        .configure_mesh()
        .bold_line_style(style::GRID)
        .light_line_style(TRANSPARENT)
        .x_desc(l.x_label.as_str())
        .y_desc(l.y_label.as_str())
        .axis_desc_style((FAMILY, style::AXIS_DESC))
        .label_style((FAMILY, style::TICK))
        .axis_style(style::AXIS)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(de)?;
    let (pw, ph) = chart.plotting_area().dim_in_pixel();

    // Reference lines under the curves; their labels (left end) go on top of the curves.
    let mut obstacles: Vec<Pt> = Vec::new();
    let mut ref_labels = Vec::new();
    for (label, v) in &l.hlines {
        let y = ty(*v);
        if !(ya..=yb).contains(&y) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(xa, y), (xb, y)],
                7,
                5,
                style::REFERENCE.stroke_width(2),
            ))
            .map_err(de)?;
        let near_top = (y - ya) / (yb - ya) > 0.9;
        let label_w = label_width(&inner, std::iter::once(label.clone()), style::LEGEND)?;
        ref_labels.push((label.clone(), y, near_top, label_w));
        // The legend should avoid the line and, more so, its label.
        obstacles.extend((0..=50).map(|k| (xa + (xb - xa) * f64::from(k) / 50.0, y)));
        let label_frac = f64::from(label_w + 10) / f64::from(pw.max(1));
        obstacles.extend((0..=10).map(|k| {
            let x = xa + (xb - xa) * label_frac * f64::from(k) / 10.0;
            let off = (yb - ya) * 18.0 / f64::from(ph.max(1));
            (x, if near_top { y - off } else { y + off })
        }));
    }

    let legend = l.series.len() > 1;
    for (k, (s, series_runs)) in l.series.iter().zip(&runs).enumerate() {
        let color = PALETTE[k % PALETTE.len()];
        let mut polylines = Vec::new();
        for run in series_runs {
            clip_run(run, b, &mut polylines);
        }
        let anno = chart
            .draw_series(
                polylines
                    .into_iter()
                    .map(|pl| PathElement::new(pl, color.stroke_width(2))),
            )
            .map_err(de)?;
        if legend {
            anno.label(s.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3))
            });
        }
        let n_points: usize = series_runs.iter().map(Vec::len).sum();
        let markers = series_runs
            .iter()
            .filter(|run| n_points <= MARKER_MAX_POINTS || run.len() == 1)
            .flatten()
            .copied()
            .filter(|p| inside(*p, b));
        chart
            .draw_series(markers.map(|p| Circle::new(p, 3, color.filled())))
            .map_err(de)?;
    }

    for (label, y, near_top, label_w) in ref_labels {
        draw_ref_label(&mut chart, label, (xa, y), near_top, label_w)?;
    }

    if legend {
        obstacles.extend(all().copied());
        // Points along segments too, so a steep line through a corner counts.
        if obstacles.len() < 20_000 {
            for run in runs.iter().flatten() {
                for wnd in run.windows(2) {
                    for f in [0.25, 0.5, 0.75] {
                        obstacles.push((
                            wnd[0].0 + (wnd[1].0 - wnd[0].0) * f,
                            wnd[0].1 + (wnd[1].1 - wnd[0].1) * f,
                        ));
                    }
                }
            }
        }
        let text_w = label_width(
            &inner,
            l.series.iter().map(|s| s.label.clone()),
            style::LEGEND,
        )?;
        let box_w = f64::from(text_w + 50) / f64::from(pw.max(1));
        let box_h = (l.series.len() as f64 * 22.0 + 14.0) / f64::from(ph.max(1));
        let position = legend_corner(&obstacles, b, box_w, box_h);
        chart
            .configure_series_labels()
            .position(position)
            .margin(8)
            .legend_area_size(30)
            .label_font((FAMILY, style::LEGEND))
            .background_style(WHITE.mix(0.88))
            .border_style(RGBColor(170, 170, 170))
            .draw()
            .map_err(de)?;
    }
    Ok(())
}

/// Draws a reference line's label on a light box just above (or, near the top, below) the
/// line's left end.
fn draw_ref_label(
    chart: &mut ChartContext<BitMapBackend, Cartesian2d<ticks::Axis, ticks::Axis>>,
    label: String,
    at: Pt,
    near_top: bool,
    label_w: u32,
) -> Result<(), String> {
    // plotters' ab_glyph renderer puts glyphs from about 0.23 em above to 0.73 em below a
    // top-anchored text position (descenders included).
    let em = f64::from(style::LEGEND);
    let (above, below) = ((0.23 * em).round() as i32, (0.73 * em).round() as i32);
    let anchor_y = if near_top { 5 + above } else { -5 - below };
    let (x0, x1) = (5, 8 + label_w as i32 + 3);
    let (y0, y1) = (anchor_y - above - 1, anchor_y + below + 1);
    let text_style = (FAMILY, style::LEGEND)
        .into_font()
        .color(&style::REFERENCE)
        .pos(Pos::new(HPos::Left, VPos::Top));
    chart
        .draw_series(std::iter::once(
            EmptyElement::at(at)
                + Rectangle::new([(x0, y0), (x1, y1)], WHITE.mix(0.8).filled())
                + Text::new(label, (8, anchor_y), text_style),
        ))
        .map_err(de)?;
    Ok(())
}

/// The corner whose legend box (`box_w` x `box_h`, fractions of the plot) covers the fewest
/// of `points`; ties go to upper right, upper left, lower right, lower left in that order.
fn legend_corner(points: &[Pt], b: Bounds, box_w: f64, box_h: f64) -> SeriesLabelPosition {
    let (bw, bh) = (box_w.min(1.0), box_h.min(1.0));
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let mut best = (usize::MAX, SeriesLabelPosition::UpperRight);
    for (pos, right, upper) in corners {
        let count = points
            .iter()
            .filter(|(x, y)| {
                let nx = (x - b.x0) / (b.x1 - b.x0);
                let ny = (y - b.y0) / (b.y1 - b.y0);
                let in_x = if right { nx >= 1.0 - bw } else { nx <= bw };
                let in_y = if upper { ny >= 1.0 - bh } else { ny <= bh };
                in_x && in_y
            })
            .count();
        if count < best.0 {
            best = (count, pos);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn legend_avoids_data() {
        // A rising curve fills the upper right; the upper left is free.
        let pts: Vec<Pt> = (0..=10)
            .map(|k| (f64::from(k) / 10.0, f64::from(k) / 10.0))
            .collect();
        let pos = legend_corner(&pts, UNIT, 0.3, 0.2);
        assert!(matches!(pos, SeriesLabelPosition::UpperLeft));
    }
}
