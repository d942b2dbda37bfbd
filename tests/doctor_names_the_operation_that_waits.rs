//! An operation that spends its time waiting (a slow database query) next to one that
//! computes: the doctor's I/O-wait finding names the waiting one (bubbleprof's answer).

mod doctor;
mod support;

use std::time::Duration;

use stethoscope::doctor::{Doctor, Signal};
use stethoscope::runtime::{OperationStats, SlowOpLayer};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[test]
fn a_waiting_operation_is_an_io_wait_finding_that_names_it() {
    let stats = OperationStats::new();
    // Global: the spans close on the runtime's worker threads.
    tracing_subscriber::registry()
        .with(SlowOpLayer::new().with_operation_stats(stats.clone()))
        .init();
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    {
        let stop = stop.clone();
        runtime.spawn(async move {
            while !stop.stopped() {
                async { tokio::time::sleep(Duration::from_millis(120)).await }
                    .instrument(tracing::info_span!("db.query"))
                    .await;
                async { std::hint::black_box(doctor::parse_blocks_synchronously(50_000)) }
                    .instrument(tracing::info_span!("parse_response"))
                    .await;
            }
        });
    }
    let report = runtime
        .block_on(
            Doctor::new()
                .with_cpu_profile(false)
                .with_operation_stats(stats)
                .observe(doctor::WINDOW),
        )
        .unwrap();
    stop.stop();

    let wait = doctor::finding(&report, "io_wait");
    assert_eq!(wait.signal, Some(Signal::Operations));
    assert_eq!(wait.subjects, ["db.query"], "{}", report.to_text());
    assert!(wait.evidence("idle_percent").unwrap() >= 80.0);
    assert!(
        wait.evidence("slow_calls").unwrap() >= 5.0,
        "{}",
        report.to_text()
    );
    let parse = report
        .operations()
        .iter()
        .find(|op| op.summary.name == "parse_response")
        .expect("the computing operation is in the table");
    assert!(parse.summary.busy_share > 0.5, "{parse:?}");
    // Every db.query is slower than the 100 ms slow-operation threshold.
    let slow = report.summary(Signal::SlowOperations).unwrap();
    assert!(slow.last >= 5.0, "{slow:?}");
}
