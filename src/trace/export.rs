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
use crate::secret::{mask_url, Secret, SecretUrl};

/// Spans queued for export at most; past it new spans are dropped and counted.
pub const DEFAULT_SPAN_QUEUE: usize = 2_048;
/// How long one export request may take (connect, write, read), like `OTEL_EXPORTER_OTLP_TIMEOUT`.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// Export errors are reported at most once per this interval.
const ERROR_REPORT_INTERVAL: Duration = Duration::from_secs(60);
/// How often queued spans are sent unless `OTEL_BSP_SCHEDULE_DELAY` says otherwise.
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
    /// Header names as given; values are credentials as often as not.
    pub(crate) headers: Vec<(String, Secret)>,
    pub(crate) sampler: TraceSampler,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) service_version: Option<String>,
    pub(crate) disabled: bool,
    pub(crate) queue: usize,
    pub(crate) timeout: Option<Duration>,
    /// How often queued spans are sent (`OTEL_BSP_SCHEDULE_DELAY`); `None` = [`SCHEDULED_DELAY`].
    pub(crate) schedule_delay: Option<Duration>,
}

/// A collector address as configured; `Debug` masks its user info and query.
#[derive(Clone, Debug)]
pub(crate) enum Endpoint {
    /// A base URL (`OTEL_EXPORTER_OTLP_ENDPOINT`): OTLP/HTTP appends `/v1/traces`.
    Base(SecretUrl),
    /// The URL for spans exactly (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`).
    Traces(SecretUrl),
}

impl Endpoint {
    /// The URL the exporter sends to under `protocol`.
    fn resolve(&self, protocol: OtlpProtocol) -> SecretUrl {
        match (self, protocol) {
            (Endpoint::Base(base), OtlpProtocol::HttpProtobuf) => {
                SecretUrl::new(traces_url_from_base(base.expose()))
            }
            (Endpoint::Base(url) | Endpoint::Traces(url), _) => url.clone(),
        }
    }

    /// `base_url` from [`Builder::with_otlp_endpoint`](crate::Builder::with_otlp_endpoint).
    pub(crate) fn from_builder(base_url: &str) -> Result<Self, Error> {
        validate_endpoint(base_url)
            .map_err(|why| Error::invalid_config("with_otlp_endpoint", mask_url(base_url), why))?;
        Ok(Endpoint::Base(SecretUrl::new(base_url.trim())))
    }

    /// The value of `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL) or
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (the URL for spans).
    pub(crate) fn from_env(var: &'static str, url: &str) -> Result<Self, Error> {
        validate_endpoint(url).map_err(|why| Error::invalid_env(var, &mask_url(url), why))?;
        let url = SecretUrl::new(url.trim());
        Ok(if var == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" {
            Endpoint::Traces(url)
        } else {
            Endpoint::Base(url)
        })
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

/// What `OTEL_EXPORTER_OTLP_HEADERS` and `OTEL_RESOURCE_ATTRIBUTES` accept.
const KEY_VALUE_FORMAT: &str = "expected \"key1=value1,key2=value2\" with each value \
     percent-encoded as the OpenTelemetry specification says (%20 for a space, %2C for a comma), \
     e.g. \"x-team=core,note=two%20words\"";

/// Parses `key=value,key=value` lists (`OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_RESOURCE_ATTRIBUTES`), percent-decoding the values.
///
/// An error names the entry by position (and key, when it has one) but never quotes a value:
/// for headers the value is a credential, and an entry without `=` may be the tail of one
/// that held an unencoded comma.
pub(crate) fn parse_key_values(list: &str) -> Result<Vec<(String, String)>, String> {
    let items: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let entry = format!("entry {} of {}", i + 1, items.len());
        let Some((k, v)) = item.split_once('=') else {
            return Err(format!(
                "{entry} has no \"=\" (not shown: it may be part of a secret); {KEY_VALUE_FORMAT}"
            ));
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(format!("{entry} has an empty key; {KEY_VALUE_FORMAT}"));
        }
        let v = percent_decode(v.trim()).ok_or_else(|| {
            format!(
                "{entry} ({k:?}) has an invalid %-escape in its value (a % must be followed by \
                 two hex digits of UTF-8); {KEY_VALUE_FORMAT}"
            )
        })?;
        out.push((k.to_owned(), v));
    }
    Ok(out)
}

/// Parses `OTEL_EXPORTER_OTLP_HEADERS` (or `…_TRACES_HEADERS`, named by `var`) into header
/// names and secret values, checking each is valid in an HTTP request (the exporter would
/// otherwise drop it silently, and every export would go without it).
///
/// The error shows the list with every value replaced by the redaction marker.
pub(crate) fn parse_headers(var: &'static str, list: &str) -> Result<Vec<(String, Secret)>, Error> {
    let invalid = |why: String| Error::invalid_env(var, &redact_key_values(list), why);
    let pairs = parse_key_values(list).map_err(invalid)?;
    let count = pairs.len();
    let mut headers = Vec::with_capacity(count);
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        let entry = format!("entry {} of {count}", i + 1);
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(invalid(format!(
                "{entry} ({name:?}) is not a valid HTTP header name (letters, digits and \
                 !#$%&'*+-.^_`|~ only); {KEY_VALUE_FORMAT}"
            )));
        }
        if http::HeaderValue::from_str(&value).is_err() {
            return Err(invalid(format!(
                "{entry} ({name:?}) has a value that decodes to a control character, which an \
                 HTTP header cannot carry; {KEY_VALUE_FORMAT}"
            )));
        }
        headers.push((name, Secret::new(value)));
    }
    Ok(headers)
}

/// `list` with every value replaced by the redaction marker; entries without `=`, and keys that
/// are not plain header names (`authorization: Bearer x=`), are replaced whole.
fn redact_key_values(list: &str) -> String {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| match item.split_once('=') {
            Some((k, _)) if http::HeaderName::from_bytes(k.trim().as_bytes()).is_ok() => {
                format!("{}={}", k.trim(), crate::secret::REDACTED)
            }
            _ => crate::secret::REDACTED.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a positive number of milliseconds (`OTEL_EXPORTER_OTLP_TIMEOUT`,
/// `OTEL_BSP_SCHEDULE_DELAY`, …). Zero is refused: as a timeout it would fail every export
/// before it starts, as a delay it would spin the export thread.
pub(crate) fn parse_millis(var: &'static str, value: &str) -> Result<Duration, Error> {
    const EXPECTED: &str =
        "expected a positive whole number of milliseconds, e.g. \"10000\" for 10 seconds";
    match value.trim().parse::<u64>() {
        Ok(0) => Err(Error::invalid_env(
            var,
            value,
            format!("0 ms would make every export fail or spin; {EXPECTED}"),
        )),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(Error::invalid_env(var, value, EXPECTED)),
    }
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
    /// Spans carried by failed exports (part of `dropped`).
    failed_spans: AtomicU64,
    /// What the last failed export reported, for the shutdown error.
    last_error: Mutex<Option<String>>,
    /// The batch processor gave up waiting for its last export at shutdown.
    shutdown_timed_out: AtomicBool,
    /// Where spans go, masked (user info and query redacted), for the failure warning.
    collector: Option<String>,
    last_error_report: Mutex<Option<Instant>>,
}

impl ExportStats {
    fn report_error(&self, what: &dyn std::fmt::Display) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(what.to_string());
        let mut last = self
            .last_error_report
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|t| t.elapsed() >= ERROR_REPORT_INTERVAL) {
            *last = Some(Instant::now());
            tracing::warn!(
                target: "stethoscope::trace",
                error = %what,
                collector = self.collector.as_deref().unwrap_or("custom exporter"),
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
        // The provider folds this into a generic "Shutdown errors: [..]" failure; keep the
        // one fact `Exporter::shutdown` needs to say what happened.
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
                self.stats
                    .failed_spans
                    .fetch_add(n as u64, Ordering::AcqRel);
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
        let queue = settings.queue.max(1);
        let config = BatchConfigBuilder::default()
            .with_max_queue_size(queue)
            .with_scheduled_delay(settings.schedule_delay.unwrap_or(SCHEDULED_DELAY))
            .build();
        let custom = settings.custom.take();
        let endpoint = settings
            .endpoint
            .as_ref()
            .map(|e| e.resolve(settings.protocol))
            .unwrap_or_else(|| SecretUrl::new(""));
        let stats = Arc::new(ExportStats {
            collector: custom.is_none().then(|| endpoint.to_string()),
            ..ExportStats::default()
        });
        let batch = match custom {
            Some(custom) => (custom.0)(Arc::clone(&stats), config),
            None => {
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
                            .with_endpoint(endpoint.expose())
                            .with_timeout(timeout)
                            .with_headers(
                                settings
                                    .headers
                                    .iter()
                                    .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                                    .collect(),
                            )
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
    ///
    /// # Errors
    /// [`Error::ExportTimeout`] when the last export was not answered by `deadline`,
    /// [`Error::ExportFailed`] when it failed; both count the spans that were not exported.
    pub(crate) fn shutdown(self, deadline: Duration) -> Result<(), Error> {
        let stats = self.stats;
        let failed_before = stats.failed_spans.load(Ordering::Acquire);
        let (done, wait) = mpsc::channel();
        let provider = self.provider;
        // The SDK's shutdown blocks until its thread finishes the last export; run it aside so
        // a hung collector cannot hold the caller past the deadline.
        std::thread::Builder::new()
            .name("stethoscope-span-shutdown".into())
            .spawn(move || {
                let _ = done.send(provider.shutdown_with_timeout(deadline));
            })
            .map_err(|e| {
                Error::io(
                    "starting the thread that exports the last spans (they were not exported)",
                    e,
                )
            })?;
        let answered = wait.recv_timeout(deadline);
        // Spans still queued or inside an unanswered request, plus those whose export failed
        // since shutdown began.
        let unexported_spans = stats.in_flight.load(Ordering::Acquire) as u64
            + stats
                .failed_spans
                .load(Ordering::Acquire)
                .saturating_sub(failed_before);
        let sdk_result = match answered {
            Err(_) => {
                return Err(Error::ExportTimeout {
                    deadline,
                    unexported_spans,
                })
            }
            Ok(_) if stats.shutdown_timed_out.load(Ordering::Acquire) => {
                return Err(Error::ExportTimeout {
                    deadline,
                    unexported_spans,
                })
            }
            Ok(result) => result,
        };
        let failed_now = stats.failed_spans.load(Ordering::Acquire) > failed_before;
        // The SDK reports `Ok` even when its last export failed; our counts tell.
        let reason = match sdk_result {
            Ok(()) if unexported_spans == 0 => return Ok(()),
            _ if failed_now => stats
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default(),
            Err(e) => e.to_string(),
            Ok(()) => "they finished while shutdown was under way, after the last export".into(),
        };
        Err(Error::ExportFailed {
            unexported_spans,
            reason,
        })
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
        assert!(parse_key_values("novalue")
            .unwrap_err()
            .starts_with("entry 1 of 1 has no \"=\""));
        assert!(parse_key_values("a=1,=v")
            .unwrap_err()
            .starts_with("entry 2 of 2 has an empty key"));
        let err = parse_key_values("k=%zzs3cr3t").unwrap_err();
        assert!(err.starts_with("entry 1 of 1 (\"k\") has an invalid %-escape"));
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn headers_are_checked_as_http_headers() {
        let var = "OTEL_EXPORTER_OTLP_HEADERS";
        let headers = parse_headers(var, "Authorization=Bearer%20t%C3%A9, x-a=1").unwrap();
        assert_eq!(headers[0].0, "Authorization");
        assert_eq!(headers[0].1.expose(), "Bearer t\u{e9}");
        let err = parse_headers(var, "bad name=s3cr3t")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "invalid OTEL_EXPORTER_OTLP_HEADERS=\"[REDACTED]\": entry 1 of 1 (\"bad name\") \
                 is not a valid HTTP header name"
            ),
            "{err}"
        );
        let err = parse_headers(var, "a=%7Fs3cr3t").unwrap_err().to_string();
        assert!(err.contains("control character"), "{err}");
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn export_settings_debug_masks_header_values_and_user_info() {
        let settings = ExportSettings {
            endpoint: Some(
                Endpoint::from_env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://u:s3cr3t@c:4318")
                    .unwrap(),
            ),
            headers: parse_headers(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cr3t",
            )
            .unwrap(),
            ..ExportSettings::default()
        };
        for shown in [format!("{settings:?}"), format!("{settings:#?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("authorization"), "{shown}");
            assert!(shown.contains("[REDACTED]"), "{shown}");
            assert!(shown.contains("http://[REDACTED]@c:4318"), "{shown}");
        }
        // What is sent is the real value.
        assert_eq!(settings.headers[0].1.expose(), "Bearer s3cr3t");
        let url = settings
            .endpoint
            .unwrap()
            .resolve(OtlpProtocol::HttpProtobuf);
        assert_eq!(url.expose(), "http://u:s3cr3t@c:4318/v1/traces");
    }

    #[test]
    fn milliseconds_must_be_positive() {
        assert_eq!(
            parse_millis("OTEL_EXPORTER_OTLP_TIMEOUT", " 2500 ").unwrap(),
            Duration::from_millis(2500)
        );
        let err = parse_millis("OTEL_EXPORTER_OTLP_TIMEOUT", "0").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "invalid OTEL_EXPORTER_OTLP_TIMEOUT=\"0\": 0 ms would make every export fail"
            ),
            "{err}"
        );
        assert!(parse_millis("OTEL_EXPORTER_OTLP_TIMEOUT", "-1").is_err());
        assert!(parse_millis("OTEL_EXPORTER_OTLP_TIMEOUT", "5s").is_err());
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
