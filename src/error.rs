//! The one error type every fallible stethoscope call returns.

use std::fmt;
use std::io;
use std::time::Duration;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while configuring, installing or shutting down stethoscope.
///
/// Each message says what was wrong *and* what to do about it, so it can be shown to an operator
/// as is:
///
/// ```
/// let err = stethoscope::Stethoscope::builder()
///     .from_env_with(|var| (var == "LOG_FORMAT").then(|| "yaml".to_string()))
///     .unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     r#"invalid LOG_FORMAT="yaml": expected "json" or "pretty""#
/// );
/// ```
///
/// Telemetry failures that happen *after* installation (a blocked stdout, a collector that is
/// down) are never reported through this type: they are counted and never reach the host
/// application's code paths.
#[non_exhaustive]
pub enum Error {
    /// An environment variable held a value stethoscope cannot use.
    InvalidEnv {
        /// The variable's name, e.g. `LOG_FORMAT`.
        var: &'static str,
        /// The value that was found.
        value: String,
        /// What is accepted instead, e.g. `expected "json" or "pretty"`.
        expected: String,
    },
    /// A value passed to a builder method cannot be used.
    InvalidConfig {
        /// The setting, named after its builder method, e.g. `with_log_filter`.
        setting: &'static str,
        /// The rejected value, rendered for humans.
        value: String,
        /// What is accepted instead.
        expected: String,
    },
    /// `init()` (or `install()`) was called a second time in this process.
    AlreadyInitialized,
    /// Another library already installed a global `tracing` subscriber.
    SubscriberAlreadySet,
    /// An I/O operation needed for setup failed (opening the log file, spawning the writer thread).
    Io {
        /// What stethoscope was doing, e.g. `opening log file "/var/log/app.json"`.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// Shutdown could not hand every finished span to the collector before its deadline: the
    /// collector did not answer the last export in time.
    ExportTimeout {
        /// The deadline that passed (for [`Guard::shutdown`](crate::Guard::shutdown), the
        /// whole shutdown's).
        deadline: Duration,
        /// Spans still queued or in the unanswered request when it passed; they are abandoned.
        unexported_spans: u64,
    },
    /// The last export, at shutdown, failed: the collector refused it (e.g. HTTP 401 or 400)
    /// or could not be reached.
    ExportFailed {
        /// Spans that were not exported; they are lost.
        unexported_spans: u64,
        /// What the exporter reported, e.g. `HTTP export failed with status code: 401`.
        reason: String,
    },
    /// A flush or shutdown could not write every log line it waited for before its deadline.
    FlushTimeout {
        /// The deadline that passed (for [`Guard::shutdown`](crate::Guard::shutdown), the
        /// whole shutdown's).
        deadline: Duration,
        /// Bytes of the log output it waited for that were still unwritten when it passed.
        pending_bytes: usize,
    },
    // -- metrics and admin server --
    /// Another library already installed a global `metrics` recorder.
    RecorderAlreadySet,
    /// The admin server could not listen on its address (port in use, no permission).
    AdminBind {
        /// The address that could not be bound.
        addr: std::net::SocketAddr,
        /// The underlying error.
        source: io::Error,
    },
    // -- profiling --
    /// A CPU profile was requested while another one was being captured; the profiler is
    /// process-wide, so captures run one at a time.
    ProfilerBusy,
    /// `/debug/doctor` was requested while the admin server's doctor was observing the process
    /// for another request; it runs one window at a time.
    DoctorBusy,
    /// CPU profiling is not available on this operating system (it needs Unix's `SIGPROF`).
    ProfilingUnsupported,
    /// The CPU profiler failed to start or to build its report.
    Profiler {
        /// What the profiler reported.
        message: String,
    },
    // -- memory --
    /// A heap profile was requested but jemalloc's profiler is not compiled in or not active;
    /// the message says how to turn it on.
    HeapProfilingUnavailable {
        /// Which of the conditions is missing.
        reason: &'static str,
    },
    /// jemalloc's heap profile could not be dumped or read.
    HeapProfiling {
        /// What went wrong.
        message: String,
    },
}

impl Error {
    #[cold]
    pub(crate) fn invalid_env(var: &'static str, value: &str, expected: impl Into<String>) -> Self {
        Error::InvalidEnv {
            var,
            value: value.to_owned(),
            expected: expected.into(),
        }
    }

    #[cold]
    pub(crate) fn invalid_config(
        setting: &'static str,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Self {
        Error::InvalidConfig {
            setting,
            value: value.to_string(),
            expected: expected.into(),
        }
    }

    #[cold]
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Returns `true` if this error was caused by an invalid environment variable.
    ///
    /// ```
    /// let err = stethoscope::Stethoscope::builder()
    ///     .from_env_with(|var| (var == "LOG_LEVEL").then(|| "loud".to_string()))
    ///     .unwrap_err();
    /// assert!(err.is_invalid_env());
    /// ```
    pub fn is_invalid_env(&self) -> bool {
        matches!(self, Error::InvalidEnv { .. })
    }

    /// Returns `true` if a CPU profile could not be captured because another capture was
    /// running; try again when it has finished.
    pub fn is_profiler_busy(&self) -> bool {
        matches!(self, Error::ProfilerBusy)
    }

    /// Returns `true` if a heap profile was requested where jemalloc's profiler is not
    /// compiled in or not active (the admin server answers `501`).
    ///
    /// ```
    /// // Without the `jemalloc` feature, or jemalloc started without `prof:true`:
    /// let err = stethoscope::heap::HeapProfile::capture().unwrap_err();
    /// assert!(err.is_heap_profiling_unavailable());
    /// ```
    pub fn is_heap_profiling_unavailable(&self) -> bool {
        matches!(self, Error::HeapProfilingUnavailable { .. })
    }

    /// Returns `true` if stethoscope (or another global subscriber) was already installed.
    pub fn is_already_initialized(&self) -> bool {
        matches!(
            self,
            Error::AlreadyInitialized | Error::SubscriberAlreadySet
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidEnv {
                var,
                value,
                expected,
            } => write!(f, "invalid {var}={value:?}: {expected}"),
            Error::InvalidConfig {
                setting,
                value,
                expected,
            } => write!(f, "invalid value for {setting}: {value}: {expected}"),
            Error::AlreadyInitialized => f.write_str(
                "stethoscope is already initialized in this process: call `stethoscope::init()` \
                 once, in `main`, and keep the returned Guard alive until exit",
            ),
            Error::SubscriberAlreadySet => f.write_str(
                "a global tracing subscriber is already installed by something else: remove the \
                 other `set_global_default`/`fmt().init()` call, or add `stethoscope::logging::JsonLayer` \
                 to your own registry instead of calling `stethoscope::init()`",
            ),
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::ExportTimeout {
                deadline,
                unexported_spans: 0,
            } => write!(
                f,
                "the span exporter did not finish shutting down within {deadline:?}, although \
                 every span was handed over: the OTLP collector is slow to close; give shutdown a \
                 longer deadline"
            ),
            Error::ExportTimeout {
                deadline,
                unexported_spans,
            } => write!(
                f,
                "the OTLP collector did not answer within the shutdown deadline of {deadline:?}: \
                 {unexported_spans} span(s) were not exported and are abandoned so that shutdown \
                 does not hang; check that the collector is up and reachable, or give shutdown a \
                 longer deadline"
            ),
            Error::ExportFailed {
                unexported_spans,
                reason,
            } => write!(
                f,
                "exporting the last spans at shutdown failed ({reason}): {unexported_spans} \
                 span(s) were not exported; check the collector's address and logs, and the \
                 credentials in OTEL_EXPORTER_OTLP_HEADERS"
            ),
            Error::FlushTimeout {
                deadline,
                pending_bytes,
            } => write!(
                f,
                "log output did not drain within {deadline:?} ({pending_bytes} bytes still queued): \
                 the log destination is blocked or too slow; give the flush or shutdown a longer \
                 deadline or check what consumes the process's output"
            ),
            Error::RecorderAlreadySet => f.write_str(
                "a global `metrics` recorder is already installed by something else: remove the \
                 other `metrics::set_global_recorder` call, or turn stethoscope's metrics off with \
                 `Builder::with_metrics(false)`",
            ),
            Error::AdminBind { addr, source } => write!(
                f,
                "cannot serve the admin endpoints on {addr}: {source}: choose a free address with \
                 STETHOSCOPE_ADMIN_ADDR=host:port (port 0 picks one), or turn the admin server off \
                 with STETHOSCOPE_ADMIN_ADDR=off or `Builder::without_admin()`"
            ),
            Error::ProfilerBusy => f.write_str(
                "a CPU profile is already being captured in this process: the profiler is \
                 process-wide, so wait for the running capture to finish and try again",
            ),
            Error::DoctorBusy => f.write_str(
                "the doctor is already running in this process: the admin server observes one \
                 window at a time, so wait for the running one to finish and try again",
            ),
            Error::ProfilingUnsupported => f.write_str(
                "CPU profiling is not supported on this operating system: it needs Unix's \
                 SIGPROF timer; profile on Linux or macOS, or use the OS's own profiler",
            ),
            Error::Profiler { message } => write!(
                f,
                "the CPU profiler failed: {message}: make sure no other profiler (another \
                 SIGPROF user) runs in this process"
            ),
            Error::HeapProfilingUnavailable { reason } => write!(
                f,
                "heap profiles are unavailable: {reason}: build stethoscope with `--features \
                 jemalloc`, declare `#[global_allocator] static ALLOC: stethoscope::heap::Jemalloc \
                 = stethoscope::heap::Jemalloc;` in main.rs, and start the process with \
                 `_RJEM_MALLOC_CONF=prof:true,prof_active:true,lg_prof_sample:19` (or export the \
                 same string as the `_rjem_malloc_conf` symbol, see `stethoscope::heap`)"
            ),
            Error::HeapProfiling { message } => write!(
                f,
                "the heap profile could not be dumped: {message}: check that the temporary \
                 directory is writable and that jemalloc was started with `prof:true`"
            ),
        }
    }
}

/// `Debug` prints the same message as `Display` (which already includes any underlying
/// error), because `Debug` is what a user sees when `main` returns
/// `Result<(), stethoscope::Error>`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::AdminBind { source, .. } => Some(source),
            _ => None,
        }
    }
}
