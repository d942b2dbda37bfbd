//! The pipeline, stage by stage: source → decode → verify (blocking pool) → store (SQLite pool)
//! → publish (trace context in headers) → consumer service; and the run around it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use stethoscope::propagation;
use tokio::sync::{mpsc, Mutex};

use super::bus::Bus;
use super::cli::{Config, Inject, StoreKind, VerifyKind};
use super::consumer::{self, Aggregate};
use super::decode;
use super::flame::Flame;
use super::queue::{self, Message, Payload, Publisher};
use super::source::{self, Block, SourceConfig};
use super::stats::Stats;
use super::status::{self, Sampler, TICK};
use super::store::{DbPool, POOL_SIZE};
use super::telemetry::{self, Metrics, Telemetry};
use super::tx::Tx;
use super::verify::{self, KeyCache};

/// Blocks in flight: enough to keep verification, storage and publishing of different blocks
/// overlapping on 2 cores, and for the store's group commits to gather several blocks.
const WORKERS: usize = 32;
/// Blocks the source may run ahead of the pipeline.
const SOURCE_BUFFER: usize = 8;

/// Everything a run produced, for the summary and for tests.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) config: Config,
    /// From the first block to the last one consumed.
    pub(crate) elapsed: Duration,
    pub(crate) blocks: u64,
    pub(crate) indexed: u64,
    pub(crate) invalid: u64,
    /// Rows this run inserted.
    pub(crate) inserted: u64,
    /// Rows in the database at the end (`None` without storage).
    pub(crate) rows_in_db: Option<u64>,
    pub(crate) consumed: u64,
    pub(crate) aggregate: Aggregate,
    /// p50, p90, p99 and max of block arrival → published.
    pub(crate) latency: [Duration; 4],
    /// Mean `db_pool_utilization_ratio` over the run.
    pub(crate) pool_utilization: f64,
    /// CPU time the process used during the run (user + system, all threads).
    pub(crate) cpu: Option<std::time::Duration>,
    /// SQLite transactions committed (group commits).
    pub(crate) commits: u64,
    pub(crate) sampler: status::Samples,
    pub(crate) flame: Option<Flame>,
    /// Where the doctor's report was written (HTML; a `.txt` beside it).
    pub(crate) doctor_report: Option<PathBuf>,
    pub(crate) bus_listeners: usize,
    /// Keeps telemetry (admin server, logs) alive until the caller drops the report.
    pub(crate) telemetry: Option<Telemetry>,
}

impl Report {
    /// Indexed transactions per second of the run.
    pub(crate) fn throughput(&self) -> f64 {
        self.indexed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What every block worker shares.
struct Stages {
    inject: Option<Inject>,
    verify: VerifyKind,
    pool: Option<Arc<DbPool>>,
    publisher: Publisher,
    keys: Arc<KeyCache>,
    bus: Arc<Bus>,
    stats: Arc<Stats>,
    metrics: Metrics,
}

/// Runs the indexer as `config` says. Call inside a multi-threaded tokio runtime; the returned
/// report owns the telemetry, so drop it before the runtime.
///
/// # Errors
/// A message saying what failed (telemetry install, database, a stage) and what to do.
pub(crate) async fn run(config: Config) -> Result<Report, String> {
    std::fs::create_dir_all(&config.out).map_err(|e| {
        format!(
            "cannot create the run directory {}: {e}; pass --out with a writable directory",
            config.out.display()
        )
    })?;
    if config.db == Config::new(config.out.clone()).db {
        // The default database is this run's own: start empty.
        for suffix in ["", "-wal", "-shm"] {
            let mut path = config.db.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
    let telemetry =
        telemetry::install(&config).map_err(|e| format!("cannot start telemetry: {e}"))?;
    let pool = match config.store {
        StoreKind::Sqlite => Some(DbPool::open(
            &config.db,
            POOL_SIZE,
            config.inject == Some(Inject::SlowDb),
        )?),
        StoreKind::None => None,
    };
    let stats = Arc::new(Stats::default());
    let metrics = Metrics::new();
    let bus = Arc::new(Bus::default());

    let (publisher, subscription) = queue::open(&config).await?;
    let consumer_dispatch = telemetry
        .as_ref()
        .and_then(|t| t.consumer.as_ref())
        .map(|(d, _)| d.clone());
    let consumer = consumer::spawn(subscription, consumer_dispatch, Arc::clone(&stats))
        .map_err(|e| format!("cannot start the consumer service: {e}"))?;

    // One profiler per run: the doctor's when it watches the run (so that its findings name
    // functions, and the flame graph is drawn from the same samples), else our own.
    let doctor = start_doctor(&config, telemetry.as_ref());
    let profiler = if config.profile && doctor.is_none() {
        Flame::start()
    } else {
        None
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (blocks_tx, blocks_rx) = mpsc::channel::<Block>(SOURCE_BUFFER);
    let source_config = SourceConfig {
        seed: config.seed,
        txs_per_block: config.txs_per_block,
        blocks: config.blocks,
        rate: config.rate,
        sign: config.verify == VerifyKind::Ed25519,
    };
    let source_stop = Arc::clone(&stop);
    let started = Instant::now();
    let cpu_at_start = status::cpu_time();
    let source = std::thread::Builder::new()
        .name("block-source".into())
        .spawn(move || source::run(source_config, blocks_tx, source_stop))
        .map_err(|e| format!("cannot start the block source: {e}"))?;

    let stages = Arc::new(Stages {
        inject: config.inject,
        verify: config.verify,
        pool: pool.clone(),
        publisher,
        keys: Arc::new(KeyCache::default()),
        bus: Arc::clone(&bus),
        stats: Arc::clone(&stats),
        metrics: metrics.clone(),
    });
    let mut sampler = Sampler::new(
        &config,
        Arc::clone(&stats),
        pool.clone(),
        Arc::clone(&bus),
        metrics.clone(),
    );
    let mut ticks = tokio::time::interval(TICK);
    if let Some(t) = &telemetry {
        t.guard.readiness().set_ready(true);
    }
    stethoscope::info!(store = ?config.store, verify = ?config.verify, inject = ?config.inject, txs_per_block = config.txs_per_block, "indexer started");

    let blocks_rx = Arc::new(Mutex::new(blocks_rx));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..WORKERS {
        let stages = Arc::clone(&stages);
        let blocks = Arc::clone(&blocks_rx);
        let stop = Arc::clone(&stop);
        workers.spawn(async move {
            loop {
                let next = blocks.lock().await.recv().await;
                let Some(block) = next else { return Ok(()) };
                if let Err(e) = process_block(&stages, block).await {
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        });
    }
    let deadline = tokio::time::sleep(config.duration);
    tokio::pin!(deadline);
    let mut failure = None;
    loop {
        tokio::select! {
            _ = &mut deadline, if !stop.load(Ordering::Relaxed) => {
                sampler.load_ended();
                stop.store(true, Ordering::Relaxed);
            }
            _ = ticks.tick() => sampler.tick(telemetry.as_ref()),
            done = workers.join_next() => match done {
                None => break,
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => { failure.get_or_insert(e); }
                Some(Err(e)) => { failure.get_or_insert(format!("a pipeline task failed: {e}")); }
            },
        }
    }
    stop.store(true, Ordering::Relaxed);
    // The source may be blocked on a full channel nobody reads any more.
    drop(blocks_rx);
    let _ = source.join();
    // Dropping the last publisher ends the consumer once it has read everything.
    drop(stages);
    let aggregate = consumer
        .join()
        .map_err(|_| "the consumer service panicked".to_owned())?;
    let elapsed = started.elapsed();
    let cpu = status::cpu_time()
        .zip(cpu_at_start)
        .map(|(end, start)| end.saturating_sub(start));
    let samples = sampler.finish(telemetry.as_ref());
    let tx_per_second = Stats::get(&stats.indexed) as f64 / elapsed.as_secs_f64();
    let mut flame = profiler.and_then(|p| p.finish(&config.out, tx_per_second));
    let doctor_report = doctor
        .and_then(|d| finish_doctor(d, &config.out))
        .map(|(path, report)| {
            if let Some(profile) = report.profile() {
                flame = Flame::write(profile, &config.out, tx_per_second);
            }
            path
        });
    if let Some(e) = failure {
        return Err(e);
    }
    let rows_in_db = match &pool {
        Some(pool) => Some(
            pool.count_rows()
                .map_err(|e| format!("counting rows in {}: {e}", config.db.display()))?,
        ),
        None => None,
    };
    let pool_utilization = pool.as_ref().map_or(0.0, |p| {
        p.busy_ns() as f64 / 1e9 / (elapsed.as_secs_f64() * p.size() as f64)
    });
    let report = Report {
        elapsed,
        blocks: Stats::get(&stats.blocks),
        indexed: Stats::get(&stats.indexed),
        invalid: Stats::get(&stats.invalid),
        inserted: Stats::get(&stats.stored),
        rows_in_db,
        consumed: Stats::get(&stats.consumed),
        aggregate,
        latency: [0.5, 0.9, 0.99, 1.0].map(|q| stats.latency_quantile(q)),
        pool_utilization,
        cpu,
        commits: pool.as_ref().map_or(0, |p| p.commits()),
        sampler: samples,
        flame,
        doctor_report,
        bus_listeners: bus.listeners(),
        telemetry,
        config,
    };
    stethoscope::info!(
        indexed = report.indexed,
        invalid = report.invalid,
        consumed = report.consumed,
        tx_per_second = report.throughput() as u64,
        "indexer finished"
    );
    Ok(report)
}

/// One block through every stage.
#[stethoscope::instrument(skip_all, fields(height = block.height, txs = block.txs))]
async fn process_block(stages: &Stages, block: Block) -> Result<(), String> {
    let arrived = block.arrived;
    let height = block.height;
    let verified = decode_and_verify(stages, block).await?;
    stages
        .metrics
        .invalid
        .increment(u64::from(verified.invalid));
    Stats::add(&stages.stats.invalid, u64::from(verified.invalid));
    let (txs, inserted) = match &stages.pool {
        Some(pool) => {
            let written = pool.write(verified.valid).await?;
            (written.txs, written.inserted)
        }
        None => (verified.valid, 0),
    };
    publish(stages, &txs, height).await?;

    // Per block, never per transaction: every transaction of a block shares its latency.
    let n = txs.len() as u64;
    let latency = arrived.elapsed();
    stages
        .metrics
        .processing
        .record_many(latency.as_secs_f64(), txs.len());
    stages.metrics.indexed.increment(n);
    stages.stats.record_latency(latency, n);
    Stats::add(&stages.stats.indexed, n);
    Stats::add(&stages.stats.stored, inserted);
    Stats::add(&stages.stats.blocks, 1);
    stethoscope::debug!(
        indexed = n,
        latency_ms = latency.as_secs_f64() * 1e3,
        "block indexed"
    );
    Ok(())
}

/// Decoding and verification, on the blocking pool — except with `--inject hot-parse`, where
/// decoding runs (slowly) right here on the runtime worker.
async fn decode_and_verify(stages: &Stages, block: Block) -> Result<verify::Verified, String> {
    let kind = stages.verify;
    let span = tracing::Span::current();
    let keys = Arc::clone(&stages.keys);
    let pending = if stages.inject == Some(Inject::HotParse) {
        let decoded = decode::decode_block_slowly(&block.raw);
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                (
                    verify::verify_batch(decoded.txs, kind, &keys),
                    decoded.malformed,
                )
            })
        })
    } else {
        tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                let decoded = decode::decode_block(&block.raw);
                (
                    verify::verify_batch(decoded.txs, kind, &keys),
                    decoded.malformed,
                )
            })
        })
    };
    let (mut verified, malformed) = pending
        .await
        .map_err(|e| format!("verification failed: {e}"))?;
    verified.invalid += malformed;
    Ok(verified)
}

/// Publishes one message per transaction, every one carrying this span's trace context.
#[stethoscope::instrument(skip_all, fields(otel.kind = "producer", messages = txs.len()))]
async fn publish(stages: &Stages, txs: &[Tx], height: u64) -> Result<(), String> {
    let mut headers = http::HeaderMap::new();
    propagation::inject_current(&mut headers);
    let messages: Vec<Message> = txs
        .iter()
        .map(|tx| Message {
            headers: headers.clone(),
            key: tx.hash,
            payload: Payload::of(tx),
        })
        .collect();
    // Live clients get a notification per block through the bus; a stream opens per block.
    let stream = stages.bus.subscribe();
    stages.bus.announce(height);
    if stages.inject == Some(Inject::Leak) {
        stream.leak();
    } else {
        drop(stream);
    }
    stages.publisher.send(messages).await
}

/// Watches the run with stethoscope's doctor on its own thread, for the run's duration plus a
/// moment, so that building its report (symbolizing its CPU profile takes tens of MiB for a
/// second) starts after the load and its end-of-load RSS reading; only for duration-bound runs
/// with telemetry on. The flame graph's profiler already samples the CPU, so the doctor takes no
/// profile (the run's flame graph is drawn from the doctor's) unless `--no-profile`.
fn start_doctor(
    config: &Config,
    telemetry: Option<&telemetry::Telemetry>,
) -> Option<std::thread::JoinHandle<Result<stethoscope::doctor::Report, stethoscope::Error>>> {
    let telemetry = telemetry?;
    if config.blocks.is_some() {
        return None;
    }
    let window = (config.duration + Duration::from_millis(200)).max(Duration::from_secs(1));
    let doctor = telemetry
        .guard
        .doctor()
        .with_runtime(tokio::runtime::Handle::current())
        .with_cpu_profile(config.profile);
    std::thread::Builder::new()
        .name("indexer-doctor".into())
        .spawn(move || doctor.observe_blocking(window))
        .ok()
}

/// Writes the doctor's report as `doctor.html` and `doctor.txt` in the run directory; returns
/// the HTML's path and the report.
fn finish_doctor(
    doctor: std::thread::JoinHandle<Result<stethoscope::doctor::Report, stethoscope::Error>>,
    out: &std::path::Path,
) -> Option<(PathBuf, stethoscope::doctor::Report)> {
    let report = match doctor.join() {
        Ok(Ok(report)) => report,
        Ok(Err(e)) => {
            stethoscope::warn!(error = %e, "the doctor could not observe the run");
            return None;
        }
        Err(_) => return None,
    };
    let html = out.join("doctor.html");
    let written = std::fs::write(&html, report.to_html())
        .and_then(|()| std::fs::write(out.join("doctor.txt"), report.to_text()));
    match written {
        Ok(()) => Some((html, report)),
        Err(e) => {
            stethoscope::warn!(error = %e, path = %html.display(), "cannot write the doctor's report");
            None
        }
    }
}
