//! Serving the admin endpoints beyond loopback without a token logs one warning; installing and
//! dropping the guard inside a tokio runtime works.

mod http;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn an_unauthenticated_public_admin_server_is_warned_about() {
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .with_admin_addr(SocketAddr::from(([0, 0, 0, 0], 0)))
        .install()
        .unwrap();
    let port = guard.admin_addr().unwrap().port();
    let loopback = SocketAddr::from(([127, 0, 0, 1], port));
    let status = tokio::task::spawn_blocking(move || http::get(loopback, "/healthz").status)
        .await
        .unwrap();
    assert_eq!(status, 200);

    // Dropping the guard on a runtime thread must neither panic nor hang.
    guard.shutdown(Duration::from_secs(5)).unwrap();
    let logs = logs.text();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("admin server listens beyond loopback without a token"))
        .collect();
    assert_eq!(warnings.len(), 1, "{logs}");
    assert!(warnings[0].contains(r#""level":"warn""#), "{logs}");
}
