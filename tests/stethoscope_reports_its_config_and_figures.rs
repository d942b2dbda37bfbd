//! `GET /debug/stethoscope` shows the configuration with every secret masked and stethoscope's
//! own figures; `/metrics` carries the same figures as `stethoscope_*` metrics.

mod http;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};

#[test]
fn the_report_masks_secrets_and_counts_lines() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .from_env_with(|var| match var {
            "OTEL_EXPORTER_OTLP_HEADERS" => {
                Some("authorization=Bearer sekrit,x-tenant=acme".into())
            }
            "STETHOSCOPE_LOG_RATE_LIMIT" => Some("1000/s,burst=5000".into()),
            _ => None,
        })
        .unwrap()
        .with_admin_addr(http::any_port())
        .with_admin_token("s3cret")
        .unwrap()
        .with_metrics_sample_interval(Duration::from_millis(100))
        .unwrap()
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    let auth = [("Authorization", "Bearer s3cret")];
    for i in 0..25u64 {
        stethoscope::info!(i, "counted");
    }
    guard.flush(Duration::from_secs(10)).unwrap();

    assert_eq!(http::get(addr, "/debug/stethoscope").status, 401);
    let r = http::request(addr, "GET", "/debug/stethoscope", &auth);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(
        !r.body.contains("s3cret") && !r.body.contains("sekrit"),
        "{}",
        r.body
    );
    let report: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    let config = &report["config"];
    assert_eq!(config["admin"]["token"], "[REDACTED]");
    assert_eq!(config["traces"]["headers"]["authorization"], "[REDACTED]");
    assert_eq!(config["traces"]["headers"]["x-tenant"], "[REDACTED]");
    assert_eq!(config["log"]["filter"], "info");
    assert_eq!(config["log"]["rate_limit"]["per_second"], 1000);
    assert_eq!(config["log"]["flight_recorder"]["level"], "debug");
    let figures = &report["figures"];
    assert!(
        figures["log"]["lines_queued"].as_u64().unwrap() >= 25,
        "{figures}"
    );
    assert_eq!(figures["log"]["lines_dropped"], 0);
    assert_eq!(figures["log"]["lines_suppressed"], 0);
    assert_eq!(figures["log"]["filter"], "info");
    assert!(figures["flight_recorder"]["recorded"].as_u64().unwrap() >= 25);
    assert!(figures["cost"]["metrics_sampler_seconds"].is_number());

    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let scrape = http::scrape(addr, &auth);
        let lines = http::value(&scrape, "stethoscope_log_lines_total").unwrap_or(0.0);
        let sampler_runs = scrape.samples.iter().any(|s| {
            s.metric.starts_with("stethoscope_sampler_duration_seconds")
                && s.labels.get("sampler") == Some("metrics")
        });
        if lines >= 25.0 && sampler_runs {
            assert!(http::value(&scrape, "stethoscope_profiler_samples_total").is_some());
            break;
        }
        assert!(Instant::now() < deadline, "figures never reached /metrics");
        std::thread::sleep(Duration::from_millis(100));
    }
}
