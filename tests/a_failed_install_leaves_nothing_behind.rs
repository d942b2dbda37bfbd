//! An `install()` that fails (here: another `metrics` recorder is already installed) leaves
//! nothing global behind: no subscriber, no `log` bridge, no propagator, no admin port held.
//! A corrected retry then succeeds and its log lines are written. Its own binary: it sets the
//! process's globals.

mod support;

use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use stethoscope::{Error, LogOutput, Stethoscope};
use support::Capture;

/// A loopback port that was free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn a_taken_metrics_recorder_fails_install_without_side_effects_and_a_retry_works() {
    metrics::set_global_recorder(metrics::NoopRecorder).unwrap();
    let admin = free_port();
    let capture = Capture::default();

    let err = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .with_admin_addr(admin)
        .install()
        .unwrap_err();
    assert!(matches!(err, Error::RecorderAlreadySet), "{err:?}");
    assert!(
        err.to_string().contains("with_metrics(false)"),
        "the error says how to fix it: {err}"
    );

    // Nothing global was set.
    assert!(
        !tracing::dispatcher::has_been_set(),
        "a subscriber was left installed"
    );
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "the `log` bridge was installed"
    );
    let fields = opentelemetry::global::get_text_map_propagator(|p| p.fields().count());
    assert_eq!(fields, 0, "the W3C propagator was installed");
    TcpListener::bind(admin).expect("the admin port was released");

    // The same settings without stethoscope's metrics install, and the lines arrive.
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .with_admin_addr(admin)
        .with_metrics(false)
        .install()
        .expect("a corrected retry installs");
    stethoscope::info!(attempt = 2, "installed after a failed attempt");
    guard.flush(Duration::from_secs(5)).unwrap();
    let lines = capture.json_lines();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "installed after a failed attempt" && l["attempt"] == 2),
        "{}",
        capture.text()
    );
    let fields = opentelemetry::global::get_text_map_propagator(|p| p.fields().count());
    assert!(fields > 0, "the retry installs the propagator");
}
