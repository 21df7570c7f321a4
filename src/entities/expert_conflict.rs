//! The `expert_conflicts` table.

use crate::ids::ExpertId;
use sea_orm::entity::prelude::*;

/// A row of `expert_conflicts`: an organisation the expert declared a conflict of interest
/// with, by its unified social credit code.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_conflicts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub expert_id: ExpertId,
    pub credit_code: String,
    pub org_name: String,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
