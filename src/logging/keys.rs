//! Per-callsite field keys, rendered once: the JSON key (`,"block":`), the pretty key
//! (` block=`), and the redaction decision for every field of an event callsite.
//!
//! Rendering a key means escaping the name, checking reserved names and matching redaction
//! patterns: several hundred instructions per field. Event callsites are static and few, so
//! each thread renders a callsite's keys the first time it logs there and reuses them; the
//! cache is thread-local, so the hot path takes no lock and shares no cache line.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::Metadata;

use super::escape::quoted_into;
use super::line::{level_str, Fields};
use super::visitor::{write_key, Style};

/// Above this many cached callsites per thread the cache stops growing (a process generating
/// callsites dynamically must not grow memory without bound); further callsites take the
/// uncached path.
const MAX_CACHED_CALLSITES: usize = 8_192;

/// One event field's pre-rendered key.
#[derive(Debug)]
pub(crate) struct Key {
    /// `,"name":`, `,"fields.name":` or, for the message, `,"message":`.
    pub(crate) bytes: Box<[u8]>,
    pub(crate) redacted: bool,
}

/// The keys of every field of one callsite, indexed by `Field::index()`.
#[derive(Debug)]
pub(crate) struct CallsiteKeys {
    pub(crate) keys: Box<[Key]>,
    /// JSON only: what follows the timestamp up to the first field,
    /// `","level":"info","target":"indexer::db"` plus the constant fields.
    pub(crate) header: Box<[u8]>,
}

impl CallsiteKeys {
    fn render(meta: &Metadata<'_>, fields: &Fields, style: Style) -> Self {
        let policy = &fields.policy;
        let keys = meta
            .fields()
            .iter()
            .map(|field| {
                let name = field.name();
                let mut bytes = Vec::new();
                // An event's `message` is the line's message; a span's is an ordinary (and
                // reserved, so renamed) field.
                if name == "message" && meta.is_event() {
                    bytes.extend_from_slice(match style {
                        Style::Json => b",\"message\":".as_slice(),
                        Style::Pretty => b" ".as_slice(),
                    });
                    return Key {
                        bytes: bytes.into(),
                        redacted: false,
                    };
                }
                write_key(&mut bytes, name, &policy.reserved, style == Style::Pretty);
                Key {
                    bytes: bytes.into(),
                    redacted: policy.redactor.matches(name),
                }
            })
            .collect();
        let mut header = Vec::new();
        if style == Style::Json {
            header.extend_from_slice(b"\",\"level\":\"");
            header.extend_from_slice(level_str(meta.level()).as_bytes());
            header.extend_from_slice(b"\",\"target\":");
            quoted_into(&mut header, meta.target());
            header.extend_from_slice(&fields.constant_json);
        }
        CallsiteKeys {
            keys,
            header: header.into(),
        }
    }
}

/// Identifies one layer instance in the thread-local caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LayerId(u64);

impl LayerId {
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        LayerId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// Keys are (layer, metadata address, style): already unique, so the hasher just mixes them.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

type Cache = HashMap<(LayerId, usize, bool), Rc<CallsiteKeys>, BuildHasherDefault<AddressHasher>>;

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The keys for `meta`'s fields as rendered by the layer `layer`, or `None` when the cache is
/// unavailable (re-entrant call, thread teardown, cache full): the caller renders keys itself.
#[inline]
pub(crate) fn lookup(
    layer: LayerId,
    meta: &'static Metadata<'static>,
    fields: &Fields,
    style: Style,
) -> Option<Rc<CallsiteKeys>> {
    let address = meta as *const Metadata<'static> as usize;
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            let key = (layer, address, style == Style::Pretty);
            if let Some(keys) = cache.get(&key) {
                return Some(Rc::clone(keys));
            }
            if cache.len() >= MAX_CACHED_CALLSITES {
                return None;
            }
            let keys = Rc::new(CallsiteKeys::render(meta, fields, style));
            cache.insert(key, Rc::clone(&keys));
            Some(keys)
        })
        .ok()
        .flatten()
}
