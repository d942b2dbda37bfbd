//! `--inject leak` (the seed's WebSocket incident): every block's notification stream stays
//! subscribed to the bus, so `indexer_bus_listeners` counts one listener per block and keeps
//! growing, while a normal run ends with none (see the end-to-end test).

mod http;
mod indexer;
mod support;

#[test]
fn leaked_listeners_are_counted_on_metrics() {
    let mut config = indexer::bounded("indexer-leak", 40, 100);
    config.inject = Some(indexer::cli::Inject::Leak);
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();

    assert_eq!(report.bus_listeners, 40, "one leaked listener per block");
    let seen = &report.sampler.listeners;
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "the count only grows: {seen:?}"
    );
    let admin = report
        .telemetry
        .as_ref()
        .unwrap()
        .guard
        .admin_addr()
        .unwrap();
    let scrape = http::scrape(admin, &[]);
    assert_eq!(http::value(&scrape, "indexer_bus_listeners"), Some(40.0));
    drop(report);
}
