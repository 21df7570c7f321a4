//! The `mall_orders` table.

use crate::ids::{AgreementId, OrderId, OrgId, QuotationId, UserId};
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
    pub id: OrderId,
    pub public_id: Uuid,
    pub code: String,
    pub kind: OrderKind,
    pub procuring_org_id: OrgId,
    pub supplier_org_id: OrgId,
    pub agreement_id: Option<AgreementId>,
    pub quotation_id: Option<QuotationId>,
    pub category: String,
    pub budget_fen: Money,
    pub amount_fen: Money,
    pub status: OrderStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_note: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub acceptance: Option<String>,
    pub created_by: Option<UserId>,
    pub placed_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
