//! `/debug/doctor` runs one window at a time: a second request while one runs is a `409` that
//! says so and to retry later, even when neither takes a CPU profile (which is one at a time on
//! its own).
#![cfg(unix)]

mod http;

use std::time::Duration;

#[test]
fn a_second_doctor_request_while_one_runs_is_a_conflict() {
    let (_guard, addr) = http::install_with_admin();
    let second = "/debug/doctor?seconds=1&format=json&profile=false";

    let first = http::start_request(
        addr,
        "/debug/doctor?seconds=300&format=json&profile=false",
        second,
    );
    let refused = http::get(addr, second);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(
        refused.body.contains("doctor") && refused.body.contains("already running"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("try again"), "{}", refused.body);

    // The slot is the running request's: once it is gone, the next run is served.
    drop(first);
    http::wait_for_status(addr, second, 200, Duration::from_secs(60));
}
