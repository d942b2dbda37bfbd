//! [`Counting`]: the `GlobalAlloc` wrapper.

#![allow(unsafe_code)] // implementing `GlobalAlloc` is unsafe by definition; see SAFETY below

use std::alloc::{GlobalAlloc, Layout};

use super::counters::{on_alloc, on_free};

/// A global allocator that counts what goes through the allocator it wraps: live bytes,
/// allocations, frees and bytes allocated, read with [`stats`](super::stats).
///
/// Opt-in: declare it in the application's `main.rs`; stethoscope never installs a global
/// allocator itself. It wraps any allocator, e.g. `System` or a jemalloc/mimalloc one:
///
/// ```
/// use std::alloc::System;
///
/// #[global_allocator]
/// static ALLOCATOR: stethoscope::alloc::Counting<System> = stethoscope::alloc::Counting::new(System);
/// # fn main() {}
/// ```
#[derive(Debug, Default)]
pub struct Counting<A> {
    inner: A,
}

impl<A> Counting<A> {
    /// Wraps `inner`; usable in a `static`.
    pub const fn new(inner: A) -> Self {
        Counting { inner }
    }

    /// The wrapped allocator.
    pub const fn inner(&self) -> &A {
        &self.inner
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// its result unchanged, so `inner`'s guarantees carry over. Counting only touches a
// destructor-less thread-local and atomics: it neither allocates, nor unwinds, nor panics.
// Failed allocations (null) are not counted.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { self.inner.alloc(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let ptr = unsafe { self.inner.alloc_zeroed(layout) };
        if !ptr.is_null() {
            on_alloc(layout.size());
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `inner` (through us) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) };
        on_free(layout.size());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as our caller's.
        let new = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // On failure the old block is untouched and still live: nothing changed.
            on_free(layout.size());
            on_alloc(new_size);
        }
        new
    }
}
