//! `/debug/pprof/profile` and `/debug/pprof/flamegraph`: CPU profiles captured on request.
//!
//! The capture waits on a thread of its own ([`crate::profile::cpu::capture`]), so the admin
//! runtime keeps answering `/metrics` meanwhile. A client that hangs up ends its capture: axum
//! drops the handler's future, and dropping `capture`'s future stops it, so an abandoned
//! `seconds=300` does not hold the process-wide profiler (`409` for everyone else, the
//! blocked-runtime watchdog included) for five minutes.

use std::time::Duration;

use axum::extract::RawQuery;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::profile::cpu::{self, DEFAULT_FREQUENCY, MAX_FREQUENCY};
use crate::profile::FlameGraphOptions;

/// `seconds` when the request has none, as Go's `net/http/pprof`.
const DEFAULT_SECONDS: u64 = 10;
/// The longest capture a request may ask for.
const MAX_SECONDS: u64 = 300;

/// `GET /debug/pprof/profile?seconds=N[&frequency=F]`: gzip'd pprof protobuf, what
/// `go tool pprof http://host:port/debug/pprof/profile?seconds=N` expects.
pub(super) async fn pprof(RawQuery(query): RawQuery) -> Response {
    let params = match Params::parse(query.as_deref(), &["seconds", "frequency"]) {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    let bytes = cpu::capture(params.duration, params.frequency)
        .await
        .and_then(|profile| profile.pprof_gz());
    match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"profile\"",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}

/// `GET /debug/pprof/flamegraph?seconds=N[&frequency=F][&format=svg|folded][&icicle=true]`.
pub(super) async fn flamegraph(RawQuery(query): RawQuery) -> Response {
    let accepted = ["seconds", "frequency", "format", "icicle", "threads"];
    let params = match Params::parse(query.as_deref(), &accepted) {
        Ok(p) => p,
        Err(message) => return bad_request(message),
    };
    let profile = match cpu::capture(params.duration, params.frequency).await {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    if params.folded {
        return (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            profile.folded(),
        )
            .into_response();
    }
    let options = FlameGraphOptions::default()
        .icicle(params.icicle)
        .thread_roots(params.threads);
    match profile.flamegraph(&options) {
        Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
        Err(e) => error_response(&e),
    }
}

/// The one place profiling errors become statuses.
pub(super) fn error_response(err: &Error) -> Response {
    let status = match err {
        Error::ProfilerBusy | Error::DoctorBusy => StatusCode::CONFLICT,
        Error::ProfilingUnsupported => StatusCode::NOT_IMPLEMENTED,
        Error::InvalidConfig { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, format!("{err}\n")).into_response()
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, message + "\n").into_response()
}

/// The query parameters of both endpoints, validated.
#[derive(Debug, PartialEq)]
struct Params {
    duration: Duration,
    frequency: u32,
    folded: bool,
    icicle: bool,
    threads: bool,
}

impl Params {
    /// Parses `query`, accepting only the `accepted` keys; the error is the response text.
    fn parse(query: Option<&str>, accepted: &[&str]) -> Result<Params, String> {
        let mut params = Params {
            duration: Duration::from_secs(DEFAULT_SECONDS),
            frequency: DEFAULT_FREQUENCY,
            folded: false,
            icicle: false,
            threads: false,
        };
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
            match key {
                "seconds" => {
                    let seconds = number(key, value, 1, MAX_SECONDS)?;
                    params.duration = Duration::from_secs(seconds);
                }
                "frequency" => {
                    params.frequency = number(key, value, 1, u64::from(MAX_FREQUENCY))? as u32;
                }
                "format" => {
                    params.folded = match value {
                        "svg" => false,
                        "folded" => true,
                        _ => {
                            return Err(format!("invalid format={value:?}: expected svg or folded"))
                        }
                    }
                }
                _ => {
                    let flag = match value {
                        "" | "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(format!("invalid {key}={value:?}: expected true or false"))
                        }
                    };
                    if key == "icicle" {
                        params.icicle = flag;
                    } else {
                        params.threads = flag;
                    }
                }
            }
        }
        Ok(params)
    }
}

pub(super) fn number(key: &str, value: &str, min: u64, max: u64) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            format!("invalid {key}={value:?}: expected a whole number from {min} to {max}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[&str] = &["seconds", "frequency", "format", "icicle", "threads"];

    #[test]
    fn defaults_and_every_parameter() {
        let p = Params::parse(None, ALL).unwrap();
        assert_eq!(p.duration, Duration::from_secs(10));
        assert_eq!(p.frequency, 99);
        let p = Params::parse(
            Some("seconds=3&frequency=250&format=folded&icicle=true&threads"),
            ALL,
        )
        .unwrap();
        assert_eq!(
            p,
            Params {
                duration: Duration::from_secs(3),
                frequency: 250,
                folded: true,
                icicle: true,
                threads: true,
            }
        );
    }

    #[test]
    fn bad_values_say_what_is_accepted() {
        let err = |q| Params::parse(Some(q), ALL).unwrap_err();
        assert_eq!(
            err("seconds=0"),
            "invalid seconds=\"0\": expected a whole number from 1 to 300"
        );
        assert!(err("seconds=301").contains("from 1 to 300"));
        assert!(err("seconds=-1").contains("whole number"));
        assert!(err("frequency=1001").contains("from 1 to 1000"));
        assert!(err("format=png").contains("svg or folded"));
        assert!(err("icicle=yes").contains("true or false"));
        assert!(err("secs=5").contains("unknown query parameter \"secs\""));
        assert!(Params::parse(Some("format=svg"), &["seconds"]).is_err());
    }
}
