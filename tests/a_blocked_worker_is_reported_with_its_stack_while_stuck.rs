//! The blocked-runtime watchdog reports a worker stuck inside one poll *while it is stuck*:
//! one warning inside the span it is in, then one with its stack naming the stuck function (or
//! saying it is off CPU); a healthy runtime is never reported.

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::Value;
use stethoscope::runtime::{monitor_with, MonitorOptions};
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;
use tracing::Instrument;

fn options() -> MonitorOptions {
    let mut options = MonitorOptions::default();
    options.probe_interval = None;
    options.blocked_threshold = Some(Duration::from_millis(100));
    options
}

/// Runs `work` (built inside the dispatcher) on a 2-worker runtime under the monitor, and
/// returns the "runtime worker blocked" lines and the moment the task finished.
fn blocked_lines<F>(work: impl FnOnce() -> F) -> (Vec<Value>, Instant)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let capture = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    let runtime = support::two_worker_runtime();
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
fn crunch_numbers(d: Duration) -> u64 {
    let end = Instant::now() + d;
    let mut x = 0u64;
    while Instant::now() < end {
        for i in 0..1_000u64 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
    }
    x
}

#[test]
fn a_worker_spinning_in_one_poll_is_reported_with_the_function_and_span() {
    let (lines, _) = blocked_lines(|| {
        async {
            // Long enough to still be spinning when the capture starts on a loaded 2-core machine.
            black_box(crunch_numbers(Duration::from_secs(3)));
        }
        .instrument(tracing::info_span!("verify_block", height = 9u64))
    });
    assert_eq!(lines.len(), 2, "one episode, two lines: {lines:?}");
    let l = &lines[0];
    assert_eq!(l["level"], "warn");
    assert!(l["message"]
        .as_str()
        .unwrap()
        .starts_with("runtime worker blocked"));
    assert!(l["blocked_ms"].as_u64().unwrap() >= 100, "{l}");
    assert_eq!(l["span"], "verify_block", "the span it is stuck in: {l}");
    assert_eq!(l["height"], 9, "with the span's fields: {l}");
    let l = &lines[1];
    assert_eq!(l["worker"], lines[0]["worker"]);
    let stack = l["stack"]
        .as_str()
        .unwrap_or_else(|| panic!("no stack: {l}"));
    assert!(stack.contains("crunch_numbers"), "{l}");
    assert!(
        l["blocked_in"].as_str().unwrap().contains("crunch_numbers"),
        "{l}"
    );
}

#[test]
fn a_worker_blocked_off_cpu_is_reported_too() {
    let (lines, _) = blocked_lines(|| {
        async { std::thread::sleep(Duration::from_millis(600)) }
            .instrument(tracing::info_span!("read_config_file"))
    });
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["span"], "read_config_file", "{}", lines[0]);
    assert!(lines[0]["blocked_ms"].as_u64().unwrap() >= 100);
    assert!(
        lines[1]["message"].as_str().unwrap().contains("off CPU"),
        "{}",
        lines[1]
    );
}

#[test]
fn a_healthy_runtime_is_never_reported() {
    let (lines, _) = blocked_lines(|| async {
        let mut tasks = Vec::new();
        for i in 0..50u64 {
            tasks.push(tokio::spawn(async move {
                for _ in 0..10 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    black_box(crunch_numbers(Duration::from_micros(200)) ^ i);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert!(lines.is_empty(), "{lines:?}");
}

#[test]
fn the_threshold_is_validated() {
    let err = Stethoscope::builder()
        .from_env_with(|v| (v == "STETHOSCOPE_BLOCKED_MS").then(|| "soon".into()))
        .unwrap_err();
    assert!(err.to_string().contains("STETHOSCOPE_BLOCKED_MS"), "{err}");
    assert!(Stethoscope::builder()
        .with_blocked_worker_threshold(Some(Duration::ZERO))
        .is_err());
    let mut zero = MonitorOptions::default();
    zero.blocked_threshold = Some(Duration::ZERO);
    let runtime = support::two_worker_runtime();
    assert!(monitor_with(runtime.handle(), zero).is_err());
}

/// Alternates between two leaf functions, so the stuck thread's samples are split across two
/// stacks while the busy neighbour's all land in one: "the stack with the most samples
/// anywhere" would then be the neighbour's.
#[inline(never)]
fn stuck_in_f(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        black_box(stuck_leaf_a(Duration::from_millis(5)));
        black_box(stuck_leaf_b(Duration::from_millis(5)));
    }
}

#[inline(never)]
fn stuck_leaf_a(d: Duration) -> u64 {
    crunch_numbers(d)
}

#[inline(never)]
fn stuck_leaf_b(d: Duration) -> u64 {
    crunch_numbers(d)
}

/// Busy on CPU too, but in short polls that yield: not blocked.
#[inline(never)]
fn busy_in_g(d: Duration) -> u64 {
    crunch_numbers(d)
}

/// Sets its flag when dropped.
struct Release(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Release {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

#[test]
fn the_stack_is_the_stuck_workers_not_a_busy_neighbours() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let capture = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    let runtime = support::two_worker_runtime();
    tracing::dispatcher::with_default(&dispatch, || {
        let monitor = monitor_with(runtime.handle(), options()).unwrap();
        let (stop, started) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        // Stops the neighbour also when an assertion fails, so the runtime can shut down.
        let _release = Release(Arc::clone(&stop));
        let neighbour = runtime.spawn({
            let (stop, started) = (Arc::clone(&stop), Arc::clone(&started));
            async move {
                started.store(true, Ordering::SeqCst);
                while !stop.load(Ordering::Relaxed) {
                    black_box(busy_in_g(Duration::from_millis(1)));
                    tokio::task::yield_now().await;
                }
            }
            .instrument(tracing::info_span!("neighbour"))
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        let stuck = runtime.spawn(
            async { stuck_in_f(Duration::from_secs(3)) }.instrument(tracing::info_span!("stuck")),
        );
        runtime.block_on(stuck).unwrap();
        stop.store(true, Ordering::Relaxed);
        runtime.block_on(neighbour).unwrap();
        drop(monitor);
    });
    guard.flush(Duration::from_secs(5)).unwrap();
    let lines: Vec<Value> = capture
        .json_lines()
        .into_iter()
        .filter(|l| l["target"] == "stethoscope::runtime" && l["worker"].is_u64())
        .collect();
    assert_eq!(lines.len(), 2, "one episode, two lines: {lines:?}");
    assert_eq!(lines[0]["span"], "stuck", "{}", lines[0]);
    let stack = lines[1]["stack"]
        .as_str()
        .unwrap_or_else(|| panic!("no stack: {}", lines[1]));
    assert!(stack.contains("stuck_in_f"), "{stack}");
    assert!(
        !stack.contains("busy_in_g"),
        "the neighbour's stack: {stack}"
    );
}
