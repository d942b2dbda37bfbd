//! A transaction as the indexer sees it once decoded, and the canonical bytes its hash and
//! signature cover (as on real chains, never the JSON text, whose spacing may vary).

use sha2::{Digest, Sha256};

/// Length of [`Tx::canonical`].
pub(crate) const CANONICAL_LEN: usize = 8 + 4 + 32 + 32 + 8 + 8 + 8;

/// A decoded transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tx {
    /// The hash the transaction claims: SHA-256 of [`Tx::canonical`]; the storage key.
    pub(crate) hash: [u8; 32],
    pub(crate) height: u64,
    pub(crate) index: u32,
    /// The sender's ed25519 public key.
    pub(crate) from: [u8; 32],
    pub(crate) to: [u8; 32],
    pub(crate) amount: u64,
    pub(crate) fee: u64,
    pub(crate) nonce: u64,
    /// The sender's signature over `hash` (only with `--verify ed25519`).
    pub(crate) sig: Option<[u8; 64]>,
}

impl Tx {
    /// The fixed-layout bytes the hash covers.
    pub(crate) fn canonical(&self) -> [u8; CANONICAL_LEN] {
        let mut out = [0u8; CANONICAL_LEN];
        let mut at = 0;
        for part in [
            &self.height.to_le_bytes()[..],
            &self.index.to_le_bytes(),
            &self.from,
            &self.to,
            &self.amount.to_le_bytes(),
            &self.fee.to_le_bytes(),
            &self.nonce.to_le_bytes(),
        ] {
            out[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
        out
    }

    /// SHA-256 of [`Tx::canonical`]: what `hash` must be.
    pub(crate) fn computed_hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical()).into()
    }
}
