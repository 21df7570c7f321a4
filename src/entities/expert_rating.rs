//! The `expert_ratings` table.

use crate::ids::{EvaluationId, ExpertId, MemberId, OrgId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `expert_ratings`: one organisation's rating of one committee member after the
/// session (each mark 1 to 5), with the member's late arrival in minutes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_ratings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub evaluation_id: EvaluationId,
    pub member_id: MemberId,
    pub expert_id: ExpertId,
    pub rater_org_id: OrgId,
    pub rater_user_id: UserId,
    pub punctuality: i32,
    pub expertise: i32,
    pub conduct: i32,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub late_minutes: i32,
    pub at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
