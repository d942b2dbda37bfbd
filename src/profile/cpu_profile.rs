//! [`CpuProfile`]: the captured stacks and how they were sampled; the renderers live in sibling
//! modules.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use crate::error::Error;

/// One distinct call stack and how many samples landed in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stack {
    /// The thread's name (or id when unnamed).
    pub(crate) thread: String,
    /// The sampled thread's `pthread_self()`, to tell threads of one name apart (`0` when
    /// unknown, as in folded stacks read back).
    pub(crate) thread_id: u64,
    /// Demangled function names, outermost (root) first, the running function last.
    pub(crate) frames: Vec<String>,
    pub(crate) samples: u64,
}

/// A captured CPU profile: call stacks with sample counts, plus how they were sampled.
///
/// Get one from [`cpu::capture`](super::cpu::capture) or
/// [`CpuProfiler::stop`](super::cpu::CpuProfiler::stop), or load folded stacks saved earlier
/// with [`CpuProfile::from_folded`].
#[derive(Clone, Debug)]
pub struct CpuProfile {
    pub(crate) stacks: Vec<Stack>,
    pub(crate) duration: Duration,
    pub(crate) frequency: u32,
    pub(crate) start: SystemTime,
}

impl CpuProfile {
    pub(crate) fn new(
        mut stacks: Vec<Stack>,
        duration: Duration,
        frequency: u32,
        start: SystemTime,
    ) -> Self {
        // A stable order makes every rendering of the same profile byte-identical.
        stacks.sort_by(|a, b| {
            (&a.frames, &a.thread, a.thread_id).cmp(&(&b.frames, &b.thread, b.thread_id))
        });
        CpuProfile {
            stacks,
            duration,
            frequency,
            start,
        }
    }

    /// Reads folded stacks (`root;caller;callee 42` per line, as written by
    /// [`CpuProfile::folded`] or inferno's collapsers) sampled at `frequency` Hz for
    /// `duration`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stethoscope::profile::CpuProfile;
    ///
    /// let profile = CpuProfile::from_folded("main;parse 3\nmain;hash 1\n", Duration::from_secs(1), 99)?;
    /// assert_eq!(profile.sample_count(), 4);
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first line that is not `stack count`.
    pub fn from_folded(folded: &str, duration: Duration, frequency: u32) -> Result<Self, Error> {
        let mut stacks = Vec::new();
        for (number, line) in folded.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let parsed = line
                .rsplit_once(' ')
                .and_then(|(stack, n)| Some((stack, n.parse::<u64>().ok()?)));
            let Some((stack, samples)) = parsed else {
                return Err(Error::invalid_config(
                    "CpuProfile::from_folded",
                    format_args!("line {}: {line:?}", number + 1),
                    "expected `frame;frame;frame <sample count>` on every line",
                ));
            };
            stacks.push(Stack {
                thread: String::new(),
                thread_id: 0,
                frames: stack.split(';').map(str::to_owned).collect(),
                samples,
            });
        }
        Ok(CpuProfile::new(
            stacks,
            duration,
            frequency,
            SystemTime::now(),
        ))
    }

    /// Samples taken in all (each is one interrupted running thread).
    pub fn sample_count(&self) -> u64 {
        self.stacks.iter().map(|s| s.samples).sum()
    }

    /// How long the capture ran.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// Samples per second of CPU time the capture asked for.
    pub fn frequency(&self) -> u32 {
        self.frequency
    }

    /// The stacks in folded form, one `root;caller;callee count` line per distinct stack,
    /// sorted: the input of inferno, Brendan Gregg's `flamegraph.pl` and speedscope.
    pub fn folded(&self) -> String {
        self.folded_lines(false).join("\n") + "\n"
    }

    /// Folded lines, optionally with the thread's name as the root frame. Stacks that fold
    /// to the same text (the same frames on threads the line does not tell apart) are one
    /// line: the stacks are sorted, so they are adjacent.
    pub(crate) fn folded_lines(&self, thread_roots: bool) -> Vec<String> {
        let mut lines: Vec<(String, u64)> = Vec::new();
        for stack in self.stacks.iter().filter(|s| s.samples > 0) {
            let mut line = String::new();
            if thread_roots {
                line.push_str(&sanitize(&stack.thread));
                line.push(';');
            }
            for (i, frame) in stack.frames.iter().enumerate() {
                if i > 0 {
                    line.push(';');
                }
                line.push_str(&sanitize(frame));
            }
            match lines.last_mut() {
                Some((last, samples)) if *last == line => *samples += stack.samples,
                _ => lines.push((line, stack.samples)),
            }
        }
        lines
            .into_iter()
            .map(|(mut line, samples)| {
                let _ = write!(line, " {samples}");
                line
            })
            .collect()
    }
}

/// Frame names must not contain the folded format's separators (`;` between frames, a
/// trailing space before the count, newlines between stacks).
fn sanitize(frame: &str) -> std::borrow::Cow<'_, str> {
    if frame.contains([';', '\n']) {
        frame.replace([';', '\n'], ":").into()
    } else {
        frame.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_text_round_trips_and_bad_lines_are_named() {
        let text = "main;hash 1\nmain;parse 3\n";
        let profile = CpuProfile::from_folded(text, Duration::from_secs(1), 99).unwrap();
        assert_eq!(profile.folded(), text);
        let err = CpuProfile::from_folded("main;parse 3\nmain;parse\n", Duration::ZERO, 99)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn separators_inside_names_do_not_split_frames() {
        let profile = CpuProfile::new(
            vec![Stack {
                thread: "worker;1".into(),
                thread_id: 1,
                frames: vec!["a;b".into(), "c".into()],
                samples: 2,
            }],
            Duration::from_secs(1),
            99,
            SystemTime::now(),
        );
        assert_eq!(profile.folded_lines(true), ["worker:1;a:b;c 2"]);
    }
}
