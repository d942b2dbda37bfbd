//! `N` span lifecycles (the same span as `benches/spans.rs`) under one configuration, so that
//! callgrind can count instructions per span where wall-clock benches are too noisy:
//!
//! ```sh
//! cargo build --release --example span_lifecycle_for_callgrind
//! for c in registry registry_slow logs_no_slow logs; do for n in 0 20000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/span_lifecycle_for_callgrind $c $n 2>&1 | grep Collected
//! done; done   # (count(20000) - count(0)) / 20000 = instructions per span
//! ```
//!
//! Natively it prints the wall time per span to stderr, for comparing configurations run
//! alternately (see `docs/performance.md`).
use stethoscope::{LogOutput, Stethoscope};

// With `--features jemalloc`, a size-class allocator whose cost per call does not depend on
// the heap's history, so that two configurations differ only by what they do (glibc's malloc
// moves by ±500 instructions per span between runs of the same configuration).
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: stethoscope::heap::Jemalloc = stethoscope::heap::Jemalloc;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;
#[inline(never)]
fn one_span(i: u64) {
    let span = tracing::info_span!(
        "write_batch",
        table = "txs",
        block = i,
        rows = tracing::field::Empty,
        status = tracing::field::Empty
    );
    let entered = span.enter();
    span.record("rows", 500u64);
    span.record("status", "ok");
    drop(entered);
}
fn dispatch_for(config: &str, keep: &mut Vec<stethoscope::Guard>) -> Dispatch {
    match config {
        "registry" => Dispatch::new(tracing_subscriber::registry()),
        "registry_slow" => Dispatch::new(
            tracing_subscriber::registry().with(stethoscope::runtime::SlowOpLayer::new()),
        ),
        "logs" | "logs_no_slow" => {
            let mut b = Stethoscope::builder()
                .with_log_output(LogOutput::Writer(Box::new(std::io::sink())));
            if config == "logs_no_slow" {
                b = b
                    .with_slow_threshold(None)
                    .unwrap()
                    .with_slow_poll_threshold(None)
                    .unwrap();
            }
            let (d, g) = b.into_dispatch().unwrap();
            keep.push(g);
            d
        }
        other => {
            panic!("unknown configuration {other:?}: registry, registry_slow, logs_no_slow, logs")
        }
    }
}

/// Nanoseconds per span for `n` spans under `dispatch`.
fn time_spans(dispatch: &Dispatch, first: u64, n: u64) -> f64 {
    tracing::dispatcher::with_default(dispatch, || {
        let started = std::time::Instant::now();
        for i in first..first + n {
            one_span(i)
        }
        started.elapsed().as_nanos() as f64 / n as f64
    })
}

/// `compare A B ROUNDS`: both configurations in one process, alternating chunks of 20,000
/// spans, so that the machine's drift (frequency, neighbours) hits both alike; prints the
/// median over rounds of each, and of the per-round difference.
fn compare(a: &str, b: &str, rounds: usize) {
    const CHUNK: u64 = 20_000;
    let mut keep = Vec::new();
    let (da, db) = (dispatch_for(a, &mut keep), dispatch_for(b, &mut keep));
    time_spans(&da, 0, CHUNK);
    time_spans(&db, 0, CHUNK);
    let (mut ta, mut tb, mut diff) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds as u64 {
        let x = time_spans(&da, r * CHUNK, CHUNK);
        let y = time_spans(&db, r * CHUNK, CHUNK);
        ta.push(x);
        tb.push(y);
        diff.push(y - x);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    eprintln!(
        "{a}: {:.1} ns, {b}: {:.1} ns, {b} - {a}: {:+.1} ns per span (medians of {rounds} rounds)",
        median(&mut ta),
        median(&mut tb),
        median(&mut diff)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let config = args.next().unwrap();
    if config == "compare" {
        let (a, b) = (args.next().unwrap(), args.next().unwrap());
        let rounds = args.next().map_or(200, |r| r.parse().unwrap());
        return compare(&a, &b, rounds);
    }
    let n: u64 = args.next().unwrap().parse().unwrap();
    let mut keep = Vec::new();
    let dispatch = dispatch_for(&config, &mut keep);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..1000 {
            one_span(i)
        } // warm-up
        for i in 0..n {
            one_span(i)
        }
    });
}
