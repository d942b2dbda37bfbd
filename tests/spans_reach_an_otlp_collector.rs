//! `#[instrument]` spans arrive at an OTLP/HTTP collector with their names, parent links,
//! attributes, error status and resource, and the JSON log lines carry the exported ids.

mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use stethoscope::{LogOutput, Stethoscope};
use support::collector::{attr, find, hex, Behaviour, Collector};
use support::Capture;

#[derive(Debug)]
struct DbDown;
impl std::fmt::Display for DbDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("database unavailable")
    }
}
impl std::error::Error for DbDown {}

#[stethoscope::instrument(fields(network = "mainnet"))]
fn process_block(height: u64) {
    stethoscope::info!(txs = 3, "block processed");
    write_batch(height);
}

#[stethoscope::instrument]
fn write_batch(height: u64) {
    stethoscope::trace::record_error(&DbDown);
}

#[test]
fn spans_logs_and_resource_agree() {
    let collector = Collector::start(Behaviour::Accept);
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .with_service_name("indexer")
        .with_service_version("1.2.3")
        .without_admin()
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .install()
        .unwrap();
    process_block(812_000);
    guard.shutdown(Duration::from_secs(10)).unwrap();

    let spans = collector.spans();
    let (service, block) = find(&spans, "process_block");
    let (_, batch) = find(&spans, "write_batch");
    assert!(service.contains("indexer"), "{service}");
    assert_eq!(batch.trace_id, block.trace_id);
    assert_eq!(batch.parent_span_id, block.span_id);
    assert!(block.parent_span_id.is_empty(), "root span has no parent");
    assert!(
        attr(block, "height").contains("812000"),
        "{:?}",
        block.attributes
    );
    assert!(
        attr(block, "network").contains("mainnet"),
        "{:?}",
        block.attributes
    );
    let status = batch.status.as_ref().expect("status set");
    assert_eq!(status.code, StatusCode::Error as i32, "{status:?}");
    assert!(
        batch.events.iter().any(|e| e.name == "exception"
            || e.attributes
                .iter()
                .any(|kv| kv.key.starts_with("exception"))),
        "exception event: {:?}",
        batch.events
    );

    let lines = logs.json_lines();
    let processed = lines
        .iter()
        .find(|l| l["message"] == "block processed")
        .unwrap();
    assert_eq!(processed["trace_id"], hex(&block.trace_id));
    assert_eq!(processed["span_id"], hex(&block.span_id));
    let failed = lines.iter().find(|l| l["level"] == "error").unwrap();
    assert_eq!(failed["span_id"], hex(&batch.span_id));
    assert_eq!(failed["error"]["message"], "database unavailable");
}
