//! Process metrics sampled in the background follow CPU use and memory growth.

#![cfg(target_os = "linux")]

mod http;

use std::time::{Duration, Instant};

use stethoscope::{LogOutput, Stethoscope};

fn sampled(addr: std::net::SocketAddr, name: &str) -> f64 {
    http::value(&http::scrape(addr, &[]), name).unwrap_or_else(|| panic!("{name} missing"))
}

/// Waits for the background sampler to publish a value satisfying `ok` (sampling is every 20 ms).
fn eventually(addr: std::net::SocketAddr, name: &str, ok: impl Fn(f64) -> bool) -> f64 {
    for _ in 0..500 {
        let v = sampled(addr, name);
        if ok(v) {
            return v;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{name} never satisfied the condition; last {}",
        sampled(addr, name)
    );
}

#[test]
fn cpu_seconds_grow_under_a_busy_loop_and_rss_after_a_large_allocation() {
    let _guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(http::any_port())
        .with_metrics_sample_interval(Duration::from_millis(20))
        .unwrap()
        .install()
        .unwrap();
    let addr = _guard.admin_addr().unwrap();

    let cpu_before = sampled(addr, "process_cpu_seconds_total");
    let start = Instant::now();
    let mut x = 0u64;
    // 300 ms of CPU is 30 clock ticks: far above the 10 ms resolution of /proc.
    while start.elapsed() < Duration::from_millis(300) {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
    eventually(addr, "process_cpu_seconds_total", |v| v >= cpu_before + 0.1);

    let rss_before = sampled(addr, "process_resident_memory_bytes");
    let big = vec![1u8; 256 * 1024 * 1024]; // touched, so resident
    std::hint::black_box(&big);
    eventually(addr, "process_resident_memory_bytes", |v| {
        v >= rss_before + 200.0 * 1024.0 * 1024.0
    });
    drop(big);
}
