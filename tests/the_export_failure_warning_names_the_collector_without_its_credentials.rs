//! The warning logged when exports fail names the collector, with the URL's user info and query
//! masked.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};
use support::Capture;

const SECRET: &str = "s3cr3t";

#[test]
fn the_warning_masks_user_info_and_query() {
    let collector = Collector::start(Behaviour::Reject);
    let endpoint = format!(
        "http://user:{SECRET}@{}/v1/traces?api_key={SECRET}",
        collector.addr
    );
    let env: HashMap<&str, &str> =
        [("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str())].into();
    let logs = Capture::default();
    let guard = Stethoscope::builder()
        .without_admin()
        .with_metrics(false)
        .from_env_with(|v| env.get(v).map(|s| s.to_string()))
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .install()
        .unwrap();
    {
        let span = stethoscope::info_span!("work");
        let _entered = span.enter();
    }
    // Shutdown exports what is queued and writes out the log after it.
    let _ = guard.shutdown(Duration::from_secs(30));
    assert_eq!(
        collector.heads().len(),
        1,
        "the export reached the collector"
    );

    let text = logs.text();
    assert!(!text.contains(SECRET), "the secret leaked: {text}");
    let warning = logs
        .json_lines()
        .into_iter()
        .find(|l| l["target"] == "stethoscope::trace")
        .unwrap_or_else(|| panic!("no export warning in {text}"));
    assert_eq!(
        warning["collector"],
        format!("http://[REDACTED]@{}/v1/traces?[REDACTED]", collector.addr),
        "{warning}"
    );
    assert!(
        warning["error"].as_str().unwrap().contains("400"),
        "{warning}"
    );
}
