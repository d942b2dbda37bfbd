//! `GET /debug/operations` lists busy vs idle time per operation.

mod http;

use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn the_endpoint_lists_each_operation() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .with_operation_stats(true, true)
        .install()
        .unwrap();
    {
        let _span = tracing::info_span!("db_query").entered();
        std::thread::sleep(Duration::from_millis(5));
    }
    let addr = guard.admin_addr().unwrap();
    let response = http::get(addr, "/debug/operations");
    assert_eq!(response.status, 200);
    let mut lines = response.body.lines();
    assert_eq!(
        lines.next(),
        Some("operation\tcalls\ttotal_wall_s\tbusy_pct\tidle_pct\tp99_wall_ms")
    );
    let row: Vec<&str> = lines.next().unwrap().split('\t').collect();
    assert_eq!(row[0], "db_query");
    assert_eq!(row[1], "1");
    let metrics = guard.render_metrics().unwrap();
    assert!(
        metrics.contains("span_busy_seconds_count{span=\"db_query\"} 1"),
        "{metrics}"
    );
}
