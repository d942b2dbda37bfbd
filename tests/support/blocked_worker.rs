//! Runs work on a runtime watched by the blocked-worker watchdog and collects its reports.
//!
//! The watchdog's guess of the stuck span and its stack capture are process-wide (the CPU
//! profiler and the span-entry table see every runtime in the process), so each test that
//! blocks a worker is its own test binary: under plain `cargo test` two of them in one process
//! would read each other's workers.

#![allow(dead_code)] // each test binary uses a subset

use std::time::{Duration, Instant};

use serde_json::Value;
use stethoscope::runtime::{monitor_with, MonitorOptions};
use stethoscope::{LogOutput, Stethoscope};

use super::Capture;

/// The monitor's options for these tests: the watchdog at 100 ms, no delay probe.
pub(crate) fn options() -> MonitorOptions {
    let mut options = MonitorOptions::default();
    options.probe_interval = None;
    options.blocked_threshold = Some(Duration::from_millis(100));
    options
}

/// Runs `work` (built inside the dispatcher) on a 2-worker runtime under the monitor, and
/// returns the "runtime worker blocked" lines and the moment the task finished.
pub(crate) fn blocked_lines<F>(work: impl FnOnce() -> F) -> (Vec<Value>, Instant)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let capture = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    let runtime = super::two_worker_runtime();
    let finished = tracing::dispatcher::with_default(&dispatch, || {
        let monitor = monitor_with(runtime.handle(), options()).unwrap();
        let task = runtime.spawn(work());
        runtime.block_on(task).unwrap();
        let finished = Instant::now();
        drop(monitor);
        finished
    });
    guard.flush(Duration::from_secs(5)).unwrap();
    let lines = capture
        .json_lines()
        .into_iter()
        .filter(|l| l["target"] == "stethoscope::runtime" && l["worker"].is_u64())
        .collect();
    (lines, finished)
}

/// Pure arithmetic (no clock reads in the hot loop: the profiler skips samples in the vDSO).
#[inline(never)]
pub(crate) fn crunch_numbers(d: Duration) -> u64 {
    let end = Instant::now() + d;
    let mut x = 0u64;
    while Instant::now() < end {
        for i in 0..1_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}
