//! The block bus: every indexed block is announced to the listeners of live notification
//! streams (the seed's WebSocket clients). A stream subscribes a [`Listener`] when it opens and
//! must unsubscribe when it closes; `--inject leak` forgets to, which is the seed's incident:
//! listeners pile up, each holding its send buffer, and every announcement walks all of them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Bytes each listener buffers for its client.
pub(crate) const LISTENER_BUFFER_BYTES: usize = 64 * 1024;

/// A subscribed notification stream.
#[derive(Debug)]
pub(crate) struct Listener {
    id: u64,
    /// Outgoing frames not yet sent to the client.
    send_buffer: Vec<u8>,
    delivered: u64,
    /// Counts live listeners per type for `heap::snapshot()`, `live_objects{type}` and the
    /// doctor: the leak shows up as this type growing.
    _live: stethoscope::heap::LiveCount,
}

/// Listeners of indexed blocks, shared by the whole indexer.
#[derive(Debug, Default)]
pub(crate) struct Bus {
    listeners: Mutex<Vec<Listener>>,
    next_id: AtomicU64,
}

/// Unsubscribes its listener when dropped, unless [`Subscribed::leak`]ed.
#[derive(Debug)]
pub(crate) struct Subscribed {
    bus: Arc<Bus>,
    id: u64,
}

impl Bus {
    /// Opens a notification stream.
    pub(crate) fn subscribe(self: &Arc<Self>) -> Subscribed {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let listener = Listener {
            id,
            // Filled, not zeroed: zeroed memory may stay unmapped and never show in RSS, while
            // a real send buffer holds frames.
            send_buffer: vec![0x20; LISTENER_BUFFER_BYTES],
            delivered: 0,
            _live: stethoscope::tracked!(Listener, LISTENER_BUFFER_BYTES),
        };
        self.lock().push(listener);
        Subscribed {
            bus: Arc::clone(self),
            id,
        }
    }

    /// Tells every listener that block `height` was indexed.
    pub(crate) fn announce(&self, height: u64) {
        for l in self.lock().iter_mut() {
            let at = (l.delivered as usize * 8) % l.send_buffer.len();
            l.send_buffer[at..at + 8].copy_from_slice(&height.to_le_bytes());
            l.delivered += 1;
        }
    }

    /// Listeners currently subscribed (`indexer_bus_listeners`).
    pub(crate) fn listeners(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Listener>> {
        self.listeners.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Subscribed {
    /// The bug: the stream closes but its listener stays subscribed.
    pub(crate) fn leak(self) {
        std::mem::forget(self);
    }
}

impl Drop for Subscribed {
    fn drop(&mut self) {
        self.bus.lock().retain(|l| l.id != self.id);
    }
}
