//! Helpers shared by the integration tests: an in-memory capture writer and JSON parsing.

#![allow(dead_code)] // each test binary uses a different subset

pub(crate) mod blocked_worker;
pub(crate) mod collector;
pub(crate) mod counting_alloc;
pub(crate) mod json_keys;
pub(crate) mod leaks;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// A cloneable in-memory destination: a `Write` and a `MakeWriter` onto one buffer.
#[derive(Clone, Default)]
pub(crate) struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("output is UTF-8")
    }

    /// Every line as written, for checks a JSON parser would hide (repeated keys, raw bytes).
    pub(crate) fn raw_lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Every line parsed as JSON; panics with the offending line if one is not.
    pub(crate) fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("invalid JSON ({e}): {l}")))
            .collect()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

/// Runs `f` with a registry + `JsonLayer` writing to a fresh capture; returns the parsed lines.
pub(crate) fn json_lines_of(
    layer: stethoscope::logging::JsonLayer,
    f: impl FnOnce(),
) -> Vec<serde_json::Value> {
    output_of(layer, f).json_lines()
}

/// Runs `f` with a registry + `JsonLayer` writing to a fresh capture; returns the capture, for
/// tests that check the raw text as well as the parsed lines.
pub(crate) fn output_of(layer: stethoscope::logging::JsonLayer, f: impl FnOnce()) -> Capture {
    use tracing_subscriber::prelude::*;
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(layer.with_writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, f);
    capture
}

/// A multi-threaded tokio runtime with two workers and all drivers, as the runtime tests use.
pub(crate) fn two_worker_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Keeps every worker of a runtime spinning inside one poll that never yields; dropping it
/// releases them (declare it after the runtime, so it is dropped first, also when an
/// assertion fails: a runtime whose workers never return would hang the test).
pub(crate) struct Spinning(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Spinning {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Spawns one never-yielding spinner per worker on `runtime` and returns once all `workers`
/// are inside their poll.
pub(crate) fn spin_every_worker(runtime: &tokio::runtime::Runtime, workers: usize) -> Spinning {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let spinning = Arc::new(AtomicUsize::new(0));
    for _ in 0..workers {
        let (stop, spinning) = (Arc::clone(&stop), Arc::clone(&spinning));
        runtime.spawn(async move {
            spinning.fetch_add(1, Ordering::SeqCst);
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        });
    }
    while spinning.load(Ordering::SeqCst) < workers {
        std::thread::yield_now();
    }
    Spinning(stop)
}
