//! The runtime monitor reports a runtime whose workers spin as busy (and warns that it is
//! saturated) and an idle one as idle.

mod support;

use std::time::{Duration, Instant};

use stethoscope::runtime::{monitor_with, MonitorOptions, RuntimeMonitor, RuntimeSample};
use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

fn options() -> MonitorOptions {
    let mut options = MonitorOptions::default();
    options.interval = Duration::from_millis(200);
    options.probe_interval = None;
    options
}

/// Polls the monitor until `done` accepts a completed sample, for at most 10 s.
fn wait_for(monitor: &RuntimeMonitor, done: impl Fn(&RuntimeSample) -> bool) -> RuntimeSample {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let sample = monitor.latest();
        if done(&sample) || Instant::now() > deadline {
            return sample;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Spins for `d` in 1 ms slices, yielding between them as well-behaved CPU-bound code does,
/// so tokio accounts the busy time as it goes.
async fn spin(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        let slice = Instant::now() + Duration::from_millis(1);
        while Instant::now() < slice {
            std::hint::spin_loop();
        }
        tokio::task::yield_now().await;
    }
}

#[test]
fn spinning_workers_read_as_busy_and_saturated() {
    let capture = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
        .into_dispatch()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    // The saturation warning goes to the dispatcher current where the monitor starts.
    let monitor = tracing::dispatcher::with_default(&dispatch, || {
        monitor_with(runtime.handle(), options()).unwrap()
    });
    let spinners: Vec<_> = (0..2)
        .map(|_| runtime.spawn(spin(Duration::from_secs(3))))
        .collect();
    let sample = wait_for(&monitor, |s| s.busy_ratio >= 0.9);
    assert!(sample.busy_ratio >= 0.9, "{sample:?}");
    assert_eq!(sample.workers, 2);
    assert_eq!(sample.worker_busy_ratios.len(), 2);
    assert!(
        sample.worker_busy_ratios.iter().all(|r| *r > 0.5),
        "{sample:?}"
    );
    // The sample that read ≥ 0.9 warned in the same interval; wait for the writer to have it
    // (a bounded poll on the output itself, not a sleep standing in for it).
    let saturated = |capture: &Capture| {
        capture
            .json_lines()
            .into_iter()
            .filter(|l| l["message"] == "runtime saturated — investigate CPU hot spot")
            .collect::<Vec<_>>()
    };
    let give_up = Instant::now() + Duration::from_secs(10);
    while saturated(&capture).is_empty() && Instant::now() < give_up {
        guard.flush(Duration::from_secs(5)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(monitor);
    for spinner in spinners {
        runtime.block_on(spinner).unwrap();
    }
    guard.flush(Duration::from_secs(5)).unwrap();

    let warnings = saturated(&capture);
    assert!(!warnings.is_empty(), "{}", capture.text());
    let w = &warnings[0];
    assert_eq!(w["level"], "warn");
    assert_eq!(w["target"], "stethoscope::runtime");
    assert!(w["busy_ratio"].as_f64().unwrap() > 0.9, "{w}");
    assert_eq!(w["threshold"].as_f64(), Some(0.9));
    // At most one warning per interval: 3 s of spinning at 200 ms intervals.
    assert!(warnings.len() <= 20, "{} warnings", warnings.len());
}

#[test]
fn an_idle_runtime_reads_as_idle() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let monitor = monitor_with(runtime.handle(), options()).unwrap();
    // A task that mostly sleeps, like an idle service.
    runtime.spawn(async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let first = wait_for(&monitor, |s| !s.elapsed.is_zero());
    let second = wait_for(&monitor, |s| *s != first && !s.elapsed.is_zero());
    assert!(second.busy_ratio <= 0.1, "{second:?}");
    assert!(
        second.worker_busy_ratios.iter().all(|r| *r <= 0.1),
        "{second:?}"
    );
    assert_eq!(second.workers, 2);
    assert!(second.alive_tasks >= 1, "{second:?}");
    assert!(second.parks > 0, "{second:?}");
}
