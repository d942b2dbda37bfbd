//! Every metric name stethoscope emits, as `pub const`s. Those recorded through the `metrics`
//! facade are described (help text and unit) once at install; the `process_*` ones carry their
//! help text in stethoscope's own rendering of them.
//!
//! Names follow Prometheus conventions (`_total`, `_seconds`, `_bytes`, `_ratio`); `process_*`
//! are spelled exactly as the Prometheus client libraries spell them, so existing dashboards
//! work unchanged.

use metrics::{describe_counter, Unit};

/// Log lines dropped because the log destination could not keep up (counter).
pub const LOG_LINES_DROPPED_TOTAL: &str = "stethoscope_log_lines_dropped_total";
/// Spans dropped because the export queue was full or an export failed (counter).
pub const SPANS_DROPPED_TOTAL: &str = "stethoscope_spans_dropped_total";
/// Spans accepted by the trace collector (counter).
pub const SPANS_EXPORTED_TOTAL: &str = "stethoscope_spans_exported_total";
/// Recordings folded into a metric's `other` series by the cardinality cap, labelled
/// `metric="<name>"` (counter).
pub const METRIC_CARDINALITY_OVERFLOW_TOTAL: &str = "stethoscope_metric_cardinality_overflow_total";

// -- self-observability and live control --
/// Log lines queued for output (counter).
pub const LOG_LINES_TOTAL: &str = "stethoscope_log_lines_total";
/// Log lines suppressed by the per-callsite rate limit, labelled `target` (counter).
pub const LOG_LINES_SUPPRESSED_TOTAL: &str = "stethoscope_log_lines_suppressed_total";
/// CPU profile samples taken (counter).
pub const PROFILER_SAMPLES_TOTAL: &str = "stethoscope_profiler_samples_total";
/// Time one run of a background sampler took, labelled `sampler` (`metrics`, `runtime`)
/// (histogram).
pub const SAMPLER_DURATION_SECONDS: &str = "stethoscope_sampler_duration_seconds";

/// Total user and system CPU time spent, in seconds (counter).
pub const PROCESS_CPU_SECONDS_TOTAL: &str = "process_cpu_seconds_total";
/// Resident memory size in bytes (gauge).
pub const PROCESS_RESIDENT_MEMORY_BYTES: &str = "process_resident_memory_bytes";
/// Virtual memory size in bytes (gauge).
pub const PROCESS_VIRTUAL_MEMORY_BYTES: &str = "process_virtual_memory_bytes";
/// Number of open file descriptors (gauge).
pub const PROCESS_OPEN_FDS: &str = "process_open_fds";
/// Maximum number of open file descriptors (gauge).
pub const PROCESS_MAX_FDS: &str = "process_max_fds";
/// Number of OS threads in the process (gauge).
pub const PROCESS_THREADS: &str = "process_threads";
/// Start time of the process since the Unix epoch, in seconds (gauge).
pub const PROCESS_START_TIME_SECONDS: &str = "process_start_time_seconds";
/// Memory limit of the process's cgroup in bytes; absent when unlimited (gauge).
pub const PROCESS_MEMORY_LIMIT_BYTES: &str = "process_memory_limit_bytes";

/// Describes the metrics recorded through the `metrics` facade. Process metrics are rendered by
/// stethoscope itself and carry their help text there.
pub(crate) fn describe_all() {
    describe_counter!(
        LOG_LINES_DROPPED_TOTAL,
        Unit::Count,
        "Log lines dropped because the log destination could not keep up."
    );
    describe_counter!(
        SPANS_DROPPED_TOTAL,
        Unit::Count,
        "Spans dropped because the export queue was full (collector down or slow) or an export failed."
    );
    describe_counter!(
        SPANS_EXPORTED_TOTAL,
        Unit::Count,
        "Spans accepted by the trace collector."
    );
    describe_counter!(LOG_LINES_TOTAL, Unit::Count, "Log lines queued for output.");
    describe_counter!(
        LOG_LINES_SUPPRESSED_TOTAL,
        Unit::Count,
        "Log lines suppressed by the per-callsite rate limit."
    );
    describe_counter!(
        PROFILER_SAMPLES_TOTAL,
        Unit::Count,
        "CPU profile samples taken."
    );
    metrics::describe_histogram!(
        SAMPLER_DURATION_SECONDS,
        Unit::Seconds,
        "Time one run of a stethoscope background sampler took."
    );
    describe_counter!(
        METRIC_CARDINALITY_OVERFLOW_TOTAL,
        Unit::Count,
        "Recordings folded into the metric's `other` series because it exceeded its label-set cap."
    );
}

// -- memory pillar: rendered by stethoscope itself (`heap/exposition.rs`) --
/// Heap bytes allocated and not yet freed, when `alloc::Counting` is the global allocator
/// (gauge).
pub const PROCESS_HEAP_LIVE_BYTES: &str = "process_heap_live_bytes";
/// Heap allocations since the process started (counter).
pub const PROCESS_HEAP_ALLOCATIONS_TOTAL: &str = "process_heap_allocations_total";
/// Heap frees since the process started (counter).
pub const PROCESS_HEAP_FREES_TOTAL: &str = "process_heap_frees_total";
/// Heap bytes allocated since the process started, freed or not (counter).
pub const PROCESS_HEAP_ALLOCATED_BYTES_TOTAL: &str = "process_heap_allocated_bytes_total";
/// Live instances of each type counted by `heap::Tracked` or `tracked!`, labelled `type`
/// (gauge).
pub const LIVE_OBJECTS: &str = "live_objects";
/// Bytes of the live instances of each tracked type, labelled `type` (gauge).
pub const LIVE_OBJECT_BYTES: &str = "live_object_bytes";
