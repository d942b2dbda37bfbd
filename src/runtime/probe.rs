//! The scheduling-delay probe: spawn a task and measure how long it waits for a worker.
//!
//! It is driven from the sampler's thread rather than by a timer inside the runtime, so it
//! needs no time driver and cannot be delayed by the runtime it measures before the spawn.
//! One probe is in flight at a time: a runtime blocked for ten seconds gets one probe that
//! reports ten seconds, not two hundred queued ones.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics::Histogram;
use tokio::runtime::Handle;

/// Shared between the sampler thread and the probe tasks.
#[derive(Debug, Default)]
pub(crate) struct ProbeStats {
    in_flight: AtomicBool,
    max_delay_ns: AtomicU64,
    probes: AtomicU64,
}

impl ProbeStats {
    /// Spawns a probe onto `handle` unless the previous one has not run yet.
    pub(crate) fn fire(self: &Arc<Self>, handle: &Handle, histogram: &Histogram) {
        if self.in_flight.swap(true, Ordering::AcqRel) {
            return;
        }
        let spawned = Instant::now();
        let stats = Arc::clone(self);
        let histogram = histogram.clone();
        // A runtime that has shut down drops the task unpolled: nothing is recorded.
        drop(handle.spawn(async move {
            let delay = spawned.elapsed();
            histogram.record(delay.as_secs_f64());
            let ns = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
            stats.max_delay_ns.fetch_max(ns, Ordering::Relaxed);
            stats.probes.fetch_add(1, Ordering::Relaxed);
            stats.in_flight.store(false, Ordering::Release);
        }));
    }

    /// The longest delay and the number of probes since the last call, resetting both.
    pub(crate) fn take(&self) -> (Duration, u64) {
        let max = self.max_delay_ns.swap(0, Ordering::Relaxed);
        let probes = self.probes.swap(0, Ordering::Relaxed);
        (Duration::from_nanos(max), probes)
    }
}
