//! Through a real Kafka protocol broker (rdkafka's in-process `MockCluster`): the producer
//! service injects its trace into the message headers, the consumer service continues it, and
//! the collector receives one trace.

#![cfg(feature = "kafka")]

mod support;

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Message, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use stethoscope::propagation;
use support::collector::{find, service, Behaviour, Collector};

#[test]
fn a_trace_crosses_kafka_from_producer_to_consumer() {
    let cluster: MockCluster<'_, DefaultProducerContext> = MockCluster::new(1).unwrap();
    cluster.create_topic("txs", 1, 1).unwrap();
    let brokers = cluster.bootstrap_servers();
    let collector = Collector::start(Behaviour::Accept);
    let (indexer, indexer_guard) = service("indexer", &collector);
    let (aggregator, aggregator_guard) = service("aggregator", &collector);

    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    tracing::dispatcher::with_default(&indexer, || {
        let publish = stethoscope::info_span!("publish", otel.kind = "producer");
        let _e = publish.enter();
        let mut headers = OwnedHeaders::new();
        propagation::inject_current(&mut headers);
        producer
            .send(
                BaseRecord::to("txs")
                    .key("tx-1")
                    .payload("{}")
                    .headers(headers),
            )
            .map_err(|(e, _)| e)
            .unwrap();
    });
    producer.flush(Duration::from_secs(10)).unwrap();

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "aggregator")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&["txs"]).unwrap();
    let started = Instant::now();
    let message = loop {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no message consumed"
        );
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => break m.detach(),
            Some(Err(e)) => panic!("consume failed: {e}"),
            None => continue,
        }
    };
    tracing::dispatcher::with_default(&aggregator, || {
        let consume = stethoscope::info_span!("consume", otel.kind = "consumer");
        let parent = propagation::extract(message.headers().expect("the message has headers"));
        propagation::set_parent(&consume, &parent);
        let _e = consume.enter();
    });
    indexer_guard.shutdown(Duration::from_secs(10)).unwrap();
    aggregator_guard.shutdown(Duration::from_secs(10)).unwrap();

    let spans = collector.spans();
    let (publish_service, publish) = find(&spans, "publish");
    let (consume_service, consume) = find(&spans, "consume");
    assert!(publish_service.contains("indexer"));
    assert!(consume_service.contains("aggregator"));
    assert_eq!(consume.trace_id, publish.trace_id);
    assert_eq!(consume.parent_span_id, publish.span_id);
    assert_eq!(publish.kind, 4, "SPAN_KIND_PRODUCER");
    assert_eq!(consume.kind, 5, "SPAN_KIND_CONSUMER");
}

#[test]
fn setting_a_header_replaces_a_stale_one() {
    use stethoscope::propagation::{Carrier, CarrierMut};
    let mut headers = OwnedHeaders::new()
        .insert(rdkafka::message::Header {
            key: "traceparent",
            value: Some("old"),
        })
        .insert(rdkafka::message::Header {
            key: "other",
            value: Some("x"),
        });
    headers.set("traceparent", "new".into());
    assert_eq!(headers.get_all("traceparent"), vec!["new"]);
    assert_eq!(headers.get("other"), Some("x"));
}
