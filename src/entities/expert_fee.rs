//! The `expert_fees` table.

use crate::fees::FeeStatus;
use crate::ids::{EvaluationId, ExpertId, MemberId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `expert_fees`: one expert's fee of one signed session (this deployment's, or a host's
/// at which the expert took part from here) and its payment instruction.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_fees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    /// The local session and member the fee is for; none for a guest's expert in a host's session.
    pub evaluation_id: Option<EvaluationId>,
    pub member_id: Option<MemberId>,
    pub expert_id: ExpertId,
    pub amount_fen: Money,
    pub minutes: i32,
    pub holiday: bool,
    pub withdrawn: bool,
    #[sea_orm(column_type = "Text")]
    pub breakdown: String,
    pub status: FeeStatus,
    pub idempotency_key: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub payment_ref: Option<String>,
    pub paid_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The remote draw's expert (`remote_draw_experts`) the fee is for, at a guest deployment.
    pub remote_expert_id: Option<i64>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
