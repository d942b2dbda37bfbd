//! The blocked-runtime watchdog reports a worker stuck inside one poll *while it is stuck*:
//! one warning inside the span it is in, then one with its stack naming the stuck function; a
//! healthy runtime is never reported. (A worker blocked off CPU: its own test binary.)

mod support;

use std::hint::black_box;
use std::time::Duration;

use stethoscope::runtime::{monitor_with, MonitorOptions};
use stethoscope::Stethoscope;
use support::blocked_worker::{blocked_lines, crunch_numbers};
use tracing::Instrument;

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
