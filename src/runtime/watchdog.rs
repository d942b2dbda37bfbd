//! The blocked-runtime watchdog: notices a worker stuck inside one poll while it is still
//! stuck, and says where — the answer to "who blocked the event loop".
//!
//! Detection uses what stable tokio publishes per worker: the park/unpark count (odd while the
//! worker is parked) and its total busy time. A worker publishes both whenever it parks and at
//! its periodic maintenance (every 61 polls), so a worker that is *active* (even count) and
//! whose figures have not moved has either been inside one poll all that time or run 61 polls
//! without finishing them — 61 polls of 2 ms each look the same as one of 122 ms. Two rules
//! tell them apart:
//!
//! * a worker frozen for the threshold while some thread has been inside one span entry (one
//!   poll of an instrumented future) for half the threshold or more: reported at once, with
//!   that span;
//! * a worker frozen for [`UNINSTRUMENTED_FACTOR`] × the threshold with no such span: reported
//!   then (polls averaging 5 ms at the default 100 ms are blocking the runtime too).
//!
//! On detection the watchdog counts [`TOKIO_BLOCKED_POLLS_TOTAL`](super::names::TOKIO_BLOCKED_POLLS_TOTAL)
//! and logs a warning inside the span the stuck thread is in (when the code is instrumented:
//! the line carries the span's fields and trace id), then a second one with the stuck
//! thread's stack from a short CPU profile taken at that moment (Unix). A worker blocked *off*
//! CPU (sleeping, blocking I/O, a lock) gets no CPU samples; the second line says so.

use std::time::{Duration, Instant};

use metrics::{counter, Counter};
use tokio::runtime::RuntimeMetrics;

use super::names::TOKIO_BLOCKED_POLLS_TOTAL;
use super::timing;

/// How long the stack capture samples the stuck thread.
const CAPTURE: Duration = Duration::from_millis(100);
/// Sampling rate of that capture: ~100 samples of a thread spinning on CPU.
const CAPTURE_HZ: u32 = 997;
/// Frames of the stuck stack written to the log line, leaf first.
const STACK_FRAMES: usize = 16;
/// Without a span entry to confirm one long poll, a worker must be frozen this many times the
/// threshold: a run of 61 short polls cannot freeze it that long unless they average
/// 3 × threshold / 61 (5 ms at 100 ms).
pub(crate) const UNINSTRUMENTED_FACTOR: u32 = 3;

/// What one worker last published, and since when it has not changed.
#[derive(Clone, Copy)]
struct Worker {
    park_unpark: u64,
    busy: Duration,
    since: Instant,
    reported: bool,
}

pub(crate) struct Watchdog {
    threshold: Duration,
    workers: Vec<Worker>,
    blocked: Counter,
}

impl Watchdog {
    pub(crate) fn new(metrics: &RuntimeMetrics, threshold: Duration) -> Watchdog {
        let now = Instant::now();
        Watchdog {
            threshold,
            workers: (0..metrics.num_workers())
                .map(|w| Worker {
                    park_unpark: metrics.worker_park_unpark_count(w),
                    busy: metrics.worker_total_busy_duration(w),
                    since: now,
                    reported: false,
                })
                .collect(),
            blocked: counter!(TOKIO_BLOCKED_POLLS_TOTAL),
        }
    }

    /// How often [`Watchdog::check`] should run: often enough to report a block within 1.5×
    /// the threshold, rarely enough to cost nothing (20 wake-ups a second at 100 ms).
    pub(crate) fn period(&self) -> Duration {
        self.threshold / 2
    }

    pub(crate) fn check(&mut self, metrics: &RuntimeMetrics) {
        let now = Instant::now();
        for w in 0..self.workers.len() {
            let park_unpark = metrics.worker_park_unpark_count(w);
            let busy = metrics.worker_total_busy_duration(w);
            let worker = &mut self.workers[w];
            if park_unpark != worker.park_unpark || busy != worker.busy {
                *worker = Worker {
                    park_unpark,
                    busy,
                    since: now,
                    reported: false,
                };
                continue;
            }
            let stuck = now.duration_since(worker.since);
            // An odd count: the worker is parked, idle rather than stuck.
            if park_unpark % 2 == 1 || worker.reported || stuck < self.threshold {
                continue;
            }
            // The thread inside one span entry for longest is the best guess for the stuck one.
            let half = u64::try_from((self.threshold / 2).as_nanos()).unwrap_or(u64::MAX);
            let span = timing::long_entries(half)
                .into_iter()
                .max_by_key(|&(_, held)| held)
                .map(|(span, _)| tracing::span::Id::from_u64(span));
            if span.is_none() && stuck < self.threshold * UNINSTRUMENTED_FACTOR {
                continue;
            }
            worker.reported = true;
            self.blocked.increment(1);
            report(w, stuck, span);
        }
    }
}

/// Logs one blocked worker: at once the span it is in (while that span surely exists), then,
/// on Unix, its stack (symbolizing takes from ~0.1 s to seconds in a debug build).
#[cold]
fn report(worker: usize, stuck: Duration, span: Option<tracing::span::Id>) {
    let blocked_ms = stuck.as_millis() as u64;
    tracing::warn!(
        target: "stethoscope::runtime",
        parent: span.clone(),
        worker,
        blocked_ms,
        "runtime worker blocked: one poll has held it without yielding; move blocking or \
         CPU-heavy work to spawn_blocking"
    );
    match stuck_stack() {
        Ok(Some(frames)) => tracing::warn!(
            target: "stethoscope::runtime",
            parent: span,
            worker,
            blocked_in = frames.first().map(String::as_str).unwrap_or("?"),
            stack = frames.join(" <- ").as_str(),
            "stack of the blocked runtime worker, leaf first"
        ),
        Ok(None) => tracing::warn!(
            target: "stethoscope::runtime",
            parent: span,
            worker,
            "the blocked runtime worker is off CPU (no CPU samples): sleeping, blocking I/O or \
             a lock; use async I/O and timers, or spawn_blocking"
        ),
        Err(why) => tracing::warn!(
            target: "stethoscope::runtime",
            parent: span,
            worker,
            error = why.as_str(),
            "no stack of the blocked runtime worker"
        ),
    }
}

/// The stack (leaf first, runtime and std frames trimmed from the leaf end) that a tokio
/// worker thread spent the most CPU samples in over a short capture; `None` when no worker
/// was on CPU.
#[cfg(unix)]
fn stuck_stack() -> Result<Option<Vec<String>>, String> {
    let profile = crate::profile::cpu::capture_blocking(CAPTURE, CAPTURE_HZ)
        .map_err(|e| format!("no stack: {e}"))?;
    let stack = profile
        .stacks
        .iter()
        // A tokio worker runs its tasks below the scheduler's frames.
        .filter(|s| {
            s.frames
                .iter()
                .any(|f| f.starts_with("tokio::runtime::scheduler"))
        })
        .max_by_key(|s| s.samples);
    Ok(stack.map(|s| {
        let mut frames: Vec<String> = s.frames.iter().rev().cloned().collect();
        // Keep the leaf-most frame that is the application's: what a reader needs first.
        if let Some(first_own) = frames
            .iter()
            .position(|f| !crate::profile::frames::is_library(f))
        {
            frames.drain(..first_own);
        }
        frames.truncate(STACK_FRAMES);
        frames
    }))
}

#[cfg(not(unix))]
fn stuck_stack() -> Result<Option<Vec<String>>, String> {
    Err("no stack: CPU sampling needs a Unix target".to_owned())
}
