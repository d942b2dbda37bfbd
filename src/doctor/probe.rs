//! The doctor's scheduling-delay probe: spawn a tiny task onto the runtime and measure how long
//! it waits for a worker, keeping every measurement (the runtime monitor's probe keeps only the
//! maximum per interval) so the report can give p50 and p99.
//!
//! One probe is in flight at a time. While it waits, its age is itself a lower bound of the
//! delay, so a worker blocked for a second shows as a ramp in the time series at once rather
//! than as one point when the block ends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;

#[derive(Debug, Default)]
struct Shared {
    /// When the probe in flight was spawned.
    in_flight: Option<Instant>,
    /// Delays measured since the last [`Probe::take`].
    completed: Vec<Duration>,
}

#[derive(Debug, Default)]
pub(crate) struct Probe {
    shared: Arc<Mutex<Shared>>,
}

impl Probe {
    /// Spawns a probe onto `handle` unless one is still waiting.
    pub(crate) fn fire(&self, handle: &Handle) {
        let spawned = Instant::now();
        {
            let mut shared = lock(&self.shared);
            if shared.in_flight.is_some() {
                return;
            }
            shared.in_flight = Some(spawned);
        }
        let shared = Arc::clone(&self.shared);
        // A runtime that has shut down drops the task unpolled; the probe then stays "in
        // flight" and its age keeps growing, which is what a dead runtime looks like.
        drop(handle.spawn(async move {
            let delay = spawned.elapsed();
            let mut shared = lock(&shared);
            shared.completed.push(delay);
            shared.in_flight = None;
        }));
    }

    /// The delays completed since the last call, and the age of the probe still waiting.
    pub(crate) fn take(&self, now: Instant) -> (Vec<Duration>, Option<Duration>) {
        let mut shared = lock(&self.shared);
        let waiting = shared
            .in_flight
            .map(|spawned| now.saturating_duration_since(spawned));
        (std::mem::take(&mut shared.completed), waiting)
    }
}

fn lock(shared: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}
