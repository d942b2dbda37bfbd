//! The consumer service: a separate service (its own `service.name`, its own subscriber) that
//! reads the indexer's messages, continues each message's trace from its headers and keeps a
//! running aggregate, on a thread of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use stethoscope::propagation;

use super::queue::{Message, Payload, Subscription};
use super::stats::Stats;

/// The consumer's `service.name`.
pub(crate) const SERVICE_NAME: &str = "indexer-consumer";

/// What the consumer computed.
#[derive(Debug, Default)]
pub(crate) struct Aggregate {
    pub(crate) messages: u64,
    pub(crate) malformed: u64,
    pub(crate) volume: u128,
    pub(crate) fees: u128,
    /// XOR of every message key: equal to the XOR of the stored hashes when nothing was lost.
    pub(crate) keys_xor: [u8; 32],
    /// Value sent per account.
    pub(crate) by_sender: HashMap<[u8; 32], u128>,
}

/// Starts the service; it ends when the publisher is dropped and every message is consumed.
pub(crate) fn spawn(
    mut subscription: Subscription,
    dispatch: Option<tracing::Dispatch>,
    stats: Arc<Stats>,
) -> std::io::Result<JoinHandle<Aggregate>> {
    std::thread::Builder::new()
        .name("consumer".into())
        .spawn(move || {
            let mut run = || run(&mut subscription, &stats);
            match dispatch {
                Some(dispatch) => tracing::dispatcher::with_default(&dispatch, run),
                None => run(),
            }
        })
}

fn run(subscription: &mut Subscription, stats: &Stats) -> Aggregate {
    let consumed = stethoscope::metrics::counter!("indexer_messages_consumed_total");
    let mut aggregate = Aggregate::default();
    while let Some(batch) = subscription.next_batch() {
        // Messages published together carry the same trace context: one span per run of them,
        // not per message, keeps telemetry per batch.
        for group in
            batch.chunk_by(|a, b| a.headers.get("traceparent") == b.headers.get("traceparent"))
        {
            consume(group, &mut aggregate);
        }
        consumed.increment(batch.len() as u64);
        Stats::add(&stats.consumed, batch.len() as u64);
    }
    stethoscope::info!(
        messages = aggregate.messages,
        senders = aggregate.by_sender.len(),
        "consumer finished"
    );
    aggregate
}

fn consume(messages: &[Message], aggregate: &mut Aggregate) {
    let span =
        stethoscope::info_span!("consume", otel.kind = "consumer", messages = messages.len());
    propagation::continue_from(&span, &messages[0].headers);
    let _entered = span.enter();
    update_aggregate(messages, aggregate);
}

#[stethoscope::instrument(level = "debug", skip_all)]
fn update_aggregate(messages: &[Message], aggregate: &mut Aggregate) {
    for m in messages {
        match Payload::parse(&m.payload) {
            Some(p) => {
                aggregate.messages += 1;
                for (x, k) in aggregate.keys_xor.iter_mut().zip(m.key) {
                    *x ^= k;
                }
                aggregate.volume += u128::from(p.amount);
                aggregate.fees += u128::from(p.fee);
                *aggregate.by_sender.entry(p.from).or_default() += u128::from(p.amount);
            }
            None => aggregate.malformed += 1,
        }
    }
}
