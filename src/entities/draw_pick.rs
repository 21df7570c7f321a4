//! The `draw_picks` table.

use crate::draw::model::{PickRole, PickStatus};
use crate::ids::{DrawId, ExpertId};
use sea_orm::entity::prelude::*;

/// A row of `draw_picks`: one expert drawn, in the order the draw produced it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "draw_picks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub draw_id: DrawId,
    pub seq: i32,
    pub group_no: i32,
    pub expert_id: ExpertId,
    pub role: PickRole,
    pub status: PickStatus,
    pub invited_at: Option<DateTimeUtc>,
    pub answer_by: Option<DateTimeUtc>,
    pub answered_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
