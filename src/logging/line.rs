//! Pieces every output layer shares: the per-thread line buffer, the configuration of fields,
//! and the span-chain walk.

use std::cell::RefCell;

use tracing_core::{Event, Level, Metadata};
use tracing_log::NormalizeEvent;

use super::escape::quoted_into;
use super::redact::{Redactor, DEFAULT_REDACTED_FIELDS};
use super::span_data::FieldPolicy;

/// A line buffer that grew past this is released after use, so one huge message does not pin
/// memory in every thread that ever logged.
const RETAINED_BUFFER_BYTES: usize = 64 * 1024;

/// Per-thread scratch space for building one line.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The line being built.
    pub(crate) buf: Vec<u8>,
    /// Field names already on the line (see `Seen`).
    pub(crate) names: Vec<&'static str>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const {
        RefCell::new(Scratch { buf: Vec::new(), names: Vec::new() })
    };
}

/// Runs `f` with this thread's scratch space, line buffer cleared.
///
/// Falls back to fresh buffers when the scratch space is already borrowed (an event emitted
/// while formatting another, e.g. from a `Debug` impl or the panic hook) or the thread is
/// exiting.
pub(crate) fn with_scratch(f: impl FnOnce(&mut Scratch)) {
    let mut f = Some(f);
    let _ = SCRATCH.try_with(|cell| {
        if let Ok(mut scratch) = cell.try_borrow_mut() {
            scratch.buf.clear();
            if let Some(f) = f.take() {
                f(&mut scratch);
            }
            if scratch.buf.capacity() > RETAINED_BUFFER_BYTES {
                scratch.buf = Vec::new();
            }
        }
    });
    if let Some(f) = f {
        f(&mut Scratch::default());
    }
}

/// Field configuration shared by [`JsonLayer`](super::JsonLayer) and
/// [`PrettyLayer`](super::PrettyLayer).
#[derive(Clone, Debug)]
pub(crate) struct Fields {
    pub(crate) policy: FieldPolicy,
    /// Constant fields (e.g. `service`) as `,"key":"value"` JSON.
    pub(crate) constant_json: Vec<u8>,
    /// The same as ` key=value` text.
    pub(crate) constant_pretty: Vec<u8>,
}

impl Default for Fields {
    fn default() -> Self {
        let redactor = Redactor::new(DEFAULT_REDACTED_FIELDS).unwrap_or_default();
        Fields {
            policy: FieldPolicy {
                redactor,
                reserved: Vec::new(),
            },
            constant_json: Vec::new(),
            constant_pretty: Vec::new(),
        }
    }
}

impl Fields {
    pub(crate) fn add_constant(&mut self, key: &str, value: &str) {
        self.constant_json.push(b',');
        quoted_into(&mut self.constant_json, key);
        self.constant_json.push(b':');
        quoted_into(&mut self.constant_json, value);
        self.constant_pretty.push(b' ');
        self.constant_pretty.extend_from_slice(key.as_bytes());
        self.constant_pretty.push(b'=');
        quoted_into(&mut self.constant_pretty, value);
        self.policy.reserved.push(key.into());
    }
}

/// The metadata to print for `event`: events bridged from the `log` crate are normalized so
/// their real target/file/line show instead of `log`.
pub(crate) fn with_metadata<R>(event: &Event<'_>, f: impl FnOnce(&Metadata<'_>, bool) -> R) -> R {
    match event.normalized_metadata() {
        Some(meta) => f(&meta, true),
        None => f(event.metadata(), false),
    }
}

/// Lowercase level names, as most log pipelines expect (pino uses numbers; names read better).
pub(crate) fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}
