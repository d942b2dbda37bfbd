//! The seed's unbounded-map leak: a cache keyed by something unique per request that never
//! evicts. Live entries and bytes grow every round and `heap::compare` puts the cached type at
//! the top; a bounded cache stays flat once full.

mod support;

use std::alloc::System;

use stethoscope::alloc::Counting;
use stethoscope::heap;
use support::leaks::{self, Cache, PAYLOAD};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

#[test]
fn an_unbounded_cache_grows_and_is_named_while_a_bounded_one_stays_flat() {
    let mut cache = Cache::unbounded();
    let leaky = leaks::snapshots(5, 40, |n| cache.insert_forever(n as u64));
    let counts = leaks::counts(&leaky, "::CachedBlock");
    assert_eq!(counts, [0, 40, 80, 120, 160, 200]);
    let live = leaks::live_bytes(&leaky);
    assert!(leaks::strictly_increasing(&live), "{live:?}");
    assert!(live[5] - live[0] >= (200 * PAYLOAD) as u64);
    let comparison = heap::compare(&leaky[0], &leaky[5]);
    let top = comparison.top_grower().expect("something grew");
    assert!(top.type_name.ends_with("::CachedBlock"), "{comparison}");
    assert_eq!(top.delta, 200);
    assert_eq!(cache.len(), 200);
    drop(cache);

    let mut bounded = Cache::bounded(40);
    // The first round fills it; from then on each insert evicts one.
    let fixed = leaks::snapshots(6, 40, |n| bounded.insert_forever(n as u64));
    let counts = leaks::counts(&fixed[1..], "::CachedBlock");
    assert!(counts.iter().all(|&c| c == 40), "{counts:?}");
    let live = leaks::live_bytes(&fixed[1..]);
    let spread = live.iter().max().unwrap() - live.iter().min().unwrap();
    assert!(
        spread < PAYLOAD as u64,
        "live bytes moved by {spread}: {live:?}"
    );
    assert!(heap::compare(&fixed[1], &fixed[6]).top_grower().is_none());
}
