//! With the `otlp-grpc` feature and `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, spans reach an OTLP/gRPC
//! collector (a tonic server in the test) with their parent links and resource.

#![cfg(feature = "otlp-grpc")]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use stethoscope::{LogOutput, Stethoscope};

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<ExportTraceServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.lock().unwrap().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// Serves the collector on its own runtime thread; returns its base URL.
fn start_collector(received: Received) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(received))
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
                .await
                .unwrap();
        });
    });
    url
}

#[test]
fn spans_arrive_over_grpc() {
    let received = Received::default();
    let url = start_collector(received.clone());
    let env: HashMap<&str, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", url),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ("OTEL_SERVICE_NAME", "grpc-indexer".to_owned()),
    ]
    .into();
    let (dispatch, guard) = Stethoscope::builder()
        .from_env_with(|var| env.get(var).cloned())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let outer = stethoscope::info_span!("process_block", height = 7);
        let _o = outer.enter();
        let inner = stethoscope::info_span!("write_batch");
        let _i = inner.enter();
    });
    guard.shutdown(Duration::from_secs(10)).unwrap();

    let requests = received.0.lock().unwrap();
    let mut spans = Vec::new();
    let mut services = Vec::new();
    for rs in requests.iter().flat_map(|r| &r.resource_spans) {
        if let Some(resource) = &rs.resource {
            services.extend(
                resource
                    .attributes
                    .iter()
                    .filter(|kv| kv.key == "service.name")
                    .map(|kv| format!("{:?}", kv.value)),
            );
        }
        spans.extend(rs.scope_spans.iter().flat_map(|ss| ss.spans.clone()));
    }
    let outer = spans
        .iter()
        .find(|s| s.name == "process_block")
        .expect("outer span");
    let inner = spans
        .iter()
        .find(|s| s.name == "write_batch")
        .expect("inner span");
    assert_eq!(inner.parent_span_id, outer.span_id);
    assert_eq!(inner.trace_id, outer.trace_id);
    assert!(
        services.iter().all(|s| s.contains("grpc-indexer")),
        "{services:?}"
    );
}
