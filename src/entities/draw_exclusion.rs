//! The `draw_exclusions` table.

use crate::draw::avoidance::Reason;
use crate::ids::{DrawId, ExpertId};
use sea_orm::entity::prelude::*;

/// A row of `draw_exclusions`: one rule that kept one expert out of one draw.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "draw_exclusions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub draw_id: DrawId,
    pub expert_id: ExpertId,
    pub reason: Reason,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
