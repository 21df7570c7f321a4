//! Opening-hall types: phases, who is watching, events as sent, and the commands a participant
//! may send.

use crate::accounts::model::string_enum;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where an opening is.
    Phase {
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
    BidOutcome {
        /// Waiting for its key.
        Pending = "pending",
        /// Opened and checked: its bid form is read out.
        Valid = "valid",
        /// 解密失败: no valid key released in the window.
        DecryptFailed = "decrypt_failed",
        /// The envelope does not open (corrupted, truncated, not this bid's): the reason says why.
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
        org_id: i64,
    },
}

impl Viewer {
    /// Whether this viewer may see an event for `audience`.
    pub fn sees(&self, audience: &str) -> bool {
        match self {
            Viewer::Host | Viewer::Supervisor => true,
            Viewer::Bidder { org_id } => {
                audience == "all" || audience.strip_prefix("org:").and_then(|o| o.parse::<i64>().ok()) == Some(*org_id)
            }
        }
    }

    /// The role name sent to clients.
    pub fn as_str(&self) -> &'static str {
        match self {
            Viewer::Host => "host",
            Viewer::Supervisor => "supervisor",
            Viewer::Bidder { .. } => "bidder",
        }
    }
}

/// One hall event as participants receive it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct HallEvent {
    /// Its number in this opening: 1, 2, 3… without gaps.
    pub seq: i64,
    /// What happened (`opened`, `signed_in`, `decryption_started`, `key_accepted`,
    /// `key_refused`, `bid_invalid`, `reading`, `objection`, `answer`, `confirmation_started`,
    /// `confirmed`, `note`, `closed`, `failed`).
    pub kind: String,
    /// When, by the platform's clock.
    pub at: DateTime<Utc>,
    /// The details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// Who may see it: `all`, `staff` or `org:<n>` (internal).
    #[serde(skip)]
    pub audience: String,
    /// The opening (internal id).
    #[serde(skip)]
    pub opening_id: i64,
}

/// The state of a hall for one viewer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HallState {
    /// The tender.
    pub tender: Uuid,
    /// Its title.
    pub title: String,
    /// The phase.
    pub phase: String,
    /// When the current window closes (decryption, objections), if one is open.
    pub window_ends_at: Option<DateTime<Utc>>,
    /// The platform's clock now (clients correct their countdowns by it).
    pub server_time: DateTime<Utc>,
    /// `host`, `supervisor` or `bidder`.
    pub role: String,
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
    /// The host moves to the next phase.
    Advance,
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
