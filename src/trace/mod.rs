//! Traces: OpenTelemetry export over OTLP/HTTP and W3C Trace Context propagation.
//!
//! [`crate::init`] exports `tracing` spans as OpenTelemetry spans when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or [`Builder::with_otlp_endpoint`](crate::Builder::with_otlp_endpoint))
//! names a collector; log lines then carry the exported spans' ids. [`propagation`] (also at
//! `stethoscope::propagation`) moves the trace across services.

mod carrier;
pub(crate) mod export;
#[cfg(feature = "otlp-grpc")]
mod grpc;
mod http_client;
mod http_server;
#[cfg(feature = "kafka")]
#[cfg_attr(docsrs, doc(cfg(feature = "kafka")))]
pub mod kafka;
pub mod propagation;
pub(crate) mod w3c;

pub use export::{
    OtlpProtocol, ParentBasedRoot, TraceSampler, DEFAULT_EXPORT_TIMEOUT, DEFAULT_SPAN_QUEUE,
};

/// Records `error` on the current span: an `error` event carrying the error and its source
/// chain, which marks the exported span's status as ERROR with an `exception` event (the seed's
/// `span.recordException`) and is logged like any error line.
///
/// ```
/// # #[derive(Debug)] struct DbDown;
/// # impl std::fmt::Display for DbDown { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("db down") } }
/// # impl std::error::Error for DbDown {}
/// let span = stethoscope::info_span!("write_batch");
/// let _entered = span.enter();
/// stethoscope::trace::record_error(&DbDown);
/// ```
pub fn record_error(error: &(dyn std::error::Error + 'static)) {
    tracing::error!(error, "{error}");
}

/// Marks `span`'s exported status as OK (the seed's `span.setStatus({ code: SpanStatusCode.OK })`):
/// an operation that succeeded, as opposed to one whose status is merely unset. Without span
/// export it does nothing.
///
/// ```
/// let span = stethoscope::info_span!("process_block");
/// stethoscope::trace::set_status_ok(&span);
/// ```
pub fn set_status_ok(span: &tracing::Span) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    span.set_status(opentelemetry::trace::Status::Ok);
}
