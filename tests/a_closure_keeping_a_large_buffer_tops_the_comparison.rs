//! The seed's closure leak: a callback per block, kept in a registry, whose closure captures
//! the block's whole buffer. Live bytes grow by the buffers and `heap::compare` puts the
//! callback type at the top; capturing only the number needed keeps the heap flat.

mod support;

use std::alloc::System;

use stethoscope::alloc::Counting;
use stethoscope::heap;
use support::leaks::{self, Callback, Registry, PAYLOAD};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

#[test]
fn closures_keeping_buffers_grow_and_are_named_while_summaries_stay_flat() {
    let registry = Registry::default();
    let leaky = leaks::snapshots(5, 20, |n| {
        leaks::register_closure_keeping_buffer(&registry, n)
    });
    let callback = std::any::type_name::<Callback>();
    let rows: Vec<_> = leaky.iter().map(|s| s.get(callback).cloned()).collect();
    let counts: Vec<u64> = rows
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.count))
        .collect();
    assert_eq!(counts, [0, 20, 40, 60, 80, 100]);
    let bytes: Vec<u64> = rows
        .iter()
        .map(|r| r.as_ref().map_or(0, |r| r.bytes))
        .collect();
    assert!(leaks::strictly_increasing(&bytes), "{bytes:?}");
    assert!(bytes[5] >= (100 * PAYLOAD) as u64);
    let live = leaks::live_bytes(&leaky);
    assert!(leaks::strictly_increasing(&live), "{live:?}");
    assert!(live[5] - live[0] >= (100 * PAYLOAD) as u64);

    let comparison = heap::compare(&leaky[0], &leaky[5]);
    let top = comparison.top_grower().expect("something grew");
    assert_eq!(top.type_name, callback, "{comparison}");
    assert!(top.bytes_delta >= (100 * PAYLOAD) as i64, "{comparison}");
    assert_eq!(registry.len(), 100);
    drop(registry);

    let fixed_registry = Registry::default();
    let fixed = leaks::snapshots(5, 20, |n| {
        leaks::register_closure_keeping_summary(&fixed_registry, n)
    });
    let counts: Vec<u64> = fixed[1..]
        .iter()
        .map(|s| s.get(callback).map_or(0, |r| r.count))
        .collect();
    assert!(counts.iter().all(|&c| c == 1), "{counts:?}");
    let live = leaks::live_bytes(&fixed[1..]);
    let spread = live.iter().max().unwrap() - live.iter().min().unwrap();
    assert!(
        spread < PAYLOAD as u64,
        "live bytes moved by {spread}: {live:?}"
    );
    assert!(heap::compare(&fixed[1], &fixed[5]).top_grower().is_none());
}
