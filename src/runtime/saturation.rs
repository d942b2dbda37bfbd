//! [`SaturationWatch`]: the runtime's busy ratio averaged over a recent window, fed by the
//! runtime sampler and read by the `/readyz` rule.
//!
//! An average rather than "every sample above": tokio accounts busy time when a worker ends a
//! batch of polls, so on a loaded machine consecutive short intervals of a saturated runtime
//! read 1.0, 0.0, 1.0, …; their average is what the runtime really did.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One interval: when it ended, its busy ratio, how long it was.
type Interval = (Instant, f64, Duration);

/// Samples kept at most, whatever the window (a 1 ms interval over an hour would be 3.6 M).
const MAX_SAMPLES: usize = 4096;

/// The runtime's busy ratio over the last `window`.
#[derive(Debug)]
pub(crate) struct SaturationWatch {
    window: Duration,
    samples: Mutex<VecDeque<Interval>>,
}

impl SaturationWatch {
    pub(crate) fn new(window: Duration) -> Self {
        SaturationWatch {
            window,
            samples: Mutex::default(),
        }
    }

    /// One interval of `elapsed` that just ended with `busy_ratio`.
    pub(crate) fn observe(&self, busy_ratio: f64, elapsed: Duration) {
        self.observe_at(Instant::now(), busy_ratio, elapsed);
    }

    fn observe_at(&self, now: Instant, busy_ratio: f64, elapsed: Duration) {
        let mut samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        samples.push_back((now, busy_ratio, elapsed));
        while samples.len() > MAX_SAMPLES
            || samples
                .front()
                .is_some_and(|(end, ..)| now.duration_since(*end) > self.window)
        {
            samples.pop_front();
        }
    }

    /// The time-weighted average busy ratio over the window, once samples cover (nearly all
    /// of) it; `None` before that.
    pub(crate) fn average(&self) -> Option<f64> {
        let samples = self.samples.lock().unwrap_or_else(|p| p.into_inner());
        let (first_end, _, first_len) = *samples.front()?;
        let (last_end, ..) = *samples.back()?;
        let covered = last_end.duration_since(first_end) + first_len;
        // 90 %: sample intervals drift a little around the nominal one.
        if covered < self.window.mul_f64(0.9) {
            return None;
        }
        let total: f64 = samples.iter().map(|(_, _, d)| d.as_secs_f64()).sum();
        let busy: f64 = samples.iter().map(|(_, r, d)| r * d.as_secs_f64()).sum();
        (total > 0.0).then(|| busy / total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternating_samples_average_out_once_the_window_is_covered() {
        let watch = SaturationWatch::new(Duration::from_millis(400));
        watch.observe(1.0, Duration::from_millis(100));
        assert_eq!(
            watch.average(),
            None,
            "one sample does not cover the window"
        );
        let watch = SaturationWatch::new(Duration::from_millis(100));
        let start = Instant::now();
        watch.observe_at(start, 1.0, Duration::from_millis(50));
        watch.observe_at(
            start + Duration::from_millis(50),
            0.0,
            Duration::from_millis(50),
        );
        let avg = watch.average().unwrap();
        assert!((avg - 0.5).abs() < 1e-9, "{avg}");
    }
}
