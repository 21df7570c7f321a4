//! The `mall_order_steps` table.

use crate::ids::{OrderId, OrgId};
use crate::{
    column::EmptyOr,
    mall::model::{OrderStatus, StepAction},
};
use sea_orm::entity::prelude::*;

/// A row of `mall_order_steps`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_order_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: OrderId,
    pub action: StepAction,
    pub from_status: EmptyOr<OrderStatus>,
    pub to_status: OrderStatus,
    pub org_id: Option<OrgId>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
