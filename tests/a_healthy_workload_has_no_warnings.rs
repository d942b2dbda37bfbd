//! A service doing light async work: the doctor finds nothing of severity warning or above and
//! says so.

mod doctor;
mod support;

use std::time::Duration;

use stethoscope::doctor::{Doctor, Severity};
use stethoscope::runtime::{OperationStats, SlowOpLayer};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[test]
fn a_healthy_workload_gets_no_warning() {
    let stats = OperationStats::new();
    // Global: the spans close on the runtime's worker threads.
    tracing_subscriber::registry()
        .with(SlowOpLayer::new().with_operation_stats(stats.clone()))
        .init();
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    for worker in 0..4u64 {
        let stop = stop.clone();
        runtime.spawn(async move {
            let mut buffers = Vec::new();
            while !stop.stopped() {
                async {
                    // Short work and short waits, memory reused.
                    buffers.push(vec![worker as u8; 4096]);
                    buffers.truncate(8);
                    std::hint::black_box(doctor::parse_blocks_synchronously(2_000));
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                .instrument(tracing::info_span!("handle_request"))
                .await;
            }
        });
    }
    let report = runtime
        .block_on(
            Doctor::new()
                .with_operation_stats(stats)
                .observe(doctor::WINDOW),
        )
        .unwrap();
    stop.stop();

    assert!(doctor::problems(&report).is_empty(), "{}", report.to_text());
    assert_eq!(report.worst_severity(), Severity::Info);
    let healthy = doctor::finding(&report, "healthy");
    assert_eq!(healthy.title, "No issue detected");
    assert!(report.to_text().contains("No issue detected"));
    // The light work was seen, not missed.
    assert!(report
        .operations()
        .iter()
        .any(|op| op.summary.name == "handle_request"));
    assert!(report.scheduling_delay().unwrap().probes >= 10);
}
