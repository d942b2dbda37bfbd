//! Per-callsite log rate limiting: a budget of lines per second and a burst for every place in
//! the code that logs; lines over budget are suppressed and counted, and a summary line
//! "suppressed N events from `<callsite>` in the last Xs" replaces them.
//!
//! The budget is the generic cell rate algorithm (a token bucket kept as one "theoretical
//! arrival time" per callsite), so deciding is one atomic compare-and-swap on the callsite's own
//! cache line and needs no lock and no allocation. Callsites live in a fixed open-addressing
//! table keyed by the callsite's metadata address (records of the `log` crate, which share one
//! callsite per level, are keyed by a hash of their target, file and line).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_core::{Level, Metadata};

use crate::error::Error;

/// How often suppressed lines are summarized (and counted in the metric).
pub const RATE_LIMIT_SUMMARY_INTERVAL: Duration = Duration::from_secs(1);

/// The target of the summary lines; they are never suppressed themselves.
pub(crate) const SUMMARY_TARGET: &str = "stethoscope::rate_limit";

/// Callsites tracked; past this (a process generating callsites dynamically), further
/// callsites are not limited, and counted in [`RateLimiter::untracked`].
const SLOTS: usize = 2048;
/// Slots probed before giving up on finding a free one.
const PROBES: usize = 8;

/// A per-callsite log budget, for [`Builder::with_log_rate_limit`](crate::Builder::with_log_rate_limit)
/// or `STETHOSCOPE_LOG_RATE_LIMIT`.
///
/// ```
/// let limit = stethoscope::logging::RateLimit::per_second(100)?.with_burst(1_000)?;
/// let builder = stethoscope::Stethoscope::builder().with_log_rate_limit(Some(limit));
/// # drop(builder);
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Lines per second each callsite may write in the long run.
    pub per_second: u32,
    /// Lines a callsite may write at once after being quiet (at least 1).
    pub burst: u32,
    /// Whether `error` lines are limited too (default no). Panic lines never are.
    pub limit_errors: bool,
}

/// The most lines per second a budget may allow: the clock has microsecond resolution.
const MAX_PER_SECOND: u32 = 1_000_000;

impl RateLimit {
    /// `lines` per second per callsite, with a burst of the same number of lines.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `lines` is between 1 and 1,000,000.
    pub fn per_second(lines: u32) -> Result<Self, Error> {
        if !(1..=MAX_PER_SECOND).contains(&lines) {
            return Err(Error::invalid_config(
                "RateLimit::per_second",
                lines,
                "expected 1 to 1000000 lines per second",
            ));
        }
        Ok(RateLimit {
            per_second: lines,
            burst: lines,
            limit_errors: false,
        })
    }

    /// Lets a quiet callsite write `lines` at once before its budget applies.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for zero.
    pub fn with_burst(mut self, lines: u32) -> Result<Self, Error> {
        if lines == 0 {
            return Err(Error::invalid_config(
                "RateLimit::with_burst",
                0,
                "expected a burst of at least 1 line",
            ));
        }
        self.burst = lines;
        Ok(self)
    }

    /// Limits `error` lines too (by default they are never suppressed). Panic lines are never
    /// suppressed.
    pub fn with_errors_limited(mut self, limited: bool) -> Self {
        self.limit_errors = limited;
        self
    }

    /// Parses `STETHOSCOPE_LOG_RATE_LIMIT`: `off`, `N/s` or `N/s,burst=M`.
    pub(crate) fn parse_env(value: &str) -> Result<Option<Self>, String> {
        const EXPECTED: &str =
            "expected \"off\", lines per second per callsite such as \"100/s\", or \"100/s,burst=1000\"";
        let value = value.trim();
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (rate, burst) = match value.split_once(',') {
            Some((rate, burst)) => (rate, Some(burst)),
            None => (value, None),
        };
        let per_second = rate
            .strip_suffix("/s")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or(EXPECTED)?;
        let mut limit = RateLimit::per_second(per_second).map_err(|e| e.to_string())?;
        if let Some(burst) = burst {
            let lines = burst
                .strip_prefix("burst=")
                .and_then(|n| n.parse::<u32>().ok())
                .ok_or(EXPECTED)?;
            limit = limit.with_burst(lines).map_err(|e| e.to_string())?;
        }
        Ok(Some(limit))
    }
}

/// Names a callsite in summaries and in the metric's `target` label.
#[derive(Debug)]
pub(crate) struct Callsite {
    pub(crate) target: Box<str>,
    /// `file:line`, or the callsite's name when the location is unknown.
    pub(crate) location: Box<str>,
}

/// One callsite's state, on its own cache line so that callsites do not contend.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot {
    /// 0 while free.
    key: AtomicU64,
    /// Theoretical arrival time (µs since the epoch) of the next conforming line.
    tat: AtomicU64,
    suppressed: AtomicU64,
    /// When the first line of the current summary window was suppressed (µs; 0: none yet).
    since: AtomicU64,
    name: OnceLock<Callsite>,
}

/// The shared limiter: the output layers decide with it, the flusher summarizes from it.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    pub(crate) limit: RateLimit,
    /// µs between conforming lines.
    interval: u64,
    /// How far ahead of now the arrival time may run: the burst.
    tolerance: u64,
    slots: Box<[Slot]>,
    /// Lines suppressed since start.
    pub(crate) suppressed_total: AtomicU64,
    /// Lines not limited because the callsite table was full.
    pub(crate) untracked: AtomicU64,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        let interval = (1_000_000 / u64::from(limit.per_second)).max(1);
        RateLimiter {
            limit,
            interval,
            tolerance: interval * u64::from(limit.burst.max(1) - 1),
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
            suppressed_total: AtomicU64::new(0),
            untracked: AtomicU64::new(0),
        }
    }

    /// Whether the line for `meta` (normalized for `log` records, `is_log`) must be suppressed
    /// at `now` (µs since the epoch). Counts it when so.
    #[inline]
    pub(crate) fn suppress(&self, meta: &Metadata<'_>, is_log: bool, now: u64) -> bool {
        if *meta.level() == Level::ERROR && (!self.limit.limit_errors || meta.target() == "panic") {
            return false;
        }
        let key = if is_log {
            log_key(meta)
        } else {
            // Event callsites are statics: the address names the callsite.
            meta as *const Metadata<'_> as u64
        };
        let Some(slot) = self.slot(key, meta) else {
            self.untracked.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        let mut tat = slot.tat.load(Ordering::Relaxed);
        loop {
            // An arrival time further ahead than any conforming line can leave it means the
            // wall clock went back: start over from now instead of suppressing until it catches up.
            let base = if tat > now + self.tolerance + self.interval {
                now
            } else {
                tat.max(now)
            };
            if base - now > self.tolerance {
                break;
            }
            match slot.tat.compare_exchange_weak(
                tat,
                base + self.interval,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return false,
                Err(current) => tat = current,
            }
        }
        if meta.target() == SUMMARY_TARGET {
            return false;
        }
        slot.suppressed.fetch_add(1, Ordering::Relaxed);
        let _ = slot
            .since
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        self.suppressed_total.fetch_add(1, Ordering::Relaxed);
        true
    }

    fn slot(&self, key: u64, meta: &Metadata<'_>) -> Option<&Slot> {
        let start = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize;
        for i in 0..PROBES {
            let slot = &self.slots[(start + i) % SLOTS];
            let current = slot.key.load(Ordering::Acquire);
            if current == key {
                return Some(slot);
            }
            if current == 0 {
                match slot
                    .key
                    .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        // Once per callsite: the only allocation the limiter makes.
                        let _ = slot.name.set(Callsite::of(meta));
                        return Some(slot);
                    }
                    Err(other) if other == key => return Some(slot),
                    Err(_) => {}
                }
            }
        }
        None
    }

    /// Takes every callsite's suppressed count: `(callsite, lines, window)` for each callsite
    /// that suppressed any since the previous call.
    pub(crate) fn drain(&self, now: u64, mut each: impl FnMut(&Callsite, u64, Duration)) {
        for slot in self.slots.iter() {
            if slot.key.load(Ordering::Acquire) == 0 || slot.suppressed.load(Ordering::Relaxed) == 0
            {
                continue;
            }
            let lines = slot.suppressed.swap(0, Ordering::Relaxed);
            let since = slot.since.swap(0, Ordering::Relaxed);
            let window = if since == 0 {
                RATE_LIMIT_SUMMARY_INTERVAL
            } else {
                Duration::from_micros(now.saturating_sub(since))
            };
            if let Some(name) = slot.name.get() {
                each(name, lines, window);
            }
        }
    }
}

impl Callsite {
    fn of(meta: &Metadata<'_>) -> Self {
        let location = match (meta.file(), meta.line()) {
            (Some(file), Some(line)) => format!("{file}:{line}"),
            _ => meta.name().to_owned(),
        };
        Callsite {
            target: meta.target().into(),
            location: location.into(),
        }
    }
}

/// A `log` record's key: FNV-1a over target, file and line, with the top bit set so that it
/// never equals an address (user-space addresses have it clear).
fn log_key(meta: &Metadata<'_>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |bytes: &[u8]| {
        for &b in bytes {
            h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x0000_0100_0000_01b3);
    };
    mix(meta.target().as_bytes());
    mix(meta.file().unwrap_or("").as_bytes());
    mix(&meta.line().unwrap_or(0).to_le_bytes());
    h | 1 << 63
}

/// Writes the summaries every [`RATE_LIMIT_SUMMARY_INTERVAL`], and a last time when stopped,
/// so that no count is lost at shutdown.
#[derive(Debug)]
pub(crate) struct SummaryFlusher {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SummaryFlusher {
    /// Starts the thread; summaries are logged through `dispatch`.
    pub(crate) fn start(
        limiter: Arc<RateLimiter>,
        dispatch: tracing::Dispatch,
    ) -> Result<Self, Error> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("stethoscope-rate-limit".into())
            .spawn(move || {
                let _default = tracing::dispatcher::set_default(&dispatch);
                loop {
                    let last = !matches!(
                        stopped.recv_timeout(RATE_LIMIT_SUMMARY_INTERVAL),
                        Err(RecvTimeoutError::Timeout)
                    );
                    summarize(&limiter);
                    if last {
                        return;
                    }
                }
            })
            .map_err(|e| Error::io("spawning the log rate-limit thread", e))?;
        Ok(SummaryFlusher {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Writes the last summaries and stops the thread.
    pub(crate) fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SummaryFlusher {
    fn drop(&mut self) {
        self.stop();
    }
}

fn summarize(limiter: &RateLimiter) {
    let now = super::timestamp::Now::read().unix_micros();
    limiter.drain(now, |callsite, lines, window| {
        let seconds = window.as_secs_f64().max(0.1);
        metrics::counter!(
            crate::metric::names::LOG_LINES_SUPPRESSED_TOTAL,
            "target" => callsite.target.to_string()
        )
        .increment(lines);
        tracing::warn!(
            target: "stethoscope::rate_limit",
            suppressed = lines,
            callsite = %callsite.location,
            callsite_target = %callsite.target,
            window_seconds = seconds,
            "suppressed {lines} events from {} ({}) in the last {seconds:.1}s",
            callsite.target,
            callsite.location,
        );
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_syntax_is_strict() {
        assert_eq!(RateLimit::parse_env("off"), Ok(None));
        let limit = RateLimit::parse_env("100/s,burst=1000").unwrap().unwrap();
        assert_eq!((limit.per_second, limit.burst), (100, 1000));
        let limit = RateLimit::parse_env(" 5/s ").unwrap().unwrap();
        assert_eq!((limit.per_second, limit.burst), (5, 5));
        for bad in [
            "100",
            "100/m",
            "0/s",
            "x/s",
            "100/s,burst=0",
            "100/s,1000",
            "100/s,burst=-1",
        ] {
            let err = RateLimit::parse_env(bad).unwrap_err();
            assert!(
                err.contains("expected") || err.contains("invalid"),
                "{bad}: {err}"
            );
        }
    }
}
