//! The award's types: each lot's state, the regime its periods follow, challenges and their
//! decisions, and the views handed to pages and the API.

use crate::{
    column::string_enum,
    ids::{BidId, OrgId},
    money::Money,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where a lot's award stands.
    AwardState stored in crate::entities::award_lot::Entity {
        /// 公示中: its candidates are published; the procuring unit decides after the publicity.
        Publicity = "publicity",
        /// 退回重评: an upheld complaint sent the lot back to its committee; no award.
        Returned = "returned",
        /// 重新招标: an upheld complaint ordered the lot run again; no award.
        Rerun = "rerun",
        /// 已定标: the winner is chosen and told.
        Awarded = "awarded",
        /// 已签合同: the contract is recorded.
        Contracted = "contracted",
    }
}

string_enum! {
    /// Which law a lot's periods follow.
    Regime stored in crate::entities::award_lot::Entity {
        /// 政府采购法 (goods and services): the result is announced for a number of working days,
        /// challenges within a number of working days.
        Procurement = "procurement",
        /// 招标投标法 (works): the candidates are published for a number of days, objections
        /// within the publicity.
        Tendering = "tendering",
    }
}

string_enum! {
    /// Where a challenge stands.
    ChallengeState stored in crate::entities::challenge::Entity {
        /// Filed, waiting for the agency's answer.
        Open = "open",
        /// Answered; the challenger may complain within the period.
        Answered = "answered",
        /// Complained to the supervisors, waiting for their decision.
        Complained = "complained",
        /// Decided by the supervisors.
        Decided = "decided",
    }
}

impl ChallengeState {
    /// Whether the challenge holds the lot's award back.
    pub fn is_pending(self) -> bool {
        matches!(self, ChallengeState::Open | ChallengeState::Complained)
    }
}

string_enum! {
    /// The supervisors' decision on a complaint.
    Decision stored in crate::entities::challenge::Entity {
        /// 驳回: the result stands.
        Rejected = "rejected",
        /// 成立，重新评审: the lot goes back to the same committee.
        ReEvaluate = "re_evaluate",
        /// 成立，重新招标: the lot is run again.
        Rerun = "rerun",
    }
}

/// A candidate as stored with its lot (`award_lots.candidates`), in rank order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The bid.
    pub bid_id: BidId,
    /// Its public id.
    pub bid: Uuid,
    /// The bidder.
    pub org_id: OrgId,
    /// The bidder's name.
    pub name: String,
    /// The bid's price.
    pub price: Money,
    /// The total score, hundredths.
    pub total: i64,
    /// Rank, from 1.
    pub rank: u32,
}

/// A candidate as everyone sees it in the publicity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateView {
    /// The bid's public id.
    pub bid: Uuid,
    /// Rank, from 1.
    pub rank: u32,
    /// The bidder's name.
    pub name: String,
    /// Price, fen.
    #[schema(value_type = i64)]
    pub price: Money,
    /// Total score, hundredths.
    pub total: i64,
}

/// A challenge as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChallengeView {
    /// Public id.
    pub id: Uuid,
    /// The lot's public id.
    pub lot: Uuid,
    /// The challenger's name.
    pub challenger: String,
    /// Where it stands.
    pub state: ChallengeState,
    /// The challenge's text.
    pub body: String,
    /// The evidence's file name, if any.
    pub evidence_name: Option<String>,
    /// Filed.
    pub filed_at: DateTime<Utc>,
    /// The answer is due by.
    pub answer_by: DateTime<Utc>,
    /// Not answered in time.
    pub answer_overdue: bool,
    /// The answer.
    pub answer: Option<String>,
    /// The answer changes the result (then it is published).
    pub changes_result: bool,
    /// Answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// A complaint may be made until.
    pub complaint_until: Option<DateTime<Utc>>,
    /// The complaint.
    pub complaint: Option<String>,
    /// The supervisors' decision.
    pub decision: Option<Decision>,
    /// Its reason.
    pub decision_reason: Option<String>,
    /// What the reader may do with it now.
    pub can: ChallengeActions,
}

/// What the reader may do with a challenge now.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ChallengeActions {
    /// Answer it (the tender's managers).
    pub answer: bool,
    /// Complain to the supervisors (the challenger).
    pub complain: bool,
    /// Decide the complaint (supervisors).
    pub decide: bool,
}

/// One lot's award as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LotAwardView {
    /// The lot's public id.
    pub lot: Uuid,
    /// Lot number.
    pub lot_no: i32,
    /// Lot name.
    pub name: String,
    /// Budget, fen.
    #[schema(value_type = i64)]
    pub budget: Money,
    /// Where it stands.
    pub state: AwardState,
    /// 1, and one more for each publication after a re-evaluation.
    pub round: i32,
    /// When an upheld complaint last set its result aside.
    pub returned_at: Option<DateTime<Utc>>,
    /// The regime of its periods.
    pub regime: Regime,
    /// The candidates, in rank order.
    pub candidates: Vec<CandidateView>,
    /// Published.
    pub published_at: DateTime<Utc>,
    /// Published later than the rule's days after the report.
    pub published_late: bool,
    /// The publicity ends.
    pub publicity_until: DateTime<Utc>,
    /// Challenges may be filed until.
    pub challenge_until: DateTime<Utc>,
    /// Without a decision by then, the first candidate is taken.
    pub decide_by: DateTime<Utc>,
    /// The winner's name.
    pub winner: Option<String>,
    /// The winner's rank among the candidates.
    pub winner_rank: Option<i32>,
    /// Why another than the first candidate was chosen.
    pub choice_reason: Option<String>,
    /// Award amount, fen.
    #[schema(value_type = Option<i64>)]
    pub award: Option<Money>,
    /// Savings (budget − award), fen.
    #[schema(value_type = Option<i64>)]
    pub savings: Option<Money>,
    /// Savings rate (savings / budget), per cent with two decimals, rounded half up.
    pub savings_rate: Option<String>,
    /// Awarded.
    pub awarded_at: Option<DateTime<Utc>>,
    /// The contract is to be signed by.
    pub contract_due: Option<DateTime<Utc>>,
    /// Contract amount, fen.
    #[schema(value_type = Option<i64>)]
    pub contract_amount: Option<Money>,
    /// The contract's date of signing, `YYYY-MM-DD`.
    pub contract_signed_on: Option<String>,
    /// No contract recorded by the due date.
    pub contract_overdue: bool,
    /// The challenges the reader may see.
    pub challenges: Vec<ChallengeView>,
    /// What the reader may do with the lot now.
    pub can: LotActions,
}

/// What the reader may do with a lot now.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct LotActions {
    /// File a challenge (a supplier whose bid was opened, within the period).
    pub challenge: bool,
    /// Choose the winner (the procuring unit, after the publicity, without a pending challenge).
    pub award: bool,
    /// Record the contract (the procuring unit, once awarded).
    pub contract: bool,
    /// Download an award or result notice (the bidders of the lot, once awarded).
    pub notice: bool,
}

/// A tender's award, as its reader may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AwardView {
    /// The tender's public id.
    pub tender: Uuid,
    /// Its code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// The lots whose candidates are published.
    pub lots: Vec<LotAwardView>,
    /// The candidates can be published now (the agency, after the signed report).
    pub can_publish: bool,
    /// The committee's experts to rate, for the agency and the host site's staff once the
    /// report is signed.
    pub ratings: Option<Vec<crate::experts::ratings::MemberToRate>>,
    /// The tender's way from its posting to the contract.
    pub timeline: Vec<TimelineStep>,
}

pub use crate::tenders::model::TimelineStep;

/// A line of the public result lists (结果公示, 中标公告).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicResult {
    /// The tender's public id.
    pub tender: Uuid,
    /// Its code.
    pub code: String,
    /// Its title.
    pub title: String,
    /// The lot's name.
    pub lot: String,
    /// The first candidate (candidates) or the winner (awards).
    pub supplier: String,
    /// Its price, or the award amount, fen.
    #[schema(value_type = i64)]
    pub amount: Money,
    /// Published (candidates) or awarded (awards).
    pub at: DateTime<Utc>,
    /// The publicity ends (candidates).
    pub until: Option<DateTime<Utc>>,
}
