//! [`TraceLayer`]: the server side of HTTP propagation for every request: continue the caller's
//! trace from the request headers, run the handler inside a `http_request` span carrying the
//! method, route and status, so every log line of the handler carries the request's trace.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;
use tracing::instrument::Instrumented;
use tracing::Instrument;

use super::propagation;

/// A `tower` layer (works as `axum::Router::layer`) that makes a server span per request.
///
/// The span is named `http_request` with fields `http.request.method`, `http.route` (axum's
/// matched route when available, else the path) and `http.response.status_code`, and
/// `otel.kind = "server"`; its parent is the trace in the request's `traceparent` header, if
/// any. A 5xx response marks the exported span's status as ERROR.
///
/// ```
/// use axum::{routing::get, Router};
///
/// let app: Router = Router::new()
///     .route("/blocks/{height}", get(|| async { "ok" }))
///     .layer(stethoscope::propagation::TraceLayer::new());
/// # drop(app);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TraceLayer {
    _private: (),
}

impl TraceLayer {
    /// A layer with the default span.
    pub fn new() -> Self {
        TraceLayer::default()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService { inner }
    }
}

/// The service [`TraceLayer`] wraps around a handler.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
}

impl<S, B, R> Service<http::Request<B>> for TraceService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let route = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| request.uri().path().to_owned());
        let span = tracing::info_span!(
            "http_request",
            otel.kind = "server",
            http.request.method = %request.method(),
            http.route = %route,
            http.response.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
        );
        propagation::set_parent(&span, &propagation::extract(request.headers()));
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        ResponseFuture {
            inner: future.instrument(span.clone()),
            span,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`TraceService`]: records the status on the span when done.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        span: tracing::Span,
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            let status = response.status();
            this.span
                .record("http.response.status_code", status.as_u16());
            if status.is_server_error() {
                // Server errors fail the span; 4xx are the caller's problem (OTel semantics).
                this.span.record("otel.status_code", "ERROR");
            }
        }
        Poll::Ready(result)
    }
}
