//! Workloads and checks shared by the doctor's scenario tests.

#![allow(dead_code)] // each test binary uses a subset

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use stethoscope::doctor::{Finding, Report, Severity};

/// Every observation window of the scenario tests: long enough for a trend (25 samples at
/// 10 Hz), short enough for CI.
pub(crate) const WINDOW: Duration = Duration::from_millis(2500);

/// The finding of `rule`, or a panic that shows the whole report.
pub(crate) fn finding<'a>(report: &'a Report, rule: &str) -> &'a Finding {
    report
        .findings()
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} finding in:\n{}", report.to_text()))
}

/// Findings of severity warning or above.
pub(crate) fn problems(report: &Report) -> Vec<&Finding> {
    report
        .findings()
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect()
}

/// Plain operators only, so no callee (not inlined in a debug build) takes the self time.
#[inline(never)]
pub(crate) fn parse_blocks_synchronously(rounds: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
    let mut i = 0;
    while i < rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        i += 1;
    }
    x
}

/// A flag that tells workload tasks and threads to stop.
#[derive(Clone, Default)]
pub(crate) struct Stop(Arc<AtomicBool>);

impl Stop {
    pub(crate) fn stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Checks that `text` is well-formed XML (the HTML report is written to be), returning the
/// number of elements named `name`.
pub(crate) fn count_elements(text: &str, name: &str) -> usize {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0i64;
    let mut count = 0;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                depth += 1;
                count += usize::from(e.name().as_ref() == name.as_bytes());
            }
            Event::Empty(e) => count += usize::from(e.name().as_ref() == name.as_bytes()),
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced tags");
    count
}
