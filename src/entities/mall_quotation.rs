//! The `mall_quotations` table.

use crate::ids::{OrderId, OrgId, QuotationId, UserId};
use crate::{mall::model::QuotationStatus, money::Money};
use sea_orm::entity::prelude::*;

/// A row of `mall_quotations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_quotations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: QuotationId,
    pub public_id: Uuid,
    pub code: String,
    pub procuring_org_id: OrgId,
    pub created_by: UserId,
    pub category: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub requirement: String,
    pub quantity: i64,
    pub unit: String,
    pub budget_fen: Money,
    pub min_quotes: i32,
    pub opens_at: DateTimeUtc,
    pub closes_at: DateTimeUtc,
    pub status: QuotationStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub fail_reason: Option<String>,
    pub order_id: Option<OrderId>,
    pub created_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
