//! The message queue between the indexer and the consumer service: each indexed transaction is
//! one message whose headers carry the trace context (`traceparent`, `tracestate`, `baggage`).
//!
//! By default an in-process bounded channel of real `http::HeaderMap` headers; with the `kafka`
//! feature and `--kafka`, Kafka (see `kafka.rs`).

use tokio::sync::mpsc;

use super::tx::Tx;

/// Batches (one block's messages each) the channel holds before the publisher waits.
pub(crate) const CHANNEL_CAPACITY: usize = 64;

/// One indexed transaction, as published.
#[derive(Clone, Debug)]
pub(crate) struct Message {
    pub(crate) headers: http::HeaderMap,
    /// The transaction hash.
    pub(crate) key: [u8; 32],
    /// Sender, amount, fee: what the consumer aggregates ([`Payload`]).
    pub(crate) payload: Vec<u8>,
}

/// The fields of a message payload: `from` (32 bytes), then `amount` and `fee` (little-endian
/// u64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Payload {
    pub(crate) from: [u8; 32],
    pub(crate) amount: u64,
    pub(crate) fee: u64,
}

impl Payload {
    pub(crate) const LEN: usize = 48;

    pub(crate) fn of(tx: &Tx) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::LEN);
        out.extend_from_slice(&tx.from);
        out.extend_from_slice(&tx.amount.to_le_bytes());
        out.extend_from_slice(&tx.fee.to_le_bytes());
        out
    }

    pub(crate) fn parse(bytes: &[u8]) -> Option<Payload> {
        if bytes.len() != Self::LEN {
            return None;
        }
        Some(Payload {
            from: bytes[..32].try_into().ok()?,
            amount: u64::from_le_bytes(bytes[32..40].try_into().ok()?),
            fee: u64::from_le_bytes(bytes[40..48].try_into().ok()?),
        })
    }
}

/// The producer side.
#[derive(Debug, Clone)]
pub(crate) enum Publisher {
    Channel(mpsc::Sender<Vec<Message>>),
    #[cfg(feature = "kafka")]
    Kafka(super::kafka::KafkaPublisher),
}

/// The consumer side.
#[derive(Debug)]
pub(crate) enum Subscription {
    Channel(mpsc::Receiver<Vec<Message>>),
    #[cfg(feature = "kafka")]
    Kafka(super::kafka::KafkaSubscription),
}

/// An in-process queue.
pub(crate) fn channel() -> (Publisher, Subscription) {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    (Publisher::Channel(tx), Subscription::Channel(rx))
}

impl Publisher {
    /// Publishes one block's messages; waits while the queue is full (backpressure).
    pub(crate) async fn send(&self, messages: Vec<Message>) -> Result<(), String> {
        match self {
            Publisher::Channel(tx) => tx
                .send(messages)
                .await
                .map_err(|_| "the consumer service stopped".to_owned()),
            #[cfg(feature = "kafka")]
            Publisher::Kafka(kafka) => kafka.send(messages).await,
        }
    }
}

impl Subscription {
    /// The next batch of messages, or `None` once the producer is gone and all was read.
    /// Blocks: the consumer service runs on its own thread.
    pub(crate) fn next_batch(&mut self) -> Option<Vec<Message>> {
        match self {
            Subscription::Channel(rx) => rx.blocking_recv(),
            #[cfg(feature = "kafka")]
            Subscription::Kafka(kafka) => kafka.next_batch(),
        }
    }
}

/// The queue `config` asks for: the in-process channel, or Kafka.
pub(crate) async fn open(config: &super::cli::Config) -> Result<(Publisher, Subscription), String> {
    match &config.queue {
        super::cli::QueueKind::Channel => Ok(channel()),
        #[cfg(feature = "kafka")]
        super::cli::QueueKind::Kafka(brokers) => super::kafka::open(brokers).await,
    }
}
