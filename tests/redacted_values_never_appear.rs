//! A redacted field's value never reaches the output, in events, spans or later records, and
//! is not even formatted.

mod support;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use stethoscope::logging::{JsonLayer, PrettyLayer, REDACTED};
use support::{json_lines_of, Capture};

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
    let lines = json_lines_of(JsonLayer::new(), || {
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
    let raw: String = lines.iter().map(|l| l.to_string()).collect();
    assert!(!raw.contains(SECRET), "secret leaked: {raw}");
    assert_eq!(
        formatted.load(Ordering::SeqCst),
        0,
        "redacted value was formatted"
    );
    let l = &lines[0];
    for key in [
        "password",
        "api_key",
        "token",
        "user.password",
        "authorization",
    ] {
        assert_eq!(l[key], REDACTED, "{key} in {l}");
    }
    assert_eq!(l["user"], "ada");
    assert_eq!(lines[1]["Cookie"], REDACTED);
}

#[test]
fn configured_patterns_match_exact_dotted_and_glob_names() {
    let layer = JsonLayer::new()
        .with_redacted_fields(["ssn", "card.number", "*_pin"])
        .unwrap();
    let lines = json_lines_of(layer, || {
        tracing::info!(
            ssn = SECRET,
            card.number = SECRET,
            atm_pin = SECRET,
            number = "visible",
            "payment"
        );
    });
    let raw = lines[0].to_string();
    assert!(!raw.contains(SECRET), "{raw}");
    assert_eq!(lines[0]["number"], "visible");
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
    let lines = json_lines_of(JsonLayer::new().without_redaction(), || {
        tracing::info!(password = "visible", "no redaction configured");
    });
    assert_eq!(lines[0]["password"], "visible");
}
