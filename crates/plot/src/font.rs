//! The embedded font: DejaVu Sans, registered once with plotters' `ab_glyph` font table.

use std::sync::OnceLock;

use plotters::style::FontStyle;

/// Family name the font is registered under; plotters' default styles ask for it too.
pub(crate) const FAMILY: &str = "sans-serif";

/// DejaVu Sans 2.37 (Bitstream Vera licence, see `assets/LICENSE-DejaVu.txt`).
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

static REGISTERED: OnceLock<bool> = OnceLock::new();

/// Registers the embedded font on first use; later calls only return the first outcome.
/// Other styles (bold, italic) fall back to this regular face.
pub(crate) fn ensure_registered() -> Result<(), String> {
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err("the embedded font DejaVuSans.ttf could not be parsed".into())
    }
}
