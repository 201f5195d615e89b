//! Figures (PNG and SVG) for elise-lab experiments: rasters and curves drawn with plotters.
//!
//! A [`Figure`] is a grid of [`Panel`]s, each either a [`Raster`] (a heat map with one
//! horizontal band per row, e.g. the membrane potential or spikes of each neuron over time)
//! or a [`Lines`] panel (curves such as learning curves, with optional labelled reference
//! lines). [`save`] writes a figure as PNG and as SVG next to it ([`draw_png`] and
//! [`draw_svg`] write one of them). The whole figure is validated first, so bad input is
//! reported as a [`PlotError`] naming the offending panel and nothing is written; then each
//! file is drawn to a temporary file next to the target and renamed, so a reader never sees
//! half a file.
//!
//! Figures are laid out for print at 18 cm width: font sizes, line widths and markers scale
//! with the image width, so a 1440 px wide figure has 8 pt tick labels when printed 18 cm
//! wide. Legends never cover data: a legend goes into a corner of the plot that no curve,
//! marker or reference line crosses, or else below the plot. Series differ in colour (a
//! colour-blind-safe palette of 13), dash pattern and marker shape.
//!
//! Text is set in DejaVu Sans, embedded in the library (see `assets/LICENSE-DejaVu.txt`), so
//! drawing a PNG needs no system font and reads no file other than the one it writes; SVG text
//! names the generic family `sans-serif`.
//!
//! ```no_run
//! use elise_plot::{save, Figure, Lines, Panel, Series};
//!
//! let fig = Figure {
//!     title: "Learning".into(),
//!     panels: vec![Panel::Lines(Lines {
//!         title: "Recall errors".into(),
//!         x_label: "trial".into(),
//!         y_label: "errors".into(),
//!         series: vec![Series { label: "run 0".into(), xs: vec![0.0, 1.0, 2.0], ys: vec![9.0, 4.0, 1.0] }],
//!         log_x: false,
//!         log_y: false,
//!         y_range: None,
//!         hlines: vec![("perfect".into(), 0.0)],
//!     })],
//!     n_cols: 1,
//!     panel_size: (640, 400),
//! };
//! // results/learning.png and results/learning.svg
//! save(&fig, std::path::Path::new("results/learning.png"))?;
//! # Ok::<(), elise_plot::PlotError>(())
//! ```

mod colormap;
mod font;
mod lines;
mod palette;
mod raster;
mod text;
mod ticks;

use std::any::Any;
use std::ffi::OsString;
use std::fmt::Display;
use std::fs;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A heat map: one horizontal band per row (row 0 at the top), one cell per column.
///
/// Each value is coloured with a viridis-like sequential map between `vmin` (dark purple) and
/// `vmax` (yellow); values outside are clamped, NaN cells are drawn light grey. A colour bar
/// with the value scale and `value_label` is drawn to the right. When there are more columns (or rows) than
/// pixels, neighbouring cells are averaged (after clamping, ignoring NaN) to one pixel.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Panel title, drawn above the panel; also names the panel in errors.
    pub title: String,
    /// Number of rows (e.g. neurons), drawn top to bottom.
    pub n_rows: usize,
    /// Number of columns (e.g. time steps), drawn left to right.
    pub n_cols: usize,
    /// `n_rows * n_cols` values, row-major: `values[row * n_cols + col]`.
    pub values: Vec<f64>,
    /// Value mapped to the low end of the colour map (finite, `vmin <= vmax`).
    pub vmin: f64,
    /// Value mapped to the high end of the colour map (finite). If `vmax == vmin`, values
    /// `<= vmin` get the low colour and larger ones the high colour.
    pub vmax: f64,
    /// Label of the x axis, e.g. `"time (ms)"`.
    pub x_label: String,
    /// x coordinate of the centre of the first and of the last column, e.g. time in ms;
    /// finite, and `first < last` when `n_cols > 1`.
    pub x_range: (f64, f64),
    /// Label of the y axis, e.g. `"neuron"`; rows are numbered from 0 at the top.
    pub y_label: String,
    /// Categorical x axis (a heat map over a parameter grid): one label per column, drawn under
    /// the column centres instead of numeric ticks; empty = numeric axis from `x_range`.
    pub x_categories: Vec<String>,
    /// Categorical y axis: one label per row (top to bottom); empty = row numbers.
    pub y_categories: Vec<String>,
    /// Text drawn at the centre of each cell (`n_rows * n_cols`, row-major), e.g. its value;
    /// empty = none. Meant for small grids; the text is dark on light cells and light on dark.
    pub cell_labels: Vec<String>,
    /// What the colours mean, e.g. `"rate"`; written along the colour bar (empty = nothing).
    pub value_label: String,
}

/// One curve of a [`Lines`] panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name shown in the legend (a legend is drawn when the panel has more than one series).
    /// Series `k` of a panel is drawn in the `k`-th colour, dash pattern and marker shape, in
    /// order, so a later series is drawn over an earlier one.
    pub label: String,
    /// x coordinates; same length as `ys`, at least one point.
    pub xs: Vec<f64>,
    /// y coordinates. A point whose x or y is NaN or infinite is skipped and breaks the line.
    pub ys: Vec<f64>,
}

/// Curves on shared axes, with optional labelled horizontal reference lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Lines {
    /// Panel title, drawn above the panel; also names the panel in errors.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// The curves, drawn in a fixed cycle of colours, dash patterns and marker shapes (every
    /// point is marked when a series has at most 60); at least one, and the panel must hold at
    /// least one finite point in all.
    pub series: Vec<Series>,
    /// Logarithmic x axis. Every finite x must then be positive.
    pub log_x: bool,
    /// Logarithmic y axis. Every finite y, every `hlines` value and `y_range` must then be
    /// positive.
    pub log_y: bool,
    /// Fixed y range `(low, high)`, `low < high`; `None` fits the data and the `hlines`.
    /// Parts of curves outside are clipped.
    pub y_range: Option<(f64, f64)>,
    /// Labelled horizontal reference lines, e.g. `("perfect".into(), 13.0)`; drawn dashed
    /// grey, the label at the left end. A line outside a fixed `y_range` is not drawn.
    pub hlines: Vec<(String, f64)>,
}

/// One cell of a [`Figure`]'s grid.
#[derive(Debug, Clone, PartialEq)]
pub enum Panel {
    /// A heat map.
    Raster(Raster),
    /// Curves.
    Lines(Lines),
}

/// A grid of panels saved as one image.
///
/// The image is exactly `n_cols * panel_size.0` pixels wide and
/// `ceil(panels.len() / n_cols) * panel_size.1` high; a non-empty `title` takes a band at the
/// top of that, shared out of the panels' height. Panels fill the grid row by row. Text sizes
/// scale with the width (see the crate documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Figure title drawn across the top; empty for none.
    pub title: String,
    /// The panels, at least one.
    pub panels: Vec<Panel>,
    /// Number of grid columns, at least 1.
    pub n_cols: usize,
    /// Pixels (width, height) per grid cell, at least [`MIN_PANEL_SIZE`].
    pub panel_size: (u32, u32),
}

/// Smallest accepted [`Figure::panel_size`]: below it axes and labels do not fit.
pub const MIN_PANEL_SIZE: (u32, u32) = (240, 180);

/// Largest accepted image, in pixels (width times height).
pub const MAX_PIXELS: u64 = 100_000_000;

/// Why [`draw_png`] failed. Every variant names the file concerned.
#[derive(thiserror::Error, Debug)]
pub enum PlotError {
    /// The figure as a whole is unusable (no panels, `n_cols == 0`, panels too small, image
    /// too large).
    #[error("cannot draw {}: {reason}", .path.display())]
    InvalidFigure {
        /// The file that was to be written.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// One panel's data is unusable; nothing was written.
    #[error("cannot draw {}: panel {index} \"{title}\": {reason}", .path.display())]
    InvalidPanel {
        /// The file that was to be written.
        path: PathBuf,
        /// Position of the panel in [`Figure::panels`].
        index: usize,
        /// The panel's title.
        title: String,
        /// What is wrong.
        reason: String,
    },
    /// plotters or the PNG encoder failed while drawing or encoding.
    #[error("drawing {} failed: {message}", .path.display())]
    Draw {
        /// The file that was to be written.
        path: PathBuf,
        /// The underlying error, as text.
        message: String,
    },
    /// Creating the parent folder or renaming the temporary file failed.
    #[error("I/O error on {}: {source}", .path.display())]
    Io {
        /// The file or folder the operation was on.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Draws `fig` and saves it as a PNG at `path` and as an SVG next to it (`path` with the
/// extension `svg`); returns the SVG's path.
///
/// The figure is validated once before either file is touched (see [`draw_png`]); the PNG is
/// written first. `path` must not end in `.svg`.
pub fn save(fig: &Figure, path: &Path) -> Result<PathBuf, PlotError> {
    let svg = path.with_extension("svg");
    if svg == path {
        return Err(PlotError::InvalidFigure {
            path: path.to_path_buf(),
            reason: "the PNG path ends in .svg, where the SVG would be written".into(),
        });
    }
    let checked = validate(fig, path)?;
    write(fig, path, checked, Format::Png)?;
    write(fig, &svg, checked, Format::Svg)?;
    Ok(svg)
}

/// Draws `fig` and saves it as a PNG at `path`.
///
/// The figure is validated first; invalid input returns [`PlotError::InvalidFigure`] or
/// [`PlotError::InvalidPanel`] (which names the panel's index and title) and touches no file.
/// Missing parent folders are created. The image is drawn to `"<path>.<pid>.tmp.png"` (plotters
/// picks the encoder from that extension) and then renamed to `path`, replacing any file
/// there; on failure the temporary file is removed. The result is a PNG whatever `path`'s
/// extension.
pub fn draw_png(fig: &Figure, path: &Path) -> Result<(), PlotError> {
    let checked = validate(fig, path)?;
    write(fig, path, checked, Format::Png)
}

/// Draws `fig` and saves it as an SVG at `path`, the same way as [`draw_png`] (validated
/// first, written to `"<path>.<pid>.tmp.svg"` and renamed). Text is SVG text in the generic
/// `sans-serif` family, so it stays text (searchable, editable) in the file.
pub fn draw_svg(fig: &Figure, path: &Path) -> Result<(), PlotError> {
    let checked = validate(fig, path)?;
    write(fig, path, checked, Format::Svg)
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Png,
    Svg,
}

/// Image size and number of grid rows of a validated figure.
type Checked = ((u32, u32), usize);

/// Validates the figure and every panel.
fn validate(fig: &Figure, path: &Path) -> Result<Checked, PlotError> {
    let checked = validate_figure(fig).map_err(|reason| PlotError::InvalidFigure {
        path: path.to_path_buf(),
        reason,
    })?;
    for (index, panel) in fig.panels.iter().enumerate() {
        let (title, result) = match panel {
            Panel::Raster(r) => (&r.title, raster::validate(r)),
            Panel::Lines(l) => (&l.title, lines::validate(l)),
        };
        result.map_err(|reason| PlotError::InvalidPanel {
            path: path.to_path_buf(),
            index,
            title: title.clone(),
            reason,
        })?;
    }
    Ok(checked)
}

/// Draws a validated figure to a temporary file next to `path` and renames it.
fn write(
    fig: &Figure,
    path: &Path,
    (size, grid_rows): Checked,
    format: Format,
) -> Result<(), PlotError> {
    let draw_err = |message: String| PlotError::Draw {
        path: path.to_path_buf(),
        message,
    };
    font::ensure_registered().map_err(draw_err)?;

    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        fs::create_dir_all(parent).map_err(|source| PlotError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let tmp = tmp_path(path, format);
    let sizes = style::Sizes::for_width(size.0);
    // The backends are dropped (a bitmap backend saves on drop) before this returns, so the
    // temporary file can be removed safely here. Input is validated, so plotters should not
    // panic; should it all the same, the caller gets an error rather than an unwind.
    let rendered = std::panic::catch_unwind(AssertUnwindSafe(|| match format {
        Format::Png => {
            let backend = text::TextFix::new(BitMapBackend::new(&tmp, size))?;
            render(fig, backend.into_drawing_area(), grid_rows, &sizes)
        }
        Format::Svg => {
            let mut svg = String::new();
            render(
                fig,
                SVGBackend::with_string(&mut svg, size).into_drawing_area(),
                grid_rows,
                &sizes,
            )?;
            // plotters-svg writes embedded bitmaps (heat maps) as `data:png;base64,...`, which
            // is not a MIME type; browsers and Inkscape want `data:image/png`.
            let svg = svg.replace("href=\"data:png;base64,", "href=\"data:image/png;base64,");
            fs::write(&tmp, svg).map_err(|e| format!("writing {}: {e}", tmp.display()))
        }
    }))
    .unwrap_or_else(|panic| Err(format!("plotters panicked: {}", panic_text(&*panic))));
    if let Err(message) = rendered {
        let _ = fs::remove_file(&tmp);
        return Err(draw_err(message));
    }
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        PlotError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// The message of a caught panic, when it is text.
fn panic_text(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

/// `"<path>.<pid>.tmp.png"` or `.tmp.svg` (processes sharing a run directory may draw the same
/// figure).
fn tmp_path(path: &Path, format: Format) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    let ext = match format {
        Format::Png => "png",
        Format::Svg => "svg",
    };
    s.push(format!(".{}.tmp.{ext}", std::process::id()));
    PathBuf::from(s)
}

/// Checks the grid; returns the image size and the number of grid rows.
fn validate_figure(fig: &Figure) -> Result<Checked, String> {
    if fig.panels.is_empty() {
        return Err("figure has no panels".into());
    }
    if fig.n_cols == 0 {
        return Err("n_cols is 0".into());
    }
    let (pw, ph) = fig.panel_size;
    if pw < MIN_PANEL_SIZE.0 || ph < MIN_PANEL_SIZE.1 {
        return Err(format!(
            "panel_size {pw}x{ph} is below the minimum {}x{}",
            MIN_PANEL_SIZE.0, MIN_PANEL_SIZE.1
        ));
    }
    let grid_rows = fig.panels.len().div_ceil(fig.n_cols);
    let w = u64::from(pw) * fig.n_cols as u64;
    let h = u64::from(ph) * grid_rows as u64;
    if w.saturating_mul(h) > MAX_PIXELS || w > u64::from(u32::MAX) || h > u64::from(u32::MAX) {
        return Err(format!(
            "image of {w}x{h} pixels exceeds the limit of {MAX_PIXELS} pixels"
        ));
    }
    Ok(((w as u32, h as u32), grid_rows))
}

/// A drawing area of any backend, in pixel coordinates.
pub(crate) type Area<DB> = DrawingArea<DB, Shift>;

/// Formats a plotters error (or any error) as text for [`PlotError::Draw`].
pub(crate) fn de<E: Display>(e: E) -> String {
    e.to_string()
}

fn render<DB: DrawingBackend>(
    fig: &Figure,
    root: Area<DB>,
    grid_rows: usize,
    sizes: &style::Sizes,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(de)?;
    let body = if fig.title.trim().is_empty() {
        root.clone()
    } else {
        titled(&root, &fig.title, sizes.figure_title, sizes)?
    };
    // One legend below the grid for the line panels that have the same series.
    let shared = lines::shared_legend(&fig.panels);
    let (grid, legend) = match &shared {
        Some(labels) => {
            let band = lines::figure_legend_height(&body, labels, sizes)?;
            let (_, h) = body.dim_in_pixel();
            let (grid, legend) = body.split_vertically(h.saturating_sub(band));
            (grid, Some(legend))
        }
        None => (body, None),
    };
    let cells = grid.split_evenly((grid_rows, fig.n_cols));
    for (panel, cell) in fig.panels.iter().zip(cells.iter()) {
        match panel {
            Panel::Raster(r) => raster::draw(r, cell, sizes)?,
            Panel::Lines(l) => {
                let own_legend = shared.as_ref() != Some(&lines::labels_of(l));
                lines::draw(l, cell, sizes, own_legend)?
            }
        }
    }
    if let (Some(labels), Some(area)) = (&shared, &legend) {
        lines::draw_figure_legend(area, labels, &fig.panels, sizes)?;
    }
    root.present().map_err(de)
}

/// Draws `text` centred at the top of `area`, shrinking the font (down to a floor) until it
/// fits the width and cutting it short with an ellipsis if even that is too wide; returns the
/// area below it. Empty text takes no room.
pub(crate) fn titled<DB: DrawingBackend>(
    area: &Area<DB>,
    text: &str,
    max_size: u32,
    sizes: &style::Sizes,
) -> Result<Area<DB>, String> {
    if text.trim().is_empty() {
        return Ok(area.clone());
    }
    let avail = area.dim_in_pixel().0.saturating_sub(2 * sizes.px(3.0));
    let width = |t: &str, size: u32| -> Result<u32, String> {
        let style = (font::FAMILY, size).into_text_style(area);
        Ok(area.estimate_text_size(t, &style).map_err(de)?.0)
    };
    let mut size = max_size;
    while size > sizes.min_title && width(text, size)? > avail {
        size -= 1;
    }
    let mut shown = text.to_string();
    if width(&shown, size)? > avail {
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            shown = chars.iter().collect::<String>() + "\u{2026}";
            if width(&shown, size)? <= avail {
                break;
            }
        }
    }
    let top = sizes.px(2.0) as i32;
    let (w, _) = area.dim_in_pixel();
    area.draw(&Text::new(
        shown,
        (w as i32 / 2, top),
        (font::FAMILY, size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Top)),
    ))
    .map_err(de)?;
    // The text line (descenders included) and a little air below.
    Ok(area.margin(top as u32 + size + sizes.px(1.0), 0, 0, 0))
}

/// Width in pixels of the widest of `labels` set at `size`.
pub(crate) fn label_width<DB: DrawingBackend>(
    area: &Area<DB>,
    labels: impl Iterator<Item = String>,
    size: u32,
) -> Result<u32, String> {
    let font = (font::FAMILY, size).into_text_style(area);
    let mut widest = 0;
    for label in labels {
        widest = widest.max(area.estimate_text_size(&label, &font).map_err(de)?.0);
    }
    Ok(widest)
}

/// Sizes that scale with the figure, and the colours shared by the panels.
pub(crate) mod style {
    use plotters::style::RGBColor;

    /// 18 cm in points: the print width the sizes are chosen for.
    pub const PRINT_WIDTH_PT: f64 = 180.0 / 25.4 * 72.0;
    /// Smallest pixels per point, so that small images keep legible text on screen.
    pub const MIN_UNIT: f64 = 1.4;
    /// plotters' font size is the line height of DejaVu Sans, 1.164 em.
    pub const EM_TO_SIZE: f64 = 1.164;

    /// Font sizes (plotters' font size, in pixels) and line sizes of one figure.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Sizes {
        /// Pixels per point when the image is printed 18 cm wide (at least [`MIN_UNIT`]).
        pub unit: f64,
        /// Figure title.
        pub figure_title: u32,
        /// Panel titles.
        pub panel_title: u32,
        /// Smallest size a too-long title is shrunk to.
        pub min_title: u32,
        /// Axis descriptions ("time (ms)").
        pub axis_desc: u32,
        /// Tick labels and heat-map cell labels.
        pub tick: u32,
        /// Legend and reference-line labels.
        pub legend: u32,
        /// Width of series lines.
        pub line: u32,
        /// Marker radius.
        pub marker: i32,
    }

    impl Sizes {
        /// The sizes for an image `width` pixels wide.
        pub fn for_width(width: u32) -> Self {
            let unit = (f64::from(width) / PRINT_WIDTH_PT).max(MIN_UNIT);
            let font = |pt: f64| (pt * unit * EM_TO_SIZE).ceil() as u32;
            Self {
                unit,
                figure_title: font(10.0),
                panel_title: font(9.0),
                min_title: font(6.5),
                axis_desc: font(8.5),
                tick: font(8.0),
                legend: font(7.5),
                line: ((0.8 * unit).round() as u32).max(2),
                marker: ((1.3 * unit).round() as i32).max(3),
            }
        }

        /// `pt` points in pixels (at least 1).
        pub fn px(&self, pt: f64) -> u32 {
            ((pt * self.unit).round() as u32).max(1)
        }

        /// The em size in points at 18 cm print width of a font of plotters size `size`.
        #[cfg(test)]
        pub fn points(&self, size: u32) -> f64 {
            f64::from(size) / EM_TO_SIZE / self.unit
        }
    }

    /// Axis lines and tick marks.
    pub const AXIS: RGBColor = RGBColor(60, 60, 60);
    /// Grid lines of line panels.
    pub const GRID: RGBColor = RGBColor(228, 228, 228);
    /// Reference lines and their labels.
    pub const REFERENCE: RGBColor = RGBColor(95, 95, 95);

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn text_is_at_least_8_pt_at_print_width() {
            for width in [1000, 1120, 1440, 1680, 2000] {
                let s = Sizes::for_width(width);
                // The unit is exact above the floor: points are print points.
                assert!((s.unit - f64::from(width) / PRINT_WIDTH_PT).abs() < 1e-9);
                for (name, size) in [("tick", s.tick), ("axis", s.axis_desc)] {
                    let pt = s.points(size);
                    assert!(pt >= 7.9, "{name} labels {pt:.1} pt at width {width}");
                }
                assert!(s.points(s.legend) >= 7.4);
            }
            // Small images keep a legible floor.
            assert!(Sizes::for_width(300).tick >= 12);
        }
    }
}
