//! `/metrics` answers promptly while every worker of the application's runtime is busy.

mod http;
mod support;

use std::time::Duration;

#[test]
fn metrics_answer_while_every_worker_spins() {
    let (_guard, addr) = http::install_with_admin();

    const WORKERS: usize = 2;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    let spinning = support::spin_every_worker(&runtime, WORKERS);

    // The workers spin until the answer is in, so an answer that needed them would never come:
    // the bound below is a liveness limit (no answer at all), not a latency claim.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(http::get(addr, "/metrics"));
    });
    let response = rx.recv_timeout(Duration::from_secs(60));
    drop(spinning);
    runtime.shutdown_timeout(Duration::from_secs(5));

    let response = response.expect("no answer while the application's workers spin");
    assert_eq!(response.status, 200);
    http::parse(&response.body);
}
