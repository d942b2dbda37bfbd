//! The "during an incident" endpoints: `/debug/log-level`, `/debug/logs/recent` and
//! `/debug/stethoscope`. Every bad input is a 400 that says what is accepted, and changes
//! nothing.

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::introspection;
use super::routes::AdminState;
use crate::logging::live_filter::parse_duration;
use crate::logging::LogLevel;
use crate::Level;

/// `n` when `/debug/logs/recent` has none.
const DEFAULT_RECENT: usize = 100;

/// `GET /debug/log-level`: the filter in force, what it reverts to, and when.
pub(super) async fn get_log_level(State(state): State<AdminState>) -> Response {
    match &state.live.log_level {
        Some(level) => json(StatusCode::OK, level_json(level)),
        None => not_installed(),
    }
}

/// `PUT /debug/log-level[?ttl=60s]` with directives (`RUST_LOG` syntax) as the body.
pub(super) async fn put_log_level(
    State(state): State<AdminState>,
    RawQuery(query): RawQuery,
    body: String,
) -> Response {
    let Some(level) = &state.live.log_level else {
        return not_installed();
    };
    let mut ttl = None;
    for (key, value) in match pairs(query.as_deref(), &["ttl"]) {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    } {
        if key == "ttl" {
            match parse_duration(value) {
                Ok(d) => ttl = Some(d),
                Err(message) => return bad_request(format!("invalid ttl: {message}")),
            }
        }
    }
    let directives = body.trim();
    if directives.is_empty() {
        return bad_request(
            "expected filter directives in the request body, such as info,indexer::db=debug"
                .to_owned(),
        );
    }
    let applied = match ttl {
        Some(ttl) => level.set_for(directives, ttl),
        None => level.set(directives),
    };
    match applied {
        Ok(()) => {
            tracing::info!(target: "stethoscope", filter = directives, ttl = ?ttl, "log filter changed over the admin server");
            json(StatusCode::OK, level_json(level))
        }
        Err(e) => bad_request(e.to_string()),
    }
}

fn level_json(level: &LogLevel) -> String {
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"filter\":");
    crate::logging::escape::quoted_into(&mut out, &level.current());
    out.extend_from_slice(b",\"permanent\":");
    crate::logging::escape::quoted_into(&mut out, &level.permanent());
    out.extend_from_slice(b",\"reverts_in_seconds\":");
    match level.reverts_in() {
        Some(d) => out.extend_from_slice(format!("{:.3}", d.as_secs_f64()).as_bytes()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b"}\n");
    String::from_utf8(out).unwrap_or_default()
}

/// `GET /debug/logs/recent?n=100&level=debug`: the flight recorder's last lines, oldest first.
pub(super) async fn recent_logs(
    State(state): State<AdminState>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(recorder) = &state.live.recorder else {
        return (
            StatusCode::NOT_FOUND,
            "the flight recorder is off: turn it on with Builder::with_flight_recorder or \
             STETHOSCOPE_FLIGHT_RECORDER=debug\n",
        )
            .into_response();
    };
    let max = recorder.capacity().0;
    let mut n = DEFAULT_RECENT.min(max);
    let mut level = recorder.level();
    for (key, value) in match pairs(query.as_deref(), &["n", "level"]) {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    } {
        match key {
            "n" => match value.parse::<usize>() {
                Ok(v) if (1..=max).contains(&v) => n = v,
                _ => {
                    return bad_request(format!(
                        "invalid n={value:?}: expected a whole number from 1 to {max}"
                    ))
                }
            },
            _ => match parse_level(value) {
                Some(l) => level = l,
                None => {
                    return bad_request(format!(
                        "invalid level={value:?}: expected trace, debug, info, warn or error"
                    ))
                }
            },
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        recorder.recent(n, level),
    )
        .into_response()
}

/// `GET /debug/stethoscope`: configuration (secrets masked) and figures.
pub(super) async fn report(State(state): State<AdminState>) -> Response {
    let mut body = introspection::report(state.config_json.as_deref(), &state.live);
    body.push('\n');
    json(StatusCode::OK, body)
}

fn parse_level(value: &str) -> Option<Level> {
    Some(match value.to_ascii_lowercase().as_str() {
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "info" => Level::INFO,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => return None,
    })
}

/// Splits a query into pairs, accepting only `accepted` keys, each at most once.
fn pairs<'q>(query: Option<&'q str>, accepted: &[&str]) -> Result<Vec<(&'q str, &'q str)>, String> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !accepted.contains(&key) {
            return Err(format!(
                "unknown query parameter {key:?}: accepted are {}",
                accepted.join(", ")
            ));
        }
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!("query parameter {key:?} given twice"));
        }
        out.push((key, value));
    }
    Ok(out)
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message + "\n").into_response()
}

fn not_installed() -> Response {
    (
        StatusCode::NOT_FOUND,
        "stethoscope's logging is not installed in this process\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_accept_only_known_keys_once() {
        assert_eq!(
            pairs(Some("n=5&level=warn"), &["n", "level"])
                .unwrap()
                .len(),
            2
        );
        assert!(pairs(Some("n=5&n=6"), &["n"])
            .unwrap_err()
            .contains("twice"));
        assert!(pairs(Some("x=1"), &["n"]).unwrap_err().contains("unknown"));
        assert!(pairs(None, &["n"]).unwrap().is_empty());
    }
}
