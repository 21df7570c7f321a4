//! The `organisations` table.

use crate::accounts::model::{OrgKind, SizeClass, Status};
use crate::ids::OrgId;
use sea_orm::entity::prelude::*;

/// A row of `organisations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: OrgId,
    pub public_id: Uuid,
    pub name: String,
    pub kind: OrgKind,
    pub size_class: Option<SizeClass>,
    pub credit_code: Option<String>,
    pub contact_phone: Option<String>,
    pub status: Status,
    pub created_at: DateTimeUtc,
    pub approved_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub status_reason: Option<String>,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
