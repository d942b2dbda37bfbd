//! [`Guard`]: keeps telemetry running; flushes and shuts it down when dropped.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::error::Error;
use crate::logging::{NonBlocking, WriterGuard};
use crate::trace::export::Exporter;

/// How long `Drop` waits for spans and for log lines, each.
const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// Returned by [`init`](crate::init) and [`Builder::install`](crate::Builder::install).
///
/// Keep it alive for the life of the process (`let _telemetry = stethoscope::init()?;` in
/// `main`; note `let _ = ...` would drop it at once). Dropping it writes every queued log line,
/// waiting at most 5 seconds for a stalled destination, and never panics; use
/// [`Guard::shutdown`] to choose the deadline and see whether it was met.
#[must_use = "dropping the guard shuts telemetry down; bind it: `let _telemetry = stethoscope::init()?;`"]
pub struct Guard {
    // Metrics and admin server: each stops itself, with a deadline, when dropped.
    metrics: Option<crate::metric::MetricsRuntime>,
    admin: Option<crate::admin::AdminServer>,
    // Runtime monitor: stops its sampler thread when dropped.
    runtime: Option<crate::runtime::RuntimeMonitor>,
    operations: Option<crate::runtime::OperationStats>,
    readiness: crate::admin::Readiness,
    writer: NonBlocking,
    writer_guard: Option<WriterGuard>,
    exporter: Option<Exporter>,
    // Live control: runtime log level, flight recorder, rate limit, `/debug/stethoscope`.
    live: crate::admin::LiveControl,
    flusher: Option<crate::logging::rate_limit::SummaryFlusher>,
    pub(crate) live_config_json: Option<String>,
    pub(crate) live_runtime: Option<tokio::runtime::Handle>,
}

impl Guard {
    pub(crate) fn new(
        writer: NonBlocking,
        writer_guard: WriterGuard,
        exporter: Option<Exporter>,
    ) -> Self {
        Guard {
            metrics: None,
            admin: None,
            runtime: None,
            operations: None,
            readiness: crate::admin::Readiness::default(),
            writer,
            writer_guard: Some(writer_guard),
            exporter,
            live: crate::admin::LiveControl::default(),
            flusher: None,
            live_config_json: None,
            live_runtime: None,
        }
    }

    /// Spans dropped so far: the export queue was full (collector down or slow) or an export
    /// failed. Always 0 without an exporter.
    pub fn dropped_spans(&self) -> u64 {
        self.exporter
            .as_ref()
            .map_or(0, |e| e.stats.dropped.load(Ordering::Relaxed))
    }

    pub(crate) fn export_stats(&self) -> Option<std::sync::Arc<crate::trace::export::ExportStats>> {
        self.exporter
            .as_ref()
            .map(|e| std::sync::Arc::clone(&e.stats))
    }

    /// Spans the collector accepted so far.
    pub fn exported_spans(&self) -> u64 {
        self.exporter
            .as_ref()
            .map_or(0, |e| e.stats.exported.load(Ordering::Relaxed))
    }

    /// Log lines dropped so far because the output could not keep up (or failed).
    pub fn dropped_log_lines(&self) -> u64 {
        self.writer.dropped_lines()
    }

    /// Writes out every log line queued so far, waiting at most `timeout`; telemetry keeps
    /// running.
    ///
    /// # Errors
    /// [`Error::FlushTimeout`] if the destination did not accept the output in time.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.writer.flush_within(timeout)
    }

    /// Flushes everything and stops the background work, waiting at most `deadline`.
    ///
    /// # Errors
    /// [`Error::ExportTimeout`] when the collector did not answer the last span export in time,
    /// [`Error::ExportFailed`] when it refused it or could not be reached (both count the spans
    /// that were lost); [`Error::FlushTimeout`] when the log destination did not take all queued
    /// output in time. What is left is abandoned so that the caller is not blocked further.
    ///
    /// The admin server and metric samplers stop first, then spans are exported (their
    /// failures are logged), then logs are written out; each export or flush step gets the
    /// full `deadline` at most.
    pub fn shutdown(mut self, deadline: Duration) -> Result<(), Error> {
        self.stop(deadline)
    }

    fn stop(&mut self, deadline: Duration) -> Result<(), Error> {
        // The rate limiter's last summaries go out while the writer still runs.
        drop(self.flusher.take());
        // Admin server and samplers first, so their shutdown warnings still reach the log.
        drop(self.admin.take());
        drop(self.runtime.take());
        drop(self.metrics.take());
        let spans = match self.exporter.take() {
            Some(exporter) => exporter.shutdown(deadline),
            None => Ok(()),
        };
        let logs = match self.writer_guard.take() {
            Some(guard) => guard.shutdown(deadline),
            None => Ok(()),
        };
        spans.and(logs)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(e) = self.stop(DEFAULT_SHUTDOWN_DEADLINE) {
            eprintln!("stethoscope: {e}");
        }
    }
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guard")
            .field("dropped_log_lines", &self.dropped_log_lines())
            .field("running", &self.writer_guard.is_some())
            .finish()
    }
}

// -- metrics and admin server --
impl Guard {
    pub(crate) fn attach_metrics_and_admin(
        &mut self,
        metrics: Option<crate::metric::MetricsRuntime>,
        admin: Option<crate::admin::AdminServer>,
        readiness: crate::admin::Readiness,
    ) {
        self.metrics = metrics;
        self.admin = admin;
        self.readiness = readiness;
    }

    /// The address the admin server listens on (with the actual port when configured with port
    /// 0), or `None` when it is off.
    pub fn admin_addr(&self) -> Option<std::net::SocketAddr> {
        self.admin.as_ref().map(crate::admin::AdminServer::addr)
    }

    /// The handle behind `GET /readyz`: answers 503 until `readiness().set_ready(true)`.
    ///
    /// ```no_run
    /// let telemetry = stethoscope::init()?;
    /// // ... connect to the database, warm caches ...
    /// telemetry.readiness().set_ready(true);
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    pub fn readiness(&self) -> crate::admin::Readiness {
        self.readiness.clone()
    }

    /// The Prometheus text exposition that `GET /metrics` serves, or `None` when metrics are
    /// off; for pushing metrics elsewhere or printing them.
    pub fn render_metrics(&self) -> Option<String> {
        self.metrics.as_ref().map(|m| m.metrics().render())
    }
}

// -- runtime monitor --
impl Guard {
    pub(crate) fn attach_runtime_monitor(
        &mut self,
        monitor: Option<crate::runtime::RuntimeMonitor>,
    ) {
        self.runtime = monitor;
    }

    pub(crate) fn attach_operation_stats(&mut self, stats: Option<crate::runtime::OperationStats>) {
        self.operations = stats;
    }

    /// Busy vs idle time per operation (span name), when
    /// [`Builder::with_operation_stats`](crate::Builder::with_operation_stats) turned it on.
    pub fn operation_stats(&self) -> Option<&crate::runtime::OperationStats> {
        self.operations.as_ref()
    }

    /// What the runtime monitor saw in its last interval, or `None` when no runtime is monitored
    /// (`install` was called outside a tokio runtime, or the monitor is off).
    pub fn runtime_sample(&self) -> Option<crate::runtime::RuntimeSample> {
        self.runtime
            .as_ref()
            .map(crate::runtime::RuntimeMonitor::latest)
    }
}

// -- live control --
impl Guard {
    pub(crate) fn attach_live_control(
        &mut self,
        log_level: crate::logging::LogLevel,
        recorder: Option<crate::logging::FlightRecorder>,
        limiter: Option<std::sync::Arc<crate::logging::rate_limit::RateLimiter>>,
        flusher: Option<crate::logging::rate_limit::SummaryFlusher>,
    ) {
        self.live = crate::admin::LiveControl {
            log_level: Some(log_level),
            recorder,
            limiter,
            writer: Some(self.writer.clone()),
            export: self.export_stats(),
        };
        self.flusher = flusher;
    }

    pub(crate) fn live_control(&self) -> crate::admin::LiveControl {
        self.live.clone()
    }

    /// Changes the log filter while the process runs (what `PUT /debug/log-level` does), or
    /// `None` for a guard from [`Builder::into_dispatch`](crate::Builder::into_dispatch)
    /// wrapped in a way that lost it.
    ///
    /// ```no_run
    /// let telemetry = stethoscope::init()?;
    /// if let Some(level) = telemetry.log_level() {
    ///     level.set("info,indexer::db=debug")?;
    /// }
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    pub fn log_level(&self) -> Option<crate::logging::LogLevel> {
        self.live.log_level.clone()
    }

    /// The flight recorder (what `GET /debug/logs/recent` reads), or `None` when it is off.
    pub fn flight_recorder(&self) -> Option<crate::logging::FlightRecorder> {
        self.live.recorder.clone()
    }

    /// Log lines suppressed so far by the per-callsite rate limit (0 when it is off).
    pub fn suppressed_log_lines(&self) -> u64 {
        self.live
            .limiter
            .as_ref()
            .map_or(0, |l| l.suppressed_total.load(Ordering::Relaxed))
    }
}

// -- doctor --
impl Guard {
    /// A [`Doctor`](crate::doctor::Doctor) wired to this telemetry: it reads the operation
    /// stats when [`Builder::with_operation_stats`](crate::Builder::with_operation_stats) is
    /// on, stethoscope's heap accounting ([`Doctor::with_stethoscope_heap`](crate::doctor::Doctor::with_stethoscope_heap)),
    /// and watches the runtime it is observed from.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), stethoscope::Error> {
    /// let telemetry = stethoscope::init()?;
    /// let report = telemetry.doctor().observe(std::time::Duration::from_secs(10)).await?;
    /// println!("{}", report.to_text());
    /// # Ok(()) }
    /// ```
    pub fn doctor(&self) -> crate::doctor::Doctor {
        let doctor = crate::doctor::Doctor::new().with_stethoscope_heap();
        match &self.operations {
            Some(stats) => doctor.with_operation_stats(stats.clone()),
            None => doctor,
        }
    }
}
