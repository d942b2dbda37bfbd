//! A collector that accepts connections and never answers cannot hold the process past the
//! shutdown deadline.

mod support;

use std::time::{Duration, Instant};

use stethoscope::{Error, LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

/// Installs with `collector` as the OTLP endpoint and finishes 100 spans.
fn install_and_trace(collector: &Collector) -> stethoscope::Guard {
    let guard = Stethoscope::builder()
        .without_admin()
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .install()
        .unwrap();
    for i in 0..100u64 {
        let span = stethoscope::info_span!("work", i);
        let _e = span.enter();
    }
    guard
}

#[test]
fn shutdown_gives_up_at_its_deadline() {
    let collector = Collector::start(Behaviour::Hang);
    let guard = install_and_trace(&collector);
    std::thread::sleep(Duration::from_millis(700)); // let the first export start and hang
    let started = Instant::now();
    let result = guard.shutdown(Duration::from_secs(1));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(result, Err(Error::ExportTimeout { .. }) | Ok(())),
        "{result:?}"
    );
}

#[test]
fn garbage_answers_are_survived() {
    let collector = Collector::start(Behaviour::Garbage);
    let guard = install_and_trace(&collector);
    let _ = guard.shutdown(Duration::from_secs(5));
    assert!(!collector.spans().is_empty(), "the spans were delivered");
}
