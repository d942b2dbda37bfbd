//! The flight recorder: the last events, including those below the output filter, kept in
//! memory as JSON lines, served at `/debug/logs/recent` and written out by the panic hook, so
//! that the context before a crash survives even at `info` in production.
//!
//! How it gets events the output filter rejects: the output layers sit behind a per-layer
//! filter (the [`LogLevel`](super::LogLevel) one) and the recorder behind its own,
//! [`RecorderFilter`], which takes every event up to its level. An event both want is formatted
//! once: the JSON output layer copies its finished line into the ring and marks the event as
//! recorded for this thread, and the recorder layer, which runs next, skips it. Only events the
//! output does not write (below its filter, or with the pretty format) are formatted by the
//! recorder itself.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Event, Interest, Level, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Filter, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::line::Fields;
use super::live_filter::LiveFilter;
use super::ring::{rank, Ring};
use super::JsonLayer;

/// Events the flight recorder keeps by default.
pub const DEFAULT_RECORDER_EVENTS: usize = 10_000;
/// Bytes the flight recorder keeps at most by default (about 27,000 lines of 300 bytes, so the
/// event bound is usually the one that applies).
pub const DEFAULT_RECORDER_BYTES: usize = 8 * 1024 * 1024;
/// The level the flight recorder records at by default, whatever the output filter.
pub const DEFAULT_RECORDER_LEVEL: Level = Level::DEBUG;

/// Where the panic hook writes the flight recorder's lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecorderDump {
    /// Standard error (the default).
    #[default]
    Stderr,
    /// A file, created or appended to.
    File(PathBuf),
    /// Nowhere: the recorder is only read over HTTP.
    Off,
}

/// The flight recorder's settings; start from `RecorderSettings::default()`.
///
/// ```
/// use stethoscope::logging::{RecorderDump, RecorderSettings};
///
/// let mut recorder = RecorderSettings::default();
/// recorder.level = stethoscope::Level::TRACE;
/// recorder.dump = RecorderDump::File("/var/log/indexer-crash.jsonl".into());
/// let builder = stethoscope::Stethoscope::builder().with_flight_recorder(Some(recorder))?;
/// # drop(builder);
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecorderSettings {
    /// The most verbose level recorded (default [`DEFAULT_RECORDER_LEVEL`], `debug`).
    pub level: Level,
    /// Lines kept (default [`DEFAULT_RECORDER_EVENTS`]).
    pub events: usize,
    /// Bytes kept (default [`DEFAULT_RECORDER_BYTES`]).
    pub bytes: usize,
    /// Where a panic writes the lines recorded since the previous panic (default stderr).
    pub dump: RecorderDump,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        RecorderSettings {
            level: DEFAULT_RECORDER_LEVEL,
            events: DEFAULT_RECORDER_EVENTS,
            bytes: DEFAULT_RECORDER_BYTES,
            dump: RecorderDump::Stderr,
        }
    }
}

/// Read access to the flight recorder, from
/// [`Guard::flight_recorder`](crate::Guard::flight_recorder).
#[derive(Clone)]
pub struct FlightRecorder {
    ring: Arc<Ring>,
    level: Level,
    dump: RecorderDump,
}

impl fmt::Debug for FlightRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lines, bytes) = self.ring.held();
        f.debug_struct("FlightRecorder")
            .field("level", &self.level)
            .field("lines", &lines)
            .field("bytes", &bytes)
            .finish()
    }
}

impl FlightRecorder {
    pub(crate) fn new(settings: &RecorderSettings) -> Self {
        FlightRecorder {
            ring: Arc::new(Ring::new(settings.events, settings.bytes)),
            level: settings.level,
            dump: settings.dump.clone(),
        }
    }

    /// The last `n` recorded lines at least as severe as `level`, oldest first, as JSON lines
    /// (each ending in `\n`).
    pub fn recent(&self, n: usize, level: Level) -> Vec<u8> {
        self.ring.recent(n, rank(level))
    }

    /// The most verbose level recorded.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Where the panic hook writes the recorded lines.
    pub(crate) fn dump(&self) -> &RecorderDump {
        &self.dump
    }

    /// Lines recorded since start, including those evicted since.
    pub fn recorded(&self) -> u64 {
        self.ring
            .recorded
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Lines and bytes held now.
    pub fn held(&self) -> (usize, usize) {
        self.ring.held()
    }

    /// The bounds: lines, bytes.
    pub fn capacity(&self) -> (usize, usize) {
        self.ring.bounds()
    }

    /// Writes every line recorded since the previous call, framed by two JSON lines saying
    /// what they are; returns how many were written.
    pub(crate) fn dump_new(&self, out: &mut dyn io::Write, why: &str) -> io::Result<usize> {
        let (lines, count) = self.ring.take_undumped();
        let mut frame = Vec::with_capacity(200);
        frame.extend_from_slice(b"{\"target\":\"stethoscope::flight_recorder\",\"message\":");
        super::escape::quoted_into(
            &mut frame,
            &format!("flight recorder: the {count} events recorded before {why}"),
        );
        frame.extend_from_slice(b",\"events\":");
        frame.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
        frame.extend_from_slice(b"}\n");
        out.write_all(&frame)?;
        out.write_all(&lines)?;
        out.write_all(
            b"{\"target\":\"stethoscope::flight_recorder\",\"message\":\"flight recorder: end\"}\n",
        )?;
        out.flush()?;
        Ok(count)
    }

    pub(crate) fn tap(&self) -> RecorderTap {
        RecorderTap {
            ring: Arc::clone(&self.ring),
            level: LevelFilter::from_level(self.level),
        }
    }

    /// The layer that records what the output layers did not, behind its filter.
    pub(crate) fn layer(&self, fields: Fields) -> RecorderLayer {
        RecorderLayer {
            json: JsonLayer::new()
                .with_fields(fields)
                .with_writer(RingWriter {
                    ring: Arc::clone(&self.ring),
                }),
        }
    }

    pub(crate) fn filter(&self, output: LiveFilter) -> RecorderFilter {
        RecorderFilter {
            output,
            level: LevelFilter::from_level(self.level),
        }
    }
}

/// What the JSON output layer needs to copy its lines into the ring.
#[derive(Clone, Debug)]
pub(crate) struct RecorderTap {
    ring: Arc<Ring>,
    level: LevelFilter,
}

thread_local! {
    /// The address of the event this thread's output layer just recorded (0: none). Set and
    /// consumed within one event's dispatch, in which the recorder layer always runs after the
    /// output layers.
    static RECORDED: Cell<usize> = const { Cell::new(0) };
}

fn address(event: &Event<'_>) -> usize {
    event as *const Event<'_> as usize
}

impl RecorderTap {
    /// Whether the recorder layer will see `meta`'s event (its filter is by level only).
    #[inline]
    pub(crate) fn wants(&self, level: &Level) -> bool {
        *level <= self.level
    }

    /// Records `line` for `event` and tells the recorder layer it is done.
    #[inline]
    pub(crate) fn record(&self, event: &Event<'_>, level: Level, line: &[u8]) {
        self.ring.push(level, line);
        mark_handled(event);
    }
}

/// Tells the recorder layer to skip `event` (already recorded, or deliberately not).
#[inline]
pub(crate) fn mark_handled(event: &Event<'_>) {
    let _ = RECORDED.try_with(|r| r.set(address(event)));
}

/// The recorder's filter: every event up to its level; spans exactly as the output filter
/// decides, so that no span is created only for the recorder and its lines carry the same span
/// context as the output's.
#[derive(Clone, Debug)]
pub(crate) struct RecorderFilter {
    output: LiveFilter,
    level: LevelFilter,
}

impl<S> Filter<S> for RecorderFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        if meta.is_span() {
            self.output.enabled_for(meta, cx)
        } else {
            *meta.level() <= self.level
        }
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() {
            self.output.interest::<S>(meta)
        } else if *meta.level() <= self.level {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(
            self.output
                .level_hint()
                .map_or(self.level, |h| h.max(self.level)),
        )
    }
}

/// Formats the events the output layers did not record, into the ring.
#[derive(Debug)]
pub(crate) struct RecorderLayer {
    json: JsonLayer<RingWriter>,
}

impl<S> Layer<S> for RecorderLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.json.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.json.on_record(id, values, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let done = RECORDED
            .try_with(|r| r.replace(0) == address(event))
            .unwrap_or(false);
        if !done {
            self.json.on_event(event, ctx);
        }
    }
}

/// A [`MakeWriter`] whose writer stores each line in the ring with its event's level.
#[derive(Clone, Debug)]
pub(crate) struct RingWriter {
    ring: Arc<Ring>,
}

/// One line on its way into the ring.
#[derive(Debug)]
pub(crate) struct RingLine<'a> {
    ring: &'a Ring,
    level: Level,
}

impl io::Write for RingLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.ring.push(self.level, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RingWriter {
    type Writer = RingLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        RingLine {
            ring: &self.ring,
            level: Level::INFO,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        RingLine {
            ring: &self.ring,
            level: *meta.level(),
        }
    }
}
