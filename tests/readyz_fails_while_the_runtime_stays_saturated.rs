//! With a readiness rule, `/readyz` answers 503 once the runtime's busy ratio, averaged over the
//! rule's duration, is above the threshold, and 200 again when the load is gone.

mod http;
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stethoscope::admin::ReadinessRule;
use stethoscope::{LogOutput, Stethoscope};

fn wait_for(addr: std::net::SocketAddr, status: u16) -> http::Response {
    http::wait_for_status(addr, "/readyz", status, Duration::from_secs(30))
}

#[test]
fn readiness_follows_runtime_saturation() {
    let runtime = support::two_worker_runtime();
    let _entered = runtime.enter();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(std::io::sink())))
        .with_runtime_sample_interval(Duration::from_millis(100))
        .unwrap()
        .with_readiness_rule(
            ReadinessRule::default()
                .unready_while_busy(0.3, Duration::from_millis(500))
                .unwrap(),
        )
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    guard.readiness().set_ready(true);
    wait_for(addr, 200);

    // Busy polls of 5 ms that yield in between, so tokio accounts the busy time as it goes.
    let stop = Arc::new(AtomicBool::new(false));
    for _ in 0..4 {
        let stop = Arc::clone(&stop);
        runtime.spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(5) {
                    std::hint::spin_loop();
                }
                tokio::task::yield_now().await;
            }
        });
    }
    let r = wait_for(addr, 503);
    assert!(
        r.body
            .starts_with("not ready: the runtime has been busier than 0.3 for 0.5s"),
        "{r:?}"
    );

    stop.store(true, Ordering::Relaxed);
    wait_for(addr, 200);
}
