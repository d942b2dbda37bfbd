//! With `alloc::Counting` as the global allocator, `/metrics` carries the heap totals and
//! `live_objects{type}` / `live_object_bytes{type}` for tracked types, and they follow the
//! program: allocating more shows on the next scrape.

mod http;

use std::alloc::System;

use stethoscope::alloc::Counting;
use stethoscope::heap::Tracked;
use stethoscope::{LogOutput, Stethoscope};

#[global_allocator]
static ALLOCATOR: Counting<System> = Counting::new(System);

struct Session;

fn live_objects(scrape: &prometheus_parse::Scrape, metric: &str, suffix: &str) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && s.labels.get("type").is_some_and(|t| t.ends_with(suffix)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) => v,
            ref other => panic!("{metric} is not a gauge: {other:?}"),
        })
}

#[test]
fn heap_totals_and_live_objects_are_on_metrics() {
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().expect("the admin server runs");

    let sessions: Vec<Tracked<Session>> = (0..7).map(|_| Tracked::new(Session)).collect();
    let first = http::scrape(addr, &[]);
    for name in [
        "process_heap_live_bytes",
        "process_heap_allocations_total",
        "process_heap_frees_total",
        "process_heap_allocated_bytes_total",
    ] {
        assert!(
            http::value(&first, name).unwrap_or(0.0) > 0.0,
            "{name} missing"
        );
    }
    assert_eq!(live_objects(&first, "live_objects", "::Session"), Some(7.0));
    assert_eq!(
        live_objects(&first, "live_object_bytes", "::Session"),
        Some(0.0),
        "a zero-sized type"
    );

    let big = vec![1u8; 8 << 20];
    let more: Vec<Tracked<Session>> = (0..5).map(|_| Tracked::new(Session)).collect();
    let second = http::scrape(addr, &[]);
    let grew = |name| http::value(&second, name).unwrap() - http::value(&first, name).unwrap();
    assert!(grew("process_heap_live_bytes") >= (8 << 20) as f64);
    assert!(grew("process_heap_allocated_bytes_total") >= (8 << 20) as f64);
    assert!(grew("process_heap_allocations_total") >= 1.0);
    assert_eq!(
        live_objects(&second, "live_objects", "::Session"),
        Some(12.0)
    );
    drop((big, more, sessions));
    let third = http::scrape(addr, &[]);
    assert_eq!(live_objects(&third, "live_objects", "::Session"), Some(0.0));
    assert!(
        http::value(&third, "process_heap_live_bytes").unwrap()
            < http::value(&second, "process_heap_live_bytes").unwrap() - (4 << 20) as f64
    );

    let table = http::get(addr, "/debug/heap");
    assert_eq!(table.status, 200);
    assert!(table.body.contains("Session"), "{}", table.body);
    assert!(table.body.contains("heap:"), "{}", table.body);
    assert_eq!(http::get(addr, "/debug/heap?x=1").status, 400);
}
