//! Which functions the CPU profile caught running, on the runtime's workers or anywhere: the
//! names a finding points at.

use std::collections::HashMap;

use crate::profile::frames::is_library;
use crate::profile::CpuProfile;

/// An application function and its share of the samples looked at.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct HotFrame {
    /// The innermost application function on the stacks (the running function itself unless
    /// that is library code such as `core::`, `std::`, `tokio::`): where to look in your code.
    pub(crate) function: String,
    /// The library function that ran most under it, when the time was spent in library code
    /// it called (`core::slice::sort`, `serde_json::de`, ...).
    pub(crate) callee: Option<String>,
    /// Share of the samples looked at, in percent.
    pub(crate) percent: f64,
}

/// Whether a stack ran on a runtime worker: tokio's scheduler loop is on it. (The blocking
/// pool's frames are not a sign either way: tokio starts its workers on that pool, but code in
/// `spawn_blocking`, where blocking work belongs, runs without the scheduler's frames.)
fn on_runtime_worker(frames: &[String]) -> bool {
    frames
        .iter()
        .any(|f| f.contains("tokio::runtime::scheduler::"))
}

/// Stethoscope's own threads (sampler, admin server, log writer, profiler) are not the
/// application's CPU.
fn is_own_thread(thread: &str) -> bool {
    thread.starts_with("stethoscope")
}

/// The functions with the most self samples on the runtime's worker threads, with the share of
/// the workers' samples each took; also the number of worker samples.
pub(crate) fn on_workers(profile: &CpuProfile, n: usize) -> (Vec<HotFrame>, u64) {
    top(profile, n, |thread, frames| {
        !is_own_thread(thread) && on_runtime_worker(frames)
    })
}

/// The functions with the most self samples anywhere in the process but stethoscope's own
/// threads, with their share of those samples; also the number of samples.
pub(crate) fn in_process(profile: &CpuProfile, n: usize) -> (Vec<HotFrame>, u64) {
    top(profile, n, |thread, _| !is_own_thread(thread))
}

fn top(
    profile: &CpuProfile,
    n: usize,
    keep: impl Fn(&str, &[String]) -> bool,
) -> (Vec<HotFrame>, u64) {
    // application function → (samples, samples per library function running under it)
    let mut counts: HashMap<&str, (u64, HashMap<&str, u64>)> = HashMap::new();
    let mut total = 0;
    for stack in &profile.stacks {
        if !keep(&stack.thread, &stack.frames) {
            continue;
        }
        let Some(leaf) = stack.frames.last() else {
            continue;
        };
        total += stack.samples;
        let owner = stack
            .frames
            .iter()
            .rev()
            .find(|f| !is_library(f))
            .unwrap_or(leaf);
        let entry = counts.entry(owner).or_default();
        entry.0 += stack.samples;
        if leaf != owner {
            *entry.1.entry(leaf).or_default() += stack.samples;
        }
    }
    let mut rows: Vec<HotFrame> = counts
        .into_iter()
        .map(|(function, (samples, callees))| HotFrame {
            function: function.to_owned(),
            callee: callees
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
                // Worth mentioning only when it took at least half of the function's time.
                .filter(|(_, n)| n * 2 >= samples)
                .map(|(c, _)| c.to_owned()),
            percent: samples as f64 * 100.0 / total.max(1) as f64,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.percent
            .total_cmp(&a.percent)
            .then_with(|| a.function.cmp(&b.function))
    });
    rows.truncate(n);
    (rows, total)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::profile::CpuProfile;

    fn profile(folded: &str) -> CpuProfile {
        CpuProfile::from_folded(folded, Duration::from_secs(1), 99).unwrap()
    }

    #[test]
    fn worker_frames_skip_the_blocking_pool_and_name_the_application_function() {
        let p = profile(
            "tokio::runtime::blocking::pool::Inner::run;tokio::runtime::scheduler::multi_thread::worker::run;app::handle;app::parse_block 6\n\
             tokio::runtime::scheduler::multi_thread::worker::run;app::index;core::slice::sort::quicksort 3\n\
             tokio::runtime::blocking::pool::Inner::run;tokio::runtime::blocking::task::BlockingTask::poll;app::verify 50\n\
             main;app::other 40\n",
        );
        let (frames, samples) = on_workers(&p, 5);
        assert_eq!(samples, 9);
        assert_eq!(frames[0].function, "app::parse_block");
        assert!((frames[0].percent - 66.7).abs() < 0.1);
        assert_eq!(frames[0].callee, None);
        assert_eq!(frames[1].function, "app::index");
        assert_eq!(
            frames[1].callee.as_deref(),
            Some("core::slice::sort::quicksort")
        );
        let (anywhere, samples) = in_process(&p, 1);
        assert_eq!(
            (anywhere[0].function.as_str(), samples),
            ("app::verify", 99)
        );
    }
}
