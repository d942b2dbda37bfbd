//! The memory inputs: where the doctor reads heap figures from, beyond the resident set size it
//! always reads from the operating system.
//!
//! They are plain closures so that any allocator accounting can feed the doctor: stethoscope's
//! own counting allocator and live-object counts, jemalloc's statistics, or a test's counters.
//! Each is called from the doctor's sampling thread, ten times a second by default (live types
//! about once a second), so it must be cheap and must not block.

use std::fmt;
use std::sync::Arc;

/// Live objects of one type at one moment, as a live-types input reports them: the same row
/// [`heap::snapshot`](crate::heap::snapshot) produces.
pub use crate::heap::TypeCount;

/// How one type's live count changed over the window, from the first reading to the last.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TypeGrowth {
    /// The type's name.
    pub type_name: String,
    /// Live instances at the start.
    pub count_before: u64,
    /// Live instances at the end.
    pub count_after: u64,
    /// Bytes at the start.
    pub bytes_before: u64,
    /// Bytes at the end.
    pub bytes_after: u64,
    /// R² of the least-squares line through the count's readings: near 1 means it grew
    /// steadily rather than jumping once.
    pub r_squared: f64,
}

impl TypeGrowth {
    /// `count_after - count_before`, negative when it shrank.
    pub fn count_delta(&self) -> i64 {
        self.count_after as i64 - self.count_before as i64
    }
}

pub(crate) type LiveBytesFn = dyn Fn() -> Option<u64> + Send + Sync;
pub(crate) type LiveTypesFn = dyn Fn() -> Vec<TypeCount> + Send + Sync;

/// The optional memory readers of a [`Doctor`](super::Doctor).
#[derive(Clone, Default)]
pub(crate) struct MemoryInputs {
    pub(crate) live_bytes: Option<Arc<LiveBytesFn>>,
    pub(crate) allocated_bytes: Option<Arc<LiveBytesFn>>,
    pub(crate) live_types: Option<Arc<LiveTypesFn>>,
}

impl fmt::Debug for MemoryInputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryInputs")
            .field("live_bytes", &self.live_bytes.is_some())
            .field("allocated_bytes", &self.allocated_bytes.is_some())
            .field("live_types", &self.live_types.is_some())
            .finish()
    }
}
