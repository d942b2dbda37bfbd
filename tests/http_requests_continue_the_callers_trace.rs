//! `TraceLayer` on an axum router: each request runs in a server span that continues the
//! caller's `traceparent`, carries method, route and status, and is exported as such.

mod support;

use std::time::Duration;

use axum::{routing::get, Router};
use stethoscope::propagation::TraceLayer;
use stethoscope::{LogOutput, Stethoscope};
use support::collector::{attr, hex, Behaviour, Collector};
use support::Capture;
use tower::ServiceExt;

const CALLER_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

async fn block(axum::extract::Path(height): axum::extract::Path<u64>) -> &'static str {
    stethoscope::info!(height, "serving block");
    "ok"
}

async fn broken() -> (http::StatusCode, &'static str) {
    (http::StatusCode::INTERNAL_SERVER_ERROR, "boom")
}

#[test]
fn the_server_span_continues_the_trace_and_records_the_status() {
    let collector = Collector::start(Behaviour::Accept);
    let logs = Capture::default();
    let (dispatch, guard) = Stethoscope::builder()
        .with_service_name("api")
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(logs.clone())))
        .into_dispatch()
        .unwrap();
    let app = Router::new()
        .route("/blocks/{height}", get(block))
        .route("/broken", get(broken))
        .layer(TraceLayer::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        runtime.block_on(async {
            let request = http::Request::get("/blocks/812000")
                .header("traceparent", format!("00-{CALLER_TRACE}-{CALLER_SPAN}-01"))
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), 200);
            let request = http::Request::get("/broken")
                .body(axum::body::Body::empty())
                .unwrap();
            let response = app.oneshot(request).await.unwrap();
            assert_eq!(response.status(), 500);
        });
    });
    guard.shutdown(Duration::from_secs(10)).unwrap();

    let line = logs
        .json_lines()
        .into_iter()
        .find(|l| l["message"] == "serving block")
        .expect("handler log line");
    assert_eq!(line["trace_id"], CALLER_TRACE);
    assert_eq!(line["span"], "http_request");
    assert_eq!(line["http.route"], "/blocks/{height}");
    assert_eq!(line["http.request.method"], "GET");

    let spans = collector.spans();
    let server: Vec<_> = spans
        .iter()
        .filter(|(_, s)| s.name == "http_request")
        .collect();
    assert_eq!(server.len(), 2, "{spans:?}");
    let ok = &server
        .iter()
        .find(|(_, s)| hex(&s.trace_id) == CALLER_TRACE)
        .expect("continued trace")
        .1;
    assert_eq!(hex(&ok.parent_span_id), CALLER_SPAN);
    assert_eq!(ok.kind, 2, "SPAN_KIND_SERVER");
    assert!(
        attr(ok, "http.response.status_code").contains("200"),
        "{:?}",
        ok.attributes
    );
    let failed = &server
        .iter()
        .find(|(_, s)| hex(&s.trace_id) != CALLER_TRACE)
        .unwrap()
        .1;
    assert!(
        failed.parent_span_id.is_empty(),
        "no traceparent: a new trace"
    );
    assert!(attr(failed, "http.response.status_code").contains("500"));
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(2),
        "STATUS_CODE_ERROR"
    );
}
