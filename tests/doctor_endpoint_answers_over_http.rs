//! `GET /debug/doctor` over real HTTP: the report in each format, watching the application's
//! runtime (not the admin server's); 400 with a message for bad parameters; 409 while another
//! CPU profile runs, unless the doctor is asked to skip the profile.
#![cfg(unix)]

mod doctor;
mod http;
mod support;

use stethoscope::profile::cpu::CpuProfiler;
use stethoscope::{LogOutput, Stethoscope};

#[test]
fn the_doctor_endpoint_serves_reports_and_validates_its_parameters() {
    let runtime = support::two_worker_runtime();
    let _inside = runtime.enter();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_operation_stats(true, false)
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();

    for (path, message) in [
        ("/debug/doctor?seconds=0", "from 1 to 300"),
        ("/debug/doctor?seconds=301", "from 1 to 300"),
        ("/debug/doctor?seconds=two", "whole number"),
        ("/debug/doctor?format=pdf", "html, json or text"),
        ("/debug/doctor?profile=maybe", "true or false"),
        ("/debug/doctor?secs=1", "unknown query parameter"),
    ] {
        let response = http::get(addr, path);
        assert_eq!(response.status, 400, "{path}: {}", response.body);
        assert!(response.body.contains(message), "{path}: {}", response.body);
    }

    let json = http::get(addr, "/debug/doctor?seconds=1&format=json&profile=false");
    assert_eq!(json.status, 200, "{}", json.body);
    assert_eq!(json.header("content-type"), Some("application/json"));
    let report: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(report["schema"], stethoscope::doctor::JSON_SCHEMA);
    // The application's two-worker runtime, not the admin server's own.
    assert_eq!(report["process"]["runtime_workers"], 2);
    assert!(report["findings"].as_array().is_some_and(|f| !f.is_empty()));

    let text = http::get(addr, "/debug/doctor?seconds=1&format=text&profile=false");
    assert_eq!(text.status, 200);
    assert!(
        text.body.starts_with("stethoscope doctor: "),
        "{}",
        text.body
    );

    let html = http::get(addr, "/debug/doctor?seconds=1");
    assert_eq!(html.status, 200);
    assert_eq!(
        html.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(doctor::count_elements(&html.body, "article") >= 1);

    let running = CpuProfiler::start(99).unwrap();
    let busy = http::get(addr, "/debug/doctor?seconds=1&format=json");
    assert_eq!(busy.status, 409, "{}", busy.body);
    assert!(
        busy.body.contains("already being captured"),
        "{}",
        busy.body
    );
    let without_profile = http::get(addr, "/debug/doctor?seconds=1&format=json&profile=false");
    assert_eq!(without_profile.status, 200, "{}", without_profile.body);
    running.stop().unwrap();
}
