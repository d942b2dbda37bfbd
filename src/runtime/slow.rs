//! [`SlowOpLayer`]: logs spans slower than a threshold, with the time they spent executing
//! (entered, i.e. being polled) and waiting.

use std::fmt;
use std::time::Duration;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use metrics::counter;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::names::TOKIO_SLOW_POLLS_TOTAL;
use super::operations::OperationStats;
use super::timing::{self, Owner};
use super::DEFAULT_SLOW_THRESHOLD;
use crate::logging::glob;
use crate::logging::span_data::SpanData;

/// The span field that overrides the threshold for one span, in milliseconds: a span created
/// with `slow_ms = 5` is logged when it takes longer than 5 ms.
pub const SLOW_MS_FIELD: &str = "slow_ms";

/// A `tracing` layer that emits one `warn` event, "slow operation", for every span whose wall
/// time (creation to close) exceeds a threshold (default [`DEFAULT_SLOW_THRESHOLD`], 100 ms;
/// `STETHOSCOPE_SLOW_MS` when installed by [`Builder`](crate::Builder)).
///
/// The event is a child of the slow span, so the span's fields and `trace_id` are on the line,
/// and carries `span_name`, `span_target`, `duration_ms`, `busy_ms` (time the span was entered:
/// for an instrumented future, time being polled) and `idle_ms` (the rest: waiting for I/O,
/// timers, locks or a worker). Its target is `stethoscope::slow`.
///
/// It composes with any subscriber that has a registry:
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(stethoscope::logging::JsonLayer::new())
///     .with(stethoscope::runtime::SlowOpLayer::new().with_threshold(Duration::from_millis(250)));
/// tracing::subscriber::with_default(subscriber, || {
///     // This span is logged if it takes longer than 5 ms, whatever the layer's threshold.
///     let _span = tracing::info_span!("flush", slow_ms = 5).entered();
/// });
/// ```
///
/// Cost: a clock read and a thread-local push per enter, one span lookup per exit and per
/// close; see `docs/performance.md`. Inside [`Builder`](crate::Builder)'s stack the timing
/// lives in the output layer's span data, so span creation costs nothing extra either.
#[derive(Clone, Debug)]
pub struct SlowOpLayer {
    owner: Owner,
    threshold_ns: u64,
    /// `(span-name glob, threshold)`, first match wins; checked only for spans that closed
    /// slower than the smallest threshold.
    by_name: Arc<[(Box<str>, u64)]>,
    /// Smallest of `threshold_ns` and every `by_name` threshold.
    min_threshold_ns: u64,
    poll_threshold_ns: Option<u64>,
    stats: Option<OperationStats>,
    /// Time spans in the [`SpanData`] stethoscope's output layer keeps (set by
    /// [`Builder`](crate::Builder)) instead of an extension of our own.
    shared: bool,
}

impl Default for SlowOpLayer {
    fn default() -> Self {
        SlowOpLayer::new()
    }
}

impl SlowOpLayer {
    /// A layer with the default threshold, [`DEFAULT_SLOW_THRESHOLD`], and slow polls off.
    pub fn new() -> Self {
        SlowOpLayer {
            owner: Owner::next(),
            threshold_ns: nanos(DEFAULT_SLOW_THRESHOLD),
            by_name: Arc::new([]),
            min_threshold_ns: nanos(DEFAULT_SLOW_THRESHOLD),
            poll_threshold_ns: None,
            stats: None,
            shared: false,
        }
    }

    /// Logs spans slower than `threshold`.
    #[must_use]
    pub fn with_threshold(mut self, threshold: Duration) -> Self {
        self.threshold_ns = nanos(threshold);
        self.update_min();
        self
    }

    /// Logs spans whose name matches `pattern` when slower than `threshold` instead of the
    /// layer's threshold. `pattern` is a span name where `*` matches any run of characters
    /// (`db_*`, `*_rpc`), compared case-insensitively; the first matching pattern wins. A
    /// span's own [`SLOW_MS_FIELD`] overrides both.
    #[must_use]
    pub fn with_threshold_for(mut self, pattern: &str, threshold: Duration) -> Self {
        let mut rules: Vec<(Box<str>, u64)> = self.by_name.iter().cloned().collect();
        rules.push((pattern.into(), nanos(threshold)));
        self.by_name = rules.into();
        self.update_min();
        self
    }

    /// Also logs every *poll* longer than `threshold` (suggested: [`DEFAULT_SLOW_POLL_THRESHOLD`](super::DEFAULT_SLOW_POLL_THRESHOLD),
    /// 10 ms) as "slow poll": one stretch of a span being entered without a break, on a thread
    /// running a tokio task. For an instrumented future that is one `poll` that kept its worker
    /// thread from every other task — the Rust form of "who blocked the event loop". Counted in
    /// [`TOKIO_SLOW_POLLS_TOTAL`](super::names::TOKIO_SLOW_POLLS_TOTAL)`{span}`.
    ///
    /// A span entered inside a `spawn_blocking` closure is on a thread running a (blocking)
    /// task too and is reported the same way, although it blocks no worker.
    #[must_use]
    pub fn with_slow_polls(mut self, threshold: Option<Duration>) -> Self {
        self.poll_threshold_ns = threshold.map(nanos);
        self
    }

    /// Also aggregates every span's busy and idle time per span name into `stats` (see
    /// [`OperationStats`]); this takes a lock per span close, so it is opt-in.
    #[must_use]
    pub fn with_operation_stats(mut self, stats: OperationStats) -> Self {
        self.stats = Some(stats);
        self
    }

    /// Keeps timing in the span data of stethoscope's own output layer, which must be in the
    /// same subscriber, *inside* this layer.
    pub(crate) fn sharing_span_data(mut self) -> Self {
        self.shared = true;
        self
    }

    fn update_min(&mut self) {
        self.min_threshold_ns = self
            .by_name
            .iter()
            .map(|(_, t)| *t)
            .fold(self.threshold_ns, u64::min);
    }

    /// The threshold for a span named `name` without its own [`SLOW_MS_FIELD`].
    fn threshold_for(&self, name: &str) -> u64 {
        self.by_name
            .iter()
            .find(|(p, _)| glob(p.as_bytes(), name.as_bytes()))
            .map_or(self.threshold_ns, |(_, t)| *t)
    }
}

/// Per-span timing when the layer is used on its own: kept in the span's registry extensions.
struct OwnTiming {
    opened: u64,
    busy: AtomicU64,
    /// The span's [`SLOW_MS_FIELD`], in nanoseconds.
    slow_ns: Option<u64>,
}

impl<S> Layer<S> for SlowOpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.shared {
            // The output layer's `SpanData` holds the creation time and the busy total.
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut slow_ns = None;
        if attrs.metadata().fields().field(SLOW_MS_FIELD).is_some() {
            let mut visitor = SlowMs(None);
            attrs.record(&mut visitor);
            slow_ns = visitor.0.map(|ms| ms.saturating_mul(1_000_000));
        }
        span.extensions_mut().insert(OwnTiming {
            opened: timing::now(),
            busy: AtomicU64::new(0),
            slow_ns,
        });
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        timing::enter(self.owner, id.into_u64());
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some((start, end)) = timing::exit(self.owner, id.into_u64()) else {
            return;
        };
        let ticks = end.saturating_sub(start);
        let Some(span) = ctx.span(id) else { return };
        {
            let extensions = span.extensions();
            let busy = if self.shared {
                extensions.get::<SpanData>().map(|d| &d.busy)
            } else {
                extensions.get::<OwnTiming>().map(|t| &t.busy)
            };
            let Some(busy) = busy else { return };
            busy.fetch_add(ticks, Ordering::Relaxed);
        } // released before logging: output layers read the extensions for the event
        if let Some(limit) = self.poll_threshold_ns {
            let poll_ns = timing::nanos_between(start, end);
            // Only a thread running a tokio task has a worker to block.
            if poll_ns > limit && tokio::task::try_id().is_some() {
                slow_poll(id, span.metadata(), poll_ns);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let metadata = span.metadata();
        let (wall_ns, busy_ns) = {
            let extensions = span.extensions();
            let (opened, busy, slow_ns) = if self.shared {
                let Some(data) = extensions.get::<SpanData>() else {
                    return;
                };
                let slow_ns = metadata
                    .fields()
                    .field(SLOW_MS_FIELD)
                    .and_then(|_| data.own_u64(SLOW_MS_FIELD))
                    .map(|ms| ms.saturating_mul(1_000_000));
                (data.opened, &data.busy, slow_ns)
            } else {
                let Some(t) = extensions.get::<OwnTiming>() else {
                    return;
                };
                (t.opened, &t.busy, t.slow_ns)
            };
            let wall_ns = timing::nanos_between(opened, timing::now());
            let busy_ns = timing::nanos_between(0, busy.load(Ordering::Relaxed)).min(wall_ns);
            let slow = match slow_ns {
                Some(limit) => wall_ns > limit,
                None => {
                    wall_ns > self.min_threshold_ns && wall_ns > self.threshold_for(metadata.name())
                }
            };
            if let Some(stats) = &self.stats {
                stats.record_with(metadata.name(), wall_ns, busy_ns, slow);
            }
            if !slow {
                return;
            }
            (wall_ns, busy_ns)
        }; // the extensions lock is released here: output layers read them for the event
           // Emitted through the thread's current dispatcher, which is the span's own in every
           // setup but one that closes a span under a different scoped subscriber.
        tracing::warn!(
            target: "stethoscope::slow",
            parent: &id,
            span_name = metadata.name(),
            span_target = metadata.target(),
            duration_ms = millis(wall_ns),
            busy_ms = millis(busy_ns),
            idle_ms = millis(wall_ns - busy_ns),
            "slow operation"
        );
    }
}

/// Logs and counts one poll that kept its thread longer than the slow-poll threshold.
#[cold]
fn slow_poll(id: &Id, metadata: &'static Metadata<'static>, poll_ns: u64) {
    counter!(TOKIO_SLOW_POLLS_TOTAL, "span" => metadata.name()).increment(1);
    tracing::warn!(
        target: "stethoscope::slow",
        parent: id,
        span_name = metadata.name(),
        span_target = metadata.target(),
        poll_ms = millis(poll_ns),
        "slow poll: the span kept its worker thread without yielding; move blocking or \
         CPU-heavy work to spawn_blocking"
    );
}

/// Reads `slow_ms` as a whole number of milliseconds.
struct SlowMs(Option<u64>);

impl Visit for SlowMs {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == SLOW_MS_FIELD {
            self.0 = Some(value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if field.name() == SLOW_MS_FIELD {
            self.0 = u64::try_from(value).ok();
        }
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Milliseconds with microsecond precision, e.g. `150.213`.
fn millis(ns: u64) -> f64 {
    (ns / 1_000) as f64 / 1_000.0
}
