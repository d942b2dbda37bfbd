//! A non-blocking, batching log writer: lines are appended to a bounded in-memory buffer and a
//! dedicated thread writes the whole buffer with one `write` call.
//!
//! Why not `tracing_appender::non_blocking`: it allocates a `Vec` per line, sends each through
//! a channel and issues one `write` syscall per line. At the seed's 100,000 log lines per second
//! that writer thread costs several times more CPU than formatting the lines
//! (see `docs/performance.md`). Here a line costs one uncontended mutex and a `memcpy`; the writer
//! thread swaps the buffer out and writes megabytes per syscall under load.
//!
//! It never blocks the application: when the buffer is full (the destination is stalled or
//! slower than the application), the line is dropped and counted in [`NonBlocking::dropped_lines`].

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

use crate::error::Error;

/// Default bound of queued log output: 16 MiB, about 80,000 typical lines.
pub const DEFAULT_BUFFER_BYTES: usize = 16 * 1024 * 1024;

/// Below this many queued bytes the writer thread waits [`LINGER`] for more lines before
/// writing, so a busy application's lines share one syscall.
const BATCH_BYTES: usize = 64 * 1024;

/// How long a small batch waits for company. Bounds the extra latency a line can see.
const LINGER: Duration = Duration::from_millis(1);

#[derive(Debug, Default)]
struct State {
    buf: Vec<u8>,
    /// Bytes ever accepted into `buf`. A flush takes this value as its ticket: the lines it
    /// waits for are exactly those queued before it, however many arrive afterwards.
    queued_bytes: u64,
    /// Bytes ever taken out of `buf` whose write has finished (written, or failed and counted
    /// as dropped). A flush is done when this reaches its ticket.
    done_bytes: u64,
    /// The writer thread is waiting for lines: the next producer must wake it.
    writer_idle: bool,
    /// Flushes in progress: the writer skips its linger and reports each finished batch
    /// while this is non-zero.
    flushers: usize,
    shutdown: bool,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Signalled when there is work (lines, a flush, shutdown).
    work: Condvar,
    /// Signalled when a batch has been written while a flush waits (`done_bytes` moved).
    written: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    reported_write_error: AtomicBool,
    // Self-observability: lines accepted into the queue.
    queued: AtomicU64,
}

impl Shared {
    /// Locks the state. A poisoned lock only means a thread panicked while holding it; the
    /// state (a byte buffer and flags) is still consistent, so logging carries on.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, line: &[u8]) {
        let mut st = self.lock();
        if st.shutdown || st.buf.len() + line.len() > self.capacity {
            drop(st);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        st.buf.extend_from_slice(line);
        st.queued_bytes += line.len() as u64;
        self.queued.fetch_add(1, Ordering::Relaxed);
        if st.writer_idle {
            st.writer_idle = false;
            self.work.notify_one();
        }
    }

    /// Waits until the writer has finished every byte up to `ticket` (a `queued_bytes` value),
    /// or `timeout` passes. Registers as a flusher meanwhile, so the writer does not linger.
    fn wait_written(
        &self,
        mut st: MutexGuard<'_, State>,
        ticket: u64,
        timeout: Duration,
    ) -> Result<(), Error> {
        st.flushers += 1;
        self.work.notify_all();
        // A timeout too large for an `Instant` means no deadline rather than a panic.
        let deadline = Instant::now().checked_add(timeout);
        let result = loop {
            if st.done_bytes >= ticket {
                break Ok(());
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                break Err(Error::FlushTimeout {
                    deadline: timeout,
                    pending_bytes: usize::try_from(ticket - st.done_bytes).unwrap_or(usize::MAX),
                });
            }
            st = self
                .written
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        };
        st.flushers -= 1;
        result
    }

    fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let st = self.lock();
        let ticket = st.queued_bytes;
        self.wait_written(st, ticket, timeout)
    }
}

/// The application-side handle of the writer: cheap to clone, and a [`MakeWriter`] for any
/// `tracing-subscriber` layer (ours or `fmt`).
///
/// Each `write` call is treated as one complete line; it is queued whole or dropped whole.
///
/// ```
/// use stethoscope::logging::NonBlocking;
///
/// let (writer, guard) = NonBlocking::builder().buffer_bytes(1 << 20).spawn(std::io::sink())?;
/// let layer = stethoscope::logging::JsonLayer::new().with_writer(writer.clone());
/// # drop(layer);
/// assert_eq!(writer.dropped_lines(), 0);
/// drop(guard); // writes everything still queued
/// # Ok::<(), stethoscope::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct NonBlocking {
    shared: Arc<Shared>,
}

/// Configures a [`NonBlocking`] writer.
#[derive(Debug, Clone)]
#[must_use]
pub struct NonBlockingBuilder {
    capacity: usize,
    thread_name: String,
}

impl Default for NonBlockingBuilder {
    fn default() -> Self {
        NonBlockingBuilder {
            capacity: DEFAULT_BUFFER_BYTES,
            thread_name: "stethoscope-log-writer".to_owned(),
        }
    }
}

impl NonBlockingBuilder {
    /// Bounds the queued output in bytes (default [`DEFAULT_BUFFER_BYTES`]). Memory use is at
    /// most twice this: one buffer filling while the previous one is being written.
    pub fn buffer_bytes(mut self, bytes: usize) -> Self {
        self.capacity = bytes.max(1);
        self
    }

    /// Names the writer thread (default `stethoscope-log-writer`).
    pub fn thread_name(mut self, name: impl Into<String>) -> Self {
        self.thread_name = name.into();
        self
    }

    /// Starts the writer thread, which owns `destination` until the [`WriterGuard`] is dropped.
    pub fn spawn<W: Write + Send + 'static>(
        self,
        destination: W,
    ) -> Result<(NonBlocking, WriterGuard), Error> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            written: Condvar::new(),
            capacity: self.capacity,
            dropped: AtomicU64::new(0),
            reported_write_error: AtomicBool::new(false),
            queued: AtomicU64::new(0),
        });
        let worker = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(self.thread_name.clone())
            .spawn(move || run(&worker, destination))
            .map_err(|e| {
                Error::io(
                    format!("spawning the log writer thread {:?}", self.thread_name),
                    e,
                )
            })?;
        let guard = WriterGuard {
            shared: Arc::clone(&shared),
            thread: Some(thread),
        };
        Ok((NonBlocking { shared }, guard))
    }
}

impl NonBlocking {
    /// A builder with the defaults: 16 MiB buffer, thread `stethoscope-log-writer`.
    pub fn builder() -> NonBlockingBuilder {
        NonBlockingBuilder::default()
    }

    /// Lines dropped so far because the buffer was full, the destination failed, or the
    /// writer had shut down.
    pub fn dropped_lines(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Lines accepted into the queue so far (written, or about to be).
    pub fn queued_lines(&self) -> u64 {
        self.shared.queued.load(Ordering::Relaxed)
    }

    /// Waits until every line queued before this call has been written to the destination
    /// (and the destination flushed), at most `timeout`. Logging goes on meanwhile: lines
    /// queued after the call, by this thread or others, are not waited for, so steady logging
    /// elsewhere cannot make the flush time out.
    ///
    /// When it returns `Ok`, each line queued before the call was handed to the destination
    /// with `write_all` and `flush`, except lines the destination refused with an error: those
    /// are dropped and counted in [`dropped_lines`](Self::dropped_lines) (with one report on
    /// stderr), as at any other time. Lines that were dropped because the buffer was full were
    /// never queued.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::time::Duration;
    ///
    /// let (mut writer, guard) = stethoscope::logging::NonBlocking::builder().spawn(std::io::sink())?;
    /// writer.write_all(b"a line\n")?;
    /// writer.flush_within(Duration::from_secs(5))?; // "a line" has reached the sink
    /// # drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::FlushTimeout`] when `timeout` passed first: its `pending_bytes` are the bytes
    /// of lines queued before the call that were not yet written (they stay queued and are
    /// written later if the destination recovers). The message says the destination is
    /// blocked or too slow.
    pub fn flush_within(&self, timeout: Duration) -> Result<(), Error> {
        self.shared.flush(timeout)
    }
}

impl Write for NonBlocking {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The per-event writer handed out by [`NonBlocking`]'s [`MakeWriter`] impl.
#[derive(Debug)]
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.push(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for NonBlocking {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

/// Owns the writer thread. Dropping it writes every queued line (waiting up to 5 s for a slow
/// destination) and stops the thread; [`WriterGuard::shutdown`] does the same with your deadline.
#[derive(Debug)]
#[must_use = "dropping the guard stops the log writer"]
pub struct WriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// How long `Drop` waits for queued lines to be written.
pub(crate) const DEFAULT_SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);

impl WriterGuard {
    /// Stops accepting lines, writes every line queued before the call, then stops the writer
    /// thread, waiting at most `deadline` in all.
    ///
    /// Lines logged from the moment of the call on are dropped and counted in
    /// [`NonBlocking::dropped_lines`]: stopping first is what makes "everything queued" a
    /// fixed amount that a deadline can be kept for, however busy other threads are.
    ///
    /// When it returns `Ok`, every queued line was handed to the destination (`write_all`
    /// and `flush`) or refused by it with an error and counted as dropped, and the writer
    /// thread has exited.
    ///
    /// # Errors
    /// [`Error::FlushTimeout`] when the destination did not take the output within `deadline`;
    /// `pending_bytes` is how much was still unwritten. The thread is then left to finish on
    /// its own (it writes the rest if the destination recovers before the process exits); the
    /// caller is not blocked further.
    pub fn shutdown(mut self, deadline: Duration) -> Result<(), Error> {
        self.stop(deadline)
    }

    fn stop(&mut self, deadline: Duration) -> Result<(), Error> {
        let Some(thread) = self.thread.take() else {
            return Ok(());
        };
        let mut st = self.shared.lock();
        st.shutdown = true;
        let ticket = st.queued_bytes;
        let result = self.shared.wait_written(st, ticket, deadline);
        if result.is_ok() {
            // The queue is empty and takes no more lines: the thread exits as soon as it sees
            // `shutdown`, so this join is prompt.
            let _ = thread.join();
        }
        result
    }

    /// A [`NonBlocking`] handle onto the same queue, e.g. for the panic hook's final flush.
    pub fn writer(&self) -> NonBlocking {
        NonBlocking {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        if let Err(e) = self.stop(DEFAULT_SHUTDOWN_DEADLINE) {
            eprintln!("stethoscope: {e}");
        }
    }
}

fn run<W: Write>(shared: &Shared, mut destination: W) {
    let mut batch: Vec<u8> = Vec::new();
    loop {
        let through = {
            let mut st = shared.lock();
            while st.buf.is_empty() {
                if st.shutdown {
                    return;
                }
                st.writer_idle = true;
                st = shared.work.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.writer_idle = false;
            if st.buf.len() < BATCH_BYTES && st.flushers == 0 && !st.shutdown {
                // Producers do not notify while we linger (writer_idle is false), so this wait
                // costs them nothing; a flush or shutdown wakes us early.
                st = shared
                    .work
                    .wait_timeout(st, LINGER)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            std::mem::swap(&mut st.buf, &mut batch);
            // The batch holds every byte queued so far.
            st.queued_bytes
        };
        let result = destination
            .write_all(&batch)
            .and_then(|()| destination.flush());
        if let Err(e) = result {
            let lost = batch.iter().filter(|&&b| b == b'\n').count().max(1);
            shared.dropped.fetch_add(lost as u64, Ordering::Relaxed);
            if !shared.reported_write_error.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "stethoscope: writing log output failed ({e}); dropping lines and counting them \
                     (reported once)"
                );
            }
        }
        batch.clear();
        let mut st = shared.lock();
        st.done_bytes = through;
        // Only flushes wait on this; without one, skip the wake-up syscall.
        if st.flushers > 0 {
            shared.written.notify_all();
        }
    }
}
