//! A tiny in-process OTLP/HTTP collector: accepts `POST /v1/traces`, decodes the protobuf
//! `ExportTraceServiceRequest`, and keeps every span it received.

#![allow(dead_code)] // each test binary uses a subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// How the collector answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Behaviour {
    /// 200 with an empty `ExportTraceServiceResponse`.
    Accept,
    /// 200 with bytes that are not a protobuf message.
    Garbage,
    /// Read the request, then never answer.
    Hang,
    /// 400 Bad Request, which the exporter does not retry.
    Reject,
}

/// Each request's raw head (request line and headers), in arrival order; a condition
/// variable beside it is signalled on every arrival.
#[derive(Default)]
pub(crate) struct Received {
    heads: Vec<String>,
}

#[derive(Clone)]
pub(crate) struct Collector {
    pub(crate) addr: SocketAddr,
    pub(crate) requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
    received: Arc<(Mutex<Received>, Condvar)>,
}

impl Collector {
    pub(crate) fn start(behaviour: Behaviour) -> Collector {
        Collector::start_on("127.0.0.1:0", behaviour).unwrap()
    }

    /// Listens on `addr`; `Err` when it cannot be bound (e.g. `[::1]:0` without IPv6).
    pub(crate) fn start_on(addr: &str, behaviour: Behaviour) -> std::io::Result<Collector> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let received = Arc::new((Mutex::new(Received::default()), Condvar::new()));
        let store = Arc::clone(&requests);
        let signal = Arc::clone(&received);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let store = Arc::clone(&store);
                let signal = Arc::clone(&signal);
                std::thread::spawn(move || serve(stream, behaviour, &store, &signal));
            }
        });
        Ok(Collector {
            addr,
            requests,
            received,
        })
    }

    /// Waits until the collector has read a whole export request (before answering it, or
    /// hanging); `false` if none arrived `within`.
    pub(crate) fn wait_for_request(&self, within: Duration) -> bool {
        let (lock, arrived) = &*self.received;
        let (received, _) = arrived
            .wait_timeout_while(lock.lock().unwrap(), within, |r| r.heads.is_empty())
            .unwrap();
        !received.heads.is_empty()
    }

    /// The raw heads of the requests received so far.
    pub(crate) fn heads(&self) -> Vec<String> {
        self.received.0.lock().unwrap().heads.clone()
    }

    /// Blocks until `n` requests have arrived (whatever the answer); returns their raw heads.
    pub(crate) fn wait_for_requests(&self, n: usize) -> Vec<String> {
        let (lock, arrived) = &*self.received;
        let received = arrived
            .wait_while(lock.lock().unwrap(), |r| r.heads.len() < n)
            .unwrap();
        received.heads.clone()
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far, with the `service.name` of its resource.
    pub(crate) fn spans(&self) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        for req in self.requests.lock().unwrap().iter() {
            for rs in &req.resource_spans {
                let service = rs
                    .resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                    .and_then(|kv| kv.value.as_ref())
                    .map(|v| format!("{:?}", v.value))
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    for span in &ss.spans {
                        out.push((service.clone(), span.clone()));
                    }
                }
            }
        }
        out
    }
}

fn serve(
    stream: TcpStream,
    behaviour: Behaviour,
    store: &Mutex<Vec<ExportTraceServiceRequest>>,
    signal: &(Mutex<Received>, Condvar),
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    let mut head = String::new();
    if reader.read_line(&mut head).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    if let Ok(req) = ExportTraceServiceRequest::decode(body.as_slice()) {
        store.lock().unwrap().push(req);
    }
    {
        let (lock, arrived) = signal;
        let mut received = lock.lock().unwrap();
        received.heads.push(head);
        arrived.notify_all();
    }
    let mut stream = reader.into_inner();
    match behaviour {
        Behaviour::Accept => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Behaviour::Garbage => {
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n\xff\xfe\xfdgarbage",
            );
        }
        Behaviour::Reject => {
            let _ = stream.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
        Behaviour::Hang => std::thread::sleep(Duration::from_secs(3600)),
    }
}

/// The span called `name`; panics listing what was received otherwise.
pub(crate) fn find<'a>(spans: &'a [(String, Span)], name: &str) -> &'a (String, Span) {
    spans
        .iter()
        .find(|(_, s)| s.name == name)
        .unwrap_or_else(|| panic!("no {name} in {spans:?}"))
}

/// A span attribute's value, debug-printed (empty when absent).
pub(crate) fn attr(span: &Span, key: &str) -> String {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .map(|v| format!("{:?}", v.value))
        .unwrap_or_default()
}

/// Lowercase hex, as ids appear in log lines and `traceparent`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A "service" exporting to this collector: a scoped subscriber named `name` (no globals).
pub(crate) fn service(
    name: &str,
    collector: &Collector,
) -> (tracing::Dispatch, stethoscope::Guard) {
    stethoscope::Stethoscope::builder()
        .with_service_name(name)
        .with_otlp_endpoint(&collector.url())
        .unwrap()
        .with_log_output(stethoscope::LogOutput::Writer(Box::new(std::io::sink())))
        .into_dispatch()
        .unwrap()
}
