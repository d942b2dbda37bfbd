//! [`snapshot`]: the live instances and bytes of every tracked type right now, plus the
//! allocator's totals.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use super::live::registry;
use super::units::{bytes, thousands};
use crate::alloc::{self, AllocStats};

/// The live instances and bytes of one type in a [`HeapSnapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeCount {
    /// [`std::any::type_name`] of the type, e.g. `app::bus::Listener`.
    pub type_name: String,
    /// Instances alive when the snapshot was taken.
    pub count: u64,
    /// Their bytes: `size_of` each, plus the heap bytes they declared.
    pub bytes: u64,
}

impl TypeCount {
    /// A row: `count` live instances of `type_name` holding `bytes`.
    pub fn new(type_name: impl Into<String>, count: u64, bytes: u64) -> Self {
        TypeCount {
            type_name: type_name.into(),
            count,
            bytes,
        }
    }
}

/// Live-object counts per type at one moment: what a heap snapshot of a garbage-collected
/// runtime shows, for the types wrapped in [`Tracked`](super::Tracked) or holding a
/// [`LiveCount`](super::LiveCount). Take two and [`compare`](super::compare) them.
///
/// `Display` prints a table, most instances first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeapSnapshot {
    /// When it was taken.
    pub taken_at: SystemTime,
    /// One row per tracked type that ever had an instance, most live instances first.
    pub types: Vec<TypeCount>,
    /// The allocator's totals, when [`alloc::Counting`](crate::alloc::Counting) is the global
    /// allocator.
    pub alloc: Option<AllocStats>,
}

impl HeapSnapshot {
    /// The row of the type named exactly `type_name`.
    pub fn get(&self, type_name: &str) -> Option<&TypeCount> {
        self.types.iter().find(|t| t.type_name == type_name)
    }
}

/// Reads every tracked type's counters and the allocator's totals. Costs one lock and a
/// pass over the registered types; never blocks the counters themselves.
///
/// ```
/// use stethoscope::heap::{self, Tracked};
///
/// let kept = Tracked::with_heap_bytes(vec![0u8; 4096], 4096);
/// let snapshot = heap::snapshot();
/// let row = snapshot.get(std::any::type_name::<Vec<u8>>()).unwrap();
/// assert!(row.count >= 1 && row.bytes >= 4096);
/// println!("{snapshot}");
/// # drop(kept);
/// ```
pub fn snapshot() -> HeapSnapshot {
    let mut by_name: BTreeMap<&'static str, (u64, u64)> = BTreeMap::new();
    {
        let all = registry().lock().unwrap_or_else(|e| e.into_inner());
        for counters in all.iter() {
            let (name, count, bytes) = counters.read();
            // Several call sites may count the same type: one row per type.
            let row = by_name.entry(name).or_default();
            row.0 += count;
            row.1 += bytes;
        }
    }
    let mut types: Vec<TypeCount> = by_name
        .into_iter()
        .map(|(name, (count, bytes))| TypeCount {
            type_name: name.to_owned(),
            count,
            bytes,
        })
        .collect();
    types.sort_by(|a, b| b.count.cmp(&a.count).then(b.bytes.cmp(&a.bytes)));
    HeapSnapshot {
        taken_at: SystemTime::now(),
        types,
        alloc: alloc::stats(),
    }
}

impl fmt::Display for HeapSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .types
            .iter()
            .map(|t| t.type_name.len())
            .max()
            .unwrap_or(0)
            .max("type".len());
        writeln!(f, "{:<width$}  {:>12}  {:>12}", "type", "live", "bytes")?;
        for t in &self.types {
            writeln!(
                f,
                "{:<width$}  {:>12}  {:>12}",
                t.type_name,
                thousands(i128::from(t.count)),
                bytes(i128::from(t.bytes)),
            )?;
        }
        if let Some(alloc) = &self.alloc {
            writeln!(
                f,
                "\nheap: {} live, {} allocations, {} frees, {} allocated in total",
                bytes(i128::from(alloc.live_bytes)),
                thousands(i128::from(alloc.allocations)),
                thousands(i128::from(alloc.frees)),
                bytes(i128::from(alloc.allocated_bytes)),
            )?;
        }
        Ok(())
    }
}
