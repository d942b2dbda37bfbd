//! A redacted field's value never reaches the output, in events, spans or later records, and
//! is not even formatted.

mod support;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use stethoscope::logging::{JsonLayer, PrettyLayer, REDACTED};
use support::json_keys::key_count;
use support::{output_of, Capture};

const SECRET: &str = "s3cr3t-value-4f9a";

/// Counts how often it is formatted: redaction must skip formatting entirely.
struct Tripwire<'a>(&'a AtomicUsize);
impl fmt::Debug for Tripwire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fetch_add(1, Ordering::SeqCst);
        f.write_str(SECRET)
    }
}

#[test]
fn default_patterns_redact_events_spans_and_records() {
    let formatted = AtomicUsize::new(0);
    let output = output_of(JsonLayer::new(), || {
        let span = tracing::info_span!(
            "login",
            user.password = SECRET,
            authorization = tracing::field::Empty,
            user = "ada"
        );
        let _e = span.enter();
        span.record("authorization", format!("Bearer {SECRET}").as_str());
        tracing::info!(password = SECRET, api_key = ?Tripwire(&formatted), token = %SECRET, "attempt");
        tracing::info!(Cookie = SECRET, "case-insensitive");
    });
    // The bytes written, not a parse of them: a parser keeps only the last of repeated keys,
    // so a secret written next to its placeholder would not show in the parsed lines.
    let raw = output.raw_lines();
    assert_eq!(raw.len(), 2, "{raw:?}");
    for line in &raw {
        assert!(!line.contains(SECRET), "secret leaked: {line}");
    }
    assert_eq!(
        formatted.load(Ordering::SeqCst),
        0,
        "redacted value was formatted"
    );
    for key in [
        "password",
        "api_key",
        "token",
        "user.password",
        "authorization",
    ] {
        let written = format!("\"{key}\":\"{REDACTED}\"");
        assert_eq!(raw[0].matches(&written).count(), 1, "{key} in {}", raw[0]);
        assert_eq!(key_count(&raw[0], key), 1, "{key} in {}", raw[0]);
    }
    assert!(raw[0].contains(r#""user":"ada""#), "{}", raw[0]);
    assert!(
        raw[1].contains(&format!("\"Cookie\":\"{REDACTED}\"")),
        "{}",
        raw[1]
    );
}

#[test]
fn configured_patterns_match_exact_dotted_and_glob_names() {
    let layer = JsonLayer::new()
        .with_redacted_fields(["ssn", "card.number", "*_pin"])
        .unwrap();
    let output = output_of(layer, || {
        tracing::info!(
            ssn = SECRET,
            card.number = SECRET,
            atm_pin = SECRET,
            number = "visible",
            "payment"
        );
    });
    let raw = output.text();
    assert!(!raw.contains(SECRET), "{raw}");
    for key in ["ssn", "card.number", "atm_pin"] {
        assert!(
            raw.contains(&format!("\"{key}\":\"{REDACTED}\"")),
            "{key} in {raw}"
        );
    }
    assert!(raw.contains(r#""number":"visible""#), "{raw}");
}

#[test]
fn pretty_output_redacts_too() {
    use tracing_subscriber::prelude::*;
    let capture = Capture::default();
    let layer = PrettyLayer::new()
        .with_ansi(false)
        .with_writer(capture.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("s", secret = SECRET);
        let _e = span.enter();
        tracing::info!(password = SECRET, "hello");
    });
    let text = capture.text();
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains("password=\"[REDACTED]\""), "{text}");
}

#[test]
fn without_redaction_values_pass_through() {
    let raw = output_of(JsonLayer::new().without_redaction(), || {
        tracing::info!(password = "visible", "no redaction configured");
    })
    .text();
    assert!(raw.contains(r#""password":"visible""#), "{raw}");
}
