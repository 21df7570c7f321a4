//! The evaluation session's types: its phases, its members, the commands a participant sends,
//! the live events, and the views handed to pages and the API.

use crate::{accounts::model::string_enum, live::Audience, tenders::criteria::Criteria};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where an evaluation session is.
    Phase stored in crate::entities::evaluation::Entity {
        /// 签到: the experts sign in at their site and sign the avoidance declaration.
        SignIn = "sign_in",
        /// 推选组长: the committee elects its chair.
        Chair = "chair",
        /// 资格审查.
        Qualification = "qualification",
        /// 符合性审查.
        Compliance = "compliance",
        /// 详细评审: scoring (or, under the lowest price method, the check of the prices).
        Scoring = "scoring",
        /// 签字: the experts sign their sheets.
        Signing = "signing",
        /// 评标结束: every sheet signed, the report written.
        Signed = "signed",
    }
}

impl Phase {
    /// The phase after this one.
    pub fn next(self) -> Option<Phase> {
        use Phase::*;
        match self {
            SignIn => Some(Chair),
            Chair => Some(Qualification),
            Qualification => Some(Compliance),
            Compliance => Some(Scoring),
            Scoring => Some(Signing),
            Signing => Some(Signed),
            Signed => None,
        }
    }
}

string_enum! {
    /// A member's place on the committee.
    MemberStatus stored in crate::entities::evaluation_member::Entity {
        /// Sits on the committee.
        Seated = "seated",
        /// Declared a conflict and left (回避); a replacement is called.
        Withdrawn = "withdrawn",
    }
}

string_enum! {
    /// The pass/fail reviews.
    Stage stored in crate::entities::evaluation_vote::Entity {
        /// 资格审查.
        Qualification = "qualification",
        /// 符合性审查.
        Compliance = "compliance",
    }
}

string_enum! {
    /// What a remark of the session is.
    RemarkKind stored in crate::entities::evaluation_remark::Entity {
        /// A supervisor's note.
        Note = "note",
        /// A member's dissenting opinion (保留意见), kept in the report.
        Dissent = "dissent",
        /// The chair reopened a signed sheet, with the reason of 87号令 art. 64.
        Reopen = "reopen",
        /// The supervisors' decision on a complaint gave a lot back to the committee; the
        /// remark's code is the lot's public id, its text the decision's reason.
        Returned = "returned",
    }
}

string_enum! {
    /// The only reasons a signed sheet may be reopened (财政部令第87号 art. 64).
    ReopenReason {
        /// 分值汇总计算错误.
        SumError = "sum_error",
        /// 分项评分超出评分标准范围.
        OutOfRange = "out_of_range",
        /// 评标委员会成员对客观评审因素评分不一致.
        ObjectiveInconsistent = "objective_inconsistent",
        /// 经评标委员会认定评分畸高、畸低.
        ExtremeScore = "extreme_score",
    }
}

/// Who is in the session's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// A committee member (an expert, or the procuring unit's representative).
    Member {
        /// Its user.
        user_id: crate::ids::UserId,
    },
    /// An expert of the committee who has not signed in yet.
    Expert {
        /// Its user.
        user_id: crate::ids::UserId,
    },
    /// Centre staff: host the session.
    Host,
    /// Supervisors: watch, and add notes.
    Supervisor,
}

impl crate::live::Viewer for Viewer {
    fn sees(&self, audience: &Audience) -> bool {
        match self {
            Viewer::Host | Viewer::Supervisor => true,
            Viewer::Member { user_id } | Viewer::Expert { user_id } => {
                matches!(audience, Audience::All) || *audience == Audience::User(*user_id)
            }
        }
    }

    fn role(&self) -> &'static str {
        match self {
            Viewer::Member { .. } | Viewer::Expert { .. } => "expert",
            Viewer::Host => "host",
            Viewer::Supervisor => "supervisor",
        }
    }
}

/// What a participant asks the session to do (a websocket frame, or the body of the HTTP
/// action).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    /// An expert of the committee signs in at its site.
    SignIn,
    /// The avoidance declaration (回避承诺): `conflict` true makes the expert leave, and a
    /// replacement is called.
    Declare {
        /// Whether the expert has a conflict with a bidder, the procuring unit or the agency.
        conflict: bool,
        /// The conflict, when there is one.
        #[serde(default)]
        note: Option<String>,
    },
    /// A member votes for the chair.
    VoteChair {
        /// The member voted for.
        member: Uuid,
    },
    /// The host moves to the next phase, if the session is still in `from`.
    Advance {
        /// The phase the host moves on from.
        from: Phase,
    },
    /// A member's pass/fail on one review item of one bid; a fail needs a reason.
    Vote {
        /// Qualification or compliance.
        stage: Stage,
        /// The bid.
        bid: Uuid,
        /// The item's key.
        item: String,
        /// Pass.
        pass: bool,
        /// Why it fails.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A member's score of one item of one bid, in points ("12.5"); a reason where the
    /// consistency check asks for one.
    Score {
        /// The bid.
        bid: Uuid,
        /// The item's key.
        item: String,
        /// Points, at most two decimals.
        points: String,
        /// Why a score far from the others' stands.
        #[serde(default)]
        reason: Option<String>,
    },
    /// A member signs its sheets, with its password.
    Sign {
        /// The member's password.
        password: String,
    },
    /// The chair reopens a member's signed sheet, for a reason of 87号令 art. 64.
    Reopen {
        /// The member.
        member: Uuid,
        /// The reason.
        reason: ReopenReason,
        /// What is wrong.
        note: String,
    },
    /// A member records a dissenting opinion.
    Dissent {
        /// The opinion.
        text: String,
    },
    /// A supervisor's note.
    Note {
        /// The note.
        text: String,
    },
}

/// What happens in a session: its live events, stored as `{"kind": <name>, "data": <fields>}`.
/// No event carries a score or a vote of one member to the others.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum EvalEvent {
    /// The session was opened.
    Opened {
        /// Committee seats.
        seats: usize,
    },
    /// A member signed in.
    SignedIn {
        /// The member.
        member: Uuid,
        /// Its name.
        name: String,
        /// Its site.
        site: Option<String>,
    },
    /// A member signed the declaration.
    Declared {
        /// The member.
        member: Uuid,
    },
    /// A member declared a conflict and left.
    Withdrew {
        /// The member.
        member: Uuid,
    },
    /// A member voted for the chair (not for whom).
    ChairVoted {
        /// The member.
        member: Uuid,
    },
    /// The chair is elected.
    ChairElected {
        /// The member.
        member: Uuid,
        /// Its name.
        name: String,
    },
    /// The session moved to a phase.
    Phase {
        /// The phase.
        phase: Phase,
    },
    /// A member recorded a vote or a score (what, not how).
    Progress {
        /// The member.
        member: Uuid,
        /// Votes and scores it has given in the phase.
        done: usize,
        /// Of how many.
        of: usize,
    },
    /// A member signed its sheets.
    Signed {
        /// The member.
        member: Uuid,
    },
    /// The chair reopened a member's sheet.
    Reopened {
        /// The member.
        member: Uuid,
        /// The reason.
        reason: ReopenReason,
    },
    /// A dissent was recorded.
    Dissent {
        /// The member.
        member: Uuid,
    },
    /// A supervisor's note.
    Note {
        /// Who.
        by: String,
        /// The note.
        text: String,
    },
    /// Every sheet is signed; the result stands.
    Completed {
        /// The report's SHA-256.
        report_sha256: String,
    },
    /// A lot was given back to the committee by the supervisors' decision on a complaint.
    Returned {
        /// The lot.
        lot: Uuid,
        /// The session's round from now on.
        round: i32,
    },
}

/// A member as the session shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberView {
    /// Public id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Site.
    pub site: Option<String>,
    /// The procuring unit's representative.
    pub is_rep: bool,
    /// Seated or withdrawn.
    pub status: MemberStatus,
    /// When it signed in.
    pub signed_in_at: Option<DateTime<Utc>>,
    /// Declaration signed.
    pub declared: bool,
    /// Voted for the chair.
    pub voted_chair: bool,
    /// The chair.
    pub chair: bool,
    /// When it signed its sheets.
    pub signed_at: Option<DateTime<Utc>>,
}

/// A bid as the session shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BidView {
    /// The bid's public id.
    pub id: Uuid,
    /// Its label: the bidder's name, or its letter (A, B, C…) while the technical part is
    /// anonymous to the viewer.
    pub label: String,
    /// The bidder, when the viewer may see it.
    pub bidder: Option<String>,
    /// The lot.
    pub lot: String,
    /// The lot's public id.
    pub lot_id: Uuid,
    /// The bid price, fen.
    #[schema(value_type = i64)]
    pub price: crate::money::Money,
    /// A small or micro enterprise (the price deduction applies).
    pub sme: bool,
    /// The evaluated price (after the deduction), fen.
    #[schema(value_type = i64)]
    pub evaluated_price: crate::money::Money,
    /// Out of the evaluation, with the failed items (after the reviews).
    pub out: bool,
}

/// A finding of the 清标 check.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FindingView {
    /// The bid.
    pub bid: Uuid,
    /// Stable code (`above_ceiling`, `abnormally_low`, …).
    pub code: String,
    /// Its details.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// A consistency flag that holds up signing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FlagView {
    /// `objective_disagrees` (every expert must re-score to agreement) or `needs_reason`.
    pub code: String,
    /// The bid.
    pub bid: Uuid,
    /// The item.
    pub item: String,
    /// The member who must act (for `needs_reason`).
    pub member: Option<Uuid>,
}

/// One bid's result.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResultRow {
    /// The bid.
    pub bid: Uuid,
    /// Its label.
    pub label: String,
    /// The lot.
    pub lot: String,
    /// Passed the reviews.
    pub passed: bool,
    /// The items it failed, with the committee's reasons.
    pub failed_items: Vec<String>,
    /// Mean score per scoring item (hundredths), in the criteria's order.
    pub item_means: Vec<i64>,
    /// The price score (hundredths).
    pub price_score: i64,
    /// The total (hundredths).
    pub total: i64,
    /// The evaluated price, fen.
    #[schema(value_type = i64)]
    pub evaluated_price: crate::money::Money,
    /// Rank within the lot (1 is the first candidate), for bids that passed.
    pub rank: Option<u32>,
    /// The rank was decided by the recorded draw between equal bids.
    pub tie_broken_by_draw: bool,
}

/// The session for one viewer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    /// Public id.
    pub id: Uuid,
    /// The tender.
    pub tender: Uuid,
    /// The tender's title.
    pub title: String,
    /// The phase.
    pub phase: Phase,
    /// `expert`, `host` or `supervisor`.
    pub role: String,
    /// The viewer's own member id, if it sits.
    pub me: Option<Uuid>,
    /// Seats of the committee.
    pub seats: usize,
    /// The members.
    pub members: Vec<MemberView>,
    /// The bids.
    pub bids: Vec<BidView>,
    /// The criteria.
    pub criteria: Criteria,
    /// The 清标 findings.
    pub findings: Vec<FindingView>,
    /// The viewer's own votes: (stage, bid, item, pass).
    #[schema(value_type = Vec<Object>)]
    pub my_votes: Vec<serde_json::Value>,
    /// The viewer's own scores: (bid, item, points in hundredths).
    #[schema(value_type = Vec<Object>)]
    pub my_scores: Vec<serde_json::Value>,
    /// Open consistency flags (scoring and signing).
    pub flags: Vec<FlagView>,
    /// The results, once the reviews are done (staff), or once signed (everyone).
    pub results: Vec<ResultRow>,
    /// Remarks: notes, dissents, reopened sheets.
    #[schema(value_type = Vec<Object>)]
    pub remarks: Vec<serde_json::Value>,
    /// The last event's number.
    pub last_seq: i64,
    /// The platform's clock now.
    pub server_time: DateTime<Utc>,
    /// The report's SHA-256, once signed.
    pub report_sha256: Option<String>,
    /// 1, and one more for each re-evaluation.
    pub round: i32,
    /// The lots given back for re-evaluation while it runs: only their bids' votes and scores
    /// may change.
    pub reopened_lots: Vec<ReopenedLot>,
}

/// A lot given back to the committee (重新评审).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReopenedLot {
    /// The lot's public id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}
