//! CPU work on every worker in short polls that yield (well-behaved, but too much of it): the
//! runtime still answers promptly, so the doctor reports it as saturated rather than blocked,
//! and names the function from the CPU profile.
#![cfg(unix)]

mod doctor;
mod support;

use std::time::{Duration, Instant};

use stethoscope::doctor::{Doctor, Severity, Signal};

#[test]
fn short_polls_on_every_worker_are_a_runtime_saturated_finding() {
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    // Eight tasks per worker, so a worker never runs out of work and never parks (and spends
    // little of its time looking for more); each poll computes for a quarter of a millisecond
    // and yields, so a ready task (the doctor's probe) still gets a worker within a few polls.
    for _ in 0..16 {
        let stop = stop.clone();
        runtime.spawn(async move {
            while !stop.stopped() {
                let until = Instant::now() + Duration::from_micros(250);
                while Instant::now() < until {
                    std::hint::black_box(doctor::parse_blocks_synchronously(2_000));
                }
                tokio::task::yield_now().await;
            }
        });
    }
    let report = runtime
        .block_on(Doctor::new().observe(doctor::WINDOW))
        .unwrap();
    stop.stop();

    let saturated = doctor::finding(&report, "runtime_saturated");
    let text = report.to_text();
    assert_eq!(saturated.severity, Severity::Warning, "{text}");
    assert_eq!(saturated.signal, Some(Signal::RuntimeBusyRatio));
    let busy = saturated.evidence("runtime_busy_ratio_mean").unwrap();
    assert!(busy >= 0.9, "busy ratio {busy}\n{text}");
    assert!(
        saturated
            .title
            .starts_with("Runtime saturated (busy ratio "),
        "{}",
        saturated.title
    );
    assert_eq!(saturated.evidence("workers"), Some(2.0), "{text}");
    assert!(saturated.evidence("scheduling_delay_p99_ms").is_some());
    assert!(
        saturated
            .subjects
            .first()
            .is_some_and(|s| s.ends_with("parse_blocks_synchronously")),
        "{:?}\n{text}",
        saturated.subjects
    );
    // Saturated, not blocked: and the runtime finding already explains the CPU use.
    for other in ["runtime_blocked", "cpu_hot_spot"] {
        assert!(
            report.findings().iter().all(|f| f.rule != other),
            "{other} too:\n{text}"
        );
    }
}
