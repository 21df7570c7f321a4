//! The `mall_agreements` table.

use crate::ids::{AgreementId, OrgId, TenderId};
use crate::mall::model::{AgreementKind, AgreementStatus};
use sea_orm::entity::prelude::*;

/// A row of `mall_agreements`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mall_agreements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: AgreementId,
    pub public_id: Uuid,
    pub code: String,
    pub title: String,
    pub kind: AgreementKind,
    pub supplier_org_id: OrgId,
    pub centre_org_id: OrgId,
    #[sea_orm(column_type = "Text")]
    pub categories: String,
    pub service_area: String,
    pub valid_from: DateTimeUtc,
    pub valid_to: DateTimeUtc,
    pub status: AgreementStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_reason: Option<String>,
    pub source_tender_id: Option<TenderId>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
