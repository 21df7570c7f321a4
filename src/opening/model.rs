//! Opening-hall types: phases, who is watching, events as sent, and the commands a participant
//! may send.

use crate::{accounts::model::string_enum, live::Audience};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where an opening is.
    Phase stored in crate::entities::opening::Entity {
        /// 签到: the deadline has passed; bidders sign in, the host has not started.
        SignIn = "sign_in",
        /// 解密: bidders release their content keys until the window closes.
        Decryption = "decryption",
        /// 异议: the bid forms have been read out; bidders may object until the window closes.
        Objections = "objections",
        /// 确认: bidders confirm (sign) the opening record.
        Confirmation = "confirmation",
        /// 开标结束: the record is produced; the tender goes to evaluation.
        Closed = "closed",
        /// 流标: fewer valid bids than the least number; the tender fails.
        Failed = "failed",
    }
}

string_enum! {
    /// What became of one bid at the opening.
    BidOutcome stored in crate::entities::opening_bid::Entity {
        /// Waiting for its key.
        Pending = "pending",
        /// Opened and checked: its bid form is read out.
        Valid = "valid",
        /// 解密失败: no valid key released in the window.
        DecryptFailed = "decrypt_failed",
        /// The envelope does not open (corrupted, truncated, not this bid's), or its bid form does
        /// not match the tender's items: the reason says why.
        Invalid = "invalid",
    }
}

/// Who is looking at a hall, which decides what they see and may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Staff of the agency or procuring unit running the tender: hosts the opening.
    Host,
    /// Supervisors and platform administrators: read-only, may add notes.
    Supervisor,
    /// A supplier organisation with a submitted bid.
    Bidder {
        /// Its organisation (internal id).
        org_id: crate::ids::OrgId,
    },
}

impl crate::live::Viewer for Viewer {
    fn sees(&self, audience: &Audience) -> bool {
        match self {
            Viewer::Host | Viewer::Supervisor => true,
            Viewer::Bidder { org_id } => matches!(audience, Audience::All) || *audience == Audience::Org(*org_id),
        }
    }

    fn role(&self) -> &'static str {
        match self {
            Viewer::Host => "host",
            Viewer::Supervisor => "supervisor",
            Viewer::Bidder { .. } => "bidder",
        }
    }
}

/// One hall event as participants receive it (`kind` is one of [`HallEvent`]'s names).
pub type HallEventView = crate::live::Event;

/// A bidder and lot, as listed in events.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BidderLot {
    /// The bidder's name.
    pub bidder: Option<String>,
    /// The lot (`1. name`).
    pub lot: Option<String>,
    /// The bidder organisation's public id, by which clients tell bidders apart (events from
    /// before it was added have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
}

/// A bid read out at the reading.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReadBid {
    /// The bidder's name.
    pub bidder: Option<String>,
    /// The lot.
    pub lot: Option<String>,
    /// The bid form, by item key, as the bidder filled it in.
    pub form: BTreeMap<String, String>,
    /// The files of the bid.
    pub files: Vec<ReadFile>,
    /// The bidder organisation's public id, by which clients tell bidders apart (events from
    /// before it was added have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// The money items of the form read as amounts, by item key (readings before these were
    /// added have none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub amounts: BTreeMap<String, ReadAmount>,
}

/// An amount of a bid form as read out: the figure with digit grouping and in Chinese capitals.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReadAmount {
    /// In fen.
    pub fen: i64,
    /// In 元 with digit grouping and two decimals ("1,268,000.00"), to be shown after ¥.
    pub yuan: String,
    /// In Chinese capitals (大写, "壹佰贰拾陆万捌仟元整").
    pub capitals: String,
}

impl ReadAmount {
    /// A money item's value read as an amount, if it is one ("1268000.00", "1,268,000").
    pub fn parse(value: &str) -> Option<ReadAmount> {
        let m = crate::money::Money::parse_yuan(value).ok()?;
        Some(ReadAmount { fen: m.fen(), yuan: m.yuan_string(), capitals: m.capitals() })
    }
}

/// A file of a bid, as read out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ReadFile {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// A bid not opened, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NotOpened {
    /// The bidder's name.
    pub bidder: Option<String>,
    /// The lot.
    pub lot: Option<String>,
    /// `decrypt_failed` or `invalid`.
    pub outcome: BidOutcome,
    /// Why, in English.
    pub reason: Option<String>,
    /// Why an invalid bid is invalid, as a stable code (docs/envelope.md): a bid form problem
    /// (`missing_item`, `money_too_precise`...), or the envelope's or payload's failure
    /// (`corrupted_chunk`, `file_mismatch`...). Events from before codes were added have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The bid form item a bid form problem is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ReasonItem>,
    /// The bidder organisation's public id, by which clients tell bidders apart (events from
    /// before it was added have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
}

/// The bid form item an invalid bid's reason names: its key and, for an item of the tender's
/// bid form, its labels (empty for a key the form does not have).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReasonItem {
    /// The key, as the sealed form names it (cut to 40 characters).
    pub key: String,
    /// Label in Chinese.
    pub label_zh: String,
    /// Label in English.
    pub label_en: String,
}

/// A lot's result at the reading.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LotResult {
    /// The lot.
    pub lot: String,
    /// Its valid bids.
    pub valid: i32,
    /// Whether it failed (流标): fewer valid bids than the least number.
    pub failed: bool,
}

/// What happens in an opening hall: the hall's live events, stored as
/// `{"kind": <name>, "data": <fields>}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum HallEvent {
    /// The hall opened at the deadline with these bids.
    Opened {
        /// The tender.
        tender: Uuid,
        /// Its title.
        title: String,
        /// Its code.
        code: String,
        /// Its bid deadline.
        deadline: DateTime<Utc>,
        /// The bids that count.
        bids: Vec<BidderLot>,
        /// When the sign-in window closes, if it has one (the decryption then starts by itself).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_ends_at: Option<DateTime<Utc>>,
    },
    /// A bidder signed in.
    SignedIn {
        /// Its name.
        bidder: String,
        /// The bidder organisation's public id (events from before it was added have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Uuid>,
    },
    /// The host opened the decryption window.
    DecryptionStarted {
        /// When it closes.
        window_ends_at: DateTime<Utc>,
        /// Its length.
        minutes: i32,
    },
    /// A released key opened a bid.
    KeyAccepted {
        /// The bidder.
        bidder: String,
        /// The lot.
        lot: Option<String>,
        /// The bidder organisation's public id (events from before it was added have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Uuid>,
    },
    /// A released key did not open the bid (only its bidder sees this; it may try again).
    KeyRefused {
        /// The bidder.
        bidder: String,
        /// The lot.
        lot: Option<String>,
        /// Why.
        reason: String,
        /// The bidder organisation's public id (events from before it was added have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Uuid>,
    },
    /// The envelope does not open, or what it holds is not a bid for this tender (its bid form
    /// does not match the tender's items): the bid is invalid.
    BidInvalid {
        /// The bidder.
        bidder: String,
        /// The lot.
        lot: Option<String>,
        /// Why, in English.
        reason: String,
        /// Why, as a stable code (see [`NotOpened::code`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// The bid form item a bid form problem is about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<ReasonItem>,
        /// The bidder organisation's public id (events from before it was added have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Uuid>,
    },
    /// The bid forms are read out to everyone at once (唱标).
    Reading {
        /// The valid bids.
        bids: Vec<ReadBid>,
        /// The bids not opened.
        not_opened: Vec<NotOpened>,
        /// Each lot's result.
        lots: Vec<LotResult>,
        /// The least number of valid bids.
        min_valid_bids: i32,
        /// The tender's bid form: each item's key, labels in both languages and kind, in order
        /// (readings before these were added have none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        items: Vec<crate::tenders::model::BidFormField>,
    },
    /// 流标: too few valid bids.
    Failed {
        /// Why.
        reason: String,
    },
    /// The objection window opened.
    ObjectionsStarted {
        /// When it closes.
        window_ends_at: DateTime<Utc>,
    },
    /// A bidder objected.
    Objection {
        /// The objection.
        id: Uuid,
        /// The bidder.
        bidder: String,
        /// The text.
        text: String,
    },
    /// The host answered an objection.
    Answer {
        /// The objection.
        objection: Uuid,
        /// The answer.
        text: String,
    },
    /// The bidders may confirm the record.
    ConfirmationStarted {
        /// The record's SHA-256.
        record_sha256: String,
        /// When the confirmation window closes, if it has one (the opening then closes by itself).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        window_ends_at: Option<DateTime<Utc>>,
    },
    /// A bidder confirmed (signed) the record.
    Confirmed {
        /// The bidder.
        bidder: String,
        /// The bidder organisation's public id (events from before it was added have none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        org: Option<Uuid>,
    },
    /// A note for the record.
    Note {
        /// Who wrote it.
        by: String,
        /// As what (`host`, `supervisor`).
        role: String,
        /// The note.
        text: String,
    },
    /// The opening closed.
    Closed {
        /// The record's SHA-256.
        record_sha256: Option<String>,
        /// Bidders with a valid bid that did not confirm.
        unconfirmed: Vec<String>,
    },
}

/// The state of a hall for one viewer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HallState {
    /// The tender.
    pub tender: Uuid,
    /// Its title.
    pub title: String,
    /// The phase.
    pub phase: Phase,
    /// When the current window closes (sign-in, decryption, objections, confirmation), if one is
    /// open.
    pub window_ends_at: Option<DateTime<Utc>>,
    /// The platform's clock now (clients correct their countdowns by it).
    pub server_time: DateTime<Utc>,
    /// `host`, `supervisor` or `bidder`.
    pub role: String,
    /// For a bidder: its organisation's public id, as events name it (`org`).
    pub org: Option<Uuid>,
    /// The last event's number.
    pub last_seq: i64,
    /// For a bidder: its bids in the opening (id, lot, outcome).
    #[schema(value_type = Vec<Object>)]
    pub my_bids: Vec<serde_json::Value>,
    /// SHA-256 of the opening record, once it exists (confirmation and after).
    pub record_sha256: Option<String>,
}

/// What a participant asks the hall to do (a websocket frame, or the body of the HTTP action).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// A bidder signs in.
    SignIn,
    /// The host opens the decryption window.
    StartDecryption,
    /// A bidder releases the content key of one of its bids (64 hex digits).
    ReleaseKey {
        /// The bid.
        bid: Uuid,
        /// The content key, hex.
        key: String,
    },
    /// The host moves to the next phase. With `from`, only if the hall is still in that phase
    /// (a window that closed by itself meanwhile is not skipped past): otherwise `out_of_turn`.
    Advance {
        /// The phase the host moves on from.
        #[serde(default)]
        from: Option<Phase>,
    },
    /// A bidder objects, in the objection window.
    Object {
        /// The objection.
        text: String,
    },
    /// The host answers an objection.
    Answer {
        /// The objection.
        objection: Uuid,
        /// The answer.
        text: String,
    },
    /// A bidder confirms the record: ECDSA P-256 signature (r‖s, base64) of its SHA-256.
    Confirm {
        /// The signature.
        signature: String,
    },
    /// A supervisor (or the host) adds a note to the record.
    Note {
        /// The note.
        text: String,
    },
}
