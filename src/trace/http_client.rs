//! A minimal blocking HTTP/1.1 client for OTLP/HTTP exports.
//!
//! The batch span processor exports from its own thread, one request at a time, so a plain
//! `TcpStream` with timeouts is all it needs; this keeps `reqwest`/`hyper`/TLS out of the
//! default dependency tree. Only `http://` endpoints are supported: send to a local collector
//! or agent (the usual deployment), which forwards over TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

/// Responses larger than this are cut short: a collector answering garbage must not make us
/// buffer without bound.
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// Sends OTLP requests with `timeout` for connecting and for each read/write.
#[derive(Debug, Clone)]
pub(crate) struct BlockingHttpClient {
    pub(crate) timeout: Duration,
}

#[async_trait::async_trait]
impl HttpClient for BlockingHttpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        send(request, self.timeout)
    }
}

fn send(request: Request<Bytes>, timeout: Duration) -> Result<Response<Bytes>, HttpError> {
    let uri = request.uri();
    if uri.scheme_str() != Some("http") {
        return Err(format!("unsupported scheme in {uri}: only http:// is supported").into());
    }
    let host = uri.host().ok_or("endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{host}:{port} did not resolve"))?;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method(),
        request.body().len()
    );
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            head.push_str(name.as_str());
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(request.body())?;
    stream.flush()?;

    let mut reader = BufReader::new(stream.take(MAX_RESPONSE_BYTES));
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("malformed HTTP status line {:?}", status_line.trim_end()))?;
    let mut builder = Response::builder().status(status);
    let mut content_length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.parse::<usize>().ok();
            }
            builder = builder.header(name.trim(), value);
        }
    }
    let mut body = Vec::new();
    match content_length {
        Some(n) => {
            body.resize(n.min(MAX_RESPONSE_BYTES as usize), 0);
            reader.read_exact(&mut body)?;
        }
        None => {
            reader.read_to_end(&mut body)?;
        }
    }
    Ok(builder.body(Bytes::from(body))?)
}
