//! Tasks spawned and never finished (waiting forever, like a listener on a channel whose
//! sender is never dropped): the doctor's handles finding.

mod doctor;
mod support;

use std::time::Duration;

use stethoscope::doctor::{Doctor, Signal};

#[test]
fn tasks_that_never_finish_are_a_task_growth_finding() {
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    {
        let stop = stop.clone();
        runtime.spawn(async move {
            while !stop.stopped() {
                for _ in 0..10 {
                    tokio::spawn(std::future::pending::<()>());
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
    let report = runtime
        .block_on(
            Doctor::new()
                .with_cpu_profile(false)
                .observe(doctor::WINDOW),
        )
        .unwrap();
    stop.stop();

    let tasks = doctor::finding(&report, "task_growth");
    assert_eq!(tasks.signal, Some(Signal::AliveTasks));
    let (first, last) = (
        tasks.evidence("first").unwrap(),
        tasks.evidence("last").unwrap(),
    );
    assert!(
        last - first >= 100.0,
        "{first} → {last}\n{}",
        report.to_text()
    );
    assert!(tasks.evidence("r_squared").unwrap() >= 0.8);
    assert!(tasks.recommendation.contains("JoinSet"));
    let alive = report.summary(Signal::AliveTasks).unwrap();
    assert!(alive.trend.unwrap().slope_per_second > 50.0, "{alive:?}");
}
