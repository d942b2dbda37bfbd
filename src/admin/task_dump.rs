//! `GET /debug/tasks`: tokio's task dump (every task's await-point backtrace), the Rust
//! counterpart of Go's goroutine profile. Tokio only has it when built with
//! `--cfg tokio_unstable` on Linux (x86, x86_64, aarch64, s390x); stethoscope turns tokio's
//! `taskdump` feature on for those targets itself, so the `cfg` is all a user adds. Elsewhere
//! the endpoint answers 501 and says how to enable it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::routes::AdminState;

/// What to do to get task dumps.
#[cfg_attr(tokio_unstable, allow(dead_code))] // only the fallback answers with it
pub(crate) const HOW_TO_ENABLE: &str = "task dumps are not available in this build: tokio \
    provides them only when built with RUSTFLAGS=\"--cfg tokio_unstable\" on Linux (x86, x86_64, \
    aarch64 or s390x); stethoscope enables tokio's `taskdump` feature there itself. Rebuild with \
    that flag (keep debug info, e.g. `[profile.release] debug = 1`, for readable backtraces) and \
    call stethoscope's install() inside the tokio runtime to be dumped\n";

#[cfg(all(
    tokio_unstable,
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "s390x"
    )
))]
pub(super) async fn tasks(State(state): State<AdminState>) -> Response {
    use std::fmt::Write as _;
    use std::time::Duration;

    // A dump pauses every worker; one that is blocked keeps it from finishing.
    const DEADLINE: Duration = Duration::from_secs(10);
    let Some(handle) = state.tasks.clone() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "no tokio runtime to dump: stethoscope was installed outside one\n",
        )
            .into_response();
    };
    // Requested from a task of the dumped runtime itself: a current-thread runtime can only be
    // dumped from inside.
    let inner = handle.clone();
    let dump = handle.spawn(async move { inner.dump().await });
    match tokio::time::timeout(DEADLINE, dump).await {
        Ok(Ok(dump)) => {
            let mut out = String::new();
            for (i, task) in dump.tasks().iter().enumerate() {
                let _ = writeln!(out, "task {i} (id {}):\n{}\n", task.id(), task.trace());
            }
            out.into_response()
        }
        Ok(Err(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the task dump failed: {e}\n"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the runtime did not produce a task dump within {DEADLINE:?}: a worker is \
                 probably blocked; try /debug/pprof/profile to see where\n"
            ),
        )
            .into_response(),
    }
}

#[cfg(not(all(
    tokio_unstable,
    target_os = "linux",
    any(
        target_arch = "aarch64",
        target_arch = "x86",
        target_arch = "x86_64",
        target_arch = "s390x"
    )
)))]
pub(super) async fn tasks(State(state): State<AdminState>) -> Response {
    let _ = state.tasks;
    (StatusCode::NOT_IMPLEMENTED, HOW_TO_ENABLE).into_response()
}
