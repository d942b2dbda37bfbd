//! [`Report`]: what one observation window showed, the findings drawn from it, and its three
//! renderings (JSON, text, HTML) in sibling modules.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::memory::TypeGrowth;
use super::sampling::{Recording, Sample};
use super::trend::{percentile, SignalSummary, Trend};
use super::{rules, Finding, Severity, Signal};
use crate::profile::CpuProfile;
use crate::runtime::OperationSummary;

/// The scheduling delays measured by the probe over the window.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct DelaySummary {
    /// Probes that ran (plus one still waiting at the end, counted with its age).
    pub probes: usize,
    /// Median delay.
    pub p50: Duration,
    /// 90th-percentile delay.
    pub p90: Duration,
    /// 99th-percentile delay (nearest rank: with fewer than 100 probes, the largest).
    pub p99: Duration,
    /// Longest delay.
    pub max: Duration,
}

/// One operation's busy vs idle time during the window (the async wait/execute table).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct OperationWindow {
    /// Calls that ended in the window, their wall time and how it split.
    pub summary: OperationSummary,
    /// Calls slower than the slow-operation threshold.
    pub slow_calls: u64,
}

/// What [`Doctor::observe`](super::Doctor::observe) saw and concluded.
///
/// Render it with [`Report::to_text`], [`Report::to_json`] (schema in `docs/doctor.md`) or
/// [`Report::to_html`] (one self-contained page with charts and the flame graph).
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) started_at: SystemTime,
    pub(crate) window: Duration,
    pub(crate) interval: Duration,
    pub(crate) samples: Vec<Sample>,
    pub(crate) scheduling_delay: Option<DelaySummary>,
    pub(crate) operations: Vec<OperationWindow>,
    pub(crate) live_types: Vec<TypeGrowth>,
    pub(crate) profile: Option<CpuProfile>,
    pub(crate) profile_note: Option<String>,
    pub(crate) workers: Option<usize>,
    pub(crate) longest_poll: Option<Duration>,
    pub(crate) cores: usize,
    pub(crate) findings: Vec<Finding>,
}

impl Report {
    /// Builds the report of one window and runs the rules over it.
    pub(crate) fn new(
        started_at: SystemTime,
        window: Duration,
        interval: Duration,
        recording: Recording,
        profile: Result<Option<CpuProfile>, String>,
    ) -> Report {
        let scheduling_delay = delay_summary(&recording.delays);
        let live_types = type_growth(&recording.live_types);
        let (profile, profile_note) = match profile {
            Ok(p) => (p, None),
            Err(note) => (None, Some(note)),
        };
        let mut report = Report {
            started_at,
            window,
            interval,
            samples: recording.samples,
            scheduling_delay,
            operations: recording
                .operations
                .into_iter()
                .map(|(summary, slow_calls)| OperationWindow {
                    summary,
                    slow_calls,
                })
                .collect(),
            live_types,
            profile,
            profile_note,
            workers: recording.workers,
            longest_poll: recording.longest_poll,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            findings: Vec::new(),
        };
        report.findings = rules::diagnose(&report);
        report
    }

    /// The findings, most severe first; never empty (a healthy window says so).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// The most severe finding's severity.
    pub fn worst_severity(&self) -> Severity {
        self.findings
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// The samples, oldest first.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// When the window began.
    pub fn started_at(&self) -> SystemTime {
        self.started_at
    }

    /// How long the window lasted, as asked.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Time between samples.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Mean, extremes, percentiles and trend of `signal` over the window, or `None` when it
    /// had no source.
    pub fn summary(&self, signal: Signal) -> Option<SignalSummary> {
        SignalSummary::of(&self.points(signal))
    }

    /// The scheduling delays the probe measured, or `None` without a runtime.
    pub fn scheduling_delay(&self) -> Option<DelaySummary> {
        self.scheduling_delay
    }

    /// The longest time any worker of the runtime was seen inside one poll during the window
    /// (measured on multi-thread runtimes only; `None` otherwise). A worker blocked this way
    /// stalls every task queued on it even while another worker answers the delay probe.
    pub fn longest_poll(&self) -> Option<Duration> {
        self.longest_poll
    }

    /// Busy vs idle time per operation during the window, largest total wall time first
    /// (empty without operation stats).
    pub fn operations(&self) -> &[OperationWindow] {
        &self.operations
    }

    /// Per-type live counts from the first reading to the last, fastest-growing first (empty
    /// without a live-types input).
    pub fn live_types(&self) -> &[TypeGrowth] {
        &self.live_types
    }

    /// The CPU profile captured over the window, when one was.
    pub fn profile(&self) -> Option<&CpuProfile> {
        self.profile.as_ref()
    }

    /// Why there is no CPU profile, when one was wanted but could not be captured.
    pub fn profile_note(&self) -> Option<&str> {
        self.profile_note.as_deref()
    }

    /// `(seconds since start, value)` of every sample that has `signal`.
    pub(crate) fn points(&self, signal: Signal) -> Vec<(f64, f64)> {
        self.samples
            .iter()
            .filter_map(|s| Some((s.elapsed.as_secs_f64(), s.value(signal)?)))
            .collect()
    }

    /// The time-series signals that had a source, in report order.
    pub(crate) fn present_signals(&self) -> Vec<Signal> {
        Signal::SERIES
            .into_iter()
            .filter(|s| self.samples.iter().any(|sample| sample.value(*s).is_some()))
            .collect()
    }
}

fn delay_summary(delays: &[Duration]) -> Option<DelaySummary> {
    if delays.is_empty() {
        return None;
    }
    let mut ms: Vec<f64> = delays.iter().map(|d| d.as_secs_f64()).collect();
    ms.sort_by(f64::total_cmp);
    Some(DelaySummary {
        probes: ms.len(),
        p50: Duration::from_secs_f64(percentile(&ms, 0.50)),
        p90: Duration::from_secs_f64(percentile(&ms, 0.90)),
        p99: Duration::from_secs_f64(percentile(&ms, 0.99)),
        max: Duration::from_secs_f64(ms[ms.len() - 1]),
    })
}

/// First vs last reading per type, with the steadiness of its count; fastest-growing first.
fn type_growth(readings: &[(f64, Vec<super::TypeCount>)]) -> Vec<TypeGrowth> {
    let mut series: BTreeMap<&str, Vec<(f64, u64, u64)>> = BTreeMap::new();
    for (t, table) in readings {
        for row in table {
            series
                .entry(&row.type_name)
                .or_default()
                .push((*t, row.count, row.bytes));
        }
    }
    let (first_t, last_t) = match (readings.first(), readings.last()) {
        (Some(first), Some(last)) => (first.0, last.0),
        _ => return Vec::new(),
    };
    let mut out: Vec<TypeGrowth> = series
        .into_iter()
        .map(|(name, points)| {
            // A type missing from a reading had no live instances then.
            let at = |t: f64| {
                points
                    .iter()
                    .find(|p| p.0 == t)
                    .map_or((0, 0), |p| (p.1, p.2))
            };
            let (count_before, bytes_before) = at(first_t);
            let (count_after, bytes_after) = at(last_t);
            let counts: Vec<(f64, f64)> = readings
                .iter()
                .map(|(t, _)| (*t, at(*t).0 as f64))
                .collect();
            TypeGrowth {
                type_name: name.to_owned(),
                count_before,
                count_after,
                bytes_before,
                bytes_after,
                r_squared: Trend::fit(&counts).map_or(0.0, |t| t.r_squared),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.count_delta()
            .cmp(&a.count_delta())
            .then(b.bytes_after.cmp(&a.bytes_after))
            .then_with(|| a.type_name.cmp(&b.type_name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::super::TypeCount;
    use super::*;

    #[test]
    fn type_growth_ranks_by_count_delta_and_treats_absent_as_zero() {
        let readings = vec![
            (0.0, vec![TypeCount::new("Config", 1, 64)]),
            (
                1.0,
                vec![
                    TypeCount::new("Config", 1, 64),
                    TypeCount::new("Session", 10, 10_240),
                ],
            ),
            (
                2.0,
                vec![
                    TypeCount::new("Config", 1, 64),
                    TypeCount::new("Session", 20, 20_480),
                ],
            ),
        ];
        let growth = type_growth(&readings);
        assert_eq!(growth[0].type_name, "Session");
        assert_eq!((growth[0].count_before, growth[0].count_after), (0, 20));
        assert!(growth[0].r_squared > 0.99);
        assert_eq!(growth[1].count_delta(), 0);
    }

    #[test]
    fn delays_are_summarized_by_nearest_rank() {
        let delays: Vec<Duration> = (1..=4).map(Duration::from_millis).collect();
        let s = delay_summary(&delays).unwrap();
        assert_eq!(
            (s.probes, s.p50, s.max),
            (4, Duration::from_millis(2), Duration::from_millis(4))
        );
        assert_eq!(delay_summary(&[]), None);
    }
}
