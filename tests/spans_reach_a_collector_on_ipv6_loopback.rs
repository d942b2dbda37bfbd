//! An endpoint with an IPv6 literal (`http://[::1]:4318`) is connected to over IPv6, with the
//! Host header written as `[::1]:port`.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use stethoscope::{LogOutput, Stethoscope};
use support::collector::{find, Behaviour, Collector};

#[test]
fn spans_reach_a_collector_listening_on_ipv6_loopback() {
    let collector = match Collector::start_on("[::1]:0", Behaviour::Accept) {
        Ok(c) => c,
        Err(e) => {
            println!("skipped: this machine has no IPv6 loopback ([::1] cannot be bound: {e})");
            return;
        }
    };
    let endpoint = format!("http://[::1]:{}", collector.addr.port());
    let env: HashMap<&str, &str> = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str())].into();
    let (dispatch, guard) = Stethoscope::builder()
        .with_service_name("v6")
        .from_env_with(|v| env.get(v).map(|s| s.to_string()))
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = stethoscope::info_span!("over_ipv6");
        let _entered = span.enter();
    });
    let shutdown = guard.shutdown(Duration::from_secs(30));

    // Shutdown returns after the collector answered: whatever reached it is recorded.
    let heads = collector.heads();
    assert_eq!(
        heads.len(),
        1,
        "requests received: {heads:?} (shutdown: {shutdown:?})"
    );
    shutdown.expect("every span was exported");
    assert!(
        heads[0].starts_with("POST /v1/traces HTTP/1.1\r\n"),
        "{heads:?}"
    );
    let host = format!("\r\nHost: [::1]:{}\r\n", collector.addr.port());
    assert!(heads[0].contains(&host), "{heads:?}");
    let spans = collector.spans();
    assert_eq!(find(&spans, "over_ipv6").0, "Some(StringValue(\"v6\"))");
}
