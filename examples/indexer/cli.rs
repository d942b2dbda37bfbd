//! The command line: every flag of `cargo run --example indexer -- --help`, parsed by clap into a
//! [`Config`] the pipeline runs from (tests build a `Config` directly).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// A blockchain indexer under load: every stethoscope pillar on a real pipeline.
///
/// A seeded block source → JSON decode → SHA-256 (or ed25519) verification on the blocking
/// pool → batched writes into SQLite → publish with the trace context in message headers → a
/// consumer service that continues the trace.
#[derive(Debug, Parser)]
#[command(name = "indexer", version, about, long_about = None)]
pub(crate) struct Args {
    /// Stop after this many blocks (default: run for --duration).
    #[arg(long)]
    pub(crate) blocks: Option<u64>,
    /// Transactions in each block; a block is the unit of every batch downstream.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub(crate) txs_per_block: u32,
    /// Target transactions per second; 0 runs as fast as the pipeline allows.
    #[arg(long, default_value_t = 0)]
    pub(crate) rate: u64,
    /// How long to generate load, e.g. 10s, 1m, 500ms.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub(crate) duration: Duration,
    /// Keep serving the admin endpoints after the run, for scraping, until interrupted.
    #[arg(long)]
    pub(crate) serve: bool,
    /// Admin server address (/metrics, /healthz, /debug/pprof/*); default
    /// STETHOSCOPE_ADMIN_ADDR or 127.0.0.1:9464.
    #[arg(long)]
    pub(crate) admin: Option<SocketAddr>,
    /// Run the same pipeline with all instrumentation off: the baseline for overhead.
    #[arg(long)]
    pub(crate) no_telemetry: bool,
    /// Where transactions go. `none` skips the storage stage: a benchmark mode that measures
    /// everything else.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite)]
    pub(crate) store: StoreKind,
    /// The SQLite database file (default: a fresh file in the run directory).
    #[arg(long)]
    pub(crate) db: Option<PathBuf>,
    /// What verification checks: each transaction's SHA-256, or also its ed25519 signature
    /// (batch-verified, ~20 µs per transaction: much lower throughput).
    #[arg(long, value_enum, default_value_t = VerifyKind::Sha256)]
    pub(crate) verify: VerifyKind,
    /// Reproduce one of the seed's incidents (see docs/runbook.md).
    #[arg(long, value_enum)]
    pub(crate) inject: Option<Inject>,
    /// Do not capture a CPU profile during the run.
    #[arg(long)]
    pub(crate) no_profile: bool,
    /// Where JSON logs go: a file, or `-` for stdout (default: indexer.log in the run directory).
    #[arg(long)]
    pub(crate) log_file: Option<PathBuf>,
    /// Directory for the database, logs and profiles (default: $TMPDIR/stethoscope-indexer).
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Publish to Kafka instead of the in-process channel: `host:port,...`, or `mock` for
    /// rdkafka's in-process mock cluster.
    #[cfg(feature = "kafka")]
    #[arg(long)]
    pub(crate) kafka: Option<String>,
}

/// `--store`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StoreKind {
    /// Durable embedded SQLite (WAL, synchronous=NORMAL).
    Sqlite,
    /// No storage stage (benchmark mode).
    None,
}

/// `--verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum VerifyKind {
    /// Recompute each transaction's SHA-256 and compare it with the claimed hash.
    Sha256,
    /// SHA-256, plus ed25519 batch verification of each transaction's signature.
    Ed25519,
}

/// `--inject`: the seed's pathologies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Inject {
    /// A subscriber is registered on a shared bus per connection and never removed (the
    /// WebSocket listener leak).
    Leak,
    /// JSON is decoded synchronously on the runtime's workers, and slowly.
    HotParse,
    /// The storage stage waits on a slow database while holding its connection.
    SlowDb,
}

/// Where messages are published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QueueKind {
    /// An in-process bounded channel with real header maps.
    Channel,
    /// Kafka at these bootstrap servers (`mock`: rdkafka's in-process cluster).
    #[cfg(feature = "kafka")]
    Kafka(String),
}

/// Everything a run needs; [`Args::into_config`] fills it from the command line.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) blocks: Option<u64>,
    pub(crate) txs_per_block: u32,
    pub(crate) rate: u64,
    pub(crate) duration: Duration,
    pub(crate) serve: bool,
    pub(crate) admin: Option<SocketAddr>,
    pub(crate) telemetry: bool,
    pub(crate) store: StoreKind,
    pub(crate) db: PathBuf,
    pub(crate) verify: VerifyKind,
    pub(crate) inject: Option<Inject>,
    pub(crate) profile: bool,
    /// `None`: stdout.
    pub(crate) log_file: Option<PathBuf>,
    pub(crate) out: PathBuf,
    pub(crate) queue: QueueKind,
    /// Export spans here (tests); otherwise `OTEL_EXPORTER_OTLP_ENDPOINT` decides.
    pub(crate) otlp_endpoint: Option<String>,
    /// Show the live status line (only when stderr is a terminal).
    pub(crate) status_line: bool,
    /// The block source's seed: the same seed produces the same transactions.
    pub(crate) seed: u64,
}

impl Config {
    /// The defaults of the command line, with the run directory `out`.
    pub(crate) fn new(out: PathBuf) -> Config {
        Config {
            blocks: None,
            txs_per_block: 1000,
            rate: 0,
            duration: Duration::from_secs(10),
            serve: false,
            admin: None,
            telemetry: true,
            store: StoreKind::Sqlite,
            db: out.join("indexer.db"),
            verify: VerifyKind::Sha256,
            inject: None,
            profile: true,
            log_file: Some(out.join("indexer.log")),
            out,
            queue: QueueKind::Channel,
            otlp_endpoint: None,
            status_line: false,
            seed: 812_000,
        }
    }
}

impl Args {
    pub(crate) fn into_config(self) -> Config {
        let out = self
            .out
            .unwrap_or_else(|| std::env::temp_dir().join("stethoscope-indexer"));
        let mut config = Config::new(out);
        config.blocks = self.blocks;
        config.txs_per_block = self.txs_per_block;
        config.rate = self.rate;
        config.duration = self.duration;
        config.serve = self.serve;
        config.admin = self.admin;
        config.telemetry = !self.no_telemetry;
        config.store = self.store;
        if let Some(db) = self.db {
            config.db = db;
        }
        config.verify = self.verify;
        config.inject = self.inject;
        config.profile = !self.no_profile && !self.no_telemetry;
        config.log_file = match self.log_file {
            Some(p) if p.as_os_str() == "-" => None,
            Some(p) => Some(p),
            None => config.log_file,
        };
        #[cfg(feature = "kafka")]
        if let Some(brokers) = self.kafka {
            config.queue = QueueKind::Kafka(brokers);
        }
        config.status_line = std::io::IsTerminal::is_terminal(&std::io::stderr());
        config
    }
}

/// `10s`, `1m`, `500ms`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected a duration such as 10s, 1m or 500ms, got {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}: use ms, s, m or h"
            ))
        }
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(format!("the duration must be positive, got {text:?}"));
    }
    Ok(Duration::from_secs_f64(seconds))
}
