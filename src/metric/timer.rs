//! [`Timer`]: records how long a scope took into a histogram, like prom-client's `startTimer()`.

use std::time::Instant;

use metrics::Histogram;

/// Starts timing; the elapsed seconds are recorded into `histogram` when the returned
/// [`Timer`] is dropped (or [`Timer::observe_duration`] is called).
///
/// The timer is a plain value, so it keeps measuring across `.await` points:
///
/// ```
/// use stethoscope::metric::start_timer;
///
/// async fn process_transaction() {
///     let _timer = start_timer(stethoscope::metrics::histogram!(
///         "transaction_processing_duration_seconds"
///     ));
///     // ... work, including .await ...
/// } // elapsed seconds recorded here
/// # drop(process_transaction());
/// ```
pub fn start_timer(histogram: Histogram) -> Timer {
    Timer {
        histogram,
        start: Instant::now(),
        recorded: false,
    }
}

/// Records the seconds since [`start_timer`] into its histogram when dropped.
#[derive(Debug)]
#[must_use = "the timer records when dropped; bind it: `let _timer = start_timer(..);`"]
pub struct Timer {
    histogram: Histogram,
    start: Instant,
    recorded: bool,
}

impl Timer {
    /// Records now instead of at drop and returns the seconds recorded.
    pub fn observe_duration(mut self) -> f64 {
        self.record()
    }

    /// Drops the timer without recording anything, e.g. when the operation was cancelled.
    pub fn discard(mut self) {
        self.recorded = true;
    }

    fn record(&mut self) -> f64 {
        let seconds = self.start.elapsed().as_secs_f64();
        if !self.recorded {
            self.recorded = true;
            self.histogram.record(seconds);
        }
        seconds
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        if !self.recorded {
            self.record();
        }
    }
}
