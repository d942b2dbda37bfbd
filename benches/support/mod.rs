//! The events every logging benchmark emits, so all subscribers see exactly the same work.

#![allow(dead_code)] // each bench binary uses a subset

/// (a) an event with 3 fields, outside any span.
#[inline]
pub(crate) fn event_no_span(i: u64) {
    tracing::info!(
        block = i,
        hash = "0x9f2c41d7",
        ok = true,
        "transaction ingested"
    );
}

/// (b) the same event inside 2 nested spans carrying 5 fields between them.
/// Runs `f` inside the spans.
pub(crate) fn in_two_spans<R>(f: impl FnOnce() -> R) -> R {
    let outer = tracing::info_span!("request", request_id = "r-17", user = "ada", shard = 3u64);
    let _o = outer.enter();
    let inner = tracing::info_span!("write_batch", rows = 500u64, table = "txs");
    let _i = inner.enter();
    f()
}
