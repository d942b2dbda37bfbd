//! Kafka as the message queue (`--features kafka`, `--kafka BROKERS` or `--kafka mock`): the
//! same messages, with the trace context injected into and read from Kafka headers through
//! stethoscope's `rdkafka` carriers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Message as _, OwnedHeaders};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use stethoscope::propagation::{self, Carrier, CarrierMut};

use super::queue::{Message, Publisher, Subscription};

const TOPIC: &str = "indexed-transactions";
/// Messages the consumer takes per poll round at most.
const POLL_BATCH: usize = 4096;

/// Ends the consumer once the producer is gone and every published message was read.
#[derive(Debug, Default)]
struct Progress {
    published: AtomicU64,
    producer_done: AtomicBool,
}

/// Marks the producer done (after flushing) when the last publisher clone goes away.
struct Flusher {
    producer: ThreadedProducer<DefaultProducerContext>,
    progress: Arc<Progress>,
}

impl Drop for Flusher {
    fn drop(&mut self) {
        if let Err(e) = self.producer.flush(Duration::from_secs(30)) {
            stethoscope::error!(error = %e, "flushing Kafka messages failed");
        }
        self.progress.producer_done.store(true, Ordering::SeqCst);
    }
}

/// The Kafka producer side.
#[derive(Clone)]
pub(crate) struct KafkaPublisher(Arc<Flusher>);

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KafkaPublisher")
    }
}

/// The Kafka consumer side.
pub(crate) struct KafkaSubscription {
    consumer: BaseConsumer,
    progress: Arc<Progress>,
    consumed: u64,
    /// Keeps `--kafka mock`'s in-process cluster (on its own thread) alive until dropped.
    _cluster: Option<std::sync::mpsc::Sender<()>>,
}

impl std::fmt::Debug for KafkaSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KafkaSubscription")
    }
}

/// Connects to `brokers` (or starts a mock cluster for `mock`).
pub(crate) async fn open(brokers: &str) -> Result<(Publisher, Subscription), String> {
    let explain =
        |e: KafkaError| format!("Kafka at {brokers:?}: {e}; check --kafka (host:port,... or mock)");
    let (cluster, servers) = if brokers == "mock" {
        let (stop, servers) = mock_cluster().map_err(explain)?;
        (Some(stop), servers)
    } else {
        (None, brokers.to_owned())
    };
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &servers)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .map_err(explain)?;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &servers)
        .set("group.id", super::consumer::SERVICE_NAME)
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(explain)?;
    consumer.subscribe(&[TOPIC]).map_err(explain)?;
    let progress = Arc::new(Progress::default());
    let publisher = KafkaPublisher(Arc::new(Flusher {
        producer,
        progress: Arc::clone(&progress),
    }));
    let subscription = KafkaSubscription {
        consumer,
        progress,
        consumed: 0,
        _cluster: cluster,
    };
    Ok((
        Publisher::Kafka(publisher),
        Subscription::Kafka(subscription),
    ))
}

/// Starts rdkafka's mock cluster on a thread of its own (it cannot move between threads); it
/// runs until the returned sender is dropped.
fn mock_cluster() -> Result<(std::sync::mpsc::Sender<()>, String), KafkaError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        let started = MockCluster::new(1).and_then(|cluster| {
            cluster.create_topic(TOPIC, 1, 1)?;
            Ok(cluster)
        });
        match started {
            Ok(cluster) => {
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Returns once the sender is dropped.
                let _ = stop_rx.recv();
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
            }
        }
    });
    let servers = ready_rx
        .recv()
        .unwrap_or(Err(KafkaError::Global(RDKafkaErrorCode::Fail)))?;
    Ok((stop_tx, servers))
}

impl KafkaPublisher {
    /// Produces each message with the trace context in its Kafka headers.
    pub(crate) async fn send(&self, messages: Vec<Message>) -> Result<(), String> {
        // The current span (the caller's `publish`) goes into the headers once per batch.
        let mut headers = OwnedHeaders::new();
        propagation::inject_current(&mut headers);
        for m in &messages {
            loop {
                let record = BaseRecord::to(TOPIC)
                    .key(&m.key[..])
                    .payload(&m.payload[..])
                    .headers(headers.clone());
                match self.0.producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err((e, _)) => return Err(format!("producing to Kafka: {e}")),
                }
            }
        }
        self.0
            .progress
            .published
            .fetch_add(messages.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

impl KafkaSubscription {
    /// Polls a batch of messages; `None` once the producer is done and all was read.
    pub(crate) fn next_batch(&mut self) -> Option<Vec<Message>> {
        loop {
            let mut batch = Vec::new();
            let mut wait = Duration::from_millis(100);
            while batch.len() < POLL_BATCH {
                match self.consumer.poll(wait) {
                    Some(Ok(m)) => {
                        let key = m.key().and_then(|k| k.try_into().ok()).unwrap_or([0; 32]);
                        let mut headers = http::HeaderMap::new();
                        if let Some(kafka) = m.headers() {
                            // Read through stethoscope's Kafka carrier, keep as headers.
                            for name in kafka.keys() {
                                if let Some(value) = kafka.get(name) {
                                    headers.set(name, value.to_owned());
                                }
                            }
                        }
                        batch.push(Message {
                            headers,
                            key,
                            payload: m.payload().unwrap_or_default().to_vec(),
                        });
                        wait = Duration::ZERO;
                    }
                    Some(Err(e)) => {
                        stethoscope::warn!(error = %e, "Kafka consumer error");
                        break;
                    }
                    None => break,
                }
            }
            self.consumed += batch.len() as u64;
            if !batch.is_empty() {
                return Some(batch);
            }
            let done = self.progress.producer_done.load(Ordering::SeqCst);
            if done && self.consumed >= self.progress.published.load(Ordering::SeqCst) {
                return None;
            }
        }
    }
}
