//! OTLP span export: settings from the standard `OTEL_*` variables, a tracer provider with a
//! bounded batch processor, and the bookkeeping that keeps a bad collector from hurting the app.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::trace::{
    BatchConfig, BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, Span,
    SpanData, SpanExporter, SpanProcessor,
};
use opentelemetry_sdk::Resource;

use super::http_client::BlockingHttpClient;
use crate::error::Error;

/// Spans queued for export at most; past it new spans are dropped and counted.
pub const DEFAULT_SPAN_QUEUE: usize = 2_048;
/// How long one export request may take (connect, write, read), like `OTEL_EXPORTER_OTLP_TIMEOUT`.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Export errors are reported at most once per this interval.
const ERROR_REPORT_INTERVAL: Duration = Duration::from_secs(60);
/// How often queued spans are sent.
const SCHEDULED_DELAY: Duration = Duration::from_millis(500);

/// Which traces are recorded and exported (`OTEL_TRACES_SAMPLER`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum TraceSampler {
    /// Every trace (`always_on`).
    AlwaysOn,
    /// No trace (`always_off`).
    AlwaysOff,
    /// This fraction of traces, decided from the trace id (`traceidratio`).
    Ratio(f64),
    /// Follow the parent's decision; for root spans, the inner sampler (`parentbased_*`, the
    /// default with `always_on`).
    ParentBased(ParentBasedRoot),
}

/// The sampler [`TraceSampler::ParentBased`] applies to root spans.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ParentBasedRoot {
    /// Sample every root.
    AlwaysOn,
    /// Sample no root.
    AlwaysOff,
    /// Sample this fraction of roots.
    Ratio(f64),
}

impl Default for TraceSampler {
    fn default() -> Self {
        TraceSampler::ParentBased(ParentBasedRoot::AlwaysOn)
    }
}

impl TraceSampler {
    fn to_sdk(self) -> Sampler {
        match self {
            TraceSampler::AlwaysOn => Sampler::AlwaysOn,
            TraceSampler::AlwaysOff => Sampler::AlwaysOff,
            TraceSampler::Ratio(r) => Sampler::TraceIdRatioBased(r),
            TraceSampler::ParentBased(root) => Sampler::ParentBased(Box::new(match root {
                ParentBasedRoot::AlwaysOn => Sampler::AlwaysOn,
                ParentBasedRoot::AlwaysOff => Sampler::AlwaysOff,
                ParentBasedRoot::Ratio(r) => Sampler::TraceIdRatioBased(r),
            })),
        }
    }

    /// Parses `OTEL_TRACES_SAMPLER` with its `OTEL_TRACES_SAMPLER_ARG`.
    pub(crate) fn from_env(name: &str, arg: Option<&str>) -> Result<Self, Error> {
        let ratio = || -> Result<f64, Error> {
            match arg {
                None => Ok(1.0),
                Some(a) => a
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| {
                        Error::invalid_env(
                            "OTEL_TRACES_SAMPLER_ARG",
                            a,
                            "expected a sampling ratio between 0 and 1, e.g. \"0.25\"",
                        )
                    }),
            }
        };
        Ok(match name.trim().to_ascii_lowercase().as_str() {
            "always_on" => TraceSampler::AlwaysOn,
            "always_off" => TraceSampler::AlwaysOff,
            "traceidratio" => TraceSampler::Ratio(ratio()?),
            "parentbased_always_on" => TraceSampler::ParentBased(ParentBasedRoot::AlwaysOn),
            "parentbased_always_off" => TraceSampler::ParentBased(ParentBasedRoot::AlwaysOff),
            "parentbased_traceidratio" => {
                TraceSampler::ParentBased(ParentBasedRoot::Ratio(ratio()?))
            }
            _ => {
                return Err(Error::invalid_env(
                    "OTEL_TRACES_SAMPLER",
                    name,
                    "expected one of \"always_on\", \"always_off\", \"traceidratio\", \
                     \"parentbased_always_on\", \"parentbased_always_off\", \
                     \"parentbased_traceidratio\"",
                ))
            }
        })
    }
}

/// Builds the batch processor around a user-supplied exporter (see
/// [`Builder::with_span_exporter`](crate::Builder::with_span_exporter)).
pub(crate) struct CustomExporter(
    Box<dyn FnOnce(Arc<ExportStats>, BatchConfig) -> BatchSpanProcessor + Send>,
);

impl CustomExporter {
    pub(crate) fn new<E: SpanExporter + 'static>(exporter: E) -> Self {
        CustomExporter(Box::new(move |stats, config| {
            BatchSpanProcessor::builder(CountingExporter {
                inner: exporter,
                stats,
            })
            .with_batch_config(config)
            .build()
        }))
    }
}

impl std::fmt::Debug for CustomExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CustomExporter(..)")
    }
}

/// Everything needed to export spans; built from the builder and `OTEL_*` variables.
#[derive(Debug, Default)]
pub(crate) struct ExportSettings {
    /// An exporter given in code; wins over `endpoint`.
    pub(crate) custom: Option<CustomExporter>,
    /// Where the collector is; `None` = no export.
    pub(crate) endpoint: Option<Endpoint>,
    pub(crate) protocol: OtlpProtocol,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) sampler: TraceSampler,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) service_version: Option<String>,
    pub(crate) disabled: bool,
    pub(crate) queue: usize,
    pub(crate) timeout: Option<Duration>,
}

/// A collector address as configured.
#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    /// A base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`): OTLP/HTTP appends `/v1/traces`.
    Base(String),
    /// The URL for spans exactly (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    Traces(String),
}

impl Endpoint {
    /// The URL the exporter sends to under `protocol`.
    fn resolve(&self, protocol: OtlpProtocol) -> String {
        match (self, protocol) {
            (Endpoint::Base(base), OtlpProtocol::HttpProtobuf) => traces_url_from_base(base),
            (Endpoint::Base(url) | Endpoint::Traces(url), _) => url.trim().to_owned(),
        }
    }
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtlpProtocol {
    /// `http/protobuf` to port 4318: built in, no extra dependencies. The default.
    #[default]
    HttpProtobuf,
    /// `grpc` to port 4317. Requires the `otlp-grpc` cargo feature.
    Grpc,
}

impl OtlpProtocol {
    /// Parses an `OTEL_EXPORTER_OTLP_PROTOCOL` value.
    pub(crate) fn from_env(var: &'static str, value: &str) -> Result<Self, Error> {
        match value.trim() {
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            "grpc" => OtlpProtocol::Grpc.available().map_err(|why| Error::invalid_env(var, value, why)),
            "http/json" => Err(Error::invalid_env(
                var,
                value,
                "http/json is not supported; use \"http/protobuf\" (port 4318) or \"grpc\" (port 4317)",
            )),
            _ => Err(Error::invalid_env(var, value, "expected \"http/protobuf\" or \"grpc\"")),
        }
    }

    /// Whether this build can speak the protocol; the error says how to enable it.
    pub(crate) fn available(self) -> Result<Self, String> {
        match self {
            OtlpProtocol::Grpc if !cfg!(feature = "otlp-grpc") => Err(
                "OTLP/gRPC needs the `otlp-grpc` cargo feature of stethoscope; enable it, or use \
                 \"http/protobuf\" with the collector's OTLP/HTTP port (4318)"
                    .to_owned(),
            ),
            p => Ok(p),
        }
    }
}

/// Checks an OTLP endpoint: an `http://host[:port][/path]` URL.
pub(crate) fn validate_endpoint(url: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url
        .trim()
        .parse()
        .map_err(|e| format!("not a URL ({e}); expected e.g. \"http://localhost:4318\""))?;
    match uri.scheme_str() {
        Some("http") if uri.host().is_some() => Ok(uri),
        Some("https") => Err(
            "https endpoints are not supported by the built-in exporter client; send to a local \
             collector or agent over http (e.g. \"http://localhost:4318\"), which forwards over TLS"
                .to_owned(),
        ),
        _ => Err("expected an http:// URL with a host, e.g. \"http://localhost:4318\"".to_owned()),
    }
}

/// `OTEL_EXPORTER_OTLP_ENDPOINT` is a base URL: traces go to `<base>/v1/traces`.
pub(crate) fn traces_url_from_base(base: &str) -> String {
    format!("{}/v1/traces", base.trim().trim_end_matches('/'))
}

/// Parses `key=value,key=value` lists (`OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_RESOURCE_ATTRIBUTES`), percent-decoding the values.
pub(crate) fn parse_key_values(list: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{item:?} has no '='; expected \"key1=value1,key2=value2\""))?;
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("{item:?} has an empty key"));
        }
        let v =
            percent_decode(v.trim()).ok_or_else(|| format!("{item:?} has an invalid %-escape"))?;
        out.push((k.to_owned(), v));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Counters shared by the export pipeline and the [`Guard`](crate::Guard).
#[derive(Debug, Default)]
pub(crate) struct ExportStats {
    /// Spans handed to the batch processor and not yet exported (or failed).
    in_flight: AtomicUsize,
    pub(crate) dropped: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) failed_exports: AtomicU64,
    /// The batch processor's shutdown gave up waiting for its export thread.
    shutdown_timed_out: AtomicBool,
    last_error_report: Mutex<Option<Instant>>,
}

impl ExportStats {
    fn report_error(&self, what: &dyn std::fmt::Display) {
        let mut last = self
            .last_error_report
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= ERROR_REPORT_INTERVAL) {
            *last = Some(Instant::now());
            tracing::warn!(
                target: "stethoscope::trace",
                error = %what,
                failed_exports = self.failed_exports.load(Ordering::Relaxed),
                dropped_spans = self.dropped.load(Ordering::Relaxed),
                "exporting spans failed; spans are dropped and counted (reported at most once a minute)"
            );
        }
    }
}

/// Gates spans into the batch processor so its queue never overflows silently: past the
/// bound we drop and count ourselves (the SDK's own drop count is private).
#[derive(Debug)]
struct CountingProcessor {
    inner: BatchSpanProcessor,
    stats: Arc<ExportStats>,
    capacity: usize,
}

impl SpanProcessor for CountingProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        if self.stats.in_flight.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.stats.in_flight.fetch_sub(1, Ordering::AcqRel);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.inner.shutdown_with_timeout(timeout);
        // The provider folds this into a generic error; `Exporter::shutdown` needs to know.
        if matches!(result, Err(OTelSdkError::Timeout(_))) {
            self.stats.shutdown_timed_out.store(true, Ordering::Release);
        }
        result
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps the OTLP exporter to release queue slots and count and report failures.
#[derive(Debug)]
struct CountingExporter<E> {
    inner: E,
    stats: Arc<ExportStats>,
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let result = self.inner.export(batch).await;
        self.stats.in_flight.fetch_sub(n, Ordering::AcqRel);
        match &result {
            Ok(()) => {
                self.stats.exported.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.failed_exports.fetch_add(1, Ordering::Relaxed);
                self.stats.dropped.fetch_add(n as u64, Ordering::Relaxed);
                self.stats.report_error(e);
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The running export pipeline.
#[derive(Debug)]
pub(crate) struct Exporter {
    pub(crate) provider: SdkTracerProvider,
    pub(crate) stats: Arc<ExportStats>,
}

impl Exporter {
    /// Whether `settings` ask for span export at all.
    pub(crate) fn wanted(settings: &ExportSettings) -> bool {
        !settings.disabled && (settings.custom.is_some() || settings.endpoint.is_some())
    }

    /// Builds the tracer provider for `settings` (a custom exporter or an OTLP endpoint).
    pub(crate) fn start(settings: &mut ExportSettings, service_name: &str) -> Result<Self, Error> {
        let timeout = settings.timeout.unwrap_or(DEFAULT_EXPORT_TIMEOUT);
        let stats = Arc::new(ExportStats::default());
        let queue = settings.queue.max(1);
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(queue)
            .with_scheduled_delay(SCHEDULED_DELAY)
            .build();
        let batch = match settings.custom.take() {
            Some(custom) => (custom.0)(Arc::clone(&stats), config),
            None => {
                let endpoint = settings
                    .endpoint
                    .as_ref()
                    .map(|e| e.resolve(settings.protocol))
                    .unwrap_or_default();
                let rejected = |e: &dyn std::fmt::Display| {
                    Error::invalid_config(
                        "with_otlp_endpoint",
                        &endpoint,
                        format!("the exporter rejected it: {e}"),
                    )
                };
                match settings.protocol {
                    #[cfg(feature = "otlp-grpc")]
                    OtlpProtocol::Grpc => {
                        let grpc = super::grpc::GrpcExporter::build(
                            &endpoint,
                            &settings.headers,
                            timeout,
                        )?;
                        BatchSpanProcessor::builder(CountingExporter {
                            inner: grpc,
                            stats: Arc::clone(&stats),
                        })
                        .with_batch_config(config)
                        .build()
                    }
                    _ => {
                        let otlp = opentelemetry_otlp::SpanExporter::builder()
                            .with_http()
                            .with_http_client(BlockingHttpClient { timeout })
                            .with_endpoint(&endpoint)
                            .with_timeout(timeout)
                            .with_headers(settings.headers.iter().cloned().collect())
                            .build()
                            .map_err(|e| rejected(&e))?;
                        BatchSpanProcessor::builder(CountingExporter {
                            inner: otlp,
                            stats: Arc::clone(&stats),
                        })
                        .with_batch_config(config)
                        .build()
                    }
                }
            }
        };
        let provider = SdkTracerProvider::builder()
            .with_span_processor(CountingProcessor {
                inner: batch,
                stats: Arc::clone(&stats),
                capacity: queue,
            })
            .with_sampler(settings.sampler.to_sdk())
            .with_resource(resource(settings, service_name))
            .build();
        Ok(Exporter { provider, stats })
    }

    pub(crate) fn tracer(&self) -> opentelemetry_sdk::trace::Tracer {
        self.provider.tracer("stethoscope")
    }

    /// Flushes and stops, waiting at most `deadline` even if the collector hangs.
    pub(crate) fn shutdown(self, deadline: Duration) -> Result<(), Error> {
        let (done, wait) = mpsc::channel();
        let provider = self.provider;
        let stats = self.stats;
        // The SDK's shutdown blocks until its thread finishes the last export; run it aside so
        // a hung collector cannot hold the caller past the deadline.
        let spawned = std::thread::Builder::new()
            .name("stethoscope-span-shutdown".into())
            .spawn(move || {
                let _ = done.send(provider.shutdown_with_timeout(deadline));
            });
        if spawned.is_err() {
            return Ok(());
        }
        match wait.recv_timeout(deadline) {
            // The SDK gives up at the same deadline, so it may answer first: the spans it was
            // still exporting are abandoned all the same.
            Ok(_) if stats.shutdown_timed_out.load(Ordering::Acquire) => {
                Err(Error::ExportTimeout { deadline })
            }
            Ok(_) => Ok(()),
            Err(_) => Err(Error::ExportTimeout { deadline }),
        }
    }
}

fn resource(settings: &ExportSettings, service_name: &str) -> Resource {
    let mut attrs = vec![KeyValue::new("process.pid", i64::from(std::process::id()))];
    if let Some(host) = host_name() {
        attrs.push(KeyValue::new("host.name", host));
    }
    if let Some(version) = &settings.service_version {
        attrs.push(KeyValue::new("service.version", version.clone()));
    }
    attrs.extend(
        settings
            .resource
            .iter()
            .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
    );
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(attrs)
        .with_service_name(service_name.to_owned())
        .build()
}

fn host_name() -> Option<String> {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samplers_parse_with_their_arguments() {
        assert_eq!(
            TraceSampler::from_env("always_off", None).unwrap(),
            TraceSampler::AlwaysOff
        );
        assert_eq!(
            TraceSampler::from_env("traceidratio", Some("0.25")).unwrap(),
            TraceSampler::Ratio(0.25)
        );
        assert_eq!(
            TraceSampler::from_env("ParentBased_TraceIdRatio", Some("1")).unwrap(),
            TraceSampler::ParentBased(ParentBasedRoot::Ratio(1.0))
        );
        let err = TraceSampler::from_env("traceidratio", Some("2")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid OTEL_TRACES_SAMPLER_ARG=\"2\""),
            "{err}"
        );
        let err = TraceSampler::from_env("jaeger_remote", None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid OTEL_TRACES_SAMPLER=\"jaeger_remote\""),
            "{err}"
        );
    }

    #[test]
    fn key_value_lists_are_percent_decoded_and_validated() {
        assert_eq!(
            parse_key_values("api-key=a%20b, x=1").unwrap(),
            vec![("api-key".into(), "a b".into()), ("x".into(), "1".into())]
        );
        assert!(parse_key_values("novalue").is_err());
        assert!(parse_key_values("=v").is_err());
        assert!(parse_key_values("k=%zz").is_err());
    }

    #[test]
    fn protocols_parse_and_grpc_needs_its_feature() {
        let var = "OTEL_EXPORTER_OTLP_PROTOCOL";
        assert_eq!(
            OtlpProtocol::from_env(var, "http/protobuf").unwrap(),
            OtlpProtocol::HttpProtobuf
        );
        let grpc = OtlpProtocol::from_env(var, "grpc");
        if cfg!(feature = "otlp-grpc") {
            assert_eq!(grpc.unwrap(), OtlpProtocol::Grpc);
        } else {
            assert!(grpc
                .unwrap_err()
                .to_string()
                .contains("`otlp-grpc` cargo feature"));
        }
        let err = OtlpProtocol::from_env(var, "http/json").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid OTEL_EXPORTER_OTLP_PROTOCOL=\"http/json\""),
            "{err}"
        );
        assert!(OtlpProtocol::from_env(var, "carrier-pigeon").is_err());
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(validate_endpoint("http://localhost:4318").is_ok());
        assert!(validate_endpoint("https://collector:4318")
            .unwrap_err()
            .contains("https"));
        assert!(validate_endpoint("localhost:4318").is_err());
        assert!(validate_endpoint("not a url").is_err());
        assert_eq!(
            traces_url_from_base("http://c:4318/"),
            "http://c:4318/v1/traces"
        );
    }
}
