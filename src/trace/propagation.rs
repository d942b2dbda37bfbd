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
/// truncated; and the level-2 `random` flag is kept.
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
        let state = sc.trace_state().header();
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let Some((parent, state)) = Self::parse(extractor) else {
            return cx.clone();
        };
        cx.with_remote_span_context(span_context(&parent, state.as_ref(), true))
    }

    fn fields(&self) -> FieldIter<'_> {
        static NAMES: OnceLock<[String; 2]> = OnceLock::new();
        FieldIter::new(NAMES.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]))
    }
}

/// An OpenTelemetry span context for a W3C trace parent.
fn span_context(parent: &TraceParent, state: Option<&TraceState>, remote: bool) -> SpanContext {
    // OpenTelemetry's TraceState rejects a few keys the Recommendation allows (a 14-character
    // system id); such a state cannot be represented there and is dropped on this path only.
    let state = state
        .and_then(|s| OtelTraceState::from_key_value(s.members()).ok())
        .unwrap_or_default();
    SpanContext::new(
        TraceId::from_bytes(parent.trace_id),
        SpanId::from_bytes(parent.parent_id),
        TraceFlags::new(parent.flags),
        remote,
        state,
    )
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
    base.with_remote_span_context(span_context(&parent, state.as_ref(), false))
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
    let state = TraceState::parse_all(&[&sc.trace_state().header()]);
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
