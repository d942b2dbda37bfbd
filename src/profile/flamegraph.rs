//! Flame graph SVGs via inferno: one profile ([`CpuProfile::flamegraph`]) or the difference
//! between two ([`diff`]).

use inferno::flamegraph::{self, Direction, Options};

use super::CpuProfile;
use crate::error::Error;

/// How [`CpuProfile::flamegraph`] draws.
///
/// ```
/// use stethoscope::profile::FlameGraphOptions;
///
/// let options = FlameGraphOptions::default().title("checkout service").icicle(true);
/// # drop(options);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct FlameGraphOptions {
    /// The heading; the subtitle always says samples, duration and frequency.
    pub title: String,
    /// Roots at the top and stacks growing down ("icicle"), which keeps the widest leaf
    /// frames near the top of the page.
    pub icicle: bool,
    /// Puts each thread's name at the root of its stacks, so runtime workers, the blocking
    /// pool and other threads show as separate towers.
    pub thread_roots: bool,
}

impl Default for FlameGraphOptions {
    fn default() -> Self {
        FlameGraphOptions {
            title: "CPU flame graph".to_owned(),
            icicle: false,
            thread_roots: false,
        }
    }
}

impl FlameGraphOptions {
    /// Sets [`title`](Self::title).
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets [`icicle`](Self::icicle).
    #[must_use]
    pub fn icicle(mut self, icicle: bool) -> Self {
        self.icicle = icicle;
        self
    }

    /// Sets [`thread_roots`](Self::thread_roots).
    #[must_use]
    pub fn thread_roots(mut self, thread_roots: bool) -> Self {
        self.thread_roots = thread_roots;
        self
    }
}

impl CpuProfile {
    /// Renders an interactive flame graph SVG (click to zoom, Ctrl-F to search): each box is a
    /// function, its width the share of samples in which it was on the stack.
    ///
    /// ```
    /// use std::time::Duration;
    /// use stethoscope::profile::{CpuProfile, FlameGraphOptions};
    ///
    /// let profile = CpuProfile::from_folded("main;json_parse 7\nmain;hash 3\n", Duration::from_secs(1), 99)?;
    /// let svg = String::from_utf8(profile.flamegraph(&FlameGraphOptions::default())?).unwrap();
    /// assert!(svg.contains("json_parse"));
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] if inferno rejects the stacks (not expected for captured profiles).
    pub fn flamegraph(&self, options: &FlameGraphOptions) -> Result<Vec<u8>, Error> {
        self.flamegraph_sized(options, None)
    }

    /// [`flamegraph`](Self::flamegraph), `width` pixels wide when given: a fixed-width SVG
    /// has a `viewBox` and scales with CSS, where the default fluid one resizes itself by
    /// script to its window (the doctor's HTML report embeds the fixed kind).
    pub(crate) fn flamegraph_sized(
        &self,
        options: &FlameGraphOptions,
        width: Option<usize>,
    ) -> Result<Vec<u8>, Error> {
        let mut opts = Options::default();
        opts.image_width = width;
        opts.title = options.title.clone();
        opts.subtitle = Some(format!(
            "{} samples in {:.1?} at {} Hz",
            self.sample_count(),
            self.duration,
            self.frequency
        ));
        opts.count_name = "samples".to_owned();
        if options.icicle {
            opts.direction = Direction::Inverted;
        }
        let lines = self.folded_lines(options.thread_roots);
        render(&mut opts, &lines)
    }
}

/// Draws `after` coloured by how each function changed since `before`: red grew, blue shrank,
/// widths are `after`'s (inferno's differential flame graph, `difffolded.pl`). Sample counts
/// are normalized first, so profiles of different lengths compare fairly.
///
/// ```
/// use std::time::Duration;
/// use stethoscope::profile::{self, CpuProfile};
///
/// let second = Duration::from_secs(1);
/// let before = CpuProfile::from_folded("main;json_parse 72\nmain;hash 28\n", second, 99)?;
/// let after = CpuProfile::from_folded("main;json_parse 12\nmain;hash 88\n", second, 99)?;
/// let svg = String::from_utf8(profile::diff(&before, &after)?).unwrap();
/// assert!(svg.contains("json_parse"));
/// # Ok::<(), stethoscope::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] if inferno rejects the stacks (not expected for captured profiles).
pub fn diff(before: &CpuProfile, after: &CpuProfile) -> Result<Vec<u8>, Error> {
    let before_text = before.folded_lines(false).join("\n");
    let after_text = after.folded_lines(false).join("\n");
    let mut merged = Vec::new();
    let diff_options = inferno::differential::Options {
        normalize: true,
        ..Default::default()
    };
    inferno::differential::from_readers(
        diff_options,
        before_text.as_bytes(),
        after_text.as_bytes(),
        &mut merged,
    )
    .map_err(|e| Error::io("merging two profiles for a differential flame graph", e))?;
    let merged = String::from_utf8_lossy(&merged);
    let lines: Vec<String> = merged.lines().map(str::to_owned).collect();
    let mut opts = Options::default();
    opts.title = "Differential CPU flame graph".to_owned();
    opts.subtitle = Some(format!(
        "before: {} samples in {:.1?}; after: {} samples in {:.1?}; red grew, blue shrank",
        before.sample_count(),
        before.duration,
        after.sample_count(),
        after.duration
    ));
    opts.count_name = "samples".to_owned();
    render(&mut opts, &lines)
}

/// Renders folded `lines` with `opts`; shared with the memory pillar's heap flame graphs.
pub(crate) fn render(opts: &mut Options<'_>, lines: &[String]) -> Result<Vec<u8>, Error> {
    let mut svg = Vec::new();
    let result = flamegraph::from_lines(opts, lines.iter().map(String::as_str), &mut svg);
    match result {
        Ok(()) => Ok(svg),
        // With no samples (an idle process) inferno still writes a valid SVG that says so;
        // that is the right answer, not an error.
        Err(_) if lines.is_empty() && !svg.is_empty() => Ok(svg),
        Err(e) => Err(Error::io("rendering a flame graph", e)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_empty_profile_renders_an_svg_that_says_so() {
        let profile = CpuProfile::from_folded("", Duration::from_secs(1), 99).unwrap();
        let svg =
            String::from_utf8(profile.flamegraph(&FlameGraphOptions::default()).unwrap()).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
    }

    #[test]
    fn the_subtitle_states_samples_duration_and_frequency() {
        let profile =
            CpuProfile::from_folded("main;work 5\n", Duration::from_millis(1500), 250).unwrap();
        let svg =
            String::from_utf8(profile.flamegraph(&FlameGraphOptions::default()).unwrap()).unwrap();
        assert!(svg.contains("5 samples in 1.5s at 250 Hz"), "{svg}");
    }
}
