//! Shutdown says when its last export did not reach the collector: a collector that never
//! answers is a timeout, one that refuses is an export failure; both count the lost spans.
//!
//! `OTEL_BSP_SCHEDULE_DELAY` is set to an hour so that no periodic export runs: every span is
//! exported by shutdown itself, whatever the machine's load.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use stethoscope::{Guard, LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

/// A scoped pipeline exporting to `collector`, with three finished spans queued.
fn three_spans_queued_for(collector: &Collector) -> Guard {
    let endpoint = collector.url();
    let env: HashMap<&str, &str> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        // The request itself may wait far longer than shutdown does.
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "600000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "3600000"),
    ]
    .into();
    let (dispatch, guard) = Stethoscope::builder()
        .from_env_with(|v| env.get(v).map(|s| s.to_string()))
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3 {
            let span = stethoscope::info_span!("work", i);
            let _entered = span.enter();
        }
    });
    guard
}

#[test]
fn a_collector_that_never_answers_is_a_timeout_that_counts_the_spans() {
    let collector = Collector::start(Behaviour::Hang);
    let guard = three_spans_queued_for(&collector);
    let err = guard
        .shutdown(Duration::from_millis(300))
        .expect_err("shutdown reported success although the collector never answered");
    let text = err.to_string();
    assert!(
        text.starts_with(
            "the OTLP collector did not answer within the shutdown deadline of 300ms: 3 span(s) \
             were not exported"
        ),
        "{text}"
    );
    assert_eq!(format!("{err:?}"), text);
    // The request did go out (and is still unanswered): the count is of spans it carried.
    collector.wait_for_requests(1);
}

#[test]
fn a_collector_that_refuses_the_last_export_is_an_error_that_counts_the_spans() {
    let collector = Collector::start(Behaviour::Reject);
    let guard = three_spans_queued_for(&collector);
    let err = guard
        .shutdown(Duration::from_secs(60))
        .expect_err("shutdown reported success although the collector refused the spans");
    let text = err.to_string();
    assert!(
        text.starts_with("exporting the last spans at shutdown failed ("),
        "{text}"
    );
    assert!(
        text.contains("HTTP export failed with status code: 400): 3 span(s) were not exported"),
        "{text}"
    );
    assert_eq!(collector.heads().len(), 1, "one export, not retried");
}
