//! The storage stage: batched writes into an embedded SQLite database through a small
//! connection pool.
//!
//! What makes SQLite keep up for a sustained run (each measured with the crate's flame graphs,
//! see docs/performance.md): rows keyed in chain order, `(height, idx)`, in a `WITHOUT ROWID`
//! table, so every insert appends to the right edge of one B-tree. A key on the random 32-byte
//! hash ran at 57k tx/s for 8 s but fell to 31k tx/s over 60 s: once its index outgrew what one
//! commit spreads over, every commit rewrote most of the index's pages into the WAL. Then group
//! commit (every block waiting goes into one transaction, rows sorted by key), WAL with
//! `synchronous=NORMAL` (commits do not fsync; checkpoints do) and infrequent checkpoints.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags};
use tokio::sync::{oneshot, Semaphore};

use super::tx::Tx;

/// Connections in the pool.
pub(crate) const POOL_SIZE: usize = 2;
/// Rows a commit waits to gather (for at most [`LINGER`]): every commit costs a WAL header, a
/// page write for each page it touches and a lock round trip, so bigger commits cost less per row.
pub(crate) const GROUP_ROWS: usize = 8192;
/// The longest a connection waits for [`GROUP_ROWS`] before committing what it has (Kafka's
/// `linger.ms`, for SQLite).
pub(crate) const LINGER: Duration = Duration::from_millis(50);
/// How long `--inject slow-db` holds a connection before each batch: a lock wait on a busy
/// database.
pub(crate) const SLOW_DB_WAIT: Duration = Duration::from_millis(40);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS transactions (
    height    INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    sender    BLOB NOT NULL,
    recipient BLOB NOT NULL,
    amount    INTEGER NOT NULL,
    fee       INTEGER NOT NULL,
    nonce     INTEGER NOT NULL,
    PRIMARY KEY (height, idx)
) WITHOUT ROWID";

const INSERT: &str =
    "INSERT INTO transactions (hash, height, idx, sender, recipient, amount, fee, nonce)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (height, idx) DO NOTHING";

/// Durability and speed settings, applied to every connection.
/// `page_size` only applies to a new database, so it comes first.
const PRAGMAS: &str = "
    PRAGMA page_size = 16384;
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA cache_size = -16384;
    PRAGMA wal_autocheckpoint = 4096;
    PRAGMA temp_store = MEMORY;
    PRAGMA busy_timeout = 5000;
";

/// A small pool of SQLite connections; `db_pool_utilization_ratio` is the share of the pool's
/// connection-time that was checked out.
#[derive(Debug)]
pub(crate) struct DbPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Admits at most as many batches as there are connections.
    permits: Arc<Semaphore>,
    /// SQLite has one writer at a time: writers queue here rather than in SQLite's busy
    /// handler, which sleeps in steps of up to 100 ms.
    write_lock: Mutex<()>,
    /// Batches waiting for the next commit, and their rows.
    pending: Mutex<Vec<Pending>>,
    pending_rows: AtomicUsize,
    size: usize,
    in_use: AtomicUsize,
    /// Checked-out time of finished checkouts, in nanoseconds.
    busy_ns: AtomicU64,
    /// SQLite transactions committed (each carries one or more batches).
    commits: AtomicU64,
    slow: bool,
}

/// Where a batch's result goes.
type Reply = oneshot::Sender<Result<Written, String>>;

/// A batch waiting for a commit, and where its result goes.
#[derive(Debug)]
struct Pending {
    txs: Vec<Tx>,
    reply: Reply,
}

/// What one batch write did.
#[derive(Debug)]
pub(crate) struct Written {
    /// The rows, handed back for publishing.
    pub(crate) txs: Vec<Tx>,
    /// Rows inserted (a re-run over an existing `--db` finds its rows already there).
    pub(crate) inserted: u64,
}

impl DbPool {
    /// Opens `size` connections to `path`, creating the file and the schema.
    ///
    /// # Errors
    /// A message naming the path and saying what to do when it cannot be opened.
    pub(crate) fn open(path: &Path, size: usize, slow: bool) -> Result<Arc<DbPool>, String> {
        let explain = |e: rusqlite::Error| {
            format!(
                "cannot open the SQLite database at {}: {e}; pass --db with a path in a writable directory",
                path.display()
            )
        };
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size {
            let conn = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE
                    | OpenFlags::SQLITE_OPEN_CREATE
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(explain)?;
            conn.execute_batch(PRAGMAS).map_err(explain)?;
            conn.execute_batch(SCHEMA).map_err(explain)?;
            conns.push(conn);
        }
        Ok(Arc::new(DbPool {
            path: path.to_owned(),
            idle: Mutex::new(conns),
            permits: Arc::new(Semaphore::new(size)),
            write_lock: Mutex::new(()),
            pending: Mutex::new(Vec::new()),
            pending_rows: AtomicUsize::new(0),
            size,
            in_use: AtomicUsize::new(0),
            busy_ns: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            slow,
        }))
    }

    /// Writes one batch: queues it, then has a pooled connection on the blocking pool write
    /// every batch queued by then in one SQLite transaction (group commit). Whoever holds a
    /// connection when batches are waiting writes them all, so under load each commit carries
    /// several blocks: with random keys a commit rewrites every page it touches into the WAL,
    /// and several blocks share pages where one block alone would not.
    #[stethoscope::instrument(name = "store", skip_all, fields(rows = txs.len()))]
    pub(crate) async fn write(self: &Arc<Self>, txs: Vec<Tx>) -> Result<Written, String> {
        let (reply, written) = oneshot::channel();
        self.pending_rows.fetch_add(txs.len(), Ordering::Relaxed);
        self.lock_pending().push(Pending { txs, reply });
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| "the connection pool is closed".to_owned())?;
        let pool = Arc::clone(self);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| pool.write_pending());
        })
        .await
        .map_err(|e| format!("the storage thread failed: {e}"))?;
        written
            .await
            .map_err(|_| "the storage thread dropped a batch".to_owned())?
    }

    /// Writes every queued batch, if any are still queued.
    fn write_pending(&self) {
        let conn = self.checkout();
        let started = Instant::now();
        if self.slow {
            // The injected fault: a lock wait on a busy database, connection held.
            std::thread::sleep(SLOW_DB_WAIT);
        }
        {
            let _writer = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
            let linger_until = Instant::now() + LINGER;
            while self.pending_rows.load(Ordering::Relaxed) < GROUP_ROWS
                && Instant::now() < linger_until
                && self.pending_rows.load(Ordering::Relaxed) > 0
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            let batches = std::mem::take(&mut *self.lock_pending());
            let rows: usize = batches.iter().map(|b| b.txs.len()).sum();
            self.pending_rows.fetch_sub(rows, Ordering::Relaxed);
            if !batches.is_empty() {
                self.commits.fetch_add(1, Ordering::Relaxed);
                let result = write_batches(&conn, batches);
                if let Err((e, replies)) = result {
                    let message = format!("writing to {}: {e}", self.path.display());
                    for reply in replies {
                        let _ = reply.send(Err(message.clone()));
                    }
                }
            }
        }
        self.checkin(conn, started);
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn checkout(&self) -> Connection {
        self.in_use.fetch_add(1, Ordering::Relaxed);
        // The semaphore guarantees a connection is idle.
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .expect("a permit means an idle connection")
    }

    fn checkin(&self, conn: Connection, since: Instant) {
        self.busy_ns
            .fetch_add(since.elapsed().as_nanos() as u64, Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(conn);
        self.in_use.fetch_sub(1, Ordering::Relaxed);
    }

    /// Checked-out connection-nanoseconds so far; the sampler turns deltas into the ratio.
    pub(crate) fn busy_ns(&self) -> u64 {
        self.busy_ns.load(Ordering::Relaxed)
    }

    /// SQLite transactions committed so far.
    pub(crate) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Rows in the table (for the summary and tests).
    pub(crate) fn count_rows(&self) -> Result<u64, String> {
        let conn = Connection::open_with_flags(&self.path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| e.to_string())?;
        conn.query_row("SELECT count(*) FROM transactions", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n as u64)
        .map_err(|e| e.to_string())
    }
}

/// One SQLite transaction for all `batches`, rows sorted by key; replies to each batch.
/// Telemetry is per group of batches, never per row.
#[stethoscope::instrument(level = "debug", skip_all, fields(batches = batches.len(), rows))]
fn write_batches(
    conn: &Connection,
    batches: Vec<Pending>,
) -> Result<(), (rusqlite::Error, Vec<Reply>)> {
    let mut rows: Vec<(usize, &Tx)> = batches
        .iter()
        .enumerate()
        .flat_map(|(i, b)| b.txs.iter().map(move |t| (i, t)))
        .collect();
    rows.sort_unstable_by_key(|row| (row.1.height, row.1.index));
    tracing::Span::current().record("rows", rows.len());
    let mut inserted = vec![0u64; batches.len()];
    let result = (|| {
        let tx = conn.unchecked_transaction()?;
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            for (i, t) in &rows {
                inserted[*i] += insert.execute(params![
                    &t.hash[..],
                    t.height as i64,
                    t.index,
                    &t.from[..],
                    &t.to[..],
                    t.amount as i64,
                    t.fee as i64,
                    t.nonce as i64,
                ])? as u64;
            }
        }
        tx.commit()
    })();
    drop(rows);
    match result {
        Ok(()) => {
            for (batch, inserted) in batches.into_iter().zip(inserted) {
                let _ = batch.reply.send(Ok(Written {
                    txs: batch.txs,
                    inserted,
                }));
            }
            Ok(())
        }
        Err(e) => Err((e, batches.into_iter().map(|b| b.reply).collect())),
    }
}
