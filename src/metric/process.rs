//! Default process metrics, named exactly as the Prometheus client libraries name them, read
//! from `/proc` and the cgroup filesystem on Linux; other systems report none.
//!
//! They are rendered by stethoscope itself rather than through the `metrics` facade because
//! `process_cpu_seconds_total` is a fractional counter, which `metrics` counters (`u64`) cannot
//! hold.

use std::fmt::Write as _;

use super::names;

/// One reading of the process's vital signs. `None` fields are omitted from the exposition.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ProcessSample {
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) resident_bytes: Option<u64>,
    pub(crate) virtual_bytes: Option<u64>,
    pub(crate) open_fds: Option<u64>,
    pub(crate) max_fds: Option<u64>,
    pub(crate) threads: Option<u64>,
    pub(crate) start_time_seconds: Option<f64>,
    pub(crate) memory_limit_bytes: Option<u64>,
}

impl ProcessSample {
    /// Reads the current values; on non-Linux systems every field is `None`.
    pub(crate) fn read() -> Self {
        #[cfg(target_os = "linux")]
        {
            linux::read()
        }
        #[cfg(not(target_os = "linux"))]
        {
            ProcessSample::default()
        }
    }

    /// Appends the sample in Prometheus text format.
    pub(crate) fn render_into(&self, out: &mut String) {
        let mut family = |name: &str, kind: &str, help: &str, value: Option<String>| {
            if let Some(value) = value {
                let _ = write!(
                    out,
                    "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n\n"
                );
            }
        };
        let int = |v: Option<u64>| v.map(|v| v.to_string());
        let float = |v: Option<f64>| v.map(|v| format!("{v}"));
        family(
            names::PROCESS_CPU_SECONDS_TOTAL,
            "counter",
            "Total user and system CPU time spent in seconds.",
            float(self.cpu_seconds),
        );
        family(
            names::PROCESS_RESIDENT_MEMORY_BYTES,
            "gauge",
            "Resident memory size in bytes.",
            int(self.resident_bytes),
        );
        family(
            names::PROCESS_VIRTUAL_MEMORY_BYTES,
            "gauge",
            "Virtual memory size in bytes.",
            int(self.virtual_bytes),
        );
        family(
            names::PROCESS_OPEN_FDS,
            "gauge",
            "Number of open file descriptors.",
            int(self.open_fds),
        );
        family(
            names::PROCESS_MAX_FDS,
            "gauge",
            "Maximum number of open file descriptors.",
            int(self.max_fds),
        );
        family(
            names::PROCESS_THREADS,
            "gauge",
            "Number of OS threads in the process.",
            int(self.threads),
        );
        family(
            names::PROCESS_START_TIME_SECONDS,
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            float(self.start_time_seconds),
        );
        family(
            names::PROCESS_MEMORY_LIMIT_BYTES,
            "gauge",
            "Memory limit of the process's cgroup in bytes.",
            int(self.memory_limit_bytes),
        );
    }
}

/// Clock ticks per second in `/proc/*/stat`: the kernel's fixed user-space `USER_HZ`, as the
/// Prometheus procfs library also assumes.
const USER_HZ: f64 = 100.0;

/// Fields of `/proc/self/stat` we use, in clock ticks.
#[derive(Debug, PartialEq)]
pub(crate) struct Stat {
    pub(crate) utime: u64,
    pub(crate) stime: u64,
    pub(crate) starttime: u64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may contain
/// spaces and parentheses, so fields are counted from the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state); utime is field 14, stime 15, starttime 22.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(Stat {
        utime: field(14)?,
        stime: field(15)?,
        starttime: field(22)?,
    })
}

/// A `Key:   value kB` line of `/proc/self/status`, in bytes for `kB` values.
pub(crate) fn parse_status_field(text: &str, key: &str) -> Option<u64> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))?;
    let mut parts = line.split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    Some(match parts.next() {
        Some("kB") => value * 1024,
        _ => value,
    })
}

/// The boot time (`btime`) from `/proc/stat`, in seconds since the epoch.
pub(crate) fn parse_boot_time(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The soft limit of "Max open files" from `/proc/self/limits`.
pub(crate) fn parse_max_open_files(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A cgroup memory limit file: v2 `memory.max` says `max` when unlimited; v1
/// `memory.limit_in_bytes` says a huge page-rounded number near `i64::MAX` instead.
pub(crate) fn parse_memory_limit(text: &str) -> Option<u64> {
    let text = text.trim();
    if text == "max" {
        return None;
    }
    let limit: u64 = text.parse().ok()?;
    (limit < 1 << 62).then_some(limit)
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;

    use super::*;

    pub(super) fn read() -> ProcessSample {
        let read = |path: &str| fs::read_to_string(path).ok();
        let stat = read("/proc/self/stat").and_then(|t| parse_stat(&t));
        let status = read("/proc/self/status").unwrap_or_default();
        let boot = read("/proc/stat").and_then(|t| parse_boot_time(&t));
        let open_fds = fs::read_dir("/proc/self/fd")
            .ok()
            // The directory handle used to list it is one of the entries; don't count it.
            .map(|d| (d.count() as u64).saturating_sub(1));
        // The process's own cgroup and its ancestors, not just the hierarchy's root: that is
        // where systemd units and pods without a cgroup namespace have their limit.
        let memory_limit = crate::metric::cgroup::memory_limit(std::path::Path::new("/"));
        ProcessSample {
            cpu_seconds: stat.as_ref().map(|s| (s.utime + s.stime) as f64 / USER_HZ),
            resident_bytes: parse_status_field(&status, "VmRSS"),
            virtual_bytes: parse_status_field(&status, "VmSize"),
            open_fds,
            max_fds: read("/proc/self/limits").and_then(|t| parse_max_open_files(&t)),
            threads: parse_status_field(&status, "Threads"),
            start_time_seconds: match (&stat, boot) {
                (Some(s), Some(boot)) => Some(boot as f64 + s.starttime as f64 / USER_HZ),
                _ => None,
            },
            memory_limit_bytes: memory_limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "4242 (tokio (worker) 1) S 1 4242 4242 0 -1 4194560 2718 0 0 0 \
        150 37 0 0 20 0 9 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 17 0 0 0 0 0 0";

    #[test]
    fn stat_fields_are_counted_from_the_last_parenthesis() {
        assert_eq!(
            parse_stat(STAT),
            Some(Stat {
                utime: 150,
                stime: 37,
                starttime: 123456
            })
        );
        assert_eq!(parse_stat("12 (truncated"), None);
    }

    #[test]
    fn status_fields_are_read_in_bytes() {
        let status = "Name:\tindexer\nVmSize:\t  204800 kB\nVmRSS:\t   10240 kB\nThreads:\t9\n";
        assert_eq!(parse_status_field(status, "VmRSS"), Some(10 * 1024 * 1024));
        assert_eq!(
            parse_status_field(status, "VmSize"),
            Some(200 * 1024 * 1024)
        );
        assert_eq!(parse_status_field(status, "Threads"), Some(9));
        assert_eq!(parse_status_field(status, "VmSwap"), None);
    }

    #[test]
    fn boot_time_and_fd_limit_are_parsed() {
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1764000000\nprocesses 5\n"),
            Some(1_764_000_000)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_max_open_files(limits), Some(1024));
    }

    #[test]
    fn unlimited_cgroup_memory_is_absent() {
        assert_eq!(parse_memory_limit("max\n"), None);
        assert_eq!(parse_memory_limit("9223372036854771712\n"), None);
        assert_eq!(parse_memory_limit("536870912\n"), Some(512 * 1024 * 1024));
    }

    #[test]
    fn absent_values_are_not_rendered() {
        let mut out = String::new();
        ProcessSample {
            cpu_seconds: Some(1.5),
            threads: Some(4),
            ..ProcessSample::default()
        }
        .render_into(&mut out);
        assert!(out
            .contains("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n"));
        assert!(out.contains("process_threads 4\n"));
        assert!(!out.contains("process_memory_limit_bytes"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_vital_signs() {
        let s = ProcessSample::read();
        assert!(s.resident_bytes.unwrap() > 0);
        assert!(s.threads.unwrap() >= 1);
        assert!(s.open_fds.unwrap() >= 3);
        assert!(s.start_time_seconds.unwrap() > 1.0e9);
    }
}
