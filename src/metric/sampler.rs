//! [`MetricsRuntime`]: installs the recorder and runs the background thread that samples process
//! metrics and the log-drop count and drains histogram buffers, until the guard stops it.
//!
//! Installing is two steps so that `Builder::install` can do everything that may fail before
//! anything global is set: [`MetricsRuntime::prepare`] builds the recorder and spawns the
//! sampler thread, which waits; [`PreparedMetrics::install_global`] sets the global recorder
//! (failing if another one is set) and only then lets the thread run.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use metrics::{Counter, Key, Metadata, Recorder};
use metrics_exporter_prometheus::PrometheusRecorder;

use super::cardinality::CardinalityLimiter;
use super::config::MetricSettings;
use super::names;
use super::own_cost;
use super::process::ProcessSample;
use super::prometheus::{self, Exposition};
use crate::error::Error;
use crate::logging::NonBlocking;
use crate::trace::export::ExportStats;

/// Everything `/metrics` needs, shared between the sampler thread and the admin server.
#[derive(Clone, Debug)]
pub(crate) struct Metrics {
    exposition: Exposition,
    process: Arc<Mutex<ProcessSample>>,
    log_writer: NonBlocking,
    log_lines_dropped: Counter,
    /// Span export bookkeeping with its two counters, when spans are exported.
    spans: Option<(Arc<ExportStats>, Counter, Counter)>,
    // Self-observability: lines queued, profiler samples.
    own: (Counter, Counter),
}

impl Metrics {
    /// Refreshes the counters sampled from elsewhere. Cheap: a few atomic loads.
    fn sample_counters(&self) {
        self.log_lines_dropped
            .absolute(self.log_writer.dropped_lines());
        if let Some((stats, dropped, exported)) = &self.spans {
            dropped.absolute(stats.dropped.load(Ordering::Relaxed));
            exported.absolute(stats.exported.load(Ordering::Relaxed));
        }
        self.own.0.absolute(self.log_writer.queued_lines());
        self.own
            .1
            .absolute(own_cost::PROFILER_SAMPLES.load(Ordering::Relaxed));
    }

    fn sample_process(&self) {
        let sample = ProcessSample::read();
        *self.process.lock().unwrap_or_else(|e| e.into_inner()) = sample;
    }

    /// The Prometheus text exposition (format 0.0.4) of every metric.
    pub(crate) fn render(&self) -> String {
        self.sample_counters();
        let mut out = self.exposition.render();
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        self.process
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .render_into(&mut out);
        // Memory pillar: allocator totals and live objects per type, read at scrape time.
        crate::heap::render_metrics_into(&mut out);
        out
    }
}

/// The installed metrics pillar; dropping it stops the sampler thread.
#[derive(Debug)]
pub(crate) struct MetricsRuntime {
    metrics: Metrics,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// A [`MetricsRuntime`] whose recorder is built but not yet global; dropping it undoes
/// everything (the waiting sampler thread ends).
pub(crate) struct PreparedMetrics {
    runtime: MetricsRuntime,
    recorder: CardinalityLimiter<PrometheusRecorder>,
}

impl std::fmt::Debug for PreparedMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedMetrics")
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl PreparedMetrics {
    /// What the admin server renders.
    pub(crate) fn metrics(&self) -> Metrics {
        self.runtime.metrics()
    }

    /// Sets the global recorder, then lets the sampler thread start.
    ///
    /// # Errors
    /// [`Error::RecorderAlreadySet`] when another global recorder is installed; nothing is
    /// changed then.
    pub(crate) fn install_global(self) -> Result<MetricsRuntime, Error> {
        let PreparedMetrics { runtime, recorder } = self;
        metrics::set_global_recorder(recorder).map_err(|_| Error::RecorderAlreadySet)?;
        names::describe_all();
        if let Some(go) = &runtime.stop {
            // The thread waits for this first message; it cannot have ended, but if it had,
            // there would be nothing to start.
            let _ = go.send(());
        }
        Ok(runtime)
    }
}

impl MetricsRuntime {
    /// Builds the recorder and spawns the sampler thread, held until
    /// [`PreparedMetrics::install_global`]. Nothing global is touched.
    pub(crate) fn prepare(
        settings: &MetricSettings,
        log_writer: NonBlocking,
        span_stats: Option<Arc<ExportStats>>,
    ) -> Result<PreparedMetrics, Error> {
        let (recorder, exposition) = prometheus::build_recorder(&settings.buckets)?;
        let recorder = CardinalityLimiter::new(recorder, settings.max_label_sets);
        // Registered on the recorder itself so the sampler never depends on the global one.
        let metadata = Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
        let log_lines_dropped = recorder.register_counter(
            &Key::from_static_name(names::LOG_LINES_DROPPED_TOTAL),
            &metadata,
        );
        let spans = span_stats.map(|stats| {
            let counter = |name| recorder.register_counter(&Key::from_static_name(name), &metadata);
            (
                stats,
                counter(names::SPANS_DROPPED_TOTAL),
                counter(names::SPANS_EXPORTED_TOTAL),
            )
        });
        let own = (
            recorder.register_counter(&Key::from_static_name(names::LOG_LINES_TOTAL), &metadata),
            recorder.register_counter(
                &Key::from_static_name(names::PROFILER_SAMPLES_TOTAL),
                &metadata,
            ),
        );

        let metrics = Metrics {
            exposition,
            process: Arc::default(),
            log_writer,
            log_lines_dropped,
            spans,
            own,
        };
        metrics.sample_process();
        metrics.sample_counters();

        let (stop, stopped) = mpsc::channel::<()>();
        let interval = settings.sample_interval;
        let sampler = metrics.clone();
        let thread = std::thread::Builder::new()
            .name("stethoscope-metrics".into())
            .spawn(move || {
                // Held until the recorder is global (its own histogram registers there); a
                // closed channel means the installation failed.
                if stopped.recv().is_ok() {
                    run(&sampler, interval, &stopped);
                }
            })
            .map_err(|e| Error::io("spawning the metrics sampler thread", e))?;
        Ok(PreparedMetrics {
            runtime: MetricsRuntime {
                metrics,
                stop: Some(stop),
                thread: Some(thread),
            },
            recorder,
        })
    }

    /// What the admin server renders.
    pub(crate) fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// Stops the sampler thread. It wakes at once on the closed channel, so joining is prompt.
    pub(crate) fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for MetricsRuntime {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(metrics: &Metrics, interval: Duration, stopped: &mpsc::Receiver<()>) {
    let took = metrics::histogram!(names::SAMPLER_DURATION_SECONDS, "sampler" => "metrics");
    loop {
        match stopped.recv_timeout(interval) {
            Err(RecvTimeoutError::Timeout) => {
                let start = std::time::Instant::now();
                metrics.exposition.run_upkeep();
                metrics.sample_process();
                metrics.sample_counters();
                own_cost::record_sampler_run(
                    &own_cost::METRICS_SAMPLER_NANOS,
                    &took,
                    start.elapsed(),
                );
            }
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
