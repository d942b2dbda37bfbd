//! Heap growth and leaks: live-object counts per type, snapshot comparison, and (feature
//! `jemalloc`) heap profiles by call stack — the heap snapshots and their "Comparison" view
//! of a garbage-collected runtime, for Rust, where leaks are `Rc`/`Arc` cycles, subscriptions
//! never removed and caches that never evict.
//!
//! # Live-object counts
//!
//! Wrap values in [`Tracked<T>`], or give a struct a [`LiveCount`] field made by
//! [`tracked!`](crate::tracked), and every instance is counted under its type's name. Take a
//! [`snapshot`] now, another later, and [`compare`] them: the type at the top of the table is
//! the one that grew most.
//!
//! ```
//! use stethoscope::heap::{self, Tracked};
//!
//! struct Listener { _on_block: Box<dyn Fn(u64) + Send> }
//! let mut bus: Vec<Tracked<Listener>> = Vec::new();
//!
//! let before = heap::snapshot();
//! for _request in 0..1_000 {
//!     // The leak: a listener per request, never removed.
//!     bus.push(Tracked::new(Listener { _on_block: Box::new(|_| {}) }));
//! }
//! let comparison = heap::compare(&before, &heap::snapshot());
//! println!("{comparison}");
//! assert!(comparison.rows[0].type_name.ends_with("Listener"));
//! assert_eq!(comparison.rows[0].delta, 1_000);
//! ```
//!
//! With the metrics pillar installed, `/metrics` carries `live_objects{type="…"}` and
//! `live_object_bytes{type="…"}`, plus the allocator's totals (`process_heap_live_bytes`,
//! `process_heap_allocations_total`, …) when [`alloc::Counting`](crate::alloc::Counting) is
//! the global allocator. `GET /debug/heap` on the admin server prints the snapshot table.
//!
//! # Heap profiles (feature `jemalloc`)
//!
//! Counting tells *which type* grows; jemalloc's sampling profiler tells *which call stack*
//! allocated the live bytes. Three lines in the application turn it on:
//!
//! ```toml
//! stethoscope = { version = "0.1", features = ["jemalloc"] }
//! ```
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: stethoscope::heap::Jemalloc = stethoscope::heap::Jemalloc;
//! ```
//!
//! and start the process with `_RJEM_MALLOC_CONF=prof:true,prof_active:true,lg_prof_sample:19`
//! (a sample every 512 KiB on average: cheap enough for production), or bake the setting into
//! the binary, which jemalloc reads before its first allocation:
//!
//! ```ignore
//! #[allow(non_upper_case_globals, unsafe_code)]
//! #[export_name = "_rjem_malloc_conf"] // SAFETY: a NUL-terminated string jemalloc only reads
//! pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:19\0";
//! ```
//!
//! Then `GET /debug/pprof/heap` returns a gzip'd pprof heap profile of the live allocations
//! (`go tool pprof -http=: http://127.0.0.1:9464/debug/pprof/heap`), `?format=svg` a flame
//! graph of live bytes and `?format=folded` folded stacks; without the feature or with the
//! profiler off it answers `501` with these instructions. In code: [`HeapProfile::capture`],
//! and [`diff`] / [`growth`] between two captures show which call sites grew.
//!
//! # Snapshots on a signal
//!
//! [`SignalSnapshot`] (Unix) writes the counts table, the comparison with the previous
//! snapshot and, when available, the heap profile into a directory on each `kill -USR2 <pid>`.

mod compare;
mod exposition;
#[cfg(feature = "jemalloc")]
mod jemalloc;
mod live;
#[cfg(unix)]
mod on_signal;
mod profile;
mod snapshot;
mod units;

pub use compare::{compare, Comparison, ComparisonRow};
pub(crate) use exposition::render_into as render_metrics_into;
pub use live::{LiveCount, Tracked, TypeCounters};
#[cfg(unix)]
pub use on_signal::SignalSnapshot;
pub use profile::{diff, growth, HeapProfile, HeapStack, StackGrowth};
pub use snapshot::{snapshot, HeapSnapshot, TypeCount};

/// jemalloc as a global allocator, built with its heap profiler (feature `jemalloc`); see
/// [Heap profiles](self#heap-profiles-feature-jemalloc) for how to turn the profiler on.
#[cfg(feature = "jemalloc")]
#[cfg_attr(docsrs, doc(cfg(feature = "jemalloc")))]
pub use tikv_jemallocator::Jemalloc;
