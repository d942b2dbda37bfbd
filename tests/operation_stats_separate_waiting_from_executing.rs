//! The per-operation aggregate tells an operation that waits from one that executes.

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};
use tracing::Instrument;

#[test]
fn a_waiting_operation_and_an_executing_one_are_told_apart() {
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_operation_stats(true, false)
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        for _ in 0..3 {
            runtime.block_on(
                async { tokio::time::sleep(Duration::from_millis(30)).await }
                    .instrument(tracing::info_span!("db_query")),
            );
            runtime.block_on(
                async {
                    let end = Instant::now() + Duration::from_millis(30);
                    while Instant::now() < end {
                        std::hint::spin_loop();
                    }
                }
                .instrument(tracing::info_span!("json_parse")),
            );
        }
    });
    let summary = guard.operation_stats().unwrap().summary();
    let find = |name: &str| summary.iter().find(|s| s.name == name).unwrap().clone();
    let (waiting, executing) = (find("db_query"), find("json_parse"));
    assert_eq!(waiting.calls, 3);
    assert_eq!(executing.calls, 3);
    assert!(waiting.idle_share > 0.8, "{waiting:?}");
    assert!(executing.busy_share > 0.8, "{executing:?}");
    assert!(
        waiting.total_wall >= Duration::from_millis(90),
        "{waiting:?}"
    );
    assert!(waiting.p99_wall >= Duration::from_millis(30), "{waiting:?}");
}

#[test]
fn operation_stats_are_off_by_default() {
    let (_dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    assert!(guard.operation_stats().is_none());
}
