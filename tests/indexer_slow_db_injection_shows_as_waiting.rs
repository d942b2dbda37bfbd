//! `--inject slow-db`: the database stage waits while holding its connection. The signal is
//! waiting, not computing: the pool is saturated (`db_pool_utilization_ratio` near 1), the
//! `store` operation is almost all idle time, and latency rises above the injected wait.

mod indexer;
mod support;

use std::time::Duration;

use indexer::store::SLOW_DB_WAIT;

#[test]
fn a_slow_database_saturates_the_pool_and_time_goes_to_waiting() {
    let mut config = indexer::bounded("indexer-slow-db", 30, 100);
    config.inject = Some(indexer::cli::Inject::SlowDb);
    let runtime = support::two_worker_runtime();
    let report = runtime.block_on(indexer::pipeline::run(config)).unwrap();
    assert_eq!(
        report.rows_in_db,
        Some(report.indexed),
        "slow, but everything is stored"
    );

    assert!(
        report.pool_utilization >= 0.6,
        "pool utilization {}",
        report.pool_utilization
    );
    let p50 = report.latency[0];
    assert!(
        p50 >= SLOW_DB_WAIT,
        "median latency {p50:?} below the injected {SLOW_DB_WAIT:?}"
    );
    let stats = report
        .telemetry
        .as_ref()
        .unwrap()
        .guard
        .operation_stats()
        .unwrap()
        .summary();
    let store = stats
        .iter()
        .find(|o| o.name == "store")
        .expect("store spans were recorded");
    assert!(store.idle_share >= 0.8, "store: {store:?}");
    assert!(store.total_wall >= Duration::from_millis(40), "{store:?}");
    drop(report);
}
