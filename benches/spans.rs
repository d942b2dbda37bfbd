//! Per-span cost — create with 2 fields, enter, record 2 fields, exit, close — through:
//! the bare registry, alone and with `runtime::SlowOpLayer`; stethoscope's stack (with and
//! without its slow-operation layer) from `Builder::into_dispatch` (JSON logs, and with
//! OTLP export); and the usual hand-assembled stack, `fmt().json()` + `tracing-opentelemetry`
//! with a batch exporter.
//!
//! ```text
//! cargo bench --bench spans
//! cargo bench --bench spans --features jemalloc   # steadier: see below
//! ```
//!
//! With `--features jemalloc` the bench runs on jemalloc, whose cost per allocation does not
//! drift with the heap's history the way glibc's does (±10 % between runs of one stack here),
//! so that small differences between stacks, such as the slow-operation layer's, show.
//!
//! Both exporting stacks use the same batch processor and a no-op exporter, so the difference
//! is the layers' own cost on the application thread.

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use stethoscope::{LogOutput, Stethoscope};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOC: stethoscope::heap::Jemalloc = stethoscope::heap::Jemalloc;

#[derive(Debug)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
        Ok(())
    }
}

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

fn bench_spans(c: &mut Criterion) {
    let mut group = c.benchmark_group("span_lifecycle");
    let mut keep = Vec::new();

    let registry = Dispatch::new(tracing_subscriber::registry());
    // Runtime pillar: the slow-operation layer alone, and stethoscope's stack without it.
    let registry_slow_ops = Dispatch::new(
        tracing_subscriber::registry().with(stethoscope::runtime::SlowOpLayer::new()),
    );
    let (ours_logs_no_slow_ops, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_slow_threshold(None)
        .unwrap()
        .with_slow_poll_threshold(None)
        .unwrap()
        .into_dispatch()
        .unwrap();
    keep.push(guard);
    let (ours_logs, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap();
    keep.push(guard);
    let (ours_full, guard) = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_span_exporter(NoopExporter)
        .with_span_queue(1 << 20)
        .into_dispatch()
        .unwrap();
    keep.push(guard);
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(NoopExporter)
        .build();
    let hand = Dispatch::new(
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::sink),
            )
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    );

    for (name, dispatch) in [
        ("registry_only", &registry),
        ("registry_and_slow_op_layer", &registry_slow_ops),
        ("stethoscope_logs_without_slow_ops", &ours_logs_no_slow_ops),
        ("stethoscope_logs", &ours_logs),
        ("stethoscope_logs_and_otel", &ours_full),
        ("fmt_json_and_tracing_opentelemetry", &hand),
    ] {
        tracing::dispatcher::with_default(dispatch, || {
            group.bench_function(name, |b| {
                let mut i = 0u64;
                b.iter(|| {
                    i += 1;
                    one_span(i)
                })
            });
        });
    }
    group.finish();
    drop(keep);
    let _ = provider.shutdown();
}

criterion_group!(benches, bench_spans);
criterion_main!(benches);
