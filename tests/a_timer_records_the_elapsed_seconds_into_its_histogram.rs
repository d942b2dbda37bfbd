//! `metric::start_timer` records one observation, the seconds it ran, into its histogram when
//! it is dropped or observed, and none when it is discarded.

mod http;

use std::time::Duration;

use stethoscope::metric::start_timer;
use stethoscope::{LogOutput, Stethoscope};

const NAME: &str = "batch_write_duration_seconds";

/// The histogram's `_count` and `_sum` as `/metrics` serves them (`None` before it exists).
fn count_and_sum(guard: &stethoscope::Guard) -> (Option<f64>, Option<f64>) {
    let scrape = http::parse(&guard.render_metrics().expect("metrics are on"));
    (
        http::value(&scrape, &format!("{NAME}_count")),
        http::value(&scrape, &format!("{NAME}_sum")),
    )
}

#[test]
fn a_timer_records_its_elapsed_seconds_once() {
    let guard = Stethoscope::builder()
        .without_admin()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .install()
        .unwrap();
    assert_eq!(count_and_sum(&guard), (None, None), "nothing recorded yet");

    // Dropped: records the time it was alive, at least the sleep inside it.
    let timer = start_timer(metrics::histogram!(NAME));
    std::thread::sleep(Duration::from_millis(20));
    drop(timer);
    let (count, sum) = count_and_sum(&guard);
    assert_eq!(count, Some(1.0));
    let after_drop = sum.unwrap();
    assert!(after_drop >= 0.020, "sum {after_drop}");

    // Observed: records now, the value it returns, and nothing more when it is dropped.
    let seconds = start_timer(metrics::histogram!(NAME)).observe_duration();
    let (count, sum) = count_and_sum(&guard);
    assert_eq!(count, Some(2.0));
    let added = sum.unwrap() - after_drop;
    assert!(
        (added - seconds).abs() <= 1e-9 * seconds.max(1.0),
        "sum grew by {added}, observe_duration returned {seconds}"
    );

    // Discarded: records nothing.
    start_timer(metrics::histogram!(NAME)).discard();
    assert_eq!(count_and_sum(&guard).0, Some(2.0));

    guard.shutdown(Duration::from_secs(5)).unwrap();
}
