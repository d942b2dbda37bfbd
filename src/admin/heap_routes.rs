//! `/debug/pprof/heap` (jemalloc heap profiles) and `/debug/heap` (live-object counts).

use axum::extract::RawQuery;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::heap::{self, HeapProfile};

/// What `/debug/pprof/heap` renders.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Format {
    Pprof,
    Svg,
    Folded,
}

/// `GET /debug/pprof/heap[?format=pprof|svg|folded]`: jemalloc's heap profile of the live
/// allocations; `501` with how to enable it when it is not available.
pub(super) async fn pprof_heap(RawQuery(query): RawQuery) -> Response {
    let format = match parse(query.as_deref()) {
        Ok(f) => f,
        Err(message) => return (StatusCode::BAD_REQUEST, message + "\n").into_response(),
    };
    // Dumping and symbolizing block for a while: keep the admin runtime answering meanwhile.
    let captured = tokio::task::spawn_blocking(HeapProfile::capture)
        .await
        .unwrap_or_else(|e| {
            Err(Error::HeapProfiling {
                message: e.to_string(),
            })
        });
    let profile = match captured {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    match format {
        Format::Pprof => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"heap\""),
            ],
            profile.pprof_gz().to_vec(),
        )
            .into_response(),
        Format::Folded => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            profile.folded(),
        )
            .into_response(),
        Format::Svg => match profile.flamegraph() {
            Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
            Err(e) => error_response(&e),
        },
    }
}

/// `GET /debug/heap`: the live-object counts table ([`heap::snapshot`]).
pub(super) async fn heap_snapshot(RawQuery(query): RawQuery) -> Response {
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        return (
            StatusCode::BAD_REQUEST,
            format!("unknown query {q:?}: /debug/heap takes no parameters\n"),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        heap::snapshot().to_string(),
    )
        .into_response()
}

fn error_response(err: &Error) -> Response {
    let status = match err {
        Error::HeapProfilingUnavailable { .. } => StatusCode::NOT_IMPLEMENTED,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("{err}\n")).into_response()
}

/// Parses the query; the error is the response text.
fn parse(query: Option<&str>) -> Result<Format, String> {
    let mut format = Format::Pprof;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "format" {
            return Err(format!(
                "unknown query parameter {key:?}: accepted is format=pprof|svg|folded"
            ));
        }
        format = match value {
            "pprof" | "proto" => Format::Pprof,
            "svg" => Format::Svg,
            "folded" => Format::Folded,
            _ => {
                return Err(format!(
                    "invalid format={value:?}: expected pprof, svg or folded"
                ))
            }
        };
    }
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_bad_parameters() {
        assert_eq!(parse(None), Ok(Format::Pprof));
        assert_eq!(parse(Some("format=svg")), Ok(Format::Svg));
        assert_eq!(parse(Some("format=folded")), Ok(Format::Folded));
        assert!(parse(Some("format=png"))
            .unwrap_err()
            .contains("pprof, svg or folded"));
        assert!(parse(Some("seconds=3"))
            .unwrap_err()
            .contains("unknown query parameter \"seconds\""));
    }
}
