//! Verification, run on the blocking pool one block at a time: each transaction's SHA-256 is
//! recomputed and compared with the hash it claims; with `--verify ed25519` its signature is
//! checked too, with ed25519-dalek's batch verification (falling back to one-by-one only when
//! a batch fails, to find the culprits).

use std::collections::HashMap;
use std::sync::Mutex;

use ed25519_dalek::{Signature, Verifier, VerifyingKey};

use super::cli::VerifyKind;
use super::tx::Tx;

/// The transactions that passed, and how many did not.
#[derive(Debug)]
pub(crate) struct Verified {
    pub(crate) valid: Vec<Tx>,
    pub(crate) invalid: u32,
}

/// Public keys decompressed once per account, not once per transaction.
#[derive(Debug, Default)]
pub(crate) struct KeyCache(Mutex<HashMap<[u8; 32], Option<VerifyingKey>>>);

impl KeyCache {
    fn resolve(&self, txs: &[Tx]) -> Vec<Option<VerifyingKey>> {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        txs.iter()
            .map(|tx| {
                *cache
                    .entry(tx.from)
                    .or_insert_with(|| VerifyingKey::from_bytes(&tx.from).ok())
            })
            .collect()
    }
}

/// Keeps the transactions whose hash (and signature) check out.
#[stethoscope::instrument(level = "debug", skip_all, fields(txs = txs.len()))]
pub(crate) fn verify_batch(mut txs: Vec<Tx>, kind: VerifyKind, keys: &KeyCache) -> Verified {
    let before = txs.len();
    txs.retain(|tx| tx.computed_hash() == tx.hash);
    if kind == VerifyKind::Ed25519 {
        txs = verify_signatures(txs, keys);
    }
    Verified {
        invalid: (before - txs.len()) as u32,
        valid: txs,
    }
}

fn verify_signatures(txs: Vec<Tx>, keys: &KeyCache) -> Vec<Tx> {
    let resolved = keys.resolve(&txs);
    let all_parse = txs.iter().all(|tx| tx.sig.is_some()) && resolved.iter().all(Option::is_some);
    if all_parse && !txs.is_empty() {
        let messages: Vec<&[u8]> = txs.iter().map(|tx| &tx.hash[..]).collect();
        let signatures: Vec<Signature> = txs
            .iter()
            .map(|tx| Signature::from_bytes(&tx.sig.unwrap_or([0; 64])))
            .collect();
        let verifying: Vec<VerifyingKey> = resolved.iter().flatten().copied().collect();
        if ed25519_dalek::verify_batch(&messages, &signatures, &verifying).is_ok() {
            return txs;
        }
    }
    // Some signature is bad (or missing): check one by one to keep the good ones.
    txs.into_iter()
        .zip(resolved)
        .filter(|(tx, key)| match (key, tx.sig) {
            (Some(key), Some(sig)) => key.verify(&tx.hash, &Signature::from_bytes(&sig)).is_ok(),
            _ => false,
        })
        .map(|(tx, _)| tx)
        .collect()
}
