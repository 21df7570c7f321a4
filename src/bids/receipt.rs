//! Bid receipts (回执): what the platform signs when an envelope is durably stored, and how
//! anyone checks one offline with the published platform key.

use crate::{
    keys::{PlatformKey, PublicKey},
    web::i18n::I18n,
};
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
    /// Lot number within the tender.
    pub lot_no: i32,
    /// Lot name.
    pub lot_name: String,
    /// Bidder organisation name.
    pub bidder_name: String,
}

/// The name of the signed receipt attached to its PDF.
pub const ATTACHED_JSON: &str = "receipt.json";

/// `n` with thousands separators.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Receipt {
    /// The receipt as a readable PDF, labelled in Chinese and English: the tender, lot and bidder
    /// by name, the time received to the second in China Standard Time, the envelope's digest
    /// and size, the audit record, and the platform's signature with its key id. The signed
    /// receipt itself (the JSON, with the ids and the exact time it signs) is attached to the PDF
    /// as `receipt.json`, not printed, so that `tenderhall receipt verify` checks the PDF alone.
    pub fn to_pdf(&self, names: &ReceiptNames, texts: &I18n) -> Result<Vec<u8>, crate::pdf::writer::Error> {
        let t = |key: &str| texts.both(key);
        let received = format!(
            "{} ({})",
            self.received_at.with_timezone(&crate::web::cst()).format("%Y-%m-%d %H:%M:%S"),
            t("receipt.cst")
        );
        let mut doc = crate::pdf::writer::Document::new(&t("receipt.title"));
        doc.footer(&format!("Tenderhall · {} · {}", t("receipt.title"), names.tender_code));
        doc.paragraph(&texts.both_lines("receipt.intro"));
        doc.heading(&t("receipt.tender_section"));
        let lot = format!("{}. {}", names.lot_no, names.lot_name);
        doc.key_values(&[
            (&t("receipt.code"), &names.tender_code),
            (&t("receipt.tender_title"), &names.tender_title),
            (&t("receipt.lot"), &lot),
            (&t("receipt.bidder"), &names.bidder_name),
        ]);
        doc.heading(&t("receipt.envelope_section"));
        let size = format!("{} {}", grouped(self.size), t("receipt.bytes"));
        let seq = format!("#{}", self.audit_seq);
        doc.key_values(&[
            (&t("receipt.received"), &received),
            (&t("receipt.digest"), &self.envelope_sha256),
            (&t("receipt.size"), &size),
            (&t("receipt.audit_record"), &seq),
        ]);
        doc.heading(&t("receipt.signature_section"));
        doc.key_values(&[
            (&t("receipt.algorithm"), "Ed25519"),
            (&t("receipt.key_id"), &self.key_id),
            (&t("receipt.signature"), &self.signature),
        ]);
        doc.heading(&t("receipt.verify_section"));
        doc.paragraph(&texts.both_lines("receipt.verify"));
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        doc.attach(ATTACHED_JSON, "application/json", &t("receipt.attachment"), &json);
        doc.finish()
    }

    /// The signed receipt attached to a receipt PDF made by [`Receipt::to_pdf`], if it has one.
    pub fn from_pdf(pdf: &[u8]) -> Option<Receipt> {
        crate::pdf::writer::attachment(pdf, ATTACHED_JSON).and_then(|json| serde_json::from_slice(&json).ok())
    }
}
