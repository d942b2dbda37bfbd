//! After warm-up, a registered counter handle allocates nothing, and the label-set cap adds no
//! allocation to the macro path. (The Prometheus recorder itself allocates one handle per macro
//! call, which is why hot paths should hold a registered handle.)

// The counting allocator below is the only unsafe code in this test.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use metrics_exporter_prometheus::PrometheusBuilder;
use stethoscope::metrics::{counter, histogram};
use stethoscope::{LogOutput, Stethoscope};

thread_local! {
    // Const-initialized and without a destructor, so the allocator can touch it while the
    // thread runs without allocating itself.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

struct Counting;

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

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f` 1,000 times after 100 warm-up runs.
fn allocations_of(f: impl Fn()) -> u64 {
    for _ in 0..100 {
        f();
    }
    let before = ALLOCATIONS.with(Cell::get);
    for _ in 0..1_000 {
        f();
    }
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn counters_allocate_nothing_after_warm_up() {
    let _guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .without_admin()
        .install()
        .unwrap();

    let handle = counter!("handled_total", "route" => "/tx");
    assert_eq!(
        allocations_of(|| handle.increment(1)),
        0,
        "registered handle"
    );

    let macro_calls = || {
        counter!("requests_total").increment(1);
        counter!("requests_by_route_total", "route" => "/tx", "status" => "200").increment(1);
    };
    let with_cap = allocations_of(macro_calls);
    let bare = PrometheusBuilder::new().build_recorder();
    let without_cap = metrics::with_local_recorder(&bare, || allocations_of(macro_calls));
    assert_eq!(with_cap, without_cap, "the cap must not add allocations");

    // Histograms append samples to buffers that the sampler drains; the buffer grows in blocks,
    // so count per 1,000 records and allow only those block allocations.
    let h = histogram!("latency_seconds", "route" => "/tx");
    let per_thousand = allocations_of(|| h.record(0.004));
    assert!(
        per_thousand <= 40,
        "{per_thousand} allocations per 1,000 records"
    );
}
