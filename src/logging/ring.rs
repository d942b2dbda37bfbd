//! The flight recorder's storage: finished log lines in one circular byte buffer, bounded in
//! lines and in bytes, so that keeping the last 10,000 events costs one `memcpy` per event and
//! no allocation after start-up.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tracing_core::Level;

/// One stored line: where it starts in the byte ring, how long it is, its level and its
/// sequence number (for "everything since the last dump").
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: usize,
    len: usize,
    level: u8,
    seq: u64,
}

#[derive(Debug)]
struct State {
    bytes: Vec<u8>,
    /// Where the next line starts.
    head: usize,
    /// Bytes held by `entries`.
    used: usize,
    entries: VecDeque<Entry>,
    next_seq: u64,
    /// Lines with a sequence number below this were written out by a dump already.
    dumped_below: u64,
}

/// A bounded ring of complete lines, newest last.
#[derive(Debug)]
pub(crate) struct Ring {
    state: Mutex<State>,
    max_lines: usize,
    /// Lines ever recorded (including evicted ones).
    pub(crate) recorded: AtomicU64,
    /// Lines longer than the whole ring, which cannot be kept.
    pub(crate) too_long: AtomicU64,
}

/// Severity rank: 1 = error … 5 = trace, so "at least as severe as `level`" is `rank <= rank(level)`.
pub(crate) fn rank(level: Level) -> u8 {
    match level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

impl Ring {
    /// A ring keeping at most `max_lines` lines and `max_bytes` bytes. The byte buffer is
    /// zero-initialized, which the OS provides lazily: untouched pages cost no resident memory.
    pub(crate) fn new(max_lines: usize, max_bytes: usize) -> Self {
        let max_lines = max_lines.max(1);
        Ring {
            state: Mutex::new(State {
                bytes: vec![0; max_bytes.max(1)],
                head: 0,
                used: 0,
                entries: VecDeque::with_capacity(max_lines),
                next_seq: 0,
                dumped_below: 0,
            }),
            max_lines,
            recorded: AtomicU64::new(0),
            too_long: AtomicU64::new(0),
        }
    }

    /// A poisoned lock only means a thread panicked while holding it; the ring's invariants hold
    /// between statements that cannot panic, so recording carries on.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends one line, evicting the oldest ones to make room.
    pub(crate) fn push(&self, level: Level, line: &[u8]) {
        let mut st = self.lock();
        let cap = st.bytes.len();
        if line.len() > cap {
            drop(st);
            self.too_long.fetch_add(1, Ordering::Relaxed);
            return;
        }
        while st.entries.len() >= self.max_lines || st.used + line.len() > cap {
            match st.entries.pop_front() {
                Some(old) => st.used -= old.len,
                None => break,
            }
        }
        let start = st.head;
        let first = line.len().min(cap - start);
        st.bytes[start..start + first].copy_from_slice(&line[..first]);
        st.bytes[..line.len() - first].copy_from_slice(&line[first..]);
        st.head = (start + line.len()) % cap;
        st.used += line.len();
        let seq = st.next_seq;
        st.next_seq += 1;
        st.entries.push_back(Entry {
            start,
            len: line.len(),
            level: rank(level),
            seq,
        });
        drop(st);
        self.recorded.fetch_add(1, Ordering::Relaxed);
    }

    /// The last `n` lines at least as severe as `max_rank`, oldest first, concatenated.
    pub(crate) fn recent(&self, n: usize, max_rank: u8) -> Vec<u8> {
        let st = self.lock();
        let picked: Vec<Entry> = st
            .entries
            .iter()
            .rev()
            .filter(|e| e.level <= max_rank)
            .take(n)
            .copied()
            .collect();
        let mut out = Vec::with_capacity(picked.iter().map(|e| e.len).sum());
        for e in picked.iter().rev() {
            copy_out(&st.bytes, e, &mut out);
        }
        out
    }

    /// Every line recorded since the previous call (or since the start), oldest first, and
    /// how many there are; marks them as written out.
    pub(crate) fn take_undumped(&self) -> (Vec<u8>, usize) {
        let mut st = self.lock();
        let from = st.dumped_below;
        let mut out = Vec::new();
        let mut count = 0;
        for e in st.entries.iter().filter(|e| e.seq >= from) {
            copy_out(&st.bytes, e, &mut out);
            count += 1;
        }
        st.dumped_below = st.next_seq;
        (out, count)
    }

    /// Lines and bytes held now.
    pub(crate) fn held(&self) -> (usize, usize) {
        let st = self.lock();
        (st.entries.len(), st.used)
    }

    /// The bounds this ring was created with: lines, bytes.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.max_lines, self.lock().bytes.len())
    }
}

fn copy_out(bytes: &[u8], e: &Entry, out: &mut Vec<u8>) {
    let cap = bytes.len();
    let first = e.len.min(cap - e.start);
    out.extend_from_slice(&bytes[e.start..e.start + first]);
    out.extend_from_slice(&bytes[..e.len - first]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<String> {
        String::from_utf8(bytes.to_vec())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn keeps_the_newest_lines_within_the_line_bound() {
        let ring = Ring::new(3, 1024);
        for i in 0..5 {
            ring.push(Level::INFO, format!("line {i}\n").as_bytes());
        }
        assert_eq!(lines(&ring.recent(10, 5)), ["line 2", "line 3", "line 4"]);
        assert_eq!(lines(&ring.recent(2, 5)), ["line 3", "line 4"]);
        assert_eq!(ring.recorded.load(Ordering::Relaxed), 5);
    }

    #[test]
    fn keeps_the_newest_lines_within_the_byte_bound_across_the_wrap() {
        let ring = Ring::new(100, 20);
        for i in 0..9 {
            ring.push(Level::DEBUG, format!("line {i}\n").as_bytes()); // 7 bytes each
        }
        assert_eq!(lines(&ring.recent(10, 5)), ["line 7", "line 8"]);
        let (lines_held, bytes_held) = ring.held();
        assert_eq!((lines_held, bytes_held), (2, 14));
    }

    #[test]
    fn filters_by_severity_and_rejects_lines_longer_than_the_ring() {
        let ring = Ring::new(10, 16);
        ring.push(Level::ERROR, b"e\n");
        ring.push(Level::DEBUG, b"d\n");
        ring.push(Level::WARN, b"w\n");
        ring.push(Level::INFO, &[b'x'; 17]);
        assert_eq!(lines(&ring.recent(10, rank(Level::WARN))), ["e", "w"]);
        assert_eq!(ring.too_long.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_dump_takes_only_lines_not_dumped_before() {
        let ring = Ring::new(10, 100);
        ring.push(Level::INFO, b"a\n");
        ring.push(Level::INFO, b"b\n");
        assert_eq!(ring.take_undumped().1, 2);
        ring.push(Level::INFO, b"c\n");
        let (bytes, count) = ring.take_undumped();
        assert_eq!((lines(&bytes), count), (vec!["c".to_owned()], 1));
    }
}
