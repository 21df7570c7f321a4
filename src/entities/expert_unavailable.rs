//! The `expert_unavailable` table.

use crate::ids::ExpertId;
use sea_orm::entity::prelude::*;

/// A row of `expert_unavailable`: a China-time day on which the expert cannot evaluate.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_unavailable")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub expert_id: ExpertId,
    pub day: Date,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
