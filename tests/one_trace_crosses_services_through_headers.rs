//! A trace continues across a message queue: the producer injects its span's context into
//! message headers, the consumer extracts it, and both services' log lines carry one trace id.

mod support;

use stethoscope::logging::JsonLayer;
use stethoscope::propagation;
use support::json_lines_of;

#[test]
fn producer_and_consumer_log_lines_share_the_trace_id() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        {
            let publish = stethoscope::info_span!("publish", topic = "txs");
            let _e = publish.enter();
            propagation::inject_current(&mut headers);
            stethoscope::info!("published");
        }
        // --- the consumer service, e.g. another process reading the message ---
        let parent = propagation::extract(&headers);
        let consume = stethoscope::info_span!("consume", topic = "txs");
        propagation::set_parent(&consume, &parent);
        let _e = consume.enter();
        let child = stethoscope::info_span!("update_aggregate");
        let _c = child.enter();
        stethoscope::info!("consumed");
        let header = String::from_utf8(headers[0].1.clone()).unwrap();
        stethoscope::info!(header, "header");
    });
    let (published, consumed, header_line) = (&lines[0], &lines[1], &lines[2]);
    assert_eq!(consumed["trace_id"], published["trace_id"]);
    assert_ne!(consumed["span_id"], published["span_id"]);
    let header = header_line["header"].as_str().unwrap();
    let expected = format!(
        "00-{}-{}-03",
        published["trace_id"].as_str().unwrap(),
        published["span_id"].as_str().unwrap()
    );
    assert_eq!(
        header, expected,
        "traceparent carries the producer span as parent"
    );
}

#[test]
fn a_malformed_traceparent_starts_a_new_trace_without_failing() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let headers: Vec<(String, Vec<u8>)> =
            vec![("traceparent".into(), b"00-zzzz-not-valid-01".to_vec())];
        let parent = propagation::extract(&headers);
        let span = stethoscope::info_span!("consume");
        propagation::set_parent(&span, &parent);
        let _e = span.enter();
        stethoscope::info!("consumed");
    });
    let trace = lines[0]["trace_id"].as_str().unwrap();
    assert_eq!(trace.len(), 32);
    assert_ne!(trace, "0".repeat(32));
}

#[test]
fn tracestate_is_forwarded_by_the_consumer() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let incoming: Vec<(String, Vec<u8>)> = vec![
            (
                "traceparent".into(),
                b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_vec(),
            ),
            ("tracestate".into(), b"rojo=00f067aa0ba902b7".to_vec()),
            ("tracestate".into(), b"congo=t61rcWkgMzE".to_vec()),
        ];
        let span = stethoscope::info_span!("consume");
        propagation::set_parent(&span, &propagation::extract(&incoming));
        let _e = span.enter();
        let mut outgoing = std::collections::HashMap::new();
        propagation::inject_current(&mut outgoing);
        stethoscope::info!(
            traceparent = outgoing["traceparent"].as_str(),
            tracestate = outgoing["tracestate"].as_str(),
            "forwarding"
        );
    });
    let l = &lines[0];
    assert_eq!(l["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(l["tracestate"], "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    let tp = l["traceparent"].as_str().unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{tp}"
    );
    assert!(tp.ends_with("-01"), "{tp}");
    assert!(tp.contains(l["span_id"].as_str().unwrap()), "{tp}");
}
