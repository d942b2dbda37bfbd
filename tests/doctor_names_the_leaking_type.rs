//! A cache that never evicts (the seed's unbounded map): resident memory grows along a line
//! and, with a live-types input, the memory finding names the type that grows.

#![cfg(target_os = "linux")] // resident memory is read from /proc

mod doctor;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use stethoscope::doctor::{Doctor, Signal, TypeCount};

/// What the leaking cache holds: 64 KiB per entry.
struct Session {
    _state: Vec<u8>,
}

#[test]
fn a_growing_map_is_a_memory_finding_that_names_the_type() {
    let stop = doctor::Stop::default();
    let live = Arc::new(AtomicU64::new(0));
    let leak = {
        let (stop, live) = (stop.clone(), Arc::clone(&live));
        std::thread::spawn(move || {
            let mut cache: HashMap<u64, Session> = HashMap::new();
            let mut id = 0;
            while !stop.stopped() {
                for _ in 0..8 {
                    id += 1;
                    // Ones, not zeros: zeroed pages would not be resident until written.
                    cache.insert(
                        id,
                        Session {
                            _state: vec![1u8; 64 * 1024],
                        },
                    );
                }
                live.store(cache.len() as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(25));
            }
            cache.len()
        })
    };
    let reader = Arc::clone(&live);
    let report = Doctor::new()
        .with_cpu_profile(false)
        .with_live_types(move || {
            let sessions = reader.load(Ordering::Relaxed);
            vec![
                TypeCount::new("leaky::Config", 1, 128),
                TypeCount::new("leaky::Session", sessions, sessions * 64 * 1024),
            ]
        })
        .observe_blocking(doctor::WINDOW)
        .unwrap();
    stop.stop();
    assert!(leak.join().unwrap() > 0);

    let memory = doctor::finding(&report, "memory_growth");
    assert_eq!(
        memory.signal,
        Some(Signal::ResidentMemory),
        "{}",
        report.to_text()
    );
    assert_eq!(memory.subjects, ["leaky::Session"], "{}", report.to_text());
    assert!(memory.evidence("growth_bytes_per_second").unwrap() > 1024.0 * 1024.0);
    assert!(memory.evidence("r_squared").unwrap() >= 0.8);
    assert!(memory.recommendation.contains("heap::compare"));
    // The comparison table puts the leaking type first.
    let top = &report.live_types()[0];
    assert_eq!(top.type_name, "leaky::Session");
    assert!(top.count_delta() >= 100, "{top:?}");
}

/// The same leak held in `heap::Tracked`, read through `with_stethoscope_heap` (what
/// `Guard::doctor` and `/debug/doctor` use): no hand-written input needed.
#[test]
fn tracked_types_reach_the_doctor_without_a_closure() {
    use stethoscope::heap::Tracked;
    let stop = doctor::Stop::default();
    let leak = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut cache: HashMap<u64, Tracked<Session>> = HashMap::new();
            let mut id = 0;
            while !stop.stopped() {
                for _ in 0..8 {
                    id += 1;
                    let session = Session {
                        _state: vec![1u8; 64 * 1024],
                    };
                    cache.insert(id, Tracked::with_heap_bytes(session, 64 * 1024));
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            cache.len()
        })
    };
    let report = Doctor::new()
        .with_cpu_profile(false)
        .with_stethoscope_heap()
        .observe_blocking(doctor::WINDOW)
        .unwrap();
    stop.stop();
    assert!(leak.join().unwrap() > 0);
    let memory = doctor::finding(&report, "memory_growth");
    assert!(
        memory.subjects[0].ends_with("Session"),
        "{}",
        report.to_text()
    );
    assert!(report.live_types()[0].type_name.ends_with("Session"));
}
