//! The `challenges` table.

use crate::award::model::{ChallengeState, Decision};
use crate::ids::{AwardLotId, ChallengeId, OrgId, TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `challenges`: a supplier's challenge (质疑) of a lot's result, its answer, and the
/// complaint (投诉) to the supervisors with their decision.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "challenges")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ChallengeId,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub award_lot_id: AwardLotId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub state: ChallengeState,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub evidence_sha256: Option<String>,
    pub evidence_name: Option<String>,
    pub filed_at: DateTimeUtc,
    pub answer_by: DateTimeUtc,
    pub answer_overdue: bool,
    #[sea_orm(column_type = "Text", nullable)]
    pub answer: Option<String>,
    pub changes_result: bool,
    pub answered_at: Option<DateTimeUtc>,
    pub complaint_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub complaint: Option<String>,
    pub complained_at: Option<DateTimeUtc>,
    pub decision: Option<Decision>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
