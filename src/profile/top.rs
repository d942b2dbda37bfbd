//! [`CpuProfile::top`]: the functions with the most samples, the flame graph's reading rule
//! ("the widest frame at the top is where the time goes") as data.

use std::collections::{HashMap, HashSet};

use super::CpuProfile;

/// One row of [`CpuProfile::top`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TopEntry {
    /// The demangled function name.
    pub function: String,
    /// Samples in which this function itself was running (the top of the stack).
    pub self_samples: u64,
    /// Samples in which this function was anywhere on the stack (running or waiting for a
    /// callee).
    pub total_samples: u64,
    /// `self_samples` as a percentage of all samples.
    pub self_percent: f64,
    /// `total_samples` as a percentage of all samples.
    pub total_percent: f64,
}

impl CpuProfile {
    /// The `n` functions with the most self samples (ties broken by total samples, then name).
    ///
    /// ```
    /// use std::time::Duration;
    /// use stethoscope::profile::CpuProfile;
    ///
    /// let folded = "main;handle;json_parse 7\nmain;handle;hash 2\nmain 1\n";
    /// let profile = CpuProfile::from_folded(folded, Duration::from_secs(1), 99)?;
    /// let top = profile.top(2);
    /// assert_eq!(top[0].function, "json_parse");
    /// assert_eq!(top[0].self_percent, 70.0);
    /// assert_eq!(top[1].function, "hash");
    /// # Ok::<(), stethoscope::Error>(())
    /// ```
    pub fn top(&self, n: usize) -> Vec<TopEntry> {
        let mut counts: HashMap<&str, (u64, u64)> = HashMap::new();
        let mut seen = HashSet::new();
        for stack in &self.stacks {
            if let Some(leaf) = stack.frames.last() {
                counts.entry(leaf).or_default().0 += stack.samples;
            }
            // A recursive function is on the stack once per sample, however deep.
            seen.clear();
            for frame in &stack.frames {
                if seen.insert(frame.as_str()) {
                    counts.entry(frame).or_default().1 += stack.samples;
                }
            }
        }
        let all = self.sample_count().max(1) as f64;
        let mut rows: Vec<TopEntry> = counts
            .into_iter()
            .map(|(function, (self_samples, total_samples))| TopEntry {
                function: function.to_owned(),
                self_samples,
                total_samples,
                self_percent: self_samples as f64 * 100.0 / all,
                total_percent: total_samples as f64 * 100.0 / all,
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.self_samples, b.total_samples)
                .cmp(&(a.self_samples, a.total_samples))
                .then_with(|| a.function.cmp(&b.function))
        });
        rows.truncate(n);
        rows
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn recursion_counts_once_towards_total() {
        let profile =
            CpuProfile::from_folded("main;walk;walk;walk 4\n", Duration::from_secs(1), 99).unwrap();
        let walk = profile
            .top(5)
            .into_iter()
            .find(|r| r.function == "walk")
            .unwrap();
        assert_eq!((walk.self_samples, walk.total_samples), (4, 4));
        assert_eq!(walk.total_percent, 100.0);
    }

    #[test]
    fn an_empty_profile_has_an_empty_table() {
        let profile = CpuProfile::from_folded("", Duration::from_secs(1), 99).unwrap();
        assert!(profile.top(3).is_empty());
    }
}
