//! A global allocator that counts the allocations each thread makes, for tests proving a hot
//! path allocates nothing. Declare it in the test crate:
//! `#[global_allocator] static GLOBAL: Counting = Counting;`

// The only unsafe code in the test suite: forwarding to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // Const-initialized and without a destructor, so the allocator can touch it while the
    // thread runs without allocating itself.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts `alloc` and `realloc` calls per thread; frees are not counted.
pub(crate) struct Counting;

// SAFETY: every method forwards to `System` unchanged; counting only touches a thread-local
// `Cell`, which neither allocates nor unwinds.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made so far by the calling thread.
pub(crate) fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}
