//! A CPU workload with a known shape, and a pprof decoder, shared by the profiling tests.

#![allow(dead_code)] // each test binary uses a subset

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Burns CPU for `wall` on this thread, ~70 % of it in [`hot_json_parse`] and ~30 % in
/// [`cold_hash`] (both run the same loop, 7 rounds to 3).
pub(crate) fn workload(wall: Duration) -> u64 {
    let deadline = Instant::now() + wall;
    let mut acc = 0u64;
    while Instant::now() < deadline {
        acc ^= hot_json_parse(black_box(700_000));
        acc ^= cold_hash(black_box(300_000));
    }
    acc
}

/// The function the profile must find. Plain operators only, so that no call (which would not
/// be inlined in a debug build) takes its self time.
#[inline(never)]
pub(crate) fn hot_json_parse(rounds: u64) -> u64 {
    let mut x = black_box(0x9E37_79B9_7F4A_7C15u64);
    let mut i = 0;
    while i < rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        i += 1;
    }
    x
}

/// The same loop as [`hot_json_parse`], run for fewer rounds.
#[inline(never)]
pub(crate) fn cold_hash(rounds: u64) -> u64 {
    let mut x = black_box(0x2545_F491_4F6C_DD1Du64);
    let mut i = 0;
    while i < rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        i += 1;
    }
    x
}

/// The parts of `perftools.profiles.Profile` the tests check, declared independently of the
/// crate's encoder. Field numbers from google/pprof `proto/profile.proto`.
pub(crate) mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub(crate) sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub(crate) sample: Vec<Sample>,
        #[prost(message, repeated, tag = "4")]
        pub(crate) location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub(crate) function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub(crate) string_table: Vec<String>,
        #[prost(int64, tag = "12")]
        pub(crate) period: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct ValueType {
        #[prost(int64, tag = "1")]
        pub(crate) r#type: i64,
        #[prost(int64, tag = "2")]
        pub(crate) unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub(crate) location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub(crate) value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Location {
        #[prost(uint64, tag = "1")]
        pub(crate) id: u64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub(crate) struct Function {
        #[prost(uint64, tag = "1")]
        pub(crate) id: u64,
        #[prost(int64, tag = "2")]
        pub(crate) name: i64,
    }

    /// Gunzips and decodes `bytes`.
    pub(crate) fn decode(bytes: &[u8]) -> Profile {
        use std::io::Read as _;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .expect("gzip");
        prost::Message::decode(raw.as_slice()).expect("a perftools.profiles.Profile")
    }
}

/// A response with a binary body, from [`get_bytes`].
#[derive(Debug)]
pub(crate) struct BinaryResponse {
    pub(crate) status: u16,
    /// The raw header block, lower-cased.
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
}

impl BinaryResponse {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path` with `Connection: close` and optional bearer `token`; the body is read as bytes
/// (the admin server sends these bodies with a `Content-Length`, never chunked).
pub(crate) fn get_bytes(
    addr: std::net::SocketAddr,
    path: &str,
    token: Option<&str>,
) -> BinaryResponse {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect to the admin server");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    BinaryResponse {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}
