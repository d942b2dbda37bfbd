//! The admin routes. Adding an endpoint is one `.route(..)` line in [`router`].

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::auth::require_token;
use super::Readiness;
use crate::metric::Metrics;

/// The Prometheus text format's content type (version 0.0.4).
const EXPOSITION_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What the handlers share.
#[derive(Clone)]
pub(crate) struct AdminState {
    pub(crate) metrics: Option<Metrics>,
    pub(crate) readiness: Readiness,
    pub(crate) token: Option<Arc<str>>,
    // Runtime pillar: busy/idle per operation, when turned on.
    pub(crate) operations: Option<crate::runtime::OperationStats>,
    // Live control: log level, flight recorder, readiness rule, self-report, task dump.
    pub(crate) live: super::LiveControl,
    pub(crate) config_json: Option<Arc<str>>,
    pub(crate) readiness_check: Option<Arc<super::ReadinessCheck>>,
    pub(crate) tasks: Option<tokio::runtime::Handle>,
    // Doctor: the application's runtime (the one `install` ran in), which `/debug/doctor` watches.
    pub(crate) runtime: Option<tokio::runtime::Handle>,
}

// By hand, so that the token never reaches a log or a panic message.
impl std::fmt::Debug for AdminState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminState")
            .field("metrics", &self.metrics.is_some())
            .field("readiness", &self.readiness)
            .field(
                "token",
                &self.token.as_ref().map(|_| crate::secret::Redacted),
            )
            .finish()
    }
}

/// Every admin route. Routes added to `protected` need the bearer token when one is set.
pub(crate) fn router(state: AdminState) -> Router {
    let protected = Router::new()
        // Profiling pillar.
        .route("/debug/pprof/profile", get(super::profile_routes::pprof))
        .route(
            "/debug/pprof/flamegraph",
            get(super::profile_routes::flamegraph),
        )
        // Memory pillar.
        .route("/debug/pprof/heap", get(super::heap_routes::pprof_heap))
        .route("/debug/heap", get(super::heap_routes::heap_snapshot))
        .route("/metrics", get(metrics))
        .route("/readyz", get(readyz))
        .route("/debug/operations", get(operations))
        // Live control.
        .route(
            "/debug/log-level",
            get(super::live_routes::get_log_level).put(super::live_routes::put_log_level),
        )
        .route("/debug/logs/recent", get(super::live_routes::recent_logs))
        .route("/debug/stethoscope", get(super::live_routes::report))
        .route("/debug/tasks", get(super::task_dump::tasks))
        .route("/debug/doctor", get(super::doctor_routes::doctor))
        .route_layer(from_fn_with_state(state.clone(), require_token));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(protected)
        .with_state(state)
}

async fn metrics(State(state): State<AdminState>) -> Response {
    match &state.metrics {
        Some(metrics) => (
            [(header::CONTENT_TYPE, EXPOSITION_CONTENT_TYPE)],
            metrics.render(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "metrics are disabled: enable them with Builder::with_metrics(true)\n",
        )
            .into_response(),
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AdminState>) -> Response {
    // Live control: the readiness rule can say no on its own.
    if let Some(why) = state
        .readiness_check
        .as_ref()
        .filter(|_| state.readiness.is_ready())
        .and_then(|check| check.why_not_ready())
    {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response()
    } else if state.readiness.is_ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response()
    }
}

// -- runtime pillar --
async fn operations(State(state): State<AdminState>) -> Response {
    match &state.operations {
        Some(stats) => crate::runtime::render_operations(&stats.summary()).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "operation stats are off: turn them on with Builder::with_operation_stats(true, ..)\n",
        )
            .into_response(),
    }
}
