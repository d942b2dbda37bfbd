//! A minimal blocking HTTP/1.1 client for OTLP/HTTP exports.
//!
//! The batch span processor exports from its own thread, one request at a time, so a plain
//! `TcpStream` with timeouts is all it needs; this keeps `reqwest`/`hyper`/TLS out of the
//! default dependency tree. Only `http://` endpoints are supported: send to a local collector
//! or agent (the usual deployment), which forwards over TLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
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
    // `host()` keeps an IPv6 literal's brackets (`[::1]`): right for the Host header, not
    // something the resolver understands.
    let host = uri.host().ok_or("endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let addrs = resolve(host, port)?;
    let mut stream = connect(&addrs, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;

    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method(),
        request.body().len()
    )
    .into_bytes();
    for (name, value) in request.headers() {
        // As bytes: a value with non-ASCII (obs-text) is valid and must not be skipped, or an
        // export would silently go without its credentials. `HeaderValue` already excludes
        // CR and LF.
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head)?;
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

/// The addresses for `host` as written in a URL: an IP literal (IPv6 in brackets) as is, a
/// name through the system resolver.
fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, HttpError> {
    let literal = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}:{port}: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("{host}:{port} did not resolve to any address").into());
    }
    Ok(addrs)
}

/// Connects to the first address that answers (`localhost` may resolve to `::1` first while
/// the collector listens on `127.0.0.1` only), each attempt bounded by `timeout`.
fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<TcpStream, HttpError> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = Some(format!("cannot connect to {addr}: {e}")),
        }
    }
    Err(last
        .unwrap_or_else(|| "no address to connect to".into())
        .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_resolve_without_the_resolver() {
        assert_eq!(
            resolve("[::1]", 4318).unwrap(),
            vec![SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 4318))]
        );
        assert_eq!(
            resolve("127.0.0.1", 80).unwrap(),
            vec![SocketAddr::from(([127, 0, 0, 1], 80))]
        );
        assert!(resolve("localhost", 1).unwrap()[0].ip().is_loopback());
    }

    #[test]
    fn the_uri_keeps_ipv6_brackets_for_the_host_header() {
        let uri: http::Uri = "http://[::1]:4318/v1/traces".parse().unwrap();
        assert_eq!(uri.host(), Some("[::1]"));
    }
}
