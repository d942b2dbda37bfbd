//! W3C `traceparent`/`tracestate` and `baggage` across process boundaries: inject the current
//! trace into outgoing HTTP requests or messages, extract it from incoming ones, so one trace
//! crosses services.
//!
//! The trace-context part is [`W3cTraceContextPropagator`], which follows the W3C
//! Recommendation to the letter (see [`TraceParent`] and [`TraceState`]); `baggage` is
//! OpenTelemetry's [`BaggagePropagator`]. Both work with or without an OpenTelemetry exporter:
//! without one, log lines still carry the continued trace's ids.
//!
//! ```
//! use std::collections::HashMap;
//! use stethoscope::propagation;
//!
//! // Consumer side: continue the producer's trace.
//! let mut headers: HashMap<String, String> = HashMap::new();
//! headers.insert(
//!     "traceparent".into(),
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
//! );
//! let parent = propagation::extract(&headers);
//! let span = stethoscope::info_span!("consume");
//! propagation::set_parent(&span, &parent);
//!
//! // Producer side: send the current trace onwards.
//! let _entered = span.enter();
//! let mut outgoing: HashMap<String, String> = HashMap::new();
//! propagation::inject_current(&mut outgoing);
//! ```

use std::sync::OnceLock;

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapCompositePropagator,
    TextMapPropagator,
};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState as OtelTraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::BaggagePropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::registry::LookupSpan;

use super::carrier::{AsExtractor, AsInjector};
pub use super::carrier::{Carrier, CarrierMut};
pub use super::http_server::{ResponseFuture, TraceLayer, TraceService};
pub use super::w3c::{TraceParent, TraceState, FLAG_RANDOM, FLAG_SAMPLED, MAX_TRACESTATE_MEMBERS};
use crate::logging::ids::SpanIds;
use crate::logging::span_data::SpanData;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";

/// The W3C Trace Context propagator, as an OpenTelemetry [`TextMapPropagator`].
///
/// Differences from `opentelemetry_sdk::propagation::TraceContextPropagator`, each required by
/// the Recommendation: a repeated `traceparent` restarts the trace; repeated `tracestate`
/// headers are combined; fields of the wrong length are rejected; a `tracestate` with an
/// invalid member, an empty value or more than 32 members is discarded whole rather than
/// truncated; a duplicated `tracestate` key keeps its left-most member; `tracestate` keys
/// follow the level-2 grammar (`foo@`, `foo@@bar` and 256-character keys with `@` are valid)
/// and are forwarded exactly as received even where OpenTelemetry's `TraceState` cannot hold
/// them; and the level-2 `random` flag is kept.
#[derive(Clone, Copy, Debug, Default)]
pub struct W3cTraceContextPropagator;

impl W3cTraceContextPropagator {
    /// Parses the trace context from `extractor`, or `None` for a new trace.
    pub fn parse(extractor: &dyn Extractor) -> Option<(TraceParent, Option<TraceState>)> {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let parent = TraceParent::parse_all(&parents)?;
        // Only a valid traceparent makes tracestate meaningful (3.3.1).
        let states = extractor.get_all(TRACESTATE).unwrap_or_default();
        Some((parent, TraceState::parse_all(&states)))
    }
}

impl TextMapPropagator for W3cTraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        let parent = TraceParent {
            trace_id: sc.trace_id().to_bytes(),
            parent_id: sc.span_id().to_bytes(),
            flags: sc.trace_flags().to_u8(),
        };
        injector.set(TRACEPARENT, parent.to_string());
        let state = match inherited(cx, sc) {
            Some(inherited) => inherited.state.to_string(),
            None => sc.trace_state().header(),
        };
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((parent, state)) = Self::parse(extractor) else {
            return cx.clone();
        };
        with_parent(cx, &parent, state, true)
    }

    fn fields(&self) -> FieldIter<'_> {
        static NAMES: OnceLock<[String; 2]> = OnceLock::new();
        FieldIter::new(NAMES.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]))
    }
}

/// The `tracestate` a context continues, exactly as received, kept in the OpenTelemetry
/// [`Context`] beside the span context.
///
/// OpenTelemetry's `TraceState` still checks keys against level 1's grammar (one `@` at most,
/// a system id shorter than 14 characters) and so rejects keys level 2 allows (`foo@@bar`,
/// `t…t@vvvvvvvvvvvvvv`); it can hold only part of such a list. The span context gets that
/// part (what exporters record); injection sends this whole list instead, as the
/// Recommendation requires ("Vendors receiving a `tracestate` request header MUST send it to
/// outgoing requests").
#[derive(Debug)]
struct Inherited {
    /// The trace `state` belongs to: a context whose span is in another trace ignores it.
    trace_id: [u8; 16],
    state: TraceState,
    /// The header of the OpenTelemetry `TraceState` made from `state`. A span context whose
    /// `TraceState` no longer renders to this was changed since (a sampler may add its own
    /// key), and then the changed one is what is sent.
    otel_header: String,
}

/// The [`Inherited`] state of `cx`, if it still describes `sc`.
fn inherited<'a>(cx: &'a Context, sc: &SpanContext) -> Option<&'a Inherited> {
    cx.get::<Inherited>().filter(|i| {
        i.trace_id == sc.trace_id().to_bytes() && i.otel_header == sc.trace_state().header()
    })
}

/// The `tracestate` to propagate from `sc` in `cx`: the received one when the span context
/// still carries it, otherwise OpenTelemetry's.
fn trace_state_of(cx: &Context, sc: &SpanContext) -> Option<TraceState> {
    match inherited(cx, sc) {
        Some(inherited) => Some(inherited.state.clone()),
        None => TraceState::parse_all(&[&sc.trace_state().header()]),
    }
}

/// The members of `state` that OpenTelemetry's `TraceState` accepts, in order.
fn otel_trace_state(state: &TraceState) -> OtelTraceState {
    // Member by member, so that one key OpenTelemetry rejects does not cost the others.
    let accepted = state
        .members()
        .filter(|member| OtelTraceState::from_key_value([*member]).is_ok());
    OtelTraceState::from_key_value(accepted).unwrap_or_default()
}

/// `cx` with the W3C trace `parent` (and its `state`) as its remote span context.
fn with_parent(
    cx: &Context,
    parent: &TraceParent,
    state: Option<TraceState>,
    remote: bool,
) -> Context {
    let otel_state = state.as_ref().map(otel_trace_state).unwrap_or_default();
    let otel_header = otel_state.header();
    let cx = cx.with_remote_span_context(SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.parent_id),
        TraceFlags::new(parent.flags),
        remote,
        otel_state,
    ));
    match state {
        Some(state) if !state.is_empty() => cx.with_value(Inherited {
            trace_id: parent.trace_id,
            state,
            otel_header,
        }),
        _ => cx,
    }
}

/// Our trace-context propagator composed with W3C baggage.
pub fn propagator() -> &'static TextMapCompositePropagator {
    static PROPAGATOR: OnceLock<TextMapCompositePropagator> = OnceLock::new();
    PROPAGATOR.get_or_init(global_propagator)
}

/// A fresh instance of [`propagator`] for `opentelemetry::global`, which takes ownership.
pub(crate) fn global_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(W3cTraceContextPropagator),
        Box::new(BaggagePropagator::new()),
    ])
}

/// Reads trace context and baggage from incoming headers. An absent or invalid `traceparent`
/// gives a context without a parent (a new trace starts); it never fails.
pub fn extract<C: Carrier + ?Sized>(carrier: &C) -> Context {
    propagator().extract(&AsExtractor(carrier))
}

/// Writes `cx`'s trace context and baggage into outgoing headers.
pub fn inject<C: CarrierMut + ?Sized>(cx: &Context, carrier: &mut C) {
    propagator().inject_context(cx, &mut AsInjector(carrier));
}

/// Writes the current `tracing` span's trace context (and the current baggage) into outgoing
/// headers: the producer side of a message, the client side of a request.
pub fn inject_current<C: CarrierMut + ?Sized>(carrier: &mut C) {
    inject(&current_context(), carrier);
}

/// The OpenTelemetry context of the current `tracing` span: the exported span's when an
/// OpenTelemetry layer is installed, otherwise one built from the ids on our log lines.
pub fn current_context() -> Context {
    let span = tracing::Span::current();
    let otel = span.context();
    if otel.span().span_context().is_valid() {
        return otel;
    }
    let base = Context::current();
    let Some((ids, state)) = span_ids(&span) else {
        return base;
    };
    let parent = TraceParent {
        trace_id: ids.trace,
        parent_id: ids.span,
        flags: ids.flags,
    };
    with_parent(&base, &parent, state, false)
}

/// Makes `span` a child of the remote parent in `cx` (typically from [`extract`]), so its
/// trace — and its log lines' `trace_id` — continue the caller's. Call it right after creating
/// the span, before entering it or creating children. Without a valid parent in `cx` it does
/// nothing.
pub fn set_parent(span: &tracing::Span, cx: &Context) {
    let sc = cx.span().span_context().clone();
    if !sc.is_valid() {
        return;
    }
    // With an OpenTelemetry layer, the exported span takes the parent too; without one this
    // reports `LayerNotFound`, which is expected.
    let _ = span.set_parent(cx.clone());
    let parent = TraceParent {
        trace_id: sc.trace_id().to_bytes(),
        parent_id: sc.span_id().to_bytes(),
        flags: sc.trace_flags().to_u8(),
    };
    let state = trace_state_of(cx, &sc);
    span.with_subscriber(|(id, dispatch)| {
        let Some(registry) = dispatch.downcast_ref::<tracing_subscriber::Registry>() else {
            return;
        };
        let Some(span_ref) = registry.span(id) else {
            return;
        };
        let name = span_ref.name();
        let mut ext = span_ref.extensions_mut();
        if let Some(data) = ext.get_mut::<SpanData>() {
            data.set_remote_parent(name, &parent, state);
        }
    });
}

/// The consumer side in one call: makes the trace carried by `carrier` (an incoming request's
/// or message's headers) the parent of `span`. Equivalent to
/// `set_parent(span, &extract(carrier))`.
pub fn continue_from<C: Carrier + ?Sized>(span: &tracing::Span, carrier: &C) {
    set_parent(span, &extract(carrier));
}

/// The ids (and inherited tracestate) stethoscope's log lines carry for `span`.
fn span_ids(span: &tracing::Span) -> Option<(SpanIds, Option<TraceState>)> {
    span.with_subscriber(|(id, dispatch)| {
        let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
        let span_ref = registry.span(id)?;
        let ext = span_ref.extensions();
        let data = ext.get::<SpanData>()?;
        Some((data.ids, data.trace_state.as_deref().cloned()))
    })
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03";

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn extract_then_inject_preserves_traceparent_flags_and_tracestate() {
        let incoming = map(&[(TRACEPARENT, TP), (TRACESTATE, "rojo=1,congo=2")]);
        let cx = extract(&incoming);
        let mut out = HashMap::new();
        inject(&cx, &mut out);
        assert_eq!(out.get(TRACEPARENT).map(String::as_str), Some(TP));
        assert_eq!(
            out.get(TRACESTATE).map(String::as_str),
            Some("rojo=1,congo=2")
        );
    }

    fn injected_tracestate(cx: &Context) -> Option<String> {
        let mut out = HashMap::new();
        inject(cx, &mut out);
        out.remove(TRACESTATE)
    }

    /// `cx` with its span context's OpenTelemetry `TraceState` (and maybe trace id) replaced,
    /// as a sampler or a restarted trace would.
    fn replaced(cx: &Context, trace_id: Option<TraceId>, state: OtelTraceState) -> Context {
        let sc = cx.span().span_context().clone();
        cx.with_remote_span_context(SpanContext::new(
            trace_id.unwrap_or(sc.trace_id()),
            sc.span_id(),
            sc.trace_flags(),
            true,
            state,
        ))
    }

    #[test]
    fn the_span_context_holds_the_members_opentelemetry_accepts() {
        let cx = extract(&map(&[
            (TRACEPARENT, TP),
            (TRACESTATE, "foo@@bar=1,rojo=2"),
        ]));
        assert_eq!(cx.span().span_context().trace_state().header(), "rojo=2");
        assert_eq!(
            injected_tracestate(&cx).as_deref(),
            Some("foo@@bar=1,rojo=2")
        );
    }

    #[test]
    fn a_tracestate_changed_after_extraction_is_sent_as_changed() {
        let cx = extract(&map(&[
            (TRACEPARENT, TP),
            (TRACESTATE, "foo@@bar=1,rojo=2"),
        ]));
        let state = cx.span().span_context().trace_state().clone();
        let changed = replaced(&cx, None, state.insert("congo", "3").unwrap());
        assert_eq!(
            injected_tracestate(&changed).as_deref(),
            Some("congo=3,rojo=2")
        );
    }

    #[test]
    fn another_trace_does_not_send_the_received_tracestate() {
        let cx = extract(&map(&[
            (TRACEPARENT, TP),
            (TRACESTATE, "foo@@bar=1,rojo=2"),
        ]));
        let state = cx.span().span_context().trace_state().clone();
        let other = replaced(&cx, Some(TraceId::from_bytes([7; 16])), state);
        assert_eq!(injected_tracestate(&other).as_deref(), Some("rojo=2"));
    }

    #[test]
    fn an_invalid_traceparent_gives_no_parent() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        ] {
            let cx = extract(&map(&[(TRACEPARENT, bad)]));
            assert!(!cx.span().span_context().is_valid(), "{bad:?}");
        }
    }

    #[test]
    fn baggage_travels_with_the_trace() {
        let cx = extract(&map(&[(TRACEPARENT, TP), ("baggage", "tenant=acme")]));
        let mut out = HashMap::new();
        inject(&cx, &mut out);
        assert_eq!(out.get("baggage").map(String::as_str), Some("tenant=acme"));
    }
}
