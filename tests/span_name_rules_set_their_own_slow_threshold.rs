//! A span-name rule (`with_slow_threshold_for`, or `STETHOSCOPE_SLOW_MS=100,db_*=5`) gives
//! matching spans their own slow-operation threshold; other spans keep the default.

mod support;

use std::time::Duration;

use serde_json::Value;
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

fn slow_span_names(builder: stethoscope::Builder) -> Vec<String> {
    let capture = Capture::default();
    let (dispatch, guard) = builder
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        for name in ["db_write", "render_page"] {
            let span = match name {
                "db_write" => tracing::info_span!("db_write"),
                _ => tracing::info_span!("render_page"),
            };
            let _entered = span.entered();
            std::thread::sleep(Duration::from_millis(30));
        }
    });
    guard.flush(Duration::from_secs(5)).unwrap();
    capture
        .json_lines()
        .iter()
        .filter(|l: &&Value| l["message"] == "slow operation")
        .map(|l| l["span_name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_matching_glob_lowers_the_threshold_for_those_spans_only() {
    let names = slow_span_names(
        Stethoscope::builder()
            .with_slow_threshold_for("db_*", Duration::from_millis(5))
            .unwrap(),
    );
    assert_eq!(names, ["db_write"]);
}

#[test]
fn the_environment_variable_sets_the_same_rules() {
    let names = slow_span_names(
        Stethoscope::builder()
            .from_env_with(|var| (var == "STETHOSCOPE_SLOW_MS").then(|| "10,DB_*=1000".into()))
            .unwrap(),
    );
    // The default drops to 10 ms; the (case-insensitive) rule raises `db_*` to 1 s.
    assert_eq!(names, ["render_page"]);
}

#[test]
fn bad_rules_are_configuration_errors() {
    for pattern in ["", "  ", "**"] {
        let err = Stethoscope::builder()
            .with_slow_threshold_for(pattern, Duration::from_millis(5))
            .unwrap_err();
        assert!(err.to_string().contains("with_slow_threshold_for"), "{err}");
    }
    assert!(Stethoscope::builder()
        .with_slow_threshold_for("db_*", Duration::ZERO)
        .is_err());
}
