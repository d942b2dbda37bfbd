//! Capturing CPU profiles: for a fixed duration ([`capture`], [`capture_blocking`]) or around
//! one piece of work ([`CpuProfiler`]). One capture runs at a time per process.

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use super::CpuProfile;
use crate::error::Error;

/// The default sampling frequency: 99 Hz rather than 100 so that sampling does not run in
/// lockstep with periodic work (timers, 10 ms ticks) and over- or under-count it.
pub const DEFAULT_FREQUENCY: u32 = 99;

/// The highest sampling frequency accepted; above it the profiler's own cost distorts the
/// profile.
pub const MAX_FREQUENCY: u32 = 1000;

/// The longest capture [`capture`] accepts; longer captures hold the process-wide profiler
/// away from everyone else.
pub const MAX_DURATION: Duration = Duration::from_secs(300);

/// Something the process does one at a time (the `SIGPROF` profiler is process-wide; the admin
/// server's doctor runs one window at a time): [`OneAtATime::try_hold`] takes it or says that
/// it is taken.
#[derive(Debug)]
pub(crate) struct OneAtATime(AtomicBool);

impl OneAtATime {
    pub(crate) const fn new() -> Self {
        OneAtATime(AtomicBool::new(false))
    }

    /// Takes the slot, or `None` while someone else holds it.
    pub(crate) fn try_hold(&'static self) -> Option<Held> {
        self.0
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Held(self))
    }
}

/// A taken [`OneAtATime`]; releasing it on drop also covers errors, panics and callers that
/// go away mid-capture.
#[derive(Debug)]
pub(crate) struct Held(&'static OneAtATime);

impl Drop for Held {
    fn drop(&mut self) {
        self.0 .0.store(false, Ordering::Release);
    }
}

/// The process-wide profiler.
static PROFILER: OneAtATime = OneAtATime::new();

fn acquire_profiler() -> Result<Held, Error> {
    PROFILER.try_hold().ok_or(Error::ProfilerBusy)
}

/// The caller's end of a [`Cancellation`]: dropping it (with the future that holds it, which
/// axum drops when the HTTP client hangs up) cancels the wait at once.
#[derive(Debug)]
pub(crate) struct CancelOnDrop {
    // Never sent on: its drop disconnects the channel, which wakes the waiting thread.
    _sender: mpsc::Sender<Infallible>,
}

/// The waiting end: a capture thread waits on it instead of sleeping, so the capture ends as
/// soon as nobody wants its result any more rather than when its duration is over.
#[derive(Debug)]
pub(crate) struct Cancellation(mpsc::Receiver<Infallible>);

/// The [`CancelOnDrop`] was dropped: the caller went away.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl Cancellation {
    pub(crate) fn new() -> (CancelOnDrop, Cancellation) {
        let (sender, receiver) = mpsc::channel();
        (CancelOnDrop { _sender: sender }, Cancellation(receiver))
    }

    /// Waits for `duration`, or less if the caller goes away first.
    pub(crate) fn wait(&self, duration: Duration) -> Result<(), Cancelled> {
        match self.0.recv_timeout(duration) {
            Ok(never) => match never {},
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(Cancelled),
        }
    }
}

fn validate_frequency(frequency: u32) -> Result<(), Error> {
    if (1..=MAX_FREQUENCY).contains(&frequency) {
        Ok(())
    } else {
        Err(Error::invalid_config(
            "frequency",
            format_args!("{frequency} Hz"),
            format!("expected 1..={MAX_FREQUENCY} Hz; {DEFAULT_FREQUENCY} Hz is the usual choice"),
        ))
    }
}

fn validate_duration(duration: Duration) -> Result<(), Error> {
    if !duration.is_zero() && duration <= MAX_DURATION {
        Ok(())
    } else {
        Err(Error::invalid_config(
            "duration",
            format_args!("{duration:?}"),
            format!("expected more than 0 and at most {MAX_DURATION:?}"),
        ))
    }
}

/// Profiles the whole process for `duration` at `frequency` samples per second of CPU time.
///
/// The wait happens on a thread of its own, so the caller's runtime workers stay free and any
/// runtime (or none, via [`capture_blocking`]) works. Dropping the future before it completes
/// (a caller that gives up, a `select!` that times out, an HTTP handler whose client hangs up)
/// stops the capture at once, discards its samples and frees the profiler for the next one.
///
/// ```no_run
/// # async fn run() -> Result<(), stethoscope::Error> {
/// use std::time::Duration;
/// use stethoscope::profile::cpu;
///
/// let profile = cpu::capture(Duration::from_secs(30), cpu::DEFAULT_FREQUENCY).await?;
/// println!("{}", profile.folded());
/// # Ok(()) }
/// ```
///
/// # Errors
/// * [`Error::InvalidConfig`] for a frequency outside 1..=[`MAX_FREQUENCY`] Hz or a duration
///   of zero or above [`MAX_DURATION`];
/// * [`Error::ProfilerBusy`] while another capture runs (checked at once, before waiting);
/// * [`Error::ProfilingUnsupported`] on non-Unix systems;
/// * [`Error::Profiler`] if the profiler fails.
pub async fn capture(duration: Duration, frequency: u32) -> Result<CpuProfile, Error> {
    validate_duration(duration)?;
    validate_frequency(frequency)?;
    let busy = acquire_profiler()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (cancel_on_drop, cancellation) = Cancellation::new();
    std::thread::Builder::new()
        .name("stethoscope-profile".into())
        .spawn(move || {
            let profiler = match CpuProfiler::start_holding(busy, frequency) {
                Ok(profiler) => profiler,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            if cancellation.wait(duration).is_err() {
                // The caller went away (a closed HTTP connection): returning drops the
                // profiler, which stops sampling and frees it for the next capture now
                // rather than when the duration is over.
                return;
            }
            // The caller may go away while the report is built; nothing to do then.
            let _ = tx.send(profiler.stop());
        })
        .map_err(|e| Error::io("spawning the CPU profiling thread", e))?;
    let result = rx.await.unwrap_or_else(|_| {
        Err(Error::Profiler {
            message: "the profiling thread ended without a result".to_owned(),
        })
    });
    // Held until here: dropping this future before the result arrives cancels the capture.
    drop(cancel_on_drop);
    result
}

/// [`capture`] for synchronous code: blocks the calling thread for `duration`.
///
/// # Errors
/// As [`capture`].
pub fn capture_blocking(duration: Duration, frequency: u32) -> Result<CpuProfile, Error> {
    validate_duration(duration)?;
    validate_frequency(frequency)?;
    let profiler = CpuProfiler::start_holding(acquire_profiler()?, frequency)?;
    std::thread::sleep(duration);
    profiler.stop()
}

/// A running CPU capture around one piece of work (the Node.js inspector's
/// `startProfiling`/`stopProfiling`); [`CpuProfiler::stop`] ends it. Dropping it without
/// calling `stop` ends it too, discarding the samples.
///
/// ```no_run
/// use stethoscope::profile::cpu::{CpuProfiler, DEFAULT_FREQUENCY};
///
/// let profiler = CpuProfiler::start(DEFAULT_FREQUENCY)?;
/// let checksum: u64 = (0..100_000_000u64).map(|i| i ^ (i >> 3)).sum(); // the workload
/// let profile = profiler.stop()?;
/// println!("{checksum}: {} samples", profile.sample_count());
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "the profile is only produced by calling .stop()"]
pub struct CpuProfiler {
    #[cfg(unix)]
    sampler: super::sampler::Sampler,
    // Declared last so it is released after the sampler has stopped.
    _busy: Held,
}

impl CpuProfiler {
    /// Starts sampling the whole process at `frequency` samples per second of CPU time.
    ///
    /// # Errors
    /// As [`capture`], apart from the duration.
    pub fn start(frequency: u32) -> Result<CpuProfiler, Error> {
        validate_frequency(frequency)?;
        CpuProfiler::start_holding(acquire_profiler()?, frequency)
    }

    #[cfg(unix)]
    fn start_holding(busy: Held, frequency: u32) -> Result<CpuProfiler, Error> {
        Ok(CpuProfiler {
            sampler: super::sampler::Sampler::start(frequency)?,
            _busy: busy,
        })
    }

    #[cfg(not(unix))]
    fn start_holding(busy: Held, frequency: u32) -> Result<CpuProfiler, Error> {
        let _ = (busy, frequency);
        Err(Error::ProfilingUnsupported)
    }

    /// Stops sampling and returns the profile.
    ///
    /// # Errors
    /// [`Error::Profiler`] if the profiler's report cannot be built.
    pub fn stop(self) -> Result<CpuProfile, Error> {
        #[cfg(unix)]
        {
            // Self-observability: samples taken, for `stethoscope_profiler_samples_total`.
            self.sampler.finish().inspect(|profile| {
                crate::metric::own_cost::PROFILER_SAMPLES
                    .fetch_add(profile.sample_count(), std::sync::atomic::Ordering::Relaxed);
            })
        }
        #[cfg(not(unix))]
        {
            Err(Error::ProfilingUnsupported)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_and_duration_limits_are_explained() {
        let err = validate_frequency(0).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid value for frequency: 0 Hz: expected 1..=1000 Hz; 99 Hz is the usual choice"
        );
        assert!(validate_frequency(1001).is_err());
        assert!(validate_frequency(1).is_ok() && validate_frequency(1000).is_ok());
        assert!(validate_duration(Duration::ZERO).is_err());
        assert!(validate_duration(MAX_DURATION + Duration::from_millis(1)).is_err());
        assert!(validate_duration(MAX_DURATION).is_ok());
    }
}
