//! Per-event cost of `JsonLayer` against `tracing-subscriber`'s formatters, all writing to
//! `io::sink`, so the numbers are formatting cost only.
//!
//! ```text
//! cargo bench --bench logging
//! ```
//!
//! Group `installed` compares the subscriber `install()` builds (per-layer live filter,
//! flight recorder, optional rate limit) with the previous shape (one global `EnvFilter`),
//! each writing through the batching writer into `io::sink`:
//!
//! ```text
//! cargo bench --bench logging -- installed
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

/// The subscriber as `install()` built it before live control: a global `EnvFilter` in front of
/// the JSON and slow-operation layers.
fn global_filter_shape() -> (Dispatch, stethoscope::logging::WriterGuard) {
    let (writer, guard) = stethoscope::logging::NonBlocking::builder()
        .spawn(std::io::sink())
        .unwrap();
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(
                stethoscope::logging::JsonLayer::new()
                    .with_constant_field("service", "bench")
                    .with_writer(writer),
            )
            .with(stethoscope::runtime::SlowOpLayer::new()),
    );
    (dispatch, guard)
}

fn installed(
    recorder: bool,
    rate_limit: Option<stethoscope::logging::RateLimit>,
) -> (Dispatch, stethoscope::Guard) {
    let recorder = recorder.then(stethoscope::logging::RecorderSettings::default);
    stethoscope::Stethoscope::builder()
        .with_service_name("bench")
        .with_log_output(stethoscope::LogOutput::Writer(Box::new(std::io::sink())))
        .with_flight_recorder(recorder)
        .unwrap()
        .with_log_rate_limit(rate_limit)
        .into_dispatch()
        .unwrap()
}

fn bench_installed(c: &mut Criterion) {
    let mut group = c.benchmark_group("installed");
    // A budget nothing reaches: the cost of deciding, not of suppressing.
    let unreachable = stethoscope::logging::RateLimit::per_second(1_000_000)
        .unwrap()
        .with_burst(u32::MAX)
        .unwrap();
    // Guards stay alive to the end, so every line really goes through the queue.
    let (old, _old_guard) = global_filter_shape();
    let (no_recorder, _g1) = installed(false, None);
    let (recorder, _g2) = installed(true, None);
    let (limited, _g3) = installed(true, Some(unreachable));
    let shapes = [
        ("global_envfilter_before", old),
        ("live_filter_no_recorder", no_recorder),
        ("live_filter_recorder", recorder),
        ("live_filter_recorder_rate_limit", limited),
    ];
    for (name, dispatch) in shapes {
        tracing::dispatcher::with_default(&dispatch, || {
            support::in_two_spans(|| {
                group.bench_function(BenchmarkId::new("info_in_2_spans", name), |b| {
                    let mut i = 0u64;
                    b.iter(|| {
                        i += 1;
                        support::event_no_span(i)
                    })
                });
                group.bench_function(BenchmarkId::new("debug_below_output", name), |b| {
                    let mut i = 0u64;
                    b.iter(|| {
                        i += 1;
                        tracing::debug!(
                            block = i,
                            hash = "0x9f2c41d7",
                            ok = true,
                            "transaction ingested"
                        );
                    })
                });
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_events, bench_installed);
criterion_main!(benches);
