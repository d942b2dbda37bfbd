//! [`WorkerClock`]: each worker's busy time as it really is, a poll still running included.
//!
//! tokio publishes a worker's busy time only when the worker parks and at its periodic
//! maintenance (every 61 polls), never from inside a poll. A worker stuck in one poll for ten
//! seconds therefore publishes nothing for ten seconds, and a busy ratio computed from the
//! published figures reads 0 exactly when the runtime is most blocked, the moment the seed's
//! first alert (ELU > 0.9) exists for.
//!
//! The published figures still say enough to fix that. A worker's park/unpark count is odd
//! while it is parked and even while it runs; a worker that is running (even count) and whose
//! figures have not moved since we last saw them change has not parked since then, so it has
//! been polling (or, briefly, looking for work) all that time. This clock credits that frozen
//! time as busy while it lasts; once tokio publishes the real figure, the published total
//! takes over. The credited total never decreases, so no interval is counted twice: the one
//! that receives the published jump only gets what the credit had not yet given.
//!
//! The credit is a lower bound: the freeze is dated from the observation that first saw the
//! figures unchanged, so it misses up to one observation period.
//!
//! Only multi-thread runtimes get the credit. A current-thread runtime's only "worker" is
//! whatever thread calls `block_on`; when no thread drives it, its figures freeze with an even
//! count too, and crediting that would report an idle runtime as saturated.

use std::time::{Duration, Instant};

use tokio::runtime::{Handle, RuntimeFlavor, RuntimeMetrics};

/// What one worker last published, and since when it has not changed.
#[derive(Clone, Copy, Debug)]
struct Worker {
    park_unpark: u64,
    published: Duration,
    since: Instant,
    /// The busy total handed out so far: never decreases.
    credited: Duration,
}

/// Busy totals per worker with the frozen time of a worker stuck inside a poll credited.
#[derive(Debug)]
pub(crate) struct WorkerClock {
    metrics: RuntimeMetrics,
    credit_frozen: bool,
    workers: Vec<Worker>,
}

impl WorkerClock {
    /// Starts watching the workers of the runtime behind `handle`.
    pub(crate) fn new(handle: &Handle) -> WorkerClock {
        let credit_frozen = handle.runtime_flavor() == RuntimeFlavor::MultiThread;
        WorkerClock::with_credit(handle.metrics(), credit_frozen, Instant::now())
    }

    fn with_credit(metrics: RuntimeMetrics, credit_frozen: bool, now: Instant) -> WorkerClock {
        let workers = (0..metrics.num_workers())
            .map(|w| {
                let published = metrics.worker_total_busy_duration(w);
                Worker {
                    park_unpark: metrics.worker_park_unpark_count(w),
                    published,
                    since: now,
                    credited: published,
                }
            })
            .collect();
        WorkerClock {
            metrics,
            credit_frozen,
            workers,
        }
    }

    /// The runtime's metrics handle, for the figures this clock does not track.
    pub(crate) fn metrics(&self) -> &RuntimeMetrics {
        &self.metrics
    }

    /// Reads every worker's published figures at `now`; call it as often as the caller
    /// samples (more often dates a freeze more precisely).
    pub(crate) fn observe(&mut self, now: Instant) {
        for (w, worker) in self.workers.iter_mut().enumerate() {
            let park_unpark = self.metrics.worker_park_unpark_count(w);
            let published = self.metrics.worker_total_busy_duration(w);
            if park_unpark != worker.park_unpark || published != worker.published {
                worker.park_unpark = park_unpark;
                worker.published = published;
                worker.since = now;
            }
            let frozen = if self.credit_frozen && park_unpark % 2 == 0 {
                now.saturating_duration_since(worker.since)
            } else {
                Duration::ZERO
            };
            worker.credited = worker.credited.max(published + frozen);
        }
    }

    /// Each worker's busy total as of the last [`observe`](Self::observe), frozen time
    /// credited.
    pub(crate) fn busy_totals(&self) -> Vec<Duration> {
        self.workers.iter().map(|w| w.credited).collect()
    }

    /// How long worker `w` has been running without publishing anything as of `now`, and
    /// since when; `None` while it is parked (its figures say it sleeps, not that it is stuck).
    pub(crate) fn frozen(&self, w: usize, now: Instant) -> Option<(Duration, Instant)> {
        let worker = self.workers.get(w)?;
        (worker.park_unpark % 2 == 0)
            .then(|| (now.saturating_duration_since(worker.since), worker.since))
    }

    /// Whether frozen time counts as busy: a multi-thread runtime's (see the module doc).
    pub(crate) fn credits_frozen(&self) -> bool {
        self.credit_frozen
    }

    /// Worker threads.
    pub(crate) fn num_workers(&self) -> usize {
        self.workers.len()
    }
}

/// Per-worker busy time between two readings of [`WorkerClock::busy_totals`].
pub(crate) fn busy_between(before: &[Duration], after: &[Duration]) -> Vec<Duration> {
    after
        .iter()
        .zip(before)
        .map(|(now, then)| now.saturating_sub(*then))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{mpsc, Arc};

    /// A fresh 2-worker runtime whose workers are both inside one poll each until the flag is
    /// set; returns once both polls have started.
    fn both_workers_blocked() -> (tokio::runtime::Runtime, Arc<AtomicBool>) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let release = Arc::new(AtomicBool::new(false));
        let (started, wait) = mpsc::channel();
        for _ in 0..2 {
            let release = Arc::clone(&release);
            let started = started.clone();
            runtime.spawn(async move {
                started.send(()).unwrap();
                while !release.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        wait.recv().unwrap();
        wait.recv().unwrap();
        (runtime, release)
    }

    #[test]
    fn a_worker_frozen_inside_one_poll_is_credited_as_busy() {
        let (runtime, release) = both_workers_blocked();
        let mut clock = WorkerClock::new(runtime.handle());
        let start = Instant::now();
        clock.observe(start);
        let before = clock.busy_totals();
        // Observation times are given, not slept: the published figures cannot move while
        // both workers are inside their polls.
        clock.observe(start + Duration::from_secs(2));
        let busy = busy_between(&before, &clock.busy_totals());
        assert_eq!(busy, vec![Duration::from_secs(2); 2]);
        assert!(clock.frozen(0, start + Duration::from_secs(2)).is_some());

        release.store(true, Ordering::Relaxed);
        drop(runtime);
    }

    #[test]
    fn credited_totals_never_go_back_when_the_real_figure_arrives() {
        let (runtime, release) = both_workers_blocked();
        let mut clock = WorkerClock::new(runtime.handle());
        let start = Instant::now();
        clock.observe(start + Duration::from_secs(60));
        let credited = clock.busy_totals();
        // The polls end after far less than the credited minute: the credit stands.
        release.store(true, Ordering::Relaxed);
        drop(runtime);
        clock.observe(start + Duration::from_secs(61));
        for (after, before) in clock.busy_totals().iter().zip(&credited) {
            assert!(after >= before, "{after:?} < {before:?}");
        }
    }

    #[test]
    fn a_current_thread_runtime_nobody_drives_is_not_credited() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let mut clock = WorkerClock::new(runtime.handle());
        let start = Instant::now();
        let before = clock.busy_totals();
        clock.observe(start + Duration::from_secs(5));
        assert_eq!(
            busy_between(&before, &clock.busy_totals()),
            vec![Duration::ZERO]
        );
    }
}
