//! The admin endpoints: token checks (401), unknown paths (404), wrong methods (405), readiness.

mod http;

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn every_endpoint_but_healthz_needs_the_token_and_statuses_are_right() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .with_admin_token("s3cret")
        .unwrap()
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    let auth = [("Authorization", "Bearer s3cret")];
    let wrong = [("Authorization", "Bearer s3creT")];

    assert_eq!(http::get(addr, "/healthz").status, 200);
    assert_eq!(http::get(addr, "/metrics").status, 401);
    assert_eq!(http::request(addr, "GET", "/metrics", &wrong).status, 401);
    assert_eq!(
        http::request(addr, "GET", "/metrics", &[("Authorization", "s3cret")]).status,
        401
    );
    assert_eq!(http::get(addr, "/readyz").status, 401);
    let metrics = http::request(addr, "GET", "/metrics", &auth);
    assert_eq!(metrics.status, 200);
    http::parse(&metrics.body);

    assert_eq!(http::request(addr, "GET", "/nope", &auth).status, 404);
    assert_eq!(http::request(addr, "POST", "/metrics", &auth).status, 405);
    assert_eq!(http::request(addr, "DELETE", "/healthz", &auth).status, 405);

    assert_eq!(http::request(addr, "GET", "/readyz", &auth).status, 503);
    guard.readiness().set_ready(true);
    assert_eq!(http::request(addr, "GET", "/readyz", &auth).status, 200);
    guard.readiness().set_ready(false);
    assert_eq!(http::request(addr, "GET", "/readyz", &auth).status, 503);

    drop(guard);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the admin server stops with the guard"
    );
}
