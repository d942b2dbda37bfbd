//! The tokio runtime, seen the way Node.js operators see their event loop: utilization (ELU),
//! scheduling delay (`monitorEventLoopDelay`) and slow operations (async_hooks "auto_explain").
//!
//! * [`monitor`] starts a sampler on its own OS thread (so it keeps reporting while the runtime
//!   is saturated) that every [`DEFAULT_RUNTIME_SAMPLE_INTERVAL`] publishes the gauges in
//!   [`names`], most importantly [`names::TOKIO_RUNTIME_BUSY_RATIO`], the share of the workers'
//!   time spent polling tasks: **the event-loop utilization of tokio**. Above the saturation
//!   threshold (default [`DEFAULT_SATURATION_THRESHOLD`]) it logs one `warn` per interval,
//!   "runtime saturated — investigate CPU hot spot". [`Builder::install`](crate::Builder::install)
//!   starts it by itself when called inside a tokio runtime.
//! * The same thread probes scheduling delay: every [`DEFAULT_PROBE_INTERVAL`] it spawns a tiny
//!   task and records how long the task waited for a worker into
//!   [`names::TOKIO_SCHEDULING_DELAY_SECONDS`]. A worker blocked by synchronous work shows up
//!   here even before it shows up as busy time.
//! * The same thread runs a watchdog: a worker that has been inside one poll for
//!   [`DEFAULT_BLOCKED_THRESHOLD`] is reported *while it is stuck* ("runtime worker blocked"),
//!   with the span it is in and its stack from a short CPU capture, and counted in
//!   [`names::TOKIO_BLOCKED_POLLS_TOTAL`].
//! * [`SlowOpLayer`] is a `tracing` layer that logs every span slower than a threshold with the
//!   time it spent executing (`busy_ms`) and waiting (`idle_ms`); with [`OperationStats`] it
//!   also aggregates busy vs idle time per operation (clinic bubbleprof's view).
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> Result<(), stethoscope::Error> {
//!     // Inside a runtime, `install` monitors it: no extra call needed.
//!     let _telemetry = stethoscope::Stethoscope::builder().install()?;
//!     // A second runtime is monitored explicitly; the monitor stops when dropped.
//!     let other = tokio::runtime::Builder::new_current_thread().build().unwrap();
//!     let _monitor = stethoscope::runtime::monitor(other.handle())?;
//!     Ok(())
//! }
//! ```
//!
//! # What tokio exposes on stable and what needs `--cfg tokio_unstable`
//!
//! On stable tokio the sampler publishes busy ratios (runtime and per worker), workers, alive
//! tasks, global queue depth and park counts. tokio publishes a worker's busy time only when
//! the worker parks or runs its maintenance, never from inside a poll; the sampler counts a
//! worker that has run without publishing (one that is stuck inside a poll) as busy for that
//! time, so a blocked runtime reads as busy (≈ 1.0) while it is blocked, not after.
//!
//! Built with `RUSTFLAGS="--cfg tokio_unstable"`, the sampler also publishes the blocking pool
//! (threads, idle threads, queue depth), steals, polls, remote schedules, forced yields and
//! worker local queue depth (see [`names`]).

mod clock_table;
mod monitor;
pub mod names;
mod operations;
mod probe;
mod sample;
// Readiness rule: how long the runtime has stayed saturated.
pub(crate) mod saturation;
mod settings;
mod slow;
mod tasks;
mod thread_id;
pub(crate) mod timing;
#[cfg(tokio_unstable)]
mod unstable;
#[cfg_attr(not(unix), allow(dead_code))]
mod watchdog;
// The doctor reads busy time through it too.
pub(crate) mod worker_clock;

use std::time::Duration;

pub use monitor::{monitor, monitor_with, MonitorOptions, RuntimeMonitor};
pub(crate) use operations::render_operations;
pub use operations::{OperationStats, OperationSummary};
pub use sample::RuntimeSample;
pub(crate) use settings::RuntimeSettings;
pub use slow::{SlowOpLayer, SLOW_MS_FIELD};
pub use tasks::task_monitor;

/// How often the sampler publishes, by default.
pub const DEFAULT_RUNTIME_SAMPLE_INTERVAL: Duration = Duration::from_secs(1);

/// The busy ratio above which the sampler warns that the runtime is saturated, by default.
pub const DEFAULT_SATURATION_THRESHOLD: f64 = 0.90;

/// How often the scheduling-delay probe spawns its task, by default. Each probe wakes a worker
/// (~130 µs of CPU on a 2-core VM), so 200 ms keeps the whole monitor under 0.1 % of a core
/// while still catching any block of 200 ms or more (the probe in flight waits it out).
pub const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_millis(200);

/// A worker inside one poll this long is reported by the blocked-runtime watchdog, by default:
/// every other task queued on that worker has waited as long.
pub const DEFAULT_BLOCKED_THRESHOLD: Duration = Duration::from_millis(100);

/// Spans slower than this are logged as slow operations, by default.
pub const DEFAULT_SLOW_THRESHOLD: Duration = Duration::from_millis(100);

/// A span entered this long without a break on a thread running a tokio task is logged as a
/// slow poll, by default ([`Builder`](crate::Builder) turns it on; a bare [`SlowOpLayer`] does
/// not). 10 ms blocks a worker long enough to delay every other task queued behind it by
/// more than a typical request budget's share.
pub const DEFAULT_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(10);
