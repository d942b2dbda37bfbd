//! With a readiness rule, `/readyz` answers 503 while the log writer drops lines, and 200 again
//! once it has kept up for the rule's window.

mod http;

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use stethoscope::admin::ReadinessRule;
use stethoscope::{LogOutput, Stethoscope};

/// A destination that blocks every write until opened.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn open(&self) {
        *self.0 .0.lock().unwrap() = true;
        self.0 .1.notify_all();
    }
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut open = self.0 .0.lock().unwrap();
        while !*open {
            open = self.0 .1.wait(open).unwrap();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn wait_for(addr: std::net::SocketAddr, status: u16) -> http::Response {
    http::wait_for_status(addr, "/readyz", status, Duration::from_secs(20))
}

#[test]
fn readiness_follows_log_drops() {
    let gate = Gate::default();
    let guard = Stethoscope::builder()
        .with_log_output(LogOutput::Writer(Box::new(gate.clone())))
        .with_log_buffer_bytes(4096)
        .with_readiness_rule(
            ReadinessRule::default()
                .unready_while_logs_drop(Duration::from_millis(500))
                .unwrap(),
        )
        .with_admin_addr(http::any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    assert_eq!(
        http::get(addr, "/readyz").status,
        503,
        "not ready until set_ready"
    );
    guard.readiness().set_ready(true);
    wait_for(addr, 200);

    for i in 0..1_000u64 {
        stethoscope::info!(i, "a line the blocked destination cannot take");
    }
    assert!(guard.dropped_log_lines() > 0);
    let r = wait_for(addr, 503);
    assert!(r.body.contains("log lines are being dropped"), "{r:?}");

    gate.open();
    guard.flush(Duration::from_secs(10)).unwrap();
    wait_for(addr, 200);
}
