//! The metrics only `--cfg tokio_unstable` builds of tokio expose.

use metrics::{counter, gauge, Counter, Gauge};
use tokio_metrics::RuntimeMetrics;

use super::names;

pub(crate) struct Unstable {
    blocking_threads: Gauge,
    idle_blocking_threads: Gauge,
    blocking_queue_depth: Gauge,
    local_queue_depth: Gauge,
    steals: Counter,
    polls: Counter,
    remote_schedules: Counter,
    budget_forced_yields: Counter,
}

impl Unstable {
    pub(crate) fn register() -> Self {
        Unstable {
            blocking_threads: gauge!(names::TOKIO_RUNTIME_BLOCKING_THREADS),
            idle_blocking_threads: gauge!(names::TOKIO_RUNTIME_IDLE_BLOCKING_THREADS),
            blocking_queue_depth: gauge!(names::TOKIO_RUNTIME_BLOCKING_QUEUE_DEPTH),
            local_queue_depth: gauge!(names::TOKIO_RUNTIME_LOCAL_QUEUE_DEPTH),
            steals: counter!(names::TOKIO_RUNTIME_STEALS_TOTAL),
            polls: counter!(names::TOKIO_RUNTIME_POLLS_TOTAL),
            remote_schedules: counter!(names::TOKIO_RUNTIME_REMOTE_SCHEDULES_TOTAL),
            budget_forced_yields: counter!(names::TOKIO_RUNTIME_BUDGET_FORCED_YIELDS_TOTAL),
        }
    }

    pub(crate) fn publish(&self, m: &RuntimeMetrics) {
        self.blocking_threads.set(m.blocking_threads_count as f64);
        self.idle_blocking_threads
            .set(m.idle_blocking_threads_count as f64);
        self.blocking_queue_depth.set(m.blocking_queue_depth as f64);
        self.local_queue_depth.set(m.total_local_queue_depth as f64);
        self.steals.increment(m.total_steal_count);
        self.polls.increment(m.total_polls_count);
        self.remote_schedules.increment(m.num_remote_schedules);
        self.budget_forced_yields
            .increment(m.budget_forced_yield_count);
    }
}
