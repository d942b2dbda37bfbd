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
