//! Whole-path cost: process CPU (all threads, writer included) per million lines logged to
//! `/dev/null`, for our layer and writer against `fmt().json()` + `tracing-appender`.
//!
//! ```text
//! cargo bench --bench log_pipeline            # 1,000,000 lines per configuration
//! LINES=200000 cargo bench --bench log_pipeline
//! ```
//!
//! Every configuration is lossless for this run (`tracing-appender` with `lossy(false)`, ours
//! with a buffer large enough); the table reports dropped lines so that is visible.

#![allow(unsafe_code)] // getrusage, below

use std::fs::File;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Dispatch;
use tracing_subscriber::prelude::*;

mod support;

/// `/dev/null` that counts the bytes it swallows, to check nothing was lost.
struct DevNull {
    file: File,
    bytes: Arc<AtomicU64>,
}

impl Write for DevNull {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

fn dev_null() -> (DevNull, Arc<AtomicU64>) {
    let bytes = Arc::new(AtomicU64::new(0));
    let file = File::options()
        .write(true)
        .open("/dev/null")
        .expect("open /dev/null");
    (
        DevNull {
            file,
            bytes: Arc::clone(&bytes),
        },
        bytes,
    )
}

/// User + system CPU time of the whole process (all threads).
fn process_cpu() -> Duration {
    // SAFETY: `getrusage` writes into the zeroed struct we own; RUSAGE_SELF is always valid.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

struct Outcome {
    cpu: Duration,
    wall: Duration,
    bytes: u64,
    dropped: u64,
}

/// Logs `lines` events inside two spans through `dispatch`, then runs `finish` (which must
/// flush and stop the writer) and measures the whole thing.
fn run(
    lines: u64,
    dispatch: Dispatch,
    finish: impl FnOnce() -> u64,
    bytes: Arc<AtomicU64>,
) -> Outcome {
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        support::in_two_spans(|| {
            for i in 0..lines {
                support::event_no_span(i);
            }
        })
    });
    drop(dispatch);
    let dropped = finish();
    Outcome {
        cpu: process_cpu() - cpu0,
        wall: t0.elapsed(),
        bytes: bytes.load(Ordering::Relaxed),
        dropped,
    }
}

/// Which formatter produces the lines.
#[derive(Clone, Copy)]
enum Format {
    Stethoscope,
    FmtJson,
}

/// Which background writer carries them to `/dev/null`.
#[derive(Clone, Copy)]
enum Writer {
    Batching,
    TracingAppender,
}

fn dispatch<W>(format: Format, writer: W) -> Dispatch
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    match format {
        Format::Stethoscope => Dispatch::new(
            tracing_subscriber::registry()
                .with(stethoscope::logging::JsonLayer::new().with_writer(writer)),
        ),
        Format::FmtJson => Dispatch::new(
            tracing_subscriber::fmt()
                .json()
                .with_writer(writer)
                .finish(),
        ),
    }
}

fn pipeline(lines: u64, format: Format, writer: Writer) -> Outcome {
    let (dest, bytes) = dev_null();
    match writer {
        Writer::Batching => {
            let (writer, guard) = stethoscope::logging::NonBlocking::builder()
                .buffer_bytes(256 << 20)
                .spawn(dest)
                .unwrap();
            let finish = {
                let writer = writer.clone();
                move || {
                    guard.shutdown(Duration::from_secs(60)).unwrap();
                    writer.dropped_lines()
                }
            };
            run(lines, dispatch(format, writer), finish, bytes)
        }
        Writer::TracingAppender => {
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(dest);
            let finish = {
                let writer = writer.clone();
                move || {
                    drop(guard);
                    writer.error_counter().dropped_lines() as u64
                }
            };
            run(lines, dispatch(format, writer), finish, bytes)
        }
    }
}

fn main() {
    // `cargo bench` passes `--bench`; this harness takes no flags.
    let lines: u64 = std::env::var("LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let configs = [
        (
            "stethoscope JsonLayer + NonBlocking (batching)",
            Format::Stethoscope,
            Writer::Batching,
        ),
        (
            "stethoscope JsonLayer + tracing-appender",
            Format::Stethoscope,
            Writer::TracingAppender,
        ),
        (
            "fmt().json() + NonBlocking (batching)",
            Format::FmtJson,
            Writer::Batching,
        ),
        (
            "fmt().json() + tracing-appender",
            Format::FmtJson,
            Writer::TracingAppender,
        ),
    ];
    println!("{lines} lines per configuration, event (b): 3 fields inside 2 spans with 5 fields, to /dev/null");
    println!();
    println!("| configuration | CPU s per 1M lines | wall s per 1M lines | MB written | dropped |");
    println!("|---|---:|---:|---:|---:|");
    let per_million = |d: Duration| d.as_secs_f64() * 1e6 / lines as f64;
    let mut baseline = None;
    let mut results = Vec::new();
    for (name, format, writer) in configs {
        let o = pipeline(lines, format, writer);
        println!(
            "| {name} | {:.3} | {:.3} | {:.1} | {} |",
            per_million(o.cpu),
            per_million(o.wall),
            o.bytes as f64 / 1e6,
            o.dropped
        );
        results.push((name, o.cpu));
        baseline = Some(o.cpu);
    }
    if let (Some(base), Some((_, ours))) = (baseline, results.first()) {
        println!();
        println!(
            "fmt().json() + tracing-appender uses {:.1}x the CPU of stethoscope's path",
            base.as_secs_f64() / ours.as_secs_f64()
        );
    }
}
