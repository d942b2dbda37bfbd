//! JSON decode of a block's transactions with `serde_json`, borrowing from the block's bytes;
//! and the slow variant `--inject hot-parse` runs on the runtime's workers.

use serde::Deserialize;

use super::hex;
use super::tx::Tx;

/// A transaction on the wire; strings are borrowed from the block, nothing is copied.
#[derive(Deserialize)]
struct Wire<'a> {
    hash: &'a str,
    height: u64,
    index: u32,
    from: &'a str,
    to: &'a str,
    amount: u64,
    fee: u64,
    nonce: u64,
    #[serde(default)]
    sig: Option<&'a str>,
}

/// The same, owned: what the slow path converts `serde_json::Value`s into.
#[derive(Deserialize)]
struct OwnedWire {
    hash: String,
    height: u64,
    index: u32,
    from: String,
    to: String,
    amount: u64,
    fee: u64,
    nonce: u64,
    #[serde(default)]
    sig: Option<String>,
}

/// A block's transactions, and how many lines were not valid transactions.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub(crate) txs: Vec<Tx>,
    pub(crate) malformed: u32,
}

/// Decodes every line of `raw` (one JSON transaction per line).
#[stethoscope::instrument(level = "debug", skip_all, fields(bytes = raw.len()))]
pub(crate) fn decode_block(raw: &[u8]) -> Decoded {
    let mut out = Decoded {
        txs: Vec::with_capacity(raw.len() / 300 + 1),
        malformed: 0,
    };
    for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let tx = serde_json::from_slice::<Wire<'_>>(line).ok().and_then(|w| {
            from_wire(
                w.hash, w.height, w.index, w.from, w.to, w.amount, w.fee, w.nonce, w.sig,
            )
        });
        match tx {
            Some(tx) => out.txs.push(tx),
            None => out.malformed += 1,
        }
    }
    out
}

/// `--inject hot-parse`: the same result, computed the way a hurried port of JavaScript would
/// do it — every line through an untyped `serde_json::Value`, re-serialized and re-parsed to
/// "normalize" it — and called directly on a runtime worker, blocking it.
#[inline(never)]
#[stethoscope::instrument(level = "debug", skip_all, fields(bytes = raw.len()))]
pub(crate) fn decode_block_slowly(raw: &[u8]) -> Decoded {
    let mut out = Decoded::default();
    for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let tx = normalize_json(line).and_then(|value| {
            let w: OwnedWire = serde_json::from_value(value).ok()?;
            from_wire(
                &w.hash,
                w.height,
                w.index,
                &w.from,
                &w.to,
                w.amount,
                w.fee,
                w.nonce,
                w.sig.as_deref(),
            )
        });
        match tx {
            Some(tx) => out.txs.push(tx),
            None => out.malformed += 1,
        }
    }
    out
}

/// Round trips through text per line in [`normalize_json`]: enough that one block of 1,000
/// transactions holds a worker for ~50 ms, as a JSON-heavy handler does in the seed's incident
/// (with 8, a block took ~18 ms and the runtime's delays sat at the doctor's threshold).
const NORMALIZE_ROUNDS: usize = 24;

/// Parses to a `Value` and round-trips it through text a few times: the hot spot that
/// `--inject hot-parse` puts on the flame graph.
#[inline(never)]
fn normalize_json(line: &[u8]) -> Option<serde_json::Value> {
    let mut value: serde_json::Value = serde_json::from_slice(line).ok()?;
    for _ in 0..NORMALIZE_ROUNDS {
        let text = serde_json::to_string_pretty(&value).ok()?;
        value = serde_json::from_str(&text).ok()?;
    }
    Some(value)
}

#[allow(clippy::too_many_arguments)]
fn from_wire(
    hash: &str,
    height: u64,
    index: u32,
    from: &str,
    to: &str,
    amount: u64,
    fee: u64,
    nonce: u64,
    sig: Option<&str>,
) -> Option<Tx> {
    Some(Tx {
        hash: hex::decode(hash)?,
        height,
        index,
        from: hex::decode(from)?,
        to: hex::decode(to)?,
        amount,
        fee,
        nonce,
        sig: match sig {
            Some(s) => Some(hex::decode(s)?),
            None => None,
        },
    })
}
