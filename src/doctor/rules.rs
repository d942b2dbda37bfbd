//! The rules that turn a window's samples into [`Finding`]s, and their thresholds.
//!
//! Each rule has a stable id (the finding's [`rule`](Finding::rule)), described with its
//! evidence in `docs/doctor.md`:
//!
//! | rule | fires when | severity |
//! |---|---|---|
//! | `runtime_blocked` | scheduling delay p90 ≥ [`SCHEDULING_DELAY_WARNING`] or max ≥ [`SCHEDULING_DELAY_STALL`], or a worker inside one poll for ≥ [`LONG_POLL_STALL`] | critical when the median ≥ [`SCHEDULING_DELAY_WARNING`], or the max delay or the longest poll ≥ [`SCHEDULING_DELAY_CRITICAL`], else warning |
//! | `runtime_saturated` | delay healthy, mean busy ratio ≥ [`SATURATED_BUSY_RATIO`] | warning |
//! | `cpu_hot_spot` | neither of the above, mean process CPU ≥ [`HOT_SPOT_CPU_PERCENT`] | warning when ≥ [`CPU_SATURATED_SHARE`] of all cores, else info |
//! | `memory_growth` | heap live bytes (or RSS) grow along a line ([`GROWTH_MIN_R_SQUARED`]) by ≥ [`MEMORY_GROWTH_MIN_BYTES`] and [`MEMORY_GROWTH_MIN_SHARE`], or a type's live count by ≥ [`TYPE_GROWTH_MIN_COUNT`] | warning |
//! | `task_growth` | alive tasks grow along a line by ≥ [`TASK_GROWTH_MIN`] | warning |
//! | `fd_growth` | open fds grow along a line by ≥ [`FD_GROWTH_MIN`] | warning |
//! | `io_wait` | an operation waits ≥ [`IO_WAIT_MIN_IDLE_SHARE`] of its time and takes ≥ [`IO_WAIT_MIN_MEAN_WALL`] on average | warning |
//! | `allocation_churn` | allocation rate ≥ [`ALLOCATION_CHURN_BYTES_PER_SECOND`] | info |
//! | `healthy` | no warning or critical finding | info |

use std::fmt::Write as _;
use std::time::Duration;

use super::hot_frames::{self, HotFrame};
use super::report::{DelaySummary, Report};
use super::{Evidence, Finding, Severity, Signal, Unit};

/// Fewer samples than this and no trend is trusted: two or three points always fit a line.
pub const MIN_TREND_SAMPLES: usize = 5;

/// A 90th-percentile scheduling delay at or above this means the runtime's workers are
/// blocked again and again: most probes found every worker busy for 20 ms or more. A healthy
/// runtime, idle or busy, answers in well under a millisecond; the percentile (rather than the
/// maximum) keeps one hiccup of a loaded machine's OS scheduler from counting.
pub const SCHEDULING_DELAY_WARNING: Duration = Duration::from_millis(20);

/// A single scheduling delay at or above this is a warning on its own: a rare but long block
/// (a quarter of a second during which no task on the runtime made progress).
pub const SCHEDULING_DELAY_STALL: Duration = Duration::from_millis(250);

/// A single scheduling delay this long is critical: every request in flight on the runtime
/// stalled for a second or more.
pub const SCHEDULING_DELAY_CRITICAL: Duration = Duration::from_secs(1);

/// A worker seen inside one poll this long blocks the runtime even when the delay probe finds
/// another worker free: every task queued on it (its LIFO slot cannot be stolen) waits. Half
/// a second because tokio only publishes a worker's figures every 61 polls: a healthy worker
/// cannot go that long without publishing unless its polls average 8 ms, which is itself
/// blocking.
pub const LONG_POLL_STALL: Duration = Duration::from_millis(500);

/// A mean busy ratio at or above this means the runtime is saturated: the same threshold as
/// the runtime monitor's "runtime saturated" warning
/// ([`DEFAULT_SATURATION_THRESHOLD`](crate::runtime::DEFAULT_SATURATION_THRESHOLD)).
pub const SATURATED_BUSY_RATIO: f64 = 0.90;

/// Mean process CPU, in percent of one core, from which the doctor names the hot spot: below
/// half a core there is rarely one worth naming.
pub const HOT_SPOT_CPU_PERCENT: f64 = 50.0;

/// Share of all the machine's cores the process must use for the hot spot to be a warning
/// rather than information: at 90 % the process cannot absorb more load.
pub const CPU_SATURATED_SHARE: f64 = 0.90;

/// How well a growing signal must fit a straight line (R²) to count as steady growth: at 0.8 a
/// leak's staircase or slight wobble still qualifies, a level with noise or a one-off jump
/// does not.
pub const GROWTH_MIN_R_SQUARED: f64 = 0.8;

/// Memory must grow by at least this much over the window (along the fitted line) to be a
/// finding: smaller growth is allocator and page-cache noise.
pub const MEMORY_GROWTH_MIN_BYTES: f64 = 2.0 * 1024.0 * 1024.0;

/// ... and by at least this share of where it started, so that a large process's normal
/// churn is not called a leak.
pub const MEMORY_GROWTH_MIN_SHARE: f64 = 0.01;

/// A type whose live count grows steadily by at least this many instances over the window is
/// a leak finding on its own, whatever the byte totals show.
pub const TYPE_GROWTH_MIN_COUNT: i64 = 100;

/// Alive tasks must grow by at least this many over the window (along the fitted line): a
/// server's task count follows its load up and down by a few dozen.
pub const TASK_GROWTH_MIN: f64 = 50.0;

/// Open file descriptors must grow by at least this many over the window.
pub const FD_GROWTH_MIN: f64 = 16.0;

/// An operation spending at least this share of its wall time waiting (not polled) is waiting
/// on I/O, a lock or another service, not computing.
pub const IO_WAIT_MIN_IDLE_SHARE: f64 = 0.80;

/// ... and only when it is slow enough to matter: a mean wall time of at least this.
pub const IO_WAIT_MIN_MEAN_WALL: Duration = Duration::from_millis(50);

/// An allocation rate at or above this (1 GiB/s) is worth knowing about: the allocator is a
/// likely hot spot (the Rust analog of a busy garbage collector).
pub const ALLOCATION_CHURN_BYTES_PER_SECOND: f64 = 1024.0 * 1024.0 * 1024.0;

/// How many functions a finding names at most.
pub const TOP_FRAMES: usize = 3;

/// A function is named only if it took at least this share of the samples looked at.
pub const MIN_FRAME_PERCENT: f64 = 5.0;

/// Every rule over `report`, most severe first.
pub(crate) fn diagnose(report: &Report) -> Vec<Finding> {
    let mut findings = Vec::new();
    let runtime = runtime_blocked(report).or_else(|| runtime_saturated(report));
    let runtime_fired = runtime.is_some();
    findings.extend(runtime);
    if !runtime_fired {
        findings.extend(cpu_hot_spot(report));
    }
    findings.extend(memory_growth(report));
    findings.extend(handle_growth(
        report,
        Signal::AliveTasks,
        TASK_GROWTH_MIN,
        "task_growth",
    ));
    findings.extend(handle_growth(
        report,
        Signal::OpenFds,
        FD_GROWTH_MIN,
        "fd_growth",
    ));
    findings.extend(io_wait(report));
    findings.extend(allocation_churn(report));
    if findings.iter().all(|f| f.severity < Severity::Warning) {
        findings.insert(0, healthy(report));
    }
    // Stable: within a severity, the order above (runtime first) stays.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

fn runtime_blocked(report: &Report) -> Option<Finding> {
    let delay = report
        .scheduling_delay
        .filter(|d| d.p90 >= SCHEDULING_DELAY_WARNING || d.max >= SCHEDULING_DELAY_STALL);
    let long_poll = report.longest_poll.filter(|held| *held >= LONG_POLL_STALL);
    if delay.is_none() && long_poll.is_none() {
        return None;
    }
    let critical = delay
        .is_some_and(|d| d.p50 >= SCHEDULING_DELAY_WARNING || d.max >= SCHEDULING_DELAY_CRITICAL)
        || long_poll.is_some_and(|held| held >= SCHEDULING_DELAY_CRITICAL);
    let severity = if critical {
        Severity::Critical
    } else {
        Severity::Warning
    };
    let mut evidence = report
        .scheduling_delay
        .map(delay_evidence)
        .unwrap_or_default();
    if let Some(held) = report.longest_poll {
        evidence.push(Evidence::new(
            "longest_poll_ms",
            "longest poll",
            ms(held),
            Unit::Milliseconds,
        ));
    }
    if let Some(busy) = report.summary(Signal::RuntimeBusyRatio) {
        evidence.push(busy_mean_evidence(busy.mean));
    }
    let (frames, why) = worker_frames(report);
    let names = names_of(&frames);
    let (title, symptom) = match (delay, long_poll) {
        (Some(d), _) => (
            format!(
                "scheduling delay p99 {}",
                Unit::Milliseconds.format(ms(d.p99))
            ),
            format!(
                "while it runs, tasks that are ready wait for a worker (the probe waited {} at \
                 p99, {} at worst)",
                Unit::Milliseconds.format(ms(d.p99)),
                Unit::Milliseconds.format(ms(d.max)),
            ),
        ),
        (None, Some(held)) => (
            format!(
                "one poll held a worker {}",
                Unit::Milliseconds.format(ms(held))
            ),
            format!(
                "one poll held a worker for {} without yielding, and every task queued on that \
                 worker waited as long (other workers kept answering the delay probe)",
                Unit::Milliseconds.format(ms(held)),
            ),
        ),
        (None, None) => unreachable!("returned above"),
    };
    let target = names
        .first()
        .map_or("the blocking code".to_owned(), |n| format!("`{n}`"));
    Some(Finding {
        rule: "runtime_blocked",
        severity,
        signal: Some(Signal::SchedulingDelay),
        title: format!("Runtime blocked by synchronous work ({title})"),
        evidence,
        subjects: names,
        cause: format!(
            "Synchronous work is running on the runtime's worker threads: {symptom}. {why}"
        ),
        recommendation: format!(
            "Move {target} off the runtime's workers: wrap blocking calls in \
             `tokio::task::spawn_blocking`, run CPU-heavy work on a rayon pool (or \
             `spawn_blocking`) and await its result, and break long loops with \
             `tokio::task::yield_now().await`."
        ),
    })
}

/// Milliseconds, as evidence is written.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The probe's delays, as the `runtime_blocked` rule shows them.
fn delay_evidence(delay: DelaySummary) -> Vec<Evidence> {
    vec![
        Evidence::new(
            "scheduling_delay_p50_ms",
            "scheduling delay p50",
            ms(delay.p50),
            Unit::Milliseconds,
        ),
        Evidence::new(
            "scheduling_delay_p90_ms",
            "scheduling delay p90",
            ms(delay.p90),
            Unit::Milliseconds,
        ),
        Evidence::new(
            "scheduling_delay_p99_ms",
            "scheduling delay p99",
            ms(delay.p99),
            Unit::Milliseconds,
        ),
        Evidence::new(
            "scheduling_delay_max_ms",
            "scheduling delay max",
            ms(delay.max),
            Unit::Milliseconds,
        ),
        Evidence::new("probes", "probes", delay.probes as f64, Unit::Count),
    ]
}

fn runtime_saturated(report: &Report) -> Option<Finding> {
    let busy = report.summary(Signal::RuntimeBusyRatio)?;
    if busy.mean < SATURATED_BUSY_RATIO {
        return None;
    }
    let mut evidence = vec![
        busy_mean_evidence(busy.mean),
        Evidence::new(
            "runtime_busy_ratio_min",
            "lowest busy ratio",
            busy.min,
            Unit::Ratio,
        ),
    ];
    if let Some(workers) = report.workers {
        evidence.push(Evidence::new(
            "workers",
            "workers",
            workers as f64,
            Unit::Count,
        ));
    }
    evidence.extend(delay_p99_evidence(report));
    let (frames, why) = worker_frames(report);
    let names = names_of(&frames);
    let target = names
        .first()
        .map_or("the hottest code".to_owned(), |n| format!("`{n}`"));
    Some(Finding {
        rule: "runtime_saturated",
        severity: Severity::Warning,
        signal: Some(Signal::RuntimeBusyRatio),
        title: format!("Runtime saturated (busy ratio {:.2})", busy.mean),
        evidence,
        subjects: names,
        cause: format!(
            "The workers spend nearly all their time polling tasks. Tasks still get a worker \
             quickly, but more load will queue and latency will climb. {why}"
        ),
        recommendation: format!(
            "Make {target} cheaper, move CPU-heavy work to `spawn_blocking` or a rayon pool so \
             the workers stay free for I/O, or add workers or instances."
        ),
    })
}

fn cpu_hot_spot(report: &Report) -> Option<Finding> {
    let cpu = report.summary(Signal::ProcessCpu)?;
    if cpu.mean < HOT_SPOT_CPU_PERCENT {
        return None;
    }
    let all_cores = report.cores as f64 * 100.0;
    let severity = if cpu.mean >= CPU_SATURATED_SHARE * all_cores {
        Severity::Warning
    } else {
        Severity::Info
    };
    let mut evidence = vec![
        cpu_mean_evidence(cpu.mean),
        Evidence::new("cores", "cores", report.cores as f64, Unit::Count),
    ];
    evidence.extend(delay_p99_evidence(report));
    let (frames, why) = match &report.profile {
        Some(profile) => {
            let (frames, samples) = hot_frames::in_process(profile, TOP_FRAMES);
            let frames = significant(frames);
            let why = if frames.is_empty() {
                format!("The CPU profile has too few samples ({samples}) to name a function.")
            } else {
                format!(
                    "The hottest functions in the CPU profile ({samples} samples): {}.",
                    describe(&frames)
                )
            };
            (frames, why)
        }
        None => (Vec::new(), no_profile(report)),
    };
    let names = names_of(&frames);
    let target = names
        .first()
        .map_or("the widest frames".to_owned(), |n| format!("`{n}`"));
    Some(Finding {
        rule: "cpu_hot_spot",
        severity,
        signal: Some(Signal::ProcessCpu),
        title: format!(
            "CPU-bound: the process uses {} of a core",
            Unit::Percent.format(cpu.mean)
        ),
        evidence,
        subjects: names,
        cause: format!(
            "The process spends its time computing while the runtime stays responsive, so the \
             work runs off the workers or in short polls. {why}"
        ),
        recommendation: format!(
            "Open the flame graph: the widest frames are where the time goes. Optimize {target} \
             first (algorithm, allocations, serialization), cache its results, or scale out."
        ),
    })
}

fn memory_growth(report: &Report) -> Option<Finding> {
    // Live heap bytes when an input gives them, else RSS; neither on systems without /proc.
    let source = [Signal::HeapLiveBytes, Signal::ResidentMemory]
        .into_iter()
        .find(|s| report.points(*s).len() >= MIN_TREND_SAMPLES);
    let measured = source.and_then(|source| {
        let points = report.points(source);
        let summary = report.summary(source)?;
        let span = points[points.len() - 1].0 - points[0].0;
        Some((source, summary, summary.fitted_growth(span)))
    });
    let bytes_grow = measured.is_some_and(|(_, summary, growth)| {
        growth >= MEMORY_GROWTH_MIN_BYTES
            && growth >= MEMORY_GROWTH_MIN_SHARE * summary.first
            && summary
                .trend
                .is_some_and(|t| t.r_squared >= GROWTH_MIN_R_SQUARED)
    });
    let growing_type = report.live_types.first().filter(|t| {
        t.count_delta() >= TYPE_GROWTH_MIN_COUNT && t.r_squared >= GROWTH_MIN_R_SQUARED
    });
    if !bytes_grow && growing_type.is_none() {
        return None;
    }
    let mut evidence = Vec::new();
    let mut title = String::new();
    let mut cause = String::new();
    if let Some((source, summary, _)) = measured {
        let slope = summary.trend.map_or(0.0, |t| t.slope_per_second);
        let r_squared = summary.trend.map_or(0.0, |t| t.r_squared);
        evidence.extend([
            Evidence::new(
                "growth_bytes_per_second",
                "growth",
                slope,
                Unit::BytesPerSecond,
            ),
            Evidence::new("r_squared", "R²", r_squared, Unit::Ratio),
            Evidence::new("first_bytes", "start", summary.first, Unit::Bytes),
            Evidence::new("last_bytes", "end", summary.last, Unit::Bytes),
        ]);
        let (first, last) = (
            Unit::Bytes.format(summary.first),
            Unit::Bytes.format(summary.last),
        );
        if bytes_grow {
            title = format!(
                "Memory grows steadily ({}, R² {r_squared:.2}): likely a leak",
                Unit::BytesPerSecond.format(slope)
            );
            cause = format!(
                "{} grew from {first} to {last} along a straight line, which is how a leak \
                 looks; a cache warming up levels off instead.",
                source.title()
            );
        } else {
            cause = format!(
                "{} ({first} → {last}) did not grow steadily over this window, but live objects \
                 did.",
                source.title()
            );
        }
    }
    let mut subjects = Vec::new();
    match growing_type {
        Some(t) => {
            evidence.push(Evidence::new(
                "type_count_before",
                "live before",
                t.count_before as f64,
                Unit::Count,
            ));
            evidence.push(Evidence::new(
                "type_count_after",
                "live after",
                t.count_after as f64,
                Unit::Count,
            ));
            subjects.push(t.type_name.clone());
            if title.is_empty() {
                title = format!(
                    "Live `{}` objects grow steadily ({} → {}): likely a leak",
                    t.type_name, t.count_before, t.count_after
                );
            }
            let _ = write!(
                cause,
                " The fastest-growing live type is `{}`: {} → {} instances ({} → {}).",
                t.type_name,
                t.count_before,
                t.count_after,
                Unit::Bytes.format(t.bytes_before as f64),
                Unit::Bytes.format(t.bytes_after as f64),
            );
        }
        None if report.live_types.is_empty() => cause.push_str(
            " Live-object counts per type were not available, so the growing type cannot be \
             named here.",
        ),
        None => cause.push_str(" No single type's live count grew steadily."),
    }
    let target = subjects
        .first()
        .map_or("what grows".to_owned(), |t| format!("what holds `{t}`"));
    Some(Finding {
        rule: "memory_growth",
        severity: Severity::Warning,
        signal: Some(source.unwrap_or(Signal::HeapLiveBytes)),
        title,
        evidence,
        subjects,
        cause: cause.trim_start().to_owned(),
        recommendation: format!(
            "Take two heap snapshots a minute apart and compare them (`stethoscope::heap::snapshot` \
             and `heap::compare`), then look at {target}: listeners or subscribers never removed, \
             closures keeping large buffers alive, maps used as caches without eviction (bound \
             them with an LRU or a TTL), `Rc`/`Arc` cycles."
        ),
    })
}

fn handle_growth(report: &Report, signal: Signal, min: f64, rule: &'static str) -> Option<Finding> {
    let points = report.points(signal);
    if points.len() < MIN_TREND_SAMPLES {
        return None;
    }
    let summary = report.summary(signal)?;
    let span = points[points.len() - 1].0 - points[0].0;
    let trend = summary.trend?;
    let growth = summary.fitted_growth(span);
    if growth < min || trend.r_squared < GROWTH_MIN_R_SQUARED || summary.last <= summary.first {
        return None;
    }
    let evidence = vec![
        Evidence::new(
            "growth_per_second",
            "growth",
            trend.slope_per_second,
            Unit::PerSecond,
        ),
        Evidence::new("r_squared", "R²", trend.r_squared, Unit::Ratio),
        Evidence::new("first", "start", summary.first, Unit::Count),
        Evidence::new("last", "end", summary.last, Unit::Count),
    ];
    let (title, cause, recommendation) = if signal == Signal::AliveTasks {
        (
            format!(
                "Alive tasks grow steadily ({:.0} → {:.0}): tasks are not finishing",
                summary.first, summary.last
            ),
            "Tasks are spawned faster than they finish: some wait forever (on a channel whose \
             sender is kept alive, a lock, a future that never resolves) or are spawned per \
             request without an end."
                .to_owned(),
            "Give every spawned task a way to end (a timeout, a cancellation token, dropping its \
             channel's sender), keep their handles in a `tokio::task::JoinSet` to count and abort \
             them, and wrap task groups with `stethoscope::runtime::task_monitor` to see which \
             group grows."
                .to_owned(),
        )
    } else {
        (
            format!(
                "Open file descriptors grow steadily ({:.0} → {:.0}): sockets or files are not closed",
                summary.first, summary.last
            ),
            "Sockets or files are opened and not closed: connections not returned to a pool, \
             streams kept in a map, response bodies never read to the end."
                .to_owned(),
            "See what they point to (`ls -l /proc/<pid>/fd`), reuse connections through a pool, \
             put timeouts on idle connections, and make sure every file and socket is dropped."
                .to_owned(),
        )
    };
    Some(Finding {
        rule,
        severity: Severity::Warning,
        signal: Some(signal),
        title,
        evidence,
        subjects: Vec::new(),
        cause,
        recommendation,
    })
}

fn io_wait(report: &Report) -> Option<Finding> {
    let mut waiting: Vec<_> = report
        .operations
        .iter()
        .filter(|op| {
            let mean =
                op.summary.total_wall / u32::try_from(op.summary.calls).unwrap_or(u32::MAX).max(1);
            op.summary.idle_share >= IO_WAIT_MIN_IDLE_SHARE && mean >= IO_WAIT_MIN_MEAN_WALL
        })
        .collect();
    // The operation that made callers wait longest in total first.
    waiting.sort_by(|a, b| {
        let idle = |op: &super::OperationWindow| {
            op.summary.total_wall.as_secs_f64() * op.summary.idle_share
        };
        idle(b).total_cmp(&idle(a))
    });
    let top = waiting.first()?;
    let calls = top.summary.calls.max(1);
    let mean_ms = top.summary.total_wall.as_secs_f64() * 1e3 / calls as f64;
    let name = top.summary.name;
    let subjects: Vec<String> = waiting
        .iter()
        .take(TOP_FRAMES)
        .map(|op| op.summary.name.to_owned())
        .collect();
    let others = if subjects.len() > 1 {
        format!(
            " Also waiting: {}.",
            subjects[1..]
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    Some(Finding {
        rule: "io_wait",
        severity: Severity::Warning,
        signal: Some(Signal::Operations),
        title: format!(
            "`{name}` spends {:.0} % of its time waiting (mean {})",
            top.summary.idle_share * 100.0,
            Unit::Milliseconds.format(mean_ms)
        ),
        evidence: vec![
            Evidence::new(
                "idle_percent",
                "waiting",
                top.summary.idle_share * 100.0,
                Unit::Percent,
            ),
            Evidence::new("mean_wall_ms", "mean wall", mean_ms, Unit::Milliseconds),
            Evidence::new(
                "p99_wall_ms",
                "p99 wall",
                top.summary.p99_wall.as_secs_f64() * 1e3,
                Unit::Milliseconds,
            ),
            Evidence::new("calls", "calls", top.summary.calls as f64, Unit::Count),
            Evidence::new(
                "slow_calls",
                "slow calls",
                top.slow_calls as f64,
                Unit::Count,
            ),
        ],
        subjects,
        cause: format!(
            "`{name}` is not computing, it is waiting: on a slow dependency (database, another \
             service, disk), a connection pool that is too small, or a lock held elsewhere.{others}"
        ),
        recommendation: format!(
            "Look at what `{name}` awaits: measure the dependency's own latency, check pool sizes \
             and timeouts, batch or cache requests, and run independent awaits concurrently \
             (`tokio::join!`)."
        ),
    })
}

fn allocation_churn(report: &Report) -> Option<Finding> {
    let rate = report.summary(Signal::AllocationRate)?;
    if rate.mean < ALLOCATION_CHURN_BYTES_PER_SECOND {
        return None;
    }
    Some(Finding {
        rule: "allocation_churn",
        severity: Severity::Info,
        signal: Some(Signal::AllocationRate),
        title: format!(
            "High allocation rate ({})",
            Unit::BytesPerSecond.format(rate.mean)
        ),
        evidence: vec![Evidence::new(
            "allocation_bytes_per_second_mean",
            "allocation rate",
            rate.mean,
            Unit::BytesPerSecond,
        )],
        subjects: Vec::new(),
        cause: "The allocator is busy: short-lived buffers, strings and collections are created \
                and freed at a high rate."
            .to_owned(),
        recommendation: "Reuse buffers (`clear()` instead of new), preallocate with \
                         `with_capacity`, and look for `malloc`/`free` in the flame graph."
            .to_owned(),
    })
}

/// The scheduling delay's p99, as several rules show it.
fn delay_p99_evidence(report: &Report) -> Option<Evidence> {
    report.scheduling_delay.map(|delay| {
        Evidence::new(
            "scheduling_delay_p99_ms",
            "scheduling delay p99",
            delay.p99.as_secs_f64() * 1e3,
            Unit::Milliseconds,
        )
    })
}

/// The runtime's mean busy ratio, as several rules show it.
fn busy_mean_evidence(mean: f64) -> Evidence {
    Evidence::new("runtime_busy_ratio_mean", "busy ratio", mean, Unit::Ratio)
}

/// The process's mean CPU use, as several rules show it.
fn cpu_mean_evidence(mean: f64) -> Evidence {
    Evidence::new(
        "process_cpu_percent_mean",
        "process CPU",
        mean,
        Unit::Percent,
    )
}

fn healthy(report: &Report) -> Finding {
    let mut evidence = Vec::new();
    evidence.extend(delay_p99_evidence(report));
    if let Some(busy) = report.summary(Signal::RuntimeBusyRatio) {
        evidence.push(busy_mean_evidence(busy.mean));
    }
    if let Some(cpu) = report.summary(Signal::ProcessCpu) {
        evidence.push(cpu_mean_evidence(cpu.mean));
    }
    Finding {
        rule: "healthy",
        severity: Severity::Info,
        signal: None,
        title: "No issue detected".to_owned(),
        evidence,
        subjects: Vec::new(),
        cause: "The runtime answered promptly, memory, tasks and file descriptors did not grow \
                steadily, and no operation was dominated by waiting."
            .to_owned(),
        recommendation: format!(
            "Nothing to do. If the problem shows under load, observe again while it is applied \
             (this window was {:.1?}).",
            report.window
        ),
    }
}

/// The hottest functions on the workers and a sentence about them.
fn worker_frames(report: &Report) -> (Vec<HotFrame>, String) {
    let Some(profile) = &report.profile else {
        return (Vec::new(), no_profile(report));
    };
    let (frames, samples) = hot_frames::on_workers(profile, TOP_FRAMES);
    let frames = significant(frames);
    if frames.is_empty() || samples < 3 {
        return (
            Vec::new(),
            format!(
                "The CPU profile caught the workers computing in only {samples} samples: they were \
                 blocked without using CPU, in a blocking call (`std::thread::sleep`, blocking \
                 file or network I/O, a `std::sync::Mutex` wait, `block_on`)."
            ),
        );
    }
    let why = format!(
        "On the workers, the CPU profile ({samples} samples) shows {}.",
        describe(&frames)
    );
    (frames, why)
}

fn no_profile(report: &Report) -> String {
    match &report.profile_note {
        Some(note) => format!("No CPU profile to name the functions: {note}."),
        None => "Observe with a CPU profile (`Doctor::with_cpu_profile(true)`) to name the \
                 functions."
            .to_owned(),
    }
}

fn significant(frames: Vec<HotFrame>) -> Vec<HotFrame> {
    frames
        .into_iter()
        .filter(|f| f.percent >= MIN_FRAME_PERCENT)
        .collect()
}

fn names_of(frames: &[HotFrame]) -> Vec<String> {
    frames.iter().map(|f| f.function.clone()).collect()
}

/// "`a` (72 %), `b` (20 %, mostly in `core::slice::sort`)".
fn describe(frames: &[HotFrame]) -> String {
    frames
        .iter()
        .map(|f| match &f.callee {
            Some(callee) => format!(
                "`{}` ({:.0} %, mostly in `{callee}`)",
                f.function, f.percent
            ),
            None => format!("`{}` ({:.0} %)", f.function, f.percent),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::doctor::sampling::{Recording, Sample};
    use crate::doctor::TypeCount;

    const MIB: f64 = 1024.0 * 1024.0;

    /// A report of 25 samples 100 ms apart whose RSS is `rss(i)`.
    fn report(rss: impl Fn(usize) -> f64, live_types: Vec<(f64, Vec<TypeCount>)>) -> Report {
        let samples = (1..=25)
            .map(|i| Sample {
                elapsed: Duration::from_millis(100 * i as u64),
                resident_bytes: Some(rss(i) as u64),
                ..Sample::default()
            })
            .collect();
        let recording = Recording {
            samples,
            live_types,
            ..Recording::default()
        };
        let window = Duration::from_millis(2500);
        Report::new(
            SystemTime::now(),
            window,
            Duration::from_millis(100),
            recording,
            Ok(None),
        )
    }

    fn rules(report: &Report) -> Vec<&'static str> {
        report.findings().iter().map(|f| f.rule).collect()
    }

    #[test]
    fn steady_growth_is_a_leak_and_noise_or_a_plateau_is_not() {
        let leak = report(|i| 100.0 * MIB + i as f64 * MIB, Vec::new());
        assert_eq!(rules(&leak), ["memory_growth"]);
        assert!(leak.findings()[0].cause.contains("cannot be named"));
        // ±3 MiB of noise around a level.
        let noise = report(
            |i| 100.0 * MIB + if i % 2 == 0 { 3.0 * MIB } else { 0.0 },
            Vec::new(),
        );
        assert_eq!(rules(&noise), ["healthy"]);
        // A warm-up: 5 MiB at once, then flat.
        let plateau = report(
            |i| 100.0 * MIB + if i > 3 { 5.0 * MIB } else { 0.0 },
            Vec::new(),
        );
        assert_eq!(rules(&plateau), ["healthy"], "{}", plateau.to_text());
    }

    #[test]
    fn a_growing_type_is_a_leak_even_when_bytes_look_flat() {
        let types = (0..3)
            .map(|s| {
                (
                    s as f64,
                    vec![TypeCount::new("app::Listener", 10 + 200 * s, 0)],
                )
            })
            .collect();
        let report = report(|_| 100.0 * MIB, types);
        let finding = &report.findings()[0];
        assert_eq!(finding.rule, "memory_growth");
        assert_eq!(finding.subjects, ["app::Listener"]);
        assert!(finding
            .title
            .starts_with("Live `app::Listener` objects grow steadily"));
        assert!(
            finding.cause.contains("did not grow steadily"),
            "{}",
            finding.cause
        );
    }
}
