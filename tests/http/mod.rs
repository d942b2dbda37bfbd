//! A tiny blocking HTTP/1.1 client over `TcpStream` for the admin-server tests, and exposition
//! parsing with a real Prometheus parser.

#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, lower-cased headers, body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `method path` with `headers` and `Connection: close`; reads the whole response.
pub(crate) fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    request_raw(addr, method, path, headers, b"")
}

fn request_raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect to the admin server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream.write_all(req.as_bytes()).unwrap();
    stream.write_all(body).unwrap();

    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let mut raw = Vec::new();
    reader.read_to_end(&mut raw).unwrap();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(&raw) } else { raw };
    Response {
        status,
        headers,
        body: String::from_utf8(body).unwrap(),
    }
}

/// Like [`request`], with `body` sent as `text/plain` (for `PUT /debug/log-level`).
pub(crate) fn request_with_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let length = body.len().to_string();
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    all.push(("Content-Type", "text/plain"));
    all.push(("Content-Length", &length));
    request_raw(addr, method, path, &all, body.as_bytes())
}

/// Polls `GET path` every 50 ms until it answers `status`; panics with the last answer after
/// `within`.
pub(crate) fn wait_for_status(
    addr: SocketAddr,
    path: &str,
    status: u16,
    within: Duration,
) -> Response {
    let deadline = std::time::Instant::now() + within;
    loop {
        let r = get(addr, path);
        if r.status == status {
            return r;
        }
        assert!(std::time::Instant::now() < deadline, "{path} stayed {r:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, &[])
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&raw[..end]).unwrap().trim(), 16).unwrap();
        raw = &raw[end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Parses a Prometheus text exposition; panics with the text if it does not parse.
pub(crate) fn parse(text: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .unwrap_or_else(|e| panic!("invalid exposition ({e}):\n{text}"))
}

/// The value of the unlabelled counter or gauge `name`.
pub(crate) fn value(scrape: &prometheus_parse::Scrape, name: &str) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{name} is not a single value: {other:?}"),
        })
}

/// Scrapes `/metrics` on `addr` and parses it.
pub(crate) fn scrape(addr: SocketAddr, headers: &[(&str, &str)]) -> prometheus_parse::Scrape {
    let response = request(addr, "GET", "/metrics", headers);
    assert_eq!(response.status, 200, "{response:?}");
    parse(&response.body)
}

/// An ephemeral loopback address for the admin server.
pub(crate) fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Sends `GET path` on a connection of its own and returns that connection once the server is
/// running the request: when `probe`, a request for the same one-at-a-time resource (the CPU
/// profiler, the doctor), answers `409`. Should the probe get there first, `path` is refused,
/// so it is sent again. Dropping the returned stream hangs up on the request.
pub(crate) fn start_request(addr: SocketAddr, path: &str, probe: &str) -> TcpStream {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut stream = send_only(addr, path);
    loop {
        let r = get(addr, probe);
        if r.status == 409 {
            return stream;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{probe} never answered 409 while {path} was running; last answer {r:?}"
        );
        if has_answered(&stream) {
            stream = send_only(addr, path);
        }
    }
}

/// Writes the request for `path` and reads nothing back.
fn send_only(addr: SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect to the admin server");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    stream
}

/// Whether the server has sent anything on `stream` (or closed it), without waiting.
fn has_answered(stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let answered = match stream.peek(&mut [0u8; 1]) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        Err(_) => true,
    };
    stream.set_nonblocking(false).unwrap();
    answered
}

/// Installs stethoscope with its log lines discarded and the admin server on an ephemeral
/// loopback port; returns the guard and the server's address.
pub(crate) fn install_with_admin() -> (stethoscope::Guard, SocketAddr) {
    let guard = stethoscope::Stethoscope::builder()
        .with_log_output(stethoscope::LogOutput::Writer(Box::new(std::io::sink())))
        .with_admin_addr(any_port())
        .install()
        .unwrap();
    let addr = guard.admin_addr().unwrap();
    (guard, addr)
}
