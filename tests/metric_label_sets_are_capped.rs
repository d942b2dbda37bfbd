//! A metric fed unbounded label values keeps at most the configured number of series.

mod http;
mod support;

use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::Capture;

#[test]
fn label_sets_past_the_cap_are_folded_into_other_and_counted() {
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .with_admin_addr(http::any_port())
        .with_metric_label_set_limit(5)
        .install()
        .unwrap();
    for user in 0..1_000 {
        metrics::counter!("requests_total", "user" => user.to_string(), "route" => "/login")
            .increment(1);
        metrics::histogram!("request_duration_seconds", "user" => user.to_string()).record(0.01);
    }

    let scrape = http::scrape(guard.admin_addr().unwrap(), &[]);
    let requests: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "requests_total")
        .collect();
    assert_eq!(
        requests.len(),
        6,
        "5 admitted label sets + the overflow series: {requests:#?}"
    );
    let other = requests
        .iter()
        .find(|s| s.labels.get("user") == Some("other"))
        .expect("an overflow series");
    assert_eq!(other.labels.get("route"), Some("other"));
    assert!(matches!(other.value, prometheus_parse::Value::Counter(v) if v == 995.0));

    let histograms = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "request_duration_seconds")
        .count();
    assert_eq!(histograms, 6);

    let overflow = |metric: &str| {
        scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "stethoscope_metric_cardinality_overflow_total"
                    && s.labels.get("metric") == Some(metric)
            })
            .map(|s| s.value.clone())
    };
    assert_eq!(
        overflow("requests_total"),
        Some(prometheus_parse::Value::Counter(995.0))
    );
    assert_eq!(
        overflow("request_duration_seconds"),
        Some(prometheus_parse::Value::Counter(995.0))
    );

    guard.shutdown(Duration::from_secs(5)).unwrap();
    let logs = logs.text();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("label-set cap"))
        .collect();
    assert_eq!(warnings.len(), 2, "one warning per metric: {logs}");
    assert!(
        warnings[0].contains(r#""metric":"requests_total""#),
        "{logs}"
    );
}
