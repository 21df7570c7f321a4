//! Bid receipts (回执): what the platform signs when an envelope is durably stored, and how
//! anyone checks one offline with the published platform key.

use crate::keys::{PlatformKey, PublicKey};
use base64::{Engine, engine::general_purpose::STANDARD as B64};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A signed receipt.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Receipt {
    /// Always 1.
    pub version: u32,
    /// The tender.
    pub tender: Uuid,
    /// The lot.
    pub lot: Uuid,
    /// The bidder (supplier organisation).
    pub bidder: Uuid,
    /// The bid.
    pub bid: Uuid,
    /// SHA-256 of the envelope, hex.
    pub envelope_sha256: String,
    /// Size of the envelope in bytes.
    pub size: u64,
    /// When the platform had stored it, by the platform's clock.
    pub received_at: DateTime<Utc>,
    /// Sequence number of the audit record of the submission.
    pub audit_seq: i64,
    /// Identifier of the platform key that signed.
    pub key_id: String,
    /// Ed25519 signature over [`Receipt::message`], base64.
    pub signature: String,
}

impl Receipt {
    /// The exact bytes signed: one field per line, in this order.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "tenderhall-receipt-v{}\ntender {}\nlot {}\nbidder {}\nbid {}\nsha256 {}\nsize {}\nreceived_at {}\naudit_seq {}\nkey_id {}\n",
            self.version,
            self.tender,
            self.lot,
            self.bidder,
            self.bid,
            self.envelope_sha256,
            self.size,
            self.received_at.timestamp_micros(),
            self.audit_seq,
            self.key_id
        )
        .into_bytes()
    }

    /// Signs the receipt with the platform key (fills `key_id` and `signature`).
    pub fn sign(mut self, key: &PlatformKey) -> Receipt {
        self.key_id = key.key_id().to_string();
        self.signature = B64.encode(key.sign(&self.message()));
        self
    }

    /// Whether the signature is valid under `public`.
    pub fn verify(&self, public: &PublicKey) -> bool {
        self.key_id == public.key_id()
            && B64.decode(&self.signature).is_ok_and(|sig| public.verify(&self.message(), &sig))
    }
}
