//! The clock and the per-thread record of entered spans behind slow-operation timing.
//!
//! Busy time is the time a span is entered. `enter` and `exit` of one entry always happen on
//! the same thread (an `Entered` guard is `!Send`; an instrumented future enters and exits
//! inside one `poll`), so the start of an entry can live in a thread-local stack instead of
//! the span's registry extensions: entering a span then costs a clock read and a push, not a
//! span lookup (a sharded-slab access plus an extension lock, ~300 instructions). `exit` adds
//! the entry's duration to the span's busy total in the layer's
//! [`ClockTable`](super::clock_table::ClockTable), which needs no lookup either.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use quanta::Clock;

static CLOCK: OnceLock<Clock> = OnceLock::new();

/// The process's calibrated clock: one TSC read where the CPU has an invariant TSC (~3×
/// cheaper than `Instant::now` here), else the monotonic clock.
pub(crate) fn clock() -> &'static Clock {
    CLOCK.get_or_init(Clock::new)
}

/// Now, in raw clock ticks (scale with [`Clock::delta_as_nanos`]).
#[inline]
pub(crate) fn now() -> u64 {
    clock().raw()
}

/// Ticks between two raw readings, in nanoseconds. Saturating: the TSCs of two cores may
/// disagree by a few ticks.
#[inline]
pub(crate) fn nanos_between(start: u64, end: u64) -> u64 {
    clock().delta_as_nanos(0, end.saturating_sub(start))
}

/// `ns` nanoseconds in raw clock ticks (rounded down, saturating), for comparing durations
/// without scaling every measurement.
pub(crate) fn ticks_for(ns: u64) -> u64 {
    const PROBE: u64 = 1 << 32;
    let probe_ns = u128::from(nanos_between(0, PROBE).max(1));
    u64::try_from(u128::from(ns) * u128::from(PROBE) / probe_ns).unwrap_or(u64::MAX)
}

/// Tells apart the span stacks of different layers on one thread: span ids are unique only
/// within one subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner(usize);

impl Owner {
    pub(crate) fn next() -> Owner {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        Owner(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

struct Entry {
    owner: Owner,
    span: u64,
    at: u64,
}

/// Entries leaked by `mem::forget`-ed guards would otherwise grow the stack forever.
const MAX_ENTRIES: usize = 256;

/// What one thread is inside right now, readable by the blocked-runtime watchdog on its own
/// thread: the innermost entered span and since when the outermost entry has run.
#[derive(Debug, Default)]
struct ThreadSlot {
    /// `0`: no span entered.
    span: AtomicU64,
    since: AtomicU64,
    /// The thread's id as the CPU sampler records it ([`super::thread_id::current`]).
    thread: u64,
}

/// Every live thread's slot; dead ones are pruned when read.
static SLOTS: Mutex<Vec<Weak<ThreadSlot>>> = Mutex::new(Vec::new());

struct ThreadState {
    stack: RefCell<Vec<Entry>>,
    slot: Arc<ThreadSlot>,
}

impl ThreadState {
    fn register() -> ThreadState {
        let slot = Arc::new(ThreadSlot {
            thread: super::thread_id::current(),
            ..ThreadSlot::default()
        });
        SLOTS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&slot));
        ThreadState {
            stack: RefCell::new(Vec::new()),
            slot,
        }
    }

    /// Publishes the stack's state after a push or a pop (two relaxed stores).
    fn publish(&self, stack: &[Entry]) {
        match (stack.first(), stack.last()) {
            (Some(outer), Some(inner)) => {
                self.slot.since.store(outer.at, Ordering::Relaxed);
                self.slot.span.store(inner.span, Ordering::Relaxed);
            }
            _ => self.slot.span.store(0, Ordering::Relaxed),
        }
    }
}

thread_local! {
    static ENTERED: ThreadState = ThreadState::register();
}

/// A thread that has been inside one span entry, without a break, for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LongEntry {
    /// The innermost span entered.
    pub(crate) span: u64,
    /// Nanoseconds since the thread's outermost entry began.
    pub(crate) held_ns: u64,
    /// The thread, as the CPU sampler identifies it ([`super::thread_id::current`]).
    pub(crate) thread: u64,
}

/// Threads that have been inside a span entry, without a break, for at least `threshold_ns`.
pub(crate) fn long_entries(threshold_ns: u64) -> Vec<LongEntry> {
    let now = now();
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    slots.retain(|s| s.strong_count() > 0);
    slots
        .iter()
        .filter_map(Weak::upgrade)
        .filter_map(|slot| {
            let span = slot.span.load(Ordering::Relaxed);
            let held_ns = nanos_between(slot.since.load(Ordering::Relaxed), now);
            (span != 0 && held_ns >= threshold_ns).then_some(LongEntry {
                span,
                held_ns,
                thread: slot.thread,
            })
        })
        .collect()
}

/// Records that `span` was entered on this thread now.
#[inline]
pub(crate) fn enter(owner: Owner, span: u64) {
    let at = now();
    // `try_with`/`try_borrow_mut`: spans entered while this thread's locals are torn down, or
    // from inside a hook of ours, are simply not timed.
    let _ = ENTERED.try_with(|state| {
        if let Ok(mut stack) = state.stack.try_borrow_mut() {
            if stack.len() == MAX_ENTRIES {
                stack.remove(0);
            }
            stack.push(Entry { owner, span, at });
            state.publish(&stack);
        }
    });
}

/// Ends this thread's latest entry of `span`: `(start, end)` in raw ticks, or `None` when an
/// outer entry of the same span is still open (a re-entrant enter: the outer entry counts the
/// whole time) or the enter was not seen.
#[inline]
pub(crate) fn exit(owner: Owner, span: u64) -> Option<(u64, u64)> {
    ENTERED
        .try_with(|state| {
            let mut stack = state.stack.try_borrow_mut().ok()?;
            // Almost always the top of the stack: guards drop in reverse order.
            let entry = match stack.last() {
                Some(top) if top.owner == owner && top.span == span => stack.pop()?,
                _ => {
                    let at = stack
                        .iter()
                        .rposition(|e| e.owner == owner && e.span == span)?;
                    stack.remove(at)
                }
            };
            let end = now();
            state.publish(&stack);
            if stack.iter().any(|e| e.owner == owner && e.span == span) {
                return None;
            }
            Some((entry.at, end))
        })
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_threads_see_a_long_entry() {
        let owner = Owner::next();
        let (entered, release) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
        std::thread::scope(|s| {
            s.spawn(|| {
                enter(owner, 41);
                enter(owner, 42);
                entered.wait();
                release.wait();
                exit(owner, 42);
                exit(owner, 41);
            });
            entered.wait();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let long = long_entries(10_000_000);
            assert!(
                long.iter().any(|e| e.span == 42 && e.held_ns >= 10_000_000),
                "{long:?}"
            );
            release.wait();
        });
        assert!(long_entries(0).iter().all(|e| e.span != 42));
    }

    #[test]
    fn ticks_for_inverts_nanos_between() {
        for ns in [1_000u64, 10_000_000, 100_000_000, 3_600_000_000_000] {
            let back = nanos_between(0, ticks_for(ns));
            assert!(back <= ns && ns - back <= ns / 1_000 + 2, "{ns} -> {back}");
        }
        assert_eq!(ticks_for(u64::MAX), u64::MAX);
    }

    #[test]
    fn only_the_outermost_entry_of_a_span_is_timed() {
        let owner = Owner::next();
        enter(owner, 7);
        enter(owner, 7);
        assert_eq!(exit(owner, 7), None, "inner re-entry");
        let (start, end) = exit(owner, 7).expect("outer entry");
        assert!(end >= start);
        assert_eq!(exit(owner, 7), None, "nothing left");
    }

    #[test]
    fn owners_and_spans_do_not_mix() {
        let (a, b) = (Owner::next(), Owner::next());
        enter(a, 1);
        enter(b, 1);
        enter(a, 2);
        assert!(exit(b, 1).is_some());
        assert!(
            exit(a, 1).is_some(),
            "out-of-order exit still finds its entry"
        );
        assert!(exit(a, 2).is_some());
        assert_eq!(exit(a, 2), None);
    }

    #[test]
    fn forgotten_guards_do_not_grow_the_stack_without_bound() {
        let owner = Owner::next();
        for span in 0..(MAX_ENTRIES as u64 * 4) {
            enter(owner, span);
        }
        ENTERED.with(|s| assert_eq!(s.stack.borrow().len(), MAX_ENTRIES));
        ENTERED.with(|s| s.stack.borrow_mut().clear());
    }
}
