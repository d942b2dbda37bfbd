//! A poll that keeps a worker thread longer than the slow-poll threshold (default 10 ms) is
//! logged as "slow poll" with the span it happened in, and counted; a task that waits as
//! long without blocking is not.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;
use tracing::Instrument;

/// Runs the future `work()` builds (inside the dispatcher, so its span is live) as a task.
fn lines_of<F>(builder: stethoscope::Builder, work: impl FnOnce() -> F) -> Vec<Value>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let capture = Capture::default();
    let (dispatch, guard) = builder
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        // Inside a spawned task: only a thread running a task has a worker to block.
        let work = work();
        runtime.block_on(async { tokio::spawn(work).await.unwrap() });
    });
    guard.flush(Duration::from_secs(5)).unwrap();
    capture.json_lines()
}

fn slow_polls(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("slow poll"))
        })
        .collect()
}

fn block_thread(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[test]
fn a_poll_blocking_its_worker_for_50ms_is_logged_with_its_span() {
    let lines = lines_of(Stethoscope::builder(), || {
        async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            block_thread(Duration::from_millis(50)); // the second poll blocks
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        .instrument(tracing::info_span!("parse_block", height = 7u64))
    });
    let polls = slow_polls(&lines);
    assert_eq!(polls.len(), 1, "{lines:?}");
    let l = polls[0];
    assert_eq!(l["level"], "warn");
    assert_eq!(l["span_name"], "parse_block");
    assert_eq!(l["height"], 7, "the span's fields are on the line: {l}");
    let poll_ms = l["poll_ms"].as_f64().unwrap();
    assert!((45.0..5_000.0).contains(&poll_ms), "{l}");
}

#[test]
fn waiting_without_blocking_is_not_a_slow_poll() {
    let lines = lines_of(Stethoscope::builder(), || {
        async {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        .instrument(tracing::info_span!("await_peers"))
    });
    assert!(slow_polls(&lines).is_empty(), "{lines:?}");
}

#[test]
fn the_threshold_is_configurable_and_can_be_turned_off() {
    let work = || {
        || async { block_thread(Duration::from_millis(30)) }.instrument(tracing::info_span!("hash"))
    };
    // The default threshold (10 ms) reports it: the two cases below are not vacuous.
    assert_eq!(
        slow_polls(&lines_of(Stethoscope::builder(), work())).len(),
        1
    );
    let raised = Stethoscope::builder()
        .with_slow_poll_threshold(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(slow_polls(&lines_of(raised, work())).is_empty());
    let off = Stethoscope::builder()
        .from_env_with(|v| (v == "STETHOSCOPE_SLOW_POLL_MS").then(|| "off".into()))
        .unwrap();
    assert!(slow_polls(&lines_of(off, work())).is_empty());
    let err = Stethoscope::builder()
        .from_env_with(|v| (v == "STETHOSCOPE_SLOW_POLL_MS").then(|| "10ms".into()))
        .unwrap_err();
    assert!(
        err.to_string().contains("STETHOSCOPE_SLOW_POLL_MS"),
        "{err}"
    );
    assert!(Stethoscope::builder()
        .with_slow_poll_threshold(Some(Duration::ZERO))
        .is_err());
}

#[test]
fn spans_outside_any_task_are_not_polls() {
    let capture = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let _span = tracing::info_span!("startup").entered();
        block_thread(Duration::from_millis(30));
    });
    guard.flush(Duration::from_secs(5)).unwrap();
    assert!(slow_polls(&capture.json_lines()).is_empty());
}
