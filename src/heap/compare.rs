//! [`compare`]: the "Comparison" view of two heap snapshots: which types grew.

use std::collections::BTreeMap;
use std::fmt;

use super::snapshot::HeapSnapshot;
use super::units::{signed, signed_bytes, thousands};

/// One type's change between two snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComparisonRow {
    /// The type's name.
    pub type_name: String,
    /// Live instances in the first snapshot.
    pub before: u64,
    /// Live instances in the second snapshot.
    pub after: u64,
    /// `after - before`.
    pub delta: i64,
    /// Live bytes in the first snapshot.
    pub bytes_before: u64,
    /// Live bytes in the second snapshot.
    pub bytes_after: u64,
    /// `bytes_after - bytes_before`.
    pub bytes_delta: i64,
}

/// Two snapshots side by side, the type that grew most first. `Display` prints the table:
///
/// ```text
/// type                    before     after     delta  bytes delta
/// app::bus::Listener          42   183,492  +183,450   +11.2 MiB
/// app::cache::Entry        1,000     1,000         0          0 B
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// One row per type in either snapshot, by `delta` (then `bytes_delta`) descending.
    pub rows: Vec<ComparisonRow>,
    /// Change in the allocator's live bytes, when both snapshots have allocator totals.
    pub live_bytes_delta: Option<i64>,
}

impl Comparison {
    /// The type that grew most, if any grew.
    pub fn top_grower(&self) -> Option<&ComparisonRow> {
        self.rows
            .first()
            .filter(|r| r.delta > 0 || r.bytes_delta > 0)
    }
}

/// Compares two snapshots: for each type, instances before, after and the delta, sorted so
/// the type that grew most is first. A leak is the type at the top whose count keeps growing
/// across successive comparisons.
///
/// ```
/// use stethoscope::heap::{self, Tracked};
///
/// struct EventEmitter;
/// let before = heap::snapshot();
/// let leaked: Vec<_> = (0..100).map(|_| Tracked::new(EventEmitter)).collect();
/// let comparison = heap::compare(&before, &heap::snapshot());
/// assert!(comparison.rows[0].type_name.ends_with("EventEmitter"));
/// assert_eq!((comparison.rows[0].before, comparison.rows[0].after), (0, 100));
/// println!("{comparison}");
/// # drop(leaked);
/// ```
pub fn compare(before: &HeapSnapshot, after: &HeapSnapshot) -> Comparison {
    let mut merged: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for t in &before.types {
        let row = merged.entry(&t.type_name).or_default();
        row[0] += t.count;
        row[2] += t.bytes;
    }
    for t in &after.types {
        let row = merged.entry(&t.type_name).or_default();
        row[1] += t.count;
        row[3] += t.bytes;
    }
    let delta = |a: u64, b: u64| (i128::from(b) - i128::from(a)).clamp(-(1 << 62), 1 << 62) as i64;
    let mut rows: Vec<ComparisonRow> = merged
        .into_iter()
        .map(
            |(name, [before, after, bytes_before, bytes_after])| ComparisonRow {
                type_name: name.to_owned(),
                before,
                after,
                delta: delta(before, after),
                bytes_before,
                bytes_after,
                bytes_delta: delta(bytes_before, bytes_after),
            },
        )
        .collect();
    // Stable sort over name-ordered rows: ties stay alphabetical.
    rows.sort_by(|a, b| {
        b.delta
            .cmp(&a.delta)
            .then(b.bytes_delta.cmp(&a.bytes_delta))
    });
    let live_bytes_delta = match (&before.alloc, &after.alloc) {
        (Some(a), Some(b)) => Some(delta(a.live_bytes, b.live_bytes)),
        _ => None,
    };
    Comparison {
        rows,
        live_bytes_delta,
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| r.type_name.len())
            .max()
            .unwrap_or(0)
            .max("type".len());
        writeln!(
            f,
            "{:<width$}  {:>12}  {:>12}  {:>12}  {:>12}",
            "type", "before", "after", "delta", "bytes delta"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<width$}  {:>12}  {:>12}  {:>12}  {:>12}",
                r.type_name,
                thousands(i128::from(r.before)),
                thousands(i128::from(r.after)),
                signed(i128::from(r.delta)),
                signed_bytes(i128::from(r.bytes_delta)),
            )?;
        }
        if let Some(delta) = self.live_bytes_delta {
            writeln!(f, "\nheap live bytes: {}", signed_bytes(i128::from(delta)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::heap::TypeCount;

    fn snapshot(rows: &[(&str, u64, u64)]) -> HeapSnapshot {
        HeapSnapshot {
            taken_at: SystemTime::now(),
            types: rows
                .iter()
                .map(|&(name, count, bytes)| TypeCount {
                    type_name: name.to_owned(),
                    count,
                    bytes,
                })
                .collect(),
            alloc: None,
        }
    }

    #[test]
    fn the_type_that_grew_most_is_first_and_the_table_reads_like_the_seed() {
        let before = snapshot(&[("EventEmitter", 42, 42 * 64), ("Block", 10, 100)]);
        let after = snapshot(&[
            ("EventEmitter", 183_492, 183_492 * 64),
            ("Block", 5, 50),
            ("Peer", 3, 30),
        ]);
        let c = compare(&before, &after);
        let names: Vec<&str> = c.rows.iter().map(|r| r.type_name.as_str()).collect();
        assert_eq!(names, ["EventEmitter", "Peer", "Block"]);
        assert_eq!(c.rows[0].delta, 183_450);
        assert_eq!(c.rows[2].delta, -5);
        assert_eq!(c.top_grower().unwrap().type_name, "EventEmitter");
        let table = c.to_string();
        let line = table.lines().nth(1).unwrap();
        assert!(line.starts_with("EventEmitter"), "{table}");
        assert!(line.contains("42") && line.contains("183,492") && line.contains("+183,450"));
        assert!(line.contains("+11.2 MiB"), "{table}");
    }

    #[test]
    fn nothing_grew_means_no_top_grower() {
        let same = snapshot(&[("A", 1, 8)]);
        assert!(compare(&same, &same).top_grower().is_none());
    }
}
