//! The profiler is process-wide: a second capture while one runs is a clear "busy" error, and
//! the next one after it works.
#![cfg(unix)]

use std::time::Duration;

use stethoscope::profile::cpu::{self, CpuProfiler};

#[test]
fn a_second_capture_is_busy_until_the_first_stops() {
    let first = CpuProfiler::start(cpu::DEFAULT_FREQUENCY).unwrap();

    let err = CpuProfiler::start(cpu::DEFAULT_FREQUENCY).unwrap_err();
    assert!(err.is_profiler_busy(), "{err}");
    assert!(err.to_string().contains("already being captured"), "{err}");
    let err = cpu::capture_blocking(Duration::from_millis(10), 99).unwrap_err();
    assert!(err.is_profiler_busy(), "{err}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = runtime
        .block_on(cpu::capture(Duration::from_millis(10), 99))
        .unwrap_err();
    assert!(err.is_profiler_busy(), "{err}");

    first.stop().unwrap();
    let again = runtime
        .block_on(cpu::capture(Duration::from_millis(50), 99))
        .unwrap();
    assert_eq!(again.frequency(), 99);

    // A profiler dropped without `stop` frees the slot too.
    drop(CpuProfiler::start(cpu::DEFAULT_FREQUENCY).unwrap());
    CpuProfiler::start(cpu::DEFAULT_FREQUENCY)
        .unwrap()
        .stop()
        .unwrap();
}

#[test]
fn invalid_limits_are_rejected_before_anything_starts() {
    let err = CpuProfiler::start(5000).unwrap_err();
    assert!(err.to_string().contains("expected 1..=1000 Hz"), "{err}");
    let err = cpu::capture_blocking(Duration::ZERO, 99).unwrap_err();
    assert!(err.to_string().contains("duration"), "{err}");
    let err = cpu::capture_blocking(Duration::from_secs(301), 99).unwrap_err();
    assert!(err.to_string().contains("at most 300s"), "{err}");
}
