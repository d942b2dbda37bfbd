//! Every environment variable and builder value is validated into an error that names it and
//! says what is accepted.

use std::collections::HashMap;

use stethoscope::{Error, Stethoscope};

fn env_error(vars: &[(&str, &str)]) -> Error {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Stethoscope::builder()
        .from_env_with(|var| map.get(var).cloned())
        .expect_err("invalid environment accepted")
}

#[test]
fn log_format_names_the_accepted_values() {
    let err = env_error(&[("LOG_FORMAT", "yaml")]);
    assert_eq!(
        err.to_string(),
        r#"invalid LOG_FORMAT="yaml": expected "json" or "pretty""#
    );
    assert!(err.is_invalid_env());
}

#[test]
fn rust_log_reports_the_parser_message() {
    let err = env_error(&[("RUST_LOG", "info,indexer=verbose")]);
    let msg = err.to_string();
    assert!(
        msg.starts_with(r#"invalid RUST_LOG="info,indexer=verbose": "#),
        "{msg}"
    );
    assert!(msg.contains("expected comma-separated directives"), "{msg}");
}

#[test]
fn log_level_lists_pino_levels() {
    let err = env_error(&[("LOG_LEVEL", "loud")]);
    assert_eq!(
        err.to_string(),
        r#"invalid LOG_LEVEL="loud": expected one of "trace", "debug", "info", "warn", "error", "fatal", "silent""#
    );
}

#[test]
fn rust_log_takes_precedence_and_is_validated_first() {
    // A bad LOG_LEVEL is irrelevant when RUST_LOG is set (it is not read).
    let map: HashMap<&str, &str> = [("RUST_LOG", "debug"), ("LOG_LEVEL", "loud")].into();
    assert!(Stethoscope::builder()
        .from_env_with(|v| map.get(v).map(|s| s.to_string()))
        .is_ok());
}

#[test]
fn redaction_patterns_that_match_everything_are_refused() {
    let err = env_error(&[("STETHOSCOPE_REDACT", "password,*")]);
    let msg = err.to_string();
    assert!(
        msg.starts_with(r#"invalid STETHOSCOPE_REDACT="password,*": "#),
        "{msg}"
    );
}

#[test]
fn empty_values_count_as_unset() {
    let map: HashMap<&str, &str> = [("RUST_LOG", ""), ("LOG_FORMAT", " ")].into();
    assert!(Stethoscope::builder()
        .from_env_with(|v| map.get(v).map(|s| s.to_string()))
        .is_ok());
}

#[test]
fn builder_values_are_validated_where_they_are_set() {
    let err = Stethoscope::builder()
        .with_log_filter("=info=")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid value for with_log_filter: \"=info=\": "),
        "{err}"
    );
    let err = Stethoscope::builder()
        .with_redacted_fields([""])
        .unwrap_err();
    assert!(err.to_string().contains("with_redacted_fields"), "{err}");
}

#[test]
fn otlp_timeouts_must_be_a_positive_number_of_milliseconds() {
    // 0 used to be accepted, and then every export failed before it started.
    for var in [
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_BSP_SCHEDULE_DELAY",
    ] {
        let msg = env_error(&[(var, "0")]).to_string();
        assert!(msg.starts_with(&format!("invalid {var}=\"0\": ")), "{msg}");
        assert!(
            msg.contains("expected a positive whole number of milliseconds"),
            "{msg}"
        );
        for bad in ["-5", "ten", "1.5", "99999999999999999999"] {
            let msg = env_error(&[(var, bad)]).to_string();
            assert!(
                msg.starts_with(&format!("invalid {var}={bad:?}: expected a positive")),
                "{msg}"
            );
        }
    }
}
