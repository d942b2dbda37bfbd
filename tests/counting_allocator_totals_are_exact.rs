//! `alloc::Counting` as the global allocator: in one thread, the totals move by exactly what
//! the code allocated and freed, including reallocations and zeroed allocations.

#![allow(unsafe_code)] // calling `GlobalAlloc` methods directly to control every byte

use std::alloc::{GlobalAlloc, Layout, System};

use stethoscope::alloc::{self, AllocStats, Counting};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

fn delta(before: AllocStats, after: AllocStats) -> (i128, u64, u64, u64) {
    (
        i128::from(after.live_bytes) - i128::from(before.live_bytes),
        after.allocations - before.allocations,
        after.frees - before.frees,
        after.allocated_bytes - before.allocated_bytes,
    )
}

#[test]
fn single_threaded_totals_are_exact() {
    let before = alloc::stats().expect("Counting is the global allocator");
    // More operations than one batch, so publication in the middle is exercised too.
    let sizes: Vec<usize> = (1..=1_000).map(|i| i * 8).collect();
    let expected_bytes: u64 = sizes.iter().map(|&s| s as u64).sum();
    let layouts: Vec<Layout> = sizes
        .iter()
        .map(|&s| Layout::from_size_align(s, 8).unwrap())
        .collect();
    // `sizes` and `layouts` were allocated before `after_setup` is read: exclude them.
    let after_setup = alloc::stats().unwrap();
    let mut ptrs = Vec::with_capacity(layouts.len());
    let after_vec = alloc::stats().unwrap();
    for layout in &layouts {
        // SAFETY: non-zero sizes; each pointer is freed below with its own layout.
        ptrs.push(unsafe { ALLOCATOR.alloc(*layout) });
    }
    let allocated = alloc::stats().unwrap();
    assert_eq!(
        delta(after_vec, allocated),
        (i128::from(expected_bytes as i64), 1_000, 0, expected_bytes)
    );
    for (ptr, layout) in ptrs.drain(..).zip(&layouts) {
        assert!(!ptr.is_null());
        // SAFETY: allocated above with this layout, freed once.
        unsafe { ALLOCATOR.dealloc(ptr, *layout) };
    }
    let freed = alloc::stats().unwrap();
    assert_eq!(
        delta(allocated, freed),
        (-i128::from(expected_bytes as i64), 0, 1_000, 0)
    );

    // realloc = one free of the old size + one allocation of the new size.
    let layout = Layout::from_size_align(100, 8).unwrap();
    let start = alloc::stats().unwrap();
    // SAFETY: non-zero size; grown then freed with the grown layout.
    unsafe {
        let p = ALLOCATOR.alloc_zeroed(layout);
        let p = ALLOCATOR.realloc(p, layout, 300);
        ALLOCATOR.dealloc(p, Layout::from_size_align(300, 8).unwrap());
    }
    let end = alloc::stats().unwrap();
    assert_eq!(delta(start, end), (0, 2, 2, 400));

    // Ordinary collections count the same way.
    let start = alloc::stats().unwrap();
    let buffer: Vec<u8> = Vec::with_capacity(1 << 20);
    let with_buffer = alloc::stats().unwrap();
    assert_eq!(delta(start, with_buffer), (1 << 20, 1, 0, 1 << 20));
    drop(buffer);
    let end = alloc::stats().unwrap();
    assert_eq!(end.live_bytes, start.live_bytes);
    assert!(after_setup.allocations >= before.allocations + 2);
}
