//! The `award_lots` table.

use crate::award::model::{AwardState, Regime};
use crate::ids::{AwardLotId, BidId, LotId, OrgId, TenderId, UserId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `award_lots`: one lot's way from its published candidates to its contract.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "award_lots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AwardLotId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub lot_id: LotId,
    pub state: AwardState,
    /// The candidates as JSON (`award::model::Candidate`), in rank order.
    #[sea_orm(column_type = "Text")]
    pub candidates: String,
    pub regime: Regime,
    pub report_signed_at: DateTimeUtc,
    pub published_at: DateTimeUtc,
    pub published_late: bool,
    pub published_by: UserId,
    pub publicity_until: DateTimeUtc,
    pub challenge_until: DateTimeUtc,
    pub decide_by: DateTimeUtc,
    pub winner_bid_id: Option<BidId>,
    pub winner_org_id: Option<OrgId>,
    pub award_fen: Option<Money>,
    pub winner_rank: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub choice_reason: Option<String>,
    pub awarded_by: Option<UserId>,
    pub awarded_at: Option<DateTimeUtc>,
    pub contract_due: Option<DateTimeUtc>,
    pub contract_fen: Option<Money>,
    pub contract_signed_on: Option<String>,
    pub contract_sha256: Option<String>,
    pub contract_recorded_at: Option<DateTimeUtc>,
    pub contract_overdue: bool,
    /// 1, and one more for each publication after a re-evaluation.
    pub round: i32,
    /// When an upheld complaint last set the lot's result aside.
    pub returned_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
