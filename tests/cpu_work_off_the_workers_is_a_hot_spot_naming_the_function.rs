//! CPU-heavy work moved off the runtime's workers (to the blocking pool, as it should be): the
//! runtime stays responsive and idle, the process burns CPU, and the doctor names the hot
//! function from the CPU profile.
#![cfg(unix)]

mod doctor;
mod support;

use stethoscope::doctor::{Doctor, Severity, Signal};

#[test]
fn a_hot_function_on_the_blocking_pool_is_a_cpu_hot_spot_finding() {
    let runtime = support::two_worker_runtime();
    let stop = doctor::Stop::default();
    // Two threads computing flat out on the blocking pool: up to two cores, so well above the
    // rule's half a core even when another test shares the machine. (More threads would not
    // help on a machine loaded by other sessions, and would delay the doctor's probe.)
    let hot: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            runtime.spawn_blocking(move || {
                while !stop.stopped() {
                    std::hint::black_box(doctor::parse_blocks_synchronously(100_000));
                }
            })
        })
        .collect();
    let report = runtime
        .block_on(Doctor::new().observe(doctor::WINDOW))
        .unwrap();
    stop.stop();
    for thread in hot {
        runtime.block_on(thread).unwrap();
    }

    let text = report.to_text();
    let finding = doctor::finding(&report, "cpu_hot_spot");
    assert_eq!(finding.signal, Some(Signal::ProcessCpu));
    let cpu = finding.evidence("process_cpu_percent_mean").unwrap();
    assert!(cpu >= 50.0, "process CPU {cpu} %\n{text}");
    assert!(
        finding.title.starts_with("CPU-bound: the process uses "),
        "{}",
        finding.title
    );
    // A warning only once the process uses (nearly) every core.
    let cores = finding.evidence("cores").unwrap();
    let expected = if cpu >= 0.9 * cores * 100.0 {
        Severity::Warning
    } else {
        Severity::Info
    };
    assert_eq!(finding.severity, expected, "{text}");
    assert!(
        finding
            .subjects
            .first()
            .is_some_and(|s| s.ends_with("parse_blocks_synchronously")),
        "{:?}\n{text}",
        finding.subjects
    );
    assert!(finding.recommendation.contains("flame graph"));
    // The workers were free the whole time: not a runtime problem.
    for other in ["runtime_blocked", "runtime_saturated"] {
        assert!(
            report.findings().iter().all(|f| f.rule != other),
            "{other} too:\n{text}"
        );
    }
}
