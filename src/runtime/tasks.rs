//! [`task_monitor`]: `tokio-metrics` task monitors for named groups of tasks, published as
//! `tokio_task_*{group}` by every running [`RuntimeMonitor`](super::RuntimeMonitor).

use std::sync::Mutex;

use metrics::{counter, gauge, Counter, Gauge};
use tokio_metrics::{TaskIntervals, TaskMetrics, TaskMonitor};

use super::names;

/// Groups created so far; the sampler thread drains their deltas once per interval.
static GROUPS: Mutex<Vec<Group>> = Mutex::new(Vec::new());

struct Group {
    name: String,
    intervals: TaskIntervals,
    // Registered on first publish, so a group created before `install` still reaches the
    // recorder installed later.
    handles: Option<Handles>,
}

struct Handles {
    instrumented: Counter,
    dropped: Counter,
    polls: Counter,
    slow_polls: Counter,
    mean_poll: Gauge,
    mean_idle: Gauge,
    mean_scheduled: Gauge,
}

impl Handles {
    fn register(group: &str) -> Self {
        let label = || ("group", group.to_owned());
        Handles {
            instrumented: counter!(names::TOKIO_TASK_INSTRUMENTED_TOTAL, &[label()]),
            dropped: counter!(names::TOKIO_TASK_DROPPED_TOTAL, &[label()]),
            polls: counter!(names::TOKIO_TASK_POLLS_TOTAL, &[label()]),
            slow_polls: counter!(names::TOKIO_TASK_SLOW_POLLS_TOTAL, &[label()]),
            mean_poll: gauge!(names::TOKIO_TASK_MEAN_POLL_SECONDS, &[label()]),
            mean_idle: gauge!(names::TOKIO_TASK_MEAN_IDLE_SECONDS, &[label()]),
            mean_scheduled: gauge!(names::TOKIO_TASK_MEAN_SCHEDULED_SECONDS, &[label()]),
        }
    }

    fn publish(&self, m: &TaskMetrics) {
        self.instrumented.increment(m.instrumented_count);
        self.dropped.increment(m.dropped_count);
        self.polls.increment(m.total_poll_count);
        self.slow_polls.increment(m.total_slow_poll_count);
        self.mean_poll.set(m.mean_poll_duration().as_secs_f64());
        self.mean_idle.set(m.mean_idle_duration().as_secs_f64());
        self.mean_scheduled
            .set(m.mean_scheduled_duration().as_secs_f64());
    }
}

/// A `tokio-metrics` [`TaskMonitor`] for the task group `group`: wrap the group's futures
/// with [`TaskMonitor::instrument`] and a running [`RuntimeMonitor`](super::RuntimeMonitor)
/// (which `install()` starts inside a runtime) publishes, labelled `group`, the counters
/// `tokio_task_instrumented_total`, `tokio_task_dropped_total`, `tokio_task_polls_total`,
/// `tokio_task_slow_polls_total` (polls over 50 µs, tokio-metrics' default) and the gauges
/// `tokio_task_mean_poll_seconds`, `tokio_task_mean_idle_seconds`,
/// `tokio_task_mean_scheduled_seconds` over the last interval.
///
/// Call it once per group and clone the monitor; each call adds a group.
///
/// ```
/// # async fn write(_: u32) {}
/// # async fn run() {
/// let db_writer = stethoscope::runtime::task_monitor("db_writer");
/// for batch in 0..4 {
///     tokio::spawn(db_writer.instrument(write(batch)));
/// }
/// # }
/// ```
pub fn task_monitor(group: &str) -> TaskMonitor {
    let monitor = TaskMonitor::new();
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Group {
            name: group.to_owned(),
            intervals: monitor.intervals(),
            handles: None,
        });
    monitor
}

/// Publishes every group's interval; called by the sampler thread once per interval.
pub(crate) fn publish_task_groups() {
    let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for group in groups.iter_mut() {
        let Some(interval) = group.intervals.next() else {
            continue;
        };
        group
            .handles
            .get_or_insert_with(|| Handles::register(&group.name))
            .publish(&interval);
    }
}
