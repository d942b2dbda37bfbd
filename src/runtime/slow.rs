//! [`SlowOpLayer`]: logs spans slower than a threshold, with the time they spent executing
//! (entered, i.e. being polled) and waiting.

use std::fmt;
use std::time::Duration;

use quanta::Clock;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::operations::OperationStats;
use super::DEFAULT_SLOW_THRESHOLD;

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
/// Cost: four TSC reads per span (create, first enter, last exit, close) and no allocation
/// besides the span's extension slot; see `docs/performance.md`.
#[derive(Clone, Debug)]
pub struct SlowOpLayer {
    clock: Clock,
    threshold_ns: u64,
    stats: Option<OperationStats>,
}

impl Default for SlowOpLayer {
    fn default() -> Self {
        SlowOpLayer::new()
    }
}

impl SlowOpLayer {
    /// A layer with the default threshold, [`DEFAULT_SLOW_THRESHOLD`].
    pub fn new() -> Self {
        SlowOpLayer {
            // Calibrated once per process; reading it is one TSC read where the CPU has an
            // invariant TSC, else the monotonic clock.
            clock: Clock::new(),
            threshold_ns: nanos(DEFAULT_SLOW_THRESHOLD),
            stats: None,
        }
    }

    /// Logs spans slower than `threshold`.
    #[must_use]
    pub fn with_threshold(mut self, threshold: Duration) -> Self {
        self.threshold_ns = nanos(threshold);
        self
    }

    /// Also aggregates every span's busy and idle time per span name into `stats` (see
    /// [`OperationStats`]); this takes a lock per span close, so it is opt-in.
    #[must_use]
    pub fn with_operation_stats(mut self, stats: OperationStats) -> Self {
        self.stats = Some(stats);
        self
    }
}

/// Per-span timing, kept in the span's registry extensions: raw clock ticks, scaled to
/// nanoseconds only when the span closes, so entering and exiting are a clock read and an add.
struct Timing {
    opened: u64,
    /// When the outermost current entry began; a span can be entered re-entrantly.
    entered: u64,
    depth: u32,
    busy_ticks: u64,
    threshold_ns: u64,
}

impl<S> Layer<S> for SlowOpLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut threshold_ns = self.threshold_ns;
        if attrs.metadata().fields().field(SLOW_MS_FIELD).is_some() {
            let mut visitor = SlowMs(None);
            attrs.record(&mut visitor);
            if let Some(ms) = visitor.0 {
                threshold_ns = ms.saturating_mul(1_000_000);
            }
        }
        span.extensions_mut().insert(Timing {
            opened: self.clock.raw(),
            entered: 0,
            depth: 0,
            busy_ticks: 0,
            threshold_ns,
        });
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(timing) = extensions.get_mut::<Timing>() {
            if timing.depth == 0 {
                timing.entered = self.clock.raw();
            }
            timing.depth = timing.depth.saturating_add(1);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(timing) = extensions.get_mut::<Timing>() {
            if timing.depth == 1 {
                // Saturating: TSCs of two cores may disagree by a few ticks.
                let busy = self.clock.raw().saturating_sub(timing.entered);
                timing.busy_ticks = timing.busy_ticks.saturating_add(busy);
            }
            timing.depth = timing.depth.saturating_sub(1);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let (wall_ns, busy_ns) = {
            let extensions = span.extensions();
            let Some(timing) = extensions.get::<Timing>() else {
                return;
            };
            let wall_ns = self.clock.delta_as_nanos(timing.opened, self.clock.raw());
            let busy_ns = self.clock.delta_as_nanos(0, timing.busy_ticks).min(wall_ns);
            if let Some(stats) = &self.stats {
                stats.record_with(
                    span.metadata().name(),
                    wall_ns,
                    busy_ns,
                    wall_ns > timing.threshold_ns,
                );
            }
            if wall_ns <= timing.threshold_ns {
                return;
            }
            (wall_ns, busy_ns)
        }; // the extensions lock is released here: output layers read them for the event
        let metadata = span.metadata();
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
