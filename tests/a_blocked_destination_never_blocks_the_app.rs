//! A destination that never returns from `write` costs the application nothing: lines beyond
//! the buffer are dropped and counted, and shutdown gives up at its deadline.

use std::io::{self, Write};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use stethoscope::logging::{JsonLayer, NonBlocking};
use stethoscope::Error;
use tracing_subscriber::prelude::*;

/// Blocks forever in `write`, like a stdout pipe nobody reads.
struct Stalled(mpsc::Receiver<()>);
impl Write for Stalled {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        let _ = self.0.recv(); // the sender is kept alive: never returns
        Ok(0)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn logging_into_a_stalled_destination_drops_and_counts_instead_of_blocking() {
    let (keep_alive, rx) = mpsc::channel::<()>();
    let (writer, guard) = NonBlocking::builder()
        .buffer_bytes(64 * 1024)
        .spawn(Stalled(rx))
        .unwrap();
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new().with_writer(writer.clone()));
    const LINES: u64 = 200_000;
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..LINES {
            tracing::info!(i, "line");
        }
    });
    // Every line either sits in the 64 KiB buffer, in the stalled write, or was dropped.
    let dropped = writer.dropped_lines();
    assert!(dropped > LINES - 2_000, "only {dropped} of {LINES} dropped");

    let started = Instant::now();
    let err = guard.shutdown(Duration::from_millis(200)).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "shutdown hung");
    assert!(matches!(err, Error::FlushTimeout { .. }), "{err}");
    assert!(err.to_string().contains("did not drain within"), "{err}");
    drop(keep_alive);
}

#[test]
fn a_failing_destination_counts_every_lost_line() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let (writer, guard) = NonBlocking::builder().spawn(Broken).unwrap();
    let subscriber =
        tracing_subscriber::registry().with(JsonLayer::new().with_writer(writer.clone()));
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..1_000 {
            tracing::info!(i, "line");
        }
    });
    guard.shutdown(Duration::from_secs(5)).unwrap();
    assert_eq!(writer.dropped_lines(), 1_000);
}
