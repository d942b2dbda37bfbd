//! `/metrics` serves the recorded metrics, histogram buckets and process metrics over real HTTP.

mod http;

use std::time::Duration;

use stethoscope::metric::start_timer;
use stethoscope::{LogOutput, Stethoscope};

const SEED_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

#[test]
fn recorded_metrics_and_process_metrics_are_served_in_the_text_format() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .with_histogram_buckets("transaction_processing_duration_seconds", &SEED_BUCKETS)
        .unwrap()
        .install()
        .unwrap();
    let addr = guard.admin_addr().expect("the admin server runs");

    let ingested = metrics::counter!("transactions_ingested_total");
    ingested.increment(41);
    metrics::counter!("transactions_ingested_total").increment(1);
    metrics::gauge!("db_pool_utilization_ratio").set(0.25);
    drop(start_timer(metrics::histogram!(
        "transaction_processing_duration_seconds"
    )));
    metrics::histogram!("block_fetch_seconds").record(0.0002);

    let response = http::get(addr, "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let scrape = http::parse(&response.body);
    assert_eq!(
        http::value(&scrape, "transactions_ingested_total"),
        Some(42.0)
    );
    assert_eq!(
        http::value(&scrape, "db_pool_utilization_ratio"),
        Some(0.25)
    );
    assert_eq!(
        http::value(&scrape, "stethoscope_log_lines_dropped_total"),
        Some(0.0)
    );

    let buckets = |name: &str| -> Vec<f64> {
        let sample = scrape.samples.iter().find(|s| s.metric == name).unwrap();
        match &sample.value {
            prometheus_parse::Value::Histogram(b) => b.iter().map(|b| b.less_than).collect(),
            other => panic!("{name} is not a histogram: {other:?}"),
        }
    };
    let mut seed = SEED_BUCKETS.to_vec();
    seed.push(f64::INFINITY);
    assert_eq!(buckets("transaction_processing_duration_seconds"), seed);
    let default = buckets("block_fetch_seconds");
    assert_eq!(default.first(), Some(&0.0001));
    assert!(default.contains(&10.0), "{default:?}");

    #[cfg(target_os = "linux")]
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_threads",
        "process_start_time_seconds",
    ] {
        let v = http::value(&scrape, name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(v >= 0.0, "{name} = {v}");
        assert!(scrape.docs.contains_key(name), "{name} has no HELP");
    }
    guard.shutdown(Duration::from_secs(5)).unwrap();
}
