//! [`init`] and the [`Builder`] behind it: configure every pillar, then install it globally.

use std::fs::OpenOptions;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::EnvFilter;
// Live control.
use crate::logging::live_filter::LiveFilter;
use crate::logging::rate_limit::{RateLimiter, SummaryFlusher};
use crate::logging::FlightRecorder;
use std::sync::Arc;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::Layer;

use crate::admin::{AdminServer, AdminSettings, AdminState};
use crate::config::{self, LogFormat, LogOutput};
use crate::error::Error;
use crate::guard::Guard;
use crate::logging::line::Fields;
use crate::logging::redact::{Redactor, DEFAULT_REDACTED_FIELDS};
use crate::logging::{JsonLayer, NonBlocking, PrettyLayer, DEFAULT_BUFFER_BYTES};
use crate::metric::{MetricSettings, MetricsRuntime, PreparedMetrics};
use crate::panic_hook;
use crate::runtime::RuntimeSettings;
use crate::trace::export::{self, ExportSettings, Exporter};
use crate::trace::propagation;
use crate::trace::{OtlpProtocol, TraceSampler, DEFAULT_SPAN_QUEUE};

/// Set once the first installation succeeds: a process has one global subscriber.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The default log filter when neither the builder, `RUST_LOG` nor `LOG_LEVEL` says otherwise.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// Installs everything with defaults taken from the environment; keep the returned [`Guard`]
/// alive until the process exits.
///
/// Equivalent to `Stethoscope::builder().from_env()?.install()`. See [`Builder::from_env`] for
/// the variables read.
///
/// # Errors
/// An [`Error`] naming the variable when an environment variable is invalid, and
/// [`Error::AlreadyInitialized`] on a second call.
///
/// # Examples
/// ```no_run
/// fn main() -> Result<(), stethoscope::Error> {
///     let _telemetry = stethoscope::init()?;
///     stethoscope::info!(port = 8080, "listening");
///     Ok(())
/// }
/// ```
pub fn init() -> Result<Guard, Error> {
    Stethoscope::builder().from_env()?.install()
}

/// Entry point for configuring stethoscope in code.
#[derive(Debug)]
#[non_exhaustive]
pub struct Stethoscope;

impl Stethoscope {
    /// A [`Builder`] with the defaults: JSON logs to stdout at `info`, default redactions,
    /// the panic hook on. Nothing is read from the environment until [`Builder::from_env`].
    pub fn builder() -> Builder {
        Builder::default()
    }
}

/// Configures stethoscope; finish with [`Builder::install`].
///
/// Setters that can reject their input return `Result<Self, Error>`, so a mistake is reported
/// where it is made. Later calls win, so `builder().from_env()?.with_log_format(..)` lets code
/// override the environment and `builder().with_log_format(..).from_env()?` the reverse.
///
/// ```
/// use stethoscope::{LogFormat, LogOutput, Stethoscope};
///
/// let builder = Stethoscope::builder()
///     .with_service_name("indexer")
///     .with_log_filter("info,indexer::db=debug")?
///     .with_log_format(LogFormat::Json)
///     .with_redacted_fields(["private_key", "*_secret"])?
///     .with_log_output(LogOutput::Stderr);
/// # drop(builder);
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "a builder does nothing until `.install()`"]
pub struct Builder {
    // Metrics and admin server; their setters are in `metric/config.rs` and `admin/config.rs`.
    pub(crate) metric: MetricSettings,
    pub(crate) admin: AdminSettings,
    // Runtime monitor and slow operations; their setters are in `runtime/settings.rs`.
    pub(crate) runtime: RuntimeSettings,
    service_name: Option<String>,
    filter: Option<String>,
    // Which spans are exported and which are timed: their own filters (`None`: as logged).
    trace_filter: Option<String>,
    slow_filter: Option<String>,
    format: LogFormat,
    redactor: Redactor,
    output: LogOutput,
    buffer_bytes: usize,
    panic_hook: bool,
    ansi: Option<bool>,
    export: ExportSettings,
    // Live control: rate limit and flight recorder; setters in `logging/settings.rs`.
    pub(crate) live: crate::logging::settings::LiveSettings,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            metric: MetricSettings::default(),
            admin: AdminSettings::default(),
            runtime: RuntimeSettings::default(),
            service_name: None,
            filter: None,
            trace_filter: None,
            slow_filter: None,
            format: LogFormat::default(),
            redactor: Redactor::new(DEFAULT_REDACTED_FIELDS).unwrap_or_default(),
            output: LogOutput::default(),
            buffer_bytes: DEFAULT_BUFFER_BYTES,
            panic_hook: true,
            ansi: None,
            export: ExportSettings {
                queue: DEFAULT_SPAN_QUEUE,
                ..ExportSettings::default()
            },
            live: Default::default(),
        }
    }
}

impl Builder {
    /// Names the service; written as `service` on every log line. Defaults to
    /// `OTEL_SERVICE_NAME`, else the executable's name.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets the log filter in `RUST_LOG` syntax, e.g. `info,indexer::db=debug`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] with the parser's message when a directive is invalid.
    pub fn with_log_filter(mut self, directives: &str) -> Result<Self, Error> {
        config::parse_filter(directives).map_err(|why| {
            Error::invalid_config("with_log_filter", format!("{directives:?}"), why)
        })?;
        self.filter = Some(directives.to_owned());
        Ok(self)
    }

    /// Which spans are exported over OTLP, in `RUST_LOG` syntax, independently of what is
    /// logged: `with_trace_filter("info,indexer=debug")` exports the indexer's `debug` spans
    /// while the log output stays at `info`. Default: the log filter (env
    /// `STETHOSCOPE_TRACE_FILTER`). Events are never exported by this filter: it decides spans.
    ///
    /// ```
    /// let builder = stethoscope::Stethoscope::builder()
    ///     .with_log_filter("info")?
    ///     .with_trace_filter("info,indexer=debug")?;
    /// # drop(builder);
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the directive that does not parse.
    pub fn with_trace_filter(mut self, directives: &str) -> Result<Self, Error> {
        config::parse_filter(directives).map_err(|why| {
            Error::invalid_config("with_trace_filter", format!("{directives:?}"), why)
        })?;
        self.trace_filter = Some(directives.to_owned());
        Ok(self)
    }

    /// Which spans are timed as slow operations (and counted in the operation stats), in
    /// `RUST_LOG` syntax. Default: the trace filter if one is set, else the log filter (env
    /// `STETHOSCOPE_SLOW_FILTER`).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the directive that does not parse.
    pub fn with_slow_filter(mut self, directives: &str) -> Result<Self, Error> {
        config::parse_filter(directives).map_err(|why| {
            Error::invalid_config("with_slow_filter", format!("{directives:?}"), why)
        })?;
        self.slow_filter = Some(directives.to_owned());
        Ok(self)
    }

    /// Chooses JSON (default) or pretty lines.
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.format = format;
        self
    }

    /// Redacts fields matching `patterns`, in addition to the defaults
    /// ([`DEFAULT_REDACTED_FIELDS`](crate::logging::DEFAULT_REDACTED_FIELDS)).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty pattern or one made only of `*`.
    pub fn with_redacted_fields<I, S>(mut self, patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        crate::logging::json::add_patterns(&mut self.redactor, patterns)?;
        Ok(self)
    }

    /// Removes the default redaction patterns (patterns added later still apply).
    pub fn without_default_redactions(mut self) -> Self {
        self.redactor = Redactor::default();
        self
    }

    /// Chooses where log lines go (default stdout).
    pub fn with_log_output(mut self, output: LogOutput) -> Self {
        self.output = output;
        self
    }

    /// Bounds queued log output in bytes (default 16 MiB); lines beyond it are dropped and
    /// counted rather than blocking the application.
    pub fn with_log_buffer_bytes(mut self, bytes: usize) -> Self {
        self.buffer_bytes = bytes;
        self
    }

    /// Turns the panic hook on (default) or off. When on, a panic is logged as one `error` line
    /// (message, location, thread, backtrace when `RUST_BACKTRACE` enables it, trace id when
    /// inside a span) and queued lines are flushed before the previous hook runs.
    pub fn with_panic_hook(mut self, enabled: bool) -> Self {
        self.panic_hook = enabled;
        self
    }

    /// Forces ANSI colours in the pretty format on or off (default: on for a terminal unless
    /// `NO_COLOR` is set).
    pub fn with_ansi(mut self, ansi: bool) -> Self {
        self.ansi = Some(ansi);
        self
    }

    /// Exports spans over OTLP/HTTP (protobuf) to the collector at `base_url`, like
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`: spans go to `<base_url>/v1/traces`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `base_url` is an `http://` URL with a host.
    pub fn with_otlp_endpoint(mut self, base_url: &str) -> Result<Self, Error> {
        self.export.endpoint = Some(export::Endpoint::from_builder(base_url)?);
        Ok(self)
    }

    /// Chooses the OTLP transport (default OTLP/HTTP protobuf).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for gRPC when the `otlp-grpc` feature is not compiled in.
    pub fn with_otlp_protocol(mut self, protocol: OtlpProtocol) -> Result<Self, Error> {
        self.export.protocol = protocol.available().map_err(|why| {
            Error::invalid_config("with_otlp_protocol", format!("{protocol:?}"), why)
        })?;
        Ok(self)
    }

    /// Exports spans through `exporter` (any OpenTelemetry SDK span exporter: stdout, an
    /// in-memory one in tests, a vendor's) instead of OTLP, with the same bounded, counted
    /// batch queue. Wins over an OTLP endpoint.
    pub fn with_span_exporter<E>(mut self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::trace::SpanExporter + 'static,
    {
        self.export.custom = Some(export::CustomExporter::new(exporter));
        self
    }

    /// Chooses which traces are exported (default: follow the parent, sample all roots).
    pub fn with_trace_sampler(mut self, sampler: TraceSampler) -> Self {
        self.export.sampler = sampler;
        self
    }

    /// Bounds the spans waiting for export (default [`DEFAULT_SPAN_QUEUE`]); past it, spans
    /// are dropped and counted instead of growing memory while a collector is down.
    pub fn with_span_queue(mut self, spans: usize) -> Self {
        self.export.queue = spans.max(1);
        self
    }

    /// Sets `service.version` on exported spans.
    pub fn with_service_version(mut self, version: impl Into<String>) -> Self {
        self.export.service_version = Some(version.into());
        self
    }

    /// Adds a resource attribute to exported spans, e.g. `deployment.environment`.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.export.resource.push((key.into(), value.into()));
        self
    }

    /// Applies the process environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `RUST_LOG` | log filter, e.g. `info,indexer::db=debug` |
    /// | `LOG_LEVEL` | `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`: used when `RUST_LOG` is unset |
    /// | `LOG_FORMAT` | `json` or `pretty` |
    /// | `STETHOSCOPE_ADMIN_ADDR` | admin server address `host:port` (default `127.0.0.1:9464`), or `off` |
    /// | `STETHOSCOPE_ADMIN_TOKEN` | bearer token required by every admin path but `/healthz` |
    /// | `STETHOSCOPE_REDACT` | comma-separated extra field patterns to redact |
    /// | `STETHOSCOPE_LOG_RATE_LIMIT` | per-callsite log budget `N/s` or `N/s,burst=M`, or `off` (default) |
    /// | `STETHOSCOPE_FLIGHT_RECORDER` | most verbose level the flight recorder keeps (default `debug`), or `off` |
    /// | `STETHOSCOPE_SLOW_MS` | log spans slower than this many milliseconds (default 100), or `off`; span-name overrides after commas: `100,db_*=500` |
    /// | `STETHOSCOPE_BLOCKED_MS` | report a runtime worker stuck in one poll this long, with its stack (default 100), or `off` |
    /// | `STETHOSCOPE_SLOW_POLL_MS` | log polls (a span entered without a break in a tokio task) longer than this (default 10), or `off` |
    /// | `OTEL_SERVICE_NAME` | the service name (else `service.name` in `OTEL_RESOURCE_ATTRIBUTES`) |
    /// | `NO_COLOR` | any value turns colours off in the pretty format |
    /// | `OTEL_SDK_DISABLED` | `true` turns span export off |
    /// | `OTEL_EXPORTER_OTLP_ENDPOINT` | collector base URL (`http://localhost:4318`); spans go to `/v1/traces` |
    /// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | full URL for spans; wins over the above |
    /// | `OTEL_EXPORTER_OTLP_PROTOCOL`, `…_TRACES_PROTOCOL` | `http/protobuf` (default) or `grpc` (feature `otlp-grpc`) |
    /// | `OTEL_EXPORTER_OTLP_HEADERS`, `…_TRACES_HEADERS` | `key=value,…` sent with every export, values percent-encoded; values never appear in errors or `{:?}` |
    /// | `OTEL_EXPORTER_OTLP_TIMEOUT`, `…_TRACES_TIMEOUT` | export timeout, a positive number of milliseconds |
    /// | `OTEL_BSP_SCHEDULE_DELAY` | milliseconds between exports of queued spans (default 500) |
    /// | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | `always_on`, `always_off`, `traceidratio`, `parentbased_*` |
    /// | `OTEL_RESOURCE_ATTRIBUTES` | `key=value,…` added to exported spans |
    ///
    /// Empty values count as unset.
    ///
    /// # Errors
    /// [`Error::InvalidEnv`] naming the variable, its value and what is accepted.
    pub fn from_env(self) -> Result<Self, Error> {
        self.from_env_with(|var| std::env::var(var).ok())
    }

    /// Like [`from_env`](Self::from_env) but reads variables through `lookup`, e.g. from a
    /// configuration file or a test's map.
    ///
    /// ```
    /// let err = stethoscope::Stethoscope::builder()
    ///     .from_env_with(|var| (var == "RUST_LOG").then(|| "info,db=loud".to_string()))
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with(r#"invalid RUST_LOG="info,db=loud": "#));
    /// ```
    ///
    /// # Errors
    /// As for [`from_env`](Self::from_env).
    pub fn from_env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("RUST_LOG") {
            config::parse_filter(&v).map_err(|why| Error::invalid_env("RUST_LOG", &v, why))?;
            self.filter = Some(v);
        } else if let Some(v) = get("LOG_LEVEL") {
            let directive = config::log_level_directive(&v).ok_or_else(|| {
                Error::invalid_env(
                    "LOG_LEVEL",
                    &v,
                    "expected one of \"trace\", \"debug\", \"info\", \"warn\", \"error\", \"fatal\", \"silent\"",
                )
            })?;
            self.filter = Some(directive.to_owned());
        }
        for (var, slot) in [
            ("STETHOSCOPE_TRACE_FILTER", &mut self.trace_filter),
            ("STETHOSCOPE_SLOW_FILTER", &mut self.slow_filter),
        ] {
            if let Some(v) = get(var) {
                config::parse_filter(&v).map_err(|why| Error::invalid_env(var, &v, why))?;
                *slot = Some(v);
            }
        }
        if let Some(v) = get("LOG_FORMAT") {
            self.format = LogFormat::parse(&v).ok_or_else(|| {
                Error::invalid_env("LOG_FORMAT", &v, "expected \"json\" or \"pretty\"")
            })?;
        }
        if let Some(v) = get("STETHOSCOPE_REDACT") {
            for pattern in config::split_list(&v) {
                self.redactor
                    .add(pattern)
                    .map_err(|why| Error::invalid_env("STETHOSCOPE_REDACT", &v, why))?;
            }
        }
        if let Some(v) = get("OTEL_SERVICE_NAME") {
            self.service_name = Some(v.trim().to_owned());
        }
        self.admin.apply_env(&get)?;
        self.runtime.apply_env(&get)?;
        self.live.apply_env(&get)?;
        if lookup("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            self.ansi = Some(false);
        }
        self.export_from_env(&get)?;
        Ok(self)
    }

    fn export_from_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("OTEL_SDK_DISABLED") {
            self.export.disabled = match v.trim().to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(Error::invalid_env(
                        "OTEL_SDK_DISABLED",
                        &v,
                        "expected \"true\" or \"false\"",
                    ))
                }
            };
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_ENDPOINT",
        ] {
            if let Some(v) = get(var) {
                self.export.endpoint = Some(export::Endpoint::from_env(var, &v)?);
                break;
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            if let Some(v) = get(var) {
                self.export.protocol = OtlpProtocol::from_env(var, &v)?;
                break;
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            if let Some(v) = get(var) {
                self.export.headers.extend(export::parse_headers(var, &v)?);
            }
        }
        for var in [
            "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
            "OTEL_EXPORTER_OTLP_TIMEOUT",
        ] {
            if let Some(v) = get(var) {
                self.export.timeout = Some(export::parse_millis(var, &v)?);
                break;
            }
        }
        if let Some(v) = get("OTEL_BSP_SCHEDULE_DELAY") {
            self.export.schedule_delay = Some(export::parse_millis("OTEL_BSP_SCHEDULE_DELAY", &v)?);
        }
        if let Some(v) = get("OTEL_TRACES_SAMPLER") {
            self.export.sampler =
                TraceSampler::from_env(&v, get("OTEL_TRACES_SAMPLER_ARG").as_deref())?;
        }
        if let Some(v) = get("OTEL_RESOURCE_ATTRIBUTES") {
            let attrs = export::parse_key_values(&v)
                .map_err(|why| Error::invalid_env("OTEL_RESOURCE_ATTRIBUTES", &v, why))?;
            for (k, val) in attrs {
                match k.as_str() {
                    "service.name" if self.service_name.is_none() => self.service_name = Some(val),
                    "service.name" => {}
                    "service.version" => self.export.service_version = Some(val),
                    _ => self.export.resource.push((k, val)),
                }
            }
        }
        Ok(())
    }

    /// Installs the configured pillars as this process's global telemetry.
    ///
    /// # Errors
    /// * [`Error::AlreadyInitialized`] if stethoscope was installed before in this process;
    /// * [`Error::SubscriberAlreadySet`] if another global `tracing` subscriber exists;
    /// * [`Error::Io`] if the log file cannot be opened or the writer thread cannot start;
    /// * [`Error::AdminBind`] if the admin server cannot listen on its address;
    /// * [`Error::RecorderAlreadySet`] if another global `metrics` recorder exists.
    pub fn install(self) -> Result<Guard, Error> {
        if INSTALLED.swap(true, Ordering::SeqCst) {
            return Err(Error::AlreadyInitialized);
        }
        let result = self.install_once();
        if result.is_err() {
            // Nothing global was left in place: a corrected retry may succeed.
            INSTALLED.store(false, Ordering::SeqCst);
        }
        result
    }

    /// Every step that can fail runs before the first global one, so a failed installation
    /// leaves the process as it found it (and a corrected retry can succeed): first the admin
    /// port, the background threads (log writer, exporter, metrics sampler, admin server,
    /// runtime monitor, all held or harmless until started) and the metrics recorder; then the
    /// globals, the two fallible ones first.
    fn install_once(mut self) -> Result<Guard, Error> {
        let panic_hook_enabled = self.panic_hook;
        // The metrics recorder and the admin server are process-wide: only `install` starts
        // them.
        let metric = std::mem::take(&mut self.metric);
        let admin = std::mem::take(&mut self.admin);
        let runtime = self.runtime.clone();
        let admin_listener = admin.addr.map(AdminServer::bind).transpose()?;
        // What `/debug/stethoscope` reports, rendered before the settings are consumed.
        let config_json = crate::admin::introspection::config_json(&self.view(), &metric, &admin);
        let parts = self.assemble()?;
        let mut guard = parts.guard;
        guard.live_config_json = Some(config_json);
        guard.live_runtime = tokio::runtime::Handle::try_current().ok();
        let metrics = metric
            .enabled
            .then(|| MetricsRuntime::prepare(&metric, parts.writer.clone(), guard.export_stats()))
            .transpose()?;
        let server = start_admin(&mut guard, &admin, admin_listener, &metrics, &parts.writer)?;
        let monitor = runtime.prepare(&parts.dispatch)?;

        // -- globals from here on --
        // Checked before the recorder is set: the dispatcher cannot be unset afterwards.
        if global_subscriber_set() {
            return Err(Error::SubscriberAlreadySet);
        }
        let metrics = metrics.map(PreparedMetrics::install_global).transpose()?;
        // Fails only if another thread set a subscriber since the check above.
        tracing::dispatcher::set_global_default(parts.dispatch)
            .map_err(|_| Error::SubscriberAlreadySet)?;
        if let Some(monitor) = &monitor {
            monitor.start_sampling();
        }

        // Bridge the `log` crate; another logger may own it already, which is not fatal.
        let mut bridge = tracing_log::LogTracer::builder();
        if let Some(level) = parts.log_max_level {
            bridge = bridge.with_max_level(level_filter_to_log(level));
        }
        if let Err(e) = bridge.init() {
            tracing::warn!(target: "stethoscope", error = %e, "records of the `log` crate are not captured: another `log` logger is installed");
        } else if let Some(level) = guard.log_level() {
            // Ours now: runtime log-level changes may move the `log` crate's max level.
            level.own_log_max_level();
        }

        opentelemetry::global::set_text_map_propagator(propagation::global_propagator());

        if panic_hook_enabled {
            panic_hook::install(parts.writer.clone());
            // Live control: the panic hook also writes out the flight recorder.
            panic_hook::attach_recorder(guard.flight_recorder());
        }
        if let Some(server) = &server {
            if admin.token.is_none() && !server.addr().ip().is_loopback() {
                tracing::warn!(
                    target: "stethoscope",
                    addr = %server.addr(),
                    "the admin server listens beyond loopback without a token: anyone who can reach it \
                     can read /metrics; set STETHOSCOPE_ADMIN_TOKEN or Builder::with_admin_token"
                );
            }
        }
        let readiness = guard.readiness();
        guard.attach_metrics_and_admin(metrics, server, readiness);
        guard.attach_runtime_monitor(monitor);
        Ok(guard)
    }

    /// Builds logging and tracing but installs nothing global: returns the subscriber as a
    /// [`Dispatch`](tracing::Dispatch) (use it with `tracing::dispatcher::with_default`, or set
    /// it globally yourself) and the [`Guard`] that owns the background work. No panic hook,
    /// `log` bridge, global propagator, metrics recorder or admin server is set up; those are
    /// process-wide and [`Builder::install`] does them.
    ///
    /// # Errors
    /// As [`Builder::install`], except that nothing can already be installed.
    ///
    /// ```
    /// let (dispatch, guard) = stethoscope::Stethoscope::builder()
    ///     .with_log_output(stethoscope::LogOutput::Writer(Box::new(std::io::sink())))
    ///     .into_dispatch()?;
    /// tracing::dispatcher::with_default(&dispatch, || stethoscope::info!("scoped"));
    /// drop(guard);
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    pub fn into_dispatch(self) -> Result<(tracing::Dispatch, Guard), Error> {
        let parts = self.assemble()?;
        Ok((parts.dispatch, parts.guard))
    }

    fn assemble(mut self) -> Result<Parts, Error> {
        let filter_text = self.filter.as_deref().unwrap_or(DEFAULT_LOG_FILTER);
        let filter: EnvFilter = config::parse_filter(filter_text)
            .map_err(|why| Error::invalid_config("with_log_filter", filter_text, why))?;
        // Live control: the flight recorder records below the output filter, so the `log`
        // crate must pass its level through too.
        let recorder = self.live.recorder.as_ref().map(FlightRecorder::new);
        let floor = recorder
            .as_ref()
            .map_or(LevelFilter::OFF, |r| LevelFilter::from_level(r.level()));
        let log_max_level = filter.max_level_hint().map(|hint| hint.max(floor));
        let live = LiveFilter::new(filter, filter_text, floor);
        let limiter = self.live.rate_limit.map(|l| Arc::new(RateLimiter::new(l)));
        let destination: Box<dyn io::Write + Send> = match self.output {
            LogOutput::Stdout => Box::new(io::stdout()),
            LogOutput::Stderr => Box::new(io::stderr()),
            LogOutput::File(path) => Box::new(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| Error::io(format!("opening log file {}", path.display()), e))?,
            ),
            LogOutput::Writer(w) => w,
        };
        let (writer, writer_guard) = NonBlocking::builder()
            .buffer_bytes(self.buffer_bytes)
            .spawn(destination)?;

        let service = self.service_name.or_else(default_service_name);
        let exporter = if Exporter::wanted(&self.export) {
            Some(Exporter::start(
                &mut self.export,
                service.as_deref().unwrap_or("unknown_service"),
            )?)
        } else {
            None
        };
        let otel_ids = exporter.is_some();
        let mut fields = Fields::default();
        fields.policy.redactor = self.redactor;
        if let Some(service) = &service {
            fields.add_constant("service", service);
        }
        let recorder_fields = fields.clone();
        let (json, pretty) = match self.format {
            LogFormat::Json => (
                Some(
                    JsonLayer::new()
                        .with_fields(fields)
                        .with_otel_ids(otel_ids)
                        .with_live_control(
                            limiter.clone(),
                            recorder.as_ref().map(FlightRecorder::tap),
                        )
                        .with_writer(writer.clone()),
                ),
                None,
            ),
            LogFormat::Pretty => {
                let mut layer = PrettyLayer::new()
                    .with_fields(fields)
                    .with_otel_ids(otel_ids)
                    .with_rate_limiter(limiter.clone());
                if let Some(ansi) = self.ansi {
                    layer = layer.with_ansi(ansi);
                }
                (None, Some(layer.with_writer(writer.clone())))
            }
        };
        // The OpenTelemetry layer sits inside the output layers: it enters a span first, so
        // they can adopt the exported span's ids on first enter.
        let slow = self.runtime.slow_layer();
        // Every output layer sits behind the live (runtime-changeable) filter as one per-layer
        // filter; the flight recorder behind its own, so it still receives what the output
        // filter rejects. Export and timing share it unless they have filters of their own
        // (one filter evaluated per span is cheaper than three).
        let (exported, timed) =
            span_filters(self.trace_filter.as_deref(), self.slow_filter.as_deref())?;
        let (otel_own, otel_shared) = match exported {
            Some(filter) => (
                Some(otel_layer(exporter.as_ref()).with_filter(filter)),
                None,
            ),
            None => (None, otel_layer(exporter.as_ref())),
        };
        let (slow_own, slow_shared) = match timed {
            Some(filter) => (Some(slow.with_filter(filter)), None),
            None => (None, slow),
        };
        // (`Layer::and_then` spelled out: `Option::and_then` would be picked otherwise.)
        let output = Layer::and_then(otel_shared, json);
        let output =
            Layer::and_then(Layer::and_then(output, pretty), slow_shared).with_filter(live.clone());
        let recorder_layer = recorder
            .as_ref()
            .map(|r| r.layer(recorder_fields).with_filter(r.filter(live.clone())));
        let subscriber = tracing_subscriber::registry()
            .with(otel_own)
            .with(output)
            .with(slow_own)
            .with(recorder_layer);
        let dispatch = tracing::Dispatch::new(subscriber);
        let mut guard = Guard::new(writer.clone(), writer_guard, exporter);
        guard.attach_operation_stats(self.runtime.stats.clone());
        let flusher = limiter
            .as_ref()
            .map(|l| SummaryFlusher::start(Arc::clone(l), dispatch.clone()))
            .transpose()?;
        guard.attach_live_control(live.handle(), recorder, limiter, flusher);
        Ok(Parts {
            dispatch,
            guard,
            writer,
            log_max_level,
        })
    }
}

/// What [`Builder::assemble`] produces.
struct Parts {
    dispatch: tracing::Dispatch,
    guard: Guard,
    writer: NonBlocking,
    log_max_level: Option<tracing_subscriber::filter::LevelFilter>,
}

// -- admin server --
/// Starts the admin server on `listener` (a thread with its own runtime); nothing global.
fn start_admin(
    guard: &mut Guard,
    admin: &AdminSettings,
    listener: Option<crate::admin::Bound>,
    metrics: &Option<PreparedMetrics>,
    writer: &NonBlocking,
) -> Result<Option<AdminServer>, Error> {
    let Some(bound) = listener else {
        return Ok(None);
    };
    let readiness_check = admin
        .readiness_rule
        .clone()
        .map(|rule| Arc::new(crate::admin::ReadinessCheck::new(rule, writer.clone())));
    let state = AdminState {
        metrics: metrics.as_ref().map(PreparedMetrics::metrics),
        readiness: guard.readiness(),
        token: admin.token.as_deref().map(Into::into),
        operations: guard.operation_stats().cloned(),
        live: guard.live_control(),
        config_json: guard.live_config_json.take().map(Into::into),
        readiness_check,
        tasks: guard.live_runtime.clone(),
        runtime: tokio::runtime::Handle::try_current().ok(),
    };
    AdminServer::start(bound, state).map(Some)
}

/// The layer that turns spans into OpenTelemetry spans for `exporter`, for any place in the
/// stack (a function, not a value: its type depends on the layers below it).
fn otel_layer<S>(
    exporter: Option<&Exporter>,
) -> Option<tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    exporter.map(|e| {
        tracing_opentelemetry::layer()
            .with_tracer(e.tracer())
            // Our slow-operation timing measures busy/idle itself; OTel's copy halves
            // enter/exit cost when off.
            .with_tracked_inactivity(false)
    })
}

/// The export and timing filters, when they differ from the log filter: the trace filter
/// applies to export, and to timing unless the slow filter is set.
fn span_filters(
    trace: Option<&str>,
    slow: Option<&str>,
) -> Result<(Option<EnvFilter>, Option<EnvFilter>), Error> {
    let parse = |setting: &'static str, text: &str| {
        config::parse_filter(text).map_err(|why| Error::invalid_config(setting, text, why))
    };
    let exported = trace.map(|t| parse("with_trace_filter", t)).transpose()?;
    let timed = match (slow, trace) {
        (Some(s), _) => Some(parse("with_slow_filter", s)?),
        (None, Some(t)) => Some(parse("with_trace_filter", t)?),
        (None, None) => None,
    };
    Ok((exported, timed))
}

/// Whether a global `tracing` subscriber is installed. `tracing::dispatcher::has_been_set`
/// also counts scoped defaults (`with_default` anywhere, ever), so the question is asked on a
/// fresh thread, which has no scoped default and sees the global dispatcher or none. If the
/// thread cannot be spawned, the answer is "no" and `set_global_default` decides.
fn global_subscriber_set() -> bool {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("stethoscope-install".into())
            .spawn_scoped(s, || {
                !tracing::dispatcher::get_default(|d| {
                    d.is::<tracing_core::subscriber::NoSubscriber>()
                })
            })
            .ok()
            .and_then(|t| t.join().ok())
            .unwrap_or(false)
    })
}

fn default_service_name() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.file_stem()?.to_string_lossy().into_owned())
}

fn level_filter_to_log(level: tracing_subscriber::filter::LevelFilter) -> log::LevelFilter {
    use tracing_subscriber::filter::LevelFilter;
    match level {
        LevelFilter::OFF => log::LevelFilter::Off,
        LevelFilter::ERROR => log::LevelFilter::Error,
        LevelFilter::WARN => log::LevelFilter::Warn,
        LevelFilter::INFO => log::LevelFilter::Info,
        LevelFilter::DEBUG => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

// -- live control: the configuration `/debug/stethoscope` shows --
impl Builder {
    pub(crate) fn view(&self) -> crate::admin::introspection::ConfigView<'_> {
        crate::admin::introspection::ConfigView {
            service_name: self.service_name.as_deref(),
            filter: self.filter.as_deref().unwrap_or(DEFAULT_LOG_FILTER),
            format: self.format,
            output: &self.output,
            buffer_bytes: self.buffer_bytes,
            panic_hook: self.panic_hook,
            export: &self.export,
            runtime: &self.runtime,
            live: &self.live,
        }
    }
}
