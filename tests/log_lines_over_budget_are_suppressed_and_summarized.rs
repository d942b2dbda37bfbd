//! With a per-callsite budget, a flooding callsite is cut to its budget, the rest is counted in
//! `stethoscope_log_lines_suppressed_total{target}` and summarized in one line per window (the
//! last one at shutdown); other callsites and `error` lines are untouched.

mod http;
mod support;

use std::time::{Duration, Instant};

use stethoscope::logging::RateLimit;
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

fn flood(n: u64) {
    for i in 0..n {
        stethoscope::info!(target: "app::hot", i, "cache miss");
    }
}

#[test]
fn a_flooding_callsite_is_cut_to_its_budget_and_every_line_is_accounted_for() {
    let out = Capture::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(out.clone())))
        .with_log_rate_limit(Some(
            RateLimit::per_second(10).unwrap().with_burst(20).unwrap(),
        ))
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();

    flood(2_000);
    for i in 0..50u64 {
        stethoscope::error!(target: "app::hot", i, "write failed");
    }
    stethoscope::info!(target: "app::cold", "a quiet callsite");

    // The summary and the metric come from the once-a-second flush.
    let deadline = Instant::now() + Duration::from_secs(20);
    let suppressed = loop {
        let scrape = http::scrape(addr, &[]);
        let value = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "stethoscope_log_lines_suppressed_total"
                    && s.labels.get("target") == Some("app::hot")
            })
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v) => v as u64,
                ref other => panic!("{other:?}"),
            });
        if let Some(v) = value {
            break v;
        }
        assert!(Instant::now() < deadline, "the metric never appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    flood(500); // suppressed too; summarized only at shutdown
    let total_suppressed = guard.suppressed_log_lines();
    guard.shutdown(Duration::from_secs(10)).unwrap();

    let lines = out.json_lines();
    let written = lines
        .iter()
        .filter(|l| l["message"] == "cache miss")
        .count() as u64;
    assert!(
        (20..100).contains(&written),
        "{written} lines got through a 10/s, burst 20 budget"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "write failed")
            .count(),
        50
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l["message"] == "a quiet callsite")
            .count(),
        1
    );

    let summaries: Vec<_> = lines
        .iter()
        .filter(|l| l["target"] == "stethoscope::rate_limit")
        .collect();
    assert!(summaries.len() >= 2, "{summaries:?}");
    let summarized: u64 = summaries
        .iter()
        .map(|l| l["suppressed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        written + summarized,
        2_500,
        "every line is written or summarized"
    );
    assert_eq!(summarized, total_suppressed);
    assert!(suppressed <= total_suppressed);
    let first = summaries[0];
    assert_eq!(first["level"], "warn");
    assert_eq!(first["callsite_target"], "app::hot");
    let message = first["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "suppressed {} events from app::hot (tests/",
            first["suppressed"]
        )),
        "{message}"
    );
    assert!(message.contains(" in the last "), "{message}");
}
