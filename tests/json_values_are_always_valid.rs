//! Whatever a field holds, the line is valid JSON and the value survives.

mod support;

use std::fmt;

use stethoscope::logging::JsonLayer;
use support::json_lines_of;

#[derive(Debug)]
struct Inner;
impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection refused")
    }
}
impl std::error::Error for Inner {}

#[derive(Debug)]
struct Outer(Inner);
impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("write \"batch\" failed")
    }
}
impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn strings_with_quotes_backslashes_and_control_characters_roundtrip() {
    let nasty = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} crab 🦀";
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::info!(nasty, debug = ?nasty, "msg {}", nasty);
    });
    assert_eq!(lines[0]["nasty"], nasty);
    assert_eq!(lines[0]["debug"], format!("{nasty:?}"));
    assert_eq!(lines[0]["message"], format!("msg {nasty}"));
}

#[test]
fn invalid_utf8_is_written_through_debug() {
    let bytes: &[u8] = b"ok \xff\xfe bytes";
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::info!(raw = ?bytes, lossy = %String::from_utf8_lossy(bytes), "bytes");
    });
    assert_eq!(lines[0]["raw"], format!("{bytes:?}"));
    assert_eq!(lines[0]["lossy"], "ok \u{fffd}\u{fffd} bytes");
}

#[test]
fn non_finite_floats_are_strings_and_finite_ones_numbers() {
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::info!(
            nan = f64::NAN,
            inf = f64::INFINITY,
            ninf = f64::NEG_INFINITY,
            half = 0.5f64,
            tiny = 1e-300f64,
            "floats"
        );
    });
    let l = &lines[0];
    assert_eq!(l["nan"], "NaN");
    assert_eq!(l["inf"], "Infinity");
    assert_eq!(l["ninf"], "-Infinity");
    assert_eq!(l["half"], 0.5);
    assert_eq!(l["tiny"].as_f64(), Some(1e-300));
}

#[test]
fn integers_up_to_128_bits_are_written_exactly() {
    let capture = support::Capture::default();
    {
        use tracing_subscriber::prelude::*;
        let subscriber =
            tracing_subscriber::registry().with(JsonLayer::new().with_writer(capture.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(
                big = u128::MAX,
                small = i128::MIN,
                neg = i64::MIN,
                top = u64::MAX,
                "ints"
            );
        });
    }
    let raw = capture.text();
    assert!(raw.contains(&format!("\"big\":{}", u128::MAX)), "{raw}");
    assert!(raw.contains(&format!("\"small\":{}", i128::MIN)), "{raw}");
    let l = &capture.json_lines()[0];
    assert_eq!(l["neg"].as_i64(), Some(i64::MIN));
    assert_eq!(l["top"].as_u64(), Some(u64::MAX));
}

#[test]
fn very_long_messages_are_complete() {
    let long = "x\"y".repeat(400_000);
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::info!(payload = long.as_str(), "{}", long);
    });
    assert_eq!(lines[0]["message"].as_str().unwrap().len(), long.len());
    assert_eq!(lines[0]["payload"], long.as_str());
}

#[test]
fn errors_carry_their_message_and_source_chain() {
    let err = Outer(Inner);
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::error!(error = &err as &dyn std::error::Error, "flush failed");
    });
    assert_eq!(lines[0]["error"]["message"], "write \"batch\" failed");
    assert_eq!(
        lines[0]["error"]["chain"],
        serde_json::json!(["connection refused"])
    );
}

#[test]
fn span_field_values_follow_the_same_rules() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let span = tracing::info_span!("s", nan = f64::NAN, text = "a\"b", big = u128::MAX);
        let _e = span.enter();
        tracing::info!("inside");
    });
    assert_eq!(lines[0]["nan"], "NaN");
    assert_eq!(lines[0]["text"], "a\"b");
    assert!(lines[0]["big"].is_number());
}
