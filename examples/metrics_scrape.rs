//! Installs stethoscope, records a few metrics and prints what `GET /metrics` would serve.
//!
//! CI pipes the output into `promtool check metrics`:
//!
//! ```sh
//! cargo run --example metrics_scrape | promtool check metrics
//! ```

use std::time::Duration;

use stethoscope::metric::start_timer;
use stethoscope::metrics::{counter, gauge, histogram};
use stethoscope::{LogOutput, Stethoscope};

fn main() -> Result<(), stethoscope::Error> {
    let telemetry = Stethoscope::builder()
        .with_log_output(LogOutput::Stderr) // stdout carries the exposition
        .without_admin()
        .with_metric_label_set_limit(3) // small, so the output shows an `other` series
        .with_histogram_buckets(
            "transaction_processing_duration_seconds",
            &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0],
        )?
        .install()?;
    stethoscope::metrics::describe_counter!(
        "transactions_ingested_total",
        "Transactions read from the block source."
    );
    stethoscope::metrics::describe_histogram!(
        "transaction_processing_duration_seconds",
        stethoscope::metrics::Unit::Seconds,
        "Time to verify and store one transaction."
    );
    stethoscope::metrics::describe_gauge!(
        "db_pool_utilization_ratio",
        "Share of database connections in use."
    );
    // `promtool check metrics` wants help text on every metric: describe each one once.
    stethoscope::metrics::describe_histogram!("block_batch_size", "Transactions per block batch.");
    stethoscope::metrics::describe_counter!("peer_messages_total", "Messages received per peer.");

    let ingested = counter!("transactions_ingested_total");
    for _ in 0..25 {
        let _timer = start_timer(histogram!("transaction_processing_duration_seconds"));
        ingested.increment(1);
        std::thread::sleep(Duration::from_millis(1));
    }
    gauge!("db_pool_utilization_ratio").set(0.4);
    // No buckets configured and no `_seconds` suffix: rendered as a summary.
    histogram!("block_batch_size").record(500.0);
    for peer in ["a", "b", "c", "d", "e"] {
        counter!("peer_messages_total", "peer" => peer).increment(1);
    }

    print!("{}", telemetry.render_metrics().unwrap_or_default());
    Ok(())
}
