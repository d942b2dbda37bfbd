//! `GET /debug/doctor?seconds=N&format=html|json|text`: observe the application for N seconds
//! and answer with the doctor's report.
//!
//! The window is sampled on a thread of its own and watches the application's runtime (the
//! one `install` was called in), not the admin server's; limits and statuses are those of
//! `/debug/pprof/profile`: at most 300 s, `400` with a message for a bad parameter, `409`
//! while another CPU profile is being captured (the report includes one). One window runs at
//! a time (`409` for a second request meanwhile), and a client that hangs up ends its window,
//! freeing the doctor and the profiler at once.

use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::profile_routes::{error_response, number};
use super::routes::AdminState;
use crate::doctor::{Doctor, MAX_WINDOW};
use crate::error::Error;
use crate::profile::cpu::OneAtATime;

/// One window at a time: two would only compete for the CPU profiler and watch each other's
/// sampling cost.
static DOCTOR: OneAtATime = OneAtATime::new();

/// `seconds` when the request has none.
const DEFAULT_SECONDS: u64 = 10;

/// The parameters this endpoint accepts.
const ACCEPTED: [&str; 3] = ["seconds", "format", "profile"];

#[derive(Debug, PartialEq)]
enum Format {
    Html,
    Json,
    Text,
}

#[derive(Debug, PartialEq)]
struct Params {
    window: Duration,
    format: Format,
    profile: bool,
}

impl Params {
    fn parse(query: Option<&str>) -> Result<Params, String> {
        let mut params = Params {
            window: Duration::from_secs(DEFAULT_SECONDS),
            format: Format::Html,
            profile: true,
        };
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "seconds" => {
                    let seconds = number(key, value, 1, MAX_WINDOW.as_secs())?;
                    params.window = Duration::from_secs(seconds);
                }
                "format" => {
                    params.format = match value {
                        "html" => Format::Html,
                        "json" => Format::Json,
                        "text" => Format::Text,
                        _ => {
                            return Err(format!(
                                "invalid format={value:?}: expected html, json or text"
                            ))
                        }
                    }
                }
                "profile" => {
                    params.profile = match value {
                        "" | "true" | "1" => true,
                        "false" | "0" => false,
                        _ => {
                            return Err(format!(
                                "invalid profile={value:?}: expected true or false"
                            ))
                        }
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown query parameter {key:?}: accepted are {}",
                        ACCEPTED.join(", ")
                    ))
                }
            }
        }
        Ok(params)
    }
}

/// The doctor the endpoint runs: the application's runtime and operation stats. Memory inputs
/// (heap live bytes, allocation totals, live types) are wired here when the heap pillar is on.
fn doctor_for(state: &AdminState, profile: bool) -> Doctor {
    // The admin server's own runtime is never the one to watch.
    let mut doctor = Doctor::new()
        .with_cpu_profile(profile)
        .without_current_runtime();
    if let Some(runtime) = &state.runtime {
        doctor = doctor.with_runtime(runtime.clone());
    }
    if let Some(stats) = &state.operations {
        doctor = doctor.with_operation_stats(stats.clone());
    }
    doctor.with_stethoscope_heap()
}

pub(super) async fn doctor(State(state): State<AdminState>, RawQuery(query): RawQuery) -> Response {
    let params = match Params::parse(query.as_deref()) {
        Ok(p) => p,
        Err(message) => return (StatusCode::BAD_REQUEST, message + "\n").into_response(),
    };
    // Held until the report is rendered, or until axum drops this future because the client
    // hung up (which also ends the window).
    let Some(_running) = DOCTOR.try_hold() else {
        return error_response(&Error::DoctorBusy);
    };
    let report = match doctor_for(&state, params.profile)
        .observe(params.window)
        .await
    {
        Ok(report) => report,
        Err(e) => return error_response(&e),
    };
    match params.format {
        Format::Html => (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            report.to_html(),
        )
            .into_response(),
        Format::Json => (
            [(header::CONTENT_TYPE, "application/json")],
            report.to_json(),
        )
            .into_response(),
        Format::Text => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            report.to_text(),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_every_parameter_and_clear_errors() {
        let p = Params::parse(None).unwrap();
        assert_eq!(
            p,
            Params {
                window: Duration::from_secs(10),
                format: Format::Html,
                profile: true
            }
        );
        let p = Params::parse(Some("seconds=3&format=json&profile=false")).unwrap();
        assert_eq!(
            (p.window.as_secs(), p.format, p.profile),
            (3, Format::Json, false)
        );
        let err = |q| Params::parse(Some(q)).unwrap_err();
        assert!(err("seconds=0").contains("from 1 to 300"));
        assert!(err("seconds=301").contains("from 1 to 300"));
        assert!(err("format=pdf").contains("html, json or text"));
        assert!(err("profile=maybe").contains("true or false"));
        assert!(err("secs=3").contains("unknown query parameter \"secs\""));
    }
}
