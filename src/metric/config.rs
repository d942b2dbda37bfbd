//! The metrics settings of [`Builder`] and their setters.

use std::time::Duration;

use super::buckets::{self, BucketMatch};
use super::cardinality::DEFAULT_MAX_LABEL_SETS;
use crate::error::Error;
use crate::init::Builder;

/// How often process metrics are sampled and histogram buffers drained, by default.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

/// What [`Builder`] knows about the metrics pillar.
#[derive(Debug)]
pub(crate) struct MetricSettings {
    pub(crate) enabled: bool,
    pub(crate) buckets: Vec<(BucketMatch, Vec<f64>)>,
    pub(crate) max_label_sets: usize,
    pub(crate) sample_interval: Duration,
}

impl Default for MetricSettings {
    fn default() -> Self {
        MetricSettings {
            enabled: true,
            buckets: Vec::new(),
            max_label_sets: DEFAULT_MAX_LABEL_SETS,
            sample_interval: DEFAULT_SAMPLE_INTERVAL,
        }
    }
}

/// Metrics settings (the `metric` pillar).
impl Builder {
    /// Turns the metrics pillar on (default) or off. When off, no recorder is installed and
    /// `/metrics` answers 404.
    pub fn with_metrics(mut self, enabled: bool) -> Self {
        self.metric.enabled = enabled;
        self
    }

    /// Sets the histogram bucket upper bounds for the metric named `name`, overriding
    /// [`DEFAULT_SECONDS_BUCKETS`](crate::metric::DEFAULT_SECONDS_BUCKETS).
    ///
    /// ```
    /// let builder = stethoscope::Stethoscope::builder().with_histogram_buckets(
    ///     "transaction_processing_duration_seconds",
    ///     &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
    /// )?;
    /// # drop(builder);
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `bounds` are non-empty, finite and strictly increasing.
    pub fn with_histogram_buckets(mut self, name: &str, bounds: &[f64]) -> Result<Self, Error> {
        let bounds = buckets::validate("with_histogram_buckets", bounds)?;
        self.metric
            .buckets
            .push((BucketMatch::Name(name.to_owned()), bounds));
        Ok(self)
    }

    /// Sets the histogram bucket upper bounds for every metric whose name starts with `prefix`;
    /// a [full-name setting](Self::with_histogram_buckets) wins over it.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `bounds` are non-empty, finite and strictly increasing.
    pub fn with_histogram_buckets_for_prefix(
        mut self,
        prefix: &str,
        bounds: &[f64],
    ) -> Result<Self, Error> {
        let bounds = buckets::validate("with_histogram_buckets_for_prefix", bounds)?;
        self.metric
            .buckets
            .push((BucketMatch::Prefix(prefix.to_owned()), bounds));
        Ok(self)
    }

    /// Caps the number of label sets per metric name (default
    /// [`DEFAULT_MAX_LABEL_SETS`](crate::metric::DEFAULT_MAX_LABEL_SETS)). Past the cap, new
    /// label sets are recorded in one series whose label values are all `other`.
    pub fn with_metric_label_set_limit(mut self, max_label_sets: usize) -> Self {
        self.metric.max_label_sets = max_label_sets;
        self
    }

    /// How often process metrics are sampled and histogram buffers drained (default
    /// [`DEFAULT_SAMPLE_INTERVAL`](crate::metric::DEFAULT_SAMPLE_INTERVAL), 5 s).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero interval.
    pub fn with_metrics_sample_interval(mut self, interval: Duration) -> Result<Self, Error> {
        if interval.is_zero() {
            return Err(Error::invalid_config(
                "with_metrics_sample_interval",
                "0s",
                "expected a positive interval such as Duration::from_secs(5)",
            ));
        }
        self.metric.sample_interval = interval;
        Ok(self)
    }
}
