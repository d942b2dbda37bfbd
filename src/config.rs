//! Settings read from the environment, each validated into a clear [`Error`].

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON object per line ([`JsonLayer`](crate::logging::JsonLayer)): for production and
    /// log aggregators. The default.
    #[default]
    Json,
    /// Human-readable lines, coloured on a terminal ([`PrettyLayer`](crate::logging::PrettyLayer)):
    /// for development.
    Pretty,
}

impl LogFormat {
    /// Parses `json` or `pretty` (case-insensitive), as accepted in `LOG_FORMAT`.
    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Some(LogFormat::Json),
            "pretty" => Some(LogFormat::Pretty),
            _ => None,
        }
    }
}

/// Where log lines go. Every destination is written by a background thread through
/// [`NonBlocking`](crate::logging::NonBlocking), so a slow destination never blocks the app.
#[non_exhaustive]
#[derive(Default)]
pub enum LogOutput {
    /// Standard output (the default).
    #[default]
    Stdout,
    /// Standard error.
    Stderr,
    /// A file, created or appended to.
    File(PathBuf),
    /// Any writer, e.g. a socket or an in-memory buffer in tests.
    Writer(Box<dyn Write + Send>),
}

impl fmt::Debug for LogOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogOutput::Stdout => f.write_str("Stdout"),
            LogOutput::Stderr => f.write_str("Stderr"),
            LogOutput::File(p) => f.debug_tuple("File").field(p).finish(),
            LogOutput::Writer(_) => f.write_str("Writer(..)"),
        }
    }
}

/// Builds the filter for `directives` (`RUST_LOG` syntax), reporting a bad directive with the
/// parser's message.
pub(crate) fn parse_filter(directives: &str) -> Result<EnvFilter, String> {
    EnvFilter::builder()
        .parse(directives)
        .map_err(|e| format!("{e}; expected comma-separated directives such as \"info\" or \"my_crate=debug,hyper=warn\""))
}

/// Translates `LOG_LEVEL` (the seed's pino levels) into a filter directive.
pub(crate) fn log_level_directive(value: &str) -> Option<&'static str> {
    Some(match value.trim().to_ascii_lowercase().as_str() {
        "trace" => "trace",
        "debug" => "debug",
        "info" => "info",
        "warn" | "warning" => "warn",
        "error" | "fatal" => "error",
        "silent" | "off" => "off",
        _ => return None,
    })
}

/// Splits `STETHOSCOPE_REDACT`-style lists: comma-separated, blanks ignored.
pub(crate) fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_level_accepts_pino_names() {
        assert_eq!(log_level_directive("FATAL"), Some("error"));
        assert_eq!(log_level_directive("silent"), Some("off"));
        assert_eq!(log_level_directive(" debug "), Some("debug"));
        assert_eq!(log_level_directive("loud"), None);
    }

    #[test]
    fn bad_filter_directives_are_reported() {
        assert!(parse_filter("info,my_crate=debug").is_ok());
        let err = parse_filter("my_crate=lots").unwrap_err();
        assert!(err.contains("expected comma-separated directives"), "{err}");
    }
}
