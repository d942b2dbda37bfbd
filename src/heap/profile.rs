//! [`HeapProfile`]: live heap bytes by call stack, from jemalloc's sampling profiler
//! (feature `jemalloc`), rendered as pprof, folded stacks or a flame graph, and [`diff`]ed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::SystemTime;

use crate::error::Error;

/// One call stack and the live bytes allocated from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapStack {
    /// Function names, outermost (root) first, the allocating function last.
    pub frames: Vec<String>,
    /// Live bytes allocated from this stack (estimated from jemalloc's samples).
    pub bytes: u64,
}

/// The live heap by call stack at one moment: jemalloc's heap profile, symbolized in process.
///
/// Capture with [`HeapProfile::capture`]; needs the `jemalloc` feature, jemalloc as the global
/// allocator and its profiler turned on (see [`heap`](super) for the three lines). Render with
/// [`pprof_gz`](Self::pprof_gz) (`go tool pprof`), [`folded`](Self::folded) or
/// [`flamegraph`](Self::flamegraph); see what grew with [`diff`] and [`growth`].
#[derive(Clone)]
pub struct HeapProfile {
    /// Distinct stacks, sorted by frames.
    pub(crate) stacks: Vec<HeapStack>,
    /// The gzip'd pprof jemalloc_pprof produced (addresses, mappings and symbols).
    pub(crate) pprof_gz: Vec<u8>,
    pub(crate) taken_at: SystemTime,
}

// By hand: the pprof bytes would fill a screen.
impl std::fmt::Debug for HeapProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapProfile")
            .field("stacks", &self.stacks.len())
            .field("total_bytes", &self.total_bytes())
            .field("pprof_gz_bytes", &self.pprof_gz.len())
            .field("taken_at", &self.taken_at)
            .finish()
    }
}

impl HeapProfile {
    /// Builds a profile from stacks, merging identical ones; `pprof_gz` is the encoded form.
    #[cfg_attr(not(feature = "jemalloc"), allow(dead_code))]
    pub(crate) fn new(stacks: impl IntoIterator<Item = HeapStack>, pprof_gz: Vec<u8>) -> Self {
        let mut merged: BTreeMap<Vec<String>, u64> = BTreeMap::new();
        for stack in stacks {
            *merged.entry(stack.frames).or_default() += stack.bytes;
        }
        HeapProfile {
            stacks: merged
                .into_iter()
                .map(|(frames, bytes)| HeapStack { frames, bytes })
                .collect(),
            pprof_gz,
            taken_at: SystemTime::now(),
        }
    }

    /// Dumps and symbolizes jemalloc's heap profile of the live allocations. Takes tens to
    /// hundreds of milliseconds (symbolization); call it off the application's hot threads.
    ///
    /// ```no_run
    /// let profile = stethoscope::heap::HeapProfile::capture()?;
    /// std::fs::write("heap.pb.gz", profile.pprof_gz())?; // go tool pprof heap.pb.gz
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::HeapProfilingUnavailable`], saying how to turn it on, when the `jemalloc`
    /// feature is off or jemalloc's profiler is not active; [`Error::HeapProfiling`] when the
    /// dump fails.
    pub fn capture() -> Result<HeapProfile, Error> {
        #[cfg(feature = "jemalloc")]
        {
            super::jemalloc::capture()
        }
        #[cfg(not(feature = "jemalloc"))]
        {
            Err(Error::HeapProfilingUnavailable {
                reason: "stethoscope was built without its `jemalloc` feature",
            })
        }
    }

    /// Whether [`capture`](Self::capture) can work: the feature is on and jemalloc's profiler
    /// is active in this process.
    pub fn is_available() -> bool {
        #[cfg(feature = "jemalloc")]
        {
            super::jemalloc::is_active()
        }
        #[cfg(not(feature = "jemalloc"))]
        {
            false
        }
    }

    /// The stacks, sorted by frames.
    pub fn stacks(&self) -> &[HeapStack] {
        &self.stacks
    }

    /// Live bytes in all stacks.
    pub fn total_bytes(&self) -> u64 {
        self.stacks.iter().map(|s| s.bytes).sum()
    }

    /// When it was captured.
    pub fn taken_at(&self) -> SystemTime {
        self.taken_at
    }

    /// The gzip'd pprof protobuf (`inuse_space/bytes`), for `go tool pprof`, Pyroscope or
    /// Grafana; it carries addresses and mappings as well as names.
    pub fn pprof_gz(&self) -> &[u8] {
        &self.pprof_gz
    }

    /// Folded stacks, `root;caller;allocator bytes` per line.
    pub fn folded(&self) -> String {
        let mut out = String::new();
        for line in self.folded_lines() {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    fn folded_lines(&self) -> Vec<String> {
        self.stacks
            .iter()
            .filter(|s| s.bytes > 0)
            .map(|s| {
                let mut line = s
                    .frames
                    .iter()
                    .map(|f| f.replace([';', '\n'], ":"))
                    .collect::<Vec<_>>()
                    .join(";");
                let _ = write!(line, " {}", s.bytes);
                line
            })
            .collect()
    }

    /// A flame graph SVG of live bytes: each box is a function, its width the bytes allocated
    /// under it and still live.
    ///
    /// # Errors
    /// [`Error::Io`] if inferno rejects the stacks (not expected).
    pub fn flamegraph(&self) -> Result<Vec<u8>, Error> {
        let mut opts = inferno::flamegraph::Options::default();
        opts.title = "Heap flame graph: live bytes".to_owned();
        opts.subtitle = Some(format!(
            "{} live in {} stacks (jemalloc samples)",
            super::units::bytes(i128::from(self.total_bytes())),
            self.stacks.len()
        ));
        opts.count_name = "bytes".to_owned();
        crate::profile::render_flamegraph(&mut opts, &self.folded_lines())
    }
}

/// Draws `after` coloured by how each call stack's live bytes changed since `before`: red
/// grew, blue shrank (inferno's differential flame graph, not normalized, because absolute
/// growth is the point). The widest red tower is where the leak allocates.
///
/// # Errors
/// [`Error::Io`] if inferno rejects the stacks (not expected).
pub fn diff(before: &HeapProfile, after: &HeapProfile) -> Result<Vec<u8>, Error> {
    let before_text = before.folded();
    let after_text = after.folded();
    let mut merged = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        before_text.as_bytes(),
        after_text.as_bytes(),
        &mut merged,
    )
    .map_err(|e| {
        Error::io(
            "merging two heap profiles for a differential flame graph",
            e,
        )
    })?;
    let lines: Vec<String> = String::from_utf8_lossy(&merged)
        .lines()
        .map(str::to_owned)
        .collect();
    let mut opts = inferno::flamegraph::Options::default();
    opts.title = "Differential heap flame graph".to_owned();
    opts.subtitle = Some(format!(
        "live bytes {} → {} ({}); red grew, blue shrank",
        super::units::bytes(i128::from(before.total_bytes())),
        super::units::bytes(i128::from(after.total_bytes())),
        super::units::signed_bytes(
            i128::from(after.total_bytes()) - i128::from(before.total_bytes())
        ),
    ));
    opts.count_name = "bytes".to_owned();
    crate::profile::render_flamegraph(&mut opts, &lines)
}

/// How one call stack's live bytes changed between two profiles.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackGrowth {
    /// Function names, root first.
    pub frames: Vec<String>,
    /// Live bytes in the first profile.
    pub bytes_before: u64,
    /// Live bytes in the second profile.
    pub bytes_after: u64,
    /// `bytes_after - bytes_before`.
    pub delta: i64,
}

/// The call stacks whose live bytes changed between two profiles, the one that grew most
/// first: the text form of [`diff`], and what names the leaking call site.
pub fn growth(before: &HeapProfile, after: &HeapProfile) -> Vec<StackGrowth> {
    let mut merged: BTreeMap<&[String], (u64, u64)> = BTreeMap::new();
    for s in &before.stacks {
        merged.entry(&s.frames).or_default().0 += s.bytes;
    }
    for s in &after.stacks {
        merged.entry(&s.frames).or_default().1 += s.bytes;
    }
    let mut rows: Vec<StackGrowth> = merged
        .into_iter()
        .filter(|(_, (b, a))| a != b)
        .map(|(frames, (bytes_before, bytes_after))| StackGrowth {
            frames: frames.to_vec(),
            bytes_before,
            bytes_after,
            delta: (i128::from(bytes_after) - i128::from(bytes_before)) as i64,
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.delta));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(stacks: &[(&str, u64)]) -> HeapProfile {
        HeapProfile::new(
            stacks.iter().map(|&(s, bytes)| HeapStack {
                frames: s.split(';').map(str::to_owned).collect(),
                bytes,
            }),
            Vec::new(),
        )
    }

    #[test]
    fn growth_puts_the_leaking_stack_first_and_diff_draws_it() {
        let before = profile(&[("main;cache::insert", 1_000), ("main;bus::subscribe", 100)]);
        let after = profile(&[
            ("main;cache::insert", 1_000),
            ("main;bus::subscribe", 90_000),
            ("main;bus::subscribe", 10_000),
        ]);
        let rows = growth(&before, &after);
        assert_eq!(rows.len(), 1, "unchanged stacks are left out");
        assert_eq!(rows[0].frames, ["main", "bus::subscribe"]);
        assert_eq!(rows[0].delta, 99_900);
        let svg = String::from_utf8(diff(&before, &after).unwrap()).unwrap();
        assert!(svg.contains("bus::subscribe"), "{svg}");
        let svg = String::from_utf8(after.flamegraph().unwrap()).unwrap();
        assert!(svg.contains("cache::insert"));
        assert_eq!(
            after.folded(),
            "main;bus::subscribe 100000\nmain;cache::insert 1000\n"
        );
    }
}
