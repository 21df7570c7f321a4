//! The `expert_specialties` table.

use crate::ids::ExpertId;
use sea_orm::entity::prelude::*;

/// A row of `expert_specialties`: one specialty code of an expert.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_specialties")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub expert_id: ExpertId,
    pub code: String,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
