//! Tasks wrapped by `runtime::task_monitor("group")` are published as `tokio_task_*{group}`.

mod support;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn a_named_task_group_is_published_with_its_label() {
    let runtime = support::two_worker_runtime();
    let guard = runtime.block_on(async {
        Stethoscope::builder()
            .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
            .without_admin()
            .with_runtime_sample_interval(Duration::from_millis(100))
            .unwrap()
            .install()
            .unwrap()
    });
    let db_writer = stethoscope::runtime::task_monitor("db_writer");
    runtime.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(db_writer.instrument(async {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }))
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = guard.render_metrics().unwrap();
        if text.contains("tokio_task_dropped_total{group=\"db_writer\"} 4")
            || Instant::now() > deadline
        {
            break text;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    for line in [
        "tokio_task_instrumented_total{group=\"db_writer\"} 4",
        "tokio_task_dropped_total{group=\"db_writer\"} 4",
        "tokio_task_polls_total{group=\"db_writer\"} ",
        "tokio_task_slow_polls_total{group=\"db_writer\"} ",
        "tokio_task_mean_poll_seconds{group=\"db_writer\"} ",
    ] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    drop(guard);
}
