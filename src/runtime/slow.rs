//! [`SlowOpLayer`]: logs spans slower than a threshold, with the time they spent executing
//! (entered, i.e. being polled) and waiting.

use std::fmt;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use metrics::counter;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::clock_table::ClockTable;
use super::names::TOKIO_SLOW_POLLS_TOTAL;
use super::operations::OperationStats;
use super::timing::{self, Owner};
use super::DEFAULT_SLOW_THRESHOLD;
use crate::logging::glob;

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
/// Cost: a clock read per creation, enter, exit and close, a thread-local push and pop, and
/// no span lookup: each span's timing sits in a table of the layer's own, found by span id;
/// see `docs/performance.md`.
#[derive(Debug)]
pub struct SlowOpLayer {
    owner: Owner,
    /// Timing of the spans that found a slot; the others keep an [`OwnTiming`] extension.
    clocks: Arc<ClockTable>,
    threshold_ns: u64,
    /// `(span-name glob, threshold)`, first match wins; checked only for spans that closed
    /// slower than the smallest threshold.
    by_name: Arc<[(Box<str>, u64)]>,
    /// Smallest of `threshold_ns` and every `by_name` threshold, in raw clock ticks: a span
    /// that closes faster is dismissed without converting its time.
    min_threshold_ticks: u64,
    poll_threshold_ns: Option<u64>,
    /// `poll_threshold_ns` in raw clock ticks.
    poll_threshold_ticks: u64,
    stats: Option<OperationStats>,
    /// Whether some span callsite has a [`SLOW_MS_FIELD`] (learnt in `register_callsite`):
    /// until one does, creating a span skips looking for the field.
    slow_ms_callsites: AtomicBool,
}

/// A clone is a new layer with the same settings: span ids are unique only within one
/// subscriber, so two subscribers must not share a table or a thread-local stack owner.
impl Clone for SlowOpLayer {
    fn clone(&self) -> Self {
        SlowOpLayer {
            owner: Owner::next(),
            clocks: Arc::new(ClockTable::new()),
            threshold_ns: self.threshold_ns,
            by_name: Arc::clone(&self.by_name),
            min_threshold_ticks: self.min_threshold_ticks,
            poll_threshold_ns: self.poll_threshold_ns,
            poll_threshold_ticks: self.poll_threshold_ticks,
            stats: self.stats.clone(),
            // Callsites are registered again with the subscriber a clone goes into.
            slow_ms_callsites: AtomicBool::new(false),
        }
    }
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
            clocks: Arc::new(ClockTable::new()),
            threshold_ns: nanos(DEFAULT_SLOW_THRESHOLD),
            by_name: Arc::new([]),
            min_threshold_ticks: timing::ticks_for(nanos(DEFAULT_SLOW_THRESHOLD)),
            poll_threshold_ns: None,
            poll_threshold_ticks: u64::MAX,
            stats: None,
            slow_ms_callsites: AtomicBool::new(false),
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
        self.poll_threshold_ticks = self.poll_threshold_ns.map_or(u64::MAX, timing::ticks_for);
        self
    }

    /// Also aggregates every span's busy and idle time per span name into `stats` (see
    /// [`OperationStats`]); this takes a lock per span close, so it is opt-in.
    #[must_use]
    pub fn with_operation_stats(mut self, stats: OperationStats) -> Self {
        self.stats = Some(stats);
        self
    }

    fn update_min(&mut self) {
        let min_ns = self
            .by_name
            .iter()
            .map(|(_, t)| *t)
            .fold(self.threshold_ns, u64::min);
        self.min_threshold_ticks = timing::ticks_for(min_ns);
    }

    /// The threshold for a span named `name` without its own [`SLOW_MS_FIELD`].
    fn threshold_for(&self, name: &str) -> u64 {
        self.by_name
            .iter()
            .find(|(p, _)| glob(p.as_bytes(), name.as_bytes()))
            .map_or(self.threshold_ns, |(_, t)| *t)
    }
}

/// Per-span timing for the spans without a [`ClockTable`] slot (a full table, or a span with
/// its own [`SLOW_MS_FIELD`]): kept in the span's registry extensions.
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
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.is_span() && metadata.fields().field(SLOW_MS_FIELD).is_some() {
            self.slow_ms_callsites.store(true, Ordering::Relaxed);
        }
        Interest::always()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let opened = timing::now();
        let metadata = attrs.metadata();
        let own_threshold = self.slow_ms_callsites.load(Ordering::Relaxed)
            && metadata.fields().field(SLOW_MS_FIELD).is_some();
        if !own_threshold && self.clocks.open(id.into_u64(), opened).is_some() {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut slow_ns = None;
        if own_threshold {
            let mut visitor = SlowMs(None);
            attrs.record(&mut visitor);
            slow_ns = visitor.0.map(|ms| ms.saturating_mul(1_000_000));
        }
        span.extensions_mut().insert(OwnTiming {
            opened,
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
        if let Some(slot) = self.clocks.find(id.into_u64()) {
            self.clocks.add_busy(slot, ticks);
        } else {
            let Some(span) = ctx.span(id) else { return };
            let extensions = span.extensions();
            let Some(timing) = extensions.get::<OwnTiming>() else {
                return;
            };
            timing.busy.fetch_add(ticks, Ordering::Relaxed);
        } // the extensions are released before logging: output layers read them for the event
          // Only a thread running a tokio task has a worker to block.
        if ticks > self.poll_threshold_ticks && tokio::task::try_id().is_some() {
            let poll_ns = timing::nanos_between(start, end);
            if let (Some(metadata), Some(limit)) = (ctx.metadata(id), self.poll_threshold_ns) {
                if poll_ns > limit {
                    slow_poll(id, metadata, poll_ns);
                }
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // The fallback path has already looked the span up: its metadata comes along.
        let (opened, busy, slow_ns, looked_up) = match self.clocks.find(id.into_u64()) {
            Some(slot) => {
                let closed = self.clocks.close(slot);
                (closed.opened, closed.busy, None, None)
            }
            None => {
                let Some(span) = ctx.span(&id) else { return };
                let extensions = span.extensions();
                let Some(t) = extensions.get::<OwnTiming>() else {
                    return;
                };
                let metadata = Some(span.metadata());
                (
                    t.opened,
                    t.busy.load(Ordering::Relaxed),
                    t.slow_ns,
                    metadata,
                )
            } // the extensions are released here: output layers read them for the event
        };
        let wall_ticks = timing::now().saturating_sub(opened);
        // Almost every span: faster than any threshold, and nothing to aggregate.
        if slow_ns.is_none() && wall_ticks <= self.min_threshold_ticks && self.stats.is_none() {
            return;
        }
        // Only spans past the first check pay for a lookup.
        let Some(metadata) = looked_up.or_else(|| ctx.metadata(&id)) else {
            return;
        };
        let wall_ns = timing::nanos_between(0, wall_ticks);
        let busy_ns = timing::nanos_between(0, busy).min(wall_ns);
        let slow = match slow_ns {
            Some(limit) => wall_ns > limit,
            None => {
                wall_ticks > self.min_threshold_ticks
                    && wall_ns > self.threshold_for(metadata.name())
            }
        };
        if let Some(stats) = &self.stats {
            stats.record_with(metadata.name(), wall_ns, busy_ns, slow);
        }
        if !slow {
            return;
        }
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
