//! Production observability for async Rust in one line.
//!
//! `stethoscope` brings the Node.js production-diagnostics toolbox (pino, prom-client,
//! OpenTelemetry, event-loop utilization, CPU profiles and flame graphs, heap snapshots,
//! clinic doctor) to Rust and tokio, as composable `tracing` layers built on the ecosystem's
//! own crates.
//!
//! **Compiler support:** requires rustc 1.86+.
//!
//! # In applications
//!
//! Call [`init`] once in `main` and keep the [`Guard`]:
//!
//! ```no_run
//! fn main() -> Result<(), stethoscope::Error> {
//!     let _telemetry = stethoscope::init()?; // JSON logs on stdout, RUST_LOG / LOG_LEVEL filter
//!     let span = stethoscope::info_span!("request", request_id = "r-17");
//!     let _entered = span.enter();
//!     stethoscope::info!(rows = 500, "batch written"); // carries request_id and trace ids
//!     Ok(())
//! }
//! ```
//!
//! Configure in code with [`Stethoscope::builder`]; every environment variable read is
//! listed on [`Builder::from_env`], and every invalid value is an [`Error`] that names it.
//!
//! # In libraries
//!
//! Libraries only emit: use `tracing`'s macros (re-exported here as [`info!`] and friends, and
//! [`macro@instrument`]); the application decides where the data goes.
//!
//! [`macro@instrument`] is `tracing`'s attribute with its generated paths routed through this
//! crate, so `#[stethoscope::instrument]` works with `stethoscope` as the only dependency.
//!
//! # Pillars
//!
//! | pillar | module | status |
//! |---|---|---|
//! | structured JSON logs, redaction, span context, non-blocking output | [`logging`] | available |
//! | Prometheus metrics, process metrics, admin server (`/metrics`, `/healthz`, `/readyz`, live control under `/debug/`) | [`metric`], [`admin`] | available |
//! | OpenTelemetry traces (OTLP export), W3C propagation over HTTP and message headers | [`trace`](mod@trace) | available |
//! | tokio utilization, scheduling delay, slow operations | [`runtime`] | available |
//! | CPU profiles, flame graphs, pprof, `/debug/pprof/*` (Unix) | [`profile`] | available |
//! | allocation accounting, live-object counts, snapshot comparison, jemalloc heap profiles | [`alloc`], [`heap`] | available |
//! | doctor: findings with causes and recommendations, HTML/JSON/text reports, `/debug/doctor` | [`doctor`] | available |
//!
//! # Metrics
//!
//! Libraries record with the [`metrics`](https://docs.rs/metrics) crate's macros
//! (`metrics::counter!("jobs_total").increment(1)`); [`Builder::install`] installs the
//! Prometheus recorder behind them and serves `/metrics` (see [`metric`] and [`admin`]).

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admin;
// Memory pillar: allocation accounting and live-object counts.
pub mod alloc;
mod config;
mod error;
mod guard;
pub mod heap;
mod init;
// Profiling pillar: CPU profiles, flame graphs, pprof.
pub mod logging;
pub mod metric;
mod panic_hook;
pub mod profile;
// Credentials in configuration: one redaction for Debug, errors, logs and reports.
mod secret;
#[cfg(unix)]
mod signal_listener;
pub mod trace;
// Doctor: diagnosis and reports over every other pillar.
pub mod doctor;
// Runtime pillar.
pub mod runtime;

pub use trace::propagation;

pub use config::{LogFormat, LogOutput};
pub use error::{Error, Result};
pub use guard::Guard;
pub use init::{init, Builder, Stethoscope, DEFAULT_LOG_FILTER};

/// `metrics`, re-exported so applications can record (`stethoscope::metrics::counter!(..)`)
/// through one dependency.
pub use metrics;

/// `tracing`, re-exported so applications can use its full API through one dependency.
pub use tracing;
pub use tracing::{
    debug, debug_span, error, error_span, event, info, info_span, span, trace, trace_span, warn,
    warn_span, Level, Span,
};

pub use stethoscope_macros::instrument;

/// Paths used by macro expansions; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use tracing;
}
