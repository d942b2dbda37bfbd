//! A `tracing` field visitor that writes values straight into the line buffer as JSON, with
//! redaction and reserved-key handling applied on the way.

use std::error::Error as StdError;
use std::fmt::{self, Write as _};

use tracing_core::field::{Field, Visit};

use super::escape::{escape_into, quoted_into, Escaping, Raw};
use super::keys::CallsiteKeys;
use super::redact::{Redactor, REDACTED};

/// Whether stethoscope writes a key called `name` itself (`timestamp`, `level`, `target`,
/// `message`, `span`, `trace_id`, `span_id`). A user field with such a name is written as
/// `fields.<name>` instead, so a line never carries the same key twice.
#[inline]
fn is_builtin_key(name: &str) -> bool {
    // Dispatch on length first: nearly every field name is rejected by one comparison.
    match name.len() {
        4 => name == "span",
        5 => name == "level",
        6 => name == "target",
        7 => name == "message" || name == "span_id",
        8 => name == "trace_id",
        9 => name == "timestamp",
        _ => false,
    }
}

/// Writes `,"key":` (JSON) or ` key=` (pretty) for `name`, renaming reserved names.
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, name: &str, extra_reserved: &[Box<str>], pretty: bool) {
    let reserved = is_builtin_key(name) || extra_reserved.iter().any(|r| &**r == name);
    if pretty {
        out.push(b' ');
        if reserved {
            out.extend_from_slice(b"fields.");
        }
        out.extend_from_slice(name.as_bytes());
        out.push(b'=');
    } else {
        out.extend_from_slice(if reserved { b",\"fields." } else { b",\"" });
        escape_into(out, name);
        out.extend_from_slice(b"\":");
    }
}

/// A record of which field names a line already carries, so that the nearest value wins when
/// an event and its spans (or two spans) share a field name.
///
/// Field names in `tracing` are `&'static str` from callsite metadata; a 64-bit mask of a cheap
/// name hash lets whole spans with no clash be copied without looking at their names.
///
/// The names live in a per-thread `Vec` reused from line to line (see `line.rs`), so tracking
/// costs no allocation and no initialization.
#[derive(Debug)]
pub(crate) struct Seen {
    names: Vec<&'static str>,
    pub(crate) mask: u64,
}

impl Seen {
    /// Starts tracking with `names` (cleared) as storage; hand it back with [`Seen::into_names`].
    pub(crate) fn new(mut names: Vec<&'static str>) -> Self {
        names.clear();
        Seen { names, mask: 0 }
    }

    pub(crate) fn into_names(self) -> Vec<&'static str> {
        self.names
    }

    #[inline]
    pub(crate) fn bit(name: &str) -> u64 {
        let b = name.as_bytes();
        let h = b
            .len()
            .wrapping_mul(31)
            .wrapping_add(*b.first().unwrap_or(&0) as usize * 7)
            .wrapping_add(*b.last().unwrap_or(&0) as usize);
        1u64 << (h % 64)
    }

    #[inline]
    pub(crate) fn insert(&mut self, name: &'static str) {
        self.mask |= Seen::bit(name);
        self.names.push(name);
    }

    /// Records all of `names`, whose combined [`Seen::bit`]s are `mask`.
    #[inline]
    pub(crate) fn insert_all(&mut self, names: impl Iterator<Item = &'static str>, mask: u64) {
        self.mask |= mask;
        self.names.extend(names);
    }

    #[inline]
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.mask & Seen::bit(name) != 0 && self.names.contains(&name)
    }
}

/// How values are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `,"key":value` pairs of a JSON object.
    Json,
    /// ` key=value` pairs for humans; values keep their JSON encoding so strings stay quoted.
    Pretty,
}

/// Visits one event's or span's fields, appending them to `out`.
pub(crate) struct Visitor<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) redactor: &'a Redactor,
    pub(crate) reserved: &'a [Box<str>],
    pub(crate) style: Style,
    /// Field names written so far (events only).
    pub(crate) seen: Option<&'a mut Seen>,
    /// `Some` for events: the `message` field is the line's message, not a user field.
    pub(crate) is_event: bool,
    /// Events bridged from the `log` crate carry their metadata as `log.*` fields, which are
    /// already folded into the line's `target`; skip them.
    pub(crate) skip_log_fields: bool,
    /// Pre-rendered keys of the event's callsite, when available (see `keys.rs`).
    pub(crate) keys: Option<&'a CallsiteKeys>,
    /// Called after each complete field with (name, start, value start, end) offsets in `out`.
    pub(crate) on_field: Option<&'a mut dyn FnMut(&'static str, usize, usize, usize)>,
}

impl Visitor<'_> {
    /// Writes the key for `field`; returns `None` when the value must not be written (the
    /// field is skipped, or redacted, in which case the placeholder was already written).
    // Inlined into each `record_*`: it runs once per field of every event.
    #[inline(always)]
    fn begin(&mut self, field: &Field) -> Option<(usize, usize)> {
        let name = field.name();
        if self.skip_log_fields && name.starts_with("log.") {
            return None;
        }
        let start = self.out.len();
        if let Some(key) = self.keys.and_then(|k| k.keys.get(field.index())) {
            self.out.extend_from_slice(&key.bytes);
            if key.redacted {
                return self.redact(field, start);
            }
        } else if self.is_event && name == "message" {
            match self.style {
                Style::Json => self.out.extend_from_slice(b",\"message\":"),
                Style::Pretty => self.out.push(b' '),
            }
        } else {
            write_key(self.out, name, self.reserved, self.style == Style::Pretty);
            if self.redactor.matches(name) {
                return self.redact(field, start);
            }
        }
        Some((start, self.out.len()))
    }

    /// Writes the placeholder in place of the value.
    #[cold]
    fn redact(&mut self, field: &Field, start: usize) -> Option<(usize, usize)> {
        let value_start = self.out.len();
        quoted_into(self.out, REDACTED);
        self.finish(field, start, value_start);
        None
    }

    #[inline(always)]
    fn finish(&mut self, field: &Field, start: usize, value_start: usize) {
        let name = field.name();
        if let Some(seen) = self.seen.as_deref_mut() {
            // The event's own message never clashes with span fields (those are renamed).
            if !(self.is_event && name == "message") {
                seen.insert(name);
            }
        }
        if let Some(cb) = self.on_field.as_deref_mut() {
            cb(name, start, value_start, self.out.len());
        }
    }

    fn is_pretty_message(&self, field: &Field) -> bool {
        self.is_event && self.style == Style::Pretty && field.name() == "message"
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if let Some((start, vs)) = self.begin(field) {
            if self.is_pretty_message(field) {
                self.out.extend_from_slice(value.as_bytes());
            } else {
                quoted_into(self.out, value);
            }
            self.finish(field, start, vs);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if let Some((start, vs)) = self.begin(field) {
            if self.is_pretty_message(field) {
                let _ = write!(Raw(self.out), "{value:?}");
            } else {
                self.out.push(b'"');
                // Writing through the escaper cannot fail; a panicking Debug impl is the
                // caller's bug and is not caught here.
                let _ = write!(Escaping(self.out), "{value:?}");
                self.out.push(b'"');
            }
            self.finish(field, start, vs);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if let Some((start, vs)) = self.begin(field) {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            self.finish(field, start, vs);
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if let Some((start, vs)) = self.begin(field) {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            self.finish(field, start, vs);
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if let Some((start, vs)) = self.begin(field) {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            self.finish(field, start, vs);
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if let Some((start, vs)) = self.begin(field) {
            self.out
                .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
            self.finish(field, start, vs);
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if let Some((start, vs)) = self.begin(field) {
            write_f64(self.out, value);
            self.finish(field, start, vs);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if let Some((start, vs)) = self.begin(field) {
            self.out
                .extend_from_slice(if value { b"true" } else { b"false" });
            self.finish(field, start, vs);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn StdError + 'static)) {
        if let Some((start, vs)) = self.begin(field) {
            write_error(self.out, value);
            self.finish(field, start, vs);
        }
    }
}

/// Finite floats are JSON numbers; NaN and the infinities, which JSON cannot express, are the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"` (JavaScript's spelling) so the value is
/// not silently lost as `null`.
pub(crate) fn write_f64(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        // ryu's shortest round-trip form (`0.5`, `1e-300`) is valid JSON.
        out.extend_from_slice(ryu::Buffer::new().format_finite(value).as_bytes());
    } else if value.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if value > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

/// An error becomes `{"message":"<Display>","chain":["<source>", ...]}`: the message for
/// humans and the causes in order, each searchable.
pub(crate) fn write_error(out: &mut Vec<u8>, err: &(dyn StdError + 'static)) {
    out.extend_from_slice(b"{\"message\":\"");
    let _ = write!(Escaping(out), "{err}");
    out.extend_from_slice(b"\",\"chain\":[");
    let mut source = err.source();
    let mut first = true;
    while let Some(cause) = source {
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        let _ = write!(Escaping(out), "{cause}");
        out.push(b'"');
        source = cause.source();
    }
    out.extend_from_slice(b"]}");
}
