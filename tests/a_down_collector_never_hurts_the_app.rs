//! A collector that is down, answers garbage, or hangs: the application keeps running, spans
//! are dropped and counted, and shutdown returns by its deadline.

mod support;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

fn run(endpoint: &str) -> (stethoscope::Guard, Capture) {
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .without_admin()
        .with_otlp_endpoint(endpoint)
        .unwrap()
        .with_span_queue(256)
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .install()
        .unwrap();
    for i in 0..20_000u64 {
        let span = stethoscope::info_span!("work", i);
        let _e = span.enter();
    }
    (guard, logs)
}

#[test]
fn spans_to_a_closed_port_are_dropped_counted_and_reported_once() {
    let (guard, logs) = run(&closed_port_url());
    // The queue holds at most 256 spans; most of 20,000 must have been dropped.
    assert!(
        guard.dropped_spans() > 10_000,
        "dropped {}",
        guard.dropped_spans()
    );
    assert_eq!(guard.exported_spans(), 0);
    let started = Instant::now();
    let _ = guard.shutdown(Duration::from_secs(2));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "shutdown took {:?}",
        started.elapsed()
    );
    let reports = logs
        .json_lines()
        .into_iter()
        .filter(|l| l["target"] == "stethoscope::trace")
        .count();
    assert_eq!(reports, 1, "export failures are reported once per interval");
}
