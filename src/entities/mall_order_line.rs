//! The `mall_order_lines` table.

use crate::ids::{ItemId, OrderId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `mall_order_lines`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_order_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: OrderId,
    pub item_id: Option<ItemId>,
    pub name: String,
    pub brand: String,
    pub model: String,
    pub unit: String,
    pub quantity: i64,
    pub unit_price_fen: Money,
    pub agreement_price_fen: Money,
    pub total_fen: Money,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
