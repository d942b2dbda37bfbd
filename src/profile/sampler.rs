//! The Unix sampler: pprof-rs's `SIGPROF` profiler, its report turned into [`CpuProfile`]
//! stacks.

use std::collections::HashMap;
use std::time::{Instant, SystemTime};

use pprof::{ProfilerGuard, ProfilerGuardBuilder};

use super::cpu_profile::{CpuProfile, Stack};
use crate::error::Error;

/// Libraries whose code the unwinder must not walk from inside a signal handler: unwinding
/// through them can deadlock or crash (tikv/pprof-rs#36), so samples landing there are
/// skipped.
const BLOCKLIST: &[&str] = &["libc", "libgcc", "pthread", "vdso"];

/// A running capture; [`Sampler::finish`] stops it.
pub(crate) struct Sampler {
    guard: ProfilerGuard<'static>,
    started: Instant,
    start: SystemTime,
    frequency: u32,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("started", &self.started)
            .field("frequency", &self.frequency)
            .finish_non_exhaustive()
    }
}

impl Sampler {
    /// Starts sampling the whole process `frequency` times per second of CPU time.
    pub(crate) fn start(frequency: u32) -> Result<Self, Error> {
        let guard = ProfilerGuardBuilder::default()
            .frequency(frequency as i32)
            .blocklist(BLOCKLIST)
            .build()
            .map_err(|e| Error::Profiler {
                message: e.to_string(),
            })?;
        Ok(Sampler {
            guard,
            started: Instant::now(),
            start: SystemTime::now(),
            frequency,
        })
    }

    /// Stops sampling and symbolizes the stacks.
    pub(crate) fn finish(self) -> Result<CpuProfile, Error> {
        let duration = self.started.elapsed();
        let report = self.guard.report().build().map_err(|e| Error::Profiler {
            message: e.to_string(),
        })?;
        // Different addresses in one function fold into one stack once named.
        let mut merged: HashMap<(String, u64, Vec<String>), u64> = HashMap::new();
        for (frames, count) in &report.data {
            // pprof-rs lists frames leaf first and, within a frame, inlined callees first.
            let mut names: Vec<String> = frames
                .frames
                .iter()
                .flat_map(|inlined| inlined.iter())
                .map(|symbol| symbol.name())
                .collect();
            drop_signal_frames(&mut names);
            names.reverse();
            let key = (frames.thread_name_or_id(), frames.thread_id, names);
            *merged.entry(key).or_default() += (*count).max(0) as u64;
        }
        drop(self.guard); // stops the timer before the (slow) conversion below returns
        let stacks = merged
            .into_iter()
            .map(|((thread, thread_id, frames), samples)| Stack {
                thread,
                thread_id,
                frames,
                samples,
            })
            .collect();
        Ok(CpuProfile::new(
            stacks,
            duration,
            self.frequency,
            self.start,
        ))
    }
}

/// The unwinder runs inside the `SIGPROF` handler, so the leaf end of every stack is the
/// profiler itself (pprof-rs's handler and trace call, backtrace-rs, sometimes the kernel's
/// signal trampoline). That is the profiler's cost, not the application's, and would otherwise
/// top every `top()` table, so the leading run of such frames goes, provided it really is
/// pprof-rs's (an application calling `backtrace` itself keeps its frames).
fn drop_signal_frames(leaf_first: &mut Vec<String>) {
    let run = leaf_first
        .iter()
        .take_while(|name| is_profiler_frame(name))
        .count();
    if leaf_first[..run]
        .iter()
        .any(|name| name.contains("pprof::"))
    {
        leaf_first.drain(..run);
    }
}

fn is_profiler_frame(name: &str) -> bool {
    name.contains("pprof::")
        || name.starts_with("backtrace::")
        || name.contains("perf_signal_handler")
        || name.contains("restore_rt")
        || name.contains("sigreturn")
        || name.contains("sigtramp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unwinder_frames_are_removed() {
        let mut names: Vec<String> = [
            "backtrace::backtrace::libunwind::trace",
            "backtrace::backtrace::trace_unsynchronized",
            "<pprof::backtrace::backtrace_rs::Trace as pprof::backtrace::Trace>::trace",
            "app::hot",
            "main",
        ]
        .map(String::from)
        .to_vec();
        drop_signal_frames(&mut names);
        assert_eq!(names, ["app::hot", "main"]);

        let mut own = ["backtrace::Backtrace::new", "app::report"]
            .map(String::from)
            .to_vec();
        drop_signal_frames(&mut own);
        assert_eq!(own.len(), 2, "not the profiler's");
    }

    #[test]
    fn handler_and_trampoline_frames_are_removed() {
        let mut names: Vec<String> = [
            "backtrace::trace",
            "pprof::profiler::perf_signal_handler",
            "__restore_rt",
            "app::hot",
            "main",
        ]
        .map(String::from)
        .to_vec();
        drop_signal_frames(&mut names);
        assert_eq!(names, ["app::hot", "main"]);
    }
}
