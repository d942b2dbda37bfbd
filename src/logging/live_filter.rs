//! The log filter that can be changed while the process runs ([`LogLevel`]), and the per-layer
//! filter behind it.
//!
//! Why not `tracing_subscriber::reload`: its `Filter` impl takes a read lock on **every** span
//! enter and exit to forward them to the `EnvFilter`, which in turn takes its own lock to look
//! the span up; both are shared cache lines that every worker thread writes. Those hooks only
//! matter for span-based directives (`[span{field=value}]=debug`), so [`LiveFilter`] forwards
//! them only while such a directive is active: with ordinary directives an enter/exit costs
//! nothing here. Events and spans are decided by the per-callsite interest cache, which
//! [`LogLevel::set`] rebuilds, so the lock is taken only for callsites whose interest is
//! "sometimes".
//!
//! Known pitfalls of reloading that this handles (and tests):
//! * callsites already seen keep their cached interest until
//!   `tracing_core::callsite::rebuild_interest_cache` runs; a filter change always rebuilds it;
//! * the global max level (`LevelFilter::current`) is recomputed by that rebuild, and the `log`
//!   crate's own max level (checked by its macros before stethoscope sees anything) is raised
//!   or lowered to match with `log::set_max_level`;
//! * the filter is a per-layer filter, so the flight recorder below it keeps receiving the
//!   events the output filter rejects.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::{Interest, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use crate::config;
use crate::error::Error;

/// The longest `ttl` a temporary filter may have.
pub const MAX_LOG_LEVEL_TTL: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug)]
struct Text {
    /// The directives in force.
    current: String,
    /// What a temporary change reverts to.
    permanent: String,
    /// When the temporary change reverts; `None` when `current` is permanent.
    revert_at: Option<Instant>,
    /// Whether a thread is waiting to revert.
    reverter: bool,
}

struct Shared {
    filter: RwLock<EnvFilter>,
    /// The filter has span-based directives: forward span hooks to it.
    dynamic: AtomicBool,
    text: Mutex<Text>,
    /// Wakes the reverter thread when the deadline changes.
    changed: Condvar,
    /// Set once the `log` crate bridge is installed by stethoscope: only then is
    /// `log::set_max_level` ours to change.
    owns_log_max_level: AtomicBool,
    /// Levels other per-layer filters (the flight recorder) want, so that the `log` crate's
    /// max level never drops below them.
    floor: LevelFilter,
}

/// A per-layer [`Filter`] reading the current [`LogLevel`] directives.
#[derive(Clone)]
pub(crate) struct LiveFilter {
    shared: Arc<Shared>,
}

impl fmt::Debug for LiveFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveFilter")
            .field("directives", &self.handle().current())
            .finish()
    }
}

impl LiveFilter {
    /// A filter starting with `filter` (parsed from `directives`); `floor` is the most verbose
    /// level another layer needs from the `log` crate.
    pub(crate) fn new(filter: EnvFilter, directives: &str, floor: LevelFilter) -> Self {
        LiveFilter {
            shared: Arc::new(Shared {
                dynamic: AtomicBool::new(is_dynamic(directives)),
                filter: RwLock::new(filter),
                text: Mutex::new(Text {
                    current: directives.to_owned(),
                    permanent: directives.to_owned(),
                    revert_at: None,
                    reverter: false,
                }),
                changed: Condvar::new(),
                owns_log_max_level: AtomicBool::new(false),
                floor,
            }),
        }
    }

    /// The control handle.
    pub(crate) fn handle(&self) -> LogLevel {
        LogLevel {
            shared: Arc::clone(&self.shared),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, EnvFilter> {
        self.shared.filter.read().unwrap_or_else(|p| p.into_inner())
    }

    fn dynamic(&self) -> bool {
        self.shared.dynamic.load(Ordering::Relaxed)
    }

    pub(crate) fn enabled_for<S>(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        <EnvFilter as Filter<S>>::enabled(&self.read(), meta, cx)
    }

    pub(crate) fn interest<S>(&self, meta: &'static Metadata<'static>) -> Interest
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        <EnvFilter as Filter<S>>::callsite_enabled(&self.read(), meta)
    }

    pub(crate) fn level_hint(&self) -> Option<LevelFilter> {
        self.read().max_level_hint()
    }
}

/// `[` only appears in span-based directives (`target[span{field}]=level`).
fn is_dynamic(directives: &str) -> bool {
    directives.contains('[')
}

impl<S> Filter<S> for LiveFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, cx: &Context<'_, S>) -> bool {
        self.enabled_for(meta, cx)
    }

    fn callsite_enabled(&self, meta: &'static Metadata<'static>) -> Interest {
        self.interest::<S>(meta)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.level_hint()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if self.dynamic() {
            <EnvFilter as Filter<S>>::on_new_span(&self.read(), attrs, id, ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if self.dynamic() {
            <EnvFilter as Filter<S>>::on_record(&self.read(), id, values, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if self.dynamic() {
            <EnvFilter as Filter<S>>::on_enter(&self.read(), id, ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if self.dynamic() {
            <EnvFilter as Filter<S>>::on_exit(&self.read(), id, ctx);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if self.dynamic() {
            <EnvFilter as Filter<S>>::on_close(&self.read(), id, ctx);
        }
    }
}

/// Changes the log filter of an installed stethoscope at runtime, at once and process-wide;
/// from [`Guard::log_level`](crate::Guard::log_level), or over HTTP at `/debug/log-level` on
/// the admin server.
///
/// A change applies to `tracing` events and spans and to records of the `log` crate alike, and
/// never to the flight recorder, which keeps its own level.
///
/// ```no_run
/// let telemetry = stethoscope::init()?;
/// let level = telemetry.log_level().expect("installed by init");
/// level.set_for("info,indexer::db=debug", std::time::Duration::from_secs(60))?;
/// assert_eq!(level.current(), "info,indexer::db=debug"); // back to the previous one in 60 s
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Clone)]
pub struct LogLevel {
    shared: Arc<Shared>,
}

impl fmt::Debug for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLevel")
            .field("current", &self.current())
            .field("reverts_in", &self.reverts_in())
            .finish()
    }
}

impl LogLevel {
    /// The directives in force, e.g. `info,indexer::db=debug`.
    pub fn current(&self) -> String {
        self.lock().current.clone()
    }

    /// What a temporary change made with [`set_for`](Self::set_for) reverts to.
    pub fn permanent(&self) -> String {
        self.lock().permanent.clone()
    }

    /// How long until a temporary change reverts; `None` when the current filter is permanent.
    pub fn reverts_in(&self) -> Option<Duration> {
        self.lock()
            .revert_at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Replaces the filter with `directives` (`RUST_LOG` syntax) for good, cancelling any
    /// pending revert.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] with the parser's message; the filter in force is untouched.
    pub fn set(&self, directives: &str) -> Result<(), Error> {
        let filter = parse(directives)?;
        let mut text = self.lock();
        text.permanent = directives.trim().to_owned();
        text.revert_at = None;
        self.apply(&mut text, filter, directives);
        self.shared.changed.notify_all();
        Ok(())
    }

    /// Replaces the filter with `directives` for `ttl`, then reverts to the last filter set
    /// for good (by [`set`](Self::set) or at install). A later `set_for` replaces the pending
    /// revert's deadline but keeps what it reverts to.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] with the parser's message, or for a `ttl` of zero or above
    /// [`MAX_LOG_LEVEL_TTL`]; the filter in force is untouched.
    pub fn set_for(&self, directives: &str, ttl: Duration) -> Result<(), Error> {
        if ttl.is_zero() || ttl > MAX_LOG_LEVEL_TTL {
            return Err(Error::invalid_config(
                "log filter ttl",
                format!("{ttl:?}"),
                "expected a duration above zero and at most 24h",
            ));
        }
        let filter = parse(directives)?;
        let mut text = self.lock();
        text.revert_at = Some(Instant::now() + ttl);
        self.apply(&mut text, filter, directives);
        if !text.reverter {
            text.reverter = true;
            let weak = Arc::downgrade(&self.shared);
            let spawned = std::thread::Builder::new()
                .name("stethoscope-log-level".into())
                .spawn(move || revert_when_due(&weak));
            if spawned.is_err() {
                // No thread, no revert: say so rather than leave a verbose filter on silently.
                text.reverter = false;
                tracing::warn!(target: "stethoscope", "could not start the thread that reverts the log filter; it stays until changed");
            }
        }
        self.shared.changed.notify_all();
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Text> {
        self.shared.text.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Swaps the filter in and rebuilds what caches its old decisions. Called with the text
    /// lock held so that concurrent changes apply in the order their text is recorded.
    fn apply(&self, text: &mut Text, filter: EnvFilter, directives: &str) {
        apply(&self.shared, text, filter, directives);
    }

    /// Called once stethoscope owns the `log` crate's logger.
    pub(crate) fn own_log_max_level(&self) {
        self.shared
            .owns_log_max_level
            .store(true, Ordering::Relaxed);
    }
}

fn parse(directives: &str) -> Result<EnvFilter, Error> {
    config::parse_filter(directives.trim())
        .map_err(|why| Error::invalid_config("log filter", format!("{directives:?}"), why))
}

fn apply(shared: &Shared, text: &mut Text, filter: EnvFilter, directives: &str) {
    shared
        .dynamic
        .store(is_dynamic(directives), Ordering::Relaxed);
    *shared.filter.write().unwrap_or_else(|p| p.into_inner()) = filter;
    text.current = directives.trim().to_owned();
    // Callsites cache the old filter's verdict ("never" for a debug line at info): make every
    // dispatcher ask again, which also recomputes `LevelFilter::current()`.
    tracing_core::callsite::rebuild_interest_cache();
    if shared.owns_log_max_level.load(Ordering::Relaxed) {
        let level = LevelFilter::current().max(shared.floor);
        log::set_max_level(to_log(level));
    }
}

/// The reverter thread: sleeps until the deadline (re-reading it when woken), reverts, exits.
/// It holds only a weak reference, so it never keeps the filter alive.
fn revert_when_due(weak: &Weak<Shared>) {
    loop {
        let Some(shared) = weak.upgrade() else { return };
        let mut text = shared.text.lock().unwrap_or_else(|p| p.into_inner());
        let Some(at) = text.revert_at else {
            text.reverter = false;
            return;
        };
        let now = Instant::now();
        if now >= at {
            let permanent = text.permanent.clone();
            text.revert_at = None;
            text.reverter = false;
            match parse(&permanent) {
                Ok(filter) => apply(&shared, &mut text, filter, &permanent),
                Err(e) => {
                    tracing::warn!(target: "stethoscope", error = %e, "could not revert the log filter")
                }
            }
            drop(text);
            tracing::info!(target: "stethoscope", filter = %permanent, "temporary log filter expired; reverted");
            return;
        }
        // Bounded waits, so a dropped filter is noticed.
        let wait = (at - now).min(Duration::from_secs(1));
        drop(
            shared
                .changed
                .wait_timeout(text, wait)
                .unwrap_or_else(|p| p.into_inner()),
        );
    }
}

pub(crate) fn to_log(level: LevelFilter) -> log::LevelFilter {
    match level {
        LevelFilter::OFF => log::LevelFilter::Off,
        LevelFilter::ERROR => log::LevelFilter::Error,
        LevelFilter::WARN => log::LevelFilter::Warn,
        LevelFilter::INFO => log::LevelFilter::Info,
        LevelFilter::DEBUG => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    }
}

/// Parses a duration such as `500ms`, `60s`, `5m` or `1h`: a whole number and one unit,
/// nothing else (no spaces, fractions or combined units).
pub(crate) fn parse_duration(value: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "invalid duration {value:?}: expected a whole number followed by ms, s, m or h, \
             such as 500ms, 60s or 5m"
        )
    };
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(expected)?;
    let (digits, unit) = value.split_at(split);
    if digits.is_empty() || digits.len() > 9 {
        return Err(expected());
    }
    let n: u64 = digits.parse().map_err(|_| expected())?;
    let millis = match unit {
        "ms" => n,
        "s" => n * 1_000,
        "m" => n * 60_000,
        "h" => n * 3_600_000,
        _ => return Err(expected()),
    };
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_parsed_strictly() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        for bad in [
            "",
            "60",
            "s",
            "1.5s",
            "60 s",
            " 60s",
            "-1s",
            "60sec",
            "1d",
            "1m30s",
            "9999999999s",
        ] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.contains("such as 500ms, 60s or 5m"), "{bad}: {err}");
        }
    }

    #[test]
    fn span_directives_are_recognized_as_dynamic() {
        assert!(!is_dynamic("info,indexer::db=debug"));
        assert!(is_dynamic("info,[process_block{height}]=trace"));
    }
}
