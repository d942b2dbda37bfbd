//! OTLP/gRPC span export (feature `otlp-grpc`): opentelemetry-otlp's tonic exporter, driven by
//! a private single-threaded tokio runtime.
//!
//! The batch span processor exports from its own plain thread, where tonic finds no tokio
//! reactor. Owning a small runtime here makes gRPC export independent of whether (and which)
//! runtime the application uses, and keeps the exporter's I/O off the application's workers.

use std::time::Duration;

use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use crate::error::Error;
use crate::secret::{Secret, SecretUrl, REDACTED};

/// The tonic exporter plus the runtime it runs on.
#[derive(Debug)]
pub(crate) struct GrpcExporter {
    runtime: tokio::runtime::Runtime,
    inner: opentelemetry_otlp::SpanExporter,
}

impl GrpcExporter {
    pub(crate) fn build(
        endpoint: &SecretUrl,
        headers: &[(String, Secret)],
        timeout: Duration,
    ) -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("stethoscope-otlp-grpc")
            .build()
            .map_err(|e| Error::io("starting the OTLP/gRPC exporter's runtime", e))?;
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (key, value) in headers {
            let key = tonic::metadata::MetadataKey::from_bytes(key.to_ascii_lowercase().as_bytes())
                .map_err(|e| {
                    Error::invalid_config(
                        "OTLP headers",
                        key,
                        format!("not a gRPC metadata key: {e}"),
                    )
                })?;
            let value = value.expose().parse().map_err(|e| {
                Error::invalid_config(
                    "OTLP headers",
                    format!("{key}={REDACTED}"),
                    format!("not a gRPC metadata value (visible ASCII only): {e}"),
                )
            })?;
            metadata.insert(key, value);
        }
        // tonic's lazy channel spawns onto the runtime current at build time.
        let inner = {
            let _enter = runtime.enter();
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.expose())
                .with_timeout(timeout)
                .with_metadata(metadata)
                .build()
                .map_err(|e| {
                    Error::invalid_config(
                        "with_otlp_endpoint",
                        endpoint,
                        format!("the gRPC exporter rejected it: {e}"),
                    )
                })?
        };
        Ok(GrpcExporter { runtime, inner })
    }
}

impl SpanExporter for GrpcExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        // Called on the batch processor's own thread (never inside a runtime), so blocking on
        // our private runtime is allowed.
        self.runtime.block_on(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _enter = self.runtime.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
