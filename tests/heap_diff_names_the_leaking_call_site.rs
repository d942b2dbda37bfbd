//! With jemalloc's profiler on, the heap profiles taken before and after a listener leak
//! differ in the leaking call site: `heap::growth` puts its stack first and `heap::diff`
//! draws it; the fixed code adds nothing there.
#![cfg(feature = "jemalloc")]
// The one unsafe item: exporting jemalloc's configuration symbol.
#![allow(unsafe_code)]

mod support;

use stethoscope::heap::{self, HeapProfile, Jemalloc};
use support::leaks::{self, Bus, PAYLOAD};

#[global_allocator]
static ALLOCATOR: Jemalloc = Jemalloc;

/// Read by jemalloc before its first allocation: profile from the start, sampling every
/// 4 KiB on average (`lg_prof_sample:12`), so each 16 KiB leak is almost surely sampled.
#[allow(non_upper_case_globals)]
// SAFETY: a NUL-terminated static string that jemalloc only reads.
#[export_name = "_rjem_malloc_conf"]
pub static malloc_conf: &[u8] = b"prof:true,prof_active:true,lg_prof_sample:12\0";

fn grown_in(rows: &[heap::StackGrowth], function: &str) -> i64 {
    rows.iter()
        .filter(|r| r.frames.iter().any(|f| f.contains(function)))
        .map(|r| r.delta)
        .sum()
}

#[test]
fn the_heap_diff_names_the_call_site_that_leaks() {
    assert!(HeapProfile::is_available());
    let bus = Bus::default();
    let before = HeapProfile::capture().unwrap();
    for request in 0..150 {
        leaks::subscribe_and_forget(&bus, request);
    }
    let after = HeapProfile::capture().unwrap();

    let rows = heap::growth(&before, &after);
    let top = &rows[0];
    assert!(
        top.frames
            .iter()
            .any(|f| f.contains("subscribe_and_forget")),
        "top growth is not the leak: {:#?}",
        &rows[..rows.len().min(3)]
    );
    let leaked = grown_in(&rows, "subscribe_and_forget");
    assert!(
        leaked >= (150 * PAYLOAD) as i64 * 9 / 10,
        "{leaked} bytes grew for 150 leaks"
    );
    let svg = String::from_utf8(heap::diff(&before, &after).unwrap()).unwrap();
    assert!(svg.contains("subscribe_and_forget"));
    assert!(after.total_bytes() > before.total_bytes());

    // The fix: after one warm-up round sizes the bus, its call site adds nothing.
    let fixed_bus = Bus::default();
    for request in 0..50 {
        leaks::subscribe_then_unsubscribe(&fixed_bus, request);
    }
    let before = HeapProfile::capture().unwrap();
    for request in 50..200 {
        leaks::subscribe_then_unsubscribe(&fixed_bus, request);
    }
    let after = HeapProfile::capture().unwrap();
    let grown = grown_in(&heap::growth(&before, &after), "subscribe_then_unsubscribe");
    assert!(
        grown < PAYLOAD as i64,
        "the fixed call site grew by {grown} bytes"
    );
    drop(bus);
}
