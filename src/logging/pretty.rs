//! [`PrettyLayer`]: one readable, optionally coloured line per event for development
//! (pino-pretty's job). Same fields, same redaction, same span context as the JSON layer.

use std::io::{self, Write};
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::json::add_patterns;
use super::keys::{self, LayerId};
use super::line::{with_metadata, with_scratch, Fields};
use super::rate_limit::RateLimiter;
use super::span_data::{self, SpanData};
use super::timestamp::Now;
use super::visitor::{Seen, Style, Visitor};
use crate::error::Error;

const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// A [`Layer`] writing human-readable lines:
///
/// ```text
/// 18:08:14.123456  INFO request > write_batch indexer::db: batch written rows=500 request_id="r-17"
/// ```
///
/// Time of day (UTC), level, the span path from the outermost span in, the target, the message,
/// then the event's and spans' fields with the same nearest-wins rule and redaction as
/// [`JsonLayer`](super::JsonLayer).
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let layer = stethoscope::logging::PrettyLayer::new().with_ansi(false).with_writer(std::io::stderr);
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(user = "ada", "signed in");
/// });
/// ```
#[derive(Debug)]
pub struct PrettyLayer<W = fn() -> io::Stdout> {
    make_writer: W,
    fields: Fields,
    /// Identifies this layer's entries in the per-thread key cache.
    id: LayerId,
    ansi: bool,
    /// Take span ids from the OpenTelemetry layer (installed inside this one) on first enter.
    otel_ids: bool,
    // Live control: per-callsite rate limit.
    limiter: Option<Arc<RateLimiter>>,
}

impl PrettyLayer {
    /// A layer writing to standard output, coloured when standard output is a terminal and
    /// `NO_COLOR` is unset.
    pub fn new() -> Self {
        use std::io::IsTerminal;
        PrettyLayer {
            make_writer: io::stdout,
            fields: Fields::default(),
            id: LayerId::next(),
            otel_ids: false,
            limiter: None,
            ansi: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

impl Default for PrettyLayer {
    fn default() -> Self {
        PrettyLayer::new()
    }
}

impl<W> PrettyLayer<W> {
    /// Sends lines to `make_writer` instead (see [`JsonLayer::with_writer`](super::JsonLayer::with_writer)).
    pub fn with_writer<W2>(self, make_writer: W2) -> PrettyLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        PrettyLayer {
            make_writer,
            fields: self.fields,
            id: self.id,
            otel_ids: self.otel_ids,
            limiter: self.limiter,
            ansi: self.ansi,
        }
    }

    /// Turns ANSI colours on or off.
    pub fn with_ansi(mut self, ansi: bool) -> Self {
        self.ansi = ansi;
        self
    }

    /// Adds a field written on every line.
    pub fn with_constant_field(mut self, key: &str, value: &str) -> Self {
        self.fields.add_constant(key, value);
        self.id = LayerId::next();
        self
    }

    /// Redacts fields matching `patterns` in addition to those already configured.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an empty pattern or one made only of `*`.
    pub fn with_redacted_fields<I, S>(mut self, patterns: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        add_patterns(&mut self.fields.policy.redactor, patterns)?;
        self.id = LayerId::next();
        Ok(self)
    }

    pub(crate) fn with_otel_ids(mut self, otel_ids: bool) -> Self {
        self.otel_ids = otel_ids;
        self
    }

    pub(crate) fn with_fields(mut self, fields: Fields) -> Self {
        self.fields = fields;
        self.id = LayerId::next();
        self
    }

    pub(crate) fn with_rate_limiter(mut self, limiter: Option<Arc<RateLimiter>>) -> Self {
        self.limiter = limiter;
        self
    }
}

fn level_label(level: &Level, ansi: bool) -> &'static str {
    match (*level, ansi) {
        (Level::TRACE, false) => "TRACE",
        (Level::DEBUG, false) => "DEBUG",
        (Level::INFO, false) => " INFO",
        (Level::WARN, false) => " WARN",
        (Level::ERROR, false) => "ERROR",
        (Level::TRACE, true) => "\x1b[35mTRACE\x1b[0m",
        (Level::DEBUG, true) => "\x1b[34mDEBUG\x1b[0m",
        (Level::INFO, true) => "\x1b[32m INFO\x1b[0m",
        (Level::WARN, true) => "\x1b[33m WARN\x1b[0m",
        (Level::ERROR, true) => "\x1b[31mERROR\x1b[0m",
    }
}

impl<S, W> Layer<S> for PrettyLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'a> MakeWriter<'a> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        span_data::on_new_span(attrs, id, &ctx, &self.fields, self.id);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        span_data::on_record(id, values, &ctx, &self.fields, self.id);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.otel_ids {
            span_data::adopt_otel_ids(id, &ctx);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let now = Now::read();
        let (dim, reset) = if self.ansi { (DIM, RESET) } else { ("", "") };
        with_metadata(event, |meta, is_log| {
            if let Some(limiter) = &self.limiter {
                if limiter.suppress(meta, is_log, now.unix_micros()) {
                    return;
                }
            }
            with_scratch(|scratch| {
                let buf = &mut scratch.buf;
                buf.extend_from_slice(dim.as_bytes());
                now.write_time_of_day(buf);
                buf.extend_from_slice(reset.as_bytes());
                buf.push(b' ');
                buf.extend_from_slice(level_label(meta.level(), self.ansi).as_bytes());
                buf.push(b' ');
                let leaf = ctx.event_span(event);
                if let Some(leaf) = &leaf {
                    for (i, span) in leaf.scope().from_root().enumerate() {
                        if i > 0 {
                            buf.extend_from_slice(b" > ");
                        }
                        buf.extend_from_slice(span.name().as_bytes());
                    }
                    buf.push(b' ');
                }
                buf.extend_from_slice(dim.as_bytes());
                buf.extend_from_slice(meta.target().as_bytes());
                buf.push(b':');
                buf.extend_from_slice(reset.as_bytes());
                let keys = keys::lookup(self.id, event.metadata(), &self.fields, Style::Pretty);
                let mut seen = Seen::new(std::mem::take(&mut scratch.names));
                event.record(&mut Visitor {
                    out: buf,
                    redactor: &self.fields.policy.redactor,
                    reserved: &self.fields.policy.reserved,
                    style: Style::Pretty,
                    seen: Some(&mut seen),
                    is_event: true,
                    skip_log_fields: is_log,
                    keys: keys.as_deref(),
                    on_field: None,
                });
                if let Some(leaf) = &leaf {
                    for span in leaf.scope() {
                        if let Some(data) = span.extensions().get::<SpanData>() {
                            data.write_pretty(buf, &mut seen, &self.fields.policy);
                        }
                    }
                }
                buf.extend_from_slice(&self.fields.constant_pretty);
                buf.push(b'\n');
                scratch.names = seen.into_names();
                let _ = self.make_writer.make_writer_for(meta).write_all(buf);
            });
        });
    }
}
