//! `Guard::shutdown(d)` with a collector that never answers *and* a log destination that never
//! returns from `write`: it returns the log timeout, naming `d` and the bytes left unwritten,
//! instead of waiting `d` for each.

mod support;

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::Duration;

use stethoscope::{Error, LogOutput, Stethoscope};
use support::collector::{Behaviour, Collector};

/// Blocks in `write` until the test drops its sender, telling the test it got there.
struct Blocked {
    entered: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
}

impl Write for Blocked {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        let _ = self.entered.send(());
        let _ = self.release.recv();
        Err(io::Error::other("released at the end of the test"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn shutdown_returns_the_log_timeout_for_the_whole_deadline() {
    let collector = Collector::start(Behaviour::Hang);
    let (entered, in_write) = mpsc::channel();
    let (keep_blocked, release) = mpsc::channel::<()>();
    // Nothing global: the test's own dispatch, so this binary could hold more tests.
    let (dispatch, guard) = Stethoscope::builder()
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(LogOutput::Writer(Box::new(Blocked { entered, release })))
        .into_dispatch()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let span = stethoscope::info_span!("finished before shutdown");
        span.in_scope(|| stethoscope::info!("a line the destination never takes"));
    });
    in_write.recv().unwrap(); // the writer thread is stuck in `write` with that line

    let deadline = Duration::from_millis(300);
    let err = guard.shutdown(deadline).unwrap_err();
    match &err {
        Error::FlushTimeout {
            deadline: named,
            pending_bytes,
        } => {
            assert_eq!(
                *named, deadline,
                "the error names the whole shutdown's deadline"
            );
            assert!(*pending_bytes > 0, "{err}");
        }
        other => panic!("expected the log destination to be named, got: {other}"),
    }
    assert!(
        err.to_string()
            .starts_with("log output did not drain within 300ms ("),
        "{err}"
    );
    drop(keep_blocked);
}
