//! Every metric name the runtime pillar emits, as `pub const`s, described once when a monitor
//! starts.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

/// Busy time of all workers / (workers × wall time) over the last interval: the event-loop
/// utilization of tokio, 0 to 1 (gauge).
pub const TOKIO_RUNTIME_BUSY_RATIO: &str = "tokio_runtime_busy_ratio";
/// Busy ratio of one worker over the last interval, labelled `worker` (gauge).
pub const TOKIO_RUNTIME_WORKER_BUSY_RATIO: &str = "tokio_runtime_worker_busy_ratio";
/// Worker threads of the runtime (gauge).
pub const TOKIO_RUNTIME_WORKERS: &str = "tokio_runtime_workers";
/// Tasks alive in the runtime (gauge).
pub const TOKIO_RUNTIME_ALIVE_TASKS: &str = "tokio_runtime_alive_tasks";
/// Tasks waiting in the runtime's global (injection) queue (gauge).
pub const TOKIO_RUNTIME_GLOBAL_QUEUE_DEPTH: &str = "tokio_runtime_global_queue_depth";
/// Times a worker parked to wait for work, all workers (counter).
pub const TOKIO_RUNTIME_PARKS_TOTAL: &str = "tokio_runtime_parks_total";
/// How long the probe task waited for a worker after being spawned (histogram, seconds).
pub const TOKIO_SCHEDULING_DELAY_SECONDS: &str = "tokio_scheduling_delay_seconds";
/// Times the watchdog found a worker inside one poll for longer than the blocked threshold
/// (counter).
pub const TOKIO_BLOCKED_POLLS_TOTAL: &str = "tokio_blocked_polls_total";
/// Polls (stretches of a span being entered without a break, on a thread running a tokio
/// task) longer than the slow-poll threshold, labelled `span` (counter).
pub const TOKIO_SLOW_POLLS_TOTAL: &str = "tokio_slow_polls_total";
/// Time spans of one name spent entered (executing), labelled `span` (histogram, seconds;
/// opt-in: [`OperationStats::with_histograms`](super::OperationStats::with_histograms)).
pub const SPAN_BUSY_SECONDS: &str = "span_busy_seconds";
/// Time spans of one name spent not entered (waiting), labelled `span` (histogram, seconds;
/// opt-in).
pub const SPAN_IDLE_SECONDS: &str = "span_idle_seconds";

/// Tasks instrumented by a [`task_monitor`](super::task_monitor) group, labelled `group`
/// (counter).
pub const TOKIO_TASK_INSTRUMENTED_TOTAL: &str = "tokio_task_instrumented_total";
/// Instrumented tasks dropped (finished or cancelled), labelled `group` (counter).
pub const TOKIO_TASK_DROPPED_TOTAL: &str = "tokio_task_dropped_total";
/// Polls of the group's tasks, labelled `group` (counter).
pub const TOKIO_TASK_POLLS_TOTAL: &str = "tokio_task_polls_total";
/// Polls slower than 50 µs, labelled `group` (counter).
pub const TOKIO_TASK_SLOW_POLLS_TOTAL: &str = "tokio_task_slow_polls_total";
/// Mean poll duration over the last interval, labelled `group` (gauge, seconds).
pub const TOKIO_TASK_MEAN_POLL_SECONDS: &str = "tokio_task_mean_poll_seconds";
/// Mean time the group's tasks spent idle (waiting to be woken) over the last interval,
/// labelled `group` (gauge, seconds).
pub const TOKIO_TASK_MEAN_IDLE_SECONDS: &str = "tokio_task_mean_idle_seconds";
/// Mean time the group's tasks waited to be polled after a wake over the last interval,
/// labelled `group` (gauge, seconds).
pub const TOKIO_TASK_MEAN_SCHEDULED_SECONDS: &str = "tokio_task_mean_scheduled_seconds";

/// Threads of the blocking pool (gauge; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_BLOCKING_THREADS: &str = "tokio_runtime_blocking_threads";
/// Idle threads of the blocking pool (gauge; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_IDLE_BLOCKING_THREADS: &str = "tokio_runtime_idle_blocking_threads";
/// Tasks waiting for a blocking-pool thread (gauge; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_BLOCKING_QUEUE_DEPTH: &str = "tokio_runtime_blocking_queue_depth";
/// Tasks waiting in the workers' local queues (gauge; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_LOCAL_QUEUE_DEPTH: &str = "tokio_runtime_local_queue_depth";
/// Tasks stolen by one worker from another (counter; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_STEALS_TOTAL: &str = "tokio_runtime_steals_total";
/// Task polls (counter; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_POLLS_TOTAL: &str = "tokio_runtime_polls_total";
/// Tasks scheduled from outside the runtime (counter; needs `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_REMOTE_SCHEDULES_TOTAL: &str = "tokio_runtime_remote_schedules_total";
/// Times a task was forced to yield because its budget ran out (counter; needs
/// `--cfg tokio_unstable`).
pub const TOKIO_RUNTIME_BUDGET_FORCED_YIELDS_TOTAL: &str =
    "tokio_runtime_budget_forced_yields_total";

/// Describes the runtime metrics; repeated calls only overwrite the same text.
pub(crate) fn describe_all() {
    describe_gauge!(
        TOKIO_RUNTIME_BUSY_RATIO,
        Unit::Count,
        "Share of the workers' time spent polling tasks over the last interval (event-loop utilization)."
    );
    describe_gauge!(
        TOKIO_RUNTIME_WORKER_BUSY_RATIO,
        Unit::Count,
        "Share of one worker's time spent polling tasks over the last interval."
    );
    describe_gauge!(
        TOKIO_RUNTIME_WORKERS,
        Unit::Count,
        "Worker threads of the tokio runtime."
    );
    describe_gauge!(
        TOKIO_RUNTIME_ALIVE_TASKS,
        Unit::Count,
        "Tasks alive in the tokio runtime."
    );
    describe_gauge!(
        TOKIO_RUNTIME_GLOBAL_QUEUE_DEPTH,
        Unit::Count,
        "Tasks waiting in the tokio runtime's global queue."
    );
    describe_counter!(
        TOKIO_BLOCKED_POLLS_TOTAL,
        Unit::Count,
        "Workers found inside one poll for longer than the blocked threshold (watchdog)."
    );
    describe_counter!(
        TOKIO_SLOW_POLLS_TOTAL,
        Unit::Count,
        "Polls of a span longer than the slow-poll threshold: a worker blocked without yielding."
    );
    describe_counter!(
        TOKIO_RUNTIME_PARKS_TOTAL,
        Unit::Count,
        "Times a tokio worker parked to wait for work."
    );
    describe_histogram!(
        TOKIO_SCHEDULING_DELAY_SECONDS,
        Unit::Seconds,
        "Time a probe task waited for a tokio worker after being spawned."
    );
    describe_histogram!(
        SPAN_BUSY_SECONDS,
        Unit::Seconds,
        "Time spans of this name spent executing (entered, polled)."
    );
    describe_histogram!(
        SPAN_IDLE_SECONDS,
        Unit::Seconds,
        "Time spans of this name spent waiting (not entered)."
    );
    describe_counter!(
        TOKIO_TASK_INSTRUMENTED_TOTAL,
        Unit::Count,
        "Tasks instrumented in the group."
    );
    describe_counter!(
        TOKIO_TASK_DROPPED_TOTAL,
        Unit::Count,
        "Instrumented tasks of the group that were dropped."
    );
    describe_counter!(
        TOKIO_TASK_POLLS_TOTAL,
        Unit::Count,
        "Polls of the group's tasks."
    );
    describe_counter!(
        TOKIO_TASK_SLOW_POLLS_TOTAL,
        Unit::Count,
        "Polls of the group's tasks slower than 50 microseconds."
    );
    describe_gauge!(
        TOKIO_TASK_MEAN_POLL_SECONDS,
        Unit::Seconds,
        "Mean poll duration of the group's tasks over the last interval."
    );
    describe_gauge!(
        TOKIO_TASK_MEAN_IDLE_SECONDS,
        Unit::Seconds,
        "Mean time the group's tasks waited to be woken over the last interval."
    );
    describe_gauge!(
        TOKIO_TASK_MEAN_SCHEDULED_SECONDS,
        Unit::Seconds,
        "Mean time the group's tasks waited for a worker after a wake over the last interval."
    );
    describe_unstable();
}

#[cfg(tokio_unstable)]
fn describe_unstable() {
    describe_gauge!(
        TOKIO_RUNTIME_BLOCKING_THREADS,
        Unit::Count,
        "Threads of the blocking pool."
    );
    describe_gauge!(
        TOKIO_RUNTIME_IDLE_BLOCKING_THREADS,
        Unit::Count,
        "Idle threads of the blocking pool."
    );
    describe_gauge!(
        TOKIO_RUNTIME_BLOCKING_QUEUE_DEPTH,
        Unit::Count,
        "Tasks waiting for a blocking-pool thread."
    );
    describe_gauge!(
        TOKIO_RUNTIME_LOCAL_QUEUE_DEPTH,
        Unit::Count,
        "Tasks waiting in the workers' local queues."
    );
    describe_counter!(
        TOKIO_RUNTIME_STEALS_TOTAL,
        Unit::Count,
        "Tasks stolen between workers."
    );
    describe_counter!(TOKIO_RUNTIME_POLLS_TOTAL, Unit::Count, "Task polls.");
    describe_counter!(
        TOKIO_RUNTIME_REMOTE_SCHEDULES_TOTAL,
        Unit::Count,
        "Tasks scheduled from outside the runtime."
    );
    describe_counter!(
        TOKIO_RUNTIME_BUDGET_FORCED_YIELDS_TOTAL,
        Unit::Count,
        "Times a task was forced to yield because its budget ran out."
    );
}

#[cfg(not(tokio_unstable))]
fn describe_unstable() {}
