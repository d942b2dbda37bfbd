//! Every worker stuck inside one poll that never yields: `/metrics` shows the runtime (and each
//! worker) busy while they are stuck, not 0, and the "runtime saturated" warning is logged.
//!
//! tokio publishes busy time only when a worker parks or runs its maintenance, never from
//! inside a poll; the sampler must count the frozen time itself.

mod http;
mod support;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

const WORKERS: usize = 2;

/// The value of `name`'s series whose labels include `label = value` (any series without a
/// label filter).
fn series(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    label: Option<(&str, &str)>,
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .find(|s| label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name} is not a gauge: {other:?}"),
        })
}

#[test]
fn workers_spinning_inside_one_poll_read_as_busy_and_saturated() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    let capture = Capture::default();
    // Installed inside the runtime, so the runtime monitor watches it.
    let guard = {
        let _inside = runtime.enter();
        Stethoscope::builder()
            .with_log_output(LogOutput::Writer(Box::new(capture.clone())))
            .with_admin_addr(http::any_port())
            .install()
            .unwrap()
    };
    let addr = guard.admin_addr().unwrap();

    let spinning = support::spin_every_worker(&runtime, WORKERS);

    // The sampler publishes once a second; a bound on the polling, not a timing assertion:
    // without the fix the ratio stays 0 for as long as the workers are stuck.
    let give_up = Instant::now() + Duration::from_secs(15);
    let scrape = loop {
        let scrape = http::scrape(addr, &[]);
        let workers_busy = (0..WORKERS).all(|w| {
            series(
                &scrape,
                "tokio_runtime_worker_busy_ratio",
                Some(("worker", &w.to_string())),
            )
            .is_some_and(|r| r >= 0.9)
        });
        let busy = series(&scrape, "tokio_runtime_busy_ratio", None).unwrap_or(0.0);
        if (busy >= 0.9 && workers_busy) || Instant::now() > give_up {
            break scrape;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let busy = series(&scrape, "tokio_runtime_busy_ratio", None);
    assert!(
        busy.is_some_and(|r| r >= 0.9),
        "busy ratio {busy:?} while every worker is stuck"
    );
    for w in 0..WORKERS {
        let ratio = series(
            &scrape,
            "tokio_runtime_worker_busy_ratio",
            Some(("worker", &w.to_string())),
        );
        assert!(ratio.is_some_and(|r| r >= 0.9), "worker {w}: {ratio:?}");
    }

    // The warning is logged by the interval that read the ratio; wait for the writer.
    let warning = loop {
        guard.flush(Duration::from_secs(5)).unwrap();
        let warning = capture
            .json_lines()
            .into_iter()
            .find(|l| l["message"] == "runtime saturated — investigate CPU hot spot");
        if warning.is_some() || Instant::now() > give_up {
            break warning;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(spinning);
    runtime.shutdown_timeout(Duration::from_secs(5));

    let warning = warning.unwrap_or_else(|| panic!("no saturation warning:\n{}", capture.text()));
    assert_eq!(warning["level"], "warn");
    assert!(warning["busy_ratio"].as_f64().unwrap() >= 0.9, "{warning}");
    assert_eq!(warning["workers"], 2);
}
