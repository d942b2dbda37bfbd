//! `tracestate` received with a valid `traceparent` is forwarded as W3C Trace Context (level 2,
//! §3.3) says: keys may contain `@` anywhere after their first character, a duplicated key
//! keeps its left-most member instead of losing the whole header, an invalid member (a key
//! starting with `@`, a 257-character key, a 33rd member) discards the header, and the kept
//! members keep their order. Each case extracts incoming headers, injects the outgoing ones
//! and compares the raw `tracestate` text — directly, through a span without an OpenTelemetry
//! layer, and through a span exported by OpenTelemetry.

mod support;

use std::time::Duration;

use stethoscope::logging::JsonLayer;
use stethoscope::{propagation, LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

type Headers = Vec<(String, Vec<u8>)>;

/// Incoming message headers: the valid `traceparent` and each `tracestate` value as its own
/// header field.
fn incoming(tracestates: &[&str]) -> Headers {
    let mut headers = vec![("traceparent".to_owned(), TRACEPARENT.as_bytes().to_vec())];
    for value in tracestates {
        headers.push(("tracestate".to_owned(), value.as_bytes().to_vec()));
    }
    headers
}

/// The raw outgoing `tracestate` text, `None` when no such header was written.
fn outgoing_tracestate(headers: &Headers) -> Option<String> {
    let values: Vec<&[u8]> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("tracestate"))
        .map(|(_, v)| v.as_slice())
        .collect();
    assert!(values.len() <= 1, "one tracestate header field: {values:?}");
    values
        .first()
        .map(|v| String::from_utf8(v.to_vec()).expect("tracestate is ASCII"))
}

/// `(incoming tracestate fields, expected raw outgoing tracestate)`.
fn cases() -> Vec<(Vec<String>, Option<String>)> {
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let some = |s: &str| Some(s.to_owned());
    let members = |n: usize| -> Vec<String> { (1..=n).map(|i| format!("k{i:02}=v{i}")).collect() };
    let tenant_256 = format!("{}@{}", "t".repeat(241), "v".repeat(14));
    let early_at_256 = format!("a@{}", "b".repeat(254));
    let long_tenant = format!("{}@v", "t".repeat(242));
    let key_257 = format!("{}@{}", "t".repeat(241), "v".repeat(15));
    vec![
        // Duplicated keys: the left-most member stays, the others propagate in order.
        (own(&["foo=1,bar=2,foo=3"]), some("foo=1,bar=2")),
        (own(&["foo=1,foo=1"]), some("foo=1")),
        (own(&["foo=1", "foo=2"]), some("foo=1")),
        (
            own(&["rojo=1,congo=2", "rojo=3,baz=4"]),
            some("rojo=1,congo=2,baz=4"),
        ),
        // `@` after the first character is a key character (level 2 key grammar).
        (own(&["foo@=1,bar=2"]), some("foo@=1,bar=2")),
        (own(&["foo@@bar=1,bar=2"]), some("foo@@bar=1,bar=2")),
        (own(&["foo@bar@baz=1,bar=2"]), some("foo@bar@baz=1,bar=2")),
        (
            own(&["fw529a3039@dt=x,1abc=y"]),
            some("fw529a3039@dt=x,1abc=y"),
        ),
        (
            own(&["foo=1", &format!("{tenant_256}=1")]),
            Some(format!("foo=1,{tenant_256}=1")),
        ),
        (
            own(&[&format!("{early_at_256}=1"), "foo=1"]),
            Some(format!("{early_at_256}=1,foo=1")),
        ),
        (
            own(&["foo=1", &format!("{long_tenant}=1")]),
            Some(format!("foo=1,{long_tenant}=1")),
        ),
        // Invalid members discard the whole header.
        (own(&["@foo=1,bar=2"]), None),
        (own(&["foo=1", &format!("{key_257}=1")]), None),
        (own(&["foo=1,Bar=2"]), None),
        (own(&["foo=1,bar="]), None),
        // At most 32 members, order kept across header fields.
        (
            vec![members(20)[..10].join(","), members(32)[10..].join(",")],
            Some(members(32).join(",")),
        ),
        (vec![members(33).join(",")], None),
        // Empty members and optional whitespace are not part of the list; a value's inner
        // spaces are.
        (own(&[" a=1 ,, \t, b= 2 x\t", ""]), some("a=1,b= 2 x")),
    ]
}

fn check(path: &str, run: impl Fn(&Headers) -> Headers) {
    let mut failures = Vec::new();
    for (input, expected) in cases() {
        let refs: Vec<&str> = input.iter().map(String::as_str).collect();
        let out = run(&incoming(&refs));
        let got = outgoing_tracestate(&out);
        if got != expected {
            failures.push(format!(
                "{path}: {input:?}\n   got {got:?}\n  want {expected:?}"
            ));
        }
        assert!(
            out.iter().any(|(k, v)| k == "traceparent"
                && v.starts_with(b"00-4bf92f3577b34da6a3ce929d0e0e4736-")),
            "{path}: the trace continues for {input:?}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn extract_then_inject_forwards_the_raw_tracestate() {
    check("extract/inject", |headers| {
        let cx = propagation::extract(headers);
        let mut out = Headers::new();
        propagation::inject(&cx, &mut out);
        out
    });
}

/// The consumer side as applications write it: continue the trace in a span, then send the
/// current context onwards.
fn forward_from_a_child_span(headers: &Headers) -> Headers {
    let span = stethoscope::info_span!("consume");
    propagation::continue_from(&span, headers);
    let _entered = span.enter();
    let child = stethoscope::info_span!("forward");
    let _child = child.enter();
    let mut out = Headers::new();
    propagation::inject_current(&mut out);
    out
}

#[test]
fn a_span_without_an_opentelemetry_layer_forwards_the_raw_tracestate() {
    use tracing_subscriber::prelude::*;
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new().with_writer(std::io::sink));
    tracing::subscriber::with_default(subscriber, || {
        check("span without OpenTelemetry", forward_from_a_child_span);
    });
}

#[test]
fn an_exported_span_forwards_the_raw_tracestate() {
    let collector = Collector::start(Behaviour::Accept);
    let (dispatch, guard) = Stethoscope::builder()
        .with_service_name("forwarder")
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        check("exported span", forward_from_a_child_span);
    });
    guard.shutdown(Duration::from_secs(10)).unwrap();
}
