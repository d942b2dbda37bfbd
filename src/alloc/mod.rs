//! Allocation accounting: an opt-in global-allocator wrapper, [`Counting`], that counts live
//! heap bytes, allocations, frees and bytes allocated, read with [`stats`] and exported on
//! `/metrics` as `process_heap_live_bytes`, `process_heap_allocations_total`,
//! `process_heap_frees_total` and `process_heap_allocated_bytes_total`.
//!
//! The allocation *rate* (`rate(process_heap_allocated_bytes_total[1m])`) is the Rust analog
//! of a garbage-collected runtime's "GC every 200 ms" signal, and live bytes that only ever
//! grow are what a leak looks like before the OOM killer sees it.
//!
//! ```
//! use std::alloc::System;
//! use stethoscope::alloc::Counting;
//!
//! #[global_allocator]
//! static ALLOCATOR: Counting<System> = Counting::new(System);
//!
//! fn main() {
//!     let buffer = vec![0u8; 1 << 20];
//!     let stats = stethoscope::alloc::stats().expect("Counting is the global allocator");
//!     assert!(stats.live_bytes >= 1 << 20);
//!     drop(buffer);
//! }
//! ```
//!
//! # Cost
//!
//! Each thread adds to plain thread-local counters and publishes them to the process-wide
//! atomics every [`FLUSH_EVERY_OPS`] operations or [`FLUSH_EVERY_BYTES`] bytes, whichever comes
//! first, so the hot path has no atomic read-modify-write and no shared cache line. An
//! alloc/free pair costs a few nanoseconds more than the wrapped allocator (see
//! `docs/performance.md`, section "Memory").
//!
//! # Accuracy
//!
//! [`stats`] publishes the calling thread's pending counts first, so in a single thread the
//! numbers are exact. Other threads' counts are at most one batch behind. On Linux a thread's
//! last batch is published when it exits (a `pthread` key destructor), so threads that come
//! and go (tokio's blocking pool) leave nothing behind; elsewhere up to one batch per exited
//! thread is never published.
//!
//! `realloc` counts as one free of the old size plus one allocation of the new size.

mod counters;
mod counting;
#[cfg(target_os = "linux")]
mod thread_exit;

pub use counters::{stats, AllocStats, FLUSH_EVERY_BYTES, FLUSH_EVERY_OPS};
pub use counting::Counting;
