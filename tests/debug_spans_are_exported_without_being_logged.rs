//! Export follows its own filter: with logs at `info` and the trace filter at `debug` for this
//! crate, a `debug` span reaches the collector (as a child of its `info` parent) while no log
//! line mentions it; a span marked OK arrives with status OK.

mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use stethoscope::{LogOutput, Stethoscope};
use support::collector::{find, Behaviour, Collector};
use support::Capture;

const THIS_CRATE: &str = module_path!();

#[stethoscope::instrument(level = "debug", skip_all)]
fn decode_block() {
    stethoscope::debug!("decoded");
}

#[test]
fn a_debug_span_is_exported_at_info_logging_and_ok_status_arrives() {
    let collector = Collector::start(Behaviour::Accept);
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .without_admin()
        .with_log_filter("info")
        .unwrap()
        .with_trace_filter(&format!("info,{THIS_CRATE}=debug"))
        .unwrap()
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .install()
        .unwrap();
    let block = stethoscope::info_span!("process_block", height = 7u64);
    block.in_scope(|| {
        decode_block();
        stethoscope::info!("block processed");
    });
    stethoscope::trace::set_status_ok(&block);
    drop(block);
    guard.shutdown(Duration::from_secs(10)).unwrap();

    let spans = collector.spans();
    let (_, parent) = find(&spans, "process_block");
    let (_, child) = find(&spans, "decode_block");
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "the debug span keeps its parent"
    );
    assert_eq!(child.trace_id, parent.trace_id);
    let status = parent.status.as_ref().expect("a status was set");
    assert_eq!(status.code, StatusCode::Ok as i32, "{status:?}");

    // Raw text: neither the debug span nor its debug event is logged at `info`.
    let text = logs.text();
    assert!(text.contains("block processed"), "{text}");
    assert!(
        !text.contains("decode_block"),
        "the debug span was logged:\n{text}"
    );
    assert!(
        !text.contains("\"decoded\""),
        "a debug event was logged:\n{text}"
    );
}

#[test]
fn span_filters_are_validated_with_the_setting_named() {
    let err = Stethoscope::builder()
        .with_trace_filter("info,db=loud")
        .unwrap_err();
    assert!(err.to_string().contains("with_trace_filter"), "{err}");
    let err = Stethoscope::builder()
        .from_env_with(|v| (v == "STETHOSCOPE_SLOW_FILTER").then(|| "=".into()))
        .unwrap_err();
    assert!(err.to_string().contains("STETHOSCOPE_SLOW_FILTER"), "{err}");
}
