//! The seed's listener leak: a request subscribes to a shared bus and never unsubscribes.
//! Live `Listener`s and live heap bytes grow every round and `heap::compare` puts `Listener`
//! at the top; unsubscribing keeps both flat.

mod support;

use std::alloc::System;

use stethoscope::alloc::Counting;
use stethoscope::heap;
use support::leaks::{self, Bus, PAYLOAD};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

#[test]
fn forgotten_listeners_grow_and_are_named_while_removed_ones_stay_flat() {
    let bus = Bus::default();
    let leaky = leaks::snapshots(5, 50, |n| leaks::subscribe_and_forget(&bus, n));
    let counts = leaks::counts(&leaky, "::Listener");
    assert_eq!(counts, [0, 50, 100, 150, 200, 250]);
    let live = leaks::live_bytes(&leaky);
    assert!(leaks::strictly_increasing(&live), "{live:?}");
    let grown = live[5] - live[0];
    assert!(
        grown >= (250 * PAYLOAD) as u64,
        "{grown} bytes for 250 leaks"
    );

    let comparison = heap::compare(&leaky[0], &leaky[5]);
    let top = comparison.top_grower().expect("something grew");
    assert!(top.type_name.ends_with("::Listener"), "{comparison}");
    assert_eq!((top.before, top.after, top.delta), (0, 250, 250));
    let table = comparison.to_string();
    assert!(
        table.lines().nth(1).unwrap().contains("Listener"),
        "{table}"
    );
    assert!(bus.publish(1) > 0);
    drop(bus);

    let fixed_bus = Bus::default();
    // One warm-up round sizes the bus's vector; after that nothing may grow.
    let fixed = leaks::snapshots(6, 50, |n| leaks::subscribe_then_unsubscribe(&fixed_bus, n));
    let counts = leaks::counts(&fixed[1..], "::Listener");
    assert!(counts.iter().all(|&c| c == 0), "{counts:?}");
    let live = leaks::live_bytes(&fixed[1..]);
    let spread = live.iter().max().unwrap() - live.iter().min().unwrap();
    assert!(
        spread < PAYLOAD as u64,
        "live bytes moved by {spread}: {live:?}"
    );
    let comparison = heap::compare(&fixed[1], &fixed[6]);
    assert!(comparison.top_grower().is_none(), "{comparison}");
}
