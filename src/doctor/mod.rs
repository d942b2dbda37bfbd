//! What is wrong and what to do: the doctor watches the process for a window, diagnoses it
//! and shows it (clinic doctor and bubbleprof, for tokio).
//!
//! [`Doctor::observe`] samples, ten times a second by default:
//!
//! * the runtime's busy ratio (tokio's event-loop utilization) and **scheduling delay** (how
//!   long a probe task waits for a worker; what synchronous code on a worker looks like);
//! * process CPU, resident memory and (with a [memory input](#memory-inputs)) live heap bytes,
//!   allocation rate and live objects per type;
//! * alive tasks and open file descriptors (the "handles");
//! * slow operations and, per operation, time spent executing vs waiting (with
//!   [`Doctor::with_operation_stats`]);
//! * and a CPU profile over the same window.
//!
//! Then [`rules`] turn the samples into [`Finding`]s: what was detected with the numbers
//! behind it ([`Evidence`]), the functions, types or operations it points at, the likely cause
//! and a recommendation. Levels that grow are judged by their least-squares [`Trend`]: the
//! slope says how fast, R² whether it is steady growth (a leak) or noise.
//!
//! The [`Report`] renders as text ([`Report::to_text`], clinic doctor's "Issue detected /
//! Possible cause / Recommendation"), JSON ([`Report::to_json`], schema [`JSON_SCHEMA`]) and
//! one self-contained HTML page ([`Report::to_html`]: charts, findings, the wait/execute table
//! and the flame graph). The admin server serves all three at
//! `GET /debug/doctor?seconds=N&format=html|json|text`.
//!
//! ```no_run
//! # async fn run() -> Result<(), stethoscope::Error> {
//! use std::time::Duration;
//! use stethoscope::doctor::{Doctor, Severity};
//!
//! let report = Doctor::new().observe(Duration::from_secs(10)).await?;
//! for finding in report.findings() {
//!     println!("{:?}: {} ({:?})", finding.severity, finding.title, finding.subjects);
//! }
//! if report.worst_severity() >= Severity::Warning {
//!     std::fs::write("doctor.html", report.to_html()).ok();
//! }
//! # Ok(()) }
//! ```
//!
//! # Memory inputs
//!
//! The operating system gives the resident set size, which the doctor always reads. Heap
//! figures need allocator accounting, which the doctor takes as closures so that any source
//! works (stethoscope's counting allocator and live-object counts, jemalloc's statistics, a
//! test's counters):
//!
//! * [`Doctor::with_heap_live_bytes`]: live heap bytes, preferred over RSS for the memory trend;
//! * [`Doctor::with_allocated_bytes`]: total bytes allocated so far, for the allocation rate;
//! * [`Doctor::with_live_types`]: live instances and bytes per type, read about once a second,
//!   so the memory finding names the fastest-growing type.
//!
//! Without them the memory rule follows RSS and says that it cannot name a type.

mod chart;
mod finding;
mod hot_frames;
mod memory;
mod observe;
mod probe;
mod report;
mod report_html;
mod report_json;
mod report_text;
pub mod rules;
mod sampling;
mod signal;
mod trend;

pub use finding::{Evidence, Finding, Severity};
pub use memory::{TypeCount, TypeGrowth};
pub use observe::{Doctor, DEFAULT_SAMPLE_INTERVAL, MAX_WINDOW, MIN_SAMPLE_INTERVAL};
pub use report::{DelaySummary, OperationWindow, Report};
pub use report_json::JSON_SCHEMA;
pub use sampling::Sample;
pub use signal::{Signal, Unit};
pub use trend::{SignalSummary, Trend};
