//! OTLP header values and a collector URL's user info are credentials: errors (`Display` and
//! `Debug`) and `{:?}` of the builder show the redaction marker in their place, never the value.

use std::collections::HashMap;

use stethoscope::{Builder, Error, Stethoscope};

const SECRET: &str = "s3cr3t";
const MARKER: &str = "[REDACTED]";

fn from_env(vars: &[(&str, &str)]) -> Result<Builder, Error> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Stethoscope::builder().from_env_with(|var| map.get(var).cloned())
}

/// `Display` and `Debug` of `err`, each checked to hold the marker and not the secret.
fn shown(err: &Error) -> [String; 2] {
    let texts = [err.to_string(), format!("{err:?}")];
    for text in &texts {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
        assert!(text.contains(MARKER), "no redaction marker: {text}");
    }
    texts
}

#[test]
fn a_malformed_header_list_names_the_entry_and_the_format_but_not_the_value() {
    let err = from_env(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        &format!("authorization=Bearer {SECRET},oops"),
    )])
    .expect_err("an entry without '=' was accepted");
    assert!(err.is_invalid_env());
    for text in shown(&err) {
        assert!(
            text.starts_with(r#"invalid OTEL_EXPORTER_OTLP_HEADERS="authorization=[REDACTED],[REDACTED]": entry 2 of 2 has no "=""#),
            "{text}"
        );
        assert!(text.contains(r#""key1=value1,key2=value2""#), "{text}");
        assert!(text.contains("percent-encoded"), "{text}");
    }
}

#[test]
fn an_entry_that_is_the_tail_of_an_unencoded_secret_is_not_shown() {
    // A comma inside a token splits it: the second "entry" is the secret's tail.
    let err = from_env(&[(
        "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        &format!("x-api-key=abc,{SECRET}"),
    )])
    .unwrap_err();
    for text in shown(&err) {
        assert!(text.contains("entry 2 of 2"), "{text}");
    }
}

#[test]
fn a_bad_escape_or_control_character_names_the_header_but_not_the_value() {
    let err = from_env(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        &format!("x-team=core,x-api-key={SECRET}%zz"),
    )])
    .unwrap_err();
    for text in shown(&err) {
        assert!(text.contains(r#"entry 2 of 2 ("x-api-key")"#), "{text}");
        assert!(text.contains("invalid %-escape"), "{text}");
        assert!(text.contains("x-team=[REDACTED]"), "{text}");
    }

    // %0A decodes to a line feed: it would have been dropped by the exporter, silently.
    let err = from_env(&[(
        "OTEL_EXPORTER_OTLP_HEADERS",
        &format!("authorization=Bearer%0A{SECRET}"),
    )])
    .unwrap_err();
    for text in shown(&err) {
        assert!(text.contains(r#"entry 1 of 1 ("authorization")"#), "{text}");
        assert!(text.contains("control character"), "{text}");
    }
}

#[test]
fn builder_debug_keeps_header_names_and_masks_values_and_user_info() {
    let builder = from_env(&[
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            &format!("authorization=Bearer%20{SECRET},x-team=core"),
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &format!("http://user:{SECRET}@collector:4318"),
        ),
    ])
    .unwrap();
    let text = format!("{builder:?}");
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    assert!(!text.contains("user:"), "user info leaked: {text}");
    assert!(text.contains(r#""authorization", [REDACTED]"#), "{text}");
    assert!(text.contains(r#""x-team", [REDACTED]"#), "{text}");
    assert!(
        text.contains(r#""http://[REDACTED]@collector:4318""#),
        "{text}"
    );

    let builder = Stethoscope::builder()
        .with_otlp_endpoint(&format!("http://{SECRET}@collector:4318/?api_key={SECRET}"))
        .unwrap();
    let text = format!("{builder:#?}");
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    assert!(
        text.contains(r#""http://[REDACTED]@collector:4318/?[REDACTED]""#),
        "{text}"
    );
}

#[test]
fn a_rejected_endpoint_is_shown_without_its_user_info() {
    let url = format!("https://user:{SECRET}@collector:4318");
    let err = from_env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &url)]).unwrap_err();
    for text in shown(&err) {
        assert!(
            text.starts_with(r#"invalid OTEL_EXPORTER_OTLP_ENDPOINT="https://[REDACTED]@collector:4318": https endpoints are not supported"#),
            "{text}"
        );
    }
    let err = from_env(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &url)]).unwrap_err();
    shown(&err);
    let err = Stethoscope::builder().with_otlp_endpoint(&url).unwrap_err();
    for text in shown(&err) {
        assert!(
            text.starts_with(
                "invalid value for with_otlp_endpoint: https://[REDACTED]@collector:4318: "
            ),
            "{text}"
        );
    }
}
