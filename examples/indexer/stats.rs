//! Counts and a latency histogram the status line and the summary read; plain atomics, so they
//! work the same with telemetry off (the overhead baseline).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Log-linear buckets: 8 per power of two of microseconds, up to 2^32 µs.
const SUB_BUCKETS: usize = 8;
const BUCKETS: usize = 32 * SUB_BUCKETS;

/// What the run has done so far.
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) blocks: AtomicU64,
    /// Transactions that passed verification and went through every stage.
    pub(crate) indexed: AtomicU64,
    /// Transactions rejected by verification (or malformed).
    pub(crate) invalid: AtomicU64,
    /// Rows inserted into SQLite.
    pub(crate) stored: AtomicU64,
    /// Messages the consumer service processed.
    pub(crate) consumed: AtomicU64,
    latency: [AtomicU64; BUCKETS],
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            blocks: AtomicU64::new(0),
            indexed: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            consumed: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Stats {
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records `count` transactions that took `latency`.
    pub(crate) fn record_latency(&self, latency: Duration, count: u64) {
        self.latency[bucket(latency)].fetch_add(count, Ordering::Relaxed);
    }

    /// The `q` quantile (0..=1) of recorded latencies, as its bucket's upper bound.
    pub(crate) fn latency_quantile(&self, q: f64) -> Duration {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return upper_bound(i);
            }
        }
        upper_bound(BUCKETS - 1)
    }
}

fn bucket(latency: Duration) -> usize {
    let us = latency.as_micros().max(1) as f64;
    ((us.log2() * SUB_BUCKETS as f64) as usize).min(BUCKETS - 1)
}

fn upper_bound(bucket: usize) -> Duration {
    Duration::from_secs_f64(2f64.powf((bucket + 1) as f64 / SUB_BUCKETS as f64) / 1e6)
}
