//! The `mall_orders` table.

use crate::{
    mall::model::{OrderKind, OrderStatus},
    money::Money,
};
use sea_orm::entity::prelude::*;

/// A row of `mall_orders`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub code: String,
    pub kind: OrderKind,
    pub procuring_org_id: i64,
    pub supplier_org_id: i64,
    pub agreement_id: Option<i64>,
    pub quotation_id: Option<i64>,
    pub category: String,
    pub budget_fen: Money,
    pub amount_fen: Money,
    pub status: OrderStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_note: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub acceptance: Option<String>,
    pub created_by: Option<i64>,
    pub placed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
