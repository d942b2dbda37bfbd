//! A 300 s `/debug/doctor` run whose client hangs up stops with the connection: the doctor and
//! the CPU profiler it holds are free again for the next run, instead of answering `409` until
//! the 300 s are over.
#![cfg(unix)]

mod http;

use std::time::Duration;

#[test]
fn hanging_up_on_a_long_doctor_run_frees_the_doctor_and_the_profiler() {
    let (_guard, addr) = http::install_with_admin();
    // With its CPU profile (the default), so the long run holds the profiler too.
    let short = "/debug/doctor?seconds=1&format=json";

    let client = http::start_request(addr, "/debug/doctor?seconds=300&format=json", short);
    drop(client);

    let report = http::wait_for_status(addr, short, 200, Duration::from_secs(60));
    let report: serde_json::Value = serde_json::from_str(&report.body).unwrap();
    assert_eq!(report["schema"], stethoscope::doctor::JSON_SCHEMA);
}
