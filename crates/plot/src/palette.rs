//! How the series of a lines panel are told apart: colour, dash pattern and marker shape.
//!
//! Colours: the Okabe-Ito palette (safe for the common colour-vision deficiencies) without its
//! yellow, which is too light on white, followed by three colours of Paul Tol's "muted" scheme
//! (indigo, wine, olive), his bright red and light pear, and a brown: 13 colours, every pair
//! at least 26 apart in CIELAB, before the cycle repeats. Dash patterns (4) and
//! marker shapes (5) cycle with other periods, so every series of a panel with up to 52 series
//! differs from every other in colour or pattern, and two series drawn on top of each other
//! stay visible: the later one is dashed where the earlier is solid, and both keep their
//! markers.

use plotters::style::RGBColor;

/// Series colours, in order of use.
pub(crate) const COLORS: [RGBColor; 13] = [
    RGBColor(0, 114, 178),   // Okabe-Ito blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
    RGBColor(51, 34, 136),   // Tol muted indigo
    RGBColor(136, 34, 85),   // wine
    RGBColor(153, 153, 51),  // olive
    RGBColor(238, 102, 119), // Tol bright red
    RGBColor(187, 204, 51),  // Tol light pear
    RGBColor(140, 86, 75),   // brown
];

/// Dash patterns as (on, off) lengths in line widths; empty = solid.
const DASHES: [&[f64]; 4] = [&[], &[5.0, 2.5], &[1.2, 1.8], &[5.0, 2.0, 1.2, 2.0]];

/// Marker shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
}

const MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
];

/// The look of series `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SeriesStyle {
    pub color: RGBColor,
    /// (on, off, on, off, ...) in line widths; empty = solid.
    pub dash: &'static [f64],
    pub marker: Marker,
}

pub(crate) fn series_style(k: usize) -> SeriesStyle {
    SeriesStyle {
        color: COLORS[k % COLORS.len()],
        dash: DASHES[k % DASHES.len()],
        marker: MARKERS[k % MARKERS.len()],
    }
}

/// The vertices of `marker` of radius `r` around (0, 0), in pixels (a circle is `None`).
pub(crate) fn marker_polygon(marker: Marker, r: i32) -> Option<Vec<(i32, i32)>> {
    let h = (f64::from(r) * 1.15).round() as i32;
    match marker {
        Marker::Circle => None,
        Marker::Square => Some(vec![(-r, -r), (r, -r), (r, r), (-r, r)]),
        Marker::TriangleUp => Some(vec![(0, -h), (h, r), (-h, r)]),
        Marker::TriangleDown => Some(vec![(0, h), (h, -r), (-h, -r)]),
        Marker::Diamond => Some(vec![(0, -h), (h, 0), (0, h), (-h, 0)]),
    }
}

/// Splits a polyline into its dashes. Lengths are measured in pixels: a point `(x, y)` is
/// `(x * sx, y * sy)` pixels; `pattern` holds (on, off, ...) lengths in pixels. An empty
/// pattern returns the polyline unchanged.
pub(crate) fn dash_polyline(
    points: &[(f64, f64)],
    pattern: &[f64],
    sx: f64,
    sy: f64,
) -> Vec<Vec<(f64, f64)>> {
    if pattern.is_empty() || pattern.iter().sum::<f64>() <= 0.0 || points.len() < 2 {
        return vec![points.to_vec()];
    }
    let mut out = Vec::new();
    let mut cur: Vec<(f64, f64)> = vec![points[0]];
    let (mut idx, mut left) = (0usize, pattern[0]);
    for w in points.windows(2) {
        let (p, q) = (w[0], w[1]);
        let len = ((q.0 - p.0) * sx).hypot((q.1 - p.1) * sy);
        let mut t = 0.0;
        while len > 0.0 && (len - t) > left {
            t += left;
            let f = t / len;
            let at = (p.0 + (q.0 - p.0) * f, p.1 + (q.1 - p.1) * f);
            if idx % 2 == 0 {
                cur.push(at);
                out.push(std::mem::take(&mut cur));
            } else {
                cur = vec![at];
            }
            idx = (idx + 1) % pattern.len();
            left = pattern[idx];
        }
        left -= len - t;
        if idx % 2 == 0 {
            cur.push(q);
        }
    }
    if idx % 2 == 0 && cur.len() >= 2 {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CIE L*a*b* of an sRGB colour (D65).
    fn lab(c: RGBColor) -> (f64, f64, f64) {
        let lin = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.04045 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        let (r, g, b) = (lin(c.0), lin(c.1), lin(c.2));
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
        let f = |t: f64| {
            if t > 0.008856 {
                t.cbrt()
            } else {
                7.787 * t + 16.0 / 116.0
            }
        };
        (
            116.0 * f(y) - 16.0,
            500.0 * (f(x) - f(y)),
            200.0 * (f(y) - f(z)),
        )
    }

    #[test]
    fn twelve_plus_distinct_colours() {
        // Every pair of the 13 colours differs clearly (CIE76 distance), and none is too
        // light to see on white.
        for (i, a) in COLORS.iter().enumerate() {
            let la = lab(*a);
            assert!(la.0 < 85.0, "colour {i} too light");
            for (j, b) in COLORS.iter().enumerate().skip(i + 1) {
                let lb = lab(*b);
                let d =
                    ((la.0 - lb.0).powi(2) + (la.1 - lb.1).powi(2) + (la.2 - lb.2).powi(2)).sqrt();
                assert!(d > 20.0, "colours {i} and {j} are too close: {d:.1}");
            }
        }
    }

    #[test]
    fn styles_of_a_panel_differ() {
        // Up to 52 series: every pair differs in colour or dash pattern.
        let styles: Vec<SeriesStyle> = (0..52).map(series_style).collect();
        for i in 0..styles.len() {
            for j in i + 1..styles.len() {
                assert!(
                    styles[i].color != styles[j].color || styles[i].dash != styles[j].dash,
                    "series {i} and {j} look alike"
                );
            }
        }
        // Neighbours differ in colour, dash and marker.
        for k in 0..20 {
            let (a, b) = (series_style(k), series_style(k + 1));
            assert!(a.color != b.color && a.dash != b.dash && a.marker != b.marker);
        }
    }

    #[test]
    fn dashes() {
        // A 10 px line with 2 on / 1 off: dashes at 0-2, 3-5, 6-8, 9-10.
        let d = dash_polyline(&[(0.0, 0.0), (10.0, 0.0)], &[2.0, 1.0], 1.0, 1.0);
        assert_eq!(d.len(), 4);
        assert_eq!(d[0], vec![(0.0, 0.0), (2.0, 0.0)]);
        assert_eq!(d[3], vec![(9.0, 0.0), (10.0, 0.0)]);
        // Dashes run on across vertices, in pixel lengths.
        let d = dash_polyline(&[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], &[3.0, 1.0], 2.0, 2.0);
        assert_eq!(d[0], vec![(0.0, 0.0), (1.0, 0.0), (1.0, 0.5)]);
        assert_eq!(d.len(), 1, "the last pixel is a gap");
        // Solid: unchanged.
        let pts = [(0.0, 0.0), (1.0, 1.0)];
        assert_eq!(dash_polyline(&pts, &[], 1.0, 1.0), vec![pts.to_vec()]);
    }
}
