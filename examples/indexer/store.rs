//! The storage stage: batched writes into an embedded SQLite database through a small
//! connection pool.
//!
//! What makes SQLite keep up (each measured with the crate's flame graphs, see
//! docs/performance.md): the key is the 32-byte hash as a BLOB in a `WITHOUT ROWID` table (one
//! B-tree, half the key bytes of hex text), each block is one transaction with its rows sorted
//! by key (neighbouring inserts touch the same pages), WAL with `synchronous=NORMAL` (commits
//! do not fsync; checkpoints do), a large page cache and infrequent checkpoints.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::tx::Tx;

/// Connections in the pool.
pub(crate) const POOL_SIZE: usize = 2;
/// How long `--inject slow-db` holds a connection before each batch: a lock wait on a busy
/// database.
pub(crate) const SLOW_DB_WAIT: Duration = Duration::from_millis(40);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS transactions (
    hash      BLOB PRIMARY KEY,
    height    INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    sender    BLOB NOT NULL,
    recipient BLOB NOT NULL,
    amount    INTEGER NOT NULL,
    fee       INTEGER NOT NULL,
    nonce     INTEGER NOT NULL
) WITHOUT ROWID";

const INSERT: &str =
    "INSERT INTO transactions (hash, height, idx, sender, recipient, amount, fee, nonce)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (hash) DO NOTHING";

/// Durability and speed settings, applied to every connection.
const PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA cache_size = -131072;
    PRAGMA wal_autocheckpoint = 16384;
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
    permits: Semaphore,
    /// SQLite has one writer at a time: writers queue here rather than in SQLite's busy
    /// handler, which sleeps in steps of up to 100 ms.
    write_lock: Mutex<()>,
    size: usize,
    in_use: AtomicUsize,
    /// Checked-out time of finished checkouts, in nanoseconds.
    busy_ns: AtomicU64,
    slow: bool,
}

/// What one batch write did.
#[derive(Debug)]
pub(crate) struct Written {
    /// The rows, sorted by key, handed back for publishing.
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
            permits: Semaphore::new(size),
            write_lock: Mutex::new(()),
            size,
            in_use: AtomicUsize::new(0),
            busy_ns: AtomicU64::new(0),
            slow,
        }))
    }

    /// Writes one batch on the blocking pool; waits for a free connection first.
    #[stethoscope::instrument(name = "store", skip_all, fields(rows = txs.len()))]
    pub(crate) async fn write(self: &Arc<Self>, txs: Vec<Tx>) -> Result<Written, String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| "the connection pool is closed".to_owned())?;
        let pool = Arc::clone(self);
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| pool.write_blocking(txs)))
            .await
            .map_err(|e| format!("the storage thread failed: {e}"))?
    }

    fn write_blocking(&self, mut txs: Vec<Tx>) -> Result<Written, String> {
        let conn = self.checkout();
        let started = Instant::now();
        if self.slow {
            // The injected fault: a lock wait on a busy database, connection held.
            std::thread::sleep(SLOW_DB_WAIT);
        }
        txs.sort_unstable_by(|a, b| a.hash.cmp(&b.hash));
        let result = {
            let _writer = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
            write_batch(&conn, &txs)
        };
        self.checkin(conn, started);
        result
            .map(|inserted| Written { txs, inserted })
            .map_err(|e| format!("writing to {}: {e}", self.path.display()))
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

/// One SQLite transaction for the whole batch: per-batch, never per-row, telemetry.
#[stethoscope::instrument(level = "debug", skip_all, fields(rows = txs.len()))]
fn write_batch(conn: &Connection, txs: &[Tx]) -> rusqlite::Result<u64> {
    let tx = conn.unchecked_transaction()?;
    let mut inserted = 0;
    {
        let mut insert = tx.prepare_cached(INSERT)?;
        for t in txs {
            inserted += insert.execute(params![
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
    tx.commit()?;
    Ok(inserted)
}
