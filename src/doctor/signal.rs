//! [`Signal`]: what the doctor samples, with the names the JSON report uses, and [`Unit`]: how
//! a number is shown to a person.

use std::fmt;

/// One thing the doctor watches. [`Signal::name`] is its stable name in the JSON report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Signal {
    /// Share of the runtime workers' time spent polling tasks, 0 to 1 (tokio's event-loop
    /// utilization), per sampling interval.
    RuntimeBusyRatio,
    /// How long a probe task spawned onto the runtime waited for a worker, in milliseconds.
    SchedulingDelay,
    /// CPU time the whole process used per second of wall time, in percent of one core.
    ProcessCpu,
    /// Resident set size in bytes.
    ResidentMemory,
    /// Live heap bytes, from the memory input (see [`Doctor::with_heap_live_bytes`](super::Doctor::with_heap_live_bytes)).
    HeapLiveBytes,
    /// Bytes allocated per second, from the memory input (see
    /// [`Doctor::with_allocated_bytes`](super::Doctor::with_allocated_bytes)).
    AllocationRate,
    /// Tasks alive on the runtime.
    AliveTasks,
    /// Open file descriptors (sockets, files, pipes).
    OpenFds,
    /// Operations (spans) that ended slower than the slow-operation threshold since the window
    /// began.
    SlowOperations,
    /// Per-operation busy vs idle time (not a time series; findings about I/O waits name it).
    Operations,
}

impl Signal {
    /// Every time-series signal, in the order reports show them.
    pub const SERIES: [Signal; 9] = [
        Signal::RuntimeBusyRatio,
        Signal::SchedulingDelay,
        Signal::ProcessCpu,
        Signal::ResidentMemory,
        Signal::HeapLiveBytes,
        Signal::AllocationRate,
        Signal::AliveTasks,
        Signal::OpenFds,
        Signal::SlowOperations,
    ];

    /// The stable name used in the JSON report, e.g. `scheduling_delay_ms`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::RuntimeBusyRatio => "runtime_busy_ratio",
            Signal::SchedulingDelay => "scheduling_delay_ms",
            Signal::ProcessCpu => "process_cpu_percent",
            Signal::ResidentMemory => "resident_memory_bytes",
            Signal::HeapLiveBytes => "heap_live_bytes",
            Signal::AllocationRate => "allocation_bytes_per_second",
            Signal::AliveTasks => "alive_tasks",
            Signal::OpenFds => "open_fds",
            Signal::SlowOperations => "slow_operations",
            Signal::Operations => "operations",
        }
    }

    /// A heading for people, e.g. `Scheduling delay`.
    pub fn title(self) -> &'static str {
        match self {
            Signal::RuntimeBusyRatio => "Runtime busy ratio",
            Signal::SchedulingDelay => "Scheduling delay",
            Signal::ProcessCpu => "Process CPU",
            Signal::ResidentMemory => "Resident memory (RSS)",
            Signal::HeapLiveBytes => "Heap live bytes",
            Signal::AllocationRate => "Allocation rate",
            Signal::AliveTasks => "Alive tasks",
            Signal::OpenFds => "Open file descriptors",
            Signal::SlowOperations => "Slow operations",
            Signal::Operations => "Operations",
        }
    }

    /// The unit of its values.
    pub fn unit(self) -> Unit {
        match self {
            Signal::RuntimeBusyRatio => Unit::Ratio,
            Signal::SchedulingDelay => Unit::Milliseconds,
            Signal::ProcessCpu => Unit::Percent,
            Signal::ResidentMemory | Signal::HeapLiveBytes => Unit::Bytes,
            Signal::AllocationRate => Unit::BytesPerSecond,
            Signal::AliveTasks | Signal::OpenFds | Signal::SlowOperations | Signal::Operations => {
                Unit::Count
            }
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a number is shown to a person; the JSON report carries the raw number and the unit's
/// [`name`](Unit::name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unit {
    /// A share from 0 to 1, shown as such (`0.97`).
    Ratio,
    /// Percent (`85 %`).
    Percent,
    /// Milliseconds (`231 ms`).
    Milliseconds,
    /// Bytes (`12.5 MiB`).
    Bytes,
    /// Bytes per second (`3.1 MiB/s`).
    BytesPerSecond,
    /// A count (`42`).
    Count,
    /// A count per second (`12.5/s`).
    PerSecond,
}

impl Unit {
    /// The stable name in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Percent => "percent",
            Unit::Milliseconds => "ms",
            Unit::Bytes => "bytes",
            Unit::BytesPerSecond => "bytes_per_second",
            Unit::Count => "count",
            Unit::PerSecond => "per_second",
        }
    }

    /// `value` for people: `0.97`, `85 %`, `231 ms`, `12.5 MiB`, `3.1 MiB/s`, `42`, `12.5/s`.
    ///
    /// ```
    /// use stethoscope::doctor::Unit;
    ///
    /// assert_eq!(Unit::Bytes.format(3.5 * 1024.0 * 1024.0), "3.50 MiB");
    /// assert_eq!(Unit::Milliseconds.format(231.4), "231 ms");
    /// assert_eq!(Unit::Ratio.format(0.9712), "0.97");
    /// ```
    pub fn format(self, value: f64) -> String {
        if !value.is_finite() {
            return "n/a".to_owned();
        }
        match self {
            Unit::Ratio => format!("{value:.2}"),
            Unit::Percent => format!("{} %", short(value)),
            Unit::Milliseconds => format!("{} ms", short(value)),
            Unit::Bytes => bytes(value),
            Unit::BytesPerSecond => format!("{}/s", bytes(value)),
            Unit::Count => {
                if value.fract() == 0.0 {
                    format!("{value:.0}")
                } else {
                    short(value)
                }
            }
            Unit::PerSecond => format!("{}/s", short(value)),
        }
    }
}

impl Unit {
    /// A change of `per_second` of this unit each second, signed: `+3.1 MiB/s`, `-2.00/s`.
    pub(crate) fn rate(self, per_second: f64) -> String {
        let sign = if per_second >= 0.0 { "+" } else { "" };
        let text = match self {
            Unit::Bytes | Unit::BytesPerSecond => Unit::BytesPerSecond.format(per_second),
            Unit::Count | Unit::PerSecond => Unit::PerSecond.format(per_second),
            other => format!("{}/s", other.format(per_second)),
        };
        format!("{sign}{text}")
    }
}

/// Three significant digits or so: `231`, `23.1`, `2.31`, `0.231`.
fn short(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 || magnitude == 0.0 {
        format!("{value:.0}")
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn bytes(value: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut scaled = value;
    let mut unit = 0;
    while scaled.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{scaled:.0} B")
    } else {
        format!("{} {}", short(scaled), UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(Unit::Bytes.format(512.0), "512 B");
        assert_eq!(Unit::Bytes.format(-2048.0), "-2.00 KiB");
        assert_eq!(
            Unit::BytesPerSecond.format(20.0 * 1024.0 * 1024.0),
            "20.0 MiB/s"
        );
        assert_eq!(Unit::Percent.format(85.04), "85.0 %");
        assert_eq!(Unit::Count.format(42.0), "42");
        assert_eq!(Unit::PerSecond.format(0.5), "0.500/s");
        assert_eq!(Unit::Milliseconds.format(f64::NAN), "n/a");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = Signal::SERIES.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Signal::SERIES.len());
    }
}
