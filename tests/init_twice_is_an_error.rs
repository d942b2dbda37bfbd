//! A second installation returns an error (never a panic) and leaves the first one working.

use std::time::Duration;

mod support;

use stethoscope::{Error, LogOutput, Stethoscope};
use support::Capture;

#[test]
fn the_second_init_fails_with_already_initialized() {
    let sink = Capture::default();
    let guard = Stethoscope::builder()
        .without_admin() // tests run in parallel: keep off the default admin port
        .with_log_output(LogOutput::Writer(Box::new(sink.clone())))
        .install()
        .unwrap();
    let second = stethoscope::init().unwrap_err();
    assert!(matches!(second, Error::AlreadyInitialized), "{second:?}");
    assert!(second.is_already_initialized());
    assert!(
        second
            .to_string()
            .contains("call `stethoscope::init()` once"),
        "{second}"
    );

    stethoscope::info!(still = "working", "after the failed second init");
    guard.shutdown(Duration::from_secs(5)).unwrap();
    let out = sink.text();
    let line: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(line["still"], "working");
    // The default service name is the executable's (cargo adds a hash to test binaries).
    let service = line["service"].as_str().unwrap();
    assert!(service.starts_with("init_twice_is_an_error"), "{line}");
}
