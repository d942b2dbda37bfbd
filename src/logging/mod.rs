//! Structured logging: pino's job, as `tracing-subscriber` layers.
//!
//! * [`JsonLayer`] writes one JSON object per line with the event's fields, the fields of the
//!   spans it is inside (spans are the child loggers), and W3C `trace_id`/`span_id`.
//! * [`PrettyLayer`] writes the same content as readable, coloured lines for development.
//! * [`NonBlocking`] moves the writing to a background thread that batches lines into large
//!   writes and drops (and counts) lines rather than blocking when the destination stalls.
//!
//! Each piece works on its own in any `tracing_subscriber::registry()`; [`crate::init`]
//! assembles them.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use stethoscope::logging::{JsonLayer, NonBlocking};
//!
//! let (writer, _guard) = NonBlocking::builder().spawn(std::io::stdout())?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_subscriber::EnvFilter::new("info"))
//!     .with(JsonLayer::new().with_writer(writer));
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("request", request_id = "r-17");
//!     let _entered = span.enter();
//!     tracing::info!(rows = 500, "batch written"); // carries request_id, span, trace_id
//! });
//! # Ok::<(), stethoscope::Error>(())
//! ```

pub(crate) mod escape;
pub(crate) mod ids;
pub(crate) mod json;
mod keys;
pub(crate) mod line;
mod pretty;
pub(crate) mod redact;
pub(crate) mod span_data;
pub(crate) mod timestamp;
mod visitor;
mod writer;
// Live control: runtime log level, per-callsite rate limit, flight recorder.
pub(crate) mod live_filter;
pub(crate) mod rate_limit;
pub(crate) mod recorder;
mod ring;
pub(crate) mod settings;

pub use json::JsonLayer;
pub use live_filter::{LogLevel, MAX_LOG_LEVEL_TTL};
pub use pretty::PrettyLayer;
pub use rate_limit::{RateLimit, RATE_LIMIT_SUMMARY_INTERVAL};
pub use recorder::{
    FlightRecorder, RecorderDump, RecorderSettings, DEFAULT_RECORDER_BYTES,
    DEFAULT_RECORDER_EVENTS, DEFAULT_RECORDER_LEVEL,
};
pub(crate) use redact::glob;
pub use redact::{DEFAULT_REDACTED_FIELDS, REDACTED};
pub use writer::{LineWriter, NonBlocking, NonBlockingBuilder, WriterGuard, DEFAULT_BUFFER_BYTES};
