//! The `tender_documents` table.

use crate::ids::{TenderId, UserId};
use sea_orm::entity::prelude::*;

/// A row of `tender_documents`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tender_documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub public_id: Uuid,
    pub tender_id: TenderId,
    pub file_name: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub pages: i32,
    pub uploaded_by: UserId,
    pub uploaded_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
