//! [`Guard`]: keeps telemetry running; flushes and shuts it down when dropped.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::logging::{NonBlocking, WriterGuard};
use crate::trace::export::Exporter;

/// How long `Drop` waits for the whole shutdown.
const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

/// Returned by [`init`](crate::init) and [`Builder::install`](crate::Builder::install).
///
/// Keep it alive for the life of the process (`let _telemetry = stethoscope::init()?;` in
/// `main`; note `let _ = ...` would drop it at once). Dropping it does what
/// [`Guard::shutdown`] does with a 5 second deadline, reporting a missed deadline on stderr, and
/// never panics; call [`Guard::shutdown`] to choose the deadline and see whether it was met.
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

    /// Waits until every log line queued before this call has been written to the log
    /// destination, at most `timeout`; telemetry keeps running. Lines logged meanwhile (by
    /// this thread or others) are not waited for, so a busy application cannot hold it up.
    ///
    /// `Ok` means each of those lines was handed to the destination and the destination
    /// flushed; a line the destination refused with an error is counted in
    /// [`dropped_log_lines`](Self::dropped_log_lines) instead. See
    /// [`NonBlocking::flush_within`].
    ///
    /// # Errors
    /// [`Error::FlushTimeout`] when `timeout` passed first, with the bytes of those lines still
    /// unwritten (they stay queued); the message says the destination is blocked or too slow.
    pub fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.writer.flush_within(timeout)
    }

    /// Flushes everything and stops the background work; `deadline` bounds the whole call,
    /// not each step.
    ///
    /// The steps, each given what is left of the one deadline:
    /// 1. The rate limiter's last summaries are logged, then the admin server stops (it gets
    ///    at most a quarter of what is left, and never more than 2 s: it holds no data, so a
    ///    request still running, e.g. a CPU profile, is left behind rather than allowed to
    ///    eat the time the logs need), then the metric and runtime samplers stop.
    /// 2. The log lines queued so far are written while, side by side, the span pipeline
    ///    sends its finished spans to the collector and shuts down (a failed export is
    ///    reported in the log). Neither waits for the other, so a hung collector does not
    ///    starve the logs, nor a blocked destination the spans.
    /// 3. The log writer stops: lines logged from here on are dropped and counted, and what
    ///    step 2 logged is written.
    ///
    /// Stopping the rate limiter and the samplers takes no deadline, and needs none: each
    /// thread wakes at once when told to stop and finishes at most the round it is in (the
    /// longest is the runtime watchdog's 100 ms stack capture of a blocked worker).
    ///
    /// When it returns `Ok`, every line logged before the call (and in steps 1 and 2) was
    /// handed to the log destination and flushed, or refused by it with an error and counted
    /// in [`dropped_log_lines`](Self::dropped_log_lines), and every span that finished
    /// before the call was offered to the collector (spans it rejected are counted in
    /// [`dropped_spans`](Self::dropped_spans)).
    ///
    /// # Errors
    /// When the deadline passed first, what was not done is abandoned so that the caller is
    /// not blocked further, and the error names `deadline` and one cause:
    /// - [`Error::FlushTimeout`] when the log destination did not take the lines logged
    ///   before the call in time; `pending_bytes` is all the log output left unwritten. It
    ///   comes first because those lines are the application's own record.
    /// - otherwise [`Error::ExportTimeout`] when the collector did not answer the last span
    ///   export in time, or [`Error::ExportFailed`] when it refused it or could not be reached
    ///   (both count the spans that were lost);
    /// - otherwise [`Error::FlushTimeout`] for lines logged during the shutdown (e.g. the
    ///   export failure reports) left unwritten.
    pub fn shutdown(mut self, deadline: Duration) -> Result<(), Error> {
        self.stop(deadline)
    }

    fn stop(&mut self, deadline: Duration) -> Result<(), Error> {
        self.stop_by(Budget::starting_at(Instant::now(), deadline))
    }

    fn stop_by(&mut self, budget: Budget) -> Result<(), Error> {
        // The rate limiter's last summaries go out while the writer still runs.
        drop(self.flusher.take());
        // Admin server and samplers first, so their shutdown warnings still reach the log.
        if let Some(mut admin) = self.admin.take() {
            admin.stop_within(admin_share(budget.remaining()));
        }
        drop(self.runtime.take());
        drop(self.metrics.take());
        let exporter = self.exporter.take();
        let Some(writer_guard) = self.writer_guard.take() else {
            // Stopped already (`shutdown`, then `Drop`): the writer must not be waited for
            // again, its thread may be stuck on a blocked destination.
            return Ok(());
        };
        let (flushed, spans) = flush_and_export(&self.writer, exporter, &budget);
        let logs = writer_guard.shutdown(budget.remaining());
        first_failure(flushed, spans, logs).map_err(|e| budget.blame(e))
    }
}

/// One deadline for all the steps of [`Guard::shutdown`]: each step is given what is left.
#[derive(Clone, Copy, Debug)]
struct Budget {
    total: Duration,
    /// `None` when `total` is too long to be represented as an `Instant`: no deadline then.
    deadline: Option<Instant>,
}

impl Budget {
    fn starting_at(start: Instant, total: Duration) -> Self {
        Budget {
            total,
            deadline: start.checked_add(total),
        }
    }

    /// What a step starting at `now` may take.
    fn remaining_at(&self, now: Instant) -> Duration {
        match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(now),
            None => self.total,
        }
    }

    fn remaining(&self) -> Duration {
        self.remaining_at(Instant::now())
    }

    /// A step reports the time it was given; the caller chose the whole deadline, so the
    /// error names that.
    fn blame(&self, error: Error) -> Error {
        match error {
            Error::FlushTimeout { pending_bytes, .. } => Error::FlushTimeout {
                deadline: self.total,
                pending_bytes,
            },
            Error::ExportTimeout {
                unexported_spans, ..
            } => Error::ExportTimeout {
                deadline: self.total,
                unexported_spans,
            },
            other => other,
        }
    }
}

/// The admin server's part of what is left: it holds no data, so waiting for it matters
/// least.
fn admin_share(remaining: Duration) -> Duration {
    (remaining / 4).min(crate::admin::ADMIN_STOP_DEADLINE)
}

/// Writes the queued log lines and shuts the span pipeline down side by side, each with
/// what is left of `budget`; returns (flush, export).
fn flush_and_export(
    writer: &NonBlocking,
    exporter: Option<Exporter>,
    budget: &Budget,
) -> (Result<(), Error>, Result<(), Error>) {
    if exporter.is_none() {
        return (writer.flush_within(budget.remaining()), Ok(()));
    }
    // Shared, so that the exporter is still at hand if no thread can be started for it.
    let exporter = Mutex::new(exporter);
    let export = || {
        let exporter = exporter.lock().unwrap_or_else(|p| p.into_inner()).take();
        exporter.map_or(Ok(()), |e| e.shutdown(budget.remaining()))
    };
    std::thread::scope(|scope| {
        // `export` only borrows, so it is `Copy`: the fallback below can still call it.
        let spawned = std::thread::Builder::new()
            .name("stethoscope-shutdown".into())
            .spawn_scoped(scope, export);
        let flushed = writer.flush_within(budget.remaining());
        let spans = match spawned {
            // `Exporter::shutdown` waits with a timeout and does not panic; should it, the
            // spans' fate is unknown and reported as not exported.
            Ok(thread) => thread.join().unwrap_or_else(|_| {
                Err(Error::ExportFailed {
                    unexported_spans: 0,
                    reason: "the span shutdown thread panicked; the last spans' fate is unknown"
                        .to_owned(),
                })
            }),
            // No thread to spare: one after the other, with what is left.
            Err(_) => export(),
        };
        (flushed, spans)
    })
}

/// The one failure [`Guard::shutdown`] reports: the log destination when it held back lines
/// logged before the shutdown (`flushed`), else the span export, else the lines logged
/// during the shutdown (`logs` covers all of them, so it carries the full unwritten count).
fn first_failure(
    flushed: Result<(), Error>,
    spans: Result<(), Error>,
    logs: Result<(), Error>,
) -> Result<(), Error> {
    if flushed.is_err() {
        // `logs` failing too is the usual case; if the destination caught up in time after
        // all, nothing of the log was lost.
        logs.and(spans)
    } else {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    #[test]
    fn each_step_gets_what_is_left_of_one_deadline() {
        let start = Instant::now();
        let budget = Budget::starting_at(start, 5 * SECOND);
        assert_eq!(budget.remaining_at(start), 5 * SECOND);
        // A first step that used its whole allowance leaves nothing: steps never add up to
        // more than the deadline, however many there are.
        let mut now = start;
        let mut given = Vec::new();
        for _ in 0..3 {
            let step = budget.remaining_at(now);
            given.push(step);
            now += step;
        }
        assert_eq!(given, [5 * SECOND, Duration::ZERO, Duration::ZERO]);
        // A step that took 3 s leaves 2 s for the next.
        assert_eq!(budget.remaining_at(start + 3 * SECOND), 2 * SECOND);
        assert_eq!(budget.remaining_at(start + 8 * SECOND), Duration::ZERO);
    }

    #[test]
    fn a_deadline_too_far_for_an_instant_means_no_deadline_not_a_panic() {
        let start = Instant::now();
        let budget = Budget::starting_at(start, Duration::MAX);
        assert_eq!(budget.remaining_at(start + 3600 * SECOND), Duration::MAX);
    }

    #[test]
    fn the_admin_server_gets_a_quarter_of_what_is_left_and_at_most_its_own_cap() {
        assert_eq!(admin_share(4 * SECOND), SECOND);
        assert_eq!(admin_share(Duration::ZERO), Duration::ZERO);
        assert_eq!(admin_share(60 * SECOND), crate::admin::ADMIN_STOP_DEADLINE);
    }

    #[test]
    fn timeouts_name_the_whole_deadline_not_the_part_a_step_was_given() {
        let budget = Budget::starting_at(Instant::now(), 5 * SECOND);
        let err = budget.blame(Error::FlushTimeout {
            deadline: Duration::from_millis(3),
            pending_bytes: 42,
        });
        assert!(
            matches!(err, Error::FlushTimeout { deadline, pending_bytes: 42 } if deadline == 5 * SECOND),
            "{err:?}"
        );
        let err = budget.blame(Error::ExportTimeout {
            unexported_spans: 3,
            deadline: Duration::ZERO,
        });
        assert!(
            matches!(err, Error::ExportTimeout { deadline, unexported_spans: 3 } if deadline == 5 * SECOND),
            "{err:?}"
        );
    }

    /// Blocks in `write` until the test drops its sender, telling the test it got there.
    struct Blocked {
        entered: std::sync::mpsc::Sender<()>,
        release: std::sync::mpsc::Receiver<()>,
    }

    impl std::io::Write for Blocked {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            let _ = self.entered.send(());
            let _ = self.release.recv();
            Err(std::io::Error::other("released at the end of the test"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A collector that never answers.
    #[derive(Debug)]
    struct Hung;

    impl opentelemetry_sdk::trace::SpanExporter for Hung {
        async fn export(
            &self,
            _: Vec<opentelemetry_sdk::trace::SpanData>,
        ) -> opentelemetry_sdk::error::OTelSdkResult {
            std::future::pending().await
        }
    }

    #[test]
    fn no_step_waits_longer_than_what_is_left_of_the_deadline() {
        use opentelemetry::trace::{Span as _, Tracer as _};
        use std::io::Write as _;

        let (entered, in_write) = std::sync::mpsc::channel();
        let (keep_blocked, release) = std::sync::mpsc::channel::<()>();
        let (mut writer, writer_guard) = NonBlocking::builder()
            .spawn(Blocked { entered, release })
            .unwrap();
        let mut settings = crate::trace::export::ExportSettings {
            custom: Some(crate::trace::export::CustomExporter::new(Hung)),
            ..Default::default()
        };
        let exporter = Exporter::start(&mut settings, "test").unwrap();
        exporter.tracer().start("finished before shutdown").end();
        let mut guard = Guard::new(writer.clone(), writer_guard, Some(exporter));
        writer
            .write_all(b"a line the destination never takes\n")
            .unwrap();
        in_write.recv().unwrap();

        // An hour long, and all of it already gone: a step given the hour (rather than what
        // is left of it) would hang this test instead of returning at once.
        let hour = Duration::from_secs(3600);
        let spent = Budget {
            total: hour,
            deadline: Some(Instant::now()),
        };
        let err = guard.stop_by(spent).unwrap_err();
        assert!(
            matches!(err, Error::FlushTimeout { deadline, pending_bytes } if deadline == hour && pending_bytes > 0),
            "{err:?}"
        );
        drop(keep_blocked);
    }

    fn flush_timeout(pending_bytes: usize) -> Result<(), Error> {
        Err(Error::FlushTimeout {
            deadline: SECOND,
            pending_bytes,
        })
    }

    fn export_timeout() -> Result<(), Error> {
        Err(Error::ExportTimeout {
            deadline: SECOND,
            unexported_spans: 1,
        })
    }

    #[test]
    fn a_destination_holding_back_earlier_lines_is_named_before_the_collector() {
        let err = first_failure(flush_timeout(10), export_timeout(), flush_timeout(30));
        assert!(
            matches!(
                err,
                Err(Error::FlushTimeout {
                    pending_bytes: 30,
                    ..
                })
            ),
            "the final count of unwritten bytes: {err:?}"
        );
        // The destination caught up by the deadline after all: nothing of the log was lost.
        let err = first_failure(flush_timeout(10), export_timeout(), Ok(()));
        assert!(matches!(err, Err(Error::ExportTimeout { .. })), "{err:?}");
    }

    #[test]
    fn a_hung_collector_is_named_before_the_lines_logged_during_shutdown() {
        let err = first_failure(Ok(()), export_timeout(), flush_timeout(30));
        assert!(matches!(err, Err(Error::ExportTimeout { .. })), "{err:?}");
        let err = first_failure(Ok(()), Ok(()), flush_timeout(30));
        assert!(
            matches!(
                err,
                Err(Error::FlushTimeout {
                    pending_bytes: 30,
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(first_failure(Ok(()), Ok(()), Ok(())).is_ok());
    }
}
