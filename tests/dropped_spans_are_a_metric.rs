//! Spans dropped because the collector is down are served as
//! `stethoscope_spans_dropped_total` on `/metrics`.

mod http;

use std::net::TcpListener;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn spans_lost_to_a_closed_collector_are_counted_on_metrics() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .with_otlp_endpoint(&endpoint)
        .unwrap()
        .with_span_queue(64)
        .install()
        .unwrap();
    for i in 0..5_000u64 {
        let span = stethoscope::info_span!("work", i);
        let _e = span.enter();
    }
    let scrape = http::parse(&http::get(guard.admin_addr().unwrap(), "/metrics").body);
    let dropped = http::value(&scrape, "stethoscope_spans_dropped_total").unwrap_or(0.0);
    assert!(dropped >= 4_000.0, "dropped {dropped}");
    assert!(
        guard.dropped_spans() >= dropped as u64,
        "the guard counts the same drops"
    );
    assert_eq!(
        http::value(&scrape, "stethoscope_spans_exported_total"),
        Some(0.0)
    );
}
