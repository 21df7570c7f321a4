//! The `evaluation_members` table.

use crate::evaluation::model::MemberStatus;
use crate::ids::{EvaluationId, ExpertId, MemberId, SiteId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `evaluation_members`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evaluation_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: MemberId,
    pub public_id: Uuid,
    pub evaluation_id: EvaluationId,
    pub seq: i32,
    pub user_id: UserId,
    pub expert_id: Option<ExpertId>,
    pub pick_id: Option<i64>,
    pub site_id: Option<SiteId>,
    pub is_rep: bool,
    pub status: MemberStatus,
    pub signed_in_at: Option<DateTimeUtc>,
    pub declared_at: Option<DateTimeUtc>,
    pub chair_vote: Option<MemberId>,
    pub signed_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub left_reason: Option<String>,
    pub peer: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
