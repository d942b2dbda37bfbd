//! `PUT /debug/log-level` changes the filter at once, for `tracing` and `log` alike, including
//! for callsites that were already seen (their cached interest is rebuilt), and `?ttl=` reverts.

mod http;
mod support;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

/// The same callsites every time: the first call caches their interest under `info`.
fn probe(round: &str) {
    stethoscope::debug!(target: "app::db", round, "tracing debug probe");
    log::debug!(target: "app::db", "log debug probe {round}");
    stethoscope::info!(target: "app::db", round, "info probe");
}

/// Messages of lines whose `round` (field or message suffix) is `round`.
fn lines_of(out: &Capture, round: &str) -> Vec<String> {
    out.json_lines()
        .into_iter()
        .filter(|l| {
            l["round"] == round || l["message"].as_str().is_some_and(|m| m.ends_with(round))
        })
        .map(|l| l["message"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn raising_lowering_and_reverting_the_filter_show_in_the_output() {
    let out = Capture::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(out.clone())))
        .with_log_filter("info")
        .unwrap()
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    let flush = || guard.flush(Duration::from_secs(10)).unwrap();

    probe("r1");
    flush();
    assert_eq!(lines_of(&out, "r1"), ["info probe"]);

    let put = http::request_with_body(addr, "PUT", "/debug/log-level", &[], "info,app::db=debug");
    assert_eq!(put.status, 200, "{put:?}");
    let state: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(state["filter"], "info,app::db=debug");
    assert_eq!(state["reverts_in_seconds"], serde_json::Value::Null);
    probe("r2");
    flush();
    assert_eq!(
        lines_of(&out, "r2"),
        ["tracing debug probe", "log debug probe r2", "info probe"]
    );

    let get = http::get(addr, "/debug/log-level");
    assert_eq!(get.status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&get.body).unwrap()["filter"],
        "info,app::db=debug"
    );

    assert_eq!(
        http::request_with_body(addr, "PUT", "/debug/log-level", &[], "warn").status,
        200
    );
    probe("r3");
    flush();
    assert!(
        lines_of(&out, "r3").is_empty(),
        "{:?}",
        lines_of(&out, "r3")
    );

    // A temporary change reverts to the last permanent filter (`warn`).
    let put = http::request_with_body(addr, "PUT", "/debug/log-level?ttl=300ms", &[], "debug");
    assert_eq!(put.status, 200, "{put:?}");
    let state: serde_json::Value = serde_json::from_str(&put.body).unwrap();
    assert_eq!(state["permanent"], "warn");
    assert!(state["reverts_in_seconds"].as_f64().unwrap() <= 0.3);
    probe("r4");
    flush();
    assert_eq!(lines_of(&out, "r4").len(), 3);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let get = http::get(addr, "/debug/log-level");
        let state: serde_json::Value = serde_json::from_str(&get.body).unwrap();
        if state["filter"] == "warn" {
            break;
        }
        assert!(Instant::now() < deadline, "never reverted: {state}");
        std::thread::sleep(Duration::from_millis(50));
    }
    probe("r5");
    flush();
    assert!(
        lines_of(&out, "r5").is_empty(),
        "{:?}",
        lines_of(&out, "r5")
    );
    let reverted = out
        .json_lines()
        .into_iter()
        .any(|l| l["message"] == "temporary log filter expired; reverted");
    assert!(!reverted, "the revert notice is info, below `warn`");
}
