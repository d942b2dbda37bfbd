//! Synchronous CPU work on the runtime's workers (the seed's JSON parsing on the event loop):
//! the doctor reports the runtime as blocked and names the function from the CPU profile.
#![cfg(unix)]

mod doctor;
mod support;

use std::time::{Duration, Instant};

use stethoscope::doctor::{Doctor, Severity, Signal};

#[test]
fn blocking_work_on_the_workers_is_a_runtime_blocked_finding_naming_the_function() {
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    // More blocking tasks than workers: every worker is held ~150 ms at a time.
    for _ in 0..3 {
        let stop = stop.clone();
        runtime.spawn(async move {
            while !stop.stopped() {
                let until = Instant::now() + Duration::from_millis(150);
                while Instant::now() < until {
                    std::hint::black_box(doctor::parse_blocks_synchronously(100_000));
                }
                tokio::task::yield_now().await;
            }
        });
    }
    let report = runtime
        .block_on(Doctor::new().observe(doctor::WINDOW))
        .unwrap();
    stop.stop();

    let blocked = doctor::finding(&report, "runtime_blocked");
    assert!(
        blocked.severity >= Severity::Warning,
        "{}",
        report.to_text()
    );
    assert_eq!(blocked.signal, Some(Signal::SchedulingDelay));
    let p90 = blocked.evidence("scheduling_delay_p90_ms").unwrap();
    assert!(p90 >= 20.0, "p90 {p90} ms\n{}", report.to_text());
    assert!(
        blocked
            .subjects
            .first()
            .is_some_and(|s| s.ends_with("parse_blocks_synchronously")),
        "{:?}\n{}",
        blocked.subjects,
        report.to_text()
    );
    assert!(blocked.recommendation.contains("spawn_blocking"));
    assert!(report.profile().is_some_and(|p| p.sample_count() > 0));
}
