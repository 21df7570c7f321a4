//! The `mall_quotes` table.

use crate::ids::{AgreementId, OrgId, QuotationId};
use crate::money::Money;
use sea_orm::entity::prelude::*;

/// A row of `mall_quotes`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_quotes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub quotation_id: QuotationId,
    pub supplier_org_id: OrgId,
    pub agreement_id: AgreementId,
    pub unit_price_fen: Money,
    pub total_fen: Money,
    pub brand: String,
    pub model: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub submitted_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
