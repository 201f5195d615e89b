//! Heat-map panels.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use plotters::style::FontTransform;

use crate::font::FAMILY;
use crate::style::{self, Sizes};
use crate::{Area, Raster, colormap, de, label_width, ticks, titled};

/// Pixel sizes of a heat map's frame, scaled with the figure.
struct Frame {
    /// Width of the colour bar itself and the gap between heat map and bar.
    bar_w: u32,
    bar_gap: u32,
    /// Height of the x tick labels plus the x axis description.
    x_area: u32,
    /// Room for a rotated axis description beside the tick labels.
    desc_room: u32,
    /// Space around the plot.
    margin: u32,
    tick_mark: u32,
}

impl Frame {
    fn new(sz: &Sizes) -> Self {
        let tick_mark = sz.px(2.5);
        Self {
            bar_w: sz.px(5.0),
            bar_gap: sz.px(4.0),
            x_area: tick_mark + sz.tick + (1.35 * f64::from(sz.axis_desc)) as u32 + sz.px(1.0),
            desc_room: (1.4 * f64::from(sz.axis_desc)) as u32,
            margin: sz.px(2.0),
            tick_mark,
        }
    }
}

/// Formats an x tick value as its label.
type TickFormat = Box<dyn Fn(&f64) -> String>;

/// Checks a raster; the error text explains what is wrong.
pub(crate) fn validate(r: &Raster) -> Result<(), String> {
    if r.n_rows == 0 || r.n_cols == 0 {
        return Err(format!(
            "raster is empty (n_rows = {}, n_cols = {})",
            r.n_rows, r.n_cols
        ));
    }
    match r.n_rows.checked_mul(r.n_cols) {
        Some(n) if n == r.values.len() => {}
        _ => {
            return Err(format!(
                "values has {} entries but n_rows * n_cols = {} * {}",
                r.values.len(),
                r.n_rows,
                r.n_cols
            ));
        }
    }
    if !r.vmin.is_finite() || !r.vmax.is_finite() || r.vmin > r.vmax {
        return Err(format!(
            "colour scale vmin = {}, vmax = {} must be finite with vmin <= vmax",
            r.vmin, r.vmax
        ));
    }
    let (x0, x1) = r.x_range;
    if !x0.is_finite() || !x1.is_finite() {
        return Err(format!("x_range ({x0}, {x1}) is not finite"));
    }
    if r.n_cols > 1 && x0 >= x1 {
        return Err(format!(
            "x_range ({x0}, {x1}) must increase when there are {} columns",
            r.n_cols
        ));
    }
    for (name, len, want) in [
        ("x_categories", r.x_categories.len(), r.n_cols),
        ("y_categories", r.y_categories.len(), r.n_rows),
        ("cell_labels", r.cell_labels.len(), r.n_rows * r.n_cols),
    ] {
        if len != 0 && len != want {
            return Err(format!(
                "{name} has {len} entries, expected {want} (or none)"
            ));
        }
    }
    if r.values.iter().all(|v| v.is_nan()) {
        return Err("all values are NaN".into());
    }
    Ok(())
}

/// The x extent covered by the cells: each column is a cell centred on its x coordinate.
fn x_extent(r: &Raster) -> (f64, f64) {
    let (x0, x1) = r.x_range;
    if r.n_cols > 1 {
        let half = (x1 - x0) / (r.n_cols - 1) as f64 / 2.0;
        (x0 - half, x1 + half)
    } else {
        let half = if x1 > x0 { (x1 - x0) / 2.0 } else { 0.5 };
        (x0 - half, x0 + half)
    }
}

/// Smallest stride among 1, 2, 5, 10, 20, 50, ... that keeps at most `max_labels` row labels.
fn row_stride(n_rows: usize, max_labels: usize) -> usize {
    let max_labels = max_labels.max(1);
    let mut base = 1usize;
    loop {
        for m in [1, 2, 5] {
            let s = base.saturating_mul(m);
            if n_rows.div_ceil(s) <= max_labels || s >= n_rows {
                return s;
            }
        }
        base = base.saturating_mul(10);
    }
}

/// Draws a validated raster into `area`.
pub(crate) fn draw<DB: DrawingBackend>(
    r: &Raster,
    area: &Area<DB>,
    sz: &Sizes,
) -> Result<(), String> {
    let fr = Frame::new(sz);
    let inner = titled(area, &r.title, sz.panel_title, sz)?;
    let (w, h) = inner.dim_in_pixel();
    let plot_h_guess = h.saturating_sub(fr.x_area + 2 * fr.margin);
    let scale = ColorScale::new(r, &inner, plot_h_guess, sz, &fr)?;
    let (main, bar) = inner.split_horizontally(w.saturating_sub(scale.strip_width()));

    // x axis: data units (e.g. ms), ticks inside the cells' extent.
    let (xa, xb) = x_extent(r);
    let main_w = main.dim_in_pixel().0;
    let col_w = (xb - xa) / r.n_cols as f64;
    let (x_ticks, x_fmt): (Vec<f64>, TickFormat) = if r.x_categories.is_empty() {
        let (x_ticks, x_step) = ticks::linear(
            xa,
            xb,
            (main_w.saturating_sub(6 * sz.tick) / (5 * sz.tick)).clamp(2, 10) as usize,
        );
        (
            x_ticks,
            Box::new(move |v: &f64| ticks::fmt_linear(*v, x_step)),
        )
    } else {
        let centres = (0..r.n_cols)
            .map(|c| xa + (c as f64 + 0.5) * col_w)
            .collect();
        let labels = r.x_categories.clone();
        let fmt = move |v: &f64| {
            let c = ((v - xa) / col_w - 0.5).round().max(0.0) as usize;
            labels.get(c).cloned().unwrap_or_default()
        };
        (centres, Box::new(fmt))
    };

    // y axis: row i covers u in [n - i - 1, n - i], so row 0 is at the top; labels at centres.
    let n = r.n_rows as f64;
    let stride = if r.y_categories.is_empty() {
        row_stride(r.n_rows, (plot_h_guess / (sz.tick * 3 / 2).max(1)) as usize)
    } else {
        1
    };
    let y_keys: Vec<f64> = (0..r.n_rows)
        .step_by(stride)
        .map(|i| n - i as f64 - 0.5)
        .collect();
    let y_labels = r.y_categories.clone();
    let y_fmt = move |u: &f64| {
        let row = (n - u - 0.5).round() as i64;
        if y_labels.is_empty() {
            format!("{row}")
        } else {
            y_labels
                .get(row.max(0) as usize)
                .cloned()
                .unwrap_or_default()
        }
    };
    let y_area = label_width(&inner, y_keys.iter().map(&y_fmt), sz.tick)?
        + fr.tick_mark
        + sz.px(2.0)
        + fr.desc_room;

    let mut chart = ChartBuilder::on(&main)
        .margin_top(fr.margin)
        .margin_bottom(fr.margin)
        .margin_left(sz.px(1.0))
        .margin_right(sz.px(1.0))
        .x_label_area_size(fr.x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(
            ticks::Axis::new(xa, xb, x_ticks),
            ticks::Axis::new(0.0, n, y_keys),
        )
        .map_err(de)?;

    // Cells, averaged down to at most one per pixel.
    let (pw, ph) = chart.plotting_area().dim_in_pixel();
    let bins_x = r.n_cols.min(pw.max(1) as usize);
    let bins_y = r.n_rows.min(ph.max(1) as usize);
    // The cells are one bitmap at the plot's pixel size: in the SVG an embedded PNG (as
    // matplotlib's imshow does), so a raster of thousands of columns stays small.
    let mut bins = Vec::with_capacity(bins_x * bins_y);
    for by in 0..bins_y {
        let (r0, r1) = (by * r.n_rows / bins_y, (by + 1) * r.n_rows / bins_y);
        for bx in 0..bins_x {
            let (c0, c1) = (bx * r.n_cols / bins_x, (bx + 1) * r.n_cols / bins_x);
            let (mut sum, mut count) = (0.0, 0usize);
            for row in r0..r1 {
                for &v in &r.values[row * r.n_cols + c0..row * r.n_cols + c1] {
                    if !v.is_nan() {
                        sum += colormap::normalize(v, r.vmin, r.vmax);
                        count += 1;
                    }
                }
            }
            let t = if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            };
            bins.push(colormap::at(t));
        }
    }
    let (pw, ph) = (pw.max(1) as usize, ph.max(1) as usize);
    let mut pixels = Vec::with_capacity(pw * ph * 3);
    for py in 0..ph {
        let by = py * bins_y / ph;
        for px in 0..pw {
            let RGBColor(red, green, blue) = bins[by * bins_x + px * bins_x / pw];
            pixels.extend_from_slice(&[red, green, blue]);
        }
    }
    let image = BitMapElement::with_owned_buffer((xa, n), (pw as u32, ph as u32), pixels)
        .ok_or("heat map bitmap: wrong buffer size")?;
    chart.plotting_area().draw(&image).map_err(de)?;
    if !r.cell_labels.is_empty() {
        let mut texts = Vec::with_capacity(r.cell_labels.len());
        for row in 0..r.n_rows {
            for col in 0..r.n_cols {
                let t = colormap::normalize(r.values[row * r.n_cols + col], r.vmin, r.vmax);
                // The colour map runs from dark (low) to light (high).
                let colour = if t > 0.6 { BLACK } else { WHITE };
                let style = (FAMILY, sz.tick)
                    .into_font()
                    .color(&colour)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                texts.push(Text::new(
                    r.cell_labels[row * r.n_cols + col].clone(),
                    (xa + (col as f64 + 0.5) * col_w, n - row as f64 - 0.5),
                    style,
                ));
            }
        }
        chart.draw_series(texts).map_err(de)?;
    }

    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(r.x_label.as_str())
        .y_desc(r.y_label.as_str())
        .axis_desc_style((FAMILY, sz.axis_desc))
        .label_style((FAMILY, sz.tick))
        .axis_style(style::AXIS.stroke_width(sz.px(0.4)))
        .set_all_tick_mark_size(fr.tick_mark)
        .x_label_formatter(&*x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(de)?;

    scale.draw(r, &bar, sz, &fr)
}

/// The colour scale: a vertical gradient from vmin (bottom) to vmax (top) with value ticks,
/// aligned with the heat map's plot area.
struct ColorScale {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    step: f64,
    labels_w: u32,
    /// Room for the value label right of the tick labels (0 without one).
    label_room: u32,
    /// Gap plus bar width.
    bar_part: u32,
}

impl ColorScale {
    fn new<DB: DrawingBackend>(
        r: &Raster,
        area: &Area<DB>,
        plot_h_guess: u32,
        sz: &Sizes,
        fr: &Frame,
    ) -> Result<Self, String> {
        let (lo, hi) = if r.vmax > r.vmin {
            (r.vmin, r.vmax)
        } else {
            (r.vmin - 0.5, r.vmin + 0.5)
        };
        let target = (plot_h_guess / (sz.tick * 5 / 2).max(1)).clamp(2, 8) as usize;
        let (ticks, step) = ticks::linear(lo, hi, target);
        let labels = ticks.iter().map(|v| ticks::fmt_linear(*v, step));
        let labels_w = label_width(area, labels, sz.tick)? + fr.tick_mark + sz.px(2.0);
        let label_room = if r.value_label.trim().is_empty() {
            0
        } else {
            fr.desc_room
        };
        Ok(Self {
            lo,
            hi,
            ticks,
            step,
            labels_w,
            label_room,
            bar_part: fr.bar_gap + fr.bar_w,
        })
    }

    /// Pixels the colour bar with its labels takes at the right of the panel.
    fn strip_width(&self) -> u32 {
        self.bar_part + self.labels_w + self.label_room + 4
    }

    fn draw<DB: DrawingBackend>(
        self,
        r: &Raster,
        bar: &Area<DB>,
        sz: &Sizes,
        fr: &Frame,
    ) -> Result<(), String> {
        let Self {
            lo,
            hi,
            ticks,
            step,
            labels_w,
            label_room,
            bar_part: _,
        } = self;
        let fmt = move |v: &f64| ticks::fmt_linear(*v, step);
        let mut cb = ChartBuilder::on(bar)
            .margin_top(fr.margin)
            .margin_bottom(fr.margin)
            .margin_left(fr.bar_gap)
            .margin_right(2 + label_room)
            .x_label_area_size(fr.x_area)
            .right_y_label_area_size(labels_w)
            .build_cartesian_2d(
                ticks::Axis::new(0.0, 1.0, Vec::new()),
                ticks::Axis::new(lo, hi, ticks),
            )
            .map_err(de)?;
        let steps = cb.plotting_area().dim_in_pixel().1.max(2) as usize;
        cb.draw_series((0..steps).map(|k| {
            let v0 = lo + (hi - lo) * k as f64 / steps as f64;
            let v1 = lo + (hi - lo) * (k + 1) as f64 / steps as f64;
            let t = colormap::normalize((v0 + v1) / 2.0, r.vmin, r.vmax);
            Rectangle::new([(0.0, v0), (1.0, v1)], colormap::at(t).filled())
        }))
        .map_err(de)?;
        cb.configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .label_style((FAMILY, sz.tick))
            .axis_style(style::AXIS.stroke_width(sz.px(0.4)))
            .set_all_tick_mark_size(fr.tick_mark)
            .y_label_formatter(&fmt)
            .draw()
            .map_err(de)?;
        if label_room > 0 {
            // Along the bar, reading upwards like a y axis description, centred on the bar.
            let (bw, _) = bar.dim_in_pixel();
            let plot = cb.plotting_area();
            let (_, y_range) = plot.get_pixel_range();
            let y_mid = (y_range.start + y_range.end) / 2 - bar.get_base_pixel().1;
            let x = bw as i32 - label_room as i32 / 2 - 1;
            bar.draw(&Text::new(
                r.value_label.clone(),
                (x, y_mid),
                (FAMILY, sz.axis_desc)
                    .into_font()
                    .transform(FontTransform::Rotate270)
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(de)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides() {
        assert_eq!(row_stride(13, 20), 1);
        assert_eq!(row_stride(13, 7), 2);
        assert_eq!(row_stride(13, 3), 5);
        assert_eq!(row_stride(500, 10), 50);
        assert_eq!(row_stride(3, 0), 5);
    }
}
