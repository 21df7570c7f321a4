//! The `mall_price_flags` table.

use crate::ids::{ItemId, UserId};
use crate::{mall::model::FlagKind, money::Money};
use sea_orm::entity::prelude::*;

/// A row of `mall_price_flags`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_price_flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub item_id: ItemId,
    pub kind: FlagKind,
    pub price_fen: Money,
    pub reference_fen: Money,
    pub created_at: DateTimeUtc,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by: Option<UserId>,
    #[sea_orm(column_type = "Text", nullable)]
    pub resolution: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
