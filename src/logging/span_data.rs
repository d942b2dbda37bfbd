//! What stethoscope keeps per span: its fields serialized once (child-logger context), the
//! merged fields of its whole span chain, and its trace/span ids. Stored in the registry's
//! span extensions.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::escape::quoted_into;
use super::ids::SpanIds;
use super::keys::{self, CallsiteKeys, LayerId};
use super::line::Fields;
use super::redact::Redactor;
use super::visitor::{write_key, Seen, Style, Visitor};
use crate::trace::w3c::{TraceParent, TraceState};

/// Bumped after every `Span::record` on any span. A span's merged chain (below) is valid only
/// while this still equals the value it was built at: a record anywhere may have changed one
/// of its ancestors. Records are rare next to events, so most events take the one-copy path.
static RECORDS: AtomicU64 = AtomicU64::new(0);

/// One field inside [`FieldList::json`]: `json[start..end]` is `,"key":value`, and
/// `json[value_start..end]` is the value alone.
#[derive(Clone, Copy, Debug)]
struct Entry {
    name: &'static str,
    start: u32,
    value_start: u32,
    end: u32,
}

/// Serialized fields: consecutive `,"key":value` pairs plus an index of them.
#[derive(Debug, Default)]
struct FieldList {
    json: Vec<u8>,
    entries: Vec<Entry>,
    /// Union of [`Seen::bit`] over the names: tells an event in one AND whether any name might
    /// clash with names already on the line.
    mask: u64,
}

impl FieldList {
    fn render(
        values: &dyn RecordFields,
        policy: &FieldPolicy,
        keys: Option<&CallsiteKeys>,
    ) -> Self {
        let mut list = FieldList {
            // Sized for a typical span so that rendering does not regrow the buffers.
            json: Vec::with_capacity(128),
            entries: Vec::with_capacity(values.len()),
            mask: 0,
        };
        list.append_rendered(values, policy, keys);
        list
    }

    /// Renders `values` onto the end of this list.
    fn append_rendered(
        &mut self,
        values: &dyn RecordFields,
        policy: &FieldPolicy,
        keys: Option<&CallsiteKeys>,
    ) {
        let entries = &mut self.entries;
        let mask = &mut self.mask;
        let mut on_field = |name: &'static str, start: usize, value_start: usize, end: usize| {
            *mask |= Seen::bit(name);
            entries.push(Entry {
                name,
                start: start as u32,
                value_start: value_start as u32,
                end: end as u32,
            });
        };
        let mut visitor = Visitor {
            out: &mut self.json,
            redactor: &policy.redactor,
            reserved: &policy.reserved,
            style: Style::Json,
            seen: None,
            is_event: false,
            skip_log_fields: false,
            keys,
            on_field: Some(&mut on_field),
        };
        values.record_into(&mut visitor);
    }

    /// Applies `Span::record` values rendered in `newer`: a field recorded again keeps its
    /// position and takes the new value; a field recorded for the first time is appended.
    fn merge(&mut self, newer: &FieldList) {
        if newer.entries.iter().all(|n| !self.contains(n.name)) {
            // The common case, `Empty` fields filled in later: append in place.
            self.extend_missing(newer);
        } else {
            *self = self.merged_with(newer);
        }
    }

    fn contains(&self, name: &str) -> bool {
        self.mask & Seen::bit(name) != 0 && self.entries.iter().any(|e| e.name == name)
    }

    /// Appends entry `e` of the list whose bytes are `src`.
    fn push(&mut self, src: &[u8], e: &Entry) {
        let start = self.json.len();
        self.json
            .extend_from_slice(&src[e.start as usize..e.end as usize]);
        self.entries.push(Entry {
            name: e.name,
            start: start as u32,
            value_start: (start + (e.value_start - e.start) as usize) as u32,
            end: self.json.len() as u32,
        });
        self.mask |= Seen::bit(e.name);
    }

    /// Appends every entry of `other` whose name is not present yet (nearest wins when `self`
    /// holds the nearer span's fields).
    fn extend_missing(&mut self, other: &FieldList) {
        for e in &other.entries {
            if !self.contains(e.name) {
                self.push(&other.json, e);
            }
        }
    }

    fn merged_with(&self, newer: &FieldList) -> FieldList {
        let mut out = FieldList::default();
        for old in &self.entries {
            match newer.entries.iter().find(|n| n.name == old.name) {
                Some(new) => out.push(&newer.json, new),
                None => out.push(&self.json, old),
            }
        }
        out.extend_missing(newer);
        out
    }

    /// Appends the fields to a JSON line, skipping names the line already has.
    #[inline]
    fn write_json(&self, out: &mut Vec<u8>, seen: &mut Seen) {
        if self.mask & seen.mask == 0 {
            // No possible clash: one copy for the whole list.
            out.extend_from_slice(&self.json);
            seen.insert_all(self.entries.iter().map(|e| e.name), self.mask);
            return;
        }
        for e in &self.entries {
            if !seen.contains(e.name) {
                out.extend_from_slice(&self.json[e.start as usize..e.end as usize]);
                seen.insert(e.name);
            }
        }
    }

    /// Appends the fields as ` key=value` pairs, skipping names the line already has.
    fn write_pretty(&self, out: &mut Vec<u8>, seen: &mut Seen, policy: &FieldPolicy) {
        for e in &self.entries {
            if !seen.contains(e.name) {
                write_key(out, e.name, &policy.reserved, true);
                out.extend_from_slice(&self.json[e.value_start as usize..e.end as usize]);
                seen.insert(e.name);
            }
        }
    }
}

/// Per-span data, written when the span is created or recorded and only copied afterwards.
#[derive(Debug)]
pub(crate) struct SpanData {
    /// The output layer that created this data and renders the span's records into it: every
    /// stethoscope output layer in a subscriber (JSON, pretty, the flight recorder) is handed
    /// each `Span::record`, and one merge is enough.
    renderer: LayerId,
    /// This span's own fields.
    own: FieldList,
    /// This span's fields followed by its ancestors' (nearest wins), as of `chain_records`;
    /// `None` when no ancestor has fields, so the chain is `own`.
    chain: Option<FieldList>,
    /// The value of [`RECORDS`] when `chain` was built.
    chain_records: u64,
    pub(crate) ids: SpanIds,
    /// The `tracestate` of the remote parent this span's trace continues, inherited by
    /// children so that it is propagated onwards.
    pub(crate) trace_state: Option<Arc<TraceState>>,
    /// The ids are the exported OpenTelemetry span's (adopted on first enter).
    ids_from_otel: bool,
    /// JSON only: `,"span":"<name>","trace_id":"…","span_id":"…"`, what a line inside this span
    /// ends with.
    pub(crate) tail: Vec<u8>,
}

impl SpanData {
    /// Makes this span continue the remote trace `parent` (from incoming headers): it takes
    /// the remote trace id and flags, keeps its own span id, and children created afterwards
    /// inherit both.
    pub(crate) fn set_remote_parent(
        &mut self,
        name: &str,
        parent: &TraceParent,
        trace_state: Option<TraceState>,
    ) {
        self.ids = SpanIds::new(parent.trace_id, self.ids.span, parent.flags);
        self.trace_state = trace_state.filter(|s| !s.is_empty()).map(Arc::new);
        self.tail = render_tail(name, &self.ids);
    }

    /// Whether [`SpanData::write_chain_json`] may be used: no span was recorded since the
    /// chain was merged.
    #[inline]
    pub(crate) fn chain_is_current(&self) -> bool {
        self.chain_records == RECORDS.load(Ordering::Acquire)
    }

    /// Appends the fields of this span and all its ancestors with one lookup (requires
    /// [`SpanData::chain_is_current`]).
    #[inline]
    pub(crate) fn write_chain_json(&self, out: &mut Vec<u8>, seen: &mut Seen) {
        self.chain
            .as_ref()
            .unwrap_or(&self.own)
            .write_json(out, seen);
    }

    /// Appends only this span's own fields to a JSON line.
    #[inline]
    pub(crate) fn write_json(&self, out: &mut Vec<u8>, seen: &mut Seen) {
        self.own.write_json(out, seen);
    }

    /// Appends this span's own fields as ` key=value` pairs.
    pub(crate) fn write_pretty(&self, out: &mut Vec<u8>, seen: &mut Seen, policy: &FieldPolicy) {
        self.own.write_pretty(out, seen, policy);
    }
}

/// Settings shared by the layers that render spans.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldPolicy {
    pub(crate) redactor: Redactor,
    /// Names of constant fields, treated as reserved keys like `level`.
    pub(crate) reserved: Vec<Box<str>>,
}

/// `Attributes` and `Record` both hand their values to a visitor.
trait RecordFields {
    fn record_into(&self, visitor: &mut Visitor<'_>);
    /// How many values there are (an upper bound is fine).
    fn len(&self) -> usize;
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut Visitor<'_>) {
        self.record(visitor);
    }
    fn len(&self) -> usize {
        self.metadata().fields().len()
    }
}

impl RecordFields for Record<'_> {
    fn record_into(&self, visitor: &mut Visitor<'_>) {
        self.record(visitor);
    }
    fn len(&self) -> usize {
        Record::len(self)
    }
}

/// `Layer::on_new_span` for every stethoscope output layer: the first one to see a span
/// stores its [`SpanData`]; the others reuse it.
///
/// Rendering runs user `Debug` impls, so it happens before any extension lock is taken.
pub(crate) fn on_new_span<S>(
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
    fields: &Fields,
    layer: LayerId,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    if span.extensions().get::<SpanData>().is_some() {
        return;
    }
    let keys = keys::lookup(layer, attrs.metadata(), fields, Style::Json);
    let own = FieldList::render(attrs, &fields.policy, keys.as_deref());
    // Read before looking at the ancestors: a record racing with this merge makes the chain
    // stale at once instead of silently missing the new value.
    let chain_records = RECORDS.load(Ordering::Acquire);
    let mut chain: Option<FieldList> = None;
    let mut parent = None;
    let mut ancestor = span.parent();
    while let Some(a) = ancestor {
        if let Some(data) = a.extensions().get::<SpanData>() {
            if parent.is_none() {
                parent = Some((data.ids, data.trace_state.clone()));
            }
            if !data.own.entries.is_empty() {
                chain
                    .get_or_insert_with(|| {
                        let mut c = FieldList::default();
                        c.extend_missing(&own);
                        c
                    })
                    .extend_missing(&data.own);
            }
        }
        ancestor = a.parent();
    }
    let (ids, trace_state) = match parent {
        Some((ids, state)) => (SpanIds::child_of(&ids), state),
        None => (SpanIds::new_root(), None),
    };
    let tail = render_tail(span.name(), &ids);
    span.extensions_mut().insert(SpanData {
        renderer: layer,
        own,
        chain,
        chain_records,
        ids,
        trace_state,
        ids_from_otel: false,
        tail,
    });
}

fn render_tail(name: &str, ids: &SpanIds) -> Vec<u8> {
    let mut tail = Vec::with_capacity(100);
    tail.extend_from_slice(b",\"span\":");
    quoted_into(&mut tail, name);
    tail.extend_from_slice(b",\"trace_id\":\"");
    tail.extend_from_slice(&ids.trace_id);
    tail.extend_from_slice(b"\",\"span_id\":\"");
    tail.extend_from_slice(&ids.span_id);
    tail.push(b'"');
    tail
}

/// `Layer::on_enter` when spans are exported: the OpenTelemetry layer, which sits inside ours,
/// has just built and activated the span, so the current OpenTelemetry context *is* this
/// span's. Its ids replace ours once, so log lines and exported spans agree.
pub(crate) fn adopt_otel_ids<S>(id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    use opentelemetry::trace::TraceContextExt;
    let Some(span) = ctx.span(id) else { return };
    if span
        .extensions()
        .get::<SpanData>()
        .is_none_or(|d| d.ids_from_otel)
    {
        return;
    }
    let cx = opentelemetry::Context::current();
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() {
        return;
    }
    let ids = SpanIds::new(
        sc.trace_id().to_bytes(),
        sc.span_id().to_bytes(),
        sc.trace_flags().to_u8(),
    );
    let name = span.name();
    let mut ext = span.extensions_mut();
    if let Some(data) = ext.get_mut::<SpanData>() {
        data.ids = ids;
        data.tail = render_tail(name, &ids);
        data.ids_from_otel = true;
    }
}

/// `Layer::on_record`: merges `Span::record` values into the stored fields.
///
/// The values are rendered *before* the span's extensions are locked: rendering runs user
/// `Debug` impls, and one that logs or panics (the panic hook logs) must not find the lock held.
pub(crate) fn on_record<S>(
    id: &Id,
    values: &Record<'_>,
    ctx: &Context<'_, S>,
    fields: &Fields,
    layer: LayerId,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    if span
        .extensions()
        .get::<SpanData>()
        .is_none_or(|d| d.renderer != layer)
    {
        return;
    }
    let keys = keys::lookup(layer, span.metadata(), fields, Style::Json);
    // Rendered before the span's extensions are locked: rendering runs user `Debug` impls,
    // and one that logs or panics (the panic hook logs) must not find the lock held. The
    // scratch list is per thread so that recording allocates nothing after warm-up.
    with_scratch_list(|newer| {
        newer.append_rendered(values, &fields.policy, keys.as_deref());
        let mut ext = span.extensions_mut();
        if let Some(data) = ext.get_mut::<SpanData>() {
            data.own.merge(newer);
            // Every chain that includes this span is now stale (they are recognized by the count).
            RECORDS.fetch_add(1, Ordering::Release);
        }
    });
}

thread_local! {
    static SCRATCH_LIST: std::cell::RefCell<FieldList> = std::cell::RefCell::new(FieldList::default());
}

/// Runs `f` with this thread's cleared scratch [`FieldList`] (a fresh one if it is in use).
fn with_scratch_list(f: impl FnOnce(&mut FieldList)) {
    let mut f = Some(f);
    let _ = SCRATCH_LIST.try_with(|cell| {
        if let Ok(mut list) = cell.try_borrow_mut() {
            list.json.clear();
            list.entries.clear();
            list.mask = 0;
            if let Some(f) = f.take() {
                f(&mut list);
            }
        }
    });
    if let Some(f) = f {
        f(&mut FieldList::default());
    }
}
