//! Prometheus metrics: the `metrics` facade's global recorder, a label-set cap, default process
//! metrics and the `/metrics` rendering served by the [admin server](crate::Builder::with_admin_addr).
//!
//! Record with the `metrics` crate's macros; [`Builder::install`](crate::Builder::install) installs
//! the recorder behind them:
//!
//! ```no_run
//! use stethoscope::metric::start_timer;
//!
//! fn main() -> Result<(), stethoscope::Error> {
//!     let _telemetry = stethoscope::Stethoscope::builder()
//!         .with_histogram_buckets(
//!             "transaction_processing_duration_seconds",
//!             &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
//!         )?
//!         .install()?;
//!     // In a hot loop, register once and keep the handle: an increment is one atomic add.
//!     let ingested = metrics::counter!("transactions_ingested_total");
//!     for _tx in 0..3 {
//!         let _timer = start_timer(metrics::histogram!("transaction_processing_duration_seconds"));
//!         ingested.increment(1);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! Histograms ending in `_seconds` get [`DEFAULT_SECONDS_BUCKETS`] (100 µs … 10 s) unless
//! configured otherwise; other histograms without configured buckets are rendered as summaries.
//! Each metric name may have at most [`DEFAULT_MAX_LABEL_SETS`] label sets (configurable with
//! [`Builder::with_metric_label_set_limit`](crate::Builder::with_metric_label_set_limit)); see
//! [`names::METRIC_CARDINALITY_OVERFLOW_TOTAL`].

mod buckets;
mod cardinality;
#[cfg(any(target_os = "linux", test))]
mod cgroup;
mod config;
pub mod names;
// Self-observability: stethoscope's own cost.
pub(crate) mod own_cost;
pub(crate) mod process;
mod prometheus;
mod sampler;
mod timer;

pub use buckets::DEFAULT_SECONDS_BUCKETS;
pub use cardinality::DEFAULT_MAX_LABEL_SETS;
pub(crate) use config::MetricSettings;
pub use config::DEFAULT_SAMPLE_INTERVAL;
pub(crate) use sampler::{Metrics, MetricsRuntime, PreparedMetrics};
pub use timer::{start_timer, Timer};
