//! W3C trace and span ids carried by every span, so log lines correlate without a collector.
//!
//! This is the seam where OpenTelemetry plugs in: today the ids are generated here (random,
//! non-zero, lowercase hex like `traceparent`); once spans are exported, the same
//! [`SpanIds`] extension is filled from the exported span's context so that log lines and
//! traces share one id scheme.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The ids of one span, also pre-rendered as lowercase hex so an event copies them with a
/// memcpy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SpanIds {
    pub(crate) trace: [u8; 16],
    pub(crate) span: [u8; 8],
    /// W3C trace flags to propagate (sampled, random).
    pub(crate) flags: u8,
    pub(crate) trace_id: [u8; 32],
    pub(crate) span_id: [u8; 16],
}

/// Flags of a trace we start: `sampled` (downstream services with collectors record it; we have
/// no sampler of our own) and level 2 `random` (our trace ids are fully random).
const ROOT_FLAGS: u8 = 0x01 | 0x02;

impl SpanIds {
    pub(crate) fn new(trace: [u8; 16], span: [u8; 8], flags: u8) -> Self {
        SpanIds {
            trace,
            span,
            flags,
            trace_id: hex(trace),
            span_id: hex(span),
        }
    }

    /// Ids for a new root span: a fresh trace.
    pub(crate) fn new_root() -> Self {
        SpanIds::new(
            next_nonzero_u128().to_be_bytes(),
            next_nonzero_u64().to_be_bytes(),
            ROOT_FLAGS,
        )
    }

    /// Ids for a child of `parent`: same trace and flags, fresh span id.
    pub(crate) fn child_of(parent: &SpanIds) -> Self {
        SpanIds::new(parent.trace, next_nonzero_u64().to_be_bytes(), parent.flags)
    }
}

fn hex<const N: usize, const M: usize>(bytes: [u8; N]) -> [u8; M] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    debug_assert_eq!(N * 2, M);
    let mut out = [0u8; M];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[(b >> 4) as usize];
        out[2 * i + 1] = DIGITS[(b & 0xf) as usize];
    }
    out
}

thread_local! {
    // wyrand state, seeded once per thread from std's per-process random keys, so ids are
    // unpredictable across processes and distinct across threads without a global lock.
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(std::process::id() as u64);
    h.finish() | 1
}

fn next_u64() -> u64 {
    RNG.with(|s| {
        let x = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = (x as u128).wrapping_mul((x ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) ^ t) as u64
    })
}

/// W3C forbids the all-zero id; redraw in the (astronomically unlikely) zero case.
fn next_nonzero_u64() -> u64 {
    loop {
        let v = next_u64();
        if v != 0 {
            return v;
        }
    }
}

fn next_nonzero_u128() -> u128 {
    loop {
        let v = ((next_u64() as u128) << 64) | next_u64() as u128;
        if v != 0 {
            return v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ids_are_lowercase_hex_of_w3c_length_and_children_share_the_trace() {
        let root = SpanIds::new_root();
        let child = SpanIds::child_of(&root);
        assert!(root
            .trace_id
            .iter()
            .chain(&root.span_id)
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)));
        assert_eq!(child.trace_id, root.trace_id);
        assert_ne!(child.span_id, root.span_id);
    }

    #[test]
    fn ids_do_not_repeat() {
        let ids: HashSet<_> = (0..10_000).map(|_| SpanIds::new_root().trace_id).collect();
        assert_eq!(ids.len(), 10_000);
    }
}
