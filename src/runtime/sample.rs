//! [`RuntimeSample`]: what one sampling interval showed, computed from tokio's counters.

use std::time::Duration;

/// What the last sampling interval of a [`RuntimeMonitor`](super::RuntimeMonitor) showed; the
/// same values it publishes as metrics.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct RuntimeSample {
    /// Busy time of all workers / (workers × `elapsed`), 0 to 1: the event-loop utilization.
    pub busy_ratio: f64,
    /// Busy ratio of each worker, indexed by worker.
    pub worker_busy_ratios: Vec<f64>,
    /// Worker threads.
    pub workers: usize,
    /// Tasks alive at the end of the interval.
    pub alive_tasks: usize,
    /// Tasks in the global queue at the end of the interval.
    pub global_queue_depth: usize,
    /// Times workers parked during the interval.
    pub parks: u64,
    /// Longest scheduling delay a probe saw during the interval (zero if no probe ran).
    pub max_scheduling_delay: Duration,
    /// Probes that ran during the interval.
    pub probes: u64,
    /// Wall time the interval covered.
    pub elapsed: Duration,
}

/// `busy / wall`, clamped to 0..=1: tokio accounts a batch of polls when it ends, so one
/// interval can receive a little of the previous one's busy time.
pub(crate) fn ratio(busy: Duration, wall: Duration) -> f64 {
    if wall.is_zero() {
        return 0.0;
    }
    (busy.as_secs_f64() / wall.as_secs_f64()).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_clamped_and_safe_on_zero_wall() {
        assert_eq!(ratio(Duration::from_secs(1), Duration::ZERO), 0.0);
        assert_eq!(ratio(Duration::from_secs(3), Duration::from_secs(2)), 1.0);
        assert!((ratio(Duration::from_millis(500), Duration::from_secs(2)) - 0.25).abs() < 1e-9);
    }
}
