//! After warm-up, a registered counter handle allocates nothing, and the label-set cap adds no
//! allocation to the macro path. (The Prometheus recorder itself allocates one handle per macro
//! call, which is why hot paths should hold a registered handle.)

mod support;

use metrics_exporter_prometheus::PrometheusBuilder;
use stethoscope::metrics::{counter, histogram};
use stethoscope::{LogOutput, Stethoscope};
use support::counting_alloc::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f` 1,000 times after 100 warm-up runs.
fn allocations_of(f: impl Fn()) -> u64 {
    for _ in 0..100 {
        f();
    }
    let before = allocations();
    for _ in 0..1_000 {
        f();
    }
    allocations() - before
}

#[test]
fn counters_allocate_nothing_after_warm_up() {
    let _guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .without_admin()
        .install()
        .unwrap();

    let handle = counter!("handled_total", "route" => "/tx");
    assert_eq!(
        allocations_of(|| handle.increment(1)),
        0,
        "registered handle"
    );

    let macro_calls = || {
        counter!("requests_total").increment(1);
        counter!("requests_by_route_total", "route" => "/tx", "status" => "200").increment(1);
    };
    let with_cap = allocations_of(macro_calls);
    let bare = PrometheusBuilder::new().build_recorder();
    let without_cap = metrics::with_local_recorder(&bare, || allocations_of(macro_calls));
    assert_eq!(with_cap, without_cap, "the cap must not add allocations");

    // Histograms append samples to buffers that the sampler drains; the buffer grows in blocks,
    // so count per 1,000 records and allow only those block allocations.
    let h = histogram!("latency_seconds", "route" => "/tx");
    let per_thousand = allocations_of(|| h.record(0.004));
    assert!(
        per_thousand <= 40,
        "{per_thousand} allocations per 1,000 records"
    );
}
