//! What a notice is: a kind, named arguments, the object it is about and a link.
//!
//! A notice is stored as its [`NoticeKind`] and its [`Args`], never as a sentence: the sentence
//! is the kind's template in the message catalogues (`[notice]` in `frontend/i18n/*.toml`), filled
//! in when the notice is read, in the reader's language ([`super::render`]).

use crate::{column::string_enum, money::Money};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

string_enum! {
    /// What a notice says; its template is `notice.<kind>` in the message catalogues.
    NoticeKind stored in crate::entities::notification::Entity {
        /// A tender was cancelled: `title`, `code`, `reason`.
        TenderCancelled = "tender_cancelled",
        /// A supplier asked a question on a tender: `title`.
        QuestionReceived = "question_received",
        /// A clarification was published: `title`, `what` (its kind), `change` (whether the
        /// deadline moved) and `deadline`.
        ClarificationIssued = "clarification_issued",
        /// A supplier is invited to quote: `title`, `code`, `closes`.
        QuotationInvitation = "quotation_invitation",
        /// A quotation was cancelled: `title`, `code`, `reason`.
        QuotationCancelled = "quotation_cancelled",
        /// A quotation closed with too few compliant quotes: `title`, `code`, `compliant`, `min`.
        QuotationFailed = "quotation_failed",
        /// A quotation was awarded: `title`, `code`, `amount`, `order`.
        QuotationAwarded = "quotation_awarded",
        /// A framework agreement was set up: `title`, `code`.
        AgreementCreated = "agreement_created",
        /// A framework agreement was suspended: `title`, `reason`.
        AgreementSuspended = "agreement_suspended",
        /// A suspended framework agreement was resumed: `title`.
        AgreementResumed = "agreement_resumed",
        /// An order was placed: `code`, `amount`.
        OrderSubmitted = "order_submitted",
        /// The supplier confirmed an order: `code`, `amount`.
        OrderConfirm = "order_confirm",
        /// The supplier asks to adjust an order: `code`, `amount`.
        OrderRequestAdjustment = "order_request_adjustment",
        /// The supplier rejected an order: `code`, `amount`.
        OrderReject = "order_reject",
        /// The unit submitted an order again: `code`, `amount`.
        OrderResubmit = "order_resubmit",
        /// An order was cancelled: `code`, `amount`.
        OrderCancel = "order_cancel",
        /// An order was delivered: `code`, `amount`.
        OrderDeliver = "order_deliver",
        /// An order was accepted: `code`, `amount`.
        OrderAccept = "order_accept",
        /// An order was paid: `code`, `amount`.
        OrderPay = "order_pay",
        /// The centre approved an organisation's registration: `name`.
        RegistrationApproved = "registration_approved",
        /// The centre rejected an organisation's registration: `name`, `reason`.
        RegistrationRejected = "registration_rejected",
        /// An expert is drawn for an evaluation: `session` (when), `site`, `minutes` (expected
        /// duration) and `answer_by`; never the tender or its parties.
        ExpertInvited = "expert_invited",
        /// The candidates of a lot are published: `title`, `code`, `lot`, `until` (to its bidders).
        CandidatesPublished = "candidates_published",
        /// A challenge was filed: `title`, `lot`, `answer_by` (to the tender's managers).
        ChallengeFiled = "challenge_filed",
        /// A challenge is to be answered soon: `title`, `answer_by` (to the managers).
        ChallengeReminder = "challenge_reminder",
        /// A challenge was not answered in time: `title`, `code`, `answer_by` (to supervisors).
        ChallengeOverdue = "challenge_overdue",
        /// A challenge was answered: `title`, `lot`, `until` (the complaint period; to the challenger).
        ChallengeAnswered = "challenge_answered",
        /// A complaint was made: `title`, `code` (to supervisors).
        ComplaintFiled = "complaint_filed",
        /// A complaint was decided: `title`, `lot`, `decision` (a catalogue key).
        ComplaintDecided = "complaint_decided",
        /// The bidder won a lot: `title`, `lot`, `amount`, `due` (the contract's date).
        AwardWon = "award_won",
        /// The lot was awarded to another bidder: `title`, `lot`, `winner`, `amount`.
        AwardResult = "award_result",
        /// A lot is given back to the committee for re-evaluation: `title`, `code`, `lot`,
        /// `reason` (to the committee's members).
        ReEvaluation = "re_evaluation",
        /// Another than the first candidate was chosen: `title`, `code`, `lot`, `reason` (to supervisors).
        AwardOtherCandidate = "award_other_candidate",
        /// The complaint period ends soon: `title`, `lot`, `until` (to the challenger).
        ComplaintReminder = "complaint_reminder",
        /// The winner is to be chosen soon: `title`, `lot`, `due` (to the procuring unit).
        DecisionReminder = "decision_reminder",
        /// The contract is due soon: `title`, `lot`, `due`.
        ContractReminder = "contract_reminder",
        /// No contract was recorded in time: `title`, `code`, `lot`, `due` (to supervisors).
        ContractOverdue = "contract_overdue",
        /// A bid was received with its signed receipt (to the bidder): `title`, `lot`, `at`,
        /// `sha` (the envelope's SHA-256, its first 16 hex digits).
        BidReceipt = "bid_receipt",
        /// An invitation to bid on an invited tender (投标邀请书): `title`, `code`, `deadline` (to
        /// each invited supplier, when the tender is published).
        BidInvitation = "bid_invitation",
        /// The bid deadline is near: `title`, `code`, `hours` (24 or 2), `deadline` (to the
        /// obtainers of the documents without a bid).
        BidDeadlineNear = "bid_deadline_near",
        /// The opening hall is open, sign in: `title`, `code` (to the bidders).
        OpeningStarted = "opening_started",
        /// The decryption window opened: `title`, `code`, `until` (to the bidders).
        DecryptionOpened = "decryption_opened",
        /// The decryption window closes in five minutes: `title`, `code`, `until` (to the bidders
        /// whose bids are still sealed; urgent).
        DecryptionClosing = "decryption_closing",
        /// A bid was not decrypted in the window: `title`, `code`, `lot` (to its bidder).
        DecryptionFailed = "decryption_failed",
        /// An objection at the opening was answered: `title`, `code` (to the bidder's user who
        /// raised it).
        ObjectionAnswered = "objection_answered",
        /// A confirmed expert's session is a day away: `session`, `site`, `minutes`; never the
        /// tender.
        EvaluationSoon = "evaluation_soon",
        /// A quotation's result to a quoter: `title`, `code`, `outcome` (a catalogue key: won or
        /// not), `amount` (the winning total).
        QuotationResult = "quotation_result",
        /// A published tender notice matches a supplier's subscription: `title`, `code`,
        /// `deadline`, `subscription` (its name).
        TenderMatch = "tender_match",
        /// A notice stored as texts by a version before notices had arguments: `text`, both
        /// languages' texts as they were stored.
        Legacy = "legacy",
    }
}

/// One argument of a notice, stored with a tag naming its type:
/// `{"type": "text", "value": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Arg {
    /// A text shown as it is, in every language (a title, a code, a reason).
    Text(String),
    /// A time, shown in China Standard Time in the reader's format.
    Time(DateTime<Utc>),
    /// An amount of money in fen, shown in 元 with two decimals.
    Fen(i64),
    /// The key of a catalogue text, shown translated (`clarification.kind.amendment`).
    Key(String),
    /// A text in each language, shown in the reader's. Only notices converted from the texts
    /// an older version stored have one ([`NoticeKind::Legacy`]); new notices are never built
    /// with it.
    Both {
        /// The Chinese text.
        zh: String,
        /// The English text.
        en: String,
    },
}

/// The arguments of a notice by name; stored as a JSON object.
pub type Args = BTreeMap<String, Arg>;

/// A notice to send: what it says (kind and arguments), what it is about and where to look.
///
/// ```text
/// Notice::new(NoticeKind::ClarificationIssued)
///     .arg("title", &t.title)
///     .arg_key("what", "clarification.kind.amendment")
///     .about_tender(t.id)
///     .link(format!("/tenders/{}#clarifications", t.public_id))
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// What it says.
    pub kind: NoticeKind,
    /// The arguments of its template.
    pub args: Args,
    /// The tender concerned.
    pub tender_id: Option<crate::ids::TenderId>,
    /// Where to look.
    pub link: Option<String>,
}

impl Notice {
    /// A notice of `kind` without arguments yet.
    pub fn new(kind: NoticeKind) -> Self {
        Self { kind, args: Args::new(), tender_id: None, link: None }
    }

    /// Adds a text shown as it is.
    pub fn arg(mut self, name: &'static str, text: impl Into<String>) -> Self {
        self.args.insert(name.into(), Arg::Text(text.into()));
        self
    }

    /// Adds a time.
    pub fn arg_time(mut self, name: &'static str, at: DateTime<Utc>) -> Self {
        self.args.insert(name.into(), Arg::Time(at));
        self
    }

    /// Adds an amount of money.
    pub fn arg_money(mut self, name: &'static str, amount: Money) -> Self {
        self.args.insert(name.into(), Arg::Fen(amount.fen()));
        self
    }

    /// Adds a catalogue text, shown translated.
    pub fn arg_key(mut self, name: &'static str, key: &'static str) -> Self {
        self.args.insert(name.into(), Arg::Key(key.into()));
        self
    }

    /// Says which tender the notice is about.
    pub fn about_tender(mut self, tender_id: crate::ids::TenderId) -> Self {
        self.tender_id = Some(tender_id);
        self
    }

    /// Where the reader should look.
    pub fn link(mut self, link: impl Into<String>) -> Self {
        self.link = Some(link.into());
        self
    }
}
