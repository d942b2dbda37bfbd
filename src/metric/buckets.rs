//! Histogram bucket boundaries: the defaults and the validation of user-supplied ones.

use crate::error::Error;

/// Default buckets for every histogram whose name ends in `_seconds`: 100 µs to 10 s, roughly
/// 1-2.5-5 per decade, so both a cache hit and a slow database call land in a useful bucket.
pub const DEFAULT_SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Which histograms a set of buckets applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum BucketMatch {
    /// Exactly this metric name.
    Name(String),
    /// Every metric whose name starts with this.
    Prefix(String),
}

/// Checks that `bounds` are usable histogram upper bounds: non-empty, finite, strictly
/// increasing. `setting` names the builder method in the error.
pub(crate) fn validate(setting: &'static str, bounds: &[f64]) -> Result<Vec<f64>, Error> {
    let shown = || format!("{bounds:?}");
    if bounds.is_empty() {
        return Err(Error::invalid_config(
            setting,
            shown(),
            "expected at least one bucket upper bound, e.g. [0.005, 0.01, 0.1, 1.0]",
        ));
    }
    if let Some(bad) = bounds.iter().find(|b| !b.is_finite()) {
        return Err(Error::invalid_config(
            setting,
            shown(),
            format!("bucket bound {bad} is not finite; the +Inf bucket is added automatically"),
        ));
    }
    if let Some(w) = bounds.windows(2).find(|w| w[0] >= w[1]) {
        return Err(Error::invalid_config(
            setting,
            shown(),
            format!(
                "bucket bounds must be strictly increasing, but {} is followed by {}",
                w[0], w[1]
            ),
        ));
    }
    Ok(bounds.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_seconds_buckets_are_valid_and_span_100us_to_10s() {
        let b = validate("test", DEFAULT_SECONDS_BUCKETS).unwrap();
        assert_eq!(b.first(), Some(&0.0001));
        assert_eq!(b.last(), Some(&10.0));
    }

    #[test]
    fn invalid_buckets_are_explained() {
        let empty = validate("with_histogram_buckets", &[])
            .unwrap_err()
            .to_string();
        assert!(empty.contains("at least one bucket"), "{empty}");
        let nan = validate("with_histogram_buckets", &[0.1, f64::NAN])
            .unwrap_err()
            .to_string();
        assert!(nan.contains("not finite"), "{nan}");
        let order = validate("with_histogram_buckets", &[0.1, 0.1])
            .unwrap_err()
            .to_string();
        assert!(order.contains("strictly increasing"), "{order}");
        assert!(
            order.starts_with("invalid value for with_histogram_buckets"),
            "{order}"
        );
    }
}
