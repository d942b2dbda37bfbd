//! [`SaturationWatch`]: how long the runtime's busy ratio has stayed above a threshold, fed by
//! the runtime sampler and read by the `/readyz` rule.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct Spell {
    /// When the current run of samples above the threshold began.
    above_since: Option<Instant>,
    last_ratio: f64,
}

/// Tracks the current spell of samples above `threshold`.
#[derive(Debug)]
pub(crate) struct SaturationWatch {
    pub(crate) threshold: f64,
    spell: Mutex<Spell>,
}

impl SaturationWatch {
    pub(crate) fn new(threshold: f64) -> Self {
        SaturationWatch {
            threshold,
            spell: Mutex::default(),
        }
    }

    /// One sample, taken now.
    pub(crate) fn observe(&self, busy_ratio: f64) {
        let mut spell = self.spell.lock().unwrap_or_else(|p| p.into_inner());
        spell.last_ratio = busy_ratio;
        if busy_ratio > self.threshold {
            spell.above_since.get_or_insert_with(Instant::now);
        } else {
            spell.above_since = None;
        }
    }

    /// How long every sample has been above the threshold, and the last ratio; `None` when
    /// the last sample was not above it.
    pub(crate) fn above_for(&self) -> Option<(Duration, f64)> {
        let spell = self.spell.lock().unwrap_or_else(|p| p.into_inner());
        spell
            .above_since
            .map(|since| (since.elapsed(), spell.last_ratio))
    }
}
