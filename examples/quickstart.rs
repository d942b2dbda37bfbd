//! The smallest useful stethoscope program: JSON logs inside spans, with redaction.
//!
//! ```text
//! cargo run --example quickstart
//! LOG_FORMAT=pretty cargo run --example quickstart
//! ```

use stethoscope::{info, info_span, warn};

fn main() -> Result<(), stethoscope::Error> {
    let telemetry = stethoscope::init()?;

    info!(version = env!("CARGO_PKG_VERSION"), "indexer starting");
    for height in 812_000..812_003u64 {
        // Fields recorded on a span appear on every line logged inside it (pino's child logger).
        let block = info_span!("process_block", height, txs = tracing::field::Empty);
        let _entered = block.enter();
        block.record("txs", 3);
        for i in 0..3u32 {
            let tx = info_span!("process_tx", tx_index = i);
            let _tx = tx.enter();
            info!(
                amount = 1_250.5,
                sender = "0xabc",
                password = "hunter2",
                "transaction ingested"
            );
        }
        if height % 2 == 1 {
            warn!(lag_blocks = 4, "indexer is behind the chain head");
        }
    }
    eprintln!("dropped log lines: {}", telemetry.dropped_log_lines());
    Ok(())
}
