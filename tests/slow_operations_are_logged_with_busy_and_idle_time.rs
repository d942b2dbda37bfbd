//! Spans slower than the threshold are logged once as "slow operation", inside the span, with
//! the time they spent executing (`busy_ms`) and waiting (`idle_ms`); fast spans log nothing.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;
use tracing::Instrument;

/// Runs `f` under stethoscope's full stack (from `into_dispatch`) and returns the lines.
fn lines_of(builder: stethoscope::Builder, f: impl FnOnce()) -> Vec<Value> {
    let capture = Capture::default();
    let (dispatch, guard) = builder
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, f);
    guard.flush(Duration::from_secs(5)).unwrap();
    capture.json_lines()
}

fn slow_lines(lines: &[Value]) -> Vec<&Value> {
    lines
        .iter()
        .filter(|l| l["message"] == "slow operation")
        .collect()
}

fn ms(line: &Value, key: &str) -> f64 {
    line[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing: {line}"))
}

fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

#[test]
fn a_span_waiting_150ms_is_logged_as_idle() {
    let lines = lines_of(Stethoscope::builder(), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(
            async { tokio::time::sleep(Duration::from_millis(150)).await }
                .instrument(tracing::info_span!("fetch_block", height = 42u64)),
        );
    });
    let slow = slow_lines(&lines);
    assert_eq!(slow.len(), 1, "{lines:?}");
    let l = slow[0];
    assert_eq!(l["level"], "warn");
    assert_eq!(l["target"], "stethoscope::slow");
    assert_eq!(l["span_name"], "fetch_block");
    assert_eq!(
        l["span_target"],
        "slow_operations_are_logged_with_busy_and_idle_time"
    );
    assert_eq!(l["height"], 42, "the span's fields are on the line: {l}");
    assert_eq!(l["span"], "fetch_block", "{l}");
    assert!(
        l["trace_id"].is_string(),
        "the line is in the span's trace: {l}"
    );
    let (wall, busy, idle) = (ms(l, "duration_ms"), ms(l, "busy_ms"), ms(l, "idle_ms"));
    assert!(wall >= 150.0, "{l}");
    assert!(idle >= 140.0, "{l}");
    assert!(busy < idle / 2.0, "{l}");
    assert!((busy + idle - wall).abs() < 0.01, "{l}");
}

#[test]
fn a_span_computing_150ms_is_logged_as_busy() {
    let lines = lines_of(Stethoscope::builder(), || {
        let _span = tracing::info_span!("verify_signatures").entered();
        spin(Duration::from_millis(150));
    });
    let slow = slow_lines(&lines);
    assert_eq!(slow.len(), 1, "{lines:?}");
    let l = slow[0];
    assert_eq!(l["span_name"], "verify_signatures");
    assert!(ms(l, "busy_ms") >= 140.0, "{l}");
    assert!(ms(l, "idle_ms") < ms(l, "busy_ms") / 2.0, "{l}");
}

#[test]
fn fast_spans_log_nothing() {
    let lines = lines_of(Stethoscope::builder(), || {
        for i in 0..100u64 {
            let _span = tracing::info_span!("quick", i).entered();
        }
    });
    assert!(slow_lines(&lines).is_empty(), "{lines:?}");
}

#[test]
fn slow_ms_on_a_span_overrides_the_threshold() {
    let lines = lines_of(Stethoscope::builder(), || {
        let _span = tracing::info_span!("flush", slow_ms = 5u64).entered();
        std::thread::sleep(Duration::from_millis(30));
    });
    let slow = slow_lines(&lines);
    assert_eq!(slow.len(), 1, "{lines:?}");
    assert_eq!(slow[0]["span_name"], "flush");
}

#[test]
fn the_builder_threshold_applies_and_none_turns_the_layer_off() {
    let work = || {
        let _span = tracing::info_span!("write_batch").entered();
        std::thread::sleep(Duration::from_millis(30));
    };
    let lines = lines_of(
        Stethoscope::builder()
            .with_slow_threshold(Some(Duration::from_millis(10)))
            .unwrap(),
        work,
    );
    assert_eq!(slow_lines(&lines).len(), 1, "{lines:?}");
    let lines = lines_of(
        Stethoscope::builder().with_slow_threshold(None).unwrap(),
        || {
            let _span = tracing::info_span!("write_batch").entered();
            std::thread::sleep(Duration::from_millis(150));
        },
    );
    assert!(slow_lines(&lines).is_empty(), "{lines:?}");
}

#[test]
fn stethoscope_slow_ms_is_validated() {
    let from = |v: &str| {
        let v = v.to_owned();
        Stethoscope::builder()
            .from_env_with(move |var| (var == "STETHOSCOPE_SLOW_MS").then(|| v.clone()))
    };
    let err = from("fast").unwrap_err();
    assert!(err.is_invalid_env());
    assert_eq!(
        err.to_string(),
        r#"invalid STETHOSCOPE_SLOW_MS="fast": expected a positive number of milliseconds, e.g. "100", or "off", optionally followed by span-name overrides: "100,db_*=500""#
    );
    assert!(from("0").is_err());
    assert!(from("250").is_ok());
    assert!(from("off").is_ok());
    assert!(from("100,db_*=500,rpc=2000").is_ok());
    assert!(from("db_*=500").is_ok(), "overrides alone keep the default");
    for bad in ["100,db_*", "100,=5", "100,*=5", "100,db=0", "100,db=soon"] {
        let err = from(bad).unwrap_err();
        assert!(
            err.to_string().contains("span-name override"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn the_layer_works_in_a_users_own_registry() {
    use tracing_subscriber::prelude::*;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(stethoscope::logging::JsonLayer::new().with_writer(capture.clone()))
        .with(stethoscope::runtime::SlowOpLayer::new().with_threshold(Duration::from_millis(10)));
    tracing::subscriber::with_default(subscriber, || {
        let _span = tracing::info_span!("load_config").entered();
        std::thread::sleep(Duration::from_millis(30));
    });
    let lines = capture.json_lines();
    assert_eq!(slow_lines(&lines).len(), 1, "{lines:?}");
}

/// The layer keeps span timing in a fixed table; spans beyond it fall back to the registry's
/// extensions and must be timed just the same.
#[test]
fn spans_beyond_the_timing_table_are_timed_too() {
    let lines = lines_of(Stethoscope::builder(), || {
        // More live spans than the table's 16,384 slots.
        let open: Vec<_> = (0..20_000u64)
            .map(|i| tracing::info_span!("held", i))
            .collect();
        let mut timed = Vec::new();
        for i in 0..64u64 {
            let span = tracing::info_span!("overflow", i);
            if i == 63 {
                let _entered = span.enter();
                spin(Duration::from_millis(150));
            }
            timed.push(span);
        }
        std::thread::sleep(Duration::from_millis(120));
        drop(timed);
        drop(open);
    });
    let slow = slow_lines(&lines);
    // The 64 spans all lived ≥ 120 ms; the last one also spun for 150 ms inside.
    let overflow: Vec<_> = slow
        .iter()
        .filter(|l| l["span_name"] == "overflow")
        .collect();
    assert_eq!(overflow.len(), 64, "{}", overflow.len());
    let spinner = overflow.iter().find(|l| l["i"] == 63).unwrap();
    assert!(ms(spinner, "busy_ms") >= 140.0, "{spinner}");
    assert!(ms(spinner, "idle_ms") >= 100.0, "{spinner}");
    let others = overflow.iter().filter(|l| l["i"] != 63);
    assert!(others.clone().all(|l| ms(l, "busy_ms") < 1.0));
    assert_eq!(
        slow.iter().filter(|l| l["span_name"] == "held").count(),
        20_000,
        "every held span was slow too"
    );
}
