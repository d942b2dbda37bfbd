//! [`CardinalityLimiter`]: a `metrics::Recorder` wrapper that caps the label sets per metric name,
//! so a label fed from user input (a user id, a URL path) cannot grow memory without bound.
//!
//! Past the cap, a new label set is folded into one series of the same metric whose label values
//! are all `other`; `stethoscope_metric_cardinality_overflow_total{metric="<name>"}` counts the
//! folded registrations and one warning is logged per metric.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::RwLock;

use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder, SharedString, Unit,
};

use super::names::METRIC_CARDINALITY_OVERFLOW_TOTAL;

/// The label value every label of an overflowing series gets.
pub(crate) const OVERFLOW_LABEL_VALUE: &str = "other";

/// Default cap of label sets per metric name.
pub const DEFAULT_MAX_LABEL_SETS: usize = 1_000;

/// `Key`'s `Hash` writes its precomputed hash (computed in a `const fn` for static keys);
/// hashing that again would waste the hot path, so the set uses an identity hasher. The hash
/// alone is not an identity (label sets like `user="1"` and `user="11"` can collide), so the set
/// holds the keys themselves, bounded by the cap.
#[derive(Default)]
struct IdentityHasher(u64);

impl std::hash::Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; fold anything else so the hasher stays total.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type Keys = HashSet<Key, BuildHasherDefault<IdentityHasher>>;

/// Per metric name: how many label sets were admitted, and whether the cap was hit.
#[derive(Default)]
struct Series {
    admitted: usize,
    /// Set once the cap was hit: the warning has been logged.
    overflowed: bool,
}

#[derive(Default)]
struct Admitted {
    /// Every admitted labelled key (at most the cap per name): the hot path is one lookup here.
    keys: Keys,
    /// Consulted only for a key not seen before.
    series: HashMap<String, Series>,
}

/// Wraps a recorder, admitting at most `max_label_sets` label sets per metric name.
pub(crate) struct CardinalityLimiter<R> {
    inner: R,
    max_label_sets: usize,
    admitted: RwLock<Admitted>,
}

enum Admission {
    Admitted,
    Folded { first: bool },
}

impl<R: Recorder> CardinalityLimiter<R> {
    pub(crate) fn new(inner: R, max_label_sets: usize) -> Self {
        CardinalityLimiter {
            inner,
            max_label_sets,
            admitted: RwLock::default(),
        }
    }

    /// Returns the key to register: `key` itself while under the cap, else its `other` series.
    fn admit(&self, key: &Key) -> Option<Key> {
        // One series per unlabelled name: nothing to cap, and the common case stays lock-free.
        if key.labels().len() == 0 {
            return None;
        }
        let name = key.name();
        let read = self.admitted.read().unwrap_or_else(|e| e.into_inner());
        if read.keys.contains(key) {
            return None;
        }
        drop(read);
        let admission = {
            let mut admitted = self.admitted.write().unwrap_or_else(|e| e.into_inner());
            let Admitted { keys, series } = &mut *admitted;
            let s = series.entry(name.to_owned()).or_default();
            if keys.contains(key) {
                Admission::Admitted
            } else if s.admitted < self.max_label_sets {
                s.admitted += 1;
                keys.insert(key.clone());
                Admission::Admitted
            } else {
                let first = !s.overflowed;
                s.overflowed = true;
                Admission::Folded { first }
            }
        };
        match admission {
            Admission::Admitted => None,
            Admission::Folded { first } => {
                if first {
                    tracing::warn!(
                        target: "stethoscope",
                        metric = name,
                        max_label_sets = self.max_label_sets,
                        "metric exceeded its label-set cap: new label sets are recorded under label values \"other\"; \
                         remove unbounded values (ids, paths) from its labels or raise the cap with \
                         Builder::with_metric_label_set_limit"
                    );
                }
                let overflow_labels = [Label::new("metric", name.to_owned())];
                let overflow_key =
                    Key::from_parts(METRIC_CARDINALITY_OVERFLOW_TOTAL, overflow_labels.to_vec());
                self.inner
                    .register_counter(&overflow_key, &overflow_metadata())
                    .increment(1);
                let labels: Vec<Label> = key
                    .labels()
                    .map(|l| Label::new(l.key().to_owned(), OVERFLOW_LABEL_VALUE))
                    .collect();
                Some(Key::from_parts(name.to_owned(), labels))
            }
        }
    }
}

fn overflow_metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()))
}

impl<R: Recorder> Recorder for CardinalityLimiter<R> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        match self.admit(key) {
            None => self.inner.register_counter(key, metadata),
            Some(folded) => self.inner.register_counter(&folded, metadata),
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        match self.admit(key) {
            None => self.inner.register_gauge(key, metadata),
            Some(folded) => self.inner.register_gauge(&folded, metadata),
        }
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        match self.admit(key) {
            None => self.inner.register_histogram(key, metadata),
            Some(folded) => self.inner.register_histogram(&folded, metadata),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::prometheus::build_recorder;

    #[test]
    fn label_sets_past_the_cap_fold_into_other_and_are_counted() {
        let (prom, exposition) = build_recorder(&[]).unwrap();
        let limiter = CardinalityLimiter::new(prom, 3);
        metrics::with_local_recorder(&limiter, || {
            for user in 0..10 {
                metrics::counter!("logins_total", "user" => user.to_string(), "region" => "eu")
                    .increment(1);
            }
            metrics::counter!("logins_total", "user" => "0", "region" => "eu").increment(1);
            metrics::counter!("unlabelled_total").increment(1);
        });
        let text = exposition.render();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("logins_total{"))
            .collect();
        assert_eq!(series.len(), 4, "{text}");
        assert!(
            text.contains(r#"logins_total{user="other",region="other"} 7"#),
            "{text}"
        );
        assert!(
            text.contains(r#"logins_total{user="0",region="eu"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"stethoscope_metric_cardinality_overflow_total{metric="logins_total"} 7"#
            ),
            "{text}"
        );
        assert!(text.contains("unlabelled_total 1"), "{text}");
    }
}
