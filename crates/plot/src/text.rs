//! Text on the PNG backend, set by this crate instead of plotters.
//!
//! plotters' ab_glyph renderer (0.3.7) draws each glyph at its pen position without the glyph's
//! left side bearing, so glyphs with a wide bearing ("1", "i", "r") are drawn too far left and
//! leave a visible gap after them ("seed 1 2345", "criter ion"); and it puts the baseline half
//! a font size below the top of the text box, so text sits about a quarter of its size too
//! high. [`TextFix`] wraps a backend and draws text itself with ab_glyph (each glyph's coverage
//! at its outline's pixel bounds, the baseline where the SVG backend puts it), passing
//! everything else through unchanged. The text box (width and height) stays plotters' estimate,
//! so layout is the same on every backend.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
};

/// Baseline below the top of plotters' text box (of height `size / 1.24`), as a fraction of the
/// font size: centres digits on a `VPos::Center` anchor.
const BASELINE: f32 = 0.716;

/// A backend whose text is drawn by [`draw_text`](DrawingBackend::draw_text) below.
pub(crate) struct TextFix<DB> {
    inner: DB,
    font: FontRef<'static>,
}

impl<DB> TextFix<DB> {
    /// Wraps `inner`; fails if the embedded font does not parse.
    pub(crate) fn new(inner: DB) -> Result<Self, String> {
        let font = FontRef::try_from_slice(crate::font::DEJAVU_SANS)
            .map_err(|e| format!("the embedded font DejaVuSans.ttf could not be parsed: {e}"))?;
        Ok(Self { inner, font })
    }
}

impl<DB: DrawingBackend> DrawingBackend for TextFix<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.present()
    }
    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let Self { inner, font } = self;
        let size = style.size() as f32;
        let scale = PxScale::from(size);
        let scaled = font.as_scaled(scale);
        let baseline = BASELINE * size;
        // Pen positions as in plotters' size estimate: advances plus kerning.
        let mut glyphs = Vec::with_capacity(text.len());
        let mut pen = 0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                pen += scaled.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scale, point(pen, baseline)));
            pen += scaled.h_advance(id);
            prev = Some(id);
        }
        let width = pen as i32;
        let height = (style.size() / 1.24) as i32;
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = inner.get_size();
        let mut result = Ok(());
        for glyph in glyphs {
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (bx, by) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|gx, gy, coverage| {
                if result.is_err() || coverage <= 0.0 {
                    return;
                }
                let (x, y) = trans.transform(bx + gx as i32 + dx, by + gy as i32 + dy);
                let (x, y) = (pos.0 + x, pos.1 + y);
                if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                    result = inner.draw_pixel(
                        (x, y),
                        BackendColor {
                            alpha: color.alpha * f64::from(coverage.min(1.0)),
                            rgb: color.rgb,
                        },
                    );
                }
            });
            result?;
            result = Ok(());
        }
        Ok(())
    }
}
