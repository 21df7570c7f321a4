//! The `mall_price_changes` table.

use crate::ids::ItemId;
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `mall_price_changes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_price_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub item_id: ItemId,
    pub old_price_fen: Option<Money>,
    pub new_price_fen: Money,
    pub market_price_fen: Money,
    pub changed_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
