//! The example indexer's modules (examples/indexer), compiled into the test binaries that run
//! its pipeline in process: no second cargo, no dependence on examples being built first.

#![allow(dead_code)] // each test binary uses a different subset

#[path = "../../examples/indexer/bus.rs"]
pub(crate) mod bus;
#[path = "../../examples/indexer/cli.rs"]
pub(crate) mod cli;
#[path = "../../examples/indexer/consumer.rs"]
pub(crate) mod consumer;
#[path = "../../examples/indexer/decode.rs"]
pub(crate) mod decode;
#[path = "../../examples/indexer/flame.rs"]
pub(crate) mod flame;
#[path = "../../examples/indexer/hex.rs"]
pub(crate) mod hex;
#[cfg(feature = "kafka")]
#[path = "../../examples/indexer/kafka.rs"]
pub(crate) mod kafka;
#[path = "../../examples/indexer/pipeline.rs"]
pub(crate) mod pipeline;
#[path = "../../examples/indexer/queue.rs"]
pub(crate) mod queue;
#[path = "../../examples/indexer/source.rs"]
pub(crate) mod source;
#[path = "../../examples/indexer/stats.rs"]
pub(crate) mod stats;
#[path = "../../examples/indexer/status.rs"]
pub(crate) mod status;
#[path = "../../examples/indexer/store.rs"]
pub(crate) mod store;
#[path = "../../examples/indexer/summary.rs"]
pub(crate) mod summary;
#[path = "../../examples/indexer/telemetry.rs"]
pub(crate) mod telemetry;
#[path = "../../examples/indexer/tx.rs"]
pub(crate) mod tx;
#[path = "../../examples/indexer/verify.rs"]
pub(crate) mod verify;

use std::path::PathBuf;

use cli::Config;

/// A fresh run directory for one test.
pub(crate) fn run_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stethoscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A short bounded run: `blocks` blocks of `txs` transactions, admin on an ephemeral port,
/// no CPU profile (other tests cover it), no status line.
pub(crate) fn bounded(name: &str, blocks: u64, txs: u32) -> Config {
    let mut config = Config::new(run_dir(name));
    config.blocks = Some(blocks);
    config.txs_per_block = txs;
    config.duration = std::time::Duration::from_secs(120);
    config.admin = Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    config.profile = false;
    config
}

/// A run bound by time rather than blocks, so that the doctor watches it: `seconds` of load
/// with blocks of `txs` transactions.
pub(crate) fn timed(name: &str, seconds: u64, txs: u32) -> Config {
    let mut config = bounded(name, 0, txs);
    config.blocks = None;
    config.duration = std::time::Duration::from_secs(seconds);
    config
}

/// The text rendering of the doctor's report of a run (`doctor.txt` beside `doctor.html`).
pub(crate) fn doctor_text(report: &pipeline::Report) -> String {
    let html = report
        .doctor_report
        .as_ref()
        .expect("a time-bound run with telemetry has a doctor's report");
    std::fs::read_to_string(html.with_file_name("doctor.txt")).expect("doctor.txt is written")
}
