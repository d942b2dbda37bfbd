//! The admin HTTP server: `/metrics`, `/healthz` and `/readyz`, served by `axum` on its own OS
//! thread with its own single-threaded tokio runtime, so it still answers when the application's
//! runtime is saturated, which is when it is needed most.
//!
//! | path | answers |
//! |---|---|
//! | `GET /metrics` | Prometheus text format 0.0.4 |
//! | `GET /debug/pprof/profile?seconds=N` | a CPU profile of the next N seconds (default 10, at most 300) as gzip'd pprof protobuf, for `go tool pprof`; `&frequency=F` Hz (default 99); `409` while another capture runs |
//! | `GET /debug/pprof/flamegraph?seconds=N` | the same as a flame graph SVG; `&format=folded` for folded stacks, `&icicle=true` upside down, `&threads=true` with thread names as roots |
//! | `GET /debug/pprof/heap` | a heap profile of the live allocations by call stack as gzip'd pprof (feature `jemalloc`, see [`heap`](crate::heap)); `?format=svg` a flame graph of live bytes, `?format=folded` folded stacks; `501` saying how to enable it when jemalloc's profiler is not compiled in or not active |
//! | `GET /debug/heap` | live instances and bytes per tracked type ([`heap::snapshot`](crate::heap::snapshot)) and the allocator's totals, as a table |
//! | `GET /healthz` | `200 ok` while the process runs (never needs the token) |
//! | `GET /readyz` | `503` until [`Readiness::set_ready`], then `200` |
//! | `GET`/`PUT /debug/log-level[?ttl=60s]` | the log filter in force; `PUT` replaces it with the directives in the body, for `ttl` or for good |
//! | `GET /debug/logs/recent?n=100&level=debug` | the flight recorder's last lines (JSON lines, oldest first) |
//! | `GET /debug/stethoscope` | stethoscope's configuration (secrets masked) and its own figures, as JSON |
//! | `GET /debug/tasks` | tokio's task dump (builds with `--cfg tokio_unstable` on Linux; else `501`) |
//! | `GET /debug/doctor?seconds=N` | observes the application for N seconds (default 10, at most 300) and answers with the [doctor](crate::doctor)'s report: `&format=html` (default, one self-contained page), `json` or `text`; `&profile=false` without a CPU profile; `409` while another CPU profile is being captured |
//! | `GET /debug/operations` | busy vs idle time per operation (tab-separated), when [`Builder::with_operation_stats`](crate::Builder::with_operation_stats) is on; else `404` |
//!
//! The address comes from [`Builder::with_admin_addr`](crate::Builder::with_admin_addr) or
//! `STETHOSCOPE_ADMIN_ADDR` (default [`DEFAULT_ADMIN_ADDR`]). With a token
//! ([`Builder::with_admin_token`](crate::Builder::with_admin_token) or
//! `STETHOSCOPE_ADMIN_TOKEN`), every path but `/healthz` needs `Authorization: Bearer <token>`.

mod auth;
mod config;
mod doctor_routes;
mod heap_routes;
mod profile_routes;
mod routes;
mod server;
// Live control: log level, flight recorder, readiness rule, self-report, task dump.
pub(crate) mod introspection;
mod live_routes;
mod readiness_rule;
mod task_dump;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) use config::AdminSettings;
pub use config::DEFAULT_ADMIN_ADDR;
pub(crate) use readiness_rule::ReadinessCheck;
pub use readiness_rule::ReadinessRule;
pub(crate) use routes::AdminState;
pub(crate) use server::{AdminServer, Bound, STOP_DEADLINE as ADMIN_STOP_DEADLINE};

/// The live-control handles the admin server and the [`Guard`](crate::Guard) share.
#[derive(Clone, Debug, Default)]
pub(crate) struct LiveControl {
    pub(crate) log_level: Option<crate::logging::LogLevel>,
    pub(crate) recorder: Option<crate::logging::FlightRecorder>,
    pub(crate) limiter: Option<Arc<crate::logging::rate_limit::RateLimiter>>,
    pub(crate) writer: Option<crate::logging::NonBlocking>,
    pub(crate) export: Option<Arc<crate::trace::export::ExportStats>>,
}

/// Whether the application is ready for traffic, as reported by `GET /readyz`.
///
/// Starts not ready; get it from [`Guard::readiness`](crate::Guard::readiness) and flip it once
/// the application has warmed up (connected to its database, loaded its caches).
///
/// ```
/// let readiness = stethoscope::admin::Readiness::default();
/// assert!(!readiness.is_ready());
/// readiness.set_ready(true);
/// assert!(readiness.clone().is_ready());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the application ready (`/readyz` answers 200) or not ready (503).
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    /// Whether the application was last marked ready.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}
