//! Two services (two tracer providers with different service names) pass a message with trace
//! context in its headers; the collector receives one trace with the right parent chain.

mod support;

use std::time::Duration;

use stethoscope::propagation;
use support::collector::{find, service, Behaviour, Collector};

#[test]
fn producer_and_consumer_spans_form_one_trace() {
    let collector = Collector::start(Behaviour::Accept);
    let (indexer, indexer_guard) = service("indexer", &collector);
    let (aggregator, aggregator_guard) = service("aggregator", &collector);

    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    tracing::dispatcher::with_default(&indexer, || {
        let publish = stethoscope::info_span!("publish", topic = "txs");
        let _e = publish.enter();
        propagation::inject_current(&mut headers);
    });
    tracing::dispatcher::with_default(&aggregator, || {
        let consume = stethoscope::info_span!("consume", topic = "txs");
        propagation::set_parent(&consume, &propagation::extract(&headers));
        let _e = consume.enter();
        let update = stethoscope::info_span!("update_aggregate");
        let _u = update.enter();
    });
    indexer_guard.shutdown(Duration::from_secs(10)).unwrap();
    aggregator_guard.shutdown(Duration::from_secs(10)).unwrap();

    let spans = collector.spans();
    let (publish_service, publish) = find(&spans, "publish");
    let (consume_service, consume) = find(&spans, "consume");
    let (_, update) = find(&spans, "update_aggregate");
    assert!(publish_service.contains("indexer"), "{publish_service}");
    assert!(consume_service.contains("aggregator"), "{consume_service}");
    assert_eq!(consume.trace_id, publish.trace_id, "one trace");
    assert_eq!(
        consume.parent_span_id, publish.span_id,
        "consume is a child of publish"
    );
    assert_eq!(update.parent_span_id, consume.span_id);
    assert_eq!(update.trace_id, publish.trace_id);
}
