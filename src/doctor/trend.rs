//! Statistics over one signal's samples: the least-squares line through them (its slope and
//! how well it fits, R²) and the usual summary numbers.
//!
//! R² is what tells steady growth from noise: memory that climbs by the same amount every
//! second fits a line almost perfectly (R² near 1), memory that goes up and down around a level
//! does not (R² near 0), whatever its slope happens to be.

/// The least-squares line through `(seconds, value)` points.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Trend {
    /// Change per second.
    pub slope_per_second: f64,
    /// How much of the variation the line explains, 0 to 1; 0 when the values are constant
    /// (nothing to explain, and certainly no growth).
    pub r_squared: f64,
}

impl Trend {
    /// The least-squares line through `points`, or `None` with fewer than two points or when
    /// every point has the same time.
    ///
    /// ```
    /// use stethoscope::doctor::Trend;
    ///
    /// let steady: Vec<(f64, f64)> = (0..10).map(|t| (t as f64, 100.0 + 5.0 * t as f64)).collect();
    /// let trend = Trend::fit(&steady).unwrap();
    /// assert!((trend.slope_per_second - 5.0).abs() < 1e-9);
    /// assert!(trend.r_squared > 0.999);
    /// ```
    pub fn fit(points: &[(f64, f64)]) -> Option<Trend> {
        if points.len() < 2 {
            return None;
        }
        let n = points.len() as f64;
        let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_v = points.iter().map(|p| p.1).sum::<f64>() / n;
        let (mut s_tt, mut s_tv, mut s_vv) = (0.0, 0.0, 0.0);
        for &(t, v) in points {
            let (dt, dv) = (t - mean_t, v - mean_v);
            s_tt += dt * dt;
            s_tv += dt * dv;
            s_vv += dv * dv;
        }
        if s_tt == 0.0 {
            return None;
        }
        let slope = s_tv / s_tt;
        let r_squared = if s_vv == 0.0 {
            0.0
        } else {
            ((s_tv * s_tv) / (s_tt * s_vv)).clamp(0.0, 1.0)
        };
        Some(Trend {
            slope_per_second: slope,
            r_squared,
        })
    }
}

/// Summary numbers of one signal over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SignalSummary {
    /// Samples that had a value.
    pub samples: usize,
    /// Their mean.
    pub mean: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// The first value.
    pub first: f64,
    /// The last value.
    pub last: f64,
    /// The median.
    pub p50: f64,
    /// The 99th percentile (nearest rank: with fewer than 100 samples, the largest).
    pub p99: f64,
    /// The least-squares line through the values over time, when there are two or more.
    pub trend: Option<Trend>,
}

impl SignalSummary {
    /// Summarizes `(seconds, value)` points, or `None` when there are none.
    pub(crate) fn of(points: &[(f64, f64)]) -> Option<SignalSummary> {
        let (first, last) = (points.first()?.1, points.last()?.1);
        let mut sorted: Vec<f64> = points.iter().map(|p| p.1).collect();
        sorted.sort_by(f64::total_cmp);
        Some(SignalSummary {
            samples: sorted.len(),
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            min: sorted[0],
            max: sorted[sorted.len() - 1],
            first,
            last,
            p50: percentile(&sorted, 0.50),
            p99: percentile(&sorted, 0.99),
            trend: Trend::fit(points),
        })
    }

    /// The growth over `seconds` that the fitted line predicts (0 without a trend).
    pub fn fitted_growth(&self, seconds: f64) -> f64 {
        self.trend.map_or(0.0, |t| t.slope_per_second * seconds)
    }
}

/// Nearest-rank percentile of sorted, non-empty `values`.
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_has_a_low_r_squared_and_a_flat_line_none() {
        let noisy: Vec<(f64, f64)> = (0..40)
            .map(|i| (i as f64, if i % 2 == 0 { 100.0 } else { 110.0 }))
            .collect();
        let trend = Trend::fit(&noisy).unwrap();
        assert!(trend.r_squared < 0.1, "{trend:?}");
        let flat: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 7.0)).collect();
        assert_eq!(Trend::fit(&flat).unwrap().r_squared, 0.0);
        assert_eq!(Trend::fit(&[(1.0, 2.0)]), None);
        assert_eq!(Trend::fit(&[(1.0, 2.0), (1.0, 3.0)]), None);
    }

    #[test]
    fn summary_percentiles_use_the_nearest_rank() {
        let points: Vec<(f64, f64)> = (1..=10).map(|i| (i as f64, i as f64)).collect();
        let s = SignalSummary::of(&points).unwrap();
        assert_eq!((s.min, s.max, s.p50, s.p99), (1.0, 10.0, 5.0, 10.0));
        assert_eq!((s.first, s.last, s.mean), (1.0, 10.0, 5.5));
        assert!((s.fitted_growth(9.0) - 9.0).abs() < 1e-9);
        assert_eq!(SignalSummary::of(&[]), None);
    }
}
