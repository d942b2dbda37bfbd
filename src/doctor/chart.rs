//! Inline SVG line charts for the HTML report: one signal over the window, with its scale,
//! an optional threshold line and an optional fitted trend line. No script, no external asset.

use std::fmt::Write as _;

use super::report_html::escape;
use super::{Trend, Unit};

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 26.0;

/// What to draw besides the series.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extras {
    /// A horizontal line at this value, labelled, e.g. the rule's threshold.
    pub(crate) threshold: Option<(f64, &'static str)>,
    /// The least-squares line through the points.
    pub(crate) trend: Option<Trend>,
    /// The y axis starts at zero (rates, ratios, delays) rather than near the data (levels).
    pub(crate) from_zero: bool,
    /// A fixed top of the y axis (1 for ratios).
    pub(crate) max: Option<f64>,
    /// Stroke colour of the series.
    pub(crate) color: &'static str,
}

/// Appends an `<svg>` line chart of `(seconds, value)` points over `0..=window` seconds.
pub(crate) fn line_chart(
    out: &mut String,
    label: &str,
    points: &[(f64, f64)],
    window: f64,
    unit: Unit,
    extras: &Extras,
) {
    let (lo, hi, step) = axis(points, extras, unit);
    let x = |t: f64| LEFT + (t / window.max(1e-9)).clamp(0.0, 1.0) * (WIDTH - LEFT - RIGHT);
    let y = |v: f64| TOP + (1.0 - (v - lo) / (hi - lo)) * (HEIGHT - TOP - BOTTOM);
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(label)
    );
    // Grid and y labels at round values.
    let ticks = ((hi - lo) / step).round() as u32;
    for i in 0..=ticks {
        let v = lo + step * f64::from(i);
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            WIDTH - RIGHT,
            LEFT - 8.0,
            yy + 4.0,
            escape(&tick_label(unit, v))
        );
    }
    // X labels: start, middle, end of the window.
    for (t, anchor) in [(0.0, "start"), (window / 2.0, "middle"), (window, "end")] {
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{} s</text>"#,
            x(t),
            HEIGHT - 8.0,
            trim_float(t)
        );
    }
    if let Some((value, name)) = extras.threshold {
        if value > lo && value < hi {
            let yy = y(value);
            let _ = write!(
                out,
                r#"<line class="threshold" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="threshold-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                WIDTH - RIGHT,
                WIDTH - RIGHT - 4.0,
                yy - 4.0,
                escape(name)
            );
        }
    }
    if points.is_empty() {
        let _ = write!(
            out,
            r#"<text class="empty" x="{:.1}" y="{:.1}" text-anchor="middle">no data</text>"#,
            (LEFT + WIDTH - RIGHT) / 2.0,
            HEIGHT / 2.0
        );
    } else {
        let mut line = String::new();
        for (i, (t, v)) in points.iter().enumerate() {
            let _ = write!(
                line,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                x(*t),
                y(*v)
            );
        }
        let base = y(lo);
        let (first, last) = (points[0].0, points[points.len() - 1].0);
        let _ = write!(
            out,
            r#"<path class="area" fill="{color}" d="{line} L{:.1},{base:.1} L{:.1},{base:.1} Z"/><path class="series" stroke="{color}" d="{line}"/>"#,
            x(last),
            x(first),
            color = extras.color,
        );
        if let Some(trend) = extras.trend {
            let n = points.len() as f64;
            let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
            let mean_v = points.iter().map(|p| p.1).sum::<f64>() / n;
            let at = |t: f64| (mean_v + trend.slope_per_second * (t - mean_t)).clamp(lo, hi);
            let _ = write!(
                out,
                r#"<line class="trend" x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}"/>"#,
                x(first),
                y(at(first)),
                x(last),
                y(at(last))
            );
        }
    }
    out.push_str("</svg>");
}

/// The y axis: from zero or from just below the data, to just above it, never empty.
fn y_range(points: &[(f64, f64)], extras: &Extras) -> (f64, f64) {
    let (mut lo, mut hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if let Some((threshold, _)) = extras.threshold {
        // Show the threshold when the data comes anywhere near it.
        if threshold <= hi * 1.5 || extras.from_zero {
            hi = hi.max(threshold * 1.1);
        }
    }
    if extras.from_zero {
        lo = lo.min(0.0);
    } else {
        let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.01);
        lo = (lo - pad).max(0.0);
        hi += pad;
    }
    if let Some(max) = extras.max {
        hi = hi.max(max);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    (lo, hi)
}

/// The y axis as `(low, high, tick step)`, widened to round ticks: multiples of 1, 2, 2.5 or 5
/// times a power of ten (of 1024 for bytes, so labels read `120 MiB`, `125 MiB`), whole numbers
/// for counts.
fn axis(points: &[(f64, f64)], extras: &Extras, unit: Unit) -> (f64, f64, f64) {
    let (lo, hi) = y_range(points, extras);
    let base = match unit {
        Unit::Bytes | Unit::BytesPerSecond => {
            let mut base = 1.0;
            while hi.abs().max(lo.abs()) >= base * 1024.0 && base < 1024f64.powi(4) {
                base *= 1024.0;
            }
            base
        }
        _ => 1.0,
    };
    let mut step = nice((hi - lo) / base / 4.0) * base;
    if unit == Unit::Count {
        step = step.max(1.0);
    }
    let lo = (lo / step).floor() * step;
    let mut hi = (hi / step).ceil() * step;
    if hi - lo < step {
        hi = lo + step;
    }
    (lo, hi, step)
}

/// The round number (1, 2, 2.5 or 5 times a power of ten) at or above `x`.
fn nice(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    let fraction = x / magnitude;
    let round = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|r| fraction <= *r + 1e-9)
        .unwrap_or(10.0);
    round * magnitude
}

/// An axis label: the unit's format without a pointless `.0` (`75 ms`, not `75.0 ms`).
fn tick_label(unit: Unit, v: f64) -> String {
    let text = unit.format(v);
    match text.split_once(' ') {
        Some((number, rest)) if number.ends_with(".0") => {
            format!("{} {rest}", number.trim_end_matches(".0"))
        }
        _ if text.ends_with(".0") => text.trim_end_matches(".0").to_owned(),
        _ => text,
    }
}

/// `3`, `1.5`, `0.25`: seconds without trailing zeros.
fn trim_float(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_one_svg_element_with_a_path() {
        let mut out = String::new();
        let points = [(0.1, 1.0), (0.2, 3.0), (0.3, 2.0)];
        let extras = Extras {
            threshold: Some((2.5, "threshold")),
            color: "#2563eb",
            ..Extras::default()
        };
        line_chart(&mut out, "x < y", &points, 0.3, Unit::Count, &extras);
        assert!(out.starts_with("<svg") && out.ends_with("</svg>"));
        assert!(out.contains("x &lt; y"));
        assert!(out.contains(r#"class="series""#));
        assert!(out.contains(r#"class="threshold""#));
        assert_eq!(trim_float(3.0), "3");
        assert_eq!(nice(22.0), 25.0);
        assert_eq!(tick_label(Unit::Milliseconds, 75.0), "75 ms");
        assert_eq!(tick_label(Unit::Ratio, 0.25), "0.25");
        assert_eq!(nice(0.07), 0.1);
        let (lo, hi, step) = axis(&[(0.0, 4.0), (1.0, 4.0)], &Extras::default(), Unit::Count);
        assert_eq!((lo, hi, step), (3.0, 5.0, 1.0));
        let mib = 1024.0 * 1024.0;
        let (_, _, step) = axis(
            &[(0.0, 121.0 * mib), (1.0, 141.0 * mib)],
            &Extras::default(),
            Unit::Bytes,
        );
        assert_eq!(step, 10.0 * mib); // labels 110 MiB, 120 MiB, ...
        assert_eq!(trim_float(1.5), "1.5");
    }

    #[test]
    fn empty_and_flat_series_still_have_a_scale() {
        let (lo, hi) = y_range(&[], &Extras::default());
        assert!(lo == 0.0 && hi >= 1.0);
        let (lo, hi) = y_range(&[(0.0, 5.0), (1.0, 5.0)], &Extras::default());
        assert!(lo < 5.0 && hi > 5.0);
    }
}
