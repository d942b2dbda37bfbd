//! Capturing CPU profiles: for a fixed duration ([`capture`], [`capture_blocking`]) or around
//! one piece of work ([`CpuProfiler`]). One capture runs at a time per process.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// Set while a capture runs: the `SIGPROF` profiler is process-wide.
static BUSY: AtomicBool = AtomicBool::new(false);

/// Holds [`BUSY`]; releasing it on drop also covers errors and panics mid-capture.
#[derive(Debug)]
struct Busy(());

impl Busy {
    fn acquire() -> Result<Busy, Error> {
        BUSY.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| Busy(()))
            .map_err(|_| Error::ProfilerBusy)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.store(false, Ordering::Release);
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
/// runtime (or none, via [`capture_blocking`]) works.
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
    let busy = Busy::acquire()?;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("stethoscope-profile".into())
        .spawn(move || {
            let result = run(busy, duration, frequency);
            // The caller may have gone away (a closed HTTP connection); nothing to do then.
            let _ = tx.send(result);
        })
        .map_err(|e| Error::io("spawning the CPU profiling thread", e))?;
    rx.await.unwrap_or_else(|_| {
        Err(Error::Profiler {
            message: "the profiling thread ended without a result".to_owned(),
        })
    })
}

/// [`capture`] for synchronous code: blocks the calling thread for `duration`.
///
/// # Errors
/// As [`capture`].
pub fn capture_blocking(duration: Duration, frequency: u32) -> Result<CpuProfile, Error> {
    validate_duration(duration)?;
    validate_frequency(frequency)?;
    run(Busy::acquire()?, duration, frequency)
}

fn run(busy: Busy, duration: Duration, frequency: u32) -> Result<CpuProfile, Error> {
    let profiler = CpuProfiler::start_holding(busy, frequency)?;
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
    _busy: Busy,
}

impl CpuProfiler {
    /// Starts sampling the whole process at `frequency` samples per second of CPU time.
    ///
    /// # Errors
    /// As [`capture`], apart from the duration.
    pub fn start(frequency: u32) -> Result<CpuProfiler, Error> {
        validate_frequency(frequency)?;
        CpuProfiler::start_holding(Busy::acquire()?, frequency)
    }

    #[cfg(unix)]
    fn start_holding(busy: Busy, frequency: u32) -> Result<CpuProfiler, Error> {
        Ok(CpuProfiler {
            sampler: super::sampler::Sampler::start(frequency)?,
            _busy: busy,
        })
    }

    #[cfg(not(unix))]
    fn start_holding(busy: Busy, frequency: u32) -> Result<CpuProfiler, Error> {
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
