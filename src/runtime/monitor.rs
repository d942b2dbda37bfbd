//! [`RuntimeMonitor`]: the sampler thread that publishes a runtime's utilization, warns when it
//! is saturated and drives the scheduling-delay probe.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
use tokio::runtime::Handle;

use super::names;
use super::probe::ProbeStats;
use super::sample::{ratio, RuntimeSample};
use super::watchdog::Watchdog;
use super::worker_clock::{busy_between, WorkerClock};
use super::{
    DEFAULT_BLOCKED_THRESHOLD, DEFAULT_PROBE_INTERVAL, DEFAULT_RUNTIME_SAMPLE_INTERVAL,
    DEFAULT_SATURATION_THRESHOLD,
};
use crate::error::Error;

/// How a [`RuntimeMonitor`] samples; start from `MonitorOptions::default()` and change fields.
///
/// ```
/// let mut options = stethoscope::runtime::MonitorOptions::default();
/// options.interval = std::time::Duration::from_millis(500);
/// options.probe_interval = None; // no scheduling-delay probe
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct MonitorOptions {
    /// How often to publish (default [`DEFAULT_RUNTIME_SAMPLE_INTERVAL`], 1 s).
    pub interval: Duration,
    /// Busy ratio above which one `warn` per interval says the runtime is saturated (default
    /// [`DEFAULT_SATURATION_THRESHOLD`], 0.90); values above 1 turn the warning off.
    pub saturation_threshold: f64,
    /// How often the scheduling-delay probe runs (default [`DEFAULT_PROBE_INTERVAL`], 200 ms);
    /// `None` turns it off.
    pub probe_interval: Option<Duration>,
    /// A worker inside one poll this long is reported by the blocked-runtime watchdog, with
    /// its span and stack (default [`DEFAULT_BLOCKED_THRESHOLD`], 100 ms); `None` turns the
    /// watchdog off.
    pub blocked_threshold: Option<Duration>,
}

impl Default for MonitorOptions {
    fn default() -> Self {
        MonitorOptions {
            interval: DEFAULT_RUNTIME_SAMPLE_INTERVAL,
            saturation_threshold: DEFAULT_SATURATION_THRESHOLD,
            probe_interval: Some(DEFAULT_PROBE_INTERVAL),
            blocked_threshold: Some(DEFAULT_BLOCKED_THRESHOLD),
        }
    }
}

/// Monitors the runtime behind `handle` with the default [`MonitorOptions`] until the returned
/// monitor is dropped.
///
/// Metrics go to the global `metrics` recorder (call it after
/// [`Builder::install`](crate::Builder::install)); the saturation warning goes to the `tracing`
/// dispatcher that is current where `monitor` is called.
///
/// ```
/// let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// let monitor = stethoscope::runtime::monitor(runtime.handle())?;
/// assert_eq!(monitor.latest().busy_ratio, 0.0); // nothing sampled yet
/// # Ok::<(), stethoscope::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] if the sampler thread cannot be spawned.
pub fn monitor(handle: &Handle) -> Result<RuntimeMonitor, Error> {
    monitor_with(handle, MonitorOptions::default())
}

/// Like [`monitor`], with `options`.
///
/// # Errors
/// [`Error::InvalidConfig`] for a zero interval or probe interval, or a threshold that is not a
/// number; [`Error::Io`] if the sampler thread cannot be spawned.
pub fn monitor_with(handle: &Handle, options: MonitorOptions) -> Result<RuntimeMonitor, Error> {
    monitor_watched(handle, options, None)
}

/// [`monitor_with`], also feeding each sample's busy ratio to `watch` (the `/readyz` rule).
pub(crate) fn monitor_watched(
    handle: &Handle,
    options: MonitorOptions,
    watch: Option<Arc<super::saturation::SaturationWatch>>,
) -> Result<RuntimeMonitor, Error> {
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    let monitor = monitor_held(handle, options, watch, dispatch)?;
    monitor.start_sampling();
    Ok(monitor)
}

/// Spawns the sampler thread, logging to `dispatch`, but holds it until
/// [`RuntimeMonitor::start_sampling`]: `Builder::install` starts it once the global metrics
/// recorder is set (the sampler registers its metrics when it starts), and a monitor dropped
/// before that never sampled.
pub(crate) fn monitor_held(
    handle: &Handle,
    options: MonitorOptions,
    watch: Option<Arc<super::saturation::SaturationWatch>>,
    dispatch: tracing::Dispatch,
) -> Result<RuntimeMonitor, Error> {
    validate(&options)?;
    let latest = Arc::new(Mutex::new(RuntimeSample::default()));
    let (stop, stopped) = mpsc::channel::<()>();
    let mut sampler = Sampler::new(handle.clone(), options, Arc::clone(&latest));
    sampler.watch = watch;
    let thread = std::thread::Builder::new()
        .name("stethoscope-runtime".into())
        .spawn(move || {
            // The first message starts sampling; a closed channel means it never will.
            if stopped.recv().is_ok() {
                let _logs = tracing::dispatcher::set_default(&dispatch);
                sampler.run(&stopped);
            }
        })
        .map_err(|e| Error::io("spawning the runtime sampler thread", e))?;
    Ok(RuntimeMonitor {
        latest,
        stop: Some(stop),
        thread: Some(thread),
    })
}

pub(crate) fn validate(options: &MonitorOptions) -> Result<(), Error> {
    if options.interval.is_zero() {
        return Err(Error::invalid_config(
            "runtime sample interval",
            "0s",
            "expected a positive interval such as Duration::from_secs(1)",
        ));
    }
    if options.probe_interval.is_some_and(|p| p.is_zero()) {
        return Err(Error::invalid_config(
            "scheduling probe interval",
            "0s",
            "expected a positive interval such as Duration::from_millis(200), or None to turn the probe off",
        ));
    }
    if options.blocked_threshold.is_some_and(|t| t.is_zero()) {
        return Err(Error::invalid_config(
            "blocked-worker threshold",
            "0s",
            "expected a positive duration such as Duration::from_millis(100), or None to turn the watchdog off",
        ));
    }
    if options.saturation_threshold.is_nan() {
        return Err(Error::invalid_config(
            "saturation threshold",
            "NaN",
            "expected a busy ratio such as 0.9",
        ));
    }
    Ok(())
}

/// A running sampler; dropping it stops the sampler thread.
#[derive(Debug)]
pub struct RuntimeMonitor {
    latest: Arc<Mutex<RuntimeSample>>,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RuntimeMonitor {
    /// What the last completed interval showed (all zero before the first one ends).
    pub fn latest(&self) -> RuntimeSample {
        self.latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Lets a thread spawned by [`monitor_held`] start sampling.
    pub(crate) fn start_sampling(&self) {
        if let Some(go) = &self.stop {
            let _ = go.send(());
        }
    }

    /// Stops the sampler thread; it wakes at once on the closed channel, so this is prompt.
    pub fn stop(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RuntimeMonitor {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The metric handles, registered once so a sample is a few atomic stores.
struct Handles {
    busy_ratio: Gauge,
    worker_busy_ratio: Vec<Gauge>,
    workers: Gauge,
    alive_tasks: Gauge,
    global_queue_depth: Gauge,
    parks: Counter,
    scheduling_delay: Histogram,
}

impl Handles {
    fn register(workers: usize) -> Self {
        names::describe_all();
        Handles {
            busy_ratio: gauge!(names::TOKIO_RUNTIME_BUSY_RATIO),
            worker_busy_ratio: (0..workers)
                .map(|w| gauge!(names::TOKIO_RUNTIME_WORKER_BUSY_RATIO, "worker" => w.to_string()))
                .collect(),
            workers: gauge!(names::TOKIO_RUNTIME_WORKERS),
            alive_tasks: gauge!(names::TOKIO_RUNTIME_ALIVE_TASKS),
            global_queue_depth: gauge!(names::TOKIO_RUNTIME_GLOBAL_QUEUE_DEPTH),
            parks: counter!(names::TOKIO_RUNTIME_PARKS_TOTAL),
            scheduling_delay: histogram!(names::TOKIO_SCHEDULING_DELAY_SECONDS),
        }
    }
}

struct Sampler {
    handle: Handle,
    options: MonitorOptions,
    latest: Arc<Mutex<RuntimeSample>>,
    probe: Arc<ProbeStats>,
    // Live control: the `/readyz` rule's view of saturation.
    watch: Option<Arc<super::saturation::SaturationWatch>>,
}

impl Sampler {
    fn new(handle: Handle, options: MonitorOptions, latest: Arc<Mutex<RuntimeSample>>) -> Self {
        Sampler {
            handle,
            options,
            latest,
            probe: Arc::default(),
            watch: None,
        }
    }

    fn run(&self, stopped: &mpsc::Receiver<()>) {
        let mut clock = WorkerClock::new(&self.handle);
        let handles = Handles::register(clock.num_workers());
        let mut intervals = tokio_metrics::RuntimeMonitor::new(&self.handle).intervals();
        let mut worker_busy = clock.busy_totals();
        #[cfg(tokio_unstable)]
        let unstable = super::unstable::Unstable::register();
        let took =
            histogram!(crate::metric::names::SAMPLER_DURATION_SECONDS, "sampler" => "runtime");

        let mut watchdog = self
            .options
            .blocked_threshold
            .map(|t| Watchdog::new(clock.num_workers(), t));

        let start = Instant::now();
        let mut next_sample = start + self.options.interval;
        let mut next_probe = self.options.probe_interval.map(|p| start + p);
        let mut next_watch = watchdog.as_ref().map(|w| start + w.period());
        loop {
            let now = Instant::now();
            let wake = [next_probe, next_watch]
                .into_iter()
                .flatten()
                .fold(next_sample, Instant::min);
            match stopped.recv_timeout(wake.saturating_duration_since(now)) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            let now = Instant::now();
            clock.observe(now);
            if let (Some(due), Some(dog)) = (next_watch, watchdog.as_mut()) {
                if now >= due {
                    dog.check(&clock, now);
                    // After the check: reporting a block takes a 100 ms stack capture.
                    next_watch = Some(next_after(due, dog.period(), Instant::now()));
                }
            }
            if let (Some(due), Some(every)) = (next_probe, self.options.probe_interval) {
                if now >= due {
                    self.probe.fire(&self.handle, &handles.scheduling_delay);
                    next_probe = Some(next_after(due, every, now));
                }
            }
            if now >= next_sample {
                let started = Instant::now();
                next_sample = next_after(next_sample, self.options.interval, now);
                let Some(interval) = intervals.next() else {
                    return;
                };
                // Busy time from the clock, not tokio's published totals: a worker frozen
                // inside one poll publishes nothing until the poll ends, yet it is busy.
                let busy_totals = clock.busy_totals();
                let busy = busy_between(&worker_busy, &busy_totals);
                worker_busy = busy_totals;
                let workers = u32::try_from(busy.len().max(1)).unwrap_or(u32::MAX);
                let mut sample = RuntimeSample {
                    busy_ratio: ratio(busy.iter().sum(), interval.elapsed * workers),
                    worker_busy_ratios: busy.iter().map(|b| ratio(*b, interval.elapsed)).collect(),
                    workers: interval.workers_count,
                    alive_tasks: interval.live_tasks_count,
                    global_queue_depth: interval.global_queue_depth,
                    parks: interval.total_park_count,
                    elapsed: interval.elapsed,
                    ..RuntimeSample::default()
                };
                (sample.max_scheduling_delay, sample.probes) = self.probe.take();
                self.publish(&handles, &sample);
                super::tasks::publish_task_groups();
                #[cfg(tokio_unstable)]
                unstable.publish(&interval);
                if let Some(watch) = &self.watch {
                    watch.observe(sample.busy_ratio, sample.elapsed);
                }
                *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = sample;
                crate::metric::own_cost::record_sampler_run(
                    &crate::metric::own_cost::RUNTIME_SAMPLER_NANOS,
                    &took,
                    started.elapsed(),
                );
            }
        }
    }

    fn publish(&self, handles: &Handles, sample: &RuntimeSample) {
        handles.busy_ratio.set(sample.busy_ratio);
        for (gauge, ratio) in handles
            .worker_busy_ratio
            .iter()
            .zip(&sample.worker_busy_ratios)
        {
            gauge.set(*ratio);
        }
        handles.workers.set(sample.workers as f64);
        handles.alive_tasks.set(sample.alive_tasks as f64);
        handles
            .global_queue_depth
            .set(sample.global_queue_depth as f64);
        handles.parks.increment(sample.parks);
        if sample.busy_ratio > self.options.saturation_threshold {
            tracing::warn!(
                target: "stethoscope::runtime",
                busy_ratio = sample.busy_ratio,
                threshold = self.options.saturation_threshold,
                workers = sample.workers,
                "runtime saturated — investigate CPU hot spot"
            );
        }
    }
}

/// The next deadline after `due`; when the thread fell behind (a suspended VM), skip the
/// missed ticks instead of firing them back to back.
fn next_after(due: Instant, every: Duration, now: Instant) -> Instant {
    let next = due + every;
    if next <= now {
        now + every
    } else {
        next
    }
}
