//! The `expert_employments` table.

use crate::ids::ExpertId;
use sea_orm::entity::prelude::*;

/// A row of `expert_employments`: an employer of an expert from `from_date`, until
/// `until_date` (inclusive), or current when `until_date` is null.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "expert_employments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub expert_id: ExpertId,
    pub employer: String,
    pub credit_code: Option<String>,
    pub from_date: Date,
    pub until_date: Option<Date>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
