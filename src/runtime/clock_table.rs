//! [`ClockTable`]: each live span's open time and busy total, found by span id with a hash
//! and a compare instead of a registry lookup.
//!
//! Timing a span needs its data at exit (add the entry's duration) and at close (the threshold
//! check). Through `tracing-subscriber`'s registry each of those is a span lookup: a
//! sharded-slab access with reference counting, the extensions' lock and a `TypeId` map, ~300
//! instructions and four atomic read-modify-writes. Here the same data sits in a fixed,
//! open-addressed table owned by the layer: creation claims a slot with one compare-and-swap,
//! exit adds to it with one `fetch_add`, close reads it and frees it with plain stores.
//!
//! A span that finds no free slot among its [`PROBES`] candidates (more live spans than the
//! table holds, or an unlucky neighbourhood) is timed the slow way, in its registry
//! extensions; nothing is lost, it only costs more.

// One use, with its SAFETY note: a zeroed allocation, so that unused slots cost no RSS.
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, Ordering};

/// Slots in a table: 16,384 × 32 bytes = 512 KiB of address space, touched only as spans use
/// it. More live timed spans than this fall back to the registry.
pub(crate) const SLOTS: usize = 1 << 14;

/// Candidate slots for one span: its hash's slot and the next ones. A lookup always checks all
/// of them (freed slots leave no tombstones to stop at), so this bounds the cost of a miss.
pub(crate) const PROBES: usize = 8;

/// One span's timing. `key == 0` means free.
#[derive(Debug)]
#[repr(align(32))]
struct Slot {
    key: AtomicU64,
    /// Raw clock ticks at creation.
    opened: AtomicU64,
    /// Ticks spent entered so far.
    busy: AtomicU64,
}

/// A claimed slot, by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotIndex(usize);

/// What a closed span's slot held.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Closed {
    pub(crate) opened: u64,
    pub(crate) busy: u64,
}

/// See the module documentation. Span ids are unique only within one subscriber, so each
/// layer owns its table.
#[derive(Debug)]
pub(crate) struct ClockTable {
    slots: Box<[Slot]>,
}

impl Default for ClockTable {
    fn default() -> Self {
        ClockTable::new()
    }
}

impl ClockTable {
    pub(crate) fn new() -> ClockTable {
        // Zeroed memory is a table of free slots (atomics of 0 and null pointers), and it is
        // mapped lazily: the pages of unused slots cost no RSS. (`Box::new_zeroed_slice` is
        // newer than the crate's MSRV.)
        let layout = std::alloc::Layout::array::<Slot>(SLOTS).expect("a fixed, small size");
        // SAFETY: `layout` has a non-zero size. A null result is handled before use. Every
        // field of `Slot` is an atomic integer, for which all-zero bytes are a valid
        // value, and the pointer was allocated by the global allocator with `Slot`'s array
        // layout, as `Box<[Slot]>` requires to free it.
        let slots = unsafe {
            let ptr = std::alloc::alloc_zeroed(layout).cast::<Slot>();
            if ptr.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, SLOTS))
        };
        ClockTable { slots }
    }

    /// The slots `key` may live in.
    ///
    /// `tracing-subscriber`'s registry makes a span id from a sharded-slab index: the slot's
    /// address within its thread's shard in the low bits, the shard (thread) above them, and
    /// a generation, bumped each time the slot is reused, in the top bits. The home slot keeps
    /// the address bits as they are and mixes in the shard, but not the generation: a new span
    /// that reuses a closed span's registry slot reuses its (cache-hot) table slot too, where a
    /// full hash would scatter spans over the whole table and miss the cache on every new
    /// span (~+100 ns per span inside a full logging stack). Ids laid out differently only
    /// spread less evenly: the probes still find every key.
    #[inline]
    fn candidates(key: u64) -> impl Iterator<Item = usize> {
        // sharded-slab's default layout: 38 address bits (32 pages, the first of 32 slots),
        // then 13 bits of shard (4,096 threads), then the generation.
        const ADDRESS_BITS: u32 = 38;
        const SHARD_MASK: u64 = (1 << 13) - 1;
        let shard = (key >> ADDRESS_BITS) & SHARD_MASK;
        let home = (key ^ shard.wrapping_mul(0x9E37_79B9)) as usize;
        (0..PROBES).map(move |i| (home + i) & (SLOTS - 1))
    }

    /// Claims a slot for span `key` (non-zero), opened at `opened` ticks; `None` when every
    /// candidate slot is taken.
    #[inline]
    pub(crate) fn open(&self, key: u64, opened: u64) -> Option<SlotIndex> {
        debug_assert_ne!(key, 0);
        for i in Self::candidates(key) {
            let slot = &self.slots[i];
            if slot.key.load(Ordering::Relaxed) == 0
                && slot
                    .key
                    .compare_exchange(0, key, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                slot.opened.store(opened, Ordering::Relaxed);
                slot.busy.store(0, Ordering::Relaxed);
                return Some(SlotIndex(i));
            }
        }
        None
    }

    /// The slot span `key` claimed, if it claimed one.
    #[inline]
    pub(crate) fn find(&self, key: u64) -> Option<SlotIndex> {
        Self::candidates(key)
            .find(|&i| self.slots[i].key.load(Ordering::Relaxed) == key)
            .map(SlotIndex)
    }

    /// Adds `ticks` of entered time to a slot.
    #[inline]
    pub(crate) fn add_busy(&self, slot: SlotIndex, ticks: u64) {
        self.slots[slot.0].busy.fetch_add(ticks, Ordering::Relaxed);
    }

    /// Reads and frees a slot.
    #[inline]
    pub(crate) fn close(&self, slot: SlotIndex) -> Closed {
        let slot = &self.slots[slot.0];
        let closed = Closed {
            opened: slot.opened.load(Ordering::Relaxed),
            busy: slot.busy.load(Ordering::Relaxed),
        };
        // Release: the reads above happen before another span can claim the slot.
        slot.key.store(0, Ordering::Release);
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_keeps_its_span_timing_until_closed() {
        let table = ClockTable::new();
        let slot = table.open(42, 1_000).unwrap();
        assert_eq!(table.find(42), Some(slot));
        assert_eq!(table.find(43), None);
        table.add_busy(slot, 5);
        table.add_busy(table.find(42).unwrap(), 7);
        let closed = table.close(slot);
        assert_eq!((closed.opened, closed.busy), (1_000, 12));
        assert_eq!(table.find(42), None, "freed");
    }

    #[test]
    fn a_reused_registry_slot_keeps_its_home_and_threads_spread() {
        let home = |k: u64| ClockTable::candidates(k).next().unwrap();
        let id = |generation: u64, shard: u64, address: u64| {
            (generation << 51 | shard << 38 | address) + 1
        };
        assert_eq!(home(id(0, 0, 5)), home(id(7, 0, 5)), "generation ignored");
        assert_eq!(
            home(id(0, 0, 6)),
            home(id(0, 0, 5)) + 1,
            "neighbours stay neighbours"
        );
        let homes: std::collections::HashSet<_> = (0..8).map(|t| home(id(0, t, 0))).collect();
        assert_eq!(homes.len(), 8, "threads' first slots do not collide");
    }

    #[test]
    fn a_full_neighbourhood_refuses_and_a_freed_slot_is_reused() {
        let table = ClockTable::new();
        // Keys that share a home slot: find PROBES + 1 of them.
        let home = |k: u64| ClockTable::candidates(k).next().unwrap();
        let keys: Vec<u64> = (1..)
            .filter(|&k| home(k) == home(1))
            .take(PROBES + 1)
            .collect();
        let slots: Vec<_> = keys[..PROBES]
            .iter()
            .map(|&k| table.open(k, 0).expect("a free candidate"))
            .collect();
        assert_eq!(table.open(keys[PROBES], 0), None, "neighbourhood full");
        // Freeing one in the middle leaves the others findable (no probe chain to break).
        table.close(slots[3]);
        for (i, &k) in keys[..PROBES].iter().enumerate() {
            assert_eq!(table.find(k).is_some(), i != 3);
        }
        assert!(table.open(keys[PROBES], 0).is_some());
        assert!(table.find(keys[PROBES]).is_some());
    }
}
