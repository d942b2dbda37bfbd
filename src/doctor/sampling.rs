//! The sampling loop: every interval, one [`Sample`] of every signal there is a source for.
//!
//! It runs on a thread of its own (never on the runtime it watches: a blocked runtime would
//! stop the sampling that is meant to show the block).

use std::time::{Duration, Instant};

use tokio::runtime::Handle;

use super::memory::{MemoryInputs, TypeCount};
use super::probe::Probe;
use super::Signal;
use crate::metric::process::ProcessSample;
use crate::runtime::{OperationStats, OperationSummary};

/// Every signal at one moment of the window; `None` where there is no source (no runtime, no
/// memory input, not Linux).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Sample {
    /// Time since the window began.
    pub elapsed: Duration,
    /// Share of the workers' time spent polling since the previous sample, 0 to 1.
    pub runtime_busy_ratio: Option<f64>,
    /// The longest scheduling delay seen since the previous sample, including the age of a
    /// probe still waiting for a worker.
    pub scheduling_delay: Option<Duration>,
    /// CPU used by the process since the previous sample, in percent of one core.
    pub process_cpu_percent: Option<f64>,
    /// Resident set size.
    pub resident_bytes: Option<u64>,
    /// Live heap bytes, from the memory input.
    pub heap_live_bytes: Option<u64>,
    /// Bytes allocated per second since the previous sample, from the memory input.
    pub allocation_bytes_per_second: Option<f64>,
    /// Tasks alive on the runtime.
    pub alive_tasks: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// Slow operations since the window began (needs operation stats).
    pub slow_operations: Option<u64>,
}

impl Sample {
    /// The value of `signal` in this sample, in the signal's [`unit`](Signal::unit).
    pub fn value(&self, signal: Signal) -> Option<f64> {
        match signal {
            Signal::RuntimeBusyRatio => self.runtime_busy_ratio,
            Signal::SchedulingDelay => self.scheduling_delay.map(|d| d.as_secs_f64() * 1e3),
            Signal::ProcessCpu => self.process_cpu_percent,
            Signal::ResidentMemory => self.resident_bytes.map(|v| v as f64),
            Signal::HeapLiveBytes => self.heap_live_bytes.map(|v| v as f64),
            Signal::AllocationRate => self.allocation_bytes_per_second,
            Signal::AliveTasks => self.alive_tasks.map(|v| v as f64),
            Signal::OpenFds => self.open_fds.map(|v| v as f64),
            Signal::SlowOperations => self.slow_operations.map(|v| v as f64),
            Signal::Operations => None,
        }
    }
}

/// What to sample and how often.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) interval: Duration,
    pub(crate) runtime: Option<Handle>,
    pub(crate) operations: Option<OperationStats>,
    pub(crate) memory: MemoryInputs,
}

/// Everything one window produced, before the rules read it.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    pub(crate) samples: Vec<Sample>,
    /// Every scheduling delay measured, plus the age of a probe still waiting at the end.
    pub(crate) delays: Vec<Duration>,
    /// Live-type readings, about once a second: seconds since the start and the table.
    pub(crate) live_types: Vec<(f64, Vec<TypeCount>)>,
    /// Per-operation busy/idle time during the window, with slow calls.
    pub(crate) operations: Vec<(OperationSummary, u64)>,
    pub(crate) workers: Option<usize>,
}

/// The previous readings, for the per-interval rates.
struct Previous {
    at: Instant,
    cpu_seconds: Option<f64>,
    worker_busy: Vec<Duration>,
    /// Busy time published in an earlier interval than it belongs to, beyond what that
    /// interval could hold: counted in the next intervals rather than lost.
    busy_carry: f64,
    allocated: Option<u64>,
}

/// Samples `plan` every interval for `window`, blocking the calling thread.
pub(crate) fn record(plan: &Plan, window: Duration) -> Recording {
    let start = Instant::now();
    let probe = Probe::default();
    let operations_before = plan.operations.as_ref().map(OperationStats::totals);
    let slow_before = plan.operations.as_ref().map(OperationStats::slow_calls);
    let mut previous = Previous {
        at: start,
        cpu_seconds: ProcessSample::read().cpu_seconds,
        worker_busy: worker_busy(plan.runtime.as_ref()),
        busy_carry: 0.0,
        allocated: plan.memory.allocated_bytes.as_ref().and_then(|f| f()),
    };
    let mut recording = Recording {
        workers: plan.runtime.as_ref().map(|h| h.metrics().num_workers()),
        ..Recording::default()
    };
    if let Some(handle) = &plan.runtime {
        probe.fire(handle);
    }
    if let Some(types) = &plan.memory.live_types {
        recording.live_types.push((0.0, types()));
    }
    // Live types are a table, not a number: read them about once a second.
    let types_every = (Duration::from_secs(1).as_nanos() / plan.interval.as_nanos().max(1)).max(1);
    let ticks = (window.as_nanos() / plan.interval.as_nanos().max(1)).max(1);
    for tick in 1..=ticks {
        // The last sample is due when the window ends, even for a window shorter than the
        // interval.
        let due =
            (start + plan.interval * u32::try_from(tick).unwrap_or(u32::MAX)).min(start + window);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        let (delays, waiting) = probe.take(now);
        let mut sample = read(plan, &mut previous, now, start);
        if plan.runtime.is_some() {
            sample.scheduling_delay = delays.iter().copied().chain(waiting).max();
        }
        sample.slow_operations = plan
            .operations
            .as_ref()
            .map(|o| o.slow_calls().saturating_sub(slow_before.unwrap_or(0)));
        recording.delays.extend(delays);
        if tick == ticks {
            // A probe still waiting at the end waited at least this long.
            recording.delays.extend(waiting);
        } else if let Some(handle) = &plan.runtime {
            probe.fire(handle);
        }
        if let Some(types) = &plan.memory.live_types {
            if tick % types_every == 0 || tick == ticks {
                let seconds = sample.elapsed.as_secs_f64();
                recording.live_types.push((seconds, types()));
            }
        }
        recording.samples.push(sample);
    }
    if let (Some(stats), Some(before)) = (&plan.operations, &operations_before) {
        recording.operations = stats.totals().since(before);
    }
    recording
}

/// One sample of everything but the probe and the slow-operation count.
fn read(plan: &Plan, previous: &mut Previous, now: Instant, start: Instant) -> Sample {
    let wall = now.saturating_duration_since(previous.at).as_secs_f64();
    let process = ProcessSample::read();
    let mut sample = Sample {
        elapsed: now.saturating_duration_since(start),
        resident_bytes: process.resident_bytes,
        open_fds: process.open_fds,
        ..Sample::default()
    };
    if let (Some(before), Some(after)) = (previous.cpu_seconds, process.cpu_seconds) {
        if wall > 0.0 {
            sample.process_cpu_percent = Some(((after - before) / wall * 100.0).max(0.0));
        }
    }
    previous.cpu_seconds = process.cpu_seconds;
    if let Some(handle) = &plan.runtime {
        let busy = worker_busy(Some(handle));
        let delta: Duration = busy
            .iter()
            .zip(&previous.worker_busy)
            .map(|(now, before)| now.saturating_sub(*before))
            .sum();
        let capacity = wall * busy.len().max(1) as f64;
        // tokio publishes a worker's busy time only every 61 polls or when it parks, so one
        // interval can receive much of the previous ones' busy time (a saturated runtime's
        // workers never park). Clamping alone would lose the excess and make a saturated
        // runtime read as half busy: carry it into the next intervals instead.
        let busy_seconds = delta.as_secs_f64() + previous.busy_carry;
        if capacity > 0.0 {
            sample.runtime_busy_ratio = Some((busy_seconds / capacity).clamp(0.0, 1.0));
        }
        previous.busy_carry = (busy_seconds - capacity).max(0.0);
        previous.worker_busy = busy;
        sample.alive_tasks = Some(handle.metrics().num_alive_tasks() as u64);
    }
    if let Some(live) = &plan.memory.live_bytes {
        sample.heap_live_bytes = live();
    }
    if let Some(allocated) = &plan.memory.allocated_bytes {
        let total = allocated();
        if let (Some(before), Some(after)) = (previous.allocated, total) {
            if wall > 0.0 {
                sample.allocation_bytes_per_second =
                    Some(after.saturating_sub(before) as f64 / wall);
            }
        }
        previous.allocated = total;
    }
    previous.at = now;
    sample
}

fn worker_busy(handle: Option<&Handle>) -> Vec<Duration> {
    let Some(handle) = handle else {
        return Vec::new();
    };
    let metrics = handle.metrics();
    (0..metrics.num_workers())
        .map(|w| metrics.worker_total_busy_duration(w))
        .collect()
}
