//! The blocked-runtime watchdog: notices a worker stuck inside one poll while it is still
//! stuck, and says where — the answer to "who blocked the event loop".
//!
//! Detection reads the [`WorkerClock`]: a worker that is running (not parked) and whose
//! published figures have not moved has either been inside one poll all that time or run 61
//! polls without finishing them (tokio publishes every 61 polls) — 61 polls of 2 ms each look
//! the same as one of 122 ms. Two rules tell them apart:
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
//! thread's stack from a short CPU profile taken at that moment (Unix). The span entry names
//! the stuck thread, so only that thread's samples count and a second busy worker cannot lend
//! it its stack; without a span (uninstrumented code) the busiest worker thread's stack is the
//! best guess, since stable tokio does not say which thread runs which worker. A worker
//! blocked *off* CPU (sleeping, blocking I/O, a lock) gets no CPU samples; the second line says
//! so.

use std::time::{Duration, Instant};

use metrics::{counter, Counter};

use super::names::TOKIO_BLOCKED_POLLS_TOTAL;
use super::timing::{self, LongEntry};
use super::worker_clock::WorkerClock;

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

pub(crate) struct Watchdog {
    threshold: Duration,
    /// Per worker: the start of the freeze already reported, so one freeze is reported once.
    reported: Vec<Option<Instant>>,
    blocked: Counter,
}

impl Watchdog {
    pub(crate) fn new(workers: usize, threshold: Duration) -> Watchdog {
        Watchdog {
            threshold,
            reported: vec![None; workers],
            blocked: counter!(TOKIO_BLOCKED_POLLS_TOTAL),
        }
    }

    /// How often [`Watchdog::check`] should run: often enough to report a block within 1.5×
    /// the threshold, rarely enough to cost nothing (20 wake-ups a second at 100 ms).
    pub(crate) fn period(&self) -> Duration {
        self.threshold / 2
    }

    /// Reports every worker that `clock` (observed just before, at `now`) shows frozen for
    /// the threshold and not reported yet.
    pub(crate) fn check(&mut self, clock: &WorkerClock, now: Instant) {
        for (w, reported) in self.reported.iter_mut().enumerate() {
            let Some((stuck, since)) = clock.frozen(w, now) else {
                continue;
            };
            if *reported == Some(since) || stuck < self.threshold {
                continue;
            }
            // The thread inside one span entry for longest is the best guess for the stuck one.
            let half = u64::try_from((self.threshold / 2).as_nanos()).unwrap_or(u64::MAX);
            let mut entries = timing::long_entries(half);
            entries.sort_by_key(|entry| std::cmp::Reverse(entry.held_ns));
            if entries.is_empty() && stuck < self.threshold * UNINSTRUMENTED_FACTOR {
                continue;
            }
            *reported = Some(since);
            self.blocked.increment(1);
            report(w, stuck, &entries);
        }
    }
}

/// Logs one blocked worker: at once the span it is in (while that span surely exists), then,
/// on Unix, its stack (symbolizing takes from ~0.1 s to seconds in a debug build).
#[cold]
fn report(worker: usize, stuck: Duration, entries: &[LongEntry]) {
    let blocked_ms = stuck.as_millis() as u64;
    let span = entries.first().map(|e| tracing::span::Id::from_u64(e.span));
    tracing::warn!(
        target: "stethoscope::runtime",
        parent: span.clone(),
        worker,
        blocked_ms,
        "runtime worker blocked: one poll has held it without yielding; move blocking or \
         CPU-heavy work to spawn_blocking"
    );
    let threads: Vec<u64> = entries.iter().map(|e| e.thread).collect();
    match stuck_stack(&threads) {
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

/// The stack (leaf first, runtime and std frames trimmed from the leaf end) that the stuck
/// thread spent the most CPU samples in over a short capture; `None` when no worker was on
/// CPU.
///
/// `threads` are the threads inside a long span entry, longest first: the first of them seen
/// running tasks is the stuck one, and only its samples count, so a second busy worker cannot
/// lend it its stack. When none is (uninstrumented code, or the entry is on a blocking-pool
/// thread), the busiest tokio worker thread's stack is the best guess.
#[cfg(unix)]
fn stuck_stack(threads: &[u64]) -> Result<Option<Vec<String>>, String> {
    let profile = crate::profile::cpu::capture_blocking(CAPTURE, CAPTURE_HZ)
        .map_err(|e| format!("no stack: {e}"))?;
    // A tokio worker runs its tasks below the scheduler's frames.
    let worker_stacks = || {
        profile.stacks.iter().filter(|s| {
            s.frames
                .iter()
                .any(|f| f.starts_with("tokio::runtime::scheduler"))
        })
    };
    let stuck_thread = threads
        .iter()
        .find(|&&t| t != 0 && worker_stacks().any(|s| s.thread_id == t));
    let stack = worker_stacks()
        .filter(|s| stuck_thread.is_none_or(|&t| s.thread_id == t))
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
fn stuck_stack(_threads: &[u64]) -> Result<Option<Vec<String>>, String> {
    Err("no stack: CPU sampling needs a Unix target".to_owned())
}
