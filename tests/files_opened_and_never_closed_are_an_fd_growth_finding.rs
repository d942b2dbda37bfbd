//! Files opened and never closed (the seed's sockets not returned to a pool): open file
//! descriptors grow along a line and the doctor reports it; files opened and closed again at
//! the same rate are not a finding.
#![cfg(target_os = "linux")] // open file descriptors are read from /proc

mod doctor;

use std::fs::File;
use std::time::Duration;

use stethoscope::doctor::{Doctor, Severity, Signal};

/// Opens a file every 25 ms until stopped, keeping at most `keep` of them open (the oldest is
/// closed first); returns how many it opened.
fn open_files(stop: doctor::Stop, keep: usize) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let mut open = std::collections::VecDeque::new();
        let mut opened = 0;
        while !stop.stopped() {
            open.push_back(File::open("/dev/null").unwrap());
            opened += 1;
            if open.len() > keep {
                drop(open.pop_front());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        opened
    })
}

fn observe() -> stethoscope::doctor::Report {
    Doctor::new()
        .with_cpu_profile(false)
        .observe_blocking(doctor::WINDOW)
        .unwrap()
}

#[test]
fn descriptors_that_pile_up_are_an_fd_growth_finding_and_churn_is_not() {
    let stop = doctor::Stop::default();
    let leak = open_files(stop.clone(), usize::MAX);
    let report = observe();
    stop.stop();
    let leaked = leak.join().unwrap();

    let text = report.to_text();
    let fds = doctor::finding(&report, "fd_growth");
    assert_eq!(fds.severity, Severity::Warning, "{text}");
    assert_eq!(fds.signal, Some(Signal::OpenFds));
    let (first, last) = (
        fds.evidence("first").unwrap(),
        fds.evidence("last").unwrap(),
    );
    assert!(
        last - first >= 16.0,
        "{first} → {last} with {leaked} files opened\n{text}"
    );
    assert!(fds.evidence("r_squared").unwrap() >= 0.8, "{text}");
    assert!(fds.evidence("growth_per_second").unwrap() > 0.0, "{text}");
    assert!(
        fds.title.starts_with("Open file descriptors grow steadily"),
        "{}",
        fds.title
    );
    assert!(fds.recommendation.contains("/proc/<pid>/fd"));

    // The same opening rate, each file closed a little later: a level, not a leak.
    let stop = doctor::Stop::default();
    let churn = open_files(stop.clone(), 4);
    let report = observe();
    stop.stop();
    let opened = churn.join().unwrap();
    assert!(opened >= 20, "only {opened} files opened and closed");
    assert!(
        report.findings().iter().all(|f| f.rule != "fd_growth"),
        "{}",
        report.to_text()
    );
    assert!(report.summary(Signal::OpenFds).is_some(), "fds were read");
}
