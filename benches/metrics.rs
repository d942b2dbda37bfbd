//! Cost of recording through stethoscope's installed recorder (the Prometheus recorder behind
//! the label-set cap), and of rendering `/metrics` with 10,000 series.
//!
//! ```text
//! cargo bench --bench metrics
//! ```

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use metrics::{counter, histogram};
use metrics_exporter_prometheus::PrometheusBuilder;
use stethoscope::{Guard, LogOutput, Stethoscope};

fn install() -> Guard {
    Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .without_admin()
        .install()
        .expect("install")
}

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("counter");
    group.bench_function("macro_static_name", |b| {
        b.iter(|| counter!("bench_requests_total").increment(1))
    });
    group.bench_function("macro_2_labels", |b| {
        b.iter(|| {
            counter!("bench_labelled_total", "route" => "/tx", "status" => "200").increment(1)
        })
    });
    group.bench_function("macro_2_labels_dynamic_value", |b| {
        let status = 200u16;
        b.iter(|| {
            counter!("bench_dynamic_total", "route" => "/tx", "status" => status.to_string())
                .increment(1)
        })
    });
    group.bench_function("registered_handle", |b| {
        let handle = counter!("bench_handle_total", "route" => "/tx", "status" => "200");
        b.iter(|| handle.increment(1))
    });
    // The same macro without the label-set cap in front: the cap's own cost is the difference.
    group.bench_function("macro_2_labels_bare_prometheus", |b| {
        let bare = PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&bare, || {
            b.iter(|| {
                counter!("bench_labelled_total", "route" => "/tx", "status" => "200").increment(1)
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("histogram");
    group.bench_function("macro_static_name", |b| {
        b.iter(|| histogram!("bench_latency_seconds").record(0.0042))
    });
    group.bench_function("macro_2_labels", |b| {
        b.iter(|| {
            histogram!("bench_labelled_seconds", "route" => "/tx", "status" => "200").record(0.0042)
        })
    });
    group.bench_function("registered_handle", |b| {
        let handle = histogram!("bench_handle_seconds", "route" => "/tx", "status" => "200");
        b.iter(|| handle.record(0.0042))
    });
    group.finish();
}

fn render(c: &mut Criterion, guard: &Guard) {
    // 10 metric names × 1,000 label sets: the default cap admits all of them.
    for name in 0..10 {
        for series in 0..1_000 {
            counter!(format!("bench_render_{name}_total"), "series" => series.to_string())
                .increment(1);
        }
    }
    let text = guard.render_metrics().expect("metrics are on");
    assert!(
        text.lines()
            .filter(|l| l.starts_with("bench_render_"))
            .count()
            >= 10_000
    );
    c.bench_function("render/10000_series", |b| {
        b.iter(|| guard.render_metrics().map(|t| t.len()))
    });
}

fn benches(c: &mut Criterion) {
    let guard = install();
    record(c);
    render(c, &guard);
}

criterion_group! {
    name = metrics_benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = benches
}
criterion_main!(metrics_benches);
