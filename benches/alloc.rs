//! What `alloc::Counting` adds to an allocation: an alloc/free pair of 64 bytes through
//! `Counting<System>` against `System` directly, in the same run. Both are called through
//! `GlobalAlloc` on a `static`, as the global allocator would be.
//!
//! ```text
//! cargo bench --bench alloc
//! ```

#![allow(unsafe_code)] // calling `GlobalAlloc` methods directly is unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use stethoscope::alloc::Counting;

static COUNTING: Counting<System> = Counting::new(System);

fn pair<A: GlobalAlloc>(allocator: &A, layout: Layout) {
    // SAFETY: `layout` has a non-zero size; the pointer is freed with the same layout by the
    // allocator that returned it, and only if it is non-null.
    unsafe {
        let ptr = allocator.alloc(layout);
        if !ptr.is_null() {
            black_box(ptr).write(1);
            allocator.dealloc(ptr, layout);
        }
    }
}

fn alloc_free(c: &mut Criterion) {
    let mut group = c.benchmark_group("alloc_free_pair");
    for size in [64usize, 4096] {
        let layout = Layout::from_size_align(size, 8).expect("valid layout");
        group.bench_function(format!("System/{size}"), |b| {
            b.iter(|| pair(&System, black_box(layout)))
        });
        group.bench_function(format!("Counting<System>/{size}"), |b| {
            b.iter(|| pair(&COUNTING, black_box(layout)))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = alloc_free
}
criterion_main!(benches);
