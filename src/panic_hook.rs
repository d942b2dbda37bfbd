//! The panic hook: a panic becomes one structured `error` line, flushed before the process
//! goes down.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::panic::{self, PanicHookInfo};
use std::time::Duration;

use crate::logging::NonBlocking;

/// How long the hook waits for queued lines (including the panic's own) to be written.
const PANIC_FLUSH_DEADLINE: Duration = Duration::from_secs(2);

/// Chains a logging hook in front of the current one.
pub(crate) fn install(writer: NonBlocking) {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        log_panic(info);
        // Best effort: a stalled destination must not keep a crashing process alive.
        let _ = writer.flush_within(PANIC_FLUSH_DEADLINE);
        dump_recorder();
        previous(info);
    }));
}

fn log_panic(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
    let location = location.as_deref().unwrap_or("<unknown>");
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("<unnamed>");
    // `capture` honours RUST_BACKTRACE / RUST_LIB_BACKTRACE, as the default hook does.
    let backtrace = Backtrace::capture();
    if backtrace.status() == BacktraceStatus::Captured {
        tracing::error!(target: "panic", location, thread, backtrace = %backtrace, "{message}");
    } else {
        tracing::error!(target: "panic", location, thread, "{message}");
    }
}

// -- live control: the flight recorder's lines, written out on a panic --

/// The recorder and where its lines go; set once at install.
static RECORDER: std::sync::OnceLock<crate::logging::FlightRecorder> = std::sync::OnceLock::new();

/// Makes the hook write out `recorder` (if any) after the panic's own line.
pub(crate) fn attach_recorder(recorder: Option<crate::logging::FlightRecorder>) {
    if let Some(recorder) = recorder {
        let _ = RECORDER.set(recorder);
    }
}

/// Writes every line recorded since the previous panic, so that repeated panics (e.g. of
/// tokio tasks, which survive them) do not repeat the same context.
fn dump_recorder() {
    use crate::logging::RecorderDump;
    let Some(recorder) = RECORDER.get() else {
        return;
    };
    let why = "this panic";
    let result = match recorder.dump() {
        RecorderDump::Stderr => recorder.dump_new(&mut std::io::stderr().lock(), why),
        RecorderDump::File(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut file| recorder.dump_new(&mut file, why)),
        _ => return,
    };
    if let Err(e) = result {
        eprintln!("stethoscope: writing out the flight recorder failed: {e}");
    }
}
