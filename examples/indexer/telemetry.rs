//! Turning stethoscope on for the indexer (one `install` for the indexer, one scoped subscriber
//! for the consumer service), or leaving everything off for the `--no-telemetry` baseline.

use stethoscope::metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter,
    Gauge, Histogram, Unit,
};
use stethoscope::{Guard, LogOutput, Stethoscope};

use super::cli::Config;
use super::consumer;

/// The network label of the seed's metrics.
pub(crate) const NETWORK: &str = "mainnet";
/// The indexer's `service.name`.
pub(crate) const SERVICE_NAME: &str = "indexer";

/// Buckets for `transaction_processing_duration_seconds`.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// The installed telemetry; dropping it flushes logs and spans.
#[derive(Debug)]
pub(crate) struct Telemetry {
    /// The indexer's (global) telemetry.
    pub(crate) guard: Guard,
    /// The consumer service's subscriber and its guard.
    pub(crate) consumer: Option<(tracing::Dispatch, Guard)>,
}

fn builder(config: &Config, service: &str) -> Result<stethoscope::Builder, stethoscope::Error> {
    // The per-block stages (`decode_block`, `verify_batch`) are `debug` spans: exported and
    // timed, not logged, unless STETHOSCOPE_TRACE_FILTER (read after this) says otherwise.
    let mut builder = Stethoscope::builder()
        .with_trace_filter(&format!(
            "info,{}=debug",
            module_path!().split("::").next().unwrap_or("indexer")
        ))?
        .from_env()?
        .with_service_name(service);
    builder = builder.with_log_output(match &config.log_file {
        Some(path) => LogOutput::File(path.clone()),
        None => LogOutput::Stdout,
    });
    if let Some(endpoint) = &config.otlp_endpoint {
        builder = builder.with_otlp_endpoint(endpoint)?;
    }
    Ok(builder)
}

/// Installs the indexer's telemetry (call inside the runtime, so that it is monitored) and
/// builds the consumer service's, or nothing at all for `--no-telemetry`.
pub(crate) fn install(config: &Config) -> Result<Option<Telemetry>, stethoscope::Error> {
    if !config.telemetry {
        return Ok(None);
    }
    let mut indexer = builder(config, SERVICE_NAME)?
        .with_histogram_buckets("transaction_processing_duration_seconds", DURATION_BUCKETS)?
        .with_operation_stats(true, false)
        // Histogram observations queue until the next upkeep: at 250,000 tx/s the default 5 s
        // lets ~10 MB pile up between drains, which shows as RSS growth.
        .with_metrics_sample_interval(std::time::Duration::from_secs(1))?;
    if let Some(addr) = config.admin {
        indexer = indexer.with_admin_addr(addr);
    }
    let guard = indexer.install()?;
    describe();
    let consumer = builder(config, consumer::SERVICE_NAME)?.into_dispatch()?;
    Ok(Some(Telemetry {
        guard,
        consumer: Some(consumer),
    }))
}

/// The indexer's metric handles: looked up once, cheap to use on hot paths; no-ops when no
/// recorder is installed.
#[derive(Debug, Clone)]
pub(crate) struct Metrics {
    pub(crate) indexed: Counter,
    pub(crate) invalid: Counter,
    pub(crate) processing: Histogram,
    pub(crate) pool_utilization: Gauge,
    pub(crate) bus_listeners: Gauge,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            indexed: counter!("transactions_ingested_total", "status" => "indexed", "network" => NETWORK),
            invalid: counter!("transactions_ingested_total", "status" => "invalid", "network" => NETWORK),
            processing: histogram!("transaction_processing_duration_seconds", "network" => NETWORK),
            pool_utilization: gauge!("db_pool_utilization_ratio"),
            bus_listeners: gauge!("indexer_bus_listeners"),
        }
    }
}

fn describe() {
    describe_counter!(
        "transactions_ingested_total",
        Unit::Count,
        "Transactions ingested, by outcome (indexed or invalid) and network."
    );
    describe_histogram!(
        "transaction_processing_duration_seconds",
        Unit::Seconds,
        "Time from a block's arrival to its transactions being stored and published."
    );
    describe_gauge!(
        "db_pool_utilization_ratio",
        "Share of the database connection pool's time that connections were checked out."
    );
    describe_gauge!(
        "indexer_bus_listeners",
        Unit::Count,
        "Listeners subscribed to the block bus (live notification streams)."
    );
    describe_counter!(
        "indexer_messages_consumed_total",
        Unit::Count,
        "Messages processed by the consumer service."
    );
}
