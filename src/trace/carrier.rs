//! [`Carrier`]: anything that carries string headers (HTTP header maps, message-queue headers),
//! with access to *every* value of a repeated header, which W3C Trace Context needs.

use std::collections::HashMap;

use opentelemetry::propagation::{Extractor, Injector};

/// Headers to read trace context from: HTTP headers, Kafka/AMQP message headers, a map.
///
/// Keys are compared case-insensitively where the carrier allows it (HTTP, maps filled through
/// [`CarrierMut::set`]); values that are not UTF-8 are invisible to [`Carrier::get`].
///
/// ```
/// use std::collections::HashMap;
/// use stethoscope::propagation::{Carrier, CarrierMut};
///
/// let mut headers: HashMap<String, String> = HashMap::new();
/// headers.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into());
/// assert_eq!(headers.get_all("TraceParent").len(), 1);
/// ```
pub trait Carrier {
    /// The first value of `key`.
    fn get(&self, key: &str) -> Option<&str> {
        self.get_all(key).into_iter().next()
    }

    /// Every value of `key`, in order (a header may repeat).
    fn get_all(&self, key: &str) -> Vec<&str>;

    /// The keys present, for propagators that scan them (baggage).
    fn keys(&self) -> Vec<&str>;
}

/// Headers to write trace context into (an outgoing request or message).
pub trait CarrierMut {
    /// Sets `key` to `value`, replacing earlier values.
    fn set(&mut self, key: &str, value: String);
}

impl Carrier for http::HeaderMap {
    fn get_all(&self, key: &str) -> Vec<&str> {
        http::HeaderMap::get_all(self, key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }

    fn keys(&self) -> Vec<&str> {
        http::HeaderMap::keys(self).map(|k| k.as_str()).collect()
    }
}

impl CarrierMut for http::HeaderMap {
    fn set(&mut self, key: &str, value: String) {
        // Names and values come from our propagators: always valid header tokens. Anything
        // else is skipped rather than panicking inside the caller's request path.
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.insert(name, value);
        }
    }
}

impl<S: std::hash::BuildHasher> Carrier for HashMap<String, String, S> {
    fn get_all(&self, key: &str) -> Vec<&str> {
        if let Some(v) = HashMap::get(self, key) {
            return vec![v.as_str()];
        }
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn keys(&self) -> Vec<&str> {
        HashMap::keys(self).map(String::as_str).collect()
    }
}

impl<S: std::hash::BuildHasher> CarrierMut for HashMap<String, String, S> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_ascii_lowercase(), value);
    }
}

/// Message headers as most queue clients model them: an ordered list of (name, bytes) that
/// may repeat a name.
impl Carrier for Vec<(String, Vec<u8>)> {
    fn get_all(&self, key: &str) -> Vec<&str> {
        self.iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(key))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok())
            .collect()
    }

    fn keys(&self) -> Vec<&str> {
        self.iter().map(|(k, _)| k.as_str()).collect()
    }
}

impl CarrierMut for Vec<(String, Vec<u8>)> {
    fn set(&mut self, key: &str, value: String) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.push((key.to_owned(), value.into_bytes()));
    }
}

/// Lets OpenTelemetry propagators read a [`Carrier`].
pub(crate) struct AsExtractor<'a, C: ?Sized>(pub(crate) &'a C);

impl<C: Carrier + ?Sized> Extractor for AsExtractor<'_, C> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = self.0.get_all(key);
        (!all.is_empty()).then_some(all)
    }
}

/// Lets OpenTelemetry propagators write into a [`Carrier`].
pub(crate) struct AsInjector<'a, C: ?Sized>(pub(crate) &'a mut C);

impl<C: CarrierMut + ?Sized> Injector for AsInjector<'_, C> {
    fn set(&mut self, key: &str, value: String) {
        self.0.set(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_headers_expose_every_value_of_a_repeated_header() {
        let mut h = http::HeaderMap::new();
        h.append("tracestate", "a=1".parse().unwrap());
        h.append("TraceState", "b=2".parse().unwrap());
        assert_eq!(Carrier::get_all(&h, "tracestate"), vec!["a=1", "b=2"]);
        CarrierMut::set(&mut h, "tracestate", "c=3".into());
        assert_eq!(Carrier::get_all(&h, "tracestate"), vec!["c=3"]);
    }

    #[test]
    fn message_headers_keep_repeats_and_skip_binary_values() {
        let mut h: Vec<(String, Vec<u8>)> = vec![
            ("traceparent".into(), b"x".to_vec()),
            ("TRACEPARENT".into(), b"y".to_vec()),
            ("traceparent".into(), vec![0xff]),
        ];
        assert_eq!(h.get_all("traceparent"), vec!["x", "y"]);
        h.set("traceparent", "z".into());
        assert_eq!(h.get_all("traceparent"), vec!["z"]);
    }

    #[test]
    fn maps_are_case_insensitive() {
        let mut m: HashMap<String, String> = HashMap::new();
        m.insert("TraceParent".into(), "v".into());
        assert_eq!(Carrier::get(&m, "traceparent"), Some("v"));
        CarrierMut::set(&mut m, "Baggage", "k=v".into());
        assert_eq!(Carrier::get(&m, "baggage"), Some("k=v"));
    }
}
