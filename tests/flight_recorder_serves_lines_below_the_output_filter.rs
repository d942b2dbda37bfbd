//! The flight recorder keeps `debug` lines the `info` output never writes, and serves the last
//! ones at `/debug/logs/recent` as JSON lines; bad parameters are 400s.

mod http;
mod support;

use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

fn parse(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn debug_lines_are_recorded_and_served_newest_last() {
    let out = Capture::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(out.clone())))
        .with_log_filter("info")
        .unwrap()
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    for i in 0..20u64 {
        let span = stethoscope::info_span!("process_block", height = i);
        let _e = span.enter();
        stethoscope::debug!(step = i, "fetched block");
        stethoscope::trace!(step = i, "too verbose even for the recorder");
    }
    stethoscope::info!(done = true, "all blocks processed");
    log::debug!(target: "legacy", "a debug record of the log crate");
    guard.flush(Duration::from_secs(10)).unwrap();

    let written = out.json_lines();
    assert!(written.iter().all(|l| l["level"] != "debug"), "{written:?}");

    let recent = http::get(addr, "/debug/logs/recent?n=5");
    assert_eq!(recent.status, 200, "{recent:?}");
    assert_eq!(recent.header("content-type"), Some("application/x-ndjson"));
    let lines = parse(&recent.body);
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[2]["message"], "fetched block");
    assert_eq!(lines[2]["step"], 19);
    assert_eq!(
        lines[2]["height"], 19,
        "span fields are on recorded lines too"
    );
    assert_eq!(lines[3]["message"], "all blocks processed");
    assert_eq!(lines[4]["message"], "a debug record of the log crate");
    assert_eq!(lines[4]["target"], "legacy");
    // The info line was formatted once: the recorder holds exactly what was written.
    let written_info = written
        .iter()
        .find(|l| l["message"] == "all blocks processed")
        .unwrap();
    assert_eq!(&lines[3], written_info);

    let infos = parse(&http::get(addr, "/debug/logs/recent?level=info").body);
    assert!(infos.iter().all(|l| l["level"] == "info"), "{infos:?}");
    assert!(infos.iter().any(|l| l["message"] == "all blocks processed"));

    let all = parse(&http::get(addr, "/debug/logs/recent?n=10000&level=trace").body);
    assert!(all.iter().all(|l| l["level"] != "trace"));
    assert_eq!(
        all.iter()
            .filter(|l| l["message"] == "fetched block")
            .count(),
        20
    );

    for bad in [
        "n=0",
        "n=10001",
        "n=lots",
        "level=loud",
        "level=",
        "since=5m",
        "n=1&n=2",
    ] {
        let response = http::get(addr, &format!("/debug/logs/recent?{bad}"));
        assert_eq!(response.status, 400, "{bad}: {response:?}");
        assert!(
            response.body.contains("expected")
                || response.body.contains("unknown")
                || response.body.contains("twice")
        );
    }
    let recorder = guard.flight_recorder().unwrap();
    assert!(recorder.recorded() >= 22);
}
