//! The counters behind [`Counting`](super::Counting): plain per-thread deltas, published to
//! process-wide atomics in batches, and [`stats`], which reads them.
//!
//! Everything here runs inside the global allocator, so nothing may allocate, panic or touch
//! a thread-local with a destructor (registering one allocates, which would recurse into the
//! allocator; std aborts when that happens). The thread-local is const-initialized and holds
//! only `Cell`s, so it has no destructor and is usable at any point in a thread's life.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A thread publishes its counts after this many allocations and frees…
pub const FLUSH_EVERY_OPS: u32 = 64;
/// …or once this many bytes were allocated or freed since the last publication.
pub const FLUSH_EVERY_BYTES: u64 = 64 * 1024;

/// Process-wide totals, published by every thread. Monotonic, so that reading them never
/// needs a lock: live bytes are `allocated - freed` at read time.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static FREES: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);
/// Set by the first publication: a `Counting` allocator is serving this process.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// What a thread counted since it last published.
pub(super) struct Pending {
    allocations: Cell<u64>,
    frees: Cell<u64>,
    allocated_bytes: Cell<u64>,
    freed_bytes: Cell<u64>,
    ops: Cell<u32>,
    /// Bytes allocated or freed since the last publication.
    traffic: Cell<u64>,
    /// Publish after this many ops: `FLUSH_EVERY_OPS`, or 1 for a thread's first operation
    /// and once the thread is exiting.
    limit: Cell<u32>,
    /// Whether this thread's first operation was seen (and its exit hook set up).
    armed: Cell<bool>,
}

impl Pending {
    const fn new() -> Self {
        Pending {
            allocations: Cell::new(0),
            frees: Cell::new(0),
            allocated_bytes: Cell::new(0),
            freed_bytes: Cell::new(0),
            ops: Cell::new(0),
            traffic: Cell::new(0),
            // The first operation publishes at once, which sets up the thread-exit hook; the
            // hot path needs no check of its own for that.
            limit: Cell::new(1),
            armed: Cell::new(false),
        }
    }

    #[inline]
    fn tick(&self, bytes: u64) {
        let ops = self.ops.get() + 1;
        let traffic = self.traffic.get() + bytes;
        self.ops.set(ops);
        self.traffic.set(traffic);
        if ops >= self.limit.get() || traffic >= FLUSH_EVERY_BYTES {
            self.publish();
        }
    }

    /// Adds the pending counts to the process-wide totals and zeroes them.
    #[cold]
    pub(super) fn publish(&self) {
        self.ops.set(0);
        self.traffic.set(0);
        let add = |total: &AtomicU64, cell: &Cell<u64>| {
            let value = cell.replace(0);
            if value != 0 {
                total.fetch_add(value, Ordering::Relaxed);
            }
            value
        };
        let counted = add(&ALLOCATIONS, &self.allocations) + add(&FREES, &self.frees);
        add(&ALLOCATED_BYTES, &self.allocated_bytes);
        add(&FREED_BYTES, &self.freed_bytes);
        if counted == 0 {
            // Nothing went through a `Counting` allocator on this thread (yet).
            return;
        }
        if !ACTIVE.load(Ordering::Relaxed) {
            ACTIVE.store(true, Ordering::Relaxed);
        }
        if !self.armed.get() {
            self.armed.set(true);
            self.limit.set(FLUSH_EVERY_OPS);
            #[cfg(target_os = "linux")]
            super::thread_exit::arm();
        }
    }

    /// From now on every operation is published at once: the thread is exiting and nothing
    /// would publish a later batch.
    pub(super) fn exiting(&self) {
        self.limit.set(1);
        self.publish();
    }
}

thread_local! {
    static PENDING: Pending = const { Pending::new() };
}

/// Counts one allocation of `bytes`.
#[inline]
pub(super) fn on_alloc(bytes: usize) {
    let bytes = bytes as u64;
    let counted = PENDING.try_with(|p| {
        p.allocations.set(p.allocations.get() + 1);
        p.allocated_bytes.set(p.allocated_bytes.get() + bytes);
        p.tick(bytes);
    });
    if counted.is_err() {
        // No thread-local storage (very late in thread teardown): count directly.
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Counts one free of `bytes`.
#[inline]
pub(super) fn on_free(bytes: usize) {
    let bytes = bytes as u64;
    let counted = PENDING.try_with(|p| {
        p.frees.set(p.frees.get() + 1);
        p.freed_bytes.set(p.freed_bytes.get() + bytes);
        p.tick(bytes);
    });
    if counted.is_err() {
        FREES.fetch_add(1, Ordering::Relaxed);
        FREED_BYTES.fetch_add(bytes, Ordering::Relaxed);
    }
}

/// Runs `f` on the calling thread's pending counts, if it still has them.
pub(super) fn with_pending(f: impl FnOnce(&Pending)) {
    let _ = PENDING.try_with(f);
}

/// Heap totals counted by a [`Counting`](super::Counting) global allocator.
///
/// Counters (`allocations`, `frees`, `allocated_bytes`) only grow; `live_bytes` is what is
/// allocated and not yet freed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AllocStats {
    /// Bytes allocated and not yet freed (`process_heap_live_bytes`).
    pub live_bytes: u64,
    /// Allocations since the process started (`process_heap_allocations_total`).
    pub allocations: u64,
    /// Frees since the process started (`process_heap_frees_total`).
    pub frees: u64,
    /// Bytes allocated since the process started, freed or not
    /// (`process_heap_allocated_bytes_total`).
    pub allocated_bytes: u64,
}

/// The heap totals, or `None` when no [`Counting`](super::Counting) allocator is installed as
/// the global allocator.
///
/// Publishes the calling thread's pending counts first and never allocates, so it can be
/// called from anywhere, as often as needed.
///
/// ```
/// // This example's binary has no `#[global_allocator] static A: Counting<..>`:
/// assert_eq!(stethoscope::alloc::stats(), None);
/// ```
pub fn stats() -> Option<AllocStats> {
    with_pending(Pending::publish);
    if !ACTIVE.load(Ordering::Relaxed) {
        return None;
    }
    // Frees are read first, and the subtraction saturates: another thread may have published
    // the free of memory whose allocation is still in a third thread's pending batch.
    let freed_bytes = FREED_BYTES.load(Ordering::Acquire);
    let frees = FREES.load(Ordering::Acquire);
    let allocated_bytes = ALLOCATED_BYTES.load(Ordering::Acquire);
    let allocations = ALLOCATIONS.load(Ordering::Acquire);
    Some(AllocStats {
        live_bytes: allocated_bytes.saturating_sub(freed_bytes),
        allocations,
        frees,
        allocated_bytes,
    })
}
