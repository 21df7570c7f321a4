//! The `draw_calls` table.

use crate::draw::model::CallCause;
use crate::ids::{DrawId, ExpertId};
use sea_orm::entity::prelude::*;

/// A row of `draw_calls`: one replacement called, in order.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "draw_calls")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: DrawId,
    pub seq: i32,
    pub group_no: i32,
    pub left_expert_id: ExpertId,
    pub called_expert_id: ExpertId,
    pub cause: CallCause,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
