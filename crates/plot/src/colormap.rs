//! A viridis-like sequential colour map: dark purple through blue and green to yellow,
//! perceptually ordered and readable in grey scale. Nine anchor colours sampled from viridis,
//! linearly interpolated in sRGB.

use plotters::style::RGBColor;

const ANCHORS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 45, 123),
    (59, 82, 139),
    (44, 114, 142),
    (33, 145, 140),
    (40, 174, 128),
    (94, 201, 98),
    (173, 220, 48),
    (253, 231, 37),
];

/// Colour of cells whose value is NaN.
pub(crate) const NAN_COLOR: RGBColor = RGBColor(205, 205, 205);

/// Colour at `t` in `[0, 1]` (clamped); NaN gives [`NAN_COLOR`].
pub(crate) fn at(t: f64) -> RGBColor {
    if t.is_nan() {
        return NAN_COLOR;
    }
    let pos = t.clamp(0.0, 1.0) * (ANCHORS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(ANCHORS.len() - 2);
    let f = pos - i as f64;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Position of `v` on the map for the scale `[vmin, vmax]`, clamped to `[0, 1]`; NaN stays
/// NaN. A degenerate scale (`vmin == vmax`) sends values `<= vmin` to 0 and others to 1.
pub(crate) fn normalize(v: f64, vmin: f64, vmax: f64) -> f64 {
    if v.is_nan() {
        f64::NAN
    } else if vmax > vmin {
        ((v - vmin) / (vmax - vmin)).clamp(0.0, 1.0)
    } else if v <= vmin {
        0.0
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_clamping() {
        assert_eq!(at(0.0), RGBColor(68, 1, 84));
        assert_eq!(at(1.0), RGBColor(253, 231, 37));
        assert_eq!(at(-3.0), at(0.0));
        assert_eq!(at(7.0), at(1.0));
        assert_eq!(at(f64::NAN), NAN_COLOR);
        assert_eq!(normalize(5.0, 0.0, 10.0), 0.5);
        assert_eq!(normalize(f64::INFINITY, 0.0, 10.0), 1.0);
        assert_eq!(normalize(1.0, 1.0, 1.0), 0.0);
        assert_eq!(normalize(2.0, 1.0, 1.0), 1.0);
    }

    #[test]
    fn luminance_increases() {
        let lum = |c: RGBColor| {
            0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)
        };
        let mut prev = -1.0;
        for k in 0..=100 {
            let l = lum(at(f64::from(k) / 100.0));
            assert!(l >= prev, "luminance drops at {k}");
            prev = l;
        }
    }
}
