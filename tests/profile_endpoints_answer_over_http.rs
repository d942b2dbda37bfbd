//! `/debug/pprof/profile` and `/debug/pprof/flamegraph` over real HTTP: 400 with a message for
//! bad parameters, 409 while another capture runs, 401 without the token, and profiles that
//! decode and contain the function that was busy during the request.
#![cfg(unix)]

mod profile;

use std::time::Duration;

use stethoscope::profile::cpu::CpuProfiler;
use stethoscope::{LogOutput, Stethoscope};

const TOKEN: &str = "s3cret";

/// Requests `path` from another thread while this one runs the known workload, so the capture
/// has something to see.
fn capture_while_busy(addr: std::net::SocketAddr, path: &str) -> profile::BinaryResponse {
    let path = path.to_owned();
    let request = std::thread::spawn(move || profile::get_bytes(addr, &path, Some(TOKEN)));
    while !request.is_finished() {
        std::hint::black_box(profile::workload(Duration::from_millis(100)));
    }
    request.join().unwrap()
}

#[test]
fn the_profile_endpoints_validate_refuse_when_busy_and_serve_profiles() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .with_admin_token(TOKEN)
        .unwrap()
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();

    assert_eq!(
        profile::get_bytes(addr, "/debug/pprof/profile?seconds=1", None).status,
        401
    );
    for (path, message) in [
        ("/debug/pprof/profile?seconds=0", "from 1 to 300"),
        ("/debug/pprof/profile?seconds=301", "from 1 to 300"),
        ("/debug/pprof/profile?seconds=abc", "whole number"),
        ("/debug/pprof/profile?frequency=5000", "from 1 to 1000"),
        ("/debug/pprof/profile?secs=5", "unknown query parameter"),
        ("/debug/pprof/flamegraph?format=png", "svg or folded"),
        ("/debug/pprof/flamegraph?icicle=maybe", "true or false"),
    ] {
        let response = profile::get_bytes(addr, path, Some(TOKEN));
        assert_eq!(response.status, 400, "{path}: {}", response.text());
        assert!(
            response.text().contains(message),
            "{path}: {}",
            response.text()
        );
    }

    let running = CpuProfiler::start(99).unwrap();
    let busy = profile::get_bytes(addr, "/debug/pprof/profile?seconds=1", Some(TOKEN));
    assert_eq!(busy.status, 409, "{}", busy.text());
    assert!(
        busy.text().contains("already being captured"),
        "{}",
        busy.text()
    );
    let busy = profile::get_bytes(addr, "/debug/pprof/flamegraph?seconds=1", Some(TOKEN));
    assert_eq!(busy.status, 409, "{}", busy.text());
    running.stop().unwrap();

    let pprof = capture_while_busy(addr, "/debug/pprof/profile?seconds=1");
    assert_eq!(pprof.status, 200, "{}", pprof.text());
    assert!(
        pprof
            .head
            .contains("content-type: application/octet-stream"),
        "{}",
        pprof.head
    );
    let decoded = profile::proto::decode(&pprof.body);
    let samples: i64 = decoded.sample.iter().map(|s| s.value[0]).sum();
    assert!(samples > 0, "no samples");
    assert!(
        decoded
            .string_table
            .iter()
            .any(|s| s.ends_with("hot_json_parse")),
        "{:?}",
        decoded.string_table
    );

    let folded = capture_while_busy(addr, "/debug/pprof/flamegraph?seconds=1&format=folded");
    assert_eq!(folded.status, 200, "{}", folded.text());
    assert!(
        folded.head.contains("content-type: text/plain"),
        "{}",
        folded.head
    );
    assert!(
        folded.text().contains("hot_json_parse"),
        "{}",
        folded.text()
    );

    let svg = capture_while_busy(
        addr,
        "/debug/pprof/flamegraph?seconds=1&frequency=199&icicle=true&threads=true",
    );
    assert_eq!(svg.status, 200, "{}", svg.text());
    assert!(
        svg.head.contains("content-type: image/svg+xml"),
        "{}",
        svg.head
    );
    let svg = svg.text();
    assert!(svg.contains("<svg") && svg.contains("hot_json_parse"));
    assert!(svg.contains("at 199 Hz"));
}
