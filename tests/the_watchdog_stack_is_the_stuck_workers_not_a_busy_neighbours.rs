//! With one worker stuck inside a poll in `stuck_in_f` and the other busy in short polls in
//! `busy_in_g`, the watchdog's stack is the stuck worker's: only the thread holding the long
//! span entry counts. Its own binary: the watchdog's capture is process-wide.

mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde_json::Value;
use stethoscope::runtime::monitor_with;
use stethoscope::{LogOutput, Stethoscope};
use support::blocked_worker::{crunch_numbers, options};
use tracing::Instrument;

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

    let capture = support::Capture::default();
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
