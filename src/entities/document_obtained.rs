//! The `document_obtained` table.

use sea_orm::entity::prelude::*;

/// A row of `document_obtained`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document_obtained")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tender_id: i64,
    pub org_id: i64,
    pub user_id: i64,
    pub obtained_at: DateTimeUtc,
}

/// Relations are followed by explicit queries in the services.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
