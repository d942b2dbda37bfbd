//! `N` alloc/free pairs of 64 bytes through `System` or `alloc::Counting<System>`, so that
//! callgrind can count the instructions `Counting` adds where wall-clock benches are noisy:
//!
//! ```sh
//! cargo build --release --example alloc_pair_for_callgrind
//! for a in system counting; do for n in 0 1000000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/alloc_pair_for_callgrind $a $n 2>&1 | grep Collected
//! done; done   # (count(1000000) - count(0)) / 1000000 = instructions per pair
//! ```

#![allow(unsafe_code)] // calling `GlobalAlloc` methods directly is unsafe

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;

use stethoscope::alloc::Counting;

static COUNTING: Counting<System> = Counting::new(System);

fn pairs<A: GlobalAlloc>(allocator: &A, n: u64) {
    let layout = Layout::from_size_align(64, 8).expect("valid layout");
    for _ in 0..n {
        // SAFETY: non-zero size; freed with the same layout by the allocator that returned it.
        unsafe {
            let ptr = allocator.alloc(black_box(layout));
            if !ptr.is_null() {
                black_box(ptr).write(1);
                allocator.dealloc(ptr, layout);
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let allocator = args.next().unwrap_or_default();
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    match allocator.as_str() {
        "system" => pairs(&System, n),
        "counting" => pairs(&COUNTING, n),
        other => eprintln!("unknown allocator {other:?}: expected system or counting"),
    }
}
