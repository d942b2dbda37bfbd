//! The live-control settings of [`Builder`] (rate limit, flight recorder), their setters and
//! their environment variables.

use tracing_core::Level;

use super::rate_limit::RateLimit;
use super::recorder::RecorderSettings;
use crate::error::Error;
use crate::init::Builder;

/// What [`Builder`] knows about live log control.
#[derive(Clone, Debug)]
pub(crate) struct LiveSettings {
    /// Off by default: see [`Builder::with_log_rate_limit`].
    pub(crate) rate_limit: Option<RateLimit>,
    /// On by default, at `debug`.
    pub(crate) recorder: Option<RecorderSettings>,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            rate_limit: None,
            recorder: Some(RecorderSettings::default()),
        }
    }
}

impl LiveSettings {
    /// Applies `STETHOSCOPE_LOG_RATE_LIMIT` and `STETHOSCOPE_FLIGHT_RECORDER` (empty values
    /// already filtered out by the caller).
    pub(crate) fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("STETHOSCOPE_LOG_RATE_LIMIT") {
            self.rate_limit = RateLimit::parse_env(&v)
                .map_err(|why| Error::invalid_env("STETHOSCOPE_LOG_RATE_LIMIT", &v, why))?;
        }
        if let Some(v) = get("STETHOSCOPE_FLIGHT_RECORDER") {
            let value = v.trim().to_ascii_lowercase();
            if value == "off" {
                self.recorder = None;
            } else {
                let level = parse_level(&value).ok_or_else(|| {
                    Error::invalid_env(
                        "STETHOSCOPE_FLIGHT_RECORDER",
                        &v,
                        "expected the most verbose level to record (\"trace\", \"debug\", \"info\", \"warn\", \"error\") or \"off\"",
                    )
                })?;
                self.recorder
                    .get_or_insert_with(RecorderSettings::default)
                    .level = level;
            }
        }
        Ok(())
    }
}

fn parse_level(value: &str) -> Option<Level> {
    Some(match value {
        "trace" => Level::TRACE,
        "debug" => Level::DEBUG,
        "info" => Level::INFO,
        "warn" => Level::WARN,
        "error" => Level::ERROR,
        _ => return None,
    })
}

/// Live log control: rate limit and flight recorder (the runtime log level needs no setting:
/// see [`Guard::log_level`](crate::Guard::log_level)).
impl Builder {
    /// Limits how many lines each callsite (each `info!` in the code) may write per second,
    /// like `STETHOSCOPE_LOG_RATE_LIMIT=100/s,burst=1000`; `None` (the default) writes every
    /// line.
    ///
    /// Lines over budget are dropped before they are formatted, counted in
    /// `stethoscope_log_lines_suppressed_total{target}`, and summarized once per second per
    /// callsite as a `warn` line `suppressed N events from <target> (<file:line>) in the last
    /// Xs` (the last summaries are written when the [`Guard`](crate::Guard) shuts down).
    /// `error` lines are never suppressed unless [`RateLimit::with_errors_limited`] says so,
    /// and panic lines never are.
    ///
    /// Off by default because no budget fits every callsite: an access log at 10,000 requests
    /// per second is one callsite writing 10,000 useful lines a second, and silently dropping
    /// them would be worse than the cost. The non-blocking writer already keeps a flood from
    /// blocking the application; turn this on to keep one runaway callsite from drowning the
    /// others (and the log bill).
    pub fn with_log_rate_limit(mut self, limit: Option<RateLimit>) -> Self {
        self.live.rate_limit = limit;
        self
    }

    /// Configures the flight recorder (on by default: the last
    /// [`DEFAULT_RECORDER_EVENTS`](crate::logging::DEFAULT_RECORDER_EVENTS) events at `debug`
    /// and above, whatever the output filter), or turns it off with `None`
    /// (`STETHOSCOPE_FLIGHT_RECORDER=off`; a level such as `trace` there sets its level).
    ///
    /// Its lines are served at `GET /debug/logs/recent` on the admin server, read with
    /// [`Guard::flight_recorder`](crate::Guard::flight_recorder), and written out by the panic
    /// hook.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero events or fewer than 1,024 bytes.
    pub fn with_flight_recorder(
        mut self,
        settings: Option<RecorderSettings>,
    ) -> Result<Self, Error> {
        if let Some(s) = &settings {
            if s.events == 0 || s.bytes < 1024 {
                return Err(Error::invalid_config(
                    "with_flight_recorder",
                    format!("{} events, {} bytes", s.events, s.bytes),
                    "expected at least 1 event and 1024 bytes, or None to turn the recorder off",
                ));
            }
        }
        self.live.recorder = settings;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_values_name_the_variable() {
        let mut s = LiveSettings::default();
        let err = s
            .apply_env(&|v| (v == "STETHOSCOPE_LOG_RATE_LIMIT").then(|| "lots".to_string()))
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid STETHOSCOPE_LOG_RATE_LIMIT=\"lots\": expected \"off\""),
            "{err}"
        );
        let err = s
            .apply_env(&|v| (v == "STETHOSCOPE_FLIGHT_RECORDER").then(|| "loud".to_string()))
            .unwrap_err();
        assert!(err.is_invalid_env());
    }

    #[test]
    fn the_environment_sets_both() {
        let mut s = LiveSettings::default();
        s.apply_env(&|v| match v {
            "STETHOSCOPE_LOG_RATE_LIMIT" => Some("100/s,burst=1000".into()),
            "STETHOSCOPE_FLIGHT_RECORDER" => Some("TRACE".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(s.rate_limit.unwrap().burst, 1000);
        assert_eq!(s.recorder.as_ref().unwrap().level, Level::TRACE);
        s.apply_env(&|v| (v == "STETHOSCOPE_FLIGHT_RECORDER").then(|| "off".into()))
            .unwrap();
        assert!(s.recorder.is_none());
    }
}
