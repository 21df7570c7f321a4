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

/// The names a printed receipt shows beside the ids it signs.
#[derive(Debug, Clone)]
pub struct ReceiptNames {
    /// Tender code (项目编号).
    pub tender_code: String,
    /// Tender title.
    pub tender_title: String,
    /// Lot name.
    pub lot_name: String,
    /// Bidder organisation name.
    pub bidder_name: String,
}

impl Receipt {
    /// The receipt as a PDF (Chinese with English labels): what was received, when, the digest,
    /// the signature, how to check it, and the signed JSON itself so the PDF alone suffices.
    pub fn to_pdf(&self, names: &ReceiptNames) -> Result<Vec<u8>, crate::pdf::writer::Error> {
        let received = self.received_at.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M:%S%.6f (UTC+8)");
        let mut doc = crate::pdf::writer::Document::new("投标文件接收回执 Bid receipt");
        doc.footer(&format!("Tenderhall · 回执 {} · 平台密钥 {}", self.bid, self.key_id));
        doc.paragraph(
            "本平台已完整接收并持久保存下列加密投标文件。开标前任何人（包括平台运营方）都无法读取其内容。\
             The platform has received and durably stored the sealed bid below. Nobody, the operator \
             included, can read it before the opening.",
        );
        doc.heading("项目 Tender");
        doc.key_values(&[
            ("项目编号 Code", &names.tender_code),
            ("项目名称 Title", &names.tender_title),
            ("标段 Lot", &names.lot_name),
            ("投标人 Bidder", &names.bidder_name),
        ]);
        doc.heading("投标文件 Envelope");
        let size = format!("{} 字节 bytes", self.size);
        let seq = format!("#{}", self.audit_seq);
        let received = received.to_string();
        doc.key_values(&[
            ("投标编号 Bid", &self.bid.to_string()),
            ("SHA-256", &self.envelope_sha256),
            ("大小 Size", &size),
            ("接收时间 Received", &received),
            ("审计记录 Audit record", &seq),
            ("项目 ID Tender id", &self.tender.to_string()),
            ("标段 ID Lot id", &self.lot.to_string()),
            ("投标人 ID Bidder id", &self.bidder.to_string()),
        ]);
        doc.heading("平台签名 Platform signature");
        doc.key_values(&[("密钥标识 Key id", &self.key_id), ("Ed25519 签名 Signature", &self.signature)]);
        doc.paragraph(
            "核验方法 How to verify: 将下方 JSON 保存为 receipt.json，运行 `tenderhall receipt verify receipt.json \
             --public-key <公钥>`，公钥见平台 /.well-known/tenderhall/platform-key。Save the JSON below as \
             receipt.json and run the command above with the platform's published public key.",
        );
        doc.rule();
        doc.paragraph(&serde_json::to_string(self).unwrap_or_default());
        doc.finish()
    }
}
