//! Every line is one JSON object with the event's fields, the span chain's fields (nearest
//! wins), the innermost span's name and W3C ids shared along the trace.

mod support;

use serde_json::Value;
use stethoscope::logging::JsonLayer;
use support::json_keys::{assert_unique_keys, key_count, repeated_keys, top_level_keys};
use support::{json_lines_of, output_of};

fn is_hex(v: &Value, len: usize) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[test]
fn an_event_outside_spans_has_the_base_keys_and_its_fields() {
    let lines = json_lines_of(JsonLayer::new(), || {
        tracing::warn!(target: "indexer::db", rows = 500u64, table = "txs", ok = true, "batch written");
    });
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert_eq!(l["level"], "warn");
    assert_eq!(l["target"], "indexer::db");
    assert_eq!(l["message"], "batch written");
    assert_eq!(l["rows"], 500);
    assert_eq!(l["table"], "txs");
    assert_eq!(l["ok"], true);
    let ts = l["timestamp"].as_str().unwrap();
    assert_eq!(ts.len(), 27, "{ts}");
    assert!(
        ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.',
        "{ts}"
    );
    for absent in ["span", "trace_id", "span_id"] {
        assert!(
            l.get(absent).is_none(),
            "{absent} present outside spans: {l}"
        );
    }
}

#[test]
fn span_fields_appear_on_every_line_inside_the_span_with_the_nearest_value_winning() {
    let output = output_of(JsonLayer::new(), || {
        let request = tracing::info_span!("request", request_id = "r-17", shard = 1, user = "ada");
        let _r = request.enter();
        tracing::info!("outer");
        let batch = tracing::info_span!("write_batch", shard = 2, rows = 3);
        let _b = batch.enter();
        tracing::info!(user = "event-wins", "inner");
    });
    let (lines, raw) = (output.json_lines(), output.raw_lines());
    assert_eq!(lines.len(), 2);
    let (outer, inner) = (&lines[0], &lines[1]);
    assert_eq!(outer["request_id"], "r-17");
    assert_eq!(outer["shard"], 1);
    assert_eq!(outer["span"], "request");

    assert_eq!(inner["request_id"], "r-17", "outer span's field inherited");
    assert_eq!(inner["shard"], 2, "inner span wins over outer");
    assert_eq!(inner["rows"], 3);
    assert_eq!(inner["user"], "event-wins", "event wins over spans");
    assert_eq!(inner["span"], "write_batch");

    assert!(
        is_hex(&outer["trace_id"], 32) && is_hex(&outer["span_id"], 16),
        "{outer}"
    );
    assert_eq!(
        inner["trace_id"], outer["trace_id"],
        "one trace along the chain"
    );
    assert_ne!(inner["span_id"], outer["span_id"]);
    // The losing values must not be written at all: serde_json would keep the last of
    // repeated keys, so count them in the raw line.
    assert_eq!(key_count(&raw[1], "shard"), 1, "{}", raw[1]);
    assert_eq!(key_count(&raw[1], "user"), 1, "{}", raw[1]);
    raw.iter().for_each(|l| assert_unique_keys(l));
}

#[test]
fn separate_root_spans_start_separate_traces() {
    let lines = json_lines_of(JsonLayer::new(), || {
        for _ in 0..2 {
            let span = tracing::info_span!("job");
            let _e = span.enter();
            tracing::info!("run");
        }
    });
    assert_ne!(lines[0]["trace_id"], lines[1]["trace_id"]);
}

#[test]
fn fields_recorded_later_show_on_subsequent_lines() {
    let output = output_of(JsonLayer::new(), || {
        let span = tracing::info_span!(
            "block",
            height = 812_000,
            txs = tracing::field::Empty,
            status = "pending"
        );
        let _e = span.enter();
        tracing::info!("before");
        span.record("txs", 3);
        span.record("status", "done");
        tracing::info!("after");
    });
    let (lines, raw) = (output.json_lines(), output.raw_lines());
    assert!(lines[0].get("txs").is_none());
    assert_eq!(lines[0]["status"], "pending");
    assert_eq!(lines[1]["txs"], 3);
    assert_eq!(lines[1]["status"], "done");
    assert_eq!(lines[1]["height"], 812_000);
    // The recorded value replaces the old one rather than being written next to it.
    assert_eq!(key_count(&raw[1], "status"), 1, "{}", raw[1]);
    raw.iter().for_each(|l| assert_unique_keys(l));
}

#[test]
fn explicit_parents_are_followed() {
    let lines = json_lines_of(JsonLayer::new(), || {
        let parent = tracing::info_span!("parent", job = "reindex");
        tracing::info!(parent: &parent, "explicit");
    });
    assert_eq!(lines[0]["job"], "reindex");
    assert_eq!(lines[0]["span"], "parent");
}

#[test]
fn user_fields_named_like_reserved_keys_are_renamed_not_duplicated() {
    let layer = JsonLayer::new().with_constant_field("service", "indexer");
    let output = output_of(layer, || {
        let span = tracing::info_span!("s", message = "span msg", level = 3);
        let _e = span.enter();
        tracing::info!(
            timestamp = 5,
            target = "t",
            service = "other",
            "real message"
        );
    });
    let lines = output.json_lines();
    let l = &lines[0];
    assert_eq!(l["message"], "real message");
    assert_eq!(l["level"], "info");
    assert_eq!(l["service"], "indexer");
    assert_eq!(l["fields.timestamp"], 5);
    assert_eq!(l["fields.target"], "t");
    assert_eq!(l["fields.service"], "other");
    assert_eq!(l["fields.message"], "span msg");
    assert_eq!(l["fields.level"], 3);
    // Renamed, not written twice: a parser would show only one of two `message` keys.
    let raw = &output.raw_lines()[0];
    assert_unique_keys(raw);
    for key in ["timestamp", "level", "message", "target", "service"] {
        assert_eq!(key_count(raw, key), 1, "{key} in {raw}");
    }
}

#[test]
fn log_crate_records_keep_their_own_target() {
    use tracing_subscriber::prelude::*;
    let capture = support::Capture::default();
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new().with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        // What `LogTracer` produces for `log::info!(target: "legacy", "hello {}", 1)`.
        tracing_log::format_trace(
            &log::Record::builder()
                .args(format_args!("hello {}", 1))
                .level(log::Level::Info)
                .target("legacy")
                .file(Some("legacy.rs"))
                .line(Some(7))
                .module_path(Some("legacy"))
                .build(),
        )
        .unwrap();
    });
    let lines = capture.json_lines();
    assert_eq!(lines[0]["target"], "legacy");
    assert_eq!(lines[0]["message"], "hello 1");
    assert!(lines[0].get("log.target").is_none(), "{}", lines[0]);
}

#[test]
fn a_parent_recorded_after_its_child_was_created_shows_the_new_value_in_the_child() {
    let output = output_of(JsonLayer::new(), || {
        let parent =
            tracing::info_span!("request", status = "pending", user = tracing::field::Empty);
        let _p = parent.enter();
        let child = tracing::info_span!("db", rows = 1);
        let _c = child.enter();
        tracing::info!("before");
        parent.record("status", "done");
        parent.record("user", "ada");
        tracing::info!("after");
    });
    let lines = output.json_lines();
    assert_eq!(lines[0]["status"], "pending");
    assert!(lines[0].get("user").is_none());
    assert_eq!(lines[1]["status"], "done");
    assert_eq!(lines[1]["user"], "ada");
    assert_eq!(lines[1]["rows"], 1);
    output
        .raw_lines()
        .iter()
        .for_each(|l| assert_unique_keys(l));
}

#[test]
fn three_level_chains_merge_with_the_nearest_value_winning() {
    let output = output_of(JsonLayer::new(), || {
        let a = tracing::info_span!("a", x = "a", only_a = 1);
        let _a = a.enter();
        let b = tracing::info_span!("b", x = "b", only_b = 2);
        let _b = b.enter();
        let c = tracing::info_span!("c", only_c = 3);
        let _c = c.enter();
        tracing::info!(only_a = "event", "deep");
    });
    let lines = output.json_lines();
    let l = &lines[0];
    assert_eq!(l["x"], "b");
    assert_eq!(l["only_a"], "event");
    assert_eq!(
        (l["only_b"].as_u64(), l["only_c"].as_u64()),
        (Some(2), Some(3))
    );
    let raw = &output.raw_lines()[0];
    assert_eq!(key_count(raw, "x"), 1, "{raw}");
    assert_eq!(key_count(raw, "only_a"), 1, "{raw}");
    assert_unique_keys(raw);
}

/// Two stethoscope output layers in one subscriber share each span's stored fields; a record
/// reaches both of them and shows on both outputs, once.
#[test]
fn records_show_on_every_output_layer_of_a_subscriber() {
    use tracing_subscriber::prelude::*;
    let (first, second) = (support::Capture::default(), support::Capture::default());
    let subscriber = tracing_subscriber::registry()
        .with(JsonLayer::new().with_writer(first.clone()))
        .with(JsonLayer::new().with_writer(second.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("block", txs = tracing::field::Empty, status = "pending");
        let _e = span.enter();
        span.record("txs", 3);
        span.record("status", "done");
        span.record("txs", 4);
        tracing::info!("after");
    });
    for capture in [first, second] {
        let lines = capture.json_lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["txs"], 4, "{}", lines[0]);
        assert_eq!(lines[0]["status"], "done", "{}", lines[0]);
        let raw = &capture.raw_lines()[0];
        assert_eq!(key_count(raw, "txs"), 1, "{raw}");
        assert_eq!(key_count(raw, "status"), 1, "{raw}");
        assert_unique_keys(raw);
    }
}

/// The check the tests above rely on: a repeated key is invisible once the line is parsed,
/// and visible to the raw-text scanner.
#[test]
fn the_key_scanner_sees_repeats_that_a_parser_hides() {
    let line = r#"{"a":1,"b":{"a":"x","c":[{"d":"}"}]},"e\"q":"{\"a\":1,","a":[1,"b"]}"#;
    let parsed: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        parsed.as_object().unwrap().len(),
        3,
        "the parser merged the repeat"
    );
    assert_eq!(top_level_keys(line), ["a", "b", "e\"q", "a"]);
    assert_eq!(key_count(line, "a"), 2);
    assert_eq!(repeated_keys(line), ["a"]);
    assert_eq!(top_level_keys(r#"{ "x" : "y" , "z":null }"#), ["x", "z"]);
}
