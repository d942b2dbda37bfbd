//! A short bounded run of the example indexer (in process): every valid transaction lands in
//! SQLite and reaches the consumer, `/metrics` shows the seed's metrics with consistent counts,
//! every log line is JSON, and the producer's and the consumer service's spans share trace ids
//! at an OTLP collector.

mod http;
mod indexer;
mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use prometheus_parse::{Sample, Value};
use support::collector::{hex, Behaviour, Collector};

const BLOCKS: u64 = 24;
const TXS: u32 = 250;

fn sample_value(
    scrape: &prometheus_parse::Scrape,
    name: &str,
    labels: &[(&str, &str)],
) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s: &&Sample| {
            s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v))
        })
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            other => panic!("{name}: unexpected {other:?}"),
        })
}

#[test]
fn a_bounded_run_stores_counts_logs_and_traces_every_transaction() {
    let collector = Collector::start(Behaviour::Accept);
    let mut config = indexer::bounded("indexer-e2e", BLOCKS, TXS);
    config.otlp_endpoint = Some(collector.url());
    let log_file = config.log_file.clone().unwrap();
    let db = config.db.clone();
    let runtime = support::two_worker_runtime();
    let report = runtime
        .block_on(indexer::pipeline::run(config))
        .expect("the run succeeds");

    // Every transaction is accounted for: the source corrupts one in 5,000.
    let total = BLOCKS * u64::from(TXS);
    assert_eq!(report.blocks, BLOCKS);
    assert_eq!(report.invalid, total / indexer::source::INVALID_EVERY);
    assert_eq!(report.indexed + report.invalid, total);
    assert_eq!(
        report.consumed, report.indexed,
        "the consumer saw every message"
    );

    // All of them are in SQLite, under their hashes.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let rows: u64 = conn
        .query_row("SELECT count(*) FROM transactions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, report.indexed);
    let mut xor = [0u8; 32];
    let mut stmt = conn.prepare("SELECT hash FROM transactions").unwrap();
    for hash in stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
        for (x, b) in xor.iter_mut().zip(hash.unwrap()) {
            *x ^= b;
        }
    }
    assert_eq!(
        xor, report.aggregate.keys_xor,
        "the consumer got exactly the stored keys"
    );

    // /metrics: the seed's names, counts matching the run.
    let telemetry = report.telemetry.as_ref().expect("telemetry is on");
    let admin = telemetry.guard.admin_addr().expect("the admin server runs");
    let mut scrape = http::scrape(admin, &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sample_value(&scrape, "tokio_runtime_busy_ratio", &[]).is_none()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
        scrape = http::scrape(admin, &[]);
    }
    let indexed = [("status", "indexed"), ("network", "mainnet")];
    let invalid = [("status", "invalid"), ("network", "mainnet")];
    assert_eq!(
        sample_value(&scrape, "transactions_ingested_total", &indexed),
        Some(report.indexed as f64)
    );
    assert_eq!(
        sample_value(&scrape, "transactions_ingested_total", &invalid),
        Some(report.invalid as f64)
    );
    assert_eq!(
        sample_value(
            &scrape,
            "transaction_processing_duration_seconds",
            &[("network", "mainnet")]
        ),
        Some(report.indexed as f64),
        "one observation per indexed transaction"
    );
    assert_eq!(
        sample_value(&scrape, "indexer_messages_consumed_total", &[]),
        Some(report.consumed as f64)
    );
    let pool =
        sample_value(&scrape, "db_pool_utilization_ratio", &[]).expect("db_pool_utilization_ratio");
    assert!((0.0..=1.0).contains(&pool), "{pool}");
    for name in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "tokio_runtime_busy_ratio",
    ] {
        assert!(sample_value(&scrape, name, &[]).is_some(), "{name} missing");
    }

    // Shut telemetry down (flushes logs, exports spans), then read what it wrote.
    drop(report);
    drop(runtime);
    let text = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let message = |m: &str| {
        lines
            .iter()
            .find(|l| l["message"] == m)
            .unwrap_or_else(|| panic!("no {m:?} line in\n{text}"))
    };
    assert_eq!(message("indexer started")["service"], "indexer");
    assert_eq!(
        message("indexer finished")["indexed"],
        total - total / indexer::source::INVALID_EVERY
    );
    assert_eq!(message("consumer finished")["service"], "indexer-consumer");

    // Traces: each consumer span continues a producer span of the indexer.
    let spans = collector.spans();
    let publishes: HashMap<String, (String, String)> = spans
        .iter()
        .filter(|(_, s)| s.name == "publish")
        .map(|(service, s)| (hex(&s.span_id), (service.clone(), hex(&s.trace_id))))
        .collect();
    let consumes: Vec<_> = spans.iter().filter(|(_, s)| s.name == "consume").collect();
    assert_eq!(
        publishes.len(),
        BLOCKS as usize,
        "one publish span per block"
    );
    assert_eq!(
        consumes.len(),
        BLOCKS as usize,
        "one consume span per block"
    );
    let mut traces = HashSet::new();
    for (service, consume) in consumes {
        assert!(service.contains("indexer-consumer"), "{service}");
        let (producer, trace) = publishes
            .get(&hex(&consume.parent_span_id))
            .expect("the consume span's parent is a publish span");
        assert!(producer.contains("\"indexer\""), "{producer}");
        assert_eq!(
            &hex(&consume.trace_id),
            trace,
            "producer and consumer share the trace id"
        );
        traces.insert(trace.clone());
    }
    assert_eq!(traces.len(), BLOCKS as usize, "a trace per block");
}
