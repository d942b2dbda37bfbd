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
use stethoscope::{LogOutput, Stethoscope};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;
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
fn main() {
    let mut args = std::env::args().skip(1);
    let config = args.next().unwrap();
    let n: u64 = args.next().unwrap().parse().unwrap();
    let mut keep = Vec::new();
    let dispatch = match config.as_str() {
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
    };
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..1000 {
            one_span(i)
        } // warm-up
        for i in 0..n {
            one_span(i)
        }
    });
}
