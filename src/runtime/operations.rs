//! [`OperationStats`]: where async time goes, per span name (clinic bubbleprof's question):
//! calls, wall time, the share spent executing vs waiting, and p99 wall time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metrics::histogram;

use super::names::{SPAN_BUSY_SECONDS, SPAN_IDLE_SECONDS};

/// Wall-time buckets: powers of two from 1 µs (bucket 0: under 1 µs) to ~2 500 s, enough for a
/// p99 within a factor of two at 8 bytes a bucket.
const BUCKETS: usize = 32;

/// Per-operation busy/idle aggregates, filled by a [`SlowOpLayer`](super::SlowOpLayer) built
/// [`with_operation_stats`](super::SlowOpLayer::with_operation_stats). Cheap to clone: clones
/// share the same table.
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::prelude::*;
/// use stethoscope::runtime::{OperationStats, SlowOpLayer};
///
/// let stats = OperationStats::new();
/// let subscriber = tracing_subscriber::registry()
///     .with(SlowOpLayer::new().with_operation_stats(stats.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("parse").entered();
/// });
/// let summary = stats.summary();
/// assert_eq!(summary[0].name, "parse");
/// assert_eq!(summary[0].calls, 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct OperationStats {
    table: Arc<Mutex<HashMap<&'static str, Aggregate>>>,
    histograms: bool,
}

#[derive(Debug, Clone)]
struct Aggregate {
    calls: u64,
    wall_ns: u64,
    busy_ns: u64,
    buckets: [u64; BUCKETS],
    /// Calls slower than the slow-operation threshold (the ones logged as "slow operation").
    slow: u64,
}

/// One operation (span name) in an [`OperationStats::summary`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OperationSummary {
    /// The span name.
    pub name: &'static str,
    /// Spans of this name that closed.
    pub calls: u64,
    /// Their summed wall time.
    pub total_wall: Duration,
    /// Share of the wall time spent executing (entered / polled), 0 to 1.
    pub busy_share: f64,
    /// Share of the wall time spent waiting, 0 to 1.
    pub idle_share: f64,
    /// 99th percentile of wall time, rounded up to a power of two microseconds.
    pub p99_wall: Duration,
}

impl OperationStats {
    /// An empty table that keeps aggregates in memory only.
    pub fn new() -> Self {
        OperationStats::default()
    }

    /// Also records each span into the histograms `span_busy_seconds{span}` and
    /// `span_idle_seconds{span}` (described when a runtime monitor starts) through the global `metrics` recorder. Costs a recorder lookup
    /// per span close: use it for operations counted in thousands per second, not millions.
    #[must_use]
    pub fn with_histograms(mut self, enabled: bool) -> Self {
        self.histograms = enabled;
        self
    }

    /// Adds one closed span; `slow` when it was slower than its slow-operation threshold (the
    /// doctor's slow-operation counts).
    pub(crate) fn record_with(&self, name: &'static str, wall_ns: u64, busy_ns: u64, slow: bool) {
        {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            let agg = table.entry(name).or_insert(Aggregate {
                calls: 0,
                wall_ns: 0,
                busy_ns: 0,
                buckets: [0; BUCKETS],
                slow: 0,
            });
            agg.slow += u64::from(slow);
            agg.calls += 1;
            agg.wall_ns = agg.wall_ns.saturating_add(wall_ns);
            agg.busy_ns = agg.busy_ns.saturating_add(busy_ns);
            agg.buckets[bucket(wall_ns)] += 1;
        }
        if self.histograms {
            let idle_ns = wall_ns.saturating_sub(busy_ns);
            histogram!(SPAN_BUSY_SECONDS, "span" => name).record(busy_ns as f64 / 1e9);
            histogram!(SPAN_IDLE_SECONDS, "span" => name).record(idle_ns as f64 / 1e9);
        }
    }

    /// Every operation seen so far, the largest total wall time first.
    pub fn summary(&self) -> Vec<OperationSummary> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<OperationSummary> = table
            .iter()
            .map(|(name, agg)| {
                let busy_share = if agg.wall_ns == 0 {
                    0.0
                } else {
                    (agg.busy_ns as f64 / agg.wall_ns as f64).clamp(0.0, 1.0)
                };
                OperationSummary {
                    name,
                    calls: agg.calls,
                    total_wall: Duration::from_nanos(agg.wall_ns),
                    busy_share,
                    idle_share: 1.0 - busy_share,
                    p99_wall: p99(&agg.buckets, agg.calls),
                }
            })
            .collect();
        out.sort_by(|a, b| b.total_wall.cmp(&a.total_wall).then(a.name.cmp(b.name)));
        out
    }
}

// -- doctor: what happened between two moments --

/// The raw per-operation totals at one moment; two of them give what happened in between (the
/// doctor's observation window).
#[derive(Clone, Debug, Default)]
pub(crate) struct OperationTotals(HashMap<&'static str, Aggregate>);

impl OperationStats {
    /// The totals so far.
    pub(crate) fn totals(&self) -> OperationTotals {
        OperationTotals(self.table.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// Slow calls so far, over all operations: cheap enough to read ten times a second.
    pub(crate) fn slow_calls(&self) -> u64 {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        table.values().map(|agg| agg.slow).sum()
    }
}

impl OperationTotals {
    /// What happened since `earlier`, largest total wall time first, with the slow calls of
    /// each operation; operations without calls in between are left out.
    pub(crate) fn since(&self, earlier: &OperationTotals) -> Vec<(OperationSummary, u64)> {
        let mut out: Vec<(OperationSummary, u64)> = self
            .0
            .iter()
            .filter_map(|(name, now)| {
                let before = earlier.0.get(name);
                let calls = now.calls - before.map_or(0, |b| b.calls);
                if calls == 0 {
                    return None;
                }
                let wall_ns = now.wall_ns.saturating_sub(before.map_or(0, |b| b.wall_ns));
                let busy_ns = now.busy_ns.saturating_sub(before.map_or(0, |b| b.busy_ns));
                let mut buckets = now.buckets;
                if let Some(b) = before {
                    for (n, was) in buckets.iter_mut().zip(b.buckets) {
                        *n = n.saturating_sub(was);
                    }
                }
                let busy_share = if wall_ns == 0 {
                    0.0
                } else {
                    (busy_ns as f64 / wall_ns as f64).clamp(0.0, 1.0)
                };
                let summary = OperationSummary {
                    name,
                    calls,
                    total_wall: Duration::from_nanos(wall_ns),
                    busy_share,
                    idle_share: 1.0 - busy_share,
                    p99_wall: p99(&buckets, calls),
                };
                Some((summary, now.slow - before.map_or(0, |b| b.slow)))
            })
            .collect();
        out.sort_by(|(a, _), (b, _)| b.total_wall.cmp(&a.total_wall).then(a.name.cmp(b.name)));
        out
    }
}

/// The text `GET /debug/operations` serves: one operation per line, most total wall time first.
pub(crate) fn render_operations(summary: &[OperationSummary]) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("operation\tcalls\ttotal_wall_s\tbusy_pct\tidle_pct\tp99_wall_ms\n");
    for op in summary {
        let _ = writeln!(
            out,
            "{}\t{}\t{:.3}\t{:.1}\t{:.1}\t{:.3}",
            op.name,
            op.calls,
            op.total_wall.as_secs_f64(),
            op.busy_share * 100.0,
            op.idle_share * 100.0,
            op.p99_wall.as_secs_f64() * 1e3
        );
    }
    out
}

/// Bucket `i` holds wall times below `2^i` µs.
fn bucket(wall_ns: u64) -> usize {
    let us = wall_ns / 1_000;
    let i = (u64::BITS - us.leading_zeros()) as usize;
    i.min(BUCKETS - 1)
}

fn p99(buckets: &[u64; BUCKETS], calls: u64) -> Duration {
    let rank = calls - calls / 100; // the smallest count covering 99 % of calls
    let mut seen = 0;
    for (i, n) in buckets.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return Duration::from_micros(1u64 << i);
        }
    }
    Duration::from_micros(1u64 << (BUCKETS - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_powers_of_two_microseconds() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(999), 0);
        assert_eq!(bucket(1_000), 1);
        assert_eq!(bucket(150_000_000), 18); // 150 ms < 2^18 µs = 262 ms
        assert_eq!(bucket(u64::MAX), BUCKETS - 1);
    }

    #[test]
    fn p99_ignores_the_slowest_one_percent() {
        let stats = OperationStats::new();
        for _ in 0..99 {
            stats.record_with("op", 1_500, 1_000, false);
        }
        stats.record_with("op", 10_000_000_000, 0, false);
        let s = &stats.summary()[0];
        assert_eq!(s.calls, 100);
        assert_eq!(s.p99_wall, Duration::from_micros(2));
    }

    #[test]
    fn totals_since_an_earlier_moment_count_only_what_happened_between() {
        let stats = OperationStats::new();
        stats.record_with("old", 1_000, 1_000, false);
        stats.record_with("query", 200_000_000, 1_000_000, true);
        let before = stats.totals();
        stats.record_with("query", 300_000_000, 3_000_000, true);
        stats.record_with("query", 1_000, 1_000, false);
        let window = stats.totals().since(&before);
        assert_eq!(window.len(), 1, "{window:?}");
        let (query, slow) = &window[0];
        assert_eq!((query.name, query.calls, *slow), ("query", 2, 1));
        assert!(query.idle_share > 0.98);
        assert_eq!(stats.slow_calls(), 2);
    }
}
