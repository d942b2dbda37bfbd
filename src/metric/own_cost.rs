//! What stethoscope itself costs, counted where the work happens and read by `/metrics` and
//! `/debug/stethoscope`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// CPU profile samples taken by finished captures.
pub(crate) static PROFILER_SAMPLES: AtomicU64 = AtomicU64::new(0);
/// Time the metrics sampler thread spent sampling, in nanoseconds.
pub(crate) static METRICS_SAMPLER_NANOS: AtomicU64 = AtomicU64::new(0);
/// Time the runtime sampler thread spent sampling, in nanoseconds.
pub(crate) static RUNTIME_SAMPLER_NANOS: AtomicU64 = AtomicU64::new(0);

/// Adds one sampler run of `took` to `total` and to the
/// `stethoscope_sampler_duration_seconds{sampler}` histogram.
pub(crate) fn record_sampler_run(
    total: &AtomicU64,
    histogram: &metrics::Histogram,
    took: Duration,
) {
    total.fetch_add(
        u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
        Ordering::Relaxed,
    );
    histogram.record(took.as_secs_f64());
}

/// Seconds in a nanosecond total.
pub(crate) fn seconds(total: &AtomicU64) -> f64 {
    Duration::from_nanos(total.load(Ordering::Relaxed)).as_secs_f64()
}
