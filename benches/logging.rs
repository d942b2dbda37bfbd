//! Per-event cost of `JsonLayer` against `tracing-subscriber`'s formatters, all writing to
//! `io::sink`, so the numbers are formatting cost only.
//!
//! ```text
//! cargo bench --bench logging
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

mod support;

fn subscribers() -> Vec<(&'static str, Dispatch)> {
    vec![
        (
            "stethoscope_json",
            Dispatch::new(
                tracing_subscriber::registry()
                    .with(stethoscope::logging::JsonLayer::new().with_writer(std::io::sink)),
            ),
        ),
        (
            "stethoscope_pretty",
            Dispatch::new(
                tracing_subscriber::registry().with(
                    stethoscope::logging::PrettyLayer::new()
                        .with_ansi(false)
                        .with_writer(std::io::sink),
                ),
            ),
        ),
        (
            "fmt_json",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .json()
                    .with_writer(std::io::sink)
                    .finish(),
            ),
        ),
        (
            "fmt_text",
            Dispatch::new(
                tracing_subscriber::fmt()
                    .with_writer(std::io::sink)
                    .finish(),
            ),
        ),
    ]
}

fn bench_events(c: &mut Criterion) {
    let mut group = c.benchmark_group("event");
    for (name, dispatch) in subscribers() {
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(BenchmarkId::new("a_3_fields_no_span", name), |b| {
                let mut i = 0u64;
                b.iter(|| {
                    i += 1;
                    support::event_no_span(i)
                })
            });
            support::in_two_spans(|| {
                group.bench_function(
                    BenchmarkId::new("b_3_fields_in_2_spans_5_fields", name),
                    |b| {
                        let mut i = 0u64;
                        b.iter(|| {
                            i += 1;
                            support::event_no_span(i)
                        })
                    },
                );
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_events);
criterion_main!(benches);
