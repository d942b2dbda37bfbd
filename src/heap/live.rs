//! Live-instance counters per type: [`Tracked<T>`], [`LiveCount`] and the registry that
//! [`snapshot`](super::snapshot) reads.

use std::any::TypeId;
use std::collections::HashMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

/// The live count and bytes of one type. One per type, in a `static` (from [`tracked!`]) or
/// leaked once per type (from [`Tracked::new`]); incrementing is two relaxed atomic adds.
///
/// [`tracked!`]: crate::tracked
#[derive(Debug)]
pub struct TypeCounters {
    name: OnceLock<&'static str>,
    registered: AtomicBool,
    count: AtomicU64,
    bytes: AtomicU64,
}

impl TypeCounters {
    /// Counters at zero, not yet registered; for the `static` that [`tracked!`] declares.
    ///
    /// [`tracked!`]: crate::tracked
    pub const fn new() -> Self {
        TypeCounters {
            name: OnceLock::new(),
            registered: AtomicBool::new(false),
            count: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// Adds `self` to the registry the first time an instance of its type is created.
    #[inline]
    fn register(&'static self, name: &'static str) {
        if !self.registered.load(Ordering::Acquire) {
            self.register_slow(name);
        }
    }

    #[cold]
    fn register_slow(&'static self, name: &'static str) {
        let mut all = registry().lock().unwrap_or_else(|e| e.into_inner());
        if !self.registered.load(Ordering::Acquire) {
            let _ = self.name.set(name);
            all.push(self);
            self.registered.store(true, Ordering::Release);
        }
    }

    #[inline]
    fn add(&self, bytes: u64) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    #[inline]
    fn sub(&self, bytes: u64) {
        self.count.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The type's name, its live instances and their bytes.
    pub(super) fn read(&self) -> (&'static str, u64, u64) {
        (
            self.name.get().copied().unwrap_or("?"),
            self.count.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

impl Default for TypeCounters {
    fn default() -> Self {
        TypeCounters::new()
    }
}

/// Every registered counter, in registration order.
pub(super) fn registry() -> &'static Mutex<Vec<&'static TypeCounters>> {
    static REGISTRY: Mutex<Vec<&'static TypeCounters>> = Mutex::new(Vec::new());
    &REGISTRY
}

/// The counters of `T`, created on first use; later calls take a read lock and one lookup.
fn counters_of<T: 'static>() -> &'static TypeCounters {
    static BY_TYPE: OnceLock<RwLock<HashMap<TypeId, &'static TypeCounters>>> = OnceLock::new();
    let map = BY_TYPE.get_or_init(RwLock::default);
    let id = TypeId::of::<T>();
    if let Some(found) = map.read().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return found;
    }
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    let counters = *map
        .entry(id)
        .or_insert_with(|| Box::leak(Box::new(TypeCounters::new())));
    counters.register(std::any::type_name::<T>());
    counters
}

/// A value whose type's live instances and bytes are counted: [`snapshot`](super::snapshot)
/// reports them under [`std::any::type_name`] (e.g. `app::bus::Listener`), and `/metrics` as
/// `live_objects{type="…"}` and `live_object_bytes{type="…"}`.
///
/// Dereferences to the value. Bytes are `size_of::<T>()` plus what
/// [`with_heap_bytes`](Tracked::with_heap_bytes) declares for the heap memory it owns.
///
/// ```
/// use stethoscope::heap::{self, Tracked};
///
/// struct Listener { name: String }
///
/// let before = heap::snapshot();
/// let listeners: Vec<Tracked<Listener>> =
///     (0..3).map(|i| Tracked::new(Listener { name: format!("l{i}") })).collect();
/// let after = heap::snapshot();
/// let top = &heap::compare(&before, &after).rows[0];
/// assert!(top.type_name.ends_with("Listener"));
/// assert_eq!(top.delta, 3);
/// assert_eq!(listeners[0].name, "l0");
/// ```
pub struct Tracked<T: 'static> {
    value: T,
    live: LiveCount,
}

impl<T: 'static> Tracked<T> {
    /// Wraps `value`, counting one more live `T` of `size_of::<T>()` bytes.
    pub fn new(value: T) -> Self {
        Tracked::with_heap_bytes(value, 0)
    }

    /// Wraps `value` and also counts `heap_bytes` it owns on the heap (a buffer's capacity),
    /// so [`HeapSnapshot`](super::HeapSnapshot) bytes reflect what the value keeps alive.
    pub fn with_heap_bytes(value: T, heap_bytes: usize) -> Self {
        let bytes = (std::mem::size_of::<T>() + heap_bytes) as u64;
        Tracked {
            value,
            live: LiveCount::counted(counters_of::<T>(), bytes),
        }
    }

    /// Unwraps the value; it is no longer counted.
    pub fn into_inner(self) -> T {
        let Tracked { value, live } = self;
        drop(live);
        value
    }
}

impl<T: Clone + 'static> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        Tracked {
            value: self.value.clone(),
            live: self.live.clone(),
        }
    }
}

impl<T: 'static> Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: 'static> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Tracked<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

/// A field that counts live instances of the struct holding it, made by [`tracked!`]: the
/// alternative to [`Tracked<T>`] when wrapping the value is awkward. Counting costs two
/// relaxed atomic adds on creation and two subtractions on drop, with no lookup.
///
/// ```
/// use stethoscope::heap::{self, LiveCount};
///
/// struct Subscriber { topic: String, _live: LiveCount }
///
/// impl Subscriber {
///     fn new(topic: &str) -> Self {
///         Subscriber { topic: topic.to_owned(), _live: stethoscope::tracked!(Subscriber) }
///     }
/// }
///
/// let kept: Vec<Subscriber> = (0..5).map(|_| Subscriber::new("blocks")).collect();
/// let snapshot = heap::snapshot();
/// let row = snapshot.types.iter().find(|t| t.type_name.ends_with("Subscriber")).unwrap();
/// assert_eq!(row.count, 5);
/// # drop(kept);
/// ```
///
/// [`tracked!`]: crate::tracked
pub struct LiveCount {
    counters: &'static TypeCounters,
    bytes: u64,
}

impl LiveCount {
    /// Counts one live `T` in `counters` (declared by [`tracked!`], one `static` per call
    /// site); use the macro rather than calling this.
    ///
    /// [`tracked!`]: crate::tracked
    pub fn new<T: ?Sized + 'static>(counters: &'static TypeCounters, bytes: usize) -> Self {
        counters.register(std::any::type_name::<T>());
        LiveCount::counted(counters, bytes as u64)
    }

    fn counted(counters: &'static TypeCounters, bytes: u64) -> Self {
        counters.add(bytes);
        LiveCount { counters, bytes }
    }
}

impl Clone for LiveCount {
    /// A clone is one more live instance (the struct holding it was cloned).
    fn clone(&self) -> Self {
        self.counters.add(self.bytes);
        LiveCount {
            counters: self.counters,
            bytes: self.bytes,
        }
    }
}

impl Drop for LiveCount {
    fn drop(&mut self) {
        self.counters.sub(self.bytes);
    }
}

impl fmt::Debug for LiveCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LiveCount")
            .field(&self.counters.read().0)
            .finish()
    }
}

/// A [`LiveCount`](crate::heap::LiveCount) for the struct `$type` that will hold it: counts live
/// instances under `type_name::<$type>()` and `size_of::<$type>()` bytes, plus `$heap_bytes`
/// when given. Each call site declares its own `static` counters, so creating one costs two
/// atomic adds and no lookup.
///
/// ```
/// struct Cache { entries: Vec<u64>, _live: stethoscope::heap::LiveCount }
///
/// let cache = Cache { entries: Vec::with_capacity(1024), _live: stethoscope::tracked!(Cache, 1024 * 8) };
/// # drop(cache);
/// ```
#[macro_export]
macro_rules! tracked {
    ($type:ty) => {
        $crate::tracked!($type, 0)
    };
    ($type:ty, $heap_bytes:expr) => {{
        static COUNTERS: $crate::heap::TypeCounters = $crate::heap::TypeCounters::new();
        $crate::heap::LiveCount::new::<$type>(
            &COUNTERS,
            ::std::mem::size_of::<$type>() + $heap_bytes,
        )
    }};
}
