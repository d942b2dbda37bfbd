//! Runs a small service with three pathologies at once (JSON parsing on the runtime's workers,
//! a cache that never evicts, a query that mostly waits) under the doctor, then writes its
//! report as HTML, JSON and text.
//!
//! ```sh
//! cargo run --release --example doctor_report -- /tmp/doctor          # writes /tmp/doctor.{html,json,txt}
//! cargo run --release --example doctor_report -- /tmp/healthy healthy  # the same service, fixed
//! ```

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use stethoscope::doctor::{Doctor, TypeCount};
use stethoscope::runtime::{OperationStats, SlowOpLayer};
use tracing::Instrument;
use tracing_subscriber::prelude::*;

/// A cached block: 64 KiB that nobody ever evicts.
struct CachedBlock {
    _raw: Vec<u8>,
}

/// Synchronous, CPU-heavy "parsing" that should not run on a runtime worker.
#[inline(never)]
fn parse_block_json(rounds: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "doctor".to_owned());
    let healthy = std::env::args().nth(2).as_deref() == Some("healthy");
    let window = Duration::from_secs(4);
    let stats = OperationStats::new();
    tracing_subscriber::registry()
        .with(SlowOpLayer::new().with_operation_stats(stats.clone()))
        .init();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let cache: Arc<Mutex<HashMap<u64, CachedBlock>>> = Arc::default();
    let cached = Arc::new(AtomicU64::new(0));

    // 1. Parsing on the workers: blocks them ~100 ms at a time (fixed: on the blocking pool).
    for _ in 0..2 {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let parse = move || {
                    let deadline = Instant::now() + Duration::from_millis(100);
                    while Instant::now() < deadline {
                        black_box(parse_block_json(black_box(200_000)));
                    }
                };
                if healthy {
                    tokio::task::spawn_blocking(parse).await.unwrap();
                } else {
                    parse();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
    }
    // 2. The cache that never evicts (fixed: it keeps the last 64 blocks).
    {
        let (stop, cache, cached) = (Arc::clone(&stop), Arc::clone(&cache), Arc::clone(&cached));
        runtime.spawn(async move {
            let mut height = 0;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..4 {
                    height += 1;
                    let block = CachedBlock {
                        _raw: vec![1u8; 64 * 1024],
                    };
                    let mut cache = cache.lock().unwrap();
                    cache.insert(height, block);
                    if healthy {
                        cache.retain(|h, _| *h + 64 > height);
                    }
                    cached.store(cache.len() as u64, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        });
    }
    // 3. A query that waits on a slow database (fixed: an index makes it take 2 ms).
    {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let query_time = Duration::from_millis(if healthy { 2 } else { 120 });
                async { tokio::time::sleep(query_time).await }
                    .instrument(tracing::info_span!("db.query"))
                    .await;
                async { black_box(parse_block_json(1_000)) }
                    .instrument(tracing::info_span!("handle_request"))
                    .await;
            }
        });
    }

    let doctor = Doctor::new()
        .with_operation_stats(stats)
        .with_live_types(move || {
            let n = cached.load(Ordering::Relaxed);
            vec![
                TypeCount::new("doctor_report::CachedBlock", n, n * 64 * 1024),
                TypeCount::new("doctor_report::Config", 1, 256),
            ]
        });
    let report = runtime.block_on(doctor.observe(window))?;
    stop.store(true, Ordering::Relaxed);

    std::fs::write(format!("{out}.html"), report.to_html())?;
    std::fs::write(format!("{out}.json"), report.to_json())?;
    std::fs::write(format!("{out}.txt"), report.to_text())?;
    print!("{}", report.to_text());
    eprintln!("wrote {out}.html, {out}.json and {out}.txt");
    Ok(())
}
