//! [`JsonLayer`]: one JSON object per line, pino's job.

use std::io::{self, Write};
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::escape::quoted_into;
use super::keys::{self, LayerId};
use super::line::{level_str, with_metadata, with_scratch, Fields};
use super::rate_limit::RateLimiter;
use super::recorder::{self, RecorderTap};
use super::redact::Redactor;
use super::span_data::{self, SpanData};
use super::timestamp::Now;
use super::visitor::{Seen, Style, Visitor};
use crate::error::Error;

/// A [`Layer`] that writes every event as one JSON object per line.
///
/// ```json
/// {"timestamp":"2026-11-25T18:08:14.123456Z","level":"info","target":"indexer::db",
///  "message":"batch written","rows":500,"request_id":"r-17","block":812,
///  "span":"write_batch","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
/// ```
///
/// * `timestamp` is RFC 3339 UTC with microseconds; `level` is lowercase.
/// * The event's fields come first, then the fields of every span the event is inside, from
///   the innermost span outwards. **The nearest value wins** on a name clash: an event field
///   hides a span field of the same name, and an inner span's field hides an outer one's. This
///   is how pino's child loggers behave, with spans as the child loggers.
/// * `span`, `trace_id` and `span_id` name the innermost span (absent outside spans). The ids
///   are W3C lowercase hex.
/// * A user field named like one of the keys above is written as `fields.<name>`.
/// * Values: strings escaped per RFC 8259; integers (up to 128 bit) as numbers; floats as
///   numbers, except NaN/±infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`;
///   `Debug`/`Display` values as strings; errors passed as `&dyn Error` as
///   `{"message": "...", "chain": ["cause", ...]}`.
/// * Fields matching a redaction pattern are written as `"[REDACTED]"`; their values are never
///   formatted. [`DEFAULT_REDACTED_FIELDS`](super::DEFAULT_REDACTED_FIELDS) apply unless removed.
///
/// Span fields are serialized once, when the span is created or [`Span::record`]ed, and copied
/// into each line, and each line is built in a reused per-thread buffer: after warm-up an event
/// allocates nothing.
///
/// [`Span::record`]: tracing::Span::record
///
/// # Examples
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let layer = stethoscope::logging::JsonLayer::new()
///     .with_writer(std::io::stderr)
///     .with_constant_field("service", "indexer")
///     .with_redacted_fields(["card_number"])?;
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(card_number = "4111 1111 1111 1111", "payment accepted");
/// });
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Debug)]
pub struct JsonLayer<W = fn() -> io::Stdout> {
    make_writer: W,
    fields: Fields,
    /// Identifies this layer's entries in the per-thread key cache.
    id: LayerId,
    /// Take span ids from the OpenTelemetry layer (installed inside this one) on first enter.
    otel_ids: bool,
    // Live control: per-callsite rate limit and the flight recorder's copy of each line.
    limiter: Option<Arc<RateLimiter>>,
    tap: Option<RecorderTap>,
}

impl JsonLayer {
    /// A layer writing to standard output (synchronously; use [`NonBlocking`](super::NonBlocking)
    /// or [`stethoscope::init`](crate::init) to keep writes off the application's threads),
    /// with the default redactions.
    pub fn new() -> Self {
        JsonLayer {
            make_writer: io::stdout,
            fields: Fields::default(),
            id: LayerId::next(),
            otel_ids: false,
            limiter: None,
            tap: None,
        }
    }
}

impl Default for JsonLayer {
    fn default() -> Self {
        JsonLayer::new()
    }
}

impl<W> JsonLayer<W> {
    /// Sends lines to `make_writer` instead: anything implementing `tracing-subscriber`'s
    /// [`MakeWriter`], e.g. `std::io::stderr`, a [`NonBlocking`](super::NonBlocking), or
    /// `tracing_subscriber::fmt::TestWriter`. Each line is handed over in one `write_all`.
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLayer<W2>
    where
        W2: for<'a> MakeWriter<'a> + 'static,
    {
        JsonLayer {
            make_writer,
            fields: self.fields,
            id: self.id,
            otel_ids: self.otel_ids,
            limiter: self.limiter,
            tap: self.tap,
        }
    }

    /// Adds a field written on every line, e.g. `service`.
    pub fn with_constant_field(mut self, key: &str, value: &str) -> Self {
        self.fields.add_constant(key, value);
        self.id = LayerId::next();
        self
    }

    /// Redacts fields matching `patterns` in addition to those already configured. See
    /// [`DEFAULT_REDACTED_FIELDS`](super::DEFAULT_REDACTED_FIELDS) for the pattern syntax.
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

    /// Removes every redaction pattern, including the defaults.
    pub fn without_redaction(mut self) -> Self {
        self.fields.policy.redactor = Redactor::default();
        self.id = LayerId::next();
        self
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

    pub(crate) fn with_live_control(
        mut self,
        limiter: Option<Arc<RateLimiter>>,
        tap: Option<RecorderTap>,
    ) -> Self {
        self.limiter = limiter;
        self.tap = tap;
        self
    }
}

pub(crate) fn add_patterns<I, S>(redactor: &mut Redactor, patterns: I) -> Result<(), Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    for p in patterns {
        redactor
            .add(p.as_ref())
            .map_err(|why| Error::invalid_config("with_redacted_fields", p.as_ref(), why))?;
    }
    Ok(())
}

impl<S, W> Layer<S> for JsonLayer<W>
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
        let leaf = ctx.event_span(event);
        with_metadata(event, |meta, is_log| {
            if let Some(limiter) = &self.limiter {
                if limiter.suppress(meta, is_log, now.unix_micros()) {
                    // Not for the flight recorder either: a flood must not evict its context.
                    if self.tap.as_ref().is_some_and(|t| t.wants(meta.level())) {
                        recorder::mark_handled(event);
                    }
                    return;
                }
            }
            with_scratch(|scratch| {
                let buf = &mut scratch.buf;
                buf.extend_from_slice(b"{\"timestamp\":\"");
                now.write_rfc3339(buf);
                // Events bridged from `log` share one callsite per level but differ in target,
                // so their header is not cached.
                let keys = keys::lookup(self.id, event.metadata(), &self.fields, Style::Json);
                match &keys {
                    Some(keys) if !is_log => buf.extend_from_slice(&keys.header),
                    _ => {
                        buf.extend_from_slice(b"\",\"level\":\"");
                        buf.extend_from_slice(level_str(meta.level()).as_bytes());
                        buf.extend_from_slice(b"\",\"target\":");
                        quoted_into(buf, meta.target());
                        buf.extend_from_slice(&self.fields.constant_json);
                    }
                }

                // Names are only tracked when spans may repeat them.
                let mut seen = Seen::new(std::mem::take(&mut scratch.names));
                event.record(&mut Visitor {
                    out: buf,
                    redactor: &self.fields.policy.redactor,
                    reserved: &self.fields.policy.reserved,
                    style: Style::Json,
                    seen: leaf.is_some().then_some(&mut seen),
                    is_event: true,
                    skip_log_fields: is_log,
                    keys: keys.as_deref(),
                    on_field: None,
                });

                if let Some(leaf) = leaf {
                    if let Some(data) = leaf.extensions().get::<SpanData>() {
                        if data.chain_is_current() {
                            // The whole span chain's fields, merged when the span was created.
                            data.write_chain_json(buf, &mut seen);
                        } else {
                            // Some span was recorded since: walk leaf → root.
                            data.write_json(buf, &mut seen);
                            let mut next = leaf.parent();
                            while let Some(span) = next {
                                if let Some(data) = span.extensions().get::<SpanData>() {
                                    data.write_json(buf, &mut seen);
                                }
                                next = span.parent();
                            }
                        }
                        buf.extend_from_slice(&data.tail);
                    }
                }
                buf.extend_from_slice(b"}\n");
                scratch.names = seen.into_names();
                // A failing destination must not disturb the application; writers that need
                // to report loss (NonBlocking) count it themselves.
                let _ = self.make_writer.make_writer_for(meta).write_all(buf);
                if let Some(tap) = &self.tap {
                    if tap.wants(meta.level()) {
                        tap.record(event, *meta.level(), buf);
                    }
                }
            });
        });
    }
}
