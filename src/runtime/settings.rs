//! The runtime settings of [`Builder`], their setters, and starting the pillar at install.

use std::time::Duration;

use super::monitor::{self, MonitorOptions, RuntimeMonitor};
use super::operations::OperationStats;
use super::slow::SlowOpLayer;
use super::{DEFAULT_SLOW_POLL_THRESHOLD, DEFAULT_SLOW_THRESHOLD};
use crate::error::Error;
use crate::init::Builder;

/// What [`Builder`] knows about the runtime pillar.
#[derive(Clone, Debug)]
pub(crate) struct RuntimeSettings {
    pub(crate) monitor: bool,
    pub(crate) options: MonitorOptions,
    pub(crate) slow: Option<Duration>,
    /// `(span-name glob, threshold)` overrides of `slow`.
    pub(crate) slow_by_name: Vec<(String, Duration)>,
    pub(crate) slow_poll: Option<Duration>,
    pub(crate) stats: Option<OperationStats>,
    // Live control: fed to the `/readyz` rule when one watches saturation.
    pub(crate) watch: Option<std::sync::Arc<super::saturation::SaturationWatch>>,
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        RuntimeSettings {
            monitor: true,
            options: MonitorOptions::default(),
            slow: Some(DEFAULT_SLOW_THRESHOLD),
            slow_by_name: Vec::new(),
            slow_poll: Some(DEFAULT_SLOW_POLL_THRESHOLD),
            stats: None,
            watch: None,
        }
    }
}

impl RuntimeSettings {
    /// `STETHOSCOPE_SLOW_MS`: a threshold in milliseconds or `off`, optionally followed by
    /// `,<span-name glob>=<ms>` overrides (`100,db_*=500,rpc_call=2000`);
    /// `STETHOSCOPE_SLOW_POLL_MS`: the slow-poll threshold in milliseconds, or `off`.
    pub(crate) fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("STETHOSCOPE_SLOW_MS") {
            let bad = |why: &str| Error::invalid_env("STETHOSCOPE_SLOW_MS", &v, why);
            let mut parts = v.split(',').map(str::trim);
            let first = parts.next().unwrap_or_default();
            let mut by_name = Vec::new();
            let (default, rest): (Option<Duration>, Vec<&str>) = if first.contains('=') {
                (self.slow, std::iter::once(first).chain(parts).collect())
            } else {
                let t =
                    parse_ms(first).ok_or_else(|| {
                        bad("expected a positive number of milliseconds, e.g. \"100\", or \"off\", \
                         optionally followed by span-name overrides: \"100,db_*=500\"")
                    })?;
                (t, parts.collect())
            };
            for rule in rest {
                let (pattern, ms) = rule.split_once('=').ok_or_else(|| {
                    bad("expected span-name overrides as <name or glob>=<milliseconds>, e.g. \"db_*=500\"")
                })?;
                let pattern = pattern.trim();
                if pattern.is_empty() || pattern.bytes().all(|b| b == b'*') {
                    return Err(bad(
                        "a span-name override needs a name or glob such as \"db_*\"",
                    ));
                }
                let t = parse_ms(ms.trim()).flatten().ok_or_else(|| {
                    bad("a span-name override needs a positive number of milliseconds: \"db_*=500\"")
                })?;
                by_name.push((pattern.to_owned(), t));
            }
            self.slow = default;
            self.slow_by_name = by_name;
        }
        if let Some(v) = get("STETHOSCOPE_BLOCKED_MS") {
            self.options.blocked_threshold = parse_ms(v.trim()).ok_or_else(|| {
                Error::invalid_env(
                    "STETHOSCOPE_BLOCKED_MS",
                    &v,
                    "expected a positive number of milliseconds, e.g. \"100\", or \"off\"",
                )
            })?;
        }
        if let Some(v) = get("STETHOSCOPE_SLOW_POLL_MS") {
            self.slow_poll = parse_ms(v.trim()).ok_or_else(|| {
                Error::invalid_env(
                    "STETHOSCOPE_SLOW_POLL_MS",
                    &v,
                    "expected a positive number of milliseconds, e.g. \"10\", or \"off\"",
                )
            })?;
        }
        Ok(())
    }

    /// The slow-operation layer, when slow operations, slow polls or operation stats are on.
    pub(crate) fn slow_layer(&self) -> Option<SlowOpLayer> {
        if self.slow.is_none() && self.slow_poll.is_none() && self.stats.is_none() {
            return None;
        }
        // Without a threshold the layer only aggregates or watches polls: no span is ever
        // that slow (name overrides still apply).
        let mut layer = SlowOpLayer::new()
            .with_threshold(self.slow.unwrap_or(Duration::MAX))
            .with_slow_polls(self.slow_poll);
        for (pattern, threshold) in &self.slow_by_name {
            layer = layer.with_threshold_for(pattern, *threshold);
        }
        if let Some(stats) = &self.stats {
            layer = layer.with_operation_stats(stats.clone());
        }
        Some(layer)
    }

    /// The monitor of the current runtime (none outside a runtime or when turned off), its
    /// thread held until [`RuntimeMonitor::start_sampling`]; it logs to `dispatch`.
    pub(crate) fn prepare(
        &self,
        dispatch: &tracing::Dispatch,
    ) -> Result<Option<RuntimeMonitor>, Error> {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if self.monitor => monitor::monitor_held(
                &handle,
                self.options.clone(),
                self.watch.clone(),
                dispatch.clone(),
            )
            .map(Some),
            _ => Ok(None),
        }
    }
}

/// Runtime settings (the `runtime` pillar).
impl Builder {
    /// Turns the runtime monitor on (default) or off. When on, [`install`](Builder::install)
    /// called inside a tokio runtime monitors that runtime (see
    /// [`runtime::monitor`](crate::runtime::monitor)).
    pub fn with_runtime_monitor(mut self, enabled: bool) -> Self {
        self.runtime.monitor = enabled;
        self
    }

    /// How often the runtime monitor publishes (default 1 s).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero interval.
    pub fn with_runtime_sample_interval(mut self, interval: Duration) -> Result<Self, Error> {
        let mut options = self.runtime.options.clone();
        options.interval = interval;
        monitor::validate(&options).map_err(|_| {
            Error::invalid_config(
                "with_runtime_sample_interval",
                format!("{interval:?}"),
                "expected a positive interval such as Duration::from_secs(1)",
            )
        })?;
        self.runtime.options = options;
        Ok(self)
    }

    /// The busy ratio above which the monitor warns "runtime saturated" (default 0.90).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] unless `ratio` is between 0 and 1.
    pub fn with_saturation_threshold(mut self, ratio: f64) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&ratio) {
            return Err(Error::invalid_config(
                "with_saturation_threshold",
                ratio,
                "expected a busy ratio between 0 and 1, such as 0.9",
            ));
        }
        self.runtime.options.saturation_threshold = ratio;
        Ok(self)
    }

    /// How often the scheduling-delay probe runs (default 200 ms); `None` turns it off.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero interval.
    pub fn with_scheduling_probe_interval(
        mut self,
        interval: Option<Duration>,
    ) -> Result<Self, Error> {
        if interval.is_some_and(|i| i.is_zero()) {
            return Err(Error::invalid_config(
                "with_scheduling_probe_interval",
                "0s",
                "expected a positive interval such as Duration::from_millis(200), or None",
            ));
        }
        self.runtime.options.probe_interval = interval;
        Ok(self)
    }

    /// Reports a runtime worker that has been inside one poll for `threshold` (default 100 ms,
    /// `STETHOSCOPE_BLOCKED_MS`) while it is still stuck: one `warn` "runtime worker blocked"
    /// with the span it is in and its stack, and `tokio_blocked_polls_total`. `None` turns the
    /// watchdog off. Part of the runtime monitor (see
    /// [`MonitorOptions::blocked_threshold`](crate::runtime::MonitorOptions::blocked_threshold)).
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero threshold.
    pub fn with_blocked_worker_threshold(
        mut self,
        threshold: Option<Duration>,
    ) -> Result<Self, Error> {
        if threshold.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_config(
                "with_blocked_worker_threshold",
                "0s",
                "expected a positive duration such as Duration::from_millis(100), or None",
            ));
        }
        self.runtime.options.blocked_threshold = threshold;
        Ok(self)
    }

    /// Logs spans slower than `threshold` (default 100 ms, `STETHOSCOPE_SLOW_MS`) as "slow
    /// operation"; `None` turns the [`SlowOpLayer`](crate::runtime::SlowOpLayer) off.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero threshold.
    pub fn with_slow_threshold(mut self, threshold: Option<Duration>) -> Result<Self, Error> {
        if threshold.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_config(
                "with_slow_threshold",
                "0s",
                "expected a positive duration such as Duration::from_millis(100), or None",
            ));
        }
        self.runtime.slow = threshold;
        Ok(self)
    }

    /// Logs spans whose name matches `pattern` (`*` matches any run: `db_*`) when slower than
    /// `threshold`, instead of the [`with_slow_threshold`](Builder::with_slow_threshold)
    /// default; the first matching pattern wins, and a span's own `slow_ms` field beats both.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero threshold or a pattern that is empty or only `*`.
    pub fn with_slow_threshold_for(
        mut self,
        pattern: &str,
        threshold: Duration,
    ) -> Result<Self, Error> {
        if pattern.trim().is_empty() || pattern.bytes().all(|b| b == b'*') {
            return Err(Error::invalid_config(
                "with_slow_threshold_for",
                pattern,
                "expected a span name or a glob such as \"db_*\"",
            ));
        }
        if threshold.is_zero() {
            return Err(Error::invalid_config(
                "with_slow_threshold_for",
                "0s",
                "expected a positive duration such as Duration::from_millis(500)",
            ));
        }
        self.runtime
            .slow_by_name
            .push((pattern.trim().to_owned(), threshold));
        Ok(self)
    }

    /// Logs polls longer than `threshold` (default 10 ms, `STETHOSCOPE_SLOW_POLL_MS`) as "slow
    /// poll" and counts them in `tokio_slow_polls_total{span}`: an instrumented future that
    /// held its worker thread that long without yielding (see
    /// [`SlowOpLayer::with_slow_polls`](crate::runtime::SlowOpLayer::with_slow_polls)).
    /// `None` turns it off.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a zero threshold.
    pub fn with_slow_poll_threshold(mut self, threshold: Option<Duration>) -> Result<Self, Error> {
        if threshold.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid_config(
                "with_slow_poll_threshold",
                "0s",
                "expected a positive duration such as Duration::from_millis(10), or None",
            ));
        }
        self.runtime.slow_poll = threshold;
        Ok(self)
    }
}

/// `"off"` → `Some(None)`, a positive integer → `Some(Some(ms))`, anything else → `None`.
fn parse_ms(v: &str) -> Option<Option<Duration>> {
    match v {
        "off" => Some(None),
        _ => match v.parse::<u64>() {
            Ok(ms) if ms > 0 => Some(Some(Duration::from_millis(ms))),
            _ => None,
        },
    }
}

/// Operation stats (the `runtime` pillar's busy/idle aggregation).
impl Builder {
    /// Aggregates busy vs idle time per span name (off by default: a lock per span close);
    /// read it with [`Guard::operation_stats`](crate::Guard::operation_stats). With
    /// `histograms`, also records `span_busy_seconds{span}` and `span_idle_seconds{span}`.
    pub fn with_operation_stats(mut self, enabled: bool, histograms: bool) -> Self {
        self.runtime.stats = enabled.then(|| OperationStats::new().with_histograms(histograms));
        self
    }
}
