//! The block source: a deterministic, seeded stand-in for a chain node. The same seed gives
//! the same blocks, byte for byte, so runs are comparable and tests can count what lands.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signer, SigningKey};
use tokio::sync::mpsc;

use super::hex;
use super::tx::Tx;

/// Distinct accounts transactions move value between (keeps the consumer's aggregate bounded).
const ACCOUNTS: usize = 1024;
/// One transaction in this many carries a wrong hash (and, with signatures, a wrong signature),
/// so the `invalid` path is exercised on every run.
pub(crate) const INVALID_EVERY: u64 = 5000;

/// One block as it arrives from the network: its transactions as JSON lines.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) height: u64,
    pub(crate) txs: u32,
    /// One JSON object per transaction, `\n`-separated.
    pub(crate) raw: Vec<u8>,
    /// When the block arrived: the start of every transaction's processing time.
    pub(crate) arrived: Instant,
}

/// What the source produces, and how fast.
#[derive(Clone, Debug)]
pub(crate) struct SourceConfig {
    pub(crate) seed: u64,
    pub(crate) txs_per_block: u32,
    pub(crate) blocks: Option<u64>,
    /// Transactions per second; 0 = as fast as the pipeline takes them.
    pub(crate) rate: u64,
    pub(crate) sign: bool,
}

/// SplitMix64: tiny, fast and good enough for synthetic data.
#[derive(Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for chunk in out.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        out
    }
}

/// The accounts: signing keys (used only when signing) and their public keys.
struct Accounts {
    keys: Vec<SigningKey>,
    public: Vec<[u8; 32]>,
}

impl Accounts {
    fn new(rng: &mut Rng, sign: bool) -> Accounts {
        if !sign {
            // Without signatures the ids need not be real public keys: deriving 1,024 of them
            // costs a noticeable moment in short debug-build test runs.
            let public = (0..ACCOUNTS).map(|_| rng.bytes32()).collect();
            return Accounts {
                keys: Vec::new(),
                public,
            };
        }
        let keys: Vec<SigningKey> = (0..ACCOUNTS)
            .map(|_| SigningKey::from_bytes(&rng.bytes32()))
            .collect();
        let public = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        Accounts { keys, public }
    }
}

/// Generates blocks into `out` until `stop`, the block limit, or the receiver goes away.
/// Runs on its own thread: it stands for the network, not for the indexer's work.
pub(crate) fn run(config: SourceConfig, out: mpsc::Sender<Block>, stop: Arc<AtomicBool>) {
    let mut rng = Rng::new(config.seed);
    let accounts = Accounts::new(&mut rng, config.sign);
    let started = Instant::now();
    let mut emitted: u64 = 0;
    let mut height = config.seed;
    let mut serial: u64 = 0;
    let mut line = Vec::with_capacity(512);
    loop {
        if stop.load(Ordering::Relaxed) || config.blocks.is_some_and(|n| height - config.seed >= n)
        {
            return;
        }
        if config.rate > 0 {
            let due = started + Duration::from_secs_f64(emitted as f64 / config.rate as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let mut raw = Vec::with_capacity(config.txs_per_block as usize * 330);
        for index in 0..config.txs_per_block {
            serial += 1;
            let from = (rng.next_u64() as usize) % ACCOUNTS;
            let mut tx = Tx {
                hash: [0; 32],
                height,
                index,
                from: accounts.public[from],
                to: accounts.public[(rng.next_u64() as usize) % ACCOUNTS],
                amount: rng.next_u64() % 1_000_000_000,
                fee: 1 + rng.next_u64() % 10_000,
                nonce: serial,
                sig: None,
            };
            tx.hash = tx.computed_hash();
            if config.sign {
                tx.sig = Some(accounts.keys[from].sign(&tx.hash).to_bytes());
            }
            if serial % INVALID_EVERY == 0 {
                tx.hash[0] ^= 0xff;
            }
            line.clear();
            write_json(&tx, &mut line);
            raw.extend_from_slice(&line);
            raw.push(b'\n');
        }
        emitted += u64::from(config.txs_per_block);
        let block = Block {
            height,
            txs: config.txs_per_block,
            raw,
            arrived: Instant::now(),
        };
        height += 1;
        if out.blocking_send(block).is_err() {
            return;
        }
    }
}

/// The wire format: one flat JSON object per transaction.
fn write_json(tx: &Tx, out: &mut Vec<u8>) {
    let mut num = itoa::Buffer::new();
    out.extend_from_slice(b"{\"hash\":\"");
    hex::encode_into(&tx.hash, out);
    out.extend_from_slice(b"\",\"height\":");
    out.extend_from_slice(num.format(tx.height).as_bytes());
    out.extend_from_slice(b",\"index\":");
    out.extend_from_slice(num.format(tx.index).as_bytes());
    out.extend_from_slice(b",\"from\":\"");
    hex::encode_into(&tx.from, out);
    out.extend_from_slice(b"\",\"to\":\"");
    hex::encode_into(&tx.to, out);
    out.extend_from_slice(b"\",\"amount\":");
    out.extend_from_slice(num.format(tx.amount).as_bytes());
    out.extend_from_slice(b",\"fee\":");
    out.extend_from_slice(num.format(tx.fee).as_bytes());
    out.extend_from_slice(b",\"nonce\":");
    out.extend_from_slice(num.format(tx.nonce).as_bytes());
    if let Some(sig) = &tx.sig {
        out.extend_from_slice(b",\"sig\":\"");
        hex::encode_into(sig, out);
        out.push(b'"');
    }
    out.push(b'}');
}
