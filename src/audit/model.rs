//! Types of the audit chain.

use serde::{Deserialize, Serialize};

/// Who did it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditActor {
    /// The user, if a person acted.
    pub user_id: Option<crate::ids::UserId>,
    /// The user's organisation.
    pub org_id: Option<crate::ids::OrgId>,
    /// A readable label ("agency1 (某某招标代理)", "system").
    pub label: String,
}

impl AuditActor {
    /// The platform itself (scheduled work, start-up, demo data).
    pub fn system() -> Self {
        Self { user_id: None, org_id: None, label: "system".into() }
    }
}

crate::column::string_enum! {
    /// The kind of object an audit record is about; its label is `audit.objects.<type>` in the
    /// message catalogues.
    ObjectType {
        /// A tender (its public id); the opening hall's actions are about the tender too.
        Tender = "tender",
        /// An organisation (its public id).
        Organisation = "organisation",
        /// A user (its public id; the user name tried, for a failed login).
        User = "user",
        /// A sealed bid. Records about bids are kept out of every listing.
        Bid = "bid",
        /// An e-mall quotation.
        Quotation = "quotation",
        /// A supplier's quote in a quotation.
        Quote = "quote",
        /// A framework agreement.
        Agreement = "agreement",
        /// A catalogue item.
        Item = "item",
        /// A flagged price.
        PriceFlag = "price_flag",
        /// An e-mall order.
        Order = "order",
        /// A recorded centralized procurement result.
        ProcurementResult = "procurement_result",
        /// A data set imported in bulk.
        DataSet = "data_set",
        /// A site (trading centre) where experts evaluate.
        Site = "site",
        /// An expert of the pool.
        Expert = "expert",
        /// A peer deployment of the federation (its name).
        Peer = "peer",
    }
}

impl ObjectType {
    /// The catalogue key of the type's label.
    pub fn label_key(self) -> String {
        format!("audit.objects.{}", self.as_str())
    }
}

/// Defines [`Action`]: every action the platform records, with its stored code and the type
/// of object it is about.
macro_rules! actions {
    ($($(#[$m:meta])* $variant:ident = $code:literal on $object:ident),+ $(,)?) => {
        /// What was done: every action the platform records, and nothing else can be recorded
        /// ([`AuditEntry::new`] takes one). Its label is `audit.actions.<code>` in the message
        /// catalogues; a unit test requires one for every action in both languages.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$m])* $variant),+
        }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$variant),+];

            /// The stored, dotted code (`tender.publish`).
            pub fn code(self) -> &'static str {
                match self { $(Action::$variant => $code),+ }
            }

            /// The action of a stored code.
            pub fn parse(code: &str) -> Option<Action> {
                match code { $($code => Some(Action::$variant),)+ _ => None }
            }

            /// The type of object the action is about.
            pub fn object_type(self) -> ObjectType {
                match self { $(Action::$variant => ObjectType::$object),+ }
            }
        }
    };
}

actions! {
    /// A draft tender was created.
    TenderCreate = "tender.create" on Tender,
    /// A draft was changed.
    TenderUpdate = "tender.update" on Tender,
    /// A draft's evaluation criteria were set.
    TenderCriteria = "tender.criteria" on Tender,
    /// A tender document was uploaded.
    TenderDocumentUpload = "tender.document_upload" on Tender,
    /// A tender document was removed from a draft.
    TenderDocumentRemove = "tender.document_remove" on Tender,
    /// A tender was published.
    TenderPublish = "tender.publish" on Tender,
    /// The suppliers invited to an invited tender were set on its draft.
    TenderInvitations = "tender.invitations" on Tender,
    /// A tender was cancelled.
    TenderCancel = "tender.cancel" on Tender,
    /// A supplier obtained the tender documents.
    TenderDocumentsObtained = "tender.documents_obtained" on Tender,
    /// A supplier asked a question.
    TenderQuestion = "tender.question" on Tender,
    /// An answer, clarification or amendment was published.
    TenderClarification = "tender.clarification" on Tender,
    /// The opening hall opened at the bid deadline.
    OpeningOpen = "opening.open" on Tender,
    /// A bidder signed in to the hall.
    OpeningSignIn = "opening.sign_in" on Tender,
    /// The host started the decryption.
    OpeningStartDecryption = "opening.start_decryption" on Tender,
    /// A bidder released the key of its bid.
    OpeningReleaseKey = "opening.release_key" on Tender,
    /// A bidder raised an objection.
    OpeningObject = "opening.object" on Tender,
    /// The host answered an objection.
    OpeningAnswer = "opening.answer" on Tender,
    /// A bidder signed the opening record.
    OpeningConfirm = "opening.confirm" on Tender,
    /// The host or a supervisor added a note.
    OpeningNote = "opening.note" on Tender,
    /// The bids were read out.
    OpeningRead = "opening.read" on Tender,
    /// The confirmation of the record started.
    OpeningConfirmation = "opening.confirmation" on Tender,
    /// The opening closed.
    OpeningClose = "opening.close" on Tender,
    /// The platform committed to a draw's secret (its SHA-256).
    DrawCommit = "draw.commit" on Tender,
    /// A draw's request was recorded with the eligible experts and the exclusions.
    DrawRequest = "draw.request" on Tender,
    /// The supervisor contributed and the draw ran.
    DrawRun = "draw.run" on Tender,
    /// An expert drawn confirmed or declined (or the centre recorded the answer).
    DrawAnswer = "draw.answer" on Tender,
    /// A replacement was called for an expert who declined or did not answer.
    DrawReplace = "draw.replace" on Tender,
    /// A group of a draw ran out of candidates.
    DrawExhausted = "draw.exhausted" on Tender,
    /// A draw's result was published and its secret revealed.
    DrawPublish = "draw.publish" on Tender,
    /// An evaluation session was opened.
    EvaluationOpen = "evaluation.open" on Tender,
    /// An expert signed in at the session.
    EvaluationSignIn = "evaluation.sign_in" on Tender,
    /// A member signed the avoidance declaration, or declared a conflict and left.
    EvaluationDeclare = "evaluation.declare" on Tender,
    /// A member voted for the chair; or the chair was elected.
    EvaluationChair = "evaluation.chair" on Tender,
    /// The session moved to its next phase.
    EvaluationPhase = "evaluation.phase" on Tender,
    /// A member's pass/fail on a review item.
    EvaluationVote = "evaluation.vote" on Tender,
    /// A member's score.
    EvaluationScore = "evaluation.score" on Tender,
    /// A member signed its sheets.
    EvaluationSign = "evaluation.sign" on Tender,
    /// The chair reopened a signed sheet.
    EvaluationReopen = "evaluation.reopen" on Tender,
    /// A note or a dissent.
    EvaluationRemark = "evaluation.remark" on Tender,
    /// Every sheet signed: the result stands.
    EvaluationComplete = "evaluation.complete" on Tender,
    /// An upheld complaint gave a lot back to the committee (重新评审).
    EvaluationReturn = "evaluation.return" on Tender,
    /// The candidates of a tender's lots were published (中标候选人公示).
    AwardPublish = "award.publish" on Tender,
    /// A supplier challenged a lot's result (质疑).
    ChallengeFile = "challenge.file" on Tender,
    /// The agency answered a challenge.
    ChallengeAnswer = "challenge.answer" on Tender,
    /// The challenger complained to the supervisors (投诉).
    ChallengeComplain = "challenge.complain" on Tender,
    /// A supervisor decided a complaint.
    ChallengeDecide = "challenge.decide" on Tender,
    /// A deadline of the award passed: a challenge unanswered, a contract unrecorded (flags).
    AwardOverdue = "award.overdue" on Tender,
    /// The procuring unit chose a lot's winner, or the first candidate was taken (定标).
    AwardDecide = "award.decide" on Tender,
    /// A lot's contract was recorded.
    AwardContract = "award.contract" on Tender,
    /// The centre listed a holiday or a make-up working day.
    CalendarSet = "calendar.set" on Organisation,
    /// The centre took a day off the calendar's list.
    CalendarRemove = "calendar.remove" on Organisation,
    /// A bid was reserved.
    BidReserve = "bid.reserve" on Bid,
    /// A sealed bid was submitted.
    BidSubmit = "bid.submit" on Bid,
    /// A bid was withdrawn.
    BidWithdraw = "bid.withdraw" on Bid,
    /// A supplier registered a bid-signing key.
    BidderKeyRegister = "bidder_key.register" on Organisation,
    /// A supplier registered (pending approval).
    OrganisationRegister = "organisation.register" on Organisation,
    /// An administrator approved a registration.
    OrganisationApprove = "organisation.approve" on Organisation,
    /// An administrator rejected a registration.
    OrganisationReject = "organisation.reject" on Organisation,
    /// An operator created an organisation.
    OrganisationCreate = "organisation.create" on Organisation,
    /// A user logged in.
    SessionLogin = "session.login" on User,
    /// A login failed.
    SessionLoginFailed = "session.login_failed" on User,
    /// A login code was sent by SMS after a right password.
    SessionCodeSent = "session.code_sent" on User,
    /// A user turned its login codes on or off.
    UserLoginCodes = "user.login_codes" on User,
    /// An operator set a user's mobile number.
    UserPhoneSet = "user.phone_set" on User,
    /// A user logged out.
    SessionLogout = "session.logout" on User,
    /// A user changed their password.
    UserPasswordChanged = "user.password_changed" on User,
    /// An operator created a user.
    UserCreate = "user.create" on User,
    /// A user was enabled.
    UserEnable = "user.enable" on User,
    /// A user was disabled.
    UserDisable = "user.disable" on User,
    /// An administrator or operator set a new password for a user.
    UserPasswordReset = "user.password_reset" on User,
    /// The centre set up a framework agreement.
    MallAgreementCreate = "mall.agreement.create" on Agreement,
    /// An agreement was suspended.
    MallAgreementSuspend = "mall.agreement.suspend" on Agreement,
    /// An agreement was resumed.
    MallAgreementResume = "mall.agreement.resume" on Agreement,
    /// An item was added to an agreement.
    MallItemCreate = "mall.item.create" on Item,
    /// An item's price changed.
    MallItemPrice = "mall.item.price" on Item,
    /// The centre resolved a price flag.
    MallFlagResolve = "mall.flag.resolve" on PriceFlag,
    /// A unit started a quotation.
    MallQuotationCreate = "mall.quotation.create" on Quotation,
    /// A unit cancelled a quotation.
    MallQuotationCancel = "mall.quotation.cancel" on Quotation,
    /// A quotation failed.
    MallQuotationFail = "mall.quotation.fail" on Quotation,
    /// A quotation was awarded.
    MallQuotationAward = "mall.quotation.award" on Quotation,
    /// A supplier quoted.
    MallQuoteSubmit = "mall.quote.submit" on Quote,
    /// A supplier replaced its quote.
    MallQuoteReplace = "mall.quote.replace" on Quote,
    /// An order was placed.
    MallOrderSubmit = "mall.order.submit" on Order,
    /// The supplier confirmed an order.
    MallOrderConfirm = "mall.order.confirm" on Order,
    /// The supplier asked to adjust an order.
    MallOrderRequestAdjustment = "mall.order.request_adjustment" on Order,
    /// The supplier rejected an order.
    MallOrderReject = "mall.order.reject" on Order,
    /// The unit submitted an order again.
    MallOrderResubmit = "mall.order.resubmit" on Order,
    /// An order was cancelled.
    MallOrderCancel = "mall.order.cancel" on Order,
    /// An order was delivered.
    MallOrderDeliver = "mall.order.deliver" on Order,
    /// An order was accepted.
    MallOrderAccept = "mall.order.accept" on Order,
    /// An order was paid.
    MallOrderPay = "mall.order.pay" on Order,
    /// The centre recorded a centralized procurement result.
    ProcurementResultRecord = "procurement.result.record" on ProcurementResult,
    /// A data set was imported.
    MallImport = "mall.import" on DataSet,
    /// The administrator created a site.
    SiteCreate = "site.create" on Site,
    /// The administrator changed a site.
    SiteUpdate = "site.update" on Site,
    /// A centre user was bound to a site.
    SiteMemberAdd = "site.member_add" on Site,
    /// A centre user was unbound from a site.
    SiteMemberRemove = "site.member_remove" on Site,
    /// An expert was added to the pool.
    ExpertCreate = "expert.create" on Expert,
    /// An expert's record was changed.
    ExpertUpdate = "expert.update" on Expert,
    /// An expert was suspended.
    ExpertSuspend = "expert.suspend" on Expert,
    /// The agency or the host site's staff rated an expert after a session.
    ExpertRate = "expert.rate" on Expert,
    /// The centre set a site's fee rates.
    FeeRates = "fee.rates" on Site,
    /// A signed session's expert fees were computed.
    FeeCompute = "fee.compute" on Tender,
    /// The payment service acknowledged an expert's fee.
    FeePaid = "fee.paid" on Expert,
    /// A message was written for a peer deployment (sent once the link carries it).
    PeerSend = "peer.send" on Peer,
    /// A message from a peer deployment was received and applied (or refused, with its code).
    PeerReceive = "peer.receive" on Peer,
    /// The centre asked a peer deployment for experts for a tender's committee.
    RemoteDrawAsk = "remote_draw.ask" on Tender,
    /// A guest screened its pool for a peer's request and committed to its secret.
    RemoteDrawCommit = "remote_draw.commit" on Peer,
    /// A guest ran the draw for a peer with the peer's contribution.
    RemoteDrawRun = "remote_draw.run" on Peer,
    /// The host ran the guest's draw again from its answer and got the same experts.
    RemoteDrawVerified = "remote_draw.verified" on Tender,
    /// The guest refused the request, or its answer did not verify.
    RemoteDrawFailed = "remote_draw.failed" on Tender,
    /// The centre seated a guest's members in the tender's evaluation session.
    RemoteDrawSeat = "remote_draw.seat" on Tender,
    /// A guest member's command was relayed to the host's session.
    RemoteCommand = "remote_draw.command" on Peer,
    /// A suspended expert was reactivated.
    ExpertReactivate = "expert.reactivate" on Expert,
    /// An employment was added to an expert's record.
    ExpertEmploymentAdd = "expert.employment_add" on Expert,
    /// An employment was removed from an expert's record.
    ExpertEmploymentRemove = "expert.employment_remove" on Expert,
    /// An expert declared a conflict of interest.
    ExpertConflictAdd = "expert.conflict_add" on Expert,
    /// A declared conflict was removed.
    ExpertConflictRemove = "expert.conflict_remove" on Expert,
    /// Days an expert cannot evaluate were noted.
    ExpertUnavailableAdd = "expert.unavailable_add" on Expert,
    /// An unavailable day was removed.
    ExpertUnavailableRemove = "expert.unavailable_remove" on Expert,
    /// A login was created for an expert.
    ExpertAccountCreate = "expert.account_create" on Expert,
    /// Experts were imported from a CSV file.
    ExpertImport = "expert.import" on DataSet,
}

impl Action {
    /// The catalogue key of the action's label.
    pub fn label_key(self) -> String {
        format!("audit.actions.{}", self.code())
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// What was done; it also says the kind of object.
    pub action: Action,
    /// Public identifier of the object.
    pub object_id: String,
    /// What changed, as JSON; its SHA-256 is the record's change digest.
    pub details: serde_json::Value,
}

impl AuditEntry {
    /// An entry: `action` done to the object `object_id` (of the action's object type).
    pub fn new(action: Action, object_id: impl ToString, details: serde_json::Value) -> Self {
        Self { action, object_id: object_id.to_string(), details }
    }
}

/// One problem found by verification.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    /// Sequence number of the record where the problem shows.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    /// A problem at `seq`.
    pub fn at(seq: i64, reason: String) -> Self {
        Self { seq, reason }
    }
}

/// The result of verifying the chain.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct VerifyReport {
    /// Records read.
    pub records: i64,
    /// Last sequence number read.
    pub last_seq: i64,
    /// Checkpoints read.
    pub checkpoints: i64,
    /// Highest record covered by a valid signed checkpoint.
    pub signed_upto: i64,
    /// Problems, in the order found.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    pub(crate) fn problem(&mut self, p: Problem) {
        if self.problems.len() < 1000 {
            self.problems.push(p);
        }
    }

    /// Whether the chain is intact.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The first bad record (lowest sequence number with a problem).
    pub fn first_bad(&self) -> Option<&Problem> {
        self.problems.iter().min_by_key(|p| p.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::{I18n, Lang};

    #[test]
    fn every_action_and_object_type_has_a_label_in_both_languages() {
        let i18n = I18n::load().expect("i18n files parse");
        let mut missing = Vec::new();
        for lang in [Lang::Zh, Lang::En] {
            for a in Action::ALL {
                if i18n.lookup(lang, &a.label_key()).is_none_or(|t| t.trim().is_empty()) {
                    missing.push(format!("{lang:?} {}", a.label_key()));
                }
            }
            for o in ObjectType::ALL {
                if i18n.lookup(lang, &o.label_key()).is_none_or(|t| t.trim().is_empty()) {
                    missing.push(format!("{lang:?} {}", o.label_key()));
                }
            }
        }
        assert!(missing.is_empty(), "labels missing: {missing:?}");
    }

    #[test]
    fn every_action_label_is_of_an_action() {
        let i18n = I18n::load().expect("i18n files parse");
        for lang in [Lang::Zh, Lang::En] {
            let mut stray: Vec<&str> = i18n
                .keys(lang)
                .filter_map(|k| k.strip_prefix("audit.actions."))
                .filter(|code| Action::parse(code).is_none())
                .collect();
            stray.extend(
                i18n.keys(lang)
                    .filter_map(|k| k.strip_prefix("audit.objects."))
                    .filter(|t| ObjectType::parse(t).is_none()),
            );
            assert!(stray.is_empty(), "{lang:?}: labels of no action or object type: {stray:?}");
        }
    }

    #[test]
    fn codes_are_unique_and_read_back() {
        let mut seen = std::collections::HashSet::new();
        for a in Action::ALL {
            assert!(seen.insert(a.code()), "{} twice", a.code());
            assert_eq!(Action::parse(a.code()), Some(*a));
            assert!(a.code().contains('.'), "{} is dotted", a.code());
        }
        assert_eq!(Action::parse("tender.nothing"), None);
        let e = AuditEntry::new(Action::TenderPublish, "x", serde_json::json!({}));
        assert_eq!(e.action.object_type(), ObjectType::Tender);
        assert_eq!(Action::BidSubmit.object_type(), ObjectType::Bid);
    }
}
