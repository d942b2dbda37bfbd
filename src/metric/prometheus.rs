//! The only file that touches `metrics_exporter_prometheus`: builds its recorder with our bucket
//! settings and wraps its handle for rendering and upkeep.

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use super::buckets::{BucketMatch, DEFAULT_SECONDS_BUCKETS};
use crate::error::Error;

/// Builds the Prometheus recorder. Buckets listed later win over earlier ones for the same
/// matcher; a full-name match wins over a prefix match, which wins over the `_seconds` default.
pub(crate) fn build_recorder(
    buckets: &[(BucketMatch, Vec<f64>)],
) -> Result<(PrometheusRecorder, Exposition), Error> {
    let mut builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), DEFAULT_SECONDS_BUCKETS)
        .map_err(|e| Error::invalid_config("histogram buckets", "_seconds", e.to_string()))?;
    for (matcher, bounds) in buckets {
        let (matcher, shown) = match matcher {
            BucketMatch::Name(n) => (Matcher::Full(n.clone()), n),
            BucketMatch::Prefix(p) => (Matcher::Prefix(p.clone()), p),
        };
        builder = builder
            .set_buckets_for_metric(matcher, bounds)
            .map_err(|e| Error::invalid_config("with_histogram_buckets", shown, e.to_string()))?;
    }
    let recorder = builder.build_recorder();
    let exposition = Exposition {
        handle: recorder.handle(),
    };
    Ok((recorder, exposition))
}

/// Renders the recorder's metrics and keeps its histogram buffers bounded.
#[derive(Clone, Debug)]
pub(crate) struct Exposition {
    handle: PrometheusHandle,
}

impl Exposition {
    /// The Prometheus text exposition (format 0.0.4) of every metric recorded so far.
    pub(crate) fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains histogram samples into their buckets. Without the exporter's HTTP feature nothing
    /// else does this, and the sample buffers would grow without bound.
    pub(crate) fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}
