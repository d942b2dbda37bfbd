//! `alloc::Counting` publishes a thread's last, partial batch when the thread exits (Linux),
//! so threads that come and go never make live bytes drift.
#![cfg(target_os = "linux")]

use std::alloc::System;

use stethoscope::alloc::{self, Counting, FLUSH_EVERY_BYTES, FLUSH_EVERY_OPS};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

#[test]
fn a_thread_that_exits_mid_batch_is_fully_counted() {
    // Fewer operations and bytes than one batch: only the exit hook can publish them.
    let kept_per_thread = 3usize;
    let size = 1000usize;
    assert!(kept_per_thread < FLUSH_EVERY_OPS as usize / 2);
    assert!(((kept_per_thread * size) as u64) < FLUSH_EVERY_BYTES);
    let threads = 8;

    let before = alloc::stats().expect("Counting is the global allocator");
    let mut kept: Vec<Vec<Box<[u8]>>> = Vec::with_capacity(threads);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                (0..kept_per_thread)
                    .map(|_| vec![7u8; size].into_boxed_slice())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for handle in handles {
        kept.push(handle.join().unwrap());
    }
    let after = alloc::stats().unwrap();
    let kept_bytes = (threads * kept_per_thread * size) as u64;
    // Everything the threads allocated and kept is live; what spawning and joining
    // allocated and freed (thread handles, stacks' bookkeeping) nets out.
    let grown = after.live_bytes as i128 - before.live_bytes as i128;
    assert!(
        grown >= kept_bytes as i128,
        "live bytes grew by {grown}, less than the {kept_bytes} bytes kept"
    );
    // Slack for the `kept` vectors and the threads' own bookkeeping, not for lost batches.
    assert!(
        grown < kept_bytes as i128 + 16 * 1024,
        "live bytes grew by {grown}, far more than the {kept_bytes} bytes kept"
    );
    drop(kept);
    let dropped = alloc::stats().unwrap();
    let left = dropped.live_bytes as i128 - before.live_bytes as i128;
    assert!(
        left.abs() < 16 * 1024,
        "after dropping everything, live bytes are {left} away from the start"
    );
}
