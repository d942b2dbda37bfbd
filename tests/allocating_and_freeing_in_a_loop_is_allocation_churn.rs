//! Buffers allocated and freed at a high rate (the Rust analog of a busy garbage collector):
//! with the counting allocator as the memory input, the doctor reports the allocation rate; a
//! quiet process does not get the finding.

use std::alloc::System;
use std::time::Duration;

mod doctor;

use stethoscope::alloc::Counting;
use stethoscope::doctor::rules::ALLOCATION_CHURN_BYTES_PER_SECOND;
use stethoscope::doctor::{Doctor, Severity, Signal};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

fn observe() -> stethoscope::doctor::Report {
    Doctor::new()
        .with_cpu_profile(false)
        .with_stethoscope_heap()
        .observe_blocking(doctor::WINDOW)
        .unwrap()
}

#[test]
fn allocating_and_freeing_at_a_high_rate_is_allocation_churn() {
    let stop = doctor::Stop::default();
    // 64 MiB allocated and freed every millisecond or so, nominally 64 GiB/s: far above the
    // 1 GiB/s threshold even when a loaded machine runs this thread a tenth as often. The
    // buffers are never written, so this costs little CPU or memory.
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut rounds = 0u64;
            while !stop.stopped() {
                for _ in 0..64 {
                    let buffer: Vec<u8> = Vec::with_capacity(1 << 20);
                    std::hint::black_box(&buffer);
                }
                rounds += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            rounds
        })
    };
    let report = observe();
    stop.stop();
    let rounds = churn.join().unwrap();

    let text = report.to_text();
    let finding = doctor::finding(&report, "allocation_churn");
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.signal, Some(Signal::AllocationRate));
    let rate = finding
        .evidence("allocation_bytes_per_second_mean")
        .unwrap();
    assert!(
        rate >= ALLOCATION_CHURN_BYTES_PER_SECOND,
        "{rate} B/s after {rounds} rounds\n{text}"
    );
    assert!(
        finding.title.starts_with("High allocation rate ("),
        "{}",
        finding.title
    );
    assert!(finding.recommendation.contains("with_capacity"));

    // Nothing allocating: the rate is measured, and low.
    let quiet = observe();
    let rate = quiet
        .summary(Signal::AllocationRate)
        .expect("rate measured");
    assert!(
        rate.mean < ALLOCATION_CHURN_BYTES_PER_SECOND,
        "{}",
        quiet.to_text()
    );
    assert!(
        quiet
            .findings()
            .iter()
            .all(|f| f.rule != "allocation_churn"),
        "{}",
        quiet.to_text()
    );
}
