//! The `procurement_results` table.

use crate::ids::{OrgId, TenderId, UserId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `procurement_results`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "procurement_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub code: String,
    pub title: String,
    pub procuring_org_id: OrgId,
    pub category: String,
    pub method: String,
    pub budget_fen: Money,
    pub award_fen: Money,
    pub supplier_name: String,
    pub awarded_at: DateTimeUtc,
    pub tender_id: Option<TenderId>,
    pub recorded_by: UserId,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
