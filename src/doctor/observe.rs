//! [`Doctor`]: what to watch and for how long; [`Doctor::observe`] runs one window.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::runtime::Handle;

use super::memory::{MemoryInputs, TypeCount};
use super::report::Report;
use super::sampling::{self, Plan};
use crate::error::Error;
use crate::profile::cpu::{self, Cancellation, CpuProfiler};
use crate::profile::CpuProfile;
use crate::runtime::OperationStats;

/// How often the doctor samples, by default: ten times a second resolves a 200 ms block and
/// keeps a 30 s window at 300 points per chart.
pub const DEFAULT_SAMPLE_INTERVAL: Duration = Duration::from_millis(100);

/// The shortest sampling interval accepted: below it, reading `/proc` becomes the doctor's own
/// CPU hot spot.
pub const MIN_SAMPLE_INTERVAL: Duration = Duration::from_millis(10);

/// The longest observation window accepted, the same as the longest CPU capture.
pub const MAX_WINDOW: Duration = cpu::MAX_DURATION;

/// Watches the process for a window and says what is wrong and what to do (clinic doctor for
/// tokio): runtime busy ratio, scheduling delay, process CPU, memory and its trend, alive tasks,
/// open file descriptors, slow operations, and a CPU profile over the same window.
///
/// ```no_run
/// # async fn run() -> Result<(), stethoscope::Error> {
/// use std::time::Duration;
/// use stethoscope::doctor::Doctor;
///
/// let report = Doctor::new().observe(Duration::from_secs(10)).await?;
/// println!("{}", report.to_text());
/// std::fs::write("doctor.html", report.to_html()).ok();
/// # Ok(()) }
/// ```
///
/// With [`Guard::doctor`](crate::Guard::doctor) the operation stats of the installed
/// telemetry are wired in too.
#[derive(Clone)]
#[must_use]
pub struct Doctor {
    interval: Duration,
    runtime: Option<Handle>,
    /// Whether `observe` watches the runtime it is called from when no runtime was given.
    watch_current: bool,
    profile_frequency: Option<u32>,
    operations: Option<OperationStats>,
    memory: MemoryInputs,
}

impl Default for Doctor {
    fn default() -> Self {
        Doctor::new()
    }
}

impl fmt::Debug for Doctor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doctor")
            .field("interval", &self.interval)
            .field("runtime", &self.runtime.is_some())
            .field("profile_frequency", &self.profile_frequency)
            .field("operations", &self.operations.is_some())
            .field("memory", &self.memory)
            .finish()
    }
}

impl Doctor {
    /// A doctor sampling every [`DEFAULT_SAMPLE_INTERVAL`] with a CPU profile at
    /// [`cpu::DEFAULT_FREQUENCY`]; it watches the runtime it is observed from unless
    /// [`with_runtime`](Self::with_runtime) names another.
    pub fn new() -> Self {
        Doctor {
            interval: DEFAULT_SAMPLE_INTERVAL,
            runtime: None,
            watch_current: true,
            profile_frequency: Some(cpu::DEFAULT_FREQUENCY),
            operations: None,
            memory: MemoryInputs::default(),
        }
    }

    /// Samples every `interval` (default [`DEFAULT_SAMPLE_INTERVAL`]).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] below [`MIN_SAMPLE_INTERVAL`] or above 10 s.
    pub fn with_interval(mut self, interval: Duration) -> Result<Self, Error> {
        if !(MIN_SAMPLE_INTERVAL..=Duration::from_secs(10)).contains(&interval) {
            return Err(Error::invalid_config(
                "Doctor::with_interval",
                format_args!("{interval:?}"),
                format!("expected {MIN_SAMPLE_INTERVAL:?} to 10s; 100ms is the usual choice"),
            ));
        }
        self.interval = interval;
        Ok(self)
    }

    /// Watches the runtime behind `handle` (by default the one [`observe`](Self::observe) is
    /// called from; [`observe_blocking`](Self::observe_blocking) watches none without this).
    pub fn with_runtime(mut self, handle: Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// Watches no runtime unless [`with_runtime`](Self::with_runtime) names one: for callers
    /// whose own runtime is not the application's (the admin server's).
    pub(crate) fn without_current_runtime(mut self) -> Self {
        self.watch_current = false;
        self
    }

    /// Captures a CPU profile over the window (default on) so findings can name functions.
    /// The profiler is process-wide: with it on, observing fails with
    /// [`Error::ProfilerBusy`] while another capture runs.
    pub fn with_cpu_profile(mut self, enabled: bool) -> Self {
        self.profile_frequency = enabled.then_some(cpu::DEFAULT_FREQUENCY);
        self
    }

    /// Reads per-operation busy and idle time (and slow-operation counts) from `stats`, which
    /// a [`SlowOpLayer`](crate::runtime::SlowOpLayer) fills; needed for the `io_wait` rule and
    /// the wait/execute table.
    pub fn with_operation_stats(mut self, stats: OperationStats) -> Self {
        self.operations = Some(stats);
        self
    }

    /// Reads live heap bytes from `read` at every sample; the memory rule then follows them
    /// instead of the resident set size. `None` from `read` means "unknown right now".
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::sync::Arc;
    ///
    /// let live = Arc::new(AtomicU64::new(0)); // e.g. kept by your allocator wrapper
    /// let reader = Arc::clone(&live);
    /// let doctor = stethoscope::doctor::Doctor::new()
    ///     .with_heap_live_bytes(move || Some(reader.load(Ordering::Relaxed)));
    /// # drop(doctor);
    /// ```
    pub fn with_heap_live_bytes(
        mut self,
        read: impl Fn() -> Option<u64> + Send + Sync + 'static,
    ) -> Self {
        self.memory.live_bytes = Some(Arc::new(read));
        self
    }

    /// Reads the total bytes allocated since the process started from `read` at every sample;
    /// the report then has the allocation rate.
    pub fn with_allocated_bytes(
        mut self,
        read: impl Fn() -> Option<u64> + Send + Sync + 'static,
    ) -> Self {
        self.memory.allocated_bytes = Some(Arc::new(read));
        self
    }

    /// Reads stethoscope's own memory accounting: live and allocated bytes from
    /// [`alloc::stats`](crate::alloc::stats) (when [`Counting`](crate::alloc::Counting) is the
    /// global allocator; else the memory rule follows RSS) and live objects per type from
    /// [`heap::snapshot`](crate::heap::snapshot) (types wrapped in
    /// [`Tracked`](crate::heap::Tracked) or counted with [`tracked!`](crate::tracked)).
    /// [`Guard::doctor`](crate::Guard::doctor) and `/debug/doctor` turn this on.
    pub fn with_stethoscope_heap(self) -> Self {
        self.with_heap_live_bytes(|| crate::alloc::stats().map(|s| s.live_bytes))
            .with_allocated_bytes(|| crate::alloc::stats().map(|s| s.allocated_bytes))
            .with_live_types(|| crate::heap::snapshot().types)
    }

    /// Reads live instances per type from `read` about once a second; the memory rule then
    /// names the fastest-growing type, and the report shows the comparison table.
    ///
    /// ```
    /// use stethoscope::doctor::{Doctor, TypeCount};
    ///
    /// let doctor = Doctor::new().with_live_types(|| vec![TypeCount::new("app::Session", 42, 42 * 512)]);
    /// # drop(doctor);
    /// ```
    pub fn with_live_types(
        mut self,
        read: impl Fn() -> Vec<TypeCount> + Send + Sync + 'static,
    ) -> Self {
        self.memory.live_types = Some(Arc::new(read));
        self
    }

    /// Observes the process for `window`, then diagnoses it. Sampling and profiling run on a
    /// thread of their own, so the calling runtime's workers stay free (and a blocked
    /// runtime is still observed). Dropping the future before it completes (a caller that
    /// gives up, an HTTP handler whose client hangs up) stops the observation at once and
    /// frees the CPU profiler for the next capture.
    ///
    /// # Errors
    /// * [`Error::InvalidConfig`] for a window of zero or above [`MAX_WINDOW`];
    /// * [`Error::ProfilerBusy`] when the CPU profile is on and another capture runs (checked
    ///   at once, before waiting);
    /// * [`Error::Io`] if the sampling thread cannot be spawned.
    pub async fn observe(&self, window: Duration) -> Result<Report, Error> {
        let mut doctor = self.clone();
        if doctor.runtime.is_none() && doctor.watch_current {
            doctor.runtime = Handle::try_current().ok();
        }
        let start = doctor.start(window)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (cancel_on_drop, cancellation) = Cancellation::new();
        std::thread::Builder::new()
            .name("stethoscope-doctor".into())
            .spawn(move || {
                // Called off when the caller goes away (a closed HTTP connection): returning
                // drops `start`, which stops the CPU profile and frees the profiler now rather
                // than when the window is over.
                if let Ok(report) = doctor.finish(start, window, |d| cancellation.wait(d)) {
                    // The caller may go away while the report is built; nothing to do then.
                    let _ = tx.send(report);
                }
            })
            .map_err(|e| Error::io("spawning the doctor's sampling thread", e))?;
        let report = rx.await.map_err(|_| {
            Error::io(
                "waiting for the doctor's sampling thread",
                std::io::Error::other("the thread ended without a report"),
            )
        });
        // Held until here: dropping this future before the report arrives cancels the window.
        drop(cancel_on_drop);
        report
    }

    /// [`observe`](Self::observe) for synchronous code: blocks the calling thread for
    /// `window`. Do not call it on a runtime worker (use `observe` there): it would block the
    /// worker it is meant to watch.
    ///
    /// # Errors
    /// As [`observe`](Self::observe).
    pub fn observe_blocking(&self, window: Duration) -> Result<Report, Error> {
        let start = self.start(window)?;
        // Nothing can call this window off: its caller is the thread waiting here.
        let Ok(report) = self.finish(start, window, |d| {
            std::thread::sleep(d);
            Ok::<(), Infallible>(())
        });
        Ok(report)
    }

    /// Validates and starts the profiler: everything that can fail before the wait.
    fn start(&self, window: Duration) -> Result<Started, Error> {
        if window.is_zero() || window > MAX_WINDOW {
            return Err(Error::invalid_config(
                "window",
                format_args!("{window:?}"),
                format!("expected more than 0 and at most {MAX_WINDOW:?}"),
            ));
        }
        let profiler = match self.profile_frequency {
            None => Ok(None),
            Some(frequency) => match CpuProfiler::start(frequency) {
                Ok(p) => Ok(Some(p)),
                Err(Error::ProfilerBusy) => return Err(Error::ProfilerBusy),
                // Unsupported here, or the profiler failed: observe without a profile.
                Err(e) => Err(e.to_string()),
            },
        };
        Ok(Started {
            at: SystemTime::now(),
            profiler,
        })
    }

    /// Samples for `window`, waiting between samples with `wait`; a wait that fails calls the
    /// window off (and drops the profiler in `started`).
    fn finish<E>(
        &self,
        started: Started,
        window: Duration,
        wait: impl Fn(Duration) -> Result<(), E>,
    ) -> Result<Report, E> {
        let plan = Plan {
            interval: self.interval,
            runtime: self.runtime.clone(),
            operations: self.operations.clone(),
            memory: self.memory.clone(),
        };
        let recording = sampling::record(&plan, window, wait)?;
        let profile: Result<Option<CpuProfile>, String> = match started.profiler {
            Ok(Some(profiler)) => profiler.stop().map(Some).map_err(|e| e.to_string()),
            Ok(None) => Ok(None),
            Err(note) => Err(note),
        };
        Ok(Report::new(
            started.at,
            window,
            self.interval,
            recording,
            profile,
        ))
    }
}

/// A window that has begun.
struct Started {
    at: SystemTime,
    profiler: Result<Option<CpuProfiler>, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_and_windows_out_of_range_are_explained() {
        let err = Doctor::new()
            .with_interval(Duration::from_millis(1))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected 10ms to 10s"), "{err}");
        assert!(Doctor::new()
            .with_interval(Duration::from_secs(11))
            .is_err());
        let doctor = Doctor::new().with_cpu_profile(false);
        let err = doctor.observe_blocking(Duration::ZERO).unwrap_err();
        assert!(err.to_string().contains("at most 300s"), "{err}");
        assert!(doctor
            .observe_blocking(MAX_WINDOW + Duration::from_secs(1))
            .is_err());
    }

    #[test]
    fn a_window_shorter_than_the_interval_still_ends_on_time() {
        let doctor = Doctor::new()
            .with_cpu_profile(false)
            .with_interval(Duration::from_secs(5))
            .unwrap();
        let started = std::time::Instant::now();
        let report = doctor.observe_blocking(Duration::from_millis(50)).unwrap();
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(report.samples().len(), 1);
        // No runtime: the runtime signals are absent, not zero.
        assert_eq!(report.samples()[0].runtime_busy_ratio, None);
        assert!(report.scheduling_delay().is_none());
    }
}
