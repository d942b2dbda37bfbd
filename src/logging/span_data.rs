//! What stethoscope keeps per span: its fields serialized once (child-logger context) and its
//! trace/span ids. Stored in the registry's span extensions.

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::escape::quoted_into;
use super::ids::SpanIds;
use super::redact::Redactor;
use super::visitor::{write_key, Seen, Style, Visitor};

/// One field inside [`SpanData::json`]: `json[start..end]` is `,"key":value`, and
/// `json[value_start..end]` is the value alone.
#[derive(Clone, Copy, Debug)]
struct Entry {
    name: &'static str,
    start: u32,
    value_start: u32,
    end: u32,
}

/// Per-span data, written when the span is created or recorded and only copied afterwards.
#[derive(Debug)]
pub(crate) struct SpanData {
    /// The span's fields as consecutive `,"key":value` pairs.
    json: Vec<u8>,
    entries: Vec<Entry>,
    /// The entries' names, in order, for bulk insertion into [`Seen`].
    names: Vec<&'static str>,
    /// Union of [`Seen::bit`] over the field names: tells an event in one AND whether any of
    /// this span's names might clash with names already on the line.
    mask: u64,
    pub(crate) ids: SpanIds,
    /// JSON only: `,"span":"<name>","trace_id":"…","span_id":"…"`, what a line inside this span
    /// ends with.
    pub(crate) tail: Vec<u8>,
}

/// Settings shared by the layers that render spans.
#[derive(Clone, Debug, Default)]
pub(crate) struct FieldPolicy {
    pub(crate) redactor: Redactor,
    /// Names of constant fields, treated as reserved keys like `level`.
    pub(crate) reserved: Vec<Box<str>>,
}

impl SpanData {
    fn render(values: &dyn RecordFields, policy: &FieldPolicy, ids: SpanIds) -> Self {
        let mut json = Vec::new();
        let mut entries = Vec::new();
        let mut mask = 0;
        {
            let mut on_field =
                |name: &'static str, start: usize, value_start: usize, end: usize| {
                    mask |= Seen::bit(name);
                    entries.push(Entry {
                        name,
                        start: start as u32,
                        value_start: value_start as u32,
                        end: end as u32,
                    });
                };
            let mut visitor = Visitor {
                out: &mut json,
                redactor: &policy.redactor,
                reserved: &policy.reserved,
                style: Style::Json,
                seen: None,
                is_event: false,
                skip_log_fields: false,
                keys: None,
                on_field: Some(&mut on_field),
            };
            values.record_into(&mut visitor);
        }
        let names = entries.iter().map(|e| e.name).collect();
        SpanData {
            json,
            entries,
            names,
            mask,
            ids,
            tail: Vec::new(),
        }
    }

    /// Merges newly recorded values: a field recorded again keeps its position and takes the
    /// new value; a field recorded for the first time is appended.
    fn merge(&mut self, newer: SpanData) {
        let mut json = Vec::with_capacity(self.json.len() + newer.json.len());
        let mut entries = Vec::with_capacity(self.entries.len() + newer.entries.len());
        let mut push = |src: &[u8], e: &Entry| {
            let start = json.len();
            json.extend_from_slice(&src[e.start as usize..e.end as usize]);
            let shift = start as i64 - e.start as i64;
            entries.push(Entry {
                name: e.name,
                start: start as u32,
                value_start: (e.value_start as i64 + shift) as u32,
                end: json.len() as u32,
            });
        };
        for old in &self.entries {
            match newer.entries.iter().find(|n| n.name == old.name) {
                Some(new) => push(&newer.json, new),
                None => push(&self.json, old),
            }
        }
        for new in &newer.entries {
            if !self.entries.iter().any(|o| o.name == new.name) {
                push(&newer.json, new);
            }
        }
        self.json = json;
        self.names = entries.iter().map(|e| e.name).collect();
        self.entries = entries;
        self.mask |= newer.mask;
    }

    /// Appends this span's fields to a JSON line, skipping names the line already has.
    #[inline]
    pub(crate) fn write_json(&self, out: &mut Vec<u8>, seen: &mut Seen) {
        if self.mask & seen.mask == 0 {
            // No possible clash: one copy for the whole span.
            out.extend_from_slice(&self.json);
            seen.insert_all(&self.names, self.mask);
            return;
        }
        for e in &self.entries {
            if !seen.contains(e.name) {
                out.extend_from_slice(&self.json[e.start as usize..e.end as usize]);
                seen.insert(e.name);
            }
        }
    }

    /// Appends this span's fields as ` key=value` pairs, skipping names the line already has.
    pub(crate) fn write_pretty(&self, out: &mut Vec<u8>, seen: &mut Seen, policy: &FieldPolicy) {
        for e in &self.entries {
            if !seen.contains(e.name) {
                write_key(out, e.name, &policy.reserved, true);
                out.extend_from_slice(&self.json[e.value_start as usize..e.end as usize]);
                seen.insert(e.name);
            }
        }
    }
}

/// `Attributes` and `Record` both hand their values to a visitor.
trait RecordFields {
    fn record_into(&self, visitor: &mut Visitor<'_>);
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut Visitor<'_>) {
        self.record(visitor);
    }
}

impl RecordFields for Record<'_> {
    fn record_into(&self, visitor: &mut Visitor<'_>) {
        self.record(visitor);
    }
}

/// `Layer::on_new_span` for every stethoscope output layer: the first one to see a span
/// stores its [`SpanData`]; the others reuse it.
pub(crate) fn on_new_span<S>(
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
    policy: &FieldPolicy,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    if span.extensions().get::<SpanData>().is_some() {
        return;
    }
    let ids = span
        .parent()
        .and_then(|p| {
            p.extensions()
                .get::<SpanData>()
                .map(|d| SpanIds::child_of(&d.ids))
        })
        .unwrap_or_else(SpanIds::new_root);
    let mut data = SpanData::render(attrs, policy, ids);
    data.tail.extend_from_slice(b",\"span\":");
    quoted_into(&mut data.tail, span.name());
    data.tail.extend_from_slice(b",\"trace_id\":\"");
    data.tail.extend_from_slice(&ids.trace_id);
    data.tail.extend_from_slice(b"\",\"span_id\":\"");
    data.tail.extend_from_slice(&ids.span_id);
    data.tail.push(b'"');
    span.extensions_mut().insert(data);
}

/// `Layer::on_record`: merges `Span::record` values into the stored fields.
///
/// The values are rendered *before* the span's extensions are locked: rendering runs user
/// `Debug` impls, and one that logs or panics (the panic hook logs) must not find the lock held.
pub(crate) fn on_record<S>(id: &Id, values: &Record<'_>, ctx: &Context<'_, S>, policy: &FieldPolicy)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.span(id) else { return };
    let Some(ids) = span.extensions().get::<SpanData>().map(|d| d.ids) else {
        return;
    };
    let newer = SpanData::render(values, policy, ids);
    let mut ext = span.extensions_mut();
    if let Some(data) = ext.get_mut::<SpanData>() {
        data.merge(newer);
    }
}
