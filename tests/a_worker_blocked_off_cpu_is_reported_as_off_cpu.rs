//! The blocked-runtime watchdog reports a worker blocked off CPU (sleeping, blocking I/O, a
//! lock) while it is stuck: one warning inside the span it is in, then one saying it is off
//! CPU rather than naming a function.

mod support;

use std::time::Duration;

use support::blocked_worker::blocked_lines;
use tracing::Instrument;

#[test]
fn a_worker_blocked_off_cpu_is_reported_too() {
    let (lines, _) = blocked_lines(|| {
        async { std::thread::sleep(Duration::from_millis(600)) }
            .instrument(tracing::info_span!("read_config_file"))
    });
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["span"], "read_config_file", "{}", lines[0]);
    assert!(lines[0]["blocked_ms"].as_u64().unwrap() >= 100);
    assert!(
        lines[1]["message"].as_str().unwrap().contains("off CPU"),
        "{}",
        lines[1]
    );
}
