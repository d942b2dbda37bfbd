//! The seed's three leak patterns in Rust, each with its fix, and a driver that takes a heap
//! snapshot after every round of simulated requests.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use stethoscope::heap::{self, HeapSnapshot, LiveCount, Tracked};

/// Bytes of payload each leaked object keeps alive.
pub(crate) const PAYLOAD: usize = 16 * 1024;

/// Runs `rounds` rounds of `request` `per_round` times each and snapshots after each round
/// (and once before the first).
pub(crate) fn snapshots(
    rounds: usize,
    per_round: usize,
    mut request: impl FnMut(usize),
) -> Vec<HeapSnapshot> {
    let mut taken = vec![heap::snapshot()];
    let mut n = 0;
    for _ in 0..rounds {
        for _ in 0..per_round {
            request(n);
            n += 1;
        }
        taken.push(heap::snapshot());
    }
    taken
}

/// Live instances of the type whose name ends with `suffix` in each snapshot.
pub(crate) fn counts(snapshots: &[HeapSnapshot], suffix: &str) -> Vec<u64> {
    snapshots
        .iter()
        .map(|s| {
            s.types
                .iter()
                .filter(|t| t.type_name.ends_with(suffix))
                .map(|t| t.count)
                .sum()
        })
        .collect()
}

/// The allocator's live bytes in each snapshot.
pub(crate) fn live_bytes(snapshots: &[HeapSnapshot]) -> Vec<u64> {
    snapshots
        .iter()
        .map(|s| {
            s.alloc
                .expect("Counting is the global allocator")
                .live_bytes
        })
        .collect()
}

pub(crate) fn strictly_increasing(values: &[u64]) -> bool {
    values.windows(2).all(|w| w[1] > w[0])
}

// -- 1. a listener subscribed per request and never removed from a shared bus --

/// A subscriber to block events.
pub(crate) struct Listener {
    on_block: Box<dyn Fn(u64) -> usize + Send>,
    _live: LiveCount,
}

/// A shared event bus.
#[derive(Default)]
pub(crate) struct Bus {
    listeners: Mutex<Vec<(usize, Listener)>>,
}

impl Bus {
    pub(crate) fn subscribe(&self, id: usize, on_block: Box<dyn Fn(u64) -> usize + Send>) {
        let listener = Listener {
            on_block,
            _live: stethoscope::tracked!(Listener),
        };
        self.listeners.lock().unwrap().push((id, listener));
    }

    pub(crate) fn unsubscribe(&self, id: usize) {
        self.listeners.lock().unwrap().retain(|(i, _)| *i != id);
    }

    pub(crate) fn publish(&self, height: u64) -> usize {
        let listeners = self.listeners.lock().unwrap();
        listeners.iter().map(|(_, l)| (l.on_block)(height)).sum()
    }
}

/// The leak: each request subscribes to hear about the next block and never unsubscribes.
#[inline(never)]
pub(crate) fn subscribe_and_forget(bus: &Bus, request: usize) {
    let context = vec![request as u8; PAYLOAD];
    bus.subscribe(
        request,
        Box::new(move |height| context.len() + height as usize),
    );
}

/// The fix: unsubscribe once the request is done.
pub(crate) fn subscribe_then_unsubscribe(bus: &Bus, request: usize) {
    let context = vec![request as u8; PAYLOAD];
    bus.subscribe(
        request,
        Box::new(move |height| context.len() + height as usize),
    );
    bus.publish(request as u64);
    bus.unsubscribe(request);
}

// -- 2. a closure capturing a large buffer, kept in a registry --

/// A callback kept in the registry.
pub(crate) type Callback = Box<dyn Fn() -> u64 + Send>;

/// Callbacks by name.
#[derive(Default)]
pub(crate) struct Registry {
    callbacks: Mutex<HashMap<String, Tracked<Callback>>>,
}

impl Registry {
    pub(crate) fn register(&self, name: String, callback: Tracked<Callback>) {
        self.callbacks.lock().unwrap().insert(name, callback);
    }

    pub(crate) fn len(&self) -> usize {
        self.callbacks.lock().unwrap().len()
    }
}

/// The leak: a callback per block, keyed by height, whose closure captures the block's whole
/// raw buffer to report one number from it.
#[inline(never)]
pub(crate) fn register_closure_keeping_buffer(registry: &Registry, height: usize) {
    let raw_block = vec![height as u8; PAYLOAD];
    let callback: Callback = Box::new(move || raw_block.len() as u64);
    registry.register(
        format!("block-{height}"),
        Tracked::with_heap_bytes(callback, PAYLOAD),
    );
}

/// The fix: capture only the number, under one name that each block replaces.
pub(crate) fn register_closure_keeping_summary(registry: &Registry, height: usize) {
    let raw_block = vec![height as u8; PAYLOAD];
    let size = raw_block.len() as u64;
    drop(raw_block);
    let callback: Callback = Box::new(move || size);
    registry.register(
        "last-block".to_owned(),
        Tracked::with_heap_bytes(callback, 0),
    );
}

// -- 3. a cache that never evicts --

/// What the cache holds per key.
pub(crate) struct CachedBlock {
    pub(crate) raw: Vec<u8>,
}

/// A block cache, unbounded or bounded.
pub(crate) struct Cache {
    entries: HashMap<u64, Tracked<CachedBlock>>,
    order: VecDeque<u64>,
    capacity: Option<usize>,
}

impl Cache {
    pub(crate) fn unbounded() -> Self {
        Cache {
            entries: HashMap::new(),
            order: VecDeque::new(),
            capacity: None,
        }
    }

    pub(crate) fn bounded(capacity: usize) -> Self {
        Cache {
            entries: HashMap::with_capacity(capacity + 1),
            order: VecDeque::with_capacity(capacity + 1),
            capacity: Some(capacity),
        }
    }

    /// The leak (when unbounded): every distinct key stays forever.
    #[inline(never)]
    pub(crate) fn insert_forever(&mut self, key: u64) {
        let block = CachedBlock {
            raw: vec![key as u8; PAYLOAD],
        };
        let bytes = block.raw.capacity();
        self.entries
            .insert(key, Tracked::with_heap_bytes(block, bytes));
        self.order.push_back(key);
        if let Some(capacity) = self.capacity {
            while self.entries.len() > capacity {
                let oldest = self.order.pop_front().expect("order tracks entries");
                self.entries.remove(&oldest);
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}
