//! A 300 s capture on `/debug/pprof/profile` or `/debug/pprof/flamegraph` whose client hangs up
//! stops with the connection: the process-wide profiler is free again for the next capture,
//! instead of answering `409` until the 300 s are over.
#![cfg(unix)]

mod http;
mod profile;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A capture that is running: other profile requests are refused meanwhile.
const PROBE: &str = "/debug/pprof/flamegraph?seconds=1&format=folded";

/// Requests a short pprof profile until one is served; panics if none is within a generous
/// limit (the hung-up capture would hold the profiler for 300 s).
fn short_profile_is_served(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = profile::get_bytes(addr, "/debug/pprof/profile?seconds=1", None);
        if response.status == 200 {
            // A real profile, not just a status.
            let decoded = profile::proto::decode(&response.body);
            assert!(!decoded.sample_type.is_empty(), "{decoded:?}");
            return;
        }
        assert_eq!(response.status, 409, "{}", response.text());
        assert!(
            Instant::now() < deadline,
            "the profiler stayed busy after the client hung up: {}",
            response.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hanging_up_on_a_long_capture_frees_the_profiler() {
    let (_guard, addr) = http::install_with_admin();

    for long in [
        "/debug/pprof/profile?seconds=300",
        "/debug/pprof/flamegraph?seconds=300",
    ] {
        let client = http::start_request(addr, long, PROBE);
        drop(client);
        short_profile_is_served(addr);
    }
}
