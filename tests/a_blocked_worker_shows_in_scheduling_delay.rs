//! The scheduling-delay probe shows a worker blocked by synchronous work: the probe task waits
//! for the blocked worker, while on a free runtime it runs at once.

use std::time::{Duration, Instant};

use stethoscope::runtime::{monitor_with, MonitorOptions};

/// The longest scheduling delay seen over `watch`, with the runtime's only worker optionally
/// blocked by `std::thread::sleep(200 ms)` again and again.
fn max_delay(block: bool, watch: Duration) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let mut options = MonitorOptions::default();
    options.interval = Duration::from_millis(100);
    options.probe_interval = Some(Duration::from_millis(10));
    // This test is about the probe; the watchdog (its own test) would add a CPU capture.
    options.blocked_threshold = None;
    let monitor = monitor_with(runtime.handle(), options).unwrap();
    if block {
        runtime.spawn(async {
            loop {
                std::thread::sleep(Duration::from_millis(200)); // the mistake being caught
                tokio::task::yield_now().await;
            }
        });
    }
    let end = Instant::now() + watch;
    let mut max = Duration::ZERO;
    let mut probes = 0;
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(25));
        let sample = monitor.latest();
        max = max.max(sample.max_scheduling_delay);
        probes += sample.probes;
    }
    assert!(probes > 0, "no probe ran");
    drop(monitor);
    runtime.shutdown_background();
    max
}

#[test]
fn blocking_the_only_worker_for_200ms_shows_as_a_long_delay() {
    let blocked = max_delay(true, Duration::from_millis(1500));
    let free = max_delay(false, Duration::from_millis(1500));
    assert!(
        blocked >= Duration::from_millis(100),
        "blocked: {blocked:?}"
    );
    assert!(free < blocked / 2, "free: {free:?}, blocked: {blocked:?}");
}
