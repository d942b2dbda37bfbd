//! The runtime settings of [`Builder`], their setters, and starting the pillar at install.

use std::time::Duration;

use super::monitor::{self, MonitorOptions, RuntimeMonitor};
use super::operations::OperationStats;
use super::slow::SlowOpLayer;
use super::DEFAULT_SLOW_THRESHOLD;
use crate::error::Error;
use crate::init::Builder;

/// What [`Builder`] knows about the runtime pillar.
#[derive(Clone, Debug)]
pub(crate) struct RuntimeSettings {
    pub(crate) monitor: bool,
    pub(crate) options: MonitorOptions,
    pub(crate) slow: Option<Duration>,
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
            stats: None,
            watch: None,
        }
    }
}

impl RuntimeSettings {
    /// `STETHOSCOPE_SLOW_MS`: a threshold in milliseconds, or `off`.
    pub(crate) fn apply_env(&mut self, get: &dyn Fn(&str) -> Option<String>) -> Result<(), Error> {
        if let Some(v) = get("STETHOSCOPE_SLOW_MS") {
            let v = v.trim();
            self.slow =
                match v {
                    "off" => None,
                    _ => match v.parse::<u64>() {
                        Ok(ms) if ms > 0 => Some(Duration::from_millis(ms)),
                        _ => return Err(Error::invalid_env(
                            "STETHOSCOPE_SLOW_MS",
                            v,
                            "expected a positive number of milliseconds, e.g. \"100\", or \"off\"",
                        )),
                    },
                };
        }
        Ok(())
    }

    /// The slow-operation layer, when slow operations or operation stats are on.
    pub(crate) fn slow_layer(&self) -> Option<SlowOpLayer> {
        if self.slow.is_none() && self.stats.is_none() {
            return None;
        }
        // Without a threshold the layer only aggregates: no span is ever that slow.
        let mut layer = SlowOpLayer::new().with_threshold(self.slow.unwrap_or(Duration::MAX));
        if let Some(stats) = &self.stats {
            layer = layer.with_operation_stats(stats.clone());
        }
        Some(layer)
    }

    /// Monitors the runtime `install` was called in, if any and if wanted.
    pub(crate) fn start(&self) -> Result<Option<RuntimeMonitor>, Error> {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if self.monitor => {
                monitor::monitor_watched(&handle, self.options.clone(), self.watch.clone())
                    .map(Some)
            }
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
