//! [`Carrier`]s for Kafka message headers (`rdkafka`), so a trace continues from the producer
//! to the consumer through the message itself.
//!
//! ```no_run
//! use rdkafka::message::{Headers, Message, OwnedHeaders};
//! use stethoscope::propagation;
//!
//! // Producer: inside the span that publishes.
//! let mut headers = OwnedHeaders::new();
//! propagation::inject_current(&mut headers);
//! // … `BaseRecord::to("txs").payload(..).headers(headers)` …
//!
//! // Consumer: for each message.
//! # fn consume(message: &rdkafka::message::BorrowedMessage<'_>) {
//! let span = stethoscope::info_span!("consume", otel.kind = "consumer");
//! if let Some(headers) = message.headers() {
//!     propagation::continue_from(&span, headers);
//! }
//! # }
//! ```

use rdkafka::message::{BorrowedHeaders, Header, Headers, OwnedHeaders};

use super::carrier::{Carrier, CarrierMut};

fn get_all<'a, H: Headers>(headers: &'a H, key: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|h| h.key.eq_ignore_ascii_case(key))
        .filter_map(|h| h.value.and_then(|v| std::str::from_utf8(v).ok()))
        .collect()
}

fn keys<H: Headers>(headers: &H) -> Vec<&str> {
    headers.iter().map(|h| h.key).collect()
}

impl Carrier for OwnedHeaders {
    fn get_all(&self, key: &str) -> Vec<&str> {
        get_all(self, key)
    }

    fn keys(&self) -> Vec<&str> {
        keys(self)
    }
}

impl CarrierMut for OwnedHeaders {
    /// Kafka headers can repeat a key and `OwnedHeaders` has no removal, so the headers are
    /// rebuilt without `key` before the new value is added: a stale `traceparent` from an
    /// earlier hop must not travel next to the new one.
    fn set(&mut self, key: &str, value: String) {
        let mut rebuilt = OwnedHeaders::new_with_capacity(self.count() + 1);
        for h in self.iter().filter(|h| !h.key.eq_ignore_ascii_case(key)) {
            rebuilt = rebuilt.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
        *self = rebuilt.insert(Header {
            key,
            value: Some(value.as_bytes()),
        });
    }
}

impl Carrier for BorrowedHeaders {
    fn get_all(&self, key: &str) -> Vec<&str> {
        get_all(self, key)
    }

    fn keys(&self) -> Vec<&str> {
        keys(self)
    }
}
