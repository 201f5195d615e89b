//! Tick positions and tick labels, computed here rather than by plotters so that linear and
//! logarithmic axes (drawn as log10 on a linear axis) look alike and sub-decade log ranges
//! still get ticks.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;

/// A linear f64 axis over `[lo, hi]` whose ticks (and grid lines) are exactly the given
/// positions; labels come from the chart's label formatter.
pub(crate) struct Axis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Axis {
    /// An axis over `[lo, hi]` with ticks at `ticks`.
    pub(crate) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self {
            inner: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

/// "Nice" ticks (multiples of 1, 2 or 5 times a power of ten) inside `[lo, hi]`, about
/// `target` of them. Returns the ticks and the step.
pub(crate) fn linear(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let span = hi - lo;
    if span.is_nan() || span <= 0.0 || span.is_infinite() {
        return (vec![lo], 1.0);
    }
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    // The multiple nearest to the raw step on a log scale.
    let norm = raw / mag;
    let m = if norm < 2f64.sqrt() {
        1.0
    } else if norm < 10f64.sqrt() {
        2.0
    } else if norm < 50f64.sqrt() {
        5.0
    } else {
        10.0
    };
    let step = m * mag;
    let k0 = (lo / step - 1e-9).ceil() as i64;
    let k1 = (hi / step + 1e-9).floor() as i64;
    let ticks = (k0..=k1)
        .take(200)
        .map(|k| {
            let v = k as f64 * step;
            if v.abs() < step * 1e-9 { 0.0 } else { v }
        })
        .collect();
    (ticks, step)
}

/// Ticks for a log10 axis spanning `[a, b]` (both log10 of data values), as log10 positions.
///
/// The densest of these sets with at most `target + 1` ticks inside the range: whole decades
/// (every n-th when there are too many), then 1-2-5, 1-2-3-5 and 1..9 times the decades; a
/// range too narrow for two of those (less than a factor ~1.3) gets nice linear ticks of the
/// data values. So data near 0.003 on an axis from 0.002 to 0.08 get ticks at 0.003 and 0.005,
/// not only at the decades.
pub(crate) fn log10(a: f64, b: f64, target: usize) -> Vec<f64> {
    let target = target.max(2);
    if !(a.is_finite() && b.is_finite()) || b <= a {
        return vec![a];
    }
    let (k0, k1) = ((a - 1e-9).floor() as i64, (b + 1e-9).ceil() as i64);
    let within = |p: &f64| *p >= a - 1e-9 && *p <= b + 1e-9;
    let with = |mantissas: &[f64]| -> Vec<f64> {
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| k as f64 + m.log10()))
            .filter(within)
            .collect()
    };
    let decades = with(&[1.0]);
    if decades.len() > target {
        let stride = decades.len().div_ceil(target);
        return decades.into_iter().step_by(stride).collect();
    }
    let sets: [&[f64]; 3] = [
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let mut best = decades;
    for set in sets {
        let ticks = with(set);
        // A denser set when it fits, or when fewer than three ticks would be shown and the
        // denser set is not much more than asked for.
        if ticks.len() <= target + 1
            || best.len() < 2
            || (best.len() < 3 && ticks.len() <= target + 3)
        {
            best = ticks;
        } else {
            break;
        }
    }
    if best.len() >= 2 {
        return thin_log(best, 0.6 * (b - a) / target as f64);
    }
    let (lo, hi) = (10f64.powf(a), 10f64.powf(b));
    let (vals, _) = linear(lo, hi, target);
    vals.into_iter()
        .filter(|v| *v > 0.0)
        .map(f64::log10)
        .collect()
}

/// Drops ticks (log10 positions) that would sit closer than `min_gap` to a kept one, keeping
/// the most important first: decades, then mantissas 5, 2, 3, then the rest. On a log axis the
/// ticks 1..9 crowd towards each decade's top (0.008, 0.009, 0.01), and their labels overlap
/// there although the count fits.
fn thin_log(ticks: Vec<f64>, min_gap: f64) -> Vec<f64> {
    let rank = |p: f64| {
        let m = 10f64.powf(p - p.floor()).round() as i64;
        match m {
            1 | 10 => 0,
            5 => 1,
            2 => 2,
            3 => 3,
            _ => 4,
        }
    };
    let mut order = ticks.clone();
    order.sort_by_key(|p| rank(*p));
    let mut kept: Vec<f64> = Vec::with_capacity(ticks.len());
    for p in order {
        if kept.iter().all(|k| (k - p).abs() >= min_gap - 1e-9) {
            kept.push(p);
        }
    }
    kept.sort_by(f64::total_cmp);
    kept
}

/// Decimal places that show every tick of a linear axis with step `step` exactly.
pub(crate) fn decimals_for(step: f64) -> usize {
    if step >= 1.0 || !step.is_finite() || step <= 0.0 {
        0
    } else {
        ((-step.log10().floor()) as usize).min(9)
    }
}

/// A label for a tick of a linear axis whose ticks are `step` apart. Plain notation with
/// fixed decimals for everyday magnitudes, scientific notation for large or tiny ones.
pub(crate) fn fmt_linear(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let big = v.abs() >= 1e5 || (step < 1e-4 && v.abs() < 1e-3);
    if big {
        // Digits of the mantissa needed to tell neighbouring ticks apart.
        let digits = (v.abs().log10().floor() - step.log10().floor()).clamp(0.0, 6.0) as usize;
        trim_sci(&format!("{v:.digits$e}"))
    } else {
        let d = decimals_for(step);
        format!("{v:.d$}")
    }
}

/// A label for an arbitrary value with up to 4 significant digits (log axes, colour bars).
pub(crate) fn fmt_sig(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0".into() } else { format!("{v}") };
    }
    let a = v.abs();
    if (1e-3..1e5).contains(&a) {
        let d = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        trim_fixed(&format!("{v:.d$}"))
    } else {
        trim_sci(&format!("{v:.2e}"))
    }
}

/// `"2.500"` -> `"2.5"`, `"3.000"` -> `"3"`.
fn trim_fixed(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

/// `"2.50e5"` -> `"2.5e5"`, `"1.00e-3"` -> `"1e-3"`.
fn trim_sci(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => format!("{}e{e}", trim_fixed(m)),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice() {
        let (t, step) = linear(0.0, 1250.0, 6);
        assert_eq!(step, 200.0);
        assert_eq!(t, vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0, 1200.0]);
        let (t, step) = linear(-0.07, 0.31, 4);
        assert_eq!(step, 0.1);
        let labels: Vec<String> = t.iter().map(|v| fmt_linear(*v, step)).collect();
        assert_eq!(labels, ["0", "0.1", "0.2", "0.3"]);
        assert_eq!(linear(2.0, 2.0, 5).0, vec![2.0]);
    }

    #[test]
    fn log_ticks() {
        let t = log10(-3.2, 2.1, 6);
        assert_eq!(t, vec![-3.0, -2.0, -1.0, 0.0, 1.0, 2.0]);
        // Within one decade: linear ticks of the values.
        let t = log10(2f64.log10(), 8f64.log10(), 4);
        assert!(t.len() >= 2, "{t:?}");
        assert!(
            t.iter()
                .all(|p| *p >= 2f64.log10() - 1e-9 && *p <= 8f64.log10() + 1e-9)
        );
        let labels = |a: f64, b: f64, target| -> Vec<String> {
            log10(a, b, target)
                .iter()
                .map(|p| fmt_sig(10f64.powf(*p)))
                .collect()
        };
        assert_eq!(
            labels(-1.0, 1.0, 6),
            ["0.1", "0.2", "0.5", "1", "2", "5", "10"]
        );
        assert_eq!(labels(-1.0, 1.0, 3), ["0.1", "1", "10"]);
        // Many decades, few ticks: every other decade.
        assert_eq!(labels(-6.0, 2.0, 5), ["1e-6", "1e-4", "0.01", "1", "100"]);
    }

    #[test]
    fn log_ticks_inside_the_data_range() {
        // Replay MSE: data from 0.0027 to 0.085 (the axis a little wider). Ticks below 0.01,
        // where most of the data lie, not only the decade.
        let (lo, hi) = (0.0027f64, 0.085f64);
        let pad = (hi.log10() - lo.log10()) * 0.06;
        let t: Vec<f64> = log10(lo.log10() - pad, hi.log10() + pad, 6)
            .iter()
            .map(|p| 10f64.powf(*p))
            .collect();
        assert!(t.len() >= 4 && t.len() <= 7, "{t:?}");
        let labels: Vec<String> = t.iter().map(|v| fmt_sig(*v)).collect();
        assert!(labels.contains(&"0.003".to_string()), "{labels:?}");
        assert!(labels.contains(&"0.005".to_string()), "{labels:?}");
        // Data within a narrow band around 0.003 still get at least two ticks inside it.
        for (lo, hi) in [
            (0.0026, 0.0036),
            (0.0029, 0.0032),
            (2.1e-3, 9.5e-3),
            (0.011, 0.9),
        ] {
            let inside = log10(f64::log10(lo), f64::log10(hi), 6)
                .iter()
                .map(|p| 10f64.powf(*p))
                .filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9))
                .count();
            assert!(inside >= 2, "{lo}..{hi}: {inside} ticks inside");
        }
    }

    #[test]
    fn log_ticks_do_not_crowd_below_a_decade() {
        // Replay MSE from 0.0048 to 0.0155 on a short axis (6 labels fit if evenly spaced):
        // 0.009 would sit almost on 0.01 and is dropped; the decade and 0.005 stay.
        let labels: Vec<String> = log10(0.0048f64.log10(), 0.0155f64.log10(), 6)
            .iter()
            .map(|p| fmt_sig(10f64.powf(*p)))
            .collect();
        assert!(labels.contains(&"0.01".to_string()), "{labels:?}");
        assert!(labels.contains(&"0.005".to_string()), "{labels:?}");
        assert!(!labels.contains(&"0.009".to_string()), "{labels:?}");
        let t = log10(0.0048f64.log10(), 0.0155f64.log10(), 6);
        let even = (0.0155f64.log10() - 0.0048f64.log10()) / 6.0;
        assert!(
            t.windows(2).all(|w| w[1] - w[0] >= 0.6 * even - 1e-9),
            "{labels:?}"
        );
    }

    #[test]
    fn labels() {
        assert_eq!(fmt_linear(-0.0, 0.5), "0");
        assert_eq!(fmt_linear(1.5, 0.5), "1.5");
        assert_eq!(fmt_linear(3.0 * 0.1, 0.1), "0.3");
        assert_eq!(fmt_linear(400000.0, 200000.0), "4e5");
        assert_eq!(fmt_linear(250000.0, 50000.0), "2.5e5");
        assert_eq!(fmt_sig(0.0020000000000000005), "0.002");
        assert_eq!(fmt_sig(13.0), "13");
        assert_eq!(fmt_sig(1e-5), "1e-5");
        assert_eq!(fmt_sig(-65.25), "-65.25");
    }
}
