//! The `mall_items` table.

use crate::ids::{AgreementId, ItemId, OrgId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `mall_items`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: ItemId,
    pub public_id: Uuid,
    pub agreement_id: AgreementId,
    pub supplier_org_id: OrgId,
    pub category: String,
    pub name: String,
    pub brand: String,
    pub model: String,
    #[sea_orm(column_type = "Text")]
    pub spec: String,
    pub unit: String,
    pub price_fen: Money,
    pub market_price_fen: Money,
    pub active: bool,
    pub revision: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
